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
    // is reported, and its ratio to the Rust SDK is the median of the
    // rounds' ratios (each round's run against the Rust SDK's of the same
    // round).
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
    let base = options.clients.iter().position(|c| c == BASELINE);
    let mut results = Map::new();
    let mut ratios = Map::new();
    for (o, op) in options.ops.iter().enumerate() {
        let mut per_client = Map::new();
        let mut row = Map::new();
        for (c, client) in options.clients.iter().enumerate() {
            let mut entry = median_entry(&runs[o][c]);
            let rounds = base.and_then(|b| round_ratios(&runs[o][c], &runs[o][b]));
            let ratio = rounds
                .as_deref()
                .map_or(Value::Null, |r| json!(round3(median(r))));
            entry["rounds_ratio_to_rust"] = rounds.map_or(Value::Null, |r| {
                json!(r.iter().map(|&x| round3(x)).collect::<Vec<_>>())
            });
            per_client.insert(client.clone(), entry);
            row.insert(client.clone(), ratio);
        }
        results.insert(op.clone(), Value::Object(per_client));
        ratios.insert(op.clone(), Value::Object(row));
    }
    let sandbox_args = sandbox.args.clone();
    drop(sandbox);

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

/// The median round of one client's runs of one operation (by calls/s,
/// the upper of the middle two for an even count: a round that ran;
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

/// A client's calls/s over the Rust SDK's, round by round: each round's
/// run against the Rust SDK's run of the same round, a few seconds apart,
/// so that the machine drifting over the whole comparison (other load,
/// clock speed) does not move the ratio. `None` when a round of either did
/// not finish cleanly (or ran at no rate at all).
fn round_ratios(client: &[Value], rust: &[Value]) -> Option<Vec<f64>> {
    let rate = |entry: &Value| {
        (entry["status"] == "ok")
            .then(|| entry["calls_per_sec"].as_f64())
            .flatten()
            .filter(|r| *r > 0.0)
    };
    client
        .iter()
        .zip(rust)
        .map(|(c, r)| Some(rate(c)? / rate(r)?))
        .collect::<Option<Vec<f64>>>()
        .filter(|ratios| !ratios.is_empty())
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// Three decimals, as the report shows ratios.
fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn print_table(op: &str, options: &Compare, per_client: &Value, ratios: &Value) {
    println!(
        "\n{op}: {} calls, {} in flight (median of {} rounds; ratio: median of the rounds' ratios)",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(rate: f64) -> Value {
        json!({ "status": "ok", "calls_per_sec": rate })
    }

    #[test]
    fn a_ratio_pairs_each_round_with_the_rust_sdks_round() {
        // The machine slows down over the run: the median rates would say
        // 0.8, the rounds agree on 0.9.
        let rust = [ok(100.0), ok(60.0), ok(40.0)];
        let client = [ok(90.0), ok(54.0), ok(36.0)];
        let ratios = round_ratios(&client, &rust).unwrap();
        assert_eq!(ratios, [0.9, 0.9, 0.9]);
        assert_eq!(median(&ratios), 0.9);
    }

    #[test]
    fn a_failed_round_leaves_no_ratio() {
        let failed = json!({ "status": "failed", "calls_per_sec": 10.0 });
        assert!(round_ratios(&[ok(1.0), failed.clone()], &[ok(1.0), ok(1.0)]).is_none());
        assert!(round_ratios(&[ok(1.0), ok(1.0)], &[ok(1.0), failed]).is_none());
        assert!(round_ratios(&[], &[]).is_none());
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }
}
