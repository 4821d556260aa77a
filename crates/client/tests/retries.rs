//! What is sent again, and what never is: counted on the test server.

mod common;

use std::time::Duration;

use common::{Scripted, TestServer};
use pockyt_payouts::types::*;
use pockyt_payouts::{Client, ErrorCode, PayoutStatus, RetCode, RetryPolicy};

fn retrying_client(server: &TestServer, retries: u32) -> Client {
    let policy = RetryPolicy::default()
        .max_retries(retries)
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5));
    Client::new(server.config().retry_policy(policy)).unwrap()
}

fn paths(server: &TestServer) -> Vec<String> {
    server.received().into_iter().map(|(p, _)| p).collect()
}

/// A pay matching the API page's inquiry example (which the test server
/// answers), so that a payout found by inquiry is this pay's.
fn pay() -> PayParams {
    PayParams::builder()
        .customer_no("2000305228303182610217")
        .account_token("2010305228303182765718")
        .amount("500")
        .currency("USD")
        .invoice_id("9aae4c685d824c5da746f97620c59eb5")
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn read_only_calls_retry_transient_failures_up_to_the_limit() {
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2);
    server.script(Scripted::Status(503, "busy".into()));
    server.script(Scripted::Json(
        r#"{"ret_code":"000080","ret_msg":"supplier"}"#.into(),
    ));
    let balance = client
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap();
    assert_eq!(balance.amount.as_deref(), Some("9500.00"));
    assert_eq!(paths(&server).len(), 3);

    for _ in 0..3 {
        server.script(Scripted::Json(r#"{"ret_code":"000000"}"#.into()));
    }
    let e = client
        .retrieve_payee(RetrievePayeeParams::builder().customer_no("1"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Api(RetCode::SystemError));
    assert_eq!(paths(&server).len(), 6, "one try and two retries");

    // A definite refusal is not retried.
    server.script(Scripted::Json(r#"{"ret_code":"000021"}"#.into()));
    let e = client
        .list_payout_accounts(ListPayoutAccountsParams::builder().customer_no("1"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Api(RetCode::NoRelatedInformation));
    assert_eq!(paths(&server).len(), 7);
}

#[tokio::test]
async fn read_only_calls_retry_timeouts() {
    let server = TestServer::start().await;
    let client = retrying_client(&server, 1).with_timeout(Duration::from_millis(150));
    server.script(Scripted::Delay(Duration::from_secs(2)));
    let payout = client
        .inquire_payout(InquirePayoutParams::builder().invoice_id("i"))
        .await
        .unwrap();
    assert_eq!(payout.status, Some(PayoutStatus::Success));
    assert_eq!(
        paths(&server),
        ["/v3/payouts/inquiry", "/v3/payouts/inquiry"]
    );
}

#[tokio::test]
async fn changing_calls_are_resent_with_their_idempotency_key() {
    // Register, update and add-bank-account carry a Pockyt-Request-ID, the
    // same for every attempt of one call: a resend after a possibly
    // received attempt is safe (the API answers it with the first answer).
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2);
    server.script(Scripted::Status(503, "busy".into()));
    let payee = client
        .register_payee(
            RegisterPayeeParams::builder()
                .profile_type(pockyt_payouts::ProfileType::Business)
                .date_of_birth("1970-01-01"),
        )
        .await
        .unwrap();
    assert_eq!(payee.customer_no, "2000305228292319592008");
    for _ in 0..3 {
        server.script(Scripted::Json(r#"{"ret_code":"000080"}"#.into()));
    }
    let e = client
        .update_payee(UpdatePayeeParams::builder().customer_no("1"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Api(RetCode::SupplierSystemError));
    // A definite refusal is final: sending it again would be refused again.
    server.script(Scripted::Json(
        r#"{"ret_code":"000023","ret_msg":"bad"}"#.into(),
    ));
    let e = client
        .add_bank_account(
            AddBankAccountParams::builder()
                .customer_no("1")
                .bank_account_id("7861053298")
                .branch_id("101089292")
                .bank_account_purpose(pockyt_payouts::BankAccountPurpose::Checking),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Api(RetCode::ParameterValueError));
    assert_eq!(
        paths(&server),
        [
            "/v3/payee/register",
            "/v3/payee/register",
            "/v3/payee/update",
            "/v3/payee/update",
            "/v3/payee/update",
            "/v3/payee/account/create/bank-account",
        ]
    );
    let keys: Vec<String> = server
        .request_ids()
        .into_iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(keys[0], keys[1], "one key for every attempt of a register");
    assert!(
        keys[2] == keys[3] && keys[3] == keys[4],
        "one key for every attempt of an update"
    );
    assert!(keys[0] != keys[2] && keys[2] != keys[5], "a key per call");

    // A key of the caller's own is sent as given; a malformed one is
    // refused before anything is sent.
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2);
    client
        .with_idempotency_key("order-77:payee")
        .unwrap()
        .register_payee(
            RegisterPayeeParams::builder()
                .profile_type(pockyt_payouts::ProfileType::Business)
                .date_of_birth("1970-01-01"),
        )
        .await
        .unwrap();
    assert_eq!(server.request_ids(), [Some("order-77:payee".to_string())]);
    let e = client.with_idempotency_key("not a key").unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidRequest);
    assert_eq!(e.field(), Some("idempotencyKey"));
}

#[tokio::test]
async fn a_pay_whose_answer_is_lost_is_looked_up_not_resent() {
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2);
    server.script(Scripted::Status(502, "gateway".into()));
    // The inquiry answers the example: a payout exists (status success).
    let payout = client.pay(pay()).await.unwrap();
    assert_eq!(payout.status, Some(PayoutStatus::Success));
    assert_eq!(paths(&server), ["/v3/payouts/pay", "/v3/payouts/inquiry"]);
    // The inquiry asked for the pay's invoiceId.
    assert_eq!(
        server.received()[1].1["invoiceId"],
        "9aae4c685d824c5da746f97620c59eb5"
    );
}

#[tokio::test]
async fn a_pay_is_resent_with_the_same_invoice_only_when_no_payout_exists() {
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2);
    server.script(Scripted::Json("{not json".into()));
    server.script(Scripted::Json(
        r#"{"ret_code":"000021","ret_msg":"no such invoice"}"#.into(),
    ));
    let payout = client.pay(pay()).await.unwrap();
    assert_eq!(payout.status, Some(PayoutStatus::Pending));
    assert_eq!(
        paths(&server),
        ["/v3/payouts/pay", "/v3/payouts/inquiry", "/v3/payouts/pay"]
    );
    let received = server.received();
    assert_eq!(received[0].1["invoiceId"], received[2].1["invoiceId"]);
    assert_eq!(received[0].1["amount"], received[2].1["amount"]);
}

#[tokio::test]
async fn a_pay_whose_outcome_cannot_be_established_fails_with_outcome_unknown() {
    // The pay's answer is lost and the inquiry cannot say: the pay is sent
    // again with the same key (safe: the API answers a completed pay with
    // its first answer), until no retry is left.
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2);
    for _ in 0..3 {
        server.script(Scripted::Status(500, "boom".into()));
        for _ in 0..3 {
            server.script(Scripted::Status(503, "inquiry down".into()));
        }
    }
    let e = client.pay(pay()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::PayoutOutcomeUnknown);
    assert_eq!(e.code().as_str(), "PAYOUT_OUTCOME_UNKNOWN");
    assert_eq!(e.invoice_id(), Some("9aae4c685d824c5da746f97620c59eb5"));
    assert!(
        e.to_string()
            .contains("look the payout up later by invoiceId"),
        "{e}"
    );
    let sent = paths(&server);
    assert_eq!(sent.len(), 12, "{sent:?}");
    assert_eq!(sent.iter().filter(|p| *p == "/v3/payouts/pay").count(), 3);
    let keys: Vec<Option<String>> = server
        .request_ids()
        .into_iter()
        .zip(&sent)
        .filter(|(_, p)| *p == "/v3/payouts/pay")
        .map(|(k, _)| k)
        .collect();
    assert!(
        keys[0].is_some() && keys.iter().all(|k| *k == keys[0]),
        "{keys:?}"
    );

    // Every attempt answered by the server (a 503: it did not handle the
    // request) and the API holds no payout under the invoiceId: nothing was
    // paid, and the failure is definite.
    let server = TestServer::start().await;
    let client = retrying_client(&server, 0);
    server.script(Scripted::Status(503, "unavailable".into()));
    server.script(Scripted::Json(r#"{"ret_code":"000021"}"#.into()));
    let e = client.pay(pay()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Http);
    assert_eq!(paths(&server), ["/v3/payouts/pay", "/v3/payouts/inquiry"]);

    // A gateway timeout (504) may still land: with no retries left and the
    // inquiry still finding nothing while it may, the outcome stays unknown
    // and the pay is never sent twice.
    let server = TestServer::start().await;
    let client = retrying_client(&server, 0).with_timeout(Duration::from_millis(100));
    server.script(Scripted::Status(504, "gateway timeout".into()));
    for _ in 0..40 {
        server.script(Scripted::Json(r#"{"ret_code":"000021"}"#.into()));
    }
    let e = client.pay(pay()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::PayoutOutcomeUnknown);
    let sent = paths(&server);
    assert_eq!(
        sent.iter().filter(|p| *p == "/v3/payouts/pay").count(),
        1,
        "{sent:?}"
    );
    assert!(sent.len() >= 2, "{sent:?}");
}

#[tokio::test]
async fn a_definite_refusal_of_pay_is_returned_as_is() {
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2);
    server.script(Scripted::Json(
        r#"{"ret_code":"000040","ret_msg":"balance not enough"}"#.into(),
    ));
    let e = client.pay(pay()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Api(RetCode::InsufficientBalance));
    assert_eq!(paths(&server), ["/v3/payouts/pay"]);
}

#[tokio::test]
async fn timeouts_are_overridable_per_call() {
    let server = TestServer::start().await;
    let client = retrying_client(&server, 0);
    assert_eq!(client.timeout(), pockyt_payouts::DEFAULT_TIMEOUT);
    assert_eq!(
        client.connect_timeout(),
        pockyt_payouts::DEFAULT_CONNECT_TIMEOUT
    );
    let quick = client
        .with_timeout(Duration::from_millis(250))
        .with_connect_timeout(Duration::from_millis(500))
        .unwrap();
    assert_eq!(quick.timeout(), Duration::from_millis(250));
    assert_eq!(quick.connect_timeout(), Duration::from_millis(500));
    // The original is untouched, and the derived client works.
    assert_eq!(client.timeout(), pockyt_payouts::DEFAULT_TIMEOUT);
    quick
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap();
    server.script(Scripted::Delay(Duration::from_secs(2)));
    let e = quick
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Timeout);
    let e = client.with_connect_timeout(Duration::ZERO).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidConfig);
    assert_eq!(e.field(), Some("connect_timeout"));
}

#[tokio::test]
async fn after_a_lost_answer_a_later_refusal_is_not_final() {
    // Pay #1 is held past the timeout; while it may land, the client only
    // inquires (finding nothing); then it sends again with the same key,
    // and that is refused (000021 here). Pay #1 may still land: the outcome
    // is unknown, and there is never a third pay.
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2).with_timeout(Duration::from_millis(150));
    server.script(Scripted::Delay(Duration::from_secs(2)));
    for _ in 0..60 {
        server.script(Scripted::Json(r#"{"ret_code":"000021"}"#.into()));
    }
    let e = client.pay(pay()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::PayoutOutcomeUnknown, "{e}");
    let sent = paths(&server);
    assert_eq!(sent[..2], ["/v3/payouts/pay", "/v3/payouts/inquiry"]);
    assert_eq!(
        sent.iter().filter(|p| *p == "/v3/payouts/pay").count(),
        2,
        "{sent:?}"
    );
    let keys: Vec<Option<String>> = server
        .request_ids()
        .into_iter()
        .zip(&sent)
        .filter(|(_, p)| *p == "/v3/payouts/pay")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys[0], keys[1],
        "the resend carries the first attempt's key"
    );
}

#[tokio::test]
async fn a_success_without_the_payout_is_looked_up() {
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2);
    server.script(Scripted::Json(
        r#"{"ret_code":"000100","ret_msg":"ok"}"#.into(),
    ));
    let payout = client.pay(pay()).await.unwrap();
    assert_eq!(payout.transaction_no.as_deref(), Some("305588797074336092"));
    assert_eq!(paths(&server), ["/v3/payouts/pay", "/v3/payouts/inquiry"]);
}

#[tokio::test]
async fn an_undocumented_ret_code_on_pay_is_reconciled() {
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2);
    server.script(Scripted::Json(
        r#"{"ret_code":"000090","ret_msg":"processing, query later"}"#.into(),
    ));
    let payout = client.pay(pay()).await.unwrap();
    assert_eq!(payout.status, Some(PayoutStatus::Success));
    assert_eq!(paths(&server), ["/v3/payouts/pay", "/v3/payouts/inquiry"]);
}

#[tokio::test]
async fn a_payout_with_other_details_under_the_invoice_is_not_taken_for_this_pay() {
    let server = TestServer::start().await;
    let client = retrying_client(&server, 2);
    server.script(Scripted::Status(502, "gateway".into()));
    let mut other = pay();
    other.amount = "499.99".into();
    let e = client.pay(other).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::PayoutOutcomeUnknown, "{e}");
    assert!(e.to_string().contains("other details"), "{e}");
    assert_eq!(
        paths(&server),
        ["/v3/payouts/pay", "/v3/payouts/inquiry"],
        "never a second pay"
    );
    // "500" and "500.00" are the same amount.
    server.script(Scripted::Status(502, "gateway".into()));
    let mut same = pay();
    same.amount = "500.00".into();
    assert!(client.pay(same).await.is_ok());
}
