//! `cargo xtask bench --batch`: the batch engine's throughput against the
//! same pays issued directly through the client, at each concurrency
//! (`--concurrency 8,32`), and the peak memory of checking a file of
//! `--validate-rows` rows (1,000,000). Writes `target/bench/batch.json`.
//!
//! Targets (reported, not asserted): a batch at ≥ 0.9× the direct pays'
//! rate, and checking 1,000,000 rows under 100 MB.

use serde_json::{json, Value};

use super::artifacts::{self, Needs};
use super::drivers::{self, Outcome};
use super::options::BatchBench;
use super::sandbox::Sandbox;
use super::{machine, out_dir};

/// The throughput target, as batch rows/s over direct pays/s.
const RATIO_TARGET: f64 = 0.9;
/// The memory target of checking the file, in MiB.
const MEMORY_TARGET_MIB: f64 = 100.0;

/// Runs the batch bench.
pub fn run(options: &BatchBench) -> Result<(), String> {
    machine::raise_nofile_limit();
    let artifacts = artifacts::build(Needs::default())?;
    // Each concurrency: two rounds of direct pays and two batches.
    let pays = options.rows * 4 * options.concurrency.len();
    let sandbox = Sandbox::start(&artifacts.sandbox, pays, 1024)?;
    let run_id = drivers::run_id();
    let setup = drivers::setup(&artifacts, &sandbox, &run_id)?;
    let work = out_dir().join("batch-work");
    let _ = std::fs::remove_dir_all(&work);
    let dir = work.display().to_string();

    let mut throughput = Vec::new();
    let mut failures = Vec::new();
    for concurrency in &options.concurrency {
        let mode = [
            "batch".to_string(),
            options.rows.to_string(),
            concurrency.to_string(),
            dir.clone(),
        ];
        let prefix = format!("{run_id}-c{concurrency}");
        match drivers::run(
            &artifacts,
            &sandbox,
            Some(&setup),
            "rust",
            &mode,
            &prefix,
            &format!("batch-c{concurrency}"),
        ) {
            Outcome::Done(line) => throughput.push(line),
            Outcome::Failed { reason, .. } => {
                failures.push(format!("concurrency {concurrency}: {reason}"))
            }
            Outcome::NotSupported => failures.push("the driver has no batch mode".into()),
        }
    }
    let mode = [
        "validate".to_string(),
        options.validate_rows.to_string(),
        dir.clone(),
    ];
    let validation = match drivers::run(
        &artifacts,
        &sandbox,
        Some(&setup),
        "rust",
        &mode,
        &format!("{run_id}-v"),
        "batch-validate",
    ) {
        Outcome::Done(line) => Some(line),
        Outcome::Failed { reason, .. } => {
            failures.push(format!("validate: {reason}"));
            None
        }
        Outcome::NotSupported => None,
    };
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&work);

    println!(
        "\nbatch vs direct pays ({} rows each, best of 2 rounds)",
        options.rows
    );
    println!(
        "{:>11} {:>14} {:>14} {:>7}  target ≥ {RATIO_TARGET}",
        "concurrency", "direct pays/s", "batch rows/s", "ratio"
    );
    for line in &throughput {
        println!(
            "{:>11} {:>14.0} {:>14.0} {:>7.2}",
            line["concurrency"],
            line["direct_pays_per_s"].as_f64().unwrap_or(0.0),
            line["batch_rows_per_s"].as_f64().unwrap_or(0.0),
            line["ratio"].as_f64().unwrap_or(0.0)
        );
    }
    if let Some(line) = &validation {
        let mib = line["peak_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0;
        println!(
            "\nchecking {} rows (dry run): {:.1} s, {:.0} rows/s, peak RSS {mib:.1} MiB (target < {MEMORY_TARGET_MIB} MB)",
            line["rows"],
            line["seconds"].as_f64().unwrap_or(0.0),
            line["rows_per_s"].as_f64().unwrap_or(0.0)
        );
    }
    let report = json!({
        "machine": machine::info(&artifacts, false),
        "rows": options.rows,
        "targets": { "ratio": RATIO_TARGET, "validate_peak_mib": MEMORY_TARGET_MIB },
        "throughput": throughput,
        "validate": validation.unwrap_or(Value::Null),
    });
    let path = out_dir().join("batch.json");
    let text = serde_json::to_string_pretty(&report).expect("JSON");
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    println!("\nwrote {}", path.display());
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("batch bench failed:\n  {}", failures.join("\n  ")))
    }
}
