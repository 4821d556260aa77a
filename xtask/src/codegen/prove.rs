//! Proof that adding an operation is a spec change and nothing else.
//!
//! In a scratch copy of the workspace (`target/scratch-new-operation`), the
//! spec gains a copy of `balance` under a new path and operationId; `cargo
//! xtask codegen` (this module, in process) regenerates every file; then a
//! test written into the copy calls the new operation through the typed
//! Rust method and through the JSON door the Python and Node packages use,
//! against a small server on 127.0.0.1 that records what it received, and
//! checks that a signed body reached the new path. Run by `cargo xtask
//! test` and by `cargo xtask codegen --prove-new-operation`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{generate, write_outputs};
use crate::root;

/// The new operation: `balance` copied as `balance_snapshot`.
pub const NEW_PATH: &str = "/v3/payouts/balance-snapshot";
/// Its operationId.
pub const NEW_ID: &str = "balance_snapshot";

/// The spec text with `balance` copied under [`NEW_PATH`] and [`NEW_ID`],
/// as a user adding an operation would write it.
pub fn spec_with_new_operation(spec_text: &str) -> Result<String, String> {
    let mut spec: Value = serde_yaml::from_str(spec_text).map_err(|e| e.to_string())?;
    let paths = spec
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .ok_or("spec has no paths")?;
    let mut copy = paths
        .get("/v3/payouts/balance")
        .cloned()
        .ok_or("spec has no /v3/payouts/balance")?;
    copy["post"]["operationId"] = Value::from(NEW_ID);
    copy["post"]["summary"] = Value::from("Read a snapshot of the balance.");
    paths.insert(NEW_PATH.into(), copy);
    serde_yaml::to_string(&spec).map_err(|e| e.to_string())
}

/// The test written into the scratch copy.
const SCRATCH_TEST: &str = r##"
//! Written by `cargo xtask` into a scratch copy whose spec gained
//! `balance_snapshot`: the generated method posts a signed body there.
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use pockyt_payouts::types::BalanceParams;
use pockyt_payouts::{Client, Config, Operation};

/// Answers one request with a balance and hands back (request line, body).
fn recorder() -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).unwrap();
                data.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&data).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length: usize = text[..end]
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                        .unwrap_or(0);
                    if data.len() >= end + 4 + length {
                        let line = text.lines().next().unwrap().to_string();
                        let body = text[end + 4..end + 4 + length].to_string();
                        tx.send((line, body)).unwrap();
                        break;
                    }
                }
            }
            let answer = r#"{"ret_code":"000100","ret_msg":"success","balance":{"currency":"USD","amount":"12.00"}}"#;
            write!(stream, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}", answer.len(), answer).unwrap();
        }
    });
    (url, rx)
}

fn check_signed(line: &str, body: &str) {
    assert!(line.starts_with("POST /v3/payouts/balance-snapshot "), "{line}");
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).unwrap();
    let pairs: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k.as_str() != "verifySign")
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(fields["currency"], "USD");
    assert_eq!(fields["verifySign"].as_str().unwrap(), pockyt_payouts::sign(pairs, "scratch-token"));
}

#[tokio::test]
async fn the_new_operation_posts_a_signed_body_to_its_path() {
    let (url, requests) = recorder();
    let client = Client::new(Config::new("202333", "301854", "scratch-token").with_base_url(url)).unwrap();
    let balance = client.balance_snapshot(BalanceParams::builder().currency("USD")).await.unwrap();
    assert_eq!(balance.amount.as_deref(), Some("12.00"));
    let (line, body) = requests.recv().unwrap();
    check_signed(&line, &body);
    // The door the Python and Node packages call, by either of their names.
    let op = Operation::from_name("balanceSnapshot").expect("the new operation is known by name");
    assert_eq!(op, Operation::from_name("balance_snapshot").unwrap());
    let answer = client.call_json(op, serde_json::json!({ "currency": "USD" })).await.unwrap();
    assert_eq!(answer["amount"], "12.00");
    let (line, body) = requests.recv().unwrap();
    check_signed(&line, &body);
}

#[tokio::test]
async fn the_sandbox_emulates_the_new_operation_as_the_one_it_copies() {
    let sandbox = pockyt_sandbox::Sandbox::start(Default::default()).await.unwrap();
    let sc = sandbox.config().clone();
    let client = Client::new(
        Config::new(sc.merchant_no.clone(), sc.store_no.clone(), sc.api_token.as_str())
            .with_base_url(sandbox.base_url()),
    )
    .unwrap();
    let balance = client.balance_snapshot(BalanceParams::builder().currency("USD")).await.unwrap();
    assert_eq!(balance.amount.as_deref(), Some("1000000.00"));
    sandbox.shutdown().await;
}
"##;

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let listed = Command::new("git")
        .args(["ls-files", "-co", "--exclude-standard"])
        .current_dir(from)
        .output()
        .map_err(|e| format!("git ls-files: {e}"))?;
    let files = String::from_utf8_lossy(&listed.stdout).to_string();
    for file in files.lines() {
        let source = from.join(file);
        if !source.is_file() {
            continue;
        }
        let target = to.join(file);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::copy(&source, &target).map_err(|e| format!("{}: {e}", source.display()))?;
    }
    Ok(())
}

/// Builds the scratch copy and runs the test there.
pub fn run() -> Result<(), String> {
    let root = root();
    let scratch: PathBuf = root.join("target/scratch-new-operation");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    }
    copy_tree(&root, &scratch)?;
    let spec_path = scratch.join("spec/payouts.yaml");
    let spec = std::fs::read_to_string(&spec_path).map_err(|e| e.to_string())?;
    let spec = spec_with_new_operation(&spec)?;
    std::fs::write(&spec_path, &spec).map_err(|e| e.to_string())?;
    write_outputs(&scratch, &generate(&spec)?)?;
    // Cargo names a workspace's build artifacts by package and version,
    // not by where the workspace is: with the main target directory shared
    // (so the registry's crates are built once), the copy's crates must
    // carry another version or they would overwrite the real ones.
    let manifest_path = scratch.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path).map_err(|e| e.to_string())?;
    let version = manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.split('"').next())
        .ok_or("Cargo.toml has no workspace version")?
        .to_owned();
    let scratch_version = format!("{version}-scratch");
    let manifest = manifest
        .replace(
            &format!("version = \"{version}\""),
            &format!("version = \"{scratch_version}\""),
        )
        .replace(
            &format!("\"={version}\""),
            &format!("\"={scratch_version}\""),
        );
    std::fs::write(&manifest_path, manifest).map_err(|e| e.to_string())?;
    std::fs::write(
        scratch.join("crates/client/tests/new_operation.rs"),
        SCRATCH_TEST,
    )
    .map_err(|e| e.to_string())?;
    // The scratch copy shares the main target directory: the registry's
    // crates are built once.
    let target = root.join("target").display().to_string();
    crate::run_cmd_in(
        &scratch,
        "cargo",
        &["test", "-p", "pockyt-payouts", "--test", "new_operation"],
        &[("CARGO_TARGET_DIR", target.as_str())],
    )
}
