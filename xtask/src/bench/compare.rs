//! `cargo xtask bench --compare`: the same calls at the same concurrency
//! through every client, one driver process at a time, against one release
//! sandbox; a table per operation and `target/bench/compare.json`.

use serde_json::{json, Map, Value};

use super::artifacts::{self, Needs};
use super::drivers::{self, Outcome};
use super::options::Compare;
use super::sandbox::Sandbox;
use super::{machine, out_dir};

/// The client every ratio is taken against.
const BASELINE: &str = "rust";

/// Runs the comparison; fails when any driver failed (after the report).
pub fn run(options: &Compare) -> Result<(), String> {
    machine::raise_nofile_limit();
    let needs = Needs::of(&options.clients);
    let artifacts = artifacts::build(needs)?;
    // Every client may pay `calls` plus its warm-up in every operation.
    let pays = (options.calls + 200) * options.clients.len() * options.rounds;
    let sandbox = Sandbox::start(&artifacts.sandbox, pays, options.concurrency * 2 + 64)?;
    let run_id = drivers::run_id();
    let setup = drivers::setup(&artifacts, &sandbox, &run_id)?;

    // Every round runs every client once per operation, the clients taking
    // turns, so that a burst of load elsewhere on the machine is shared
    // out rather than landing on one client; each client's median round
    // is reported.
    let mut runs: Vec<Vec<Vec<Value>>> =
        vec![vec![Vec::new(); options.clients.len()]; options.ops.len()];
    let mut failures = Vec::new();
    for round in 1..=options.rounds {
        for (o, op) in options.ops.iter().enumerate() {
            for (c, client) in options.clients.iter().enumerate() {
                let mode = [
                    "run".to_string(),
                    client.clone(),
                    op.clone(),
                    options.calls.to_string(),
                    options.concurrency.to_string(),
                ];
                let prefix = format!("{run_id}-r{round}-{client}-{op}");
                let log = format!("compare-{op}-{client}-r{round}");
                let outcome = drivers::run(
                    &artifacts,
                    &sandbox,
                    Some(&setup),
                    client,
                    &mode,
                    &prefix,
                    &log,
                );
                let entry = match outcome {
                    Outcome::Done(line) => result_entry("ok", Some(&line), None),
                    Outcome::NotSupported => result_entry("n/a", None, None),
                    Outcome::Failed { line, reason } => {
                        eprintln!("bench: {client} {op} FAILED: {reason}");
                        failures.push(format!("{client} {op} (round {round}): {reason}"));
                        result_entry("failed", line.as_ref(), Some(reason))
                    }
                };
                runs[o][c].push(entry);
            }
        }
    }
    let mut results = Map::new();
    for (o, op) in options.ops.iter().enumerate() {
        let mut per_client = Map::new();
        for (c, client) in options.clients.iter().enumerate() {
            per_client.insert(client.clone(), median_entry(&runs[o][c]));
        }
        results.insert(op.clone(), Value::Object(per_client));
    }
    let sandbox_args = sandbox.args.clone();
    drop(sandbox);

    let ratios = ratios(&results);
    for op in &options.ops {
        print_table(op, options, &results[op.as_str()], &ratios[op.as_str()]);
    }
    let report = json!({
        "machine": machine::info(&artifacts, needs.python || needs.provider),
        "calls": options.calls,
        "concurrency": options.concurrency,
        "warmup_calls": (options.calls / 10).min(200),
        "rounds": options.rounds,
        "ops": options.ops,
        "clients": options.clients,
        "sandbox": { "args": sandbox_args },
        "results": results,
        "ratios_to_rust": ratios,
    });
    let path = out_dir().join("compare.json");
    let text = serde_json::to_string_pretty(&report).expect("JSON");
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    println!("\nwrote {}", path.display());
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} driver run(s) failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        ))
    }
}

/// What the report keeps of one client's run of one operation.
fn result_entry(status: &str, line: Option<&Value>, error: Option<String>) -> Value {
    let field = |name: &str| line.map_or(Value::Null, |l| l[name].clone());
    json!({
        "status": status,
        "calls_per_sec": field("calls_per_sec"),
        "seconds": field("seconds"),
        "calls": field("calls"),
        "concurrency": field("concurrency"),
        "errors": field("errors"),
        "peak_rss_kib": field("peak_rss_kib"),
        "error": error,
    })
}

/// The median round of one client's runs of one operation (by calls/s;
/// any failed or unsupported round decides the entry), with every round's
/// calls/s and the highest peak RSS.
fn median_entry(rounds: &[Value]) -> Value {
    if let Some(bad) = rounds.iter().find(|r| r["status"] != "ok") {
        return bad.clone();
    }
    let mut sorted: Vec<&Value> = rounds.iter().collect();
    sorted.sort_by(|a, b| {
        let rate = |v: &Value| v["calls_per_sec"].as_f64().unwrap_or(0.0);
        rate(a).total_cmp(&rate(b))
    });
    let mut entry = sorted[sorted.len() / 2].clone();
    entry["rounds_calls_per_sec"] = rounds.iter().map(|r| r["calls_per_sec"].clone()).collect();
    entry["peak_rss_kib"] = rounds
        .iter()
        .filter_map(|r| r["peak_rss_kib"].as_u64())
        .max()
        .map_or(Value::Null, Value::from);
    entry
}

/// calls/s of each client over the Rust SDK's, per operation (`null`
/// where either did not finish cleanly).
fn ratios(results: &Map<String, Value>) -> Map<String, Value> {
    let rate = |entry: &Value| {
        (entry["status"] == "ok")
            .then(|| entry["calls_per_sec"].as_f64())
            .flatten()
    };
    let mut out = Map::new();
    for (op, per_client) in results {
        let base = per_client.get(BASELINE).and_then(rate);
        let mut row = Map::new();
        for (client, entry) in per_client.as_object().into_iter().flatten() {
            let ratio = match (rate(entry), base) {
                (Some(r), Some(b)) if b > 0.0 => json!((r / b * 1000.0).round() / 1000.0),
                _ => Value::Null,
            };
            row.insert(client.clone(), ratio);
        }
        out.insert(op.clone(), Value::Object(row));
    }
    out
}

fn print_table(op: &str, options: &Compare, per_client: &Value, ratios: &Value) {
    println!(
        "\n{op}: {} calls, {} in flight (median of {} rounds)",
        options.calls, options.concurrency, options.rounds
    );
    println!(
        "{:<16} {:>10} {:>12} {:>14}",
        "client", "calls/s", "vs Rust SDK", "peak RSS MiB"
    );
    for client in &options.clients {
        let entry = &per_client[client.as_str()];
        let (rate, ratio, rss) = match entry["status"].as_str() {
            Some("ok") => (
                format!("{:.0}", entry["calls_per_sec"].as_f64().unwrap_or(0.0)),
                ratios[client.as_str()]
                    .as_f64()
                    .map_or("-".into(), |r| format!("{r:.2}x")),
                mib(&entry["peak_rss_kib"]),
            ),
            Some("n/a") => ("n/a".into(), "n/a".into(), "n/a".into()),
            _ => ("FAILED".into(), "-".into(), mib(&entry["peak_rss_kib"])),
        };
        println!("{client:<16} {rate:>10} {ratio:>12} {rss:>14}");
    }
    if let Some(raw) = ratios["raw"].as_f64() {
        println!("raw reqwest vs Rust SDK: {raw:.2}x");
    }
}

/// KiB as MiB with one decimal, `-` when unknown.
pub fn mib(kib: &Value) -> String {
    kib.as_f64()
        .map_or("-".into(), |k| format!("{:.1}", k / 1024.0))
}
