//! Payout lifecycle, IPN delivery, the ledger, and concurrency.

mod common;

use std::time::Duration;

use common::{eventually, fast_config, invoice, start, Api, Receiver, TOKEN};
use pockyt_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

async fn pay_with_ipn(
    api: &Api,
    customer_no: &str,
    token: &str,
    amount: &str,
    invoice_id: &str,
    url: &str,
) -> Value {
    api.call(
        "/v3/payouts/pay",
        &[
            ("customerNo", customer_no),
            ("accountToken", token),
            ("amount", amount),
            ("currency", "USD"),
            ("invoiceId", invoice_id),
            ("ipnUrl", url),
        ],
    )
    .await
}

#[tokio::test]
async fn a_payout_settles_and_its_ipns_are_resent_until_the_receiver_says_success() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let receiver = Receiver::start(1).await;
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("life-");
    let answer = pay_with_ipn(
        &api,
        &customer_no,
        &token,
        "500",
        &invoice_id,
        &receiver.url,
    )
    .await;
    assert_eq!(answer["ret_code"], "000100", "{answer}");
    assert_eq!(answer["result"]["status"], "pending");
    let transaction_no = answer["result"]["transactionNo"]
        .as_str()
        .unwrap()
        .to_owned();

    eventually("the payout succeeds", 20, || async {
        api.status_of(&invoice_id).await == "success"
    })
    .await;
    eventually("three IPNs arrive", 20, || async {
        receiver.got().len() >= 3
    })
    .await;
    // Nothing more once the receiver said success to both.
    let got = receiver.got();
    assert_eq!(got.len(), 3, "{got:?}");
    let statuses: Vec<&str> = got.iter().map(|r| r.get("status").unwrap()).collect();
    assert_eq!(statuses, ["pending", "pending", "success"]);
    for ipn in &got {
        assert!(
            ipn.verified,
            "IPN signature verifies with the token: {ipn:?}"
        );
        let names: Vec<&str> = ipn.fields.iter().map(|(k, _)| k.as_str()).collect();
        for name in [
            "merchantNo",
            "storeNo",
            "transactionNo",
            "reference",
            "status",
            "amount",
            "currency",
            "settleCurrency",
            "customerNo",
            "time",
            "verifySign",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        assert_eq!(ipn.get("transactionNo"), Some(transaction_no.as_str()));
        assert_eq!(ipn.get("reference"), Some(invoice_id.as_str()));
        assert_eq!(ipn.get("amount"), Some("500.00"));
        assert_eq!(ipn.get("settleCurrency"), Some("USD"));
        assert_eq!(ipn.get("customerNo"), Some(customer_no.as_str()));
        assert_eq!(ipn.get("merchantNo"), Some("202333"));
        let time = ipn.get("time").unwrap();
        assert!(
            time.len() == 14 && time.bytes().all(|b| b.is_ascii_digit()),
            "{time}"
        );
        // Tampering breaks the signature.
        let mut forged = ipn.fields.clone();
        for (k, v) in &mut forged {
            if k == "amount" {
                *v = "5000.00".into();
            }
        }
        assert!(!pockyt_payouts_sign::verify(forged, TOKEN));
    }

    let log = sandbox.ipn_log();
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!((log[0].attempt, log[0].answered_success), (1, false));
    assert_eq!(log[0].http_status, Some(200));
    assert_eq!(log[0].answer.as_deref(), Some("fail"));
    assert_eq!(
        log[0].resend_reason.as_deref(),
        Some("answered `fail`, expected `success`")
    );
    assert_eq!(log[1].answer.as_deref(), Some("success"));
    assert_eq!(log[1].resend_reason, None);
    assert_eq!((log[1].attempt, log[1].answered_success), (2, true));
    assert_eq!((log[2].attempt, log[2].answered_success), (1, true));
    assert_eq!(log[2].field("status"), Some("success"));
    assert!(log
        .iter()
        .all(|d| d.url == receiver.url && d.error.is_none()));
    assert_eq!(sandbox.payouts()[0].status, "success");
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999500.00"));
}

#[tokio::test]
async fn an_unreachable_receiver_gets_every_try_then_no_more() {
    let config = SandboxConfig {
        ipn_retry_delays: vec![Duration::ZERO; 12],
        ..fast_config()
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    let api = Api::new(&sandbox);
    // A port that was free a moment ago: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/ipn", listener.local_addr().unwrap())
    };
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-unreachable-");
    pay_with_ipn(&api, &customer_no, &token, "1", &invoice_id, &closed).await;
    eventually("eight tries are logged", 20, || async {
        sandbox.ipn_log().len() >= 8
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = sandbox.ipn_log();
    assert_eq!(log.len(), 8, "at most 8 tries");
    let attempts: Vec<u32> = log.iter().map(|d| d.attempt).collect();
    assert_eq!(attempts, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(log
        .iter()
        .all(|d| d.http_status.is_none() && d.error.is_some() && !d.answered_success));
}

#[tokio::test]
async fn test_values_choose_the_final_status_and_the_ledger_follows() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let cases = [
        (invoice("failed-"), "100", "failed"),
        (invoice("RETURNED-"), "200", "returned"),
        (invoice("ok-"), "300", "success"),
        (invoice("Pending-"), "400", "pending"),
    ];
    for (invoice_id, amount, _) in &cases {
        let answer = api.pay(&customer_no, &token, amount, invoice_id).await;
        assert_eq!(answer["result"]["status"], "pending", "{answer}");
    }
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999000.00"));
    for (invoice_id, _, status) in &cases[..3] {
        eventually(&format!("{invoice_id} becomes {status}"), 20, || async {
            api.status_of(invoice_id).await == *status
        })
        .await;
    }
    // Settled together with the others, the pending test value did not move.
    assert_eq!(api.status_of(&cases[3].0).await, "pending");
    // failed and returned gave their funds back: 300 (success) + 400 (pending) held.
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999300.00"));
    let answer = api.ok("/v3/payouts/balance", &[("currency", "USD")]).await;
    assert_eq!(answer["balance"]["amount"], "999300.00");
}

#[tokio::test]
async fn two_hundred_concurrent_pays_are_all_booked_exactly_once() {
    let sandbox = start().await;
    let api = std::sync::Arc::new(Api::new(&sandbox));
    let (customer_no, token) = api.payee().await;
    let repeated = invoice("pending-same-");
    // The repeats of one pay share its idempotency key (without one, the
    // identical repeats would be refused as duplicates).
    let repeated_key = common::key("repeated");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..250 {
        let api = std::sync::Arc::clone(&api);
        let (customer_no, token) = (customer_no.clone(), token.clone());
        let (invoice_id, request_id) = if i % 5 == 0 {
            (repeated.clone(), repeated_key.clone())
        } else {
            (format!("pending-conc-{i}"), format!("conc-{i}"))
        };
        tasks.spawn(async move {
            api.pay_keyed(&customer_no, &token, "1.25", &invoice_id, &request_id)
                .await
        });
    }
    let mut repeated_transactions = std::collections::HashSet::new();
    while let Some(answer) = tasks.join_next().await {
        let answer = answer.unwrap();
        assert_eq!(answer["ret_code"], "000100", "{answer}");
        if answer["result"]["invoiceId"] == repeated.as_str() {
            repeated_transactions.insert(
                answer["result"]["transactionNo"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    assert_eq!(
        repeated_transactions.len(),
        1,
        "one payout for the repeated invoiceId"
    );
    let payouts = sandbox.payouts();
    assert_eq!(payouts.len(), 201);
    // 201 payouts of 1.25 held.
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999748.75"));
}

#[tokio::test]
async fn concurrent_pays_never_overdraw_the_balance() {
    let config = SandboxConfig {
        balances: [("USD".to_owned(), "10.00".to_owned())]
            .into_iter()
            .collect(),
        ..fast_config()
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    let api = std::sync::Arc::new(Api::new(&sandbox));
    let (customer_no, token) = api.payee().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..60 {
        let api = std::sync::Arc::clone(&api);
        let (customer_no, token) = (customer_no.clone(), token.clone());
        tasks.spawn(async move {
            api.pay(&customer_no, &token, "1", &format!("pending-od-{i}"))
                .await
        });
    }
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    while let Some(answer) = tasks.join_next().await {
        let answer = answer.unwrap();
        *codes
            .entry(answer["ret_code"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(codes.get("000100"), Some(&10), "{codes:?}");
    assert_eq!(codes.get("000040"), Some(&50), "{codes:?}");
    assert_eq!(sandbox.balance("USD").as_deref(), Some("0.00"));
    assert_eq!(sandbox.payouts().len(), 10);
}

#[tokio::test]
async fn an_ipn_is_replayed_on_demand_as_the_api_resends_it() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let receiver = Receiver::start(0).await;
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("replay-");
    pay_with_ipn(&api, &customer_no, &token, "7", &invoice_id, &receiver.url).await;
    eventually("the payout succeeds and both IPNs arrive", 20, || async {
        receiver.got().len() >= 2
    })
    .await;
    assert!(sandbox.resend_ipn(&invoice_id));
    assert!(!sandbox.resend_ipn("no-such-invoice"));
    let http = reqwest::Client::new();
    let answer = http
        .post(format!(
            "{}/_sandbox/payouts/{invoice_id}/resend-ipn",
            sandbox.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    eventually("both replays arrive", 20, || async {
        receiver.got().len() >= 4
    })
    .await;
    let got = receiver.got();
    assert_eq!(got[2].get("status"), Some("success"));
    assert_eq!(got[2].get("transactionNo"), got[1].get("transactionNo"));
    assert!(got.iter().all(|ipn| ipn.verified));
    let log: Value = http
        .get(format!("{}/_sandbox/ipn-log", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = log
        .as_array()
        .and_then(|l| l.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["answer"], "success", "{log}");
    assert_eq!(last["resendReason"], Value::Null, "{log}");
}
