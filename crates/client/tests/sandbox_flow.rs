//! The Rust client against the sandbox: the whole flow (with the IPN
//! received and verified), and every error code the API answers.

mod common;

use std::time::Duration;

use axum::body::Bytes;
use common::payee_with_account;
use pockyt_payouts::types::*;
use pockyt_payouts::{
    AccountStatus, Client, Config, ErrorCode, PayoutStatus, ProfileType, RetCode, RetryPolicy,
};
use pockyt_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;
use tokio::sync::mpsc;

async fn start(balances: &[(&str, &str)]) -> (Sandbox, Client) {
    let sandbox = Sandbox::start(SandboxConfig {
        settle_delay: Duration::from_millis(100),
        balances: balances
            .iter()
            .map(|(c, a)| (c.to_string(), a.to_string()))
            .collect(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = client_for(&sandbox, &sandbox.config().api_token);
    (sandbox, client)
}

fn client_for(sandbox: &Sandbox, token: &str) -> Client {
    let c = sandbox.config();
    Client::new(
        Config::new(c.merchant_no.clone(), c.store_no.clone(), token)
            .with_base_url(sandbox.base_url())
            .retry_policy(RetryPolicy::none()),
    )
    .unwrap()
}

fn pay(customer_no: &str, account_token: &str, amount: &str, invoice_id: &str) -> PayParams {
    PayParams::builder()
        .customer_no(customer_no)
        .account_token(account_token)
        .amount(amount)
        .currency("USD")
        .invoice_id(invoice_id)
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn the_whole_flow_with_a_verified_ipn() {
    let (sandbox, client) = start(&[("USD", "1000.00")]).await;
    let token = sandbox.config().api_token.clone();

    // A webhook receiver that verifies each IPN over its raw body.
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<(String, String)>>();
    let app = axum::Router::new().route(
        "/ipn",
        axum::routing::post(move |body: Bytes| {
            let (tx, token) = (tx.clone(), token.clone());
            async move {
                assert!(
                    pockyt_payouts::verify_ipn_body(&body, &token),
                    "IPN signature"
                );
                tx.send(pockyt_payouts::parse_ipn_body(&body)).unwrap();
                "success"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ipn_url = format!("http://{}/ipn", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (customer_no, account_token) = payee_with_account(&client).await;
    let customer = client
        .retrieve_payee(RetrievePayeeParams::builder().customer_no(customer_no.clone()))
        .await
        .unwrap();
    assert_eq!(customer.first_name.as_deref(), Some("John"));
    assert_eq!(customer.profile_type, Some(ProfileType::Individual));
    client
        .update_payee(
            UpdatePayeeParams::builder()
                .customer_no(customer_no.clone())
                .city(Some("Boston".to_string())),
        )
        .await
        .unwrap();
    let customer = client
        .retrieve_payee(RetrievePayeeParams::builder().customer_no(customer_no.clone()))
        .await
        .unwrap();
    assert_eq!(customer.city.as_deref(), Some("Boston"));

    let listed = client
        .list_payout_accounts(ListPayoutAccountsParams::builder().customer_no(customer_no.clone()))
        .await
        .unwrap();
    assert_eq!(listed.accounts.len(), 1);
    assert_eq!(
        listed.accounts[0].account_token.as_deref(),
        Some(account_token.as_str())
    );
    assert_eq!(listed.accounts[0].card_number.as_deref(), Some("****3298"));
    assert_eq!(listed.accounts[0].status, Some(AccountStatus::Activated));

    let mut params = pay(&customer_no, &account_token, "250.5", "flow-1");
    params.ipn_url = Some(ipn_url);
    let payout = client.pay(params).await.unwrap();
    assert_eq!(payout.status, Some(PayoutStatus::Pending));
    assert_eq!(payout.amount.as_deref(), Some("250.50"));
    let balance = client
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap();
    assert_eq!(
        balance.amount.as_deref(),
        Some("749.50"),
        "pending payouts hold funds"
    );

    // IPNs: pending, then success.
    let mut statuses = Vec::new();
    while statuses.last().map(String::as_str) != Some("success") {
        let ipn = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap();
        let field = |n: &str| {
            ipn.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(field("reference"), "flow-1");
        assert_eq!(
            field("transactionNo"),
            payout.transaction_no.clone().unwrap()
        );
        statuses.push(field("status"));
    }
    assert_eq!(statuses, ["pending", "success"]);
    let settled = client
        .inquire_payout(InquirePayoutParams::builder().invoice_id("flow-1"))
        .await
        .unwrap();
    assert_eq!(settled.status, Some(PayoutStatus::Success));

    // A failed payout gives its funds back.
    let failed = client
        .pay(pay(&customer_no, &account_token, "100", "failed-1"))
        .await
        .unwrap();
    assert_eq!(failed.status, Some(PayoutStatus::Pending));
    let mut status = None;
    for _ in 0..200 {
        status = client
            .inquire_payout(InquirePayoutParams::builder().invoice_id("failed-1"))
            .await
            .unwrap()
            .status;
        if status.as_ref().is_some_and(PayoutStatus::is_final) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(status, Some(PayoutStatus::Failed));
    assert_eq!(sandbox.balance("USD").as_deref(), Some("749.50"));

    // The same invoiceId again is the same payout, never a second one.
    let again = client
        .pay(pay(&customer_no, &account_token, "250.50", "flow-1"))
        .await
        .unwrap();
    assert_eq!(again.transaction_no, payout.transaction_no);
    assert_eq!(
        sandbox
            .payouts()
            .iter()
            .filter(|p| p.invoice_id == "flow-1")
            .count(),
        1
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn every_error_code_through_the_client() {
    let (sandbox, client) = start(&[("USD", "100.00")]).await;
    let (customer_no, account_token) = payee_with_account(&client).await;
    let (other_customer, _) = payee_with_account(&client).await;

    let code = |r: Result<_, pockyt_payouts::Error>| r.map(|_: Payout| ()).unwrap_err().code();

    // 000030: a wrong token (bad signature).
    let intruder = client_for(&sandbox, "not-the-token");
    let e = intruder
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Api(RetCode::AccessDenied));
    // 000021: unknown customer, unknown account, unknown invoice.
    let e = client
        .retrieve_payee(RetrievePayeeParams::builder().customer_no("2000000000000000000000"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Api(RetCode::NoRelatedInformation));
    assert_eq!(
        code(
            client
                .pay(pay(&customer_no, "2010000000000000000000", "1", "e-1"))
                .await
        ),
        ErrorCode::Api(RetCode::NoRelatedInformation)
    );
    assert_eq!(
        code(
            client
                .inquire_payout(InquirePayoutParams::builder().invoice_id("never-paid"))
                .await
        ),
        ErrorCode::Api(RetCode::NoRelatedInformation)
    );
    // 000022: the account is not this payee's.
    assert_eq!(
        code(
            client
                .pay(pay(&other_customer, &account_token, "1", "e-2"))
                .await
        ),
        ErrorCode::Api(RetCode::ParametersDoNotMatch)
    );
    // 000040: balance too low.
    assert_eq!(
        code(
            client
                .pay(pay(&customer_no, &account_token, "100.01", "e-3"))
                .await
        ),
        ErrorCode::Api(RetCode::InsufficientBalance)
    );
    // 000023: a value the server refuses (an unknown sandbox fault test value).
    assert_eq!(
        code(
            client
                .pay(pay(&customer_no, &account_token, "1", "fault-nonsense-1"))
                .await
        ),
        ErrorCode::Api(RetCode::ParameterValueError)
    );
    // 000000 and 000080: the server's and the supplier's failures, on a read
    // (no retries configured here) and on pay (reconciled, then unknown).
    for (fault, ret) in [
        ("ret_000000", RetCode::SystemError),
        ("ret_000080", RetCode::SupplierSystemError),
    ] {
        let rule = json!({"operation": "balance", "fault": fault, "times": 1});
        reqwest::Client::new()
            .post(format!("{}/_sandbox/faults", sandbox.base_url()))
            .json(&rule)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        let e = client
            .balance(BalanceParams::builder().currency("USD"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Api(ret));
    }
    // 000020: a missing mandatory field never leaves the client...
    let e = client
        .call_json(pockyt_payouts::Operation::Pay, json!({"customerNo": customer_no, "amount": "1", "currency": "USD", "invoiceId": "e-4"}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidRequest);
    assert_eq!(e.field(), Some("accountToken"));
    // ...while the sandbox answers it for a raw request that lacks one.
    let fields = [
        ("merchantNo", "202333"),
        ("storeNo", "301854"),
        ("currency", ""),
    ];
    let sig = pockyt_payouts::sign(fields, &sandbox.config().api_token);
    let mut body: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    body.insert("verifySign".into(), json!(sig));
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v3/payouts/balance", sandbox.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["ret_code"], "000020");

    assert!(
        sandbox.payouts().is_empty(),
        "no refused pay created a payout"
    );
    sandbox.shutdown().await;
}
