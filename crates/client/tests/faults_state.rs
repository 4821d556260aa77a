//! No duplicate payees or accounts under faults: 300 registers and 300
//! add-bank-account calls through the client against the sandbox, each with
//! randomized injected faults (fixed seed) before and after the sandbox
//! commits. Each call carries one idempotency key for all its attempts, so
//! a resend after a possibly-received attempt is answered with the first
//! answer, never acted on twice.
//!
//! Every call must end with exactly one payee (account) in the sandbox, or
//! with an error and at most one; never two.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use pockyt_payouts::types::*;
use pockyt_payouts::{BankAccountPurpose, Client, Config, ProfileType, RetryPolicy};
use pockyt_sandbox::{Sandbox, SandboxConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const CALLS: usize = 300;
const SEED: u64 = 0x5eed_57a7_u64;
const FAULTS: [&str; 9] = [
    "delay=400",
    "delay_after=400",
    "drop",
    "http_500",
    "http_503",
    "http_500_after_commit",
    "malformed",
    "ret_000080",
    "ret_000000",
];

async fn add_rules(sandbox: &Sandbox, rules: &[Value]) {
    let admin = reqwest::Client::new();
    let cleared = admin
        .delete(format!("{}/_sandbox/faults", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert!(cleared.status().is_success());
    for rule in rules {
        let answer = admin
            .post(format!("{}/_sandbox/faults", sandbox.base_url()))
            .json(rule)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{rule}");
    }
}

/// The faults of one call, as admin rules matched by `field` = `value`.
fn rules_for(rng: &mut StdRng, operation: &str, field: &str, value: &str) -> Vec<Value> {
    (0..rng.random_range(0..=2))
        .map(|_| {
            let fault = FAULTS[rng.random_range(0..FAULTS.len())];
            json!({"operation": operation, "match": {field: value}, "fault": fault, "times": 1})
        })
        .collect()
}

fn count_by(state: &Value, list: &str, field: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for item in state[list].as_array().unwrap() {
        if let Some(value) = item[field].as_str() {
            *counts.entry(value.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_registers_and_bank_accounts_never_duplicate() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let sc = sandbox.config().clone();
    let policy = RetryPolicy::default()
        .max_retries(3)
        .base_delay(Duration::from_millis(2))
        .max_delay(Duration::from_millis(20));
    let client = Client::new(
        Config::new(
            sc.merchant_no.clone(),
            sc.store_no.clone(),
            sc.api_token.as_str(),
        )
        .with_base_url(sandbox.base_url())
        .timeout(Duration::from_millis(150))
        .retry_policy(policy),
    )
    .unwrap();
    let mut rng = StdRng::seed_from_u64(SEED);

    // Registers, 50 at a time, each with its own customerCode.
    let mut registered = BTreeMap::new();
    for batch in (0..CALLS).collect::<Vec<_>>().chunks(50) {
        let mut rules = Vec::new();
        for n in batch {
            rules.extend(rules_for(
                &mut rng,
                "register_payee",
                "customerCode",
                &format!("code-{n:03}"),
            ));
        }
        add_rules(&sandbox, &rules).await;
        let mut tasks = tokio::task::JoinSet::new();
        for &n in batch {
            let client = client.clone();
            tasks.spawn(async move {
                let result = client
                    .register_payee(
                        RegisterPayeeParams::builder()
                            .profile_type(ProfileType::Individual)
                            .date_of_birth("1990-05-17")
                            .customer_code(Some(format!("code-{n:03}"))),
                    )
                    .await;
                (format!("code-{n:03}"), result)
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (code, result) = done.unwrap();
            registered.insert(code, result);
        }
    }

    // One payee to add the accounts to, then 300 accounts, each with its
    // own accountTag.
    add_rules(&sandbox, &[]).await;
    let (customer_no, _) = common::payee_with_account(&client).await;
    let mut added = BTreeMap::new();
    for batch in (0..CALLS).collect::<Vec<_>>().chunks(50) {
        let mut rules = Vec::new();
        for n in batch {
            rules.extend(rules_for(
                &mut rng,
                "add_bank_account",
                "accountTag",
                &format!("tag-{n:03}"),
            ));
        }
        add_rules(&sandbox, &rules).await;
        let mut tasks = tokio::task::JoinSet::new();
        for &n in batch {
            let client = client.clone();
            let customer_no = customer_no.clone();
            tasks.spawn(async move {
                let result = client
                    .add_bank_account(
                        AddBankAccountParams::builder()
                            .customer_no(customer_no)
                            .bank_account_id("7861053298")
                            .branch_id("101089292")
                            .bank_account_purpose(BankAccountPurpose::Checking)
                            .account_tag(Some(format!("tag-{n:03}"))),
                    )
                    .await;
                (format!("tag-{n:03}"), result)
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (tag, result) = done.unwrap();
            added.insert(tag, result);
        }
    }

    // Let delayed requests land before counting.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let state = sandbox.state_json();
    let payees = count_by(&state, "payees", "customerCode");
    let accounts = count_by(&state, "accounts", "accountTag");
    let (mut ok, mut failed) = (0, 0);
    for (code, result) in &registered {
        let found = payees.get(code).copied().unwrap_or(0);
        assert!(found <= 1, "{code}: {found} payees");
        match result {
            Ok(payee) => {
                ok += 1;
                assert_eq!(found, 1, "{code}");
                assert_eq!(payee.customer_code.as_deref(), Some(code.as_str()));
            }
            Err(_) => failed += 1,
        }
    }
    for (tag, result) in &added {
        let found = accounts.get(tag).copied().unwrap_or(0);
        assert!(found <= 1, "{tag}: {found} accounts");
        match result {
            Ok(_) => {
                ok += 1;
                assert_eq!(found, 1, "{tag}");
            }
            Err(_) => failed += 1,
        }
    }
    println!(
        "{CALLS} registers and {CALLS} add-bank-account calls under faults: {ok} succeeded, {failed} failed, 0 duplicate payees or accounts"
    );
    assert!(
        ok > CALLS,
        "the faults should not defeat most calls ({ok} succeeded)"
    );
    sandbox.shutdown().await;
}
