//! Every fault kind, chosen by header, by admin rule and by test value;
//! none of them ever books a payout twice or breaks the ledger.

mod common;

use common::{eventually, invoice, key, object, start, Api};
use serde_json::{json, Value};

/// Pays with an `x-sandbox-fault` header; answers the raw result.
async fn pay_with_fault(
    api: &Api,
    customer_no: &str,
    token: &str,
    invoice_id: &str,
    fault: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    let body = api.signed(&[
        ("customerNo", customer_no),
        ("accountToken", token),
        ("amount", "10"),
        ("currency", "USD"),
        ("invoiceId", invoice_id),
    ]);
    api.http
        .post(format!("{}/v3/payouts/pay", api.base))
        .header("x-sandbox-fault", fault)
        .json(&body)
        .send()
        .await
}

/// Exactly the payouts with these invoiceIds exist, and the balance holds
/// 10.00 for each of them.
fn assert_booked(sandbox: &pockyt_sandbox::Sandbox, invoices: &[&str]) {
    let payouts = sandbox.payouts();
    let mut booked: Vec<&str> = payouts.iter().map(|p| p.invoice_id.as_str()).collect();
    booked.sort_unstable();
    let mut expected = invoices.to_vec();
    expected.sort_unstable();
    assert_eq!(booked, expected);
    let cents = 100_000_000 - 1_000 * i64::try_from(invoices.len()).unwrap();
    assert_eq!(
        sandbox.balance("USD").unwrap(),
        format!("{}.{:02}", cents / 100, cents % 100)
    );
}

#[tokio::test]
async fn delay_waits_then_processes() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-delay-");
    let response = pay_with_fault(&api, &customer_no, &token, &invoice_id, "delay=300")
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["ret_code"], "000100", "{answer}");
    assert_booked(&sandbox, &[&invoice_id]);
}

#[tokio::test]
async fn a_delayed_request_still_commits_after_its_client_gave_up() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-gave-up-");
    let body = api.signed(&[
        ("customerNo", &customer_no),
        ("accountToken", &token),
        ("amount", "10"),
        ("currency", "USD"),
        ("invoiceId", &invoice_id),
    ]);
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_millis(200))
        .build()
        .unwrap();
    let error = impatient
        .post(format!("{}/v3/payouts/pay", api.base))
        .header("x-sandbox-fault", "delay=800")
        .json(&body)
        .send()
        .await
        .expect_err("the client gives up first");
    assert!(error.is_timeout(), "{error}");
    assert!(sandbox.payouts().is_empty(), "not committed yet");
    // Like a slow server, the sandbox finishes the work anyway.
    eventually("the late payout is committed", 10, || async {
        !sandbox.payouts().is_empty()
    })
    .await;
    assert_booked(&sandbox, &[&invoice_id]);
}

#[tokio::test]
async fn delay_after_commits_before_it_answers() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-delay-after-");
    let request = pay_with_fault(&api, &customer_no, &token, &invoice_id, "delay_after=3000");
    let watch = async {
        // The payout exists while the answer is still held back.
        eventually("the payout is committed", 20, || async {
            !sandbox.payouts().is_empty()
        })
        .await;
    };
    let (response, ()) = tokio::join!(request, watch);
    let answer: Value = response.unwrap().json().await.unwrap();
    assert_eq!(answer["ret_code"], "000100", "{answer}");
    assert_booked(&sandbox, &[&invoice_id]);
}

#[tokio::test]
async fn drop_commits_then_closes_the_connection_without_an_answer() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-drop-");
    let error = pay_with_fault(&api, &customer_no, &token, &invoice_id, "drop")
        .await
        .expect_err("no HTTP answer");
    assert!(!error.is_timeout(), "{error}");
    assert!(error.status().is_none());
    assert_booked(&sandbox, &[&invoice_id]);
    // Reconciliation finds it, and a retry books nothing more.
    let found = api.inquire(&invoice_id).await;
    assert_eq!(found["ret_code"], "000100");
    let retry = api.pay(&customer_no, &token, "10.00", &invoice_id).await;
    assert_eq!(retry["ret_code"], "000100");
    assert_eq!(
        retry["result"]["transactionNo"],
        found["result"]["transactionNo"]
    );
    assert_booked(&sandbox, &[&invoice_id]);
}

#[tokio::test]
async fn http_errors_answer_without_processing() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    for (fault, status) in [("http_500", 500), ("http_502", 502), ("http_503", 503)] {
        let invoice_id = invoice("pending-http-");
        let response = pay_with_fault(&api, &customer_no, &token, &invoice_id, fault)
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        let text = response.text().await.unwrap();
        assert!(text.contains(fault), "{text}");
        assert_eq!(api.inquire(&invoice_id).await["ret_code"], "000021");
    }
    assert_booked(&sandbox, &[]);
}

#[tokio::test]
async fn http_500_after_commit_and_malformed_process_first() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let after_commit = invoice("pending-500-");
    let response = pay_with_fault(
        &api,
        &customer_no,
        &token,
        &after_commit,
        "http_500_after_commit",
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 500);

    let malformed = invoice("pending-malformed-");
    let response = pay_with_fault(&api, &customer_no, &token, &malformed, "malformed")
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "not JSON: {text}"
    );
    assert!(text.contains("000100"));

    assert_booked(&sandbox, &[&after_commit, &malformed]);
    for invoice_id in [&after_commit, &malformed] {
        // An identical resend without a key is a duplicate; with another
        // amount spelling it is the same payout by invoiceId.
        let duplicate = api.pay(&customer_no, &token, "10", invoice_id).await;
        assert_eq!(duplicate["ret_code"], "000023", "{duplicate}");
        let retry = api.pay(&customer_no, &token, "10.00", invoice_id).await;
        assert_eq!(retry["ret_code"], "000100");
    }
    assert_booked(&sandbox, &[&after_commit, &malformed]);
}

#[tokio::test]
async fn ret_faults_answer_the_code_without_processing() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    for code in ["000080", "000000"] {
        let invoice_id = invoice("pending-ret-");
        let response = pay_with_fault(
            &api,
            &customer_no,
            &token,
            &invoice_id,
            &format!("ret_{code}"),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["ret_code"], code, "{answer}");
        assert!(answer.get("result").is_none());
    }
    assert_booked(&sandbox, &[]);
}

#[tokio::test]
async fn an_unknown_fault_header_is_refused() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let response = pay_with_fault(&api, &customer_no, &token, "x-1", "explode")
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("drop"));
    assert_booked(&sandbox, &[]);
}

#[tokio::test]
async fn admin_rules_match_fields_and_are_consumed_in_order() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let target = invoice("pending-rule-");
    let (status, body) = api
        .admin_post(
            "/_sandbox/faults",
            json!({ "operation": "pay", "match": { "invoiceId": target }, "fault": "http_503", "times": 2 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = api
        .admin_post(
            "/_sandbox/faults",
            json!({ "operation": "/v3/payouts/pay", "fault": "ret_000080" }),
        )
        .await;
    assert_eq!(status, 200);
    let (_, listed) = api.admin_get("/_sandbox/faults").await;
    assert_eq!(listed["faults"].as_array().unwrap().len(), 2, "{listed}");

    // The balance operation matches neither rule.
    assert_eq!(
        api.call("/v3/payouts/balance", &[("currency", "USD")])
            .await["ret_code"],
        "000100"
    );
    // Another invoiceId skips the first rule and takes the second.
    let other = invoice("pending-other-");
    assert_eq!(
        api.pay(&customer_no, &token, "10", &other).await["ret_code"],
        "000080"
    );
    // The target gets 503 twice, then goes through.
    for _ in 0..2 {
        let response = api
            .post_json(
                "/v3/payouts/pay",
                &pay_body(&api, &customer_no, &token, &target),
            )
            .await;
        assert_eq!(response.status(), 503);
    }
    assert_eq!(
        api.pay(&customer_no, &token, "10", &target).await["ret_code"],
        "000100"
    );
    assert_eq!(
        api.pay(&customer_no, &token, "10", &other).await["ret_code"],
        "000100"
    );
    let (_, listed) = api.admin_get("/_sandbox/faults").await;
    assert_eq!(listed["faults"], json!([]));
    assert_booked(&sandbox, &[&target, &other]);
}

fn pay_body(api: &Api, customer_no: &str, token: &str, invoice_id: &str) -> Value {
    api.signed(&[
        ("customerNo", customer_no),
        ("accountToken", token),
        ("amount", "10"),
        ("currency", "USD"),
        ("invoiceId", invoice_id),
    ])
}

#[tokio::test]
async fn deleting_the_rules_clears_them_and_bad_rules_are_refused() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (status, _) = api
        .admin_post(
            "/_sandbox/faults",
            json!({ "operation": "*", "fault": "ret_000000", "times": 5 }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        api.call("/v3/payouts/balance", &[("currency", "USD")])
            .await["ret_code"],
        "000000"
    );
    let (status, body) = api.admin_delete("/_sandbox/faults").await;
    assert_eq!(status, 200);
    assert_eq!(body["faults"], json!([]));
    assert_eq!(
        api.call("/v3/payouts/balance", &[("currency", "USD")])
            .await["ret_code"],
        "000100"
    );

    for bad in [
        json!({ "fault": "explode" }),
        json!({ "operation": "teleport", "fault": "drop" }),
        json!({ "fault": "drop", "times": 0 }),
        json!({ "fault": "drop", "colour": "red" }),
    ] {
        let (status, body) = api.admin_post("/_sandbox/faults", bad.clone()).await;
        assert_eq!(status, 400, "{bad} -> {body}");
        assert!(body["error"].is_string());
    }
    let (_, listed) = api.admin_get("/_sandbox/faults").await;
    assert_eq!(listed["faults"], json!([]));
}

#[tokio::test]
async fn a_fault_test_value_applies_to_the_first_pay_only() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;

    let dropped = invoice("fault-drop-");
    let request_id = key("dropped");
    let error = api
        .http
        .post(format!("{}/v3/payouts/pay", api.base))
        .header("Pockyt-Request-ID", &request_id)
        .json(&pay_body(&api, &customer_no, &token, &dropped))
        .send()
        .await
        .expect_err("the first pay is dropped");
    assert!(!error.is_timeout());
    let inquiry = api.inquire(&dropped).await;
    assert_eq!(inquiry["ret_code"], "000100", "{inquiry}");
    // The resend with the same key gets the answer the drop swallowed.
    let retry = api
        .pay_keyed(&customer_no, &token, "10", &dropped, &request_id)
        .await;
    assert_eq!(retry["ret_code"], "000100", "{retry}");
    assert_eq!(
        retry["result"]["transactionNo"],
        inquiry["result"]["transactionNo"]
    );

    let unavailable = format!("FAULT-http_503-{}", invoice("x"));
    let response = api
        .post_json(
            "/v3/payouts/pay",
            &pay_body(&api, &customer_no, &token, &unavailable),
        )
        .await;
    assert_eq!(response.status(), 503);
    assert_eq!(api.inquire(&unavailable).await["ret_code"], "000021");
    assert_eq!(
        api.pay(&customer_no, &token, "10", &unavailable).await["ret_code"],
        "000100"
    );

    let slow = format!("fault-delay_after=200-{}", invoice("y"));
    assert_eq!(
        api.pay(&customer_no, &token, "10", &slow).await["ret_code"],
        "000100"
    );

    let bogus = invoice("fault-explode-");
    let answer = api.pay(&customer_no, &token, "10", &bogus).await;
    assert_eq!(answer["ret_code"], "000023", "{answer}");
    assert!(answer["ret_msg"].as_str().unwrap().contains("fault"));

    assert_booked(&sandbox, &[&dropped, &unavailable, &slow]);
    // The fault prefix is skipped when choosing the final status.
    eventually("the dropped payout succeeds", 20, || async {
        api.status_of(&dropped).await == "success"
    })
    .await;
}

#[tokio::test]
async fn faults_apply_to_other_operations_too() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let body = api.signed(&[("profileType", "INDIVIDUAL"), ("dateOfBirth", "1999-01-01")]);
    let error = api
        .http
        .post(format!("{}/v3/payee/register", api.base))
        .header("x-sandbox-fault", "drop")
        .json(&body)
        .send()
        .await
        .expect_err("dropped");
    assert!(!error.is_timeout());
    let (_, state) = api.admin_get("/_sandbox/state").await;
    assert_eq!(
        state["payees"].as_array().unwrap().len(),
        1,
        "the register was processed"
    );

    let (status, _) = api
        .admin_post(
            "/_sandbox/faults",
            json!({ "operation": "balance", "match": object(&[("currency", "USD")]), "fault": "http_502" }),
        )
        .await;
    assert_eq!(status, 200);
    let response = api
        .post_json("/v3/payouts/balance", &api.signed(&[("currency", "USD")]))
        .await;
    assert_eq!(response.status(), 502);
}
