//! `batch run | status | report` against the sandbox.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{temp_dir, World};

const HEADER: &str = "customerNo,accountToken,amount,currency,invoiceId,note";

fn write_csv(dir: &Path, name: &str, rows: &[String]) -> String {
    let path = dir.join(name);
    let mut text = String::from(HEADER);
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn rows(customer_no: &str, account_token: &str, prefix: &str, amounts: &[&str]) -> Vec<String> {
    amounts
        .iter()
        .enumerate()
        .map(|(i, amount)| {
            format!("{customer_no},{account_token},{amount},USD,{prefix}-{i},row {i}")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_batch_is_paid_followed_up_and_reported() {
    let world = World::start().await;
    let (customer_no, account_token) = world.payee().await;
    let dir = temp_dir("paid");
    let file = write_csv(
        &dir,
        "may.csv",
        &rows(
            &customer_no,
            &account_token,
            "may",
            &["10.00", "20.50", "3"],
        ),
    );

    let run = world.cli(&["batch", "run", &file, "--json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let report = run.json();
    assert_eq!(report["rows"], 3);
    assert_eq!(report["invalid"], 0);
    assert_eq!(report["dryRun"], false);
    let taken = report["states"]["pending"].as_u64().unwrap()
        + report["states"]["success"].as_u64().unwrap();
    assert_eq!(taken, 3, "{report}");
    let mut paid: Vec<String> = world
        .sandbox
        .payouts()
        .into_iter()
        .map(|p| p.invoice_id)
        .collect();
    paid.sort();
    assert_eq!(paid, ["may-0", "may-1", "may-2"]);
    assert!(Path::new(&format!("{file}.journal")).exists());

    // Run again: the journal knows the batch; nothing is paid twice.
    let again = world.cli(&["batch", "run", &file]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("rows: 3 to pay"), "{again:?}");
    assert_eq!(world.sandbox.payouts().len(), 3);

    // Follow up: every payout settles (50 ms) to success.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = world.cli(&["batch", "status", &file, "--json"]).await;
    assert_eq!(status.code, 0, "{status:?}");
    assert_eq!(status.json()["states"]["success"], 3, "{status:?}");
    assert_eq!(status.json()["totals"]["USD"]["success"]["amount"], "33.50");

    // The summary as text, and every row as CSV.
    let summary = world.cli(&["batch", "report", &file]).await;
    assert_eq!(summary.code, 0, "{summary:?}");
    assert!(summary.stdout.contains("success"), "{summary:?}");
    assert!(summary.stdout.contains("33.50"), "{summary:?}");
    let csv = world
        .cli(&["batch", "report", &file, "--format", "csv"])
        .await;
    assert_eq!(csv.code, 0, "{csv:?}");
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{csv:?}");
    assert!(lines[0].starts_with("row,invoiceId"), "{csv:?}");
    assert!(
        lines[1..].iter().all(|l| l.contains(",success,")),
        "{csv:?}"
    );

    // By journal alone, to a file, JSON by its extension.
    let out = dir.join("rows.json");
    let journal = format!("{file}.journal");
    let to_file = world
        .cli(&[
            "batch",
            "report",
            "--journal",
            &journal,
            "--output",
            out.to_str().unwrap(),
        ])
        .await;
    assert_eq!(to_file.code, 0, "{to_file:?}");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["rows"].as_array().unwrap().len(), 3);
    assert_eq!(written["summary"]["states"]["success"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_file_is_refused_whole_and_names_row_and_field() {
    let world = World::start().await;
    let (customer_no, account_token) = world.payee().await;
    let dir = temp_dir("invalid");
    let file = write_csv(
        &dir,
        "bad.csv",
        &rows(
            &customer_no,
            &account_token,
            "bad",
            &["10.00", "ten", "5.00"],
        ),
    );

    let text = world.cli(&["batch", "run", &file]).await;
    assert_eq!(text.code, 3, "{text:?}");
    assert!(
        text.stderr.contains("error: BATCH_INVALID_ROWS: "),
        "{text:?}"
    );
    // The header is row 1: the second payout row is row 3.
    assert!(text.stderr.contains("row 3: amount"), "{text:?}");

    let json = world.cli(&["batch", "run", &file, "--json"]).await;
    assert_eq!(json.code, 3, "{json:?}");
    let error = &json.json()["error"];
    assert_eq!(error["code"], "BATCH_INVALID_ROWS");
    assert_eq!(error["count"], 1);
    assert_eq!(error["rows"][0]["row"], 3);
    assert_eq!(error["rows"][0]["field"], "amount");
    assert_eq!(error["rows"][0]["invoiceId"], "bad-1");
    assert!(world.sandbox.payouts().is_empty());

    // With --skip-invalid the valid rows are paid, the run exits 1, and the
    // report file lists the refused row.
    let report = dir.join("report.csv");
    let skip = world
        .cli(&[
            "batch",
            "run",
            &file,
            "--skip-invalid",
            "--report",
            report.to_str().unwrap(),
        ])
        .await;
    assert_eq!(skip.code, 1, "{skip:?}");
    assert!(skip.stdout.contains("row 3: amount"), "{skip:?}");
    assert_eq!(world.sandbox.payouts().len(), 2);
    let written = std::fs::read_to_string(&report).unwrap();
    assert!(
        written
            .lines()
            .any(|l| l.starts_with("3,bad-1,") && l.contains(",invalid,")),
        "{written}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_moves_no_money() {
    let world = World::start().await;
    let (customer_no, account_token) = world.payee().await;
    let dir = temp_dir("dry");
    let file = write_csv(
        &dir,
        "dry.csv",
        &rows(&customer_no, &account_token, "dry", &["1.00", "2.00"]),
    );

    let dry = world
        .cli(&["batch", "run", &file, "--dry-run", "--json"])
        .await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert_eq!(dry.json()["dryRun"], true);
    assert_eq!(dry.json()["states"]["planned"], 2);
    assert!(world.sandbox.payouts().is_empty());
    assert_eq!(world.sandbox.balance("USD").as_deref(), Some("1000000.00"));

    let text = world.cli(&["batch", "run", &file, "--dry-run"]).await;
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout.contains("dry run: nothing was sent"),
        "{text:?}"
    );
    assert!(world.sandbox.payouts().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_errors_exit_3_with_their_code() {
    let world = World::start().await;
    let (customer_no, account_token) = world.payee().await;
    let dir = temp_dir("errors");

    // Not enough money: nothing is sent.
    let big = write_csv(&dir, "big.jsonl", &[]);
    std::fs::write(
        &big,
        format!(
            "{{\"customer_no\":\"{customer_no}\",\"account_token\":\"{account_token}\",\"amount\":\"2000000.00\",\"currency\":\"USD\",\"invoice_id\":\"big-1\"}}\n"
        ),
    )
    .unwrap();
    let funds = world.cli(&["batch", "run", &big, "--json"]).await;
    assert_eq!(funds.code, 3, "{funds:?}");
    assert_eq!(funds.json()["error"]["code"], "BATCH_INSUFFICIENT_FUNDS");
    assert_eq!(funds.json()["error"]["shortfalls"][0]["currency"], "USD");
    assert!(world.sandbox.payouts().is_empty());

    // A file that is not there; a journal that is not there.
    let missing = world
        .cli(&["batch", "run", dir.join("nope.csv").to_str().unwrap()])
        .await;
    assert_eq!(missing.code, 3, "{missing:?}");
    assert!(
        missing.stderr.contains("error: BATCH_INPUT: "),
        "{missing:?}"
    );
    let no_journal = world
        .cli(&["batch", "status", dir.join("nope.csv").to_str().unwrap()])
        .await;
    assert_eq!(no_journal.code, 3, "{no_journal:?}");
    assert!(
        no_journal.stderr.contains("error: BATCH_NOT_FOUND: "),
        "{no_journal:?}"
    );

    // A header column that is no pay field.
    let header = dir.join("header.csv");
    std::fs::write(
        &header,
        "customerNo,accountToken,amount,currency,invoiceId,colour\n",
    )
    .unwrap();
    let input = world
        .cli(&["batch", "run", header.to_str().unwrap(), "--json"])
        .await;
    assert_eq!(input.code, 3, "{input:?}");
    assert_eq!(input.json()["error"]["code"], "BATCH_INPUT");
    assert_eq!(input.json()["error"]["field"], "colour");

    // Usage: an out-of-range concurrency is clap's.
    let usage = world
        .cli(&[
            "batch",
            "run",
            header.to_str().unwrap(),
            "--concurrency",
            "0",
        ])
        .await;
    assert_eq!(usage.code, 2, "{usage:?}");
}

/// The README's first batch command: the sample file checked with no
/// credentials at all (a dry run without funds check calls nothing).
#[tokio::test]
async fn the_sample_file_is_checked_without_credentials() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/payouts.csv");
    let dir = common::temp_dir("sample");
    let journal = dir.join("sample.journal");
    let journal = journal.display().to_string();
    let run = common::cli(
        &[
            "batch",
            "run",
            sample,
            "--dry-run",
            "--skip-funds-check",
            "--journal",
            &journal,
            "--json",
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let report = run.json();
    assert_eq!(report["dryRun"], true, "{report}");
    assert_eq!(report["states"]["planned"], 5, "{report}");
    assert_eq!(
        report["totals"]["USD"]["planned"]["amount"], "1493.74",
        "{report}"
    );
    // Without --skip-funds-check the balance must be read: credentials needed.
    let run = common::cli(
        &[
            "batch",
            "run",
            sample,
            "--dry-run",
            "--journal",
            &journal,
            "--json",
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.json()["error"]["code"], "INVALID_CONFIG", "{run:?}");
}
