//! Batch payouts against the sandbox: a file paid once, refused files
//! naming row and field, duplicates, the dry run, the funds check, resume
//! after a crash left rows in `sending`, follow-up, IPN events and reports.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::payee_with_account;
use pockyt_payouts::batch::{
    Batch, BatchError, BatchOptions, BatchReport, Journal, Phase, ReportFormat, RowState,
    SqliteJournal,
};
use pockyt_payouts::{Client, Config, RetryPolicy};
use pockyt_sandbox::{Sandbox, SandboxConfig};

struct Setup {
    sandbox: Sandbox,
    client: Client,
    customer_no: String,
    account_token: String,
    dir: PathBuf,
}

async fn setup(name: &str, usd: &str) -> Setup {
    let sandbox = Sandbox::start(SandboxConfig {
        settle_delay: Duration::from_millis(200),
        balances: [("USD".to_string(), usd.to_string())].into(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = sandbox.config();
    let client = Client::new(
        Config::new(
            c.merchant_no.clone(),
            c.store_no.clone(),
            c.api_token.clone(),
        )
        .with_base_url(sandbox.base_url())
        .retry_policy(RetryPolicy::none())
        // A resumed batch waits twice this before resending rows a
        // crash left in `sending`.
        .timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let (customer_no, account_token) = payee_with_account(&client).await;
    let dir = std::env::temp_dir().join(format!("pockyt-batch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Setup {
        sandbox,
        client,
        customer_no,
        account_token,
        dir,
    }
}

impl Setup {
    fn csv(&self, name: &str, header: &str, rows: usize, amount: &str, prefix: &str) -> PathBuf {
        let path = self.dir.join(name);
        let mut file = std::fs::File::create(&path).unwrap();
        writeln!(file, "{header}").unwrap();
        for i in 0..rows {
            writeln!(
                file,
                "{},{},{amount},USD,{prefix}-{i:05}",
                self.customer_no, self.account_token
            )
            .unwrap();
        }
        path
    }

    /// Runs the batch of `file` on `journal` with `options`.
    async fn run(
        &self,
        journal: &Path,
        options: BatchOptions,
        file: &Path,
    ) -> Result<BatchReport, BatchError> {
        self.batch(journal, options).run(file).await
    }

    /// A client of this sandbox's merchant whose API cannot be reached.
    fn unreachable_client(&self) -> Client {
        let c = self.sandbox.config();
        Client::new(
            Config::new(
                c.merchant_no.clone(),
                c.store_no.clone(),
                c.api_token.clone(),
            )
            .with_base_url("http://127.0.0.1:9")
            .retry_policy(RetryPolicy::none())
            .timeout(Duration::from_millis(100)),
        )
        .unwrap()
    }

    /// Reruns the batch with the API reachable: it succeeds, and the
    /// sandbox holds `rows` payouts.
    async fn rerun_pays_every_row(&self, journal: &Path, file: &Path, rows: usize) {
        let report = self
            .run(journal, BatchOptions::default(), file)
            .await
            .unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!(self.sandbox.payouts().len(), rows);
    }

    fn batch(&self, journal: &Path, options: BatchOptions) -> Batch {
        Batch::open(self.client.clone(), journal)
            .unwrap()
            .with_options(options)
    }

    /// Payouts in the sandbox's ledger per invoiceId.
    fn ledger(&self) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for payout in self.sandbox.payouts() {
            *counts.entry(payout.invoice_id).or_insert(0) += 1;
        }
        counts
    }
}

/// The journal at `path` holds no batch: nothing was kept.
fn assert_no_batch_kept(path: &Path) {
    let kept = SqliteJournal::open(path).unwrap().latest_batch().unwrap();
    assert!(kept.is_none(), "{kept:?}");
}

const WIRE_HEADER: &str = "customerNo,accountToken,amount,currency,invoiceId";
const SNAKE_HEADER: &str = "customer_no,account_token,amount,currency,invoice_id";

#[tokio::test]
async fn a_file_is_paid_once_and_a_rerun_pays_nothing() {
    let s = setup("once", "100000.00").await;
    let file = s.csv("may.csv", SNAKE_HEADER, 120, "2.50", "may");
    let journal = pockyt_payouts::batch::default_journal_path(&file);
    let seen = Arc::new(AtomicU64::new(0));
    let seen_in = Arc::clone(&seen);
    let batch = s
        .batch(
            &journal,
            BatchOptions {
                concurrency: 4,
                ..BatchOptions::default()
            },
        )
        .on_progress(move |p| {
            if p.phase == Phase::Paying {
                assert!(p.done <= p.total);
                seen_in.store(p.done, Ordering::SeqCst);
            }
        });
    let report = batch.run(&file).await.unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.rows, 120);
    assert_eq!(report.paid(), 120);
    assert_eq!(report.totals["USD"][&RowState::Pending].amount, "300.00");
    assert_eq!(seen.load(Ordering::SeqCst), 120);
    let ledger = s.ledger();
    assert_eq!(ledger.len(), 120);
    assert!(ledger.values().all(|n| *n == 1));

    // The same file again: the same batch, nothing sent.
    let again = batch.run(&file).await.unwrap();
    assert_eq!(
        again.batch.as_ref().unwrap().id,
        report.batch.as_ref().unwrap().id
    );
    assert_eq!(s.sandbox.payouts().len(), 120);

    // Follow-up brings every row to success once the sandbox settles.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let followed = s
        .batch(
            &journal,
            BatchOptions {
                status_backoff: Duration::from_millis(100),
                ..BatchOptions::default()
            },
        )
        .status(Some(&file))
        .await
        .unwrap();
    assert_eq!(followed.count(RowState::Success), 120, "{followed:?}");

    // Every row in the written report, with its transactionNo.
    let out = s.dir.join("report.csv");
    batch
        .write_report(
            Some(&file),
            ReportFormat::Csv,
            std::fs::File::create(&out).unwrap(),
        )
        .await
        .unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 121);
    assert!(text.lines().nth(1).unwrap().contains(",success,"));
    let out = s.dir.join("report.json");
    batch
        .write_report(
            None,
            ReportFormat::Json,
            std::fs::File::create(&out).unwrap(),
        )
        .await
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 120);
    assert_eq!(json["summary"]["states"]["success"], 120);
}

#[tokio::test]
async fn invalid_rows_are_refused_with_row_and_field_before_anything_is_sent() {
    let s = setup("invalid", "1000.00").await;
    let path = s.dir.join("bad.csv");
    std::fs::write(
        &path,
        format!(
            "{WIRE_HEADER}\n{c},{a},5.00,USD,ok-1\n{c},{a},5.001,USD,bad-amount\n{c},{a},5.00,usd,bad-currency\n{c},{a},5.00,USD,ok-1\n{c},{a},5.00,USD\n",
            c = s.customer_no,
            a = s.account_token
        ),
    )
    .unwrap();
    let journal = s.dir.join("bad.journal");
    let error = s
        .run(&journal, BatchOptions::default(), &path)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "BATCH_INVALID_ROWS");
    let BatchError::InvalidRows { count, rows } = &error else {
        panic!("{error}")
    };
    assert_eq!(*count, 4);
    let found: Vec<(u64, &str, &str)> = rows
        .iter()
        .map(|r| (r.row, r.field.as_str(), r.code.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (3, "amount", "INVALID_REQUEST"),
            (4, "currency", "INVALID_REQUEST"),
            (5, "invoiceId", "DUPLICATE_INVOICE_ID"),
            (6, "row", "INVALID_ROW"),
        ]
    );
    assert!(error.to_string().contains("row 3: amount"), "{error}");
    assert!(s.sandbox.payouts().is_empty());
    assert_no_batch_kept(&journal);

    // With skip_invalid the valid row is paid and the rest reported.
    let report = s
        .run(
            &journal,
            BatchOptions {
                skip_invalid: true,
                ..BatchOptions::default()
            },
            &path,
        )
        .await
        .unwrap();
    assert_eq!((report.rows, report.invalid, report.paid()), (1, 4, 1));
    assert!(!report.is_success());
    assert_eq!(report.invalid_rows.len(), 4);
    assert_eq!(s.sandbox.payouts().len(), 1);

    // Another file with an invoiceId this journal already paid.
    let other = s.dir.join("other.jsonl");
    std::fs::write(
        &other,
        format!(
            "{{\"customer_no\":\"{c}\",\"account_token\":\"{a}\",\"amount\":\"5.00\",\"currency\":\"USD\",\"invoice_id\":\"ok-1\"}}\n",
            c = s.customer_no,
            a = s.account_token
        ),
    )
    .unwrap();
    let error = s
        .run(&journal, BatchOptions::default(), &other)
        .await
        .unwrap_err();
    let BatchError::InvalidRows { rows, .. } = &error else {
        panic!("{error}")
    };
    assert_eq!(
        (rows[0].row, rows[0].code.as_str()),
        (1, "DUPLICATE_INVOICE_ID")
    );
    assert!(
        rows[0].rule.contains("already in this journal"),
        "{}",
        rows[0].rule
    );

    // A header naming no pay field, and a missing required column.
    for (header, field) in [
        (
            "customerNo,accountToken,amount,currency,invoiceId,colour",
            "colour",
        ),
        ("customerNo,accountToken,amount,currency", "invoiceId"),
    ] {
        let path = s.dir.join(format!("{field}.csv"));
        std::fs::write(&path, format!("{header}\n")).unwrap();
        let error = s
            .run(&journal, BatchOptions::default(), &path)
            .await
            .unwrap_err();
        assert_eq!(error.code(), "BATCH_INPUT");
        let BatchError::Input {
            line, field: at, ..
        } = &error
        else {
            panic!("{error}")
        };
        assert_eq!((*line, at.as_str()), (Some(1), field));
    }

    // An unclosed quote on line 3: the file is refused at that line once
    // 1 MiB past the last whole row is read, not held whole in memory as
    // one row.
    let unclosed = s.dir.join("unclosed.csv");
    let mut text = String::from("customerNo,accountToken,amount,currency,invoiceId\n");
    text.push_str(&format!(
        "{},{},1.00,USD,uq-1\n{},{},1.00,USD,\"uq-2\n",
        s.customer_no, s.account_token, s.customer_no, s.account_token
    ));
    for n in 0..60_000 {
        text.push_str(&format!("c,a,1.00,USD,uq-tail-{n}\n"));
    }
    assert!(text.len() > 1024 * 1024 + pockyt_payouts::batch::MAX_ROW_BYTES);
    std::fs::write(&unclosed, text).unwrap();
    let error = s
        .run(&journal, BatchOptions::default(), &unclosed)
        .await
        .unwrap_err();
    let BatchError::Input {
        line, field, rule, ..
    } = &error
    else {
        panic!("{error}")
    };
    assert_eq!((*line, field.as_str()), (Some(3), "file"), "{error}");
    assert!(rule.contains("runs past"), "{rule}");
}

#[tokio::test]
async fn the_dry_run_and_the_funds_check_move_no_money() {
    let s = setup("dry", "100.00").await;
    let file = s.csv("june.csv", WIRE_HEADER, 30, "5.00", "june");
    let journal = s.dir.join("june.journal");
    // 150.00 needed, 100.00 available.
    let error = s
        .run(&journal, BatchOptions::default(), &file)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "BATCH_INSUFFICIENT_FUNDS");
    assert!(
        error
            .to_string()
            .contains("USD: needs 150.00, available 100.00"),
        "{error}"
    );
    assert!(s.sandbox.payouts().is_empty());

    let dry = s
        .run(
            &journal,
            BatchOptions {
                dry_run: true,
                skip_funds_check: true,
                ..BatchOptions::default()
            },
            &file,
        )
        .await
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.count(RowState::Planned), 30);
    assert!(s.sandbox.payouts().is_empty());
    let dry = s
        .run(
            &journal,
            BatchOptions {
                dry_run: true,
                ..BatchOptions::default()
            },
            &file,
        )
        .await
        .unwrap_err();
    assert_eq!(dry.code(), "BATCH_INSUFFICIENT_FUNDS");
    assert!(s.sandbox.payouts().is_empty());
}

#[tokio::test]
async fn rows_a_crash_left_in_sending_are_settled_never_paid_twice() {
    let s = setup("resume", "100000.00").await;
    let file = s.csv("july.csv", WIRE_HEADER, 40, "1.00", "july");
    let journal_path = s.dir.join("july.journal");
    // Journal the file without paying: a run whose funds check fails keeps
    // its plan and sends nothing (a sandbox with 1.00 USD, same merchant).
    let poor = Sandbox::start(SandboxConfig {
        balances: [("USD".to_string(), "1.00".to_string())].into(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = poor.config();
    let poor_client = Client::new(
        Config::new(
            c.merchant_no.clone(),
            c.store_no.clone(),
            c.api_token.clone(),
        )
        .with_base_url(poor.base_url()),
    )
    .unwrap();
    let error = Batch::open(poor_client, &journal_path)
        .unwrap()
        .run(&file)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "BATCH_INSUFFICIENT_FUNDS");
    assert!(poor.payouts().is_empty());

    // A run that crashed: it marked 20 rows `sending` and sent the first
    // ten of them (paid), then died before recording anything.
    let journal = SqliteJournal::open(&journal_path).unwrap();
    let batch_id = journal
        .latest_batch()
        .unwrap()
        .expect("the plan is kept")
        .id;
    let claimed = journal.claim(batch_id, 0, 20).unwrap();
    assert_eq!(claimed.len(), 20);
    assert!(claimed.iter().all(|r| r.state == RowState::Sending));
    for row in &claimed[..10] {
        let params: pockyt_payouts::PayParams = serde_json::from_str(&row.params).unwrap();
        s.client
            .with_idempotency_key(row.idempotency_key.clone())
            .unwrap()
            .pay(params)
            .await
            .unwrap();
    }
    drop(journal);
    // Every reader of the journal sees the claimed rows as `sending`.
    let before = Batch::open_journal_only(&journal_path)
        .unwrap()
        .report(Some(&file))
        .await
        .unwrap();
    assert_eq!(before.count(RowState::Sending), 20, "{before:?}");
    assert_eq!(before.count(RowState::Planned), 20, "{before:?}");

    // The rerun settles the twenty by inquiry (ten found, ten sent with
    // their key) and pays the other twenty.
    let report = s
        .run(
            &journal_path,
            BatchOptions {
                concurrency: 3,
                ..BatchOptions::default()
            },
            &file,
        )
        .await
        .unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.paid(), 40);
    let ledger = s.ledger();
    assert_eq!(ledger.len(), 40);
    assert!(ledger.values().all(|n| *n == 1), "{ledger:?}");
}

#[tokio::test]
async fn a_reader_that_stops_short_keeps_nothing_and_a_rerun_plans_the_whole_file() {
    let s = setup("short", "1000000.00").await;
    let file = s.csv("short.csv", WIRE_HEADER, 10_500, "1.00", "short");
    let journal = s.dir.join("short.journal");
    // The progress callback panics at row 10,000 of the checking phase,
    // on the thread that reads the file: the rows read until then must
    // not be kept as the whole batch.
    let error = s
        .batch(&journal, BatchOptions::default())
        .on_progress(|p| {
            if p.phase == Phase::Checking && p.total == 0 {
                panic!("the caller's progress callback fails");
            }
        })
        .run(&file)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "BATCH_JOURNAL", "{error}");
    assert!(s.ledger().is_empty());
    assert_no_batch_kept(&journal);
    // A dry run now checks and counts every row of the file.
    let report = s
        .run(
            &journal,
            BatchOptions {
                dry_run: true,
                ..BatchOptions::default()
            },
            &file,
        )
        .await
        .unwrap();
    assert_eq!(report.rows, 10_500);
}

#[tokio::test]
async fn a_second_run_on_the_same_journal_is_refused_while_one_holds_it() {
    let s = setup("lock", "1000.00").await;
    let file = s.csv("aug.csv", WIRE_HEADER, 2, "1.00", "aug");
    let journal = s.dir.join("aug.journal");
    let holder = SqliteJournal::open(&journal).unwrap();
    let held = holder.lock().unwrap();
    let error = s
        .run(&journal, BatchOptions::default(), &file)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "BATCH_IN_PROGRESS");
    drop(held);
    assert!(s
        .run(&journal, BatchOptions::default(), &file)
        .await
        .unwrap()
        .is_success());
}

/// A journal belongs to the merchant and store of its first paying run:
/// a client of another store (another account: none of the journal's
/// invoiceIds exist there) is refused by `run`, the dry run and `status`
/// before anything is sent, and the journal's own merchant still resumes.
#[tokio::test]
async fn a_journal_refuses_a_client_of_another_merchant_before_sending() {
    let s = setup("merchant", "1000.00").await;
    let file = s.csv("oct.csv", WIRE_HEADER, 3, "1.00", "oct");
    let journal = s.dir.join("oct.journal");
    let options = BatchOptions {
        status_rounds: 1,
        ..BatchOptions::default()
    };
    let c = s.sandbox.config();
    let other = Client::new(
        Config::new(c.merchant_no.clone(), "999999", c.api_token.clone())
            .with_base_url(s.sandbox.base_url())
            .retry_policy(RetryPolicy::none()),
    )
    .unwrap();
    let other_batch = |options: BatchOptions| {
        Batch::open(other.clone(), &journal)
            .unwrap()
            .with_options(options)
    };
    // A run refused before it pays (the API refuses the other store's
    // balance call) binds the journal to no one.
    let refused = other_batch(options.clone()).run(&file).await.unwrap_err();
    assert_ne!(refused.code(), "BATCH_OTHER_MERCHANT", "{refused}");
    assert!(s.sandbox.payouts().is_empty());
    let report = s.run(&journal, options.clone(), &file).await.unwrap();
    assert!(report.is_success(), "{report:?}");

    let more = s.csv("nov.csv", WIRE_HEADER, 2, "1.00", "nov");
    let paid = s.sandbox.payouts().len();
    let dry_run = BatchOptions {
        dry_run: true,
        ..options.clone()
    };
    for (what, result) in [
        ("run", other_batch(options.clone()).run(&more).await),
        ("dry run", other_batch(dry_run).run(&more).await),
        (
            "status",
            other_batch(options.clone()).status(Some(&file)).await,
        ),
    ] {
        let error = result.unwrap_err();
        assert_eq!(error.code(), "BATCH_OTHER_MERCHANT", "{what}: {error}");
        let message = error.to_string();
        let recorded = format!("merchant {}, store {}", c.merchant_no, c.store_no);
        assert!(message.contains(&recorded), "{message}");
        assert!(message.contains("store 999999"), "{message}");
        assert_eq!(error.details()["journal"], journal.display().to_string());
    }
    assert_eq!(
        s.sandbox.payouts().len(),
        paid,
        "nothing sent for the other store"
    );
    let kept = SqliteJournal::open(&journal)
        .unwrap()
        .latest_batch()
        .unwrap();
    assert_eq!(
        kept.unwrap().rows,
        3,
        "nothing journaled for the other store"
    );

    // An IPN of another store changes no row, whatever its invoiceId.
    let batch = s.batch(&journal, options.clone());
    let event = |store_no: &str| pockyt_payouts::PayoutEvent {
        invoice_id: Some("oct-00000".into()),
        merchant_no: Some(c.merchant_no.clone()),
        store_no: Some(store_no.into()),
        ..serde_json::from_value(serde_json::json!({"status": "success", "transactionNo": "1"}))
            .unwrap()
    };
    assert!(!batch.apply_event(&event("999999")).await.unwrap());
    assert!(batch.apply_event(&event(&c.store_no)).await.unwrap());

    // The journal's own merchant goes on as before.
    assert!(s.run(&journal, options, &more).await.unwrap().is_success());
    assert_eq!(s.sandbox.payouts().len(), paid + 2);
}

#[tokio::test]
async fn verified_ipns_move_rows_forward_never_back() {
    let s = setup("ipn", "1000.00").await;
    let file = s.csv("sep.csv", WIRE_HEADER, 3, "1.00", "sep");
    let journal = s.dir.join("sep.journal");
    let batch = s.batch(&journal, BatchOptions::default());
    batch.run(&file).await.unwrap();
    let row = SqliteJournal::open(&journal)
        .unwrap()
        .row_by_invoice_id("sep-00000")
        .unwrap()
        .unwrap();
    let event = |status: &str| pockyt_payouts::PayoutEvent {
        status: status.parse().unwrap(),
        transaction_no: row.transaction_no.clone().unwrap(),
        invoice_id: Some("sep-00000".into()),
        ..serde_json::from_value(serde_json::json!({"status": "pending", "transactionNo": "1"}))
            .unwrap()
    };
    assert!(batch.apply_event(&event("success")).await.unwrap());
    assert!(
        !batch.apply_event(&event("pending")).await.unwrap(),
        "a stale pending never takes success back"
    );
    assert!(batch.apply_event(&event("returned")).await.unwrap());
    let report = batch.report(Some(&file)).await.unwrap();
    assert_eq!(report.count(RowState::Returned), 1);
    assert!(!report.is_success());
    let unknown = pockyt_payouts::PayoutEvent {
        invoice_id: Some("not-ours".into()),
        ..event("success")
    };
    assert!(!batch.apply_event(&unknown).await.unwrap());
}

#[tokio::test]
async fn a_stopped_run_leaves_nothing_in_sending_and_a_rerun_finishes() {
    let s = setup("stop", "1000.00").await;
    let file = s.csv("oct.csv", WIRE_HEADER, 200, "1.00", "oct");
    let journal = s.dir.join("oct.journal");
    let batch = s.batch(
        &journal,
        BatchOptions {
            rate: Some(100.0),
            ..BatchOptions::default()
        },
    );
    let stop = batch.stop_handle();
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.stop();
    });
    let report = batch.run(&file).await.unwrap();
    stopper.await.unwrap();
    assert_eq!(report.count(RowState::Sending), 0, "{report:?}");
    let planned = report.count(RowState::Planned);
    assert!(planned > 0 && planned < 200, "{report:?}");
    assert_eq!(report.paid() + planned, 200);
    assert_eq!(s.sandbox.payouts().len() as u64, report.paid());
    assert!(!report.is_success());

    // No client needed to read it back.
    let reader = Batch::open_journal_only(&journal).unwrap();
    assert_eq!(
        reader
            .report(Some(&file))
            .await
            .unwrap()
            .count(RowState::Planned),
        planned
    );
    assert_eq!(
        reader.run(&file).await.unwrap_err().code(),
        "INVALID_CONFIG"
    );
    assert_eq!(
        Batch::open_journal_only(s.dir.join("nope.journal"))
            .unwrap_err()
            .code(),
        "BATCH_NOT_FOUND"
    );

    let done = s
        .run(&journal, BatchOptions::default(), &file)
        .await
        .unwrap();
    assert!(done.is_success(), "{done:?}");
    assert_eq!(s.sandbox.payouts().len(), 200);
}

#[tokio::test]
async fn rows_are_numbered_as_a_spreadsheet_shows_them_and_ambiguous_rows_refused() {
    let s = setup("rows", "1000.00").await;
    let (c, a) = (&s.customer_no, &s.account_token);
    // CRLF line ends (Excel, Python's csv), a quoted line break, a bad amount.
    let path = s.dir.join("crlf.csv");
    std::fs::write(
        &path,
        format!("{WIRE_HEADER},note\r\n{c},{a},1.00,USD,r-1,\"two\r\nlines\"\r\n{c},{a},1.001,USD,r-2,x\r\n"),
    )
    .unwrap();
    let error = s
        .run(&s.dir.join("crlf.journal"), BatchOptions::default(), &path)
        .await
        .unwrap_err();
    let BatchError::InvalidRows { rows, .. } = &error else {
        panic!("{error}")
    };
    assert_eq!(
        (rows[0].row, rows[0].field.as_str()),
        (3, "amount"),
        "{error}"
    );

    // JSON Lines: a byte-order mark is not a refusal, a repeated key is.
    let path = s.dir.join("bom.jsonl");
    let row = |id: &str| {
        format!("{{\"customerNo\":\"{c}\",\"accountToken\":\"{a}\",\"amount\":\"1.00\",\"currency\":\"USD\",\"invoiceId\":\"{id}\"}}")
    };
    let repeated = format!("{{\"customerNo\":\"{c}\",\"accountToken\":\"{a}\",\"amount\":\"1.00\",\"amount\":\"5000.00\",\"currency\":\"USD\",\"invoiceId\":\"j-2\"}}");
    std::fs::write(&path, format!("\u{feff}{}\n{repeated}\n", row("j-1"))).unwrap();
    let error = s
        .run(&s.dir.join("bom.journal"), BatchOptions::default(), &path)
        .await
        .unwrap_err();
    let BatchError::InvalidRows { count, rows } = &error else {
        panic!("{error}")
    };
    assert_eq!(*count, 1, "{error}");
    assert_eq!(
        (rows[0].row, rows[0].field.as_str(), rows[0].rule.as_str()),
        (2, "amount", "is named twice")
    );
}

#[tokio::test]
async fn stranded_rows_stay_sending_while_the_api_cannot_be_reached() {
    let s = setup("stranded", "1000.00").await;
    let file = s.csv("nov.csv", WIRE_HEADER, 6, "1.00", "nov");
    let journal_path = s.dir.join("nov.journal");
    // Journal the file (a dry run with the plan kept is a run stopped at once).
    let batch = s.batch(&journal_path, BatchOptions::default());
    batch.stop_handle().stop();
    batch.run(&file).await.unwrap();
    let journal = SqliteJournal::open(&journal_path).unwrap();
    let id = journal.latest_batch().unwrap().unwrap().id;
    assert_eq!(journal.claim(id, 0, 6).unwrap().len(), 6);
    drop(journal);
    // The API is unreachable on resume: nothing learnt, nothing recorded.
    let dead = s.unreachable_client();
    let report = Batch::open(dead, &journal_path)
        .unwrap()
        .with_options(BatchOptions {
            skip_funds_check: true,
            ..BatchOptions::default()
        })
        .run(&file)
        .await
        .unwrap();
    assert_eq!(report.count(RowState::Sending), 6, "{report:?}");
    assert_eq!(report.count(RowState::Unknown), 0, "{report:?}");
    // Reachable again: settled and paid once.
    s.rerun_pays_every_row(&journal_path, &file, 6).await;
}

#[tokio::test]
async fn a_run_that_cannot_reach_the_api_stops_and_leaves_its_rows_planned() {
    let s = setup("unreached", "10000.00").await;
    let file = s.csv("dec.csv", WIRE_HEADER, 3000, "1.00", "dec");
    let journal_path = s.dir.join("dec.journal");
    let dead = s.unreachable_client();
    let tried = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&tried);
    let report = Batch::open(dead, &journal_path)
        .unwrap()
        .with_options(BatchOptions {
            skip_funds_check: true,
            ..BatchOptions::default()
        })
        .on_progress(move |p| {
            if p.phase == Phase::Paying {
                seen.fetch_max(p.done, Ordering::SeqCst);
            }
        })
        .run(&file)
        .await
        .unwrap();
    // It stopped after a run of unreached pays: most rows were never
    // tried, and none is left `sending`, since none was sent.
    assert_eq!(report.count(RowState::Sending), 0, "{report:?}");
    assert_eq!(report.count(RowState::Planned), 3000, "{report:?}");
    // Rows tried or put back untried: the claims queued when it stopped
    // (two of 512 at most), no more.
    let handled = tried.load(Ordering::SeqCst);
    assert!((64..=1024).contains(&handled), "handled {handled} rows");
    assert!(!report.is_success());
    // Reachable again: every row paid once.
    s.rerun_pays_every_row(&journal_path, &file, 3000).await;
}

#[tokio::test]
async fn a_stop_does_not_wait_out_the_rate_limit() {
    let s = setup("slowstop", "1000.00").await;
    let file = s.csv("jan.csv", WIRE_HEADER, 40, "1.00", "jan");
    let journal = s.dir.join("jan.journal");
    // One pay a second, eight at once: the first goes at once, the other
    // seven wait for their turns (1 s to 7 s).
    let batch = s.batch(
        &journal,
        BatchOptions {
            rate: Some(1.0),
            concurrency: 8,
            ..BatchOptions::default()
        },
    );
    let stop = batch.stop_handle();
    // Stopped once the first pay is in, a second before the next turn.
    let stopper = async {
        while s.sandbox.payouts().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.stop();
    };
    let (report, ()) = tokio::join!(batch.run(&file), stopper);
    let report = report.unwrap();
    // The waiting seven were not sent after the stop.
    assert_eq!(report.paid(), 1, "{report:?}");
    assert_eq!(s.sandbox.payouts().len(), 1);
    assert_eq!(report.count(RowState::Planned), 39, "{report:?}");
    assert_eq!(report.count(RowState::Sending), 0, "{report:?}");
}
