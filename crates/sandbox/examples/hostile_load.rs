//! Measures the sandbox under the hostile, unsigned loads its limits are
//! for: the latency of a normal signed balance call while two 180k-field
//! bodies are processed and while 1,100 slow connections are open, and the
//! sandbox's peak RSS during 1,000 unsigned fault-delay requests.
//!
//! The sandbox runs as its own process (the release binary, under
//! `ulimit -n 1024`) so that its RSS is its own; this program is the
//! clients and needs more descriptors than that:
//!
//! ```sh
//! cargo build --release -p pockyt-sandbox --bin pockyt-sandbox --example hostile_load
//! ulimit -n 8192 && target/release/examples/hostile_load target/release/pockyt-sandbox
//! ```
//!
//! Every loop is bounded in count and time; the program ends by itself.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use pockyt_payouts_sign::Signer;
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A sandbox process, killed when dropped.
struct Running {
    child: Child,
    base: String,
    addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn start(bin: &str, args: &[&str]) -> Running {
        let script = "ulimit -n 1024; exec \"$0\" \"$@\"";
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(bin)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sandbox starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("listening line");
        let base = line.trim().rsplit(' ').next().expect("a URL").to_owned();
        let addr = base.trim_start_matches("http://").to_owned();
        Running { child, base, addr }
    }

    /// Peak resident set (VmHWM) and current (VmRSS), in KiB.
    fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmHWM:"), field("VmRSS:"))
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// One signed balance call on a fresh connection; its latency, or why it
/// failed.
async fn balance(base: &str) -> Result<Duration, String> {
    let signer = Signer::new("202333", "301854", "sandbox-api-token");
    let mut body = Map::new();
    body.insert("currency".into(), Value::String("USD".into()));
    signer.sign_fields(&mut body, SystemTime::now()).unwrap();
    let started = Instant::now();
    let response = client()
        .post(format!("{base}/v3/payouts/balance"))
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let answer: Value = response.json().await.map_err(|e| e.to_string())?;
    if answer["ret_code"] != "000100" {
        return Err(answer.to_string());
    }
    Ok(started.elapsed())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Signed balance calls one after the other while `busy` runs (at most
/// 200 of them); prints their count, median and worst latency.
async fn latency_during<F: std::future::Future>(base: &str, label: &str, busy: F) -> F::Output {
    let base = base.to_owned();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let probe = tokio::spawn(async move {
        let mut lat = Vec::new();
        let mut failures = Vec::new();
        for _ in 0..200 {
            if stop_rx.try_recv().is_ok() {
                break;
            }
            match balance(&base).await {
                Ok(d) => lat.push(d),
                Err(e) => failures.push(e),
            }
        }
        (lat, failures)
    });
    let output = busy.await;
    let _ = stop_tx.send(());
    let (mut lat, failures) = probe.await.unwrap();
    lat.sort();
    if lat.is_empty() {
        println!("  {label}: no successful call; failures: {failures:?}");
    } else {
        println!(
            "  {label}: {} calls ok, {} failed; median {}, worst {}",
            lat.len(),
            failures.len(),
            ms(lat[lat.len() / 2]),
            ms(*lat.last().unwrap())
        );
    }
    output
}

fn wide_form(n: usize) -> String {
    (0..n)
        .map(|i| format!("f{i}=v"))
        .collect::<Vec<_>>()
        .join("&")
}

async fn wide_forms(bin: &str, label: &str, args: &[&str]) {
    let sandbox = Running::start(bin, args);
    println!("two 180k-field forms ({label}; sandbox {args:?}):");
    println!("  baseline: {}", ms(balance(&sandbox.base).await.unwrap()));
    let body = wide_form(180_000);
    let upload = |body: String| {
        let base = sandbox.base.clone();
        async move {
            let started = Instant::now();
            let outcome = client()
                .post(format!("{base}/v3/payouts/balance"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await;
            let what = match outcome {
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    format!(
                        "HTTP {status} {}",
                        text.chars().take(90).collect::<String>()
                    )
                }
                Err(e) => format!("error {e}"),
            };
            (started.elapsed(), what)
        }
    };
    let (a, b) = latency_during(&sandbox.base, "balance during", async {
        tokio::join!(upload(body.clone()), upload(body.clone()))
    })
    .await;
    for (d, what) in [a, b] {
        println!(
            "  180k-field body ({} bytes): {} -> {what}",
            body.len(),
            ms(d)
        );
    }
    let (hwm, rss) = sandbox.rss_kib();
    println!("  sandbox peak RSS {hwm} KiB (now {rss} KiB)");
}

/// Opens `n` connections at once, each sending part of a request and then
/// holding it for up to `hold`; `body` chooses a complete head with a body
/// that never comes. Counts the connections established, and those the
/// sandbox closed.
fn slow_connections(
    addr: &str,
    n: usize,
    body: bool,
    hold: Duration,
) -> (
    tokio::task::JoinSet<()>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let opened = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let closed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let addr = addr.to_owned();
        let opened = std::sync::Arc::clone(&opened);
        let closed = std::sync::Arc::clone(&closed);
        tasks.spawn(async move {
            let deadline = tokio::time::Instant::now() + hold;
            let Ok(Ok(mut stream)) = tokio::time::timeout_at(deadline, TcpStream::connect(&addr)).await else {
                return;
            };
            opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let head: &[u8] = if body {
                b"POST /v3/payouts/balance HTTP/1.1\r\nHost: s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"a"
            } else {
                b"POST /v3/payouts/balance HTTP/1.1\r\nHost: s\r\n"
            };
            let _ = stream.write_all(head).await;
            // Hold it (a byte now and then, as a slow client would) until
            // the sandbox closes it or the time is up.
            let mut buf = [0u8; 64];
            let _ = tokio::time::timeout_at(deadline, async {
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if stream.write_all(b"a").await.is_err() {
                        closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        break;
                    }
                    if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(1), tokio::io::AsyncReadExt::read(&mut stream, &mut buf)).await {
                        closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        break;
                    }
                }
            })
            .await;
        });
    }
    (tasks, opened, closed)
}

async fn slow(bin: &str, args: &[&str], body: bool) {
    let sandbox = Running::start(bin, args);
    let kind = if body { "slow-body" } else { "slow-header" };
    println!("1,100 {kind} connections at once (sandbox {args:?}, ulimit -n 1024):");
    println!("  baseline: {}", ms(balance(&sandbox.base).await.unwrap()));
    let (mut tasks, opened, closed) =
        slow_connections(&sandbox.addr, 1_100, body, Duration::from_secs(40));
    let count = |n: &std::sync::Arc<std::sync::atomic::AtomicUsize>| {
        n.load(std::sync::atomic::Ordering::Relaxed)
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "  after 1 s: {} connections established (the rest wait in SYN retry)",
        opened.load(std::sync::atomic::Ordering::Relaxed)
    );
    for i in 0..3 {
        match balance(&sandbox.base).await {
            Ok(d) => println!("  balance call {} while they are held: {}", i + 1, ms(d)),
            Err(e) => println!("  balance call {} while they are held FAILED: {e}", i + 1),
        }
    }
    println!(
        "  {} attacker connections established so far, {} closed by the sandbox",
        count(&opened),
        count(&closed)
    );
    // Once all 1,100 have connected (the ones whose SYN was dropped retry
    // after 1, 3, 7 s...), or 20 s have passed.
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(&opened) < 1_100 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A slow client notices it was closed at its next write (500 ms).
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "  {} established, {} closed by the sandbox, {} held open by the attacker:",
        count(&opened),
        count(&closed),
        count(&opened) - count(&closed)
    );
    for i in 0..3 {
        match balance(&sandbox.base).await {
            Ok(d) => println!("  balance call {} then: {}", i + 1, ms(d)),
            Err(e) => println!("  balance call {} then FAILED: {e}", i + 1),
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    tokio::time::sleep(Duration::from_millis(200)).await;
    println!(
        "  after they close: {}",
        balance(&sandbox.base)
            .await
            .map(ms)
            .unwrap_or_else(|e| format!("FAILED {e}"))
    );
    let (hwm, rss) = sandbox.rss_kib();
    println!("  sandbox peak RSS {hwm} KiB (now {rss} KiB)");
}

async fn fault_delays(bin: &str, args: &[&str]) {
    let sandbox = Running::start(bin, args);
    println!("1,000 unsigned delay=600000 requests with 200 KiB bodies (sandbox {args:?}):");
    let (hwm0, _) = sandbox.rss_kib();
    println!("  sandbox RSS at start {hwm0} KiB");
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(200 * 1024));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1_000 {
        let base = sandbox.base.clone();
        let body = body.clone();
        tasks.spawn(async move {
            client()
                .post(format!("{base}/v3/payouts/balance"))
                .header("content-type", "application/json")
                .header("x-sandbox-fault", "delay=600000")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| e.to_string())
        });
    }
    let mut peak = 0;
    let mut answered = 0;
    let mut failed = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while !tasks.is_empty() && Instant::now() < deadline {
        tokio::select! {
            done = tasks.join_next() => match done {
                Some(Ok(Ok(_))) => answered += 1,
                _ => failed += 1,
            },
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        peak = peak.max(sandbox.rss_kib().0);
    }
    tasks.abort_all();
    println!(
        "  {answered} answered, {failed} failed, in {}; sandbox peak RSS {peak} KiB",
        ms(started.elapsed())
    );
    println!(
        "  balance call after: {}",
        balance(&sandbox.base).await.map(ms).unwrap_or_else(|e| e)
    );
}

#[tokio::main]
async fn main() {
    let bin = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/release/pockyt-sandbox".to_owned());
    wide_forms(&bin, "defaults: refused by size", &[]).await;
    wide_forms(
        &bin,
        "4 MiB bodies: refused by field count",
        &["--max-body-bytes", "4194304"],
    )
    .await;
    wide_forms(
        &bin,
        "4 MiB bodies, 1M fields: parsed in full",
        &["--max-body-bytes", "4194304", "--max-fields", "1000000"],
    )
    .await;
    slow(&bin, &[], false).await;
    slow(&bin, &[], true).await;
    slow(
        &bin,
        &[
            "--header-read-timeout-ms",
            "2000",
            "--body-read-timeout-ms",
            "2000",
        ],
        true,
    )
    .await;
    fault_delays(&bin, &[]).await;
}
