//! `kill -9` at random moments of one batch run: the binary is killed
//! (SIGKILL) at least 20 times, each time rerun with the same command; the
//! last rerun completes. Every row must be paid exactly once: none twice,
//! none missing, and the journal must agree with the sandbox's ledger.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{temp_dir, World};

const ROWS: usize = 3_000;
const KILLS: usize = 24;

/// A small deterministic generator (xorshift), so a failure replays.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_kills_and_resumes_pay_every_row_exactly_once() {
    let world = World::start().await;
    let (customer_no, account_token) = world.payee().await;
    let dir = temp_dir("kill");
    let file = dir.join("payouts.csv");
    let mut out = std::fs::File::create(&file).unwrap();
    writeln!(out, "customer_no,account_token,amount,currency,invoice_id").unwrap();
    for n in 0..ROWS {
        writeln!(
            out,
            "{customer_no},{account_token},{}.{:02},USD,kill-{n:05}",
            1 + n % 7,
            n % 100
        )
        .unwrap();
    }
    drop(out);
    let file_arg = file.display().to_string();
    // Paced so that one run lasts a few seconds and the kills land in
    // every phase: opening, checking the file, paying, recording.
    let args = [
        "batch",
        "run",
        file_arg.as_str(),
        "--concurrency",
        "8",
        "--rate",
        "300",
        // Each resume waits twice this before sending rows a kill may
        // have left in flight.
        "--timeout",
        "0.25",
        "--quiet",
    ];
    let spawn = || {
        common::command(&args, &world.env())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };

    let mut moments = Moments(0x9e37_79b9_7f4a_7c15);
    let mut kills = 0;
    let mut paid_at_kill = Vec::new();
    let started = Instant::now();
    while kills < KILLS {
        let mut child = spawn();
        // Kill early in the first runs (opening, checking the file), then
        // anywhere in the paying.
        let wait = if kills < 4 {
            moments.next_ms(60)
        } else {
            20 + moments.next_ms(400)
        };
        tokio::time::sleep(Duration::from_millis(wait)).await;
        match child.try_wait().unwrap() {
            Some(status) => {
                // It finished before the kill: the batch is done.
                assert!(status.success(), "a run ended with {status}");
                break;
            }
            None => {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
                paid_at_kill.push(world.sandbox.payouts().len());
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "the kills took too long"
        );
    }
    assert!(
        kills >= 20,
        "only {kills} kills landed before the batch finished: {paid_at_kill:?}"
    );
    assert!(
        paid_at_kill.last().copied().unwrap_or(0) < ROWS,
        "the kills all came after the last pay"
    );

    // The final rerun completes.
    let run = world
        .cli(&[
            "batch",
            "run",
            &file_arg,
            "--timeout",
            "0.25",
            "--json",
            "--quiet",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let report = run.json();
    eprintln!("{kills} kills, payouts at each: {paid_at_kill:?}");

    let mut ledger: BTreeMap<String, usize> = BTreeMap::new();
    for payout in world.sandbox.payouts() {
        *ledger.entry(payout.invoice_id).or_insert(0) += 1;
    }
    let twice: Vec<_> = ledger.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "paid twice: {twice:?}");
    assert_eq!(ledger.len(), ROWS, "every row paid");
    assert!((0..ROWS).all(|n| ledger.contains_key(&format!("kill-{n:05}"))));
    let states = &report["states"];
    let paid = states["pending"].as_u64().unwrap() + states["success"].as_u64().unwrap();
    assert_eq!(paid, ROWS as u64, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_cleanly_and_a_rerun_finishes() {
    let world = World::start().await;
    let (customer_no, account_token) = world.payee().await;
    let dir = temp_dir("sigint");
    let file = dir.join("payouts.csv");
    let mut out = std::fs::File::create(&file).unwrap();
    writeln!(out, "customerNo,accountToken,amount,currency,invoiceId").unwrap();
    for n in 0..400 {
        writeln!(out, "{customer_no},{account_token},1.00,USD,int-{n:04}").unwrap();
    }
    drop(out);
    let file_arg = file.display().to_string();
    let mut command = common::command(
        &[
            "batch",
            "run",
            file_arg.as_str(),
            "--rate",
            "100",
            "--quiet",
        ],
        &world.env(),
    );
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopping"), "{stderr}");

    // Stopped cleanly: nothing left `sending`, what was paid is recorded.
    let report = world
        .cli(&["batch", "report", &file_arg, "--json"])
        .await
        .json();
    let states = &report["states"];
    assert_eq!(states["sending"], 0, "{report}");
    let paid = states["pending"].as_u64().unwrap() + states["success"].as_u64().unwrap();
    assert_eq!(paid as usize, world.sandbox.payouts().len());
    assert!(paid > 0 && paid < 400, "{report}");

    let rerun = world
        .cli(&[
            "batch",
            "run",
            &file_arg,
            "--timeout",
            "0.25",
            "--json",
            "--quiet",
        ])
        .await;
    assert_eq!(rerun.code, 0, "{rerun:?}");
    assert_eq!(world.sandbox.payouts().len(), 400);
}
