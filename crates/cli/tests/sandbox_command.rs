//! `pockyt-payouts sandbox`: starts, prints how to reach it, serves the
//! other commands, stops on SIGTERM.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{assert_no_secret, cli, BIN};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_command_serves_until_sigterm() {
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "sandbox",
            "--port",
            "0",
            "--settle-delay-ms",
            "10",
            "--balance",
            "USD=500.00",
            "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut env = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(assignment) = line.strip_prefix("export ") {
                let (name, value) = assignment.split_once('=').unwrap();
                env.push((name.to_owned(), value.to_owned()));
                if name == "POCKYT_API_TOKEN" {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the sandbox printed its variables");
    let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "POCKYT_BASE_URL",
            "POCKYT_MERCHANT_NO",
            "POCKYT_STORE_NO",
            "POCKYT_API_TOKEN"
        ]
    );
    assert!(env[0].1.starts_with("http://127.0.0.1:"), "{env:?}");

    // The printed variables are enough for the other commands.
    let env: Vec<(&str, String)> = env.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    let balance = cli(&["balance", "--currency", "USD", "--json"], &env, None).await;
    assert_eq!(balance.code, 0, "{balance:?}");
    assert_eq!(balance.json()["amount"], "500.00");

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn a_chosen_token_is_not_printed_and_bad_options_are_usage_errors() {
    let token = "my-own-sandbox-token-31";
    let mut child = tokio::process::Command::new(BIN)
        .args(["sandbox", "--api-token", token, "--json", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let printed: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert!(printed["baseUrl"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert!(printed["env"].get("POCKYT_API_TOKEN").is_none(), "{first}");
    assert!(!first.contains(token));
    child.start_kill().unwrap();
    let _ = child.wait().await;
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(!stderr.contains(token), "{stderr}");
    assert_no_secret(&stderr);

    let bad = cli(&["sandbox", "--settle-delay-ms", "999999999"], &[], None).await;
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("--settle-delay-ms"), "{bad:?}");
    let bad_balance = cli(&["sandbox", "--balance", "USD"], &[], None).await;
    assert_eq!(bad_balance.code, 2, "{bad_balance:?}");
}
