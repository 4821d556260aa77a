//! The built `pockyt-payouts` binary against an in-process sandbox: each
//! test starts one on 127.0.0.1 (port 0) and runs the binary with the
//! POCKYT_* variables pointing at it. Every run checks that neither the API
//! token nor its MD5 appears on stdout or stderr.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use md5::{Digest, Md5};
use pockyt_payouts::types::{AddBankAccountParams, RegisterPayeeParams};
use pockyt_payouts::{BankAccountPurpose, Client, Config, ProfileType, RetryPolicy};
use pockyt_sandbox::{Sandbox, SandboxConfig};
use tokio::io::AsyncWriteExt;

/// The token the tests' sandboxes check signatures with.
pub const TOKEN: &str = "cli-test-token-5b1e9d4c";

pub const BIN: &str = env!("CARGO_BIN_EXE_pockyt-payouts");

/// What one run of the binary printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON (the last non-empty line: `--json` prints one).
    pub fn json(&self) -> serde_json::Value {
        let line = self
            .stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        serde_json::from_str(line).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

pub fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Fails when `text` shows the token or its MD5.
pub fn assert_no_secret(text: &str) {
    assert!(!text.contains(TOKEN), "the token was printed: {text}");
    assert!(
        !text.contains(&md5_hex(TOKEN)),
        "the token's MD5 was printed: {text}"
    );
}

/// A fresh directory under the target's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A sandbox and a client of it.
pub struct World {
    pub sandbox: Sandbox,
    pub client: Client,
}

impl World {
    pub async fn start() -> World {
        Self::start_with(SandboxConfig::default()).await
    }

    pub async fn start_with(config: SandboxConfig) -> World {
        let sandbox = Sandbox::start(SandboxConfig {
            api_token: TOKEN.to_owned(),
            settle_delay: Duration::from_millis(50),
            ipn_retry_delays: Vec::new(),
            ..config
        })
        .await
        .unwrap();
        let c = sandbox.config();
        let client = Client::new(
            Config::new(c.merchant_no.clone(), c.store_no.clone(), TOKEN)
                .with_base_url(sandbox.base_url())
                .retry_policy(RetryPolicy::none()),
        )
        .unwrap();
        World { sandbox, client }
    }

    /// The POCKYT_* variables pointing at the sandbox.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let c = self.sandbox.config();
        vec![
            ("POCKYT_MERCHANT_NO", c.merchant_no.clone()),
            ("POCKYT_STORE_NO", c.store_no.clone()),
            ("POCKYT_API_TOKEN", TOKEN.to_owned()),
            ("POCKYT_BASE_URL", self.sandbox.base_url()),
        ]
    }

    /// Runs the binary with `args`, configured for this sandbox.
    pub async fn cli(&self, args: &[&str]) -> Run {
        cli(args, &self.env(), None).await
    }

    /// Registers a payee with a bank account: (customerNo, accountToken).
    pub async fn payee(&self) -> (String, String) {
        let payee = self
            .client
            .register_payee(
                RegisterPayeeParams::builder()
                    .profile_type(ProfileType::Individual)
                    .date_of_birth("1990-05-17")
                    .first_name(Some("Ada".to_string()))
                    .last_name(Some("Lovelace".to_string())),
            )
            .await
            .unwrap();
        let account = self
            .client
            .add_bank_account(
                AddBankAccountParams::builder()
                    .customer_no(payee.customer_no.clone())
                    .bank_account_id("7861053298")
                    .branch_id("101089292")
                    .bank_account_purpose(BankAccountPurpose::Checking),
            )
            .await
            .unwrap();
        (payee.customer_no, account.account_token)
    }
}

/// The binary with `args` and exactly the variables `env` (no other
/// POCKYT_* from the test's environment).
pub fn command(args: &[&str], env: &[(&str, String)]) -> std::process::Command {
    let mut command = std::process::Command::new(BIN);
    command.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("POCKYT_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    command
}

/// Runs the binary with `args` and exactly the variables `env` (no other
/// POCKYT_* from the test's environment), `stdin` fed when given.
pub async fn cli(args: &[&str], env: &[(&str, String)], stdin: Option<&[u8]>) -> Run {
    let mut command = tokio::process::Command::from(command(args, env));
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).await.unwrap();
    }
    drop(input);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the CLI finished within 60 s")
        .unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_no_secret(&run.stdout);
    assert_no_secret(&run.stderr);
    run
}
