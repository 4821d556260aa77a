//! Idempotency keys (`Pockyt-Request-ID`): replay after success, normal
//! processing after a refusal, waiting for a request in flight, a key
//! reused with other parameters, the no-key duplicate pay, malformed keys,
//! expiry and the per-merchant cap, and how faults interact with keys.

mod common;

use std::time::Duration;

use common::{eventually, fast_config, invoice, key, start, Api};
use pockyt_sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

const REGISTER: &str = "/v3/payee/register";

fn register_params() -> [(&'static str, &'static str); 4] {
    [
        ("profileType", "INDIVIDUAL"),
        ("dateOfBirth", "1999-01-01"),
        ("firstName", "Ada"),
        ("lastName", "Lovelace"),
    ]
}

fn payee_count(sandbox: &Sandbox) -> usize {
    sandbox.state_json()["payees"].as_array().unwrap().len()
}

/// The log entries of requests sent with `request_id`, oldest first.
async fn logged(api: &Api, request_id: &str) -> Vec<Value> {
    api.requests()
        .await
        .into_iter()
        .filter(|r| r["requestId"] == request_id)
        .collect()
}

async fn kept_keys(api: &Api) -> u64 {
    let (_, state) = api.admin_get("/_sandbox/state").await;
    state["requestIdsKept"].as_u64().unwrap()
}

#[tokio::test]
async fn a_repeated_register_with_its_key_is_replayed_and_creates_one_payee() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let request_id = key("register");
    let first = api
        .call_keyed(REGISTER, &register_params(), &request_id)
        .await;
    assert_eq!(first["ret_code"], "000100", "{first}");
    let again = api
        .call_keyed(REGISTER, &register_params(), &request_id)
        .await;
    assert_eq!(again, first, "the original answer, exactly");
    assert_eq!(payee_count(&sandbox), 1);

    let log = logged(&api, &request_id).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["replayed"], false);
    assert_eq!(log[1]["replayed"], true);
    assert_eq!(log[1]["operation"], "register_payee");
    assert_eq!(log[1]["retCode"], "000100");

    // Without a key, an identical register is a new payee (the duplicate
    // check is for pay only).
    api.ok(REGISTER, &register_params()).await;
    api.ok(REGISTER, &register_params()).await;
    assert_eq!(payee_count(&sandbox), 3);
}

#[tokio::test]
async fn a_repeated_pay_with_its_key_books_once() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-keyed-");
    let request_id = key("pay");
    let first = api
        .pay_keyed(&customer_no, &token, "25.50", &invoice_id, &request_id)
        .await;
    assert_eq!(first["ret_code"], "000100", "{first}");
    let again = api
        .pay_keyed(&customer_no, &token, "25.50", &invoice_id, &request_id)
        .await;
    assert_eq!(again, first);
    assert_eq!(sandbox.payouts().len(), 1);
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999974.50"));

    // A new key for the same payout (same invoiceId and details) answers
    // the existing payout: a pay is idempotent by invoiceId too.
    let other_key = api
        .pay_keyed(&customer_no, &token, "25.50", &invoice_id, &key("pay2"))
        .await;
    assert_eq!(other_key["ret_code"], "000100", "{other_key}");
    assert_eq!(
        other_key["result"]["transactionNo"],
        first["result"]["transactionNo"]
    );
    assert_eq!(sandbox.payouts().len(), 1);
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999974.50"));
}

#[tokio::test]
async fn after_a_refusal_the_repeat_is_processed_normally() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let (status, _) = api
        .admin_post("/_sandbox/balances", json!({ "USD": "5.00" }))
        .await;
    assert_eq!(status, 200);
    let invoice_id = invoice("pending-refused-");
    let request_id = key("refused");
    let refused = api
        .pay_keyed(&customer_no, &token, "10", &invoice_id, &request_id)
        .await;
    assert_eq!(refused["ret_code"], "000040", "{refused}");
    assert_eq!(kept_keys(&api).await, 0, "a refusal is not kept");

    api.admin_post("/_sandbox/balances", json!({ "USD": "100.00" }))
        .await;
    let retried = api
        .pay_keyed(&customer_no, &token, "10", &invoice_id, &request_id)
        .await;
    assert_eq!(retried["ret_code"], "000100", "{retried}");
    assert_eq!(sandbox.payouts().len(), 1);
    assert_eq!(sandbox.balance("USD").as_deref(), Some("90.00"));
    let log = logged(&api, &request_id).await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|r| r["replayed"] == false), "{log:?}");
}

#[tokio::test]
async fn a_repeat_while_the_first_is_in_flight_waits_and_replays() {
    let sandbox = start().await;
    let api = std::sync::Arc::new(Api::new(&sandbox));
    let request_id = key("inflight");
    let first = {
        let api = std::sync::Arc::clone(&api);
        let request_id = request_id.clone();
        tokio::spawn(async move {
            api.call_with(
                REGISTER,
                &register_params(),
                &[
                    ("Pockyt-Request-ID", request_id.as_str()),
                    ("x-sandbox-fault", "delay=1500"),
                ],
            )
            .await
        })
    };
    // The key is taken as soon as the first request arrives, before its
    // delay.
    eventually("the first request holds its key", 10, || async {
        kept_keys(&api).await == 1
    })
    .await;
    assert_eq!(payee_count(&sandbox), 0, "the first is still delayed");
    let second = api
        .call_keyed(REGISTER, &register_params(), &request_id)
        .await;
    let first = first.await.unwrap();
    assert_eq!(first["ret_code"], "000100", "{first}");
    assert_eq!(second, first);
    assert_eq!(payee_count(&sandbox), 1);
    let log = logged(&api, &request_id).await;
    let replayed: Vec<bool> = log.iter().map(|r| r["replayed"] == true).collect();
    assert_eq!(replayed.iter().filter(|r| **r).count(), 1, "{log:?}");
}

#[tokio::test]
async fn a_repeat_waits_for_the_first_at_most_idempotency_wait() {
    let sandbox = Sandbox::start(SandboxConfig {
        idempotency_wait: Duration::from_millis(100),
        ..fast_config()
    })
    .await
    .unwrap();
    let api = std::sync::Arc::new(Api::new(&sandbox));
    let request_id = key("slow");
    let first = {
        let api = std::sync::Arc::clone(&api);
        let request_id = request_id.clone();
        tokio::spawn(async move {
            api.call_with(
                REGISTER,
                &register_params(),
                &[
                    ("Pockyt-Request-ID", request_id.as_str()),
                    ("x-sandbox-fault", "delay=3000"),
                ],
            )
            .await
        })
    };
    eventually("the first request holds its key", 10, || async {
        kept_keys(&api).await == 1
    })
    .await;
    let waited = api
        .call_keyed(REGISTER, &register_params(), &request_id)
        .await;
    assert_eq!(waited["ret_code"], "000000", "{waited}");
    assert!(waited["ret_msg"]
        .as_str()
        .unwrap()
        .contains("Pockyt-Request-ID still in progress"));
    let first = first.await.unwrap();
    assert_eq!(first["ret_code"], "000100");
    let later = api
        .call_keyed(REGISTER, &register_params(), &request_id)
        .await;
    assert_eq!(later, first);
    assert_eq!(payee_count(&sandbox), 1);
}

#[tokio::test]
async fn a_key_used_with_other_parameters_is_refused() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let request_id = key("reused");
    let first = api
        .call_keyed(REGISTER, &register_params(), &request_id)
        .await;
    assert_eq!(first["ret_code"], "000100");
    let customer_no = first["customer"]["customerNo"].as_str().unwrap();

    let mut other = register_params().to_vec();
    other[2] = ("firstName", "Grace");
    let other_params = api.call_keyed(REGISTER, &other, &request_id).await;
    assert_eq!(other_params["ret_code"], "000022", "{other_params}");
    assert!(other_params["ret_msg"]
        .as_str()
        .unwrap()
        .contains("already used with other parameters"));

    let other_operation = api
        .call_keyed(
            "/v3/payee/update",
            &[("customerNo", customer_no), ("firstName", "Grace")],
            &request_id,
        )
        .await;
    assert_eq!(other_operation["ret_code"], "000022", "{other_operation}");
    assert_eq!(payee_count(&sandbox), 1);
    let (_, state) = api.admin_get("/_sandbox/state").await;
    assert_eq!(state["payees"][0]["firstName"], "Ada", "no update happened");

    // The timestamp and signature are not part of the parameters: a
    // resend signed later is the same request.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let resent = api
        .call_keyed(REGISTER, &register_params(), &request_id)
        .await;
    assert_eq!(resent, first);
}

#[tokio::test]
async fn an_identical_pay_without_a_key_is_a_duplicate_request() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-dup-");
    let first = api.pay(&customer_no, &token, "10", &invoice_id).await;
    assert_eq!(first["ret_code"], "000100");
    let duplicate = api.pay(&customer_no, &token, "10", &invoice_id).await;
    assert_eq!(duplicate["ret_code"], "000023", "{duplicate}");
    assert!(duplicate["ret_msg"]
        .as_str()
        .unwrap()
        .starts_with("Duplicate request"));
    assert!(duplicate.get("result").is_none());
    assert_eq!(sandbox.payouts().len(), 1);
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999990.00"));

    // Not identical (the amount spelled otherwise): the same payout by
    // invoiceId, answered as before.
    let same_payout = api.pay(&customer_no, &token, "10.00", &invoice_id).await;
    assert_eq!(same_payout["ret_code"], "000100", "{same_payout}");
    assert_eq!(
        same_payout["result"]["transactionNo"],
        first["result"]["transactionNo"]
    );

    // A refused pay is not remembered: its identical repeat is processed.
    api.admin_post("/_sandbox/balances", json!({ "USD": "1.00" }))
        .await;
    let poor = invoice("pending-poor-");
    let refused = api.pay(&customer_no, &token, "5", &poor).await;
    assert_eq!(refused["ret_code"], "000040");
    api.admin_post("/_sandbox/balances", json!({ "USD": "100.00" }))
        .await;
    let processed = api.pay(&customer_no, &token, "5", &poor).await;
    assert_eq!(processed["ret_code"], "000100", "{processed}");
    assert_eq!(sandbox.payouts().len(), 2);
}

#[tokio::test]
async fn a_duplicate_is_remembered_for_duplicate_window_only() {
    let sandbox = Sandbox::start(SandboxConfig {
        duplicate_window: Duration::from_millis(200),
        ..fast_config()
    })
    .await
    .unwrap();
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-window-");
    let first = api.pay(&customer_no, &token, "10", &invoice_id).await;
    assert_eq!(first["ret_code"], "000100");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later = api.pay(&customer_no, &token, "10", &invoice_id).await;
    assert_eq!(later["ret_code"], "000100", "{later}");
    assert_eq!(
        later["result"]["transactionNo"],
        first["result"]["transactionNo"]
    );
    assert_eq!(sandbox.payouts().len(), 1);
}

#[tokio::test]
async fn malformed_keys_are_refused_with_000023() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let too_long = "k".repeat(65);
    for bad in ["", too_long.as_str(), "has space", "slash/", "semi;colon"] {
        let answer = api.call_keyed(REGISTER, &register_params(), bad).await;
        assert_eq!(answer["ret_code"], "000023", "{bad:?}: {answer}");
        assert!(
            answer["ret_msg"]
                .as_str()
                .unwrap()
                .contains("Pockyt-Request-ID"),
            "{answer}"
        );
    }
    assert_eq!(payee_count(&sandbox), 0);
    let longest = "Az09-_.:".repeat(8);
    let answer = api.call_keyed(REGISTER, &register_params(), &longest).await;
    assert_eq!(answer["ret_code"], "000100", "{answer}");
}

#[tokio::test]
async fn keys_expire_after_idempotency_ttl() {
    let sandbox = Sandbox::start(SandboxConfig {
        idempotency_ttl: Duration::from_millis(200),
        ..fast_config()
    })
    .await
    .unwrap();
    let api = Api::new(&sandbox);
    let request_id = key("ttl");
    let first = api
        .call_keyed(REGISTER, &register_params(), &request_id)
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = api
        .call_keyed(REGISTER, &register_params(), &request_id)
        .await;
    assert_eq!(second["ret_code"], "000100");
    assert_ne!(
        second["customer"]["customerNo"], first["customer"]["customerNo"],
        "an expired key is new again"
    );
    assert_eq!(payee_count(&sandbox), 2);
}

#[tokio::test]
async fn at_most_idempotency_max_keys_are_kept_oldest_dropped_first() {
    let sandbox = Sandbox::start(SandboxConfig {
        idempotency_max_keys: 2,
        ..fast_config()
    })
    .await
    .unwrap();
    let api = Api::new(&sandbox);
    let keys = [key("cap"), key("cap"), key("cap")];
    let mut answers = Vec::new();
    for request_id in &keys {
        answers.push(
            api.call_keyed(REGISTER, &register_params(), request_id)
                .await,
        );
    }
    assert_eq!(kept_keys(&api).await, 2);
    let newest = api.call_keyed(REGISTER, &register_params(), &keys[2]).await;
    assert_eq!(newest, answers[2], "the newest key is kept");
    let oldest = api.call_keyed(REGISTER, &register_params(), &keys[0]).await;
    assert_eq!(oldest["ret_code"], "000100");
    assert_ne!(
        oldest["customer"]["customerNo"], answers[0]["customer"]["customerNo"],
        "the oldest key was dropped"
    );
    assert_eq!(payee_count(&sandbox), 4);
    assert_eq!(kept_keys(&api).await, 2);
}

#[tokio::test]
async fn a_fault_after_the_commit_keeps_the_answer_and_one_before_keeps_nothing() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let pay = |invoice_id: &str| {
        api.signed(&[
            ("customerNo", customer_no.as_str()),
            ("accountToken", token.as_str()),
            ("amount", "10"),
            ("currency", "USD"),
            ("invoiceId", invoice_id),
        ])
    };
    for fault in ["drop", "http_500_after_commit", "malformed"] {
        let invoice_id = invoice("pending-after-");
        let request_id = key(fault);
        let sent = api
            .http
            .post(format!("{}/v3/payouts/pay", api.base))
            .header("Pockyt-Request-ID", &request_id)
            .header("x-sandbox-fault", fault)
            .json(&pay(&invoice_id))
            .send()
            .await;
        if let Ok(response) = sent {
            let _ = response.text().await;
        }
        let resent = api
            .pay_keyed(&customer_no, &token, "10", &invoice_id, &request_id)
            .await;
        assert_eq!(resent["ret_code"], "000100", "{fault}: {resent}");
        assert_eq!(resent["result"]["invoiceId"], invoice_id.as_str());
        let log = logged(&api, &request_id).await;
        assert_eq!(log.len(), 2, "{log:?}");
        assert_eq!(log[0]["fault"], fault);
        assert_eq!(log[1]["replayed"], true, "{fault}");
    }
    assert_eq!(sandbox.payouts().len(), 3);
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999970.00"));

    for fault in ["http_503", "ret_000080"] {
        let invoice_id = invoice("pending-before-");
        let request_id = key(fault);
        let kept = kept_keys(&api).await;
        let response = api
            .http
            .post(format!("{}/v3/payouts/pay", api.base))
            .header("Pockyt-Request-ID", &request_id)
            .header("x-sandbox-fault", fault)
            .json(&pay(&invoice_id))
            .send()
            .await
            .unwrap();
        let _ = response.text().await;
        assert_eq!(kept_keys(&api).await, kept, "{fault}: nothing kept");
        let resent = api
            .pay_keyed(&customer_no, &token, "10", &invoice_id, &request_id)
            .await;
        assert_eq!(resent["ret_code"], "000100", "{fault}: {resent}");
        let log = logged(&api, &request_id).await;
        assert_eq!(
            log[1]["replayed"], false,
            "{fault}: processed, not replayed"
        );
    }
    assert_eq!(sandbox.payouts().len(), 5);
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999950.00"));
}

#[tokio::test]
async fn read_only_operations_are_never_replayed_and_reset_forgets_keys() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let request_id = key("read");
    for _ in 0..2 {
        api.call_keyed("/v3/payouts/balance", &[("currency", "USD")], &request_id)
            .await;
    }
    let log = logged(&api, &request_id).await;
    assert!(log.iter().all(|r| r["replayed"] == false), "{log:?}");
    assert_eq!(kept_keys(&api).await, 0);

    let register_key = key("reset");
    let first = api
        .call_keyed(REGISTER, &register_params(), &register_key)
        .await;
    api.admin_post("/_sandbox/reset", json!({})).await;
    assert_eq!(kept_keys(&api).await, 0);
    assert!(api.requests().await.is_empty());
    let after = api
        .call_keyed(REGISTER, &register_params(), &register_key)
        .await;
    assert_ne!(
        after["customer"]["customerNo"],
        first["customer"]["customerNo"]
    );
}
