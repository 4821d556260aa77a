//! The `/_sandbox/` admin endpoints and the library's snapshot methods.

mod common;

use common::{eventually, invoice, start, Api, Receiver};
use serde_json::json;

#[tokio::test]
async fn state_shows_payees_accounts_payouts_and_balances() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-state-");
    api.pay(&customer_no, &token, "7.5", &invoice_id).await;

    let (status, state) = api.admin_get("/_sandbox/state").await;
    assert_eq!(status, 200);
    assert_eq!(state["merchantNo"], "202333");
    assert_eq!(state["payees"][0]["customerNo"], customer_no.as_str());
    assert_eq!(state["payees"][0]["email"], "john.doe@example.com");
    assert_eq!(state["accounts"][0]["accountToken"], token.as_str());
    assert_eq!(state["accounts"][0]["customerNo"], customer_no.as_str());
    assert_eq!(state["accounts"][0]["cardNumber"], "****3298");
    assert_eq!(state["payouts"][0]["invoiceId"], invoice_id.as_str());
    assert_eq!(state["payouts"][0]["amount"], "7.50");
    assert_eq!(state["payouts"][0]["status"], "pending");
    assert_eq!(state["balances"], json!({ "USD": "999992.50" }));
    assert_eq!(sandbox.state_json(), state);
}

#[tokio::test]
async fn forcing_a_status_moves_the_ledger_and_sends_the_ipn() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let receiver = Receiver::start(0).await;
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-forced-");
    api.call(
        "/v3/payouts/pay",
        &[
            ("customerNo", &customer_no),
            ("accountToken", &token),
            ("amount", "100"),
            ("currency", "USD"),
            ("invoiceId", &invoice_id),
            ("ipnUrl", &receiver.url),
        ],
    )
    .await;
    let path = format!("/_sandbox/payouts/{invoice_id}/status");

    let (status, body) = api.admin_post(&path, json!({ "status": "returned" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["payout"]["status"], "returned");
    assert_eq!(api.status_of(&invoice_id).await, "returned");
    assert_eq!(sandbox.balance("USD").as_deref(), Some("1000000.00"));

    let (status, _) = api.admin_post(&path, json!({ "status": "SUCCESS" })).await;
    assert_eq!(status, 200);
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999900.00"));
    assert_eq!(sandbox.payouts()[0].status, "success");

    eventually("pending, returned and success IPNs arrive", 20, || async {
        receiver.got().len() >= 3
    })
    .await;
    let statuses: Vec<String> = receiver
        .got()
        .iter()
        .map(|r| r.get("status").unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["pending", "returned", "success"]);
    assert!(receiver.got().iter().all(|r| r.verified));

    // Holding the funds again needs the balance.
    api.admin_post(&path, json!({ "status": "failed" })).await;
    let (status, _) = api
        .admin_post("/_sandbox/balances", json!({ "USD": "99.99" }))
        .await;
    assert_eq!(status, 200);
    let (status, body) = api.admin_post(&path, json!({ "status": "pending" })).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(api.status_of(&invoice_id).await, "failed");
    assert_eq!(sandbox.balance("USD").as_deref(), Some("99.99"));

    let (status, _) = api.admin_post(&path, json!({ "status": "lost" })).await;
    assert_eq!(status, 400);
    let (status, _) = api
        .admin_post(
            "/_sandbox/payouts/nobody/status",
            json!({ "status": "success" }),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = api.admin_post(&path, json!({ "state": "success" })).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_forced_status_cancels_the_pending_settle() {
    // Long enough for the forced status to come first.
    let config = pockyt_sandbox::SandboxConfig {
        settle_delay: std::time::Duration::from_secs(1),
        ..common::fast_config()
    };
    let sandbox = pockyt_sandbox::Sandbox::start(config).await.unwrap();
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let forced = invoice("forced-");
    let control = invoice("control-");
    api.pay(&customer_no, &token, "1", &forced).await;
    api.pay(&customer_no, &token, "1", &control).await;
    let (status, _) = api
        .admin_post(
            &format!("/_sandbox/payouts/{forced}/status"),
            json!({ "status": "failed" }),
        )
        .await;
    assert_eq!(status, 200);
    eventually("the control payout settles", 20, || async {
        api.status_of(&control).await == "success"
    })
    .await;
    assert_eq!(api.status_of(&forced).await, "failed");
}

#[tokio::test]
async fn the_ipn_log_endpoint_matches_the_library() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let receiver = Receiver::start(0).await;
    let (customer_no, token) = api.payee().await;
    api.call(
        "/v3/payouts/pay",
        &[
            ("customerNo", &customer_no),
            ("accountToken", &token),
            ("amount", "3"),
            ("currency", "USD"),
            ("invoiceId", &invoice("pending-log-")),
            ("ipnUrl", &receiver.url),
        ],
    )
    .await;
    eventually("one IPN is logged", 20, || async {
        !sandbox.ipn_log().is_empty()
    })
    .await;
    let (status, log) = api.admin_get("/_sandbox/ipn-log").await;
    assert_eq!(status, 200);
    let entries = log.as_array().unwrap();
    let library = sandbox.ipn_log();
    assert_eq!(entries.len(), library.len());
    assert_eq!(entries[0]["url"], receiver.url.as_str());
    assert_eq!(entries[0]["attempt"], 1);
    assert_eq!(entries[0]["httpStatus"], 200);
    assert_eq!(entries[0]["answeredSuccess"], true);
    assert_eq!(entries[0]["fields"]["status"], "pending");
    assert_eq!(
        entries[0]["fields"]["verifySign"],
        library[0].field("verifySign").unwrap()
    );
}

#[tokio::test]
async fn balances_can_be_set_and_bad_ones_are_refused() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (status, body) = api
        .admin_post("/_sandbox/balances", json!({ "USD": "100.00", "EUR": "5" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["balances"], json!({ "EUR": "5.00", "USD": "100.00" }));
    assert_eq!(sandbox.balance("EUR").as_deref(), Some("5.00"));
    let answer = api.ok("/v3/payouts/balance", &[("currency", "EUR")]).await;
    assert_eq!(answer["balance"]["amount"], "5.00");

    for bad in [
        json!({ "usd": "1" }),
        json!({ "USD": "-1" }),
        json!({ "USD": 1 }),
        json!(["USD"]),
    ] {
        let (status, body) = api.admin_post("/_sandbox/balances", bad.clone()).await;
        assert_eq!(status, 400, "{bad} -> {body}");
    }
    let (_, body) = api.admin_get("/_sandbox/balances").await;
    assert_eq!(body["balances"], json!({ "EUR": "5.00", "USD": "100.00" }));
}

#[tokio::test]
async fn reset_forgets_everything() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("reset-");
    api.pay(&customer_no, &token, "10", &invoice_id).await;
    api.admin_post(
        "/_sandbox/faults",
        json!({ "fault": "drop", "operation": "inquire_payout" }),
    )
    .await;
    let (status, _) = api.admin_post("/_sandbox/reset", json!({})).await;
    assert_eq!(status, 200);
    let (_, state) = api.admin_get("/_sandbox/state").await;
    assert_eq!(state["payees"], json!([]));
    assert_eq!(state["accounts"], json!([]));
    assert_eq!(state["payouts"], json!([]));
    assert_eq!(state["faults"], json!([]));
    assert_eq!(state["balances"], json!({ "USD": "1000000.00" }));
    assert!(sandbox.payouts().is_empty());
    assert_eq!(api.inquire(&invoice_id).await["ret_code"], "000021");
    assert_eq!(
        api.call("/v3/payee/retrieve", &[("customerNo", &customer_no)])
            .await["ret_code"],
        "000021"
    );

    // The library's reset does the same, and the invoiceId can be reused.
    let (customer_no, token) = api.payee().await;
    api.pay(&customer_no, &token, "10", &invoice_id).await;
    assert_eq!(sandbox.payouts().len(), 1);
    sandbox.reset();
    assert!(sandbox.payouts().is_empty());
    assert!(sandbox.ipn_log().is_empty());
    assert_eq!(sandbox.balance("USD").as_deref(), Some("1000000.00"));
}

#[tokio::test]
async fn admin_endpoints_need_no_signature_but_the_api_does() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (status, _) = api.admin_get("/_sandbox/state").await;
    assert_eq!(status, 200);
    let response = api
        .post_json("/v3/payouts/balance", &json!({ "currency": "USD" }))
        .await;
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["ret_code"], "000020");
}
