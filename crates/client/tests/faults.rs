//! Money safety under faults: 1,000 pays through the client against the
//! sandbox, each with randomized injected faults (fixed seed) on the pay
//! and on the inquiries that reconcile it: delays past the timeout before
//! and after commit, commit-then-drop, HTTP 5xx before and after commit,
//! malformed answers, supplier and system errors.
//!
//! Every invoiceId must end with exactly one payout, or with a
//! PAYOUT_OUTCOME_UNKNOWN error (never a second payout), and the sandbox's
//! ledger must match the payouts it holds.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use pockyt_payouts::types::*;
use pockyt_payouts::{Client, Config, ErrorCode, RetryPolicy};
use pockyt_sandbox::{Sandbox, SandboxConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

const PAYS: usize = 1_000;
/// Pays whose fault rules wait in the sandbox at once.
const BATCH: usize = 200;
const SEED: u64 = 0x5eed_0ff4_u64;
const TIMEOUT: Duration = Duration::from_millis(150);
const PAY_FAULTS: [&str; 10] = [
    "delay=400",
    "delay_after=400",
    "drop",
    "http_500",
    "http_502",
    "http_503",
    "http_500_after_commit",
    "malformed",
    "ret_000080",
    "ret_000000",
];
const INQUIRY_FAULTS: [&str; 6] = [
    "delay=400",
    "drop",
    "http_503",
    "ret_000080",
    "ret_000000",
    "malformed",
];

fn cents(amount: &str) -> i64 {
    let (whole, frac) = amount.split_once('.').unwrap_or((amount, "0"));
    whole.parse::<i64>().unwrap() * 100 + format!("{frac:0<2}").parse::<i64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_faulty_pays_never_pay_twice() {
    let sandbox = Sandbox::start(SandboxConfig {
        settle_delay: Duration::from_millis(50),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let sc = sandbox.config().clone();
    let initial = cents(&sandbox.balance("USD").unwrap());
    let policy = RetryPolicy::default()
        .max_retries(2)
        .base_delay(Duration::from_millis(2))
        .max_delay(Duration::from_millis(20));
    let client = Client::new(
        Config::new(
            sc.merchant_no.clone(),
            sc.store_no.clone(),
            sc.api_token.as_str(),
        )
        .with_base_url(sandbox.base_url())
        .timeout(TIMEOUT)
        .retry_policy(policy),
    )
    .unwrap();

    let (customer_no, account_token) = common::payee_with_account(&client).await;

    // The plan: for each pay, the faults its pay requests and its inquiry
    // requests get, in order, as admin rules matched by invoiceId.
    let mut rng = StdRng::seed_from_u64(SEED);
    let admin = reqwest::Client::new();
    let mut plan = Vec::with_capacity(PAYS);
    let mut injected = 0usize;
    for n in 0..PAYS {
        let invoice_id = format!("faulty-{n:04}");
        let amount = format!(
            "{}.{:02}",
            rng.random_range(1..=500),
            rng.random_range(0..100)
        );
        let pay_faults: Vec<&str> = (0..rng.random_range(0..=3))
            .map(|_| PAY_FAULTS[rng.random_range(0..PAY_FAULTS.len())])
            .collect();
        let inquiry_faults: Vec<&str> = (0..rng.random_range(0..=3))
            .map(|_| INQUIRY_FAULTS[rng.random_range(0..INQUIRY_FAULTS.len())])
            .collect();
        let mut rules = Vec::new();
        for (operation, faults) in [("pay", &pay_faults), ("inquire_payout", &inquiry_faults)] {
            for fault in faults.iter() {
                rules.push(json!({"operation": operation, "match": {"invoiceId": invoice_id}, "fault": fault, "times": 1}));
            }
        }
        injected += rules.len();
        plan.push((invoice_id, amount, rules));
    }

    // Run them in batches (the sandbox holds at most 1,000 waiting rules):
    // clear what an earlier batch left unused, inject this batch's rules,
    // run its pays 32 at a time.
    let mut outcomes = BTreeMap::new();
    for batch in plan.chunks(BATCH) {
        let cleared = admin
            .delete(format!("{}/_sandbox/faults", sandbox.base_url()))
            .send()
            .await
            .unwrap();
        assert!(cleared.status().is_success());
        for rule in batch.iter().flat_map(|(_, _, rules)| rules) {
            let answer = admin
                .post(format!("{}/_sandbox/faults", sandbox.base_url()))
                .json(rule)
                .send()
                .await
                .unwrap();
            assert!(
                answer.status().is_success(),
                "{rule}: {}",
                answer.text().await.unwrap()
            );
        }
        let limit = Arc::new(tokio::sync::Semaphore::new(32));
        let mut tasks = tokio::task::JoinSet::new();
        for (invoice_id, amount, _) in batch.iter().cloned() {
            let client = client.clone();
            let (customer_no, account_token, limit) =
                (customer_no.clone(), account_token.clone(), limit.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire().await.unwrap();
                let result = client
                    .pay(
                        PayParams::builder()
                            .customer_no(customer_no)
                            .account_token(account_token)
                            .amount(amount)
                            .currency("USD")
                            .invoice_id(invoice_id.clone()),
                    )
                    .await;
                (invoice_id, result)
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (invoice_id, result) = done.unwrap();
            outcomes.insert(invoice_id, result);
        }
    }
    assert_eq!(outcomes.len(), PAYS);

    // Let the last requests (delayed ones) land before counting.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut payouts: BTreeMap<String, Vec<pockyt_sandbox::PayoutRecord>> = BTreeMap::new();
    for record in sandbox.payouts() {
        payouts
            .entry(record.invoice_id.clone())
            .or_default()
            .push(record);
    }
    let (mut paid, mut unknown, mut not_paid) = (0, 0, 0);
    let mut unknown_causes: BTreeMap<String, usize> = BTreeMap::new();
    for (invoice_id, amount, _) in &plan {
        let found = payouts
            .get(invoice_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert!(
            found.len() <= 1,
            "{invoice_id} was paid {} times",
            found.len()
        );
        match &outcomes[invoice_id] {
            Ok(payout) => {
                paid += 1;
                assert_eq!(
                    found.len(),
                    1,
                    "{invoice_id}: pay answered but the sandbox holds no payout"
                );
                assert_eq!(
                    payout.transaction_no.as_deref(),
                    Some(found[0].transaction_no.as_str())
                );
                assert_eq!(cents(payout.amount.as_deref().unwrap()), cents(amount));
            }
            // A definite failure: every attempt was answered and the API
            // holds no payout under this invoiceId; nothing was paid.
            Err(e) if e.code() != ErrorCode::PayoutOutcomeUnknown => {
                not_paid += 1;
                assert!(
                    found.is_empty(),
                    "{invoice_id}: pay failed definitely ({e}) but the sandbox holds a payout"
                );
            }
            Err(e) => {
                unknown += 1;
                assert_eq!(e.invoice_id(), Some(invoice_id.as_str()));
                let cause = std::error::Error::source(e)
                    .and_then(|c| c.downcast_ref::<pockyt_payouts::Error>())
                    .map_or("none".to_owned(), |c| c.code().to_string());
                *unknown_causes.entry(cause).or_default() += 1;
            }
        }
    }

    // Every payout settles to success (no failed/returned test values here);
    // the ledger then matches the sum of successful payouts.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let records = sandbox.payouts();
        if records.iter().all(|r| r.status == "success") {
            let paid_out: i64 = records.iter().map(|r| cents(&r.amount)).sum();
            let balance = cents(&sandbox.balance("USD").unwrap());
            assert_eq!(initial - balance, paid_out, "ledger");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "payouts did not settle"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("{PAYS} pays with {injected} injected faults: {paid} paid exactly once, {not_paid} definitely not paid, {unknown} PAYOUT_OUTCOME_UNKNOWN, 0 paid twice");
    println!("PAYOUT_OUTCOME_UNKNOWN by last failure: {unknown_causes:?}");
    assert!(
        paid > PAYS / 2,
        "the faults should not defeat most pays ({paid} paid)"
    );
    // With idempotency keys, resends and a settle by inquiry, at most 2 %
    // stay unknown; the plan still defeats some pays (the failure paths are
    // exercised, not skipped).
    assert!(
        unknown <= PAYS / 50,
        "{unknown} PAYOUT_OUTCOME_UNKNOWN (at most 2 % expected)"
    );
    assert!(unknown + not_paid > 0, "the plan should defeat some pays");
    sandbox.shutdown().await;
}
