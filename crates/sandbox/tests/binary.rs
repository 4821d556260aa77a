//! The `pockyt-sandbox` binary, and the blocking handle the bindings use.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{invoice, Api};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pockyt-sandbox");

/// A signed call with a throwaway runtime, for synchronous tests.
fn call_blocking(base: &str, token: &str, path: &str, params: &[(&str, &str)]) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let signer = pockyt_payouts_sign::Signer::new("202333", "301854", token);
        let mut body: serde_json::Map<String, Value> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        signer
            .sign_fields(&mut body, std::time::SystemTime::now())
            .unwrap();
        let response = common::http()
            .post(format!("{base}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    })
}

/// A running `pockyt-sandbox` process.
struct Running {
    child: std::process::Child,
    base: String,
    rest: Option<std::thread::JoinHandle<String>>,
    log: Option<std::thread::JoinHandle<String>>,
}

impl Drop for Running {
    /// A test that fails half-way leaves no process behind.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Running {
    /// Starts the binary and reads its one stdout line.
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        // stdout: the first line as soon as it comes, the rest at exit.
        let stdout = child.stdout.take().unwrap();
        let (first_tx, first_rx) = mpsc::channel();
        let rest = std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            let _ = first_tx.send(first);
            let mut rest = String::new();
            let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
            rest
        });
        let stderr = child.stderr.take().unwrap();
        let log = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
            text
        });
        let first = first_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the URL line is printed");
        assert!(first.ends_with('\n'), "{first:?}");
        let base = first
            .strip_prefix("pockyt-sandbox listening on ")
            .unwrap_or_else(|| panic!("{first:?}"))
            .trim_end()
            .to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
        assert_ne!(port, 0);
        Running {
            child,
            base,
            rest: Some(rest),
            log: Some(log),
        }
    }

    /// Sends `signal`, waits for the exit; answers (stdout after the first
    /// line, stderr).
    fn stop(mut self, signal: &str) -> (String, String) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(
                Instant::now() < deadline,
                "the binary did not stop on {signal}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(exit.success(), "{signal}: {exit}");
        let rest = self.rest.take().unwrap().join().unwrap();
        let log = self.log.take().unwrap().join().unwrap();
        (rest, log)
    }
}

#[test]
fn the_binary_prints_its_url_serves_and_stops_on_sigterm() {
    let running = Running::start(&[
        "--port",
        "0",
        "--api-token",
        "binary-token",
        "--balance",
        "USD=50.00",
        "--balance=EUR=10",
        "--settle-delay-ms",
        "100",
        "--max-connections",
        "8",
        "--header-read-timeout-ms=5000",
        "--body-read-timeout-ms",
        "5000",
        "--max-body-bytes",
        "65536",
        "--max-fields",
        "64",
    ]);
    let base = running.base.clone();
    // It serves, with the configured token and balances.
    let answer = call_blocking(
        &base,
        "binary-token",
        "/v3/payouts/balance",
        &[("currency", "USD")],
    );
    assert_eq!(answer["balance"]["amount"], "50.00", "{answer}");
    let answer = call_blocking(
        &base,
        "binary-token",
        "/v3/payouts/balance",
        &[("currency", "EUR")],
    );
    assert_eq!(answer["balance"]["amount"], "10.00", "{answer}");
    let answer = call_blocking(
        &base,
        common::TOKEN,
        "/v3/payouts/balance",
        &[("currency", "USD")],
    );
    assert_eq!(answer["ret_code"], "000030", "another token is refused");

    let (rest, log) = running.stop("-TERM");
    assert_eq!(rest, "", "exactly one line on stdout");
    assert!(
        log.contains("/v3/payouts/balance"),
        "requests are logged: {log}"
    );
    assert!(log.contains("ret_code=000030"), "{log}");
    assert!(!log.contains("binary-token"), "the token is never logged");
}

#[test]
fn the_binary_stops_on_sigint_too() {
    let running = Running::start(&[
        "--host",
        "127.0.0.1",
        "--merchant-no",
        "1",
        "--store-no",
        "2",
    ]);
    let (rest, _log) = running.stop("-INT");
    assert_eq!(rest, "");
}

#[test]
fn help_prints_usage_and_bad_flags_fail() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--host",
        "--port",
        "--merchant-no",
        "--store-no",
        "--api-token",
        "--balance",
        "--settle-delay-ms",
        "--max-connections",
        "--header-read-timeout-ms",
        "--body-read-timeout-ms",
        "--max-body-bytes",
        "--max-fields",
    ] {
        assert!(text.contains(flag), "{flag} in {text}");
    }
    let output = Command::new(BIN).arg("--bogus").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("--bogus"));
    let output = Command::new(BIN)
        .args(["--balance", "USD=ten"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let output = Command::new(BIN).args(["--port"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    for bad in [
        ["--max-connections", "0"],
        ["--max-fields", "many"],
        ["--body-read-timeout-ms", "-1"],
    ] {
        let output = Command::new(BIN).args(bad).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        assert!(String::from_utf8(output.stderr).unwrap().contains(bad[0]));
    }
}

#[test]
fn the_blocking_sandbox_serves_from_synchronous_code() {
    let config = common::fast_config();
    let sandbox = pockyt_sandbox::start_blocking(config).unwrap();
    let base = sandbox.base_url();
    assert!(base.starts_with("http://127.0.0.1:"));
    let answer = call_blocking(
        &base,
        common::TOKEN,
        "/v3/payouts/balance",
        &[("currency", "USD")],
    );
    assert_eq!(answer["balance"]["amount"], "1000000.00");
    assert_eq!(sandbox.config().merchant_no, "202333");
    assert!(sandbox.payouts().is_empty());
    assert_eq!(sandbox.balance("USD").as_deref(), Some("1000000.00"));
    sandbox.reset();
    assert!(sandbox.ipn_log().is_empty());
    sandbox.shutdown();
    // Stopped: nothing listens any more.
    let gone = std::net::TcpStream::connect(base.trim_start_matches("http://"));
    assert!(gone.is_err(), "the port is closed after shutdown");
}

#[tokio::test]
async fn a_blocking_sandbox_can_be_dropped_inside_a_runtime() {
    let sandbox = pockyt_sandbox::start_blocking(common::fast_config()).unwrap();
    let base = sandbox.base_url();
    let api = Api {
        base: base.clone(),
        http: common::http(),
        signer: pockyt_payouts_sign::Signer::new("202333", "301854", common::TOKEN),
    };
    let (customer_no, token) = api.payee().await;
    let answer = api
        .pay(&customer_no, &token, "5", &invoice("blocking-"))
        .await;
    assert_eq!(answer["ret_code"], "000100");
    assert_eq!(sandbox.payouts().len(), 1);
    drop(sandbox);
    let gone = tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await;
    assert!(gone.is_err(), "the port is closed after drop");
}

#[tokio::test]
async fn starting_fails_cleanly_on_a_taken_port_or_a_bad_balance() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = pockyt_sandbox::SandboxConfig {
        port: taken.local_addr().unwrap().port(),
        ..common::fast_config()
    };
    // From inside a runtime, too: the blocking start never panics.
    let error = pockyt_sandbox::start_blocking(config.clone()).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse, "{error}");
    let error = pockyt_sandbox::Sandbox::start(config).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse, "{error}");

    let config = pockyt_sandbox::SandboxConfig {
        balances: [("USD".to_owned(), "lots".to_owned())]
            .into_iter()
            .collect(),
        ..common::fast_config()
    };
    let error = pockyt_sandbox::Sandbox::start(config).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
}
