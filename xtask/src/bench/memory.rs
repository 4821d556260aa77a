//! `cargo xtask bench --memory`: `--in-flight` pays (10,000) started at
//! once through one client in each language (Rust SDK, Python
//! `AsyncClient`, Node), twice in the same process; the peak RSS, the RSS
//! after each run, and whether the second run ended within ±10 % of the
//! first (no growth per call). Writes `target/bench/memory.json`.
//!
//! The verdict per client: `ok` within ±10 %, `grew` above +10 % (the
//! command fails), `shrank` below -10 % (reported: outside the band, but
//! no growth), `failed` when a call or the driver failed.

use serde_json::{json, Map, Value};

use super::artifacts::{self, Needs};
use super::compare::mib;
use super::drivers::{self, Outcome};
use super::options::Memory;
use super::sandbox::Sandbox;
use super::{machine, out_dir};

/// The largest accepted change of RSS from the end of run 1 to the end of
/// run 2, as a fraction of the first.
const TOLERANCE: f64 = 0.10;

/// Runs the memory check; fails when a call failed or the RSS grew.
pub fn run(options: &Memory) -> Result<(), String> {
    let open_files = machine::raise_nofile_limit();
    if (open_files as usize) < options.in_flight + 1200 {
        eprintln!(
            "bench: warning: the open-files limit ({open_files}) is close to or below \
             {} connections plus the sandbox's reserve",
            options.in_flight
        );
    }
    let needs = Needs::of(&options.clients);
    let artifacts = artifacts::build(needs)?;
    let pays = options.in_flight * 2 * options.clients.len();
    let sandbox = Sandbox::start(&artifacts.sandbox, pays, options.in_flight + 1024)?;
    let run_id = drivers::run_id();
    let setup = drivers::setup(&artifacts, &sandbox, &run_id)?;

    let mut results = Map::new();
    let mut failures = Vec::new();
    for client in &options.clients {
        let mode = [
            "memory".to_string(),
            client.clone(),
            options.in_flight.to_string(),
        ];
        let prefix = format!("{run_id}-{client}");
        let log = format!("memory-{client}");
        let outcome = drivers::run(
            &artifacts,
            &sandbox,
            Some(&setup),
            client,
            &mode,
            &prefix,
            &log,
        );
        let (line, error) = match outcome {
            Outcome::Done(line) => (Some(line), None),
            Outcome::Failed { line, reason } => (line, Some(reason)),
            Outcome::NotSupported => (None, Some("the driver has no memory mode".to_string())),
        };
        let entry = entry(line.as_ref(), error);
        if entry["status"] == "failed" || entry["status"] == "grew" {
            failures.push(format!(
                "{client}: {}",
                entry["error"].as_str().unwrap_or("failed")
            ));
        }
        results.insert(client.clone(), entry);
    }
    let sandbox_args = sandbox.args.clone();
    drop(sandbox);

    print_table(options, &results);
    let report = json!({
        "machine": machine::info(&artifacts, needs.python),
        "in_flight": options.in_flight,
        "runs": 2,
        "tolerance": TOLERANCE,
        "clients": options.clients,
        "sandbox": { "args": sandbox_args },
        "results": results,
    });
    let path = out_dir().join("memory.json");
    let text = serde_json::to_string_pretty(&report).expect("JSON");
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    println!("\nwrote {}", path.display());
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("memory check failed:\n  {}", failures.join("\n  ")))
    }
}

/// One client's report: its runs, the RSS after each, and the verdict.
fn entry(line: Option<&Value>, error: Option<String>) -> Value {
    let runs = line.map_or(Value::Null, |l| l["runs"].clone());
    let rss = |i: usize| runs[i]["rss_after_kib"].as_f64();
    let change = match (rss(0), rss(1)) {
        (Some(first), Some(second)) if first > 0.0 => Some((second - first) / first),
        _ => None,
    };
    let stable = change.map(|c| c.abs() <= TOLERANCE);
    // Below -10 % is outside the band but is no growth: reported, not failed.
    let status = match (&error, change) {
        (Some(_), _) => "failed",
        (None, Some(c)) if c.abs() <= TOLERANCE => "ok",
        (None, Some(c)) if c < 0.0 => "shrank",
        _ => "grew",
    };
    let error = error.or_else(|| {
        (status == "grew").then(|| match change {
            Some(c) => format!("RSS after run 2 is {:+.1} % of run 1's", c * 100.0),
            None => "no RSS readings".to_string(),
        })
    });
    json!({
        "status": status,
        "peak_rss_kib": line.map_or(Value::Null, |l| l["peak_rss_kib"].clone()),
        "rss_after_run1_kib": runs[0]["rss_after_kib"].clone(),
        "rss_after_run2_kib": runs[1]["rss_after_kib"].clone(),
        "rss_change": change.map(|c| (c * 10000.0).round() / 10000.0),
        "within_tolerance": stable,
        "runs": runs,
        "error": error,
    })
}

fn print_table(options: &Memory, results: &Map<String, Value>) {
    println!(
        "\nmemory: {} pays in flight at once, twice, through one client",
        options.in_flight
    );
    println!(
        "{:<14} {:>8} {:>8} {:>13} {:>14} {:>14} {:>8} {:>8} {:>8} {:>7} {:>13}",
        "client",
        "run 1 s",
        "run 2 s",
        "peak RSS MiB",
        "RSS 1 MiB",
        "RSS 2 MiB",
        "change",
        "fds 1",
        "fds 2",
        "±10 %",
        "trimmed MiB"
    );
    for client in &options.clients {
        let e = &results[client.as_str()];
        let secs = |i: usize| {
            e["runs"][i]["seconds"]
                .as_f64()
                .map_or("-".into(), |s| format!("{s:.2}"))
        };
        let change = e["rss_change"]
            .as_f64()
            .map_or("-".into(), |c| format!("{:+.1} %", c * 100.0));
        let verdict = match e["status"].as_str() {
            Some("ok") => "yes",
            Some("shrank") => "shrank",
            Some("grew") => "NO",
            _ => "FAILED",
        };
        // Open files after each run: mostly the pool's idle connections,
        // whose buffers are most of the RSS after a run.
        let fds = |i: usize| {
            e["runs"][i]["open_fds"]
                .as_u64()
                .map_or("-".into(), |n| n.to_string())
        };
        // RSS after each run once glibc's malloc returned its free pages
        // (drivers that can ask it: Rust): growth gone there is the
        // allocator's cache, not memory still held.
        let trimmed = match (
            e["runs"][0].get("rss_after_trim_kib"),
            e["runs"][1].get("rss_after_trim_kib"),
        ) {
            (Some(first), Some(second)) => format!("{} / {}", mib(first), mib(second)),
            _ => "-".into(),
        };
        println!(
            "{client:<14} {:>8} {:>8} {:>13} {:>14} {:>14} {change:>8} {:>8} {:>8} {verdict:>7} {trimmed:>13}",
            secs(0),
            secs(1),
            mib(&e["peak_rss_kib"]),
            mib(&e["rss_after_run1_kib"]),
            mib(&e["rss_after_run2_kib"]),
            fds(0),
            fds(1),
        );
    }
}
