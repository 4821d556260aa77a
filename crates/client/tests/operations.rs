//! Every operation through the public API against the test server (which
//! checks path, envelope, timestamp, mandatory fields and signature, and
//! answers the API page's examples verbatim); every ret_code mapped to its
//! error; unknown enum values and unknown fields kept; HTTP and decoding
//! failures typed.

mod common;

use common::{Scripted, TestServer};
use pockyt_payouts::types::*;
use pockyt_payouts::{
    AccountStatus, AccountType, BankAccountPurpose, Error, ErrorCode, Operation, PayeeStatus,
    PayoutStatus, ProfileType, RetCode,
};
use serde_json::json;

fn register() -> RegisterPayeeParams {
    RegisterPayeeParams::builder()
        .profile_type(ProfileType::Individual)
        .date_of_birth("1999-01-01")
        .first_name(Some("John".to_string()))
        .last_name(Some("Doe".to_string()))
        .email(Some("john.doe@example.com".to_string()))
        .country_code(Some("US".to_string()))
        .street2(Some(String::new()))
        .try_into()
        .unwrap()
}

fn pay(invoice: &str) -> PayParams {
    PayParams::builder()
        .customer_no("2000305228292319592008")
        .account_token("2010305228303182765718")
        .amount("500")
        .currency("USD")
        .invoice_id(invoice)
        .ipn_url(Some("https://example.com/webhooks".to_string()))
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn every_operation_is_signed_sent_to_its_path_and_typed() {
    let server = TestServer::start().await;
    let client = server.client();

    let customer = client.register_payee(register()).await.unwrap();
    assert_eq!(customer.customer_no, "2000305228292319592008");
    assert_eq!(
        customer.created_time.as_deref(),
        Some("2022-10-10T18:15:19Z")
    );

    let customer = client
        .retrieve_payee(RetrievePayeeParams::builder().customer_no("2000305228303182610217"))
        .await
        .unwrap();
    assert_eq!(customer.payee_status, Some(PayeeStatus::Activated));
    assert_eq!(customer.profile_type, Some(ProfileType::Individual));
    assert_eq!(customer.lang.as_deref(), Some("en"));

    let updated = client
        .update_payee(
            UpdatePayeeParams::builder()
                .customer_no("2000305228303182610217")
                .zip(Some("10006".to_string())),
        )
        .await
        .unwrap();
    assert_eq!(updated.ret_msg.as_deref(), Some("update success"));

    let account = client
        .add_bank_account(
            AddBankAccountParams::builder()
                .customer_no("2000305228303182610217")
                .bank_account_id("7861053298")
                .branch_id("101089292")
                .bank_account_purpose(BankAccountPurpose::Checking)
                .account_tag(Some("1a52692711".to_string()))
                .client_ip(Some("127.0.0.1".to_string())),
        )
        .await
        .unwrap();
    assert_eq!(account.account_token, "2010305228303182765718");
    assert_eq!(
        account.account_status,
        Some(AccountStatus::Activated),
        "ACTIVATED, any case"
    );
    assert_eq!(account.account_type, Some(AccountType::BankAccount));

    let listed = client
        .list_payout_accounts(
            ListPayoutAccountsParams::builder().customer_no("2000305228292319592008"),
        )
        .await
        .unwrap();
    assert_eq!(listed.accounts.len(), 1);
    assert_eq!(listed.accounts[0].status, Some(AccountStatus::Activated));
    assert_eq!(
        listed.user.unwrap().customer_code.as_deref(),
        Some("1665425123")
    );

    let deleted = client
        .delete_payout_account(
            DeletePayoutAccountParams::builder()
                .customer_no("2000305228292319592008")
                .account_token("2010305228303182765718"),
        )
        .await
        .unwrap();
    assert_eq!(deleted.ret_code, RetCode::Success);

    let payout = client
        .pay(pay("9aae4c685d824c5da746f97620c59eb5"))
        .await
        .unwrap();
    assert_eq!(payout.status, Some(PayoutStatus::Pending));
    assert_eq!(payout.amount.as_deref(), Some("500.00"));
    assert_eq!(payout.transaction_no.as_deref(), Some("305588797074336092"));

    let payout = client
        .inquire_payout(
            InquirePayoutParams::builder().invoice_id("9aae4c685d824c5da746f97620c59eb5"),
        )
        .await
        .unwrap();
    assert_eq!(payout.status, Some(PayoutStatus::Success));

    let balance = client
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap();
    assert_eq!(balance.amount.as_deref(), Some("9500.00"));

    assert_eq!(server.problems(), Vec::<String>::new());
    // Every state-changing call carries an idempotency key (a UUID, one per
    // call); read-only calls carry none.
    for (op, key) in Operation::ALL.iter().zip(server.request_ids()) {
        match key {
            Some(key) => {
                assert!(!op.is_read_only(), "{op}: {key}");
                assert_eq!(key.len(), 36, "{op}: {key}");
            }
            None => assert!(op.is_read_only(), "{op} carried no Pockyt-Request-ID"),
        }
    }
    let paths: Vec<String> = server.received().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        Operation::ALL
            .iter()
            .map(|op| op.path().to_string())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn bodies_carry_exactly_the_params_plus_the_envelope() {
    let server = TestServer::start().await;
    let client = server.client();
    client.register_payee(register()).await.unwrap();
    client
        .add_bank_account(
            AddBankAccountParams::builder()
                .customer_no("2000305228303182610217")
                .bank_account_id("7861053298")
                .branch_id("101089292")
                .bank_account_purpose(BankAccountPurpose::Savings),
        )
        .await
        .unwrap();
    let received = server.received();
    let mut names: Vec<&str> = received[0].1.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "countryCode",
            "dateOfBirth",
            "email",
            "firstName",
            "lastName",
            "merchantNo",
            "profileType",
            "storeNo",
            "street2",
            "timestamp",
            "verifySign"
        ]
    );
    // An empty string is sent (and signed) as such.
    assert_eq!(received[0].1["street2"], "");
    assert_eq!(received[0].1["profileType"], "INDIVIDUAL");
    // Defaults of add_bank_account are filled in.
    let bank = &received[1].1;
    assert_eq!(bank["accountType"], "BANK_ACCOUNT");
    assert_eq!(bank["accountCountry"], "US");
    assert_eq!(bank["accountCurrency"], "USD");
    assert_eq!(bank["bankAccountPurpose"], "SAVINGS");
    assert_eq!(server.problems(), Vec::<String>::new());
}

#[tokio::test]
async fn the_json_door_gives_the_same_results() {
    let server = TestServer::start().await;
    let client = server.client();
    let payout = client
        .call_json(
            Operation::Pay,
            json!({"customerNo": "1", "accountToken": "2", "amount": "5.5", "currency": "USD",
                   "invoiceId": "x", "note": null}),
        )
        .await
        .unwrap();
    assert_eq!(payout["status"], "pending");
    assert_eq!(payout["transactionNo"], "305588797074336092");
    let customer = client
        .call_json(
            Operation::RegisterPayee,
            json!({"profileType": "BUSINESS", "dateOfBirth": "1980-02-29"}),
        )
        .await
        .unwrap();
    assert_eq!(
        customer["email"], "[email\u{a0}protected]",
        "answers verbatim, the page's no-break space included"
    );
    assert_eq!(server.received().len(), 2);

    // Refusals name the field; nothing is sent.
    let cases = [
        (
            Operation::Pay,
            json!({"customerNo": "1", "accountToken": "2", "amount": "5", "currency": "USD"}),
            "invoiceId",
            "is required",
        ),
        (
            Operation::Pay,
            json!({"customerNo": "1", "accountToken": "2", "amount": 5, "currency": "USD", "invoiceId": "i"}),
            "amount",
            "must be a string",
        ),
        (
            Operation::Pay,
            json!({"customerNo": "1", "accountToken": "2", "amount": "5", "currency": "USD", "invoiceId": "i", "tip": "1"}),
            "tip",
            "is not a parameter",
        ),
        (
            Operation::RegisterPayee,
            json!({"profileType": "INDIVIDUAL", "dateOfBirth": "1999-01-01", "nickname": "x"}),
            "nickname",
            "is not a parameter",
        ),
        (
            Operation::Balance,
            json!({"currency": "USD", "verifySign": "abc"}),
            "verifySign",
            "signing layer",
        ),
        (
            Operation::Balance,
            json!({"currency": "USD", "merchantNo": "1"}),
            "merchantNo",
            "signing layer",
        ),
        (
            Operation::Balance,
            json!(["USD"]),
            "params",
            "must be an object",
        ),
        (
            Operation::RegisterPayee,
            json!({"profileType": "PERSON", "dateOfBirth": "1999-01-01"}),
            "profileType",
            "INDIVIDUAL, BUSINESS",
        ),
    ];
    for (op, params, field, rule) in cases {
        let e = client.call_json(op, params.clone()).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidRequest, "{params}");
        assert_eq!(e.field(), Some(field), "{params}: {e}");
        assert!(e.to_string().contains(rule), "{params}: {e}");
    }
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn every_ret_code_maps_to_its_error() {
    let server = TestServer::start().await;
    let client = server.client();
    let codes = [
        ("000000", RetCode::SystemError),
        ("000020", RetCode::ParameterNull),
        ("000021", RetCode::NoRelatedInformation),
        ("000022", RetCode::ParametersDoNotMatch),
        ("000023", RetCode::ParameterValueError),
        ("000030", RetCode::AccessDenied),
        ("000040", RetCode::InsufficientBalance),
        ("000080", RetCode::SupplierSystemError),
        ("004242", RetCode::Unknown("004242".into())),
    ];
    for (code, expected) in codes {
        server.script(Scripted::Json(format!(
            r#"{{"ret_code":"{code}","ret_msg":"refused: {code}"}}"#
        )));
        let e = client
            .balance(BalanceParams::builder().currency("USD"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Api(expected.clone()), "{code}");
        assert_eq!(e.code().as_str(), code);
        assert_eq!(e.ret_code(), Some(&expected));
        assert!(e.to_string().contains(&format!("refused: {code}")), "{e}");
        match e {
            Error::Api {
                operation, ret_msg, ..
            } => {
                assert_eq!(operation, Operation::Balance.into());
                assert_eq!(ret_msg, format!("refused: {code}"));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn unknown_enum_values_and_unknown_fields_come_through() {
    let server = TestServer::start().await;
    let client = server.client();
    server.script(Scripted::Json(
        json!({
            "ret_code": "000100", "ret_msg": "ok", "traceId": "t-1",
            "result": {"transactionNo": "1", "invoiceId": "i", "status": "ON_HOLD", "amount": "1.00",
                       "fxRate": "1.2345", "fees": {"fixed": "0.25"}}
        })
        .to_string(),
    ));
    let payout = client
        .inquire_payout(InquirePayoutParams::builder().invoice_id("i"))
        .await
        .unwrap();
    assert_eq!(payout.status, Some(PayoutStatus::Unknown("ON_HOLD".into())));
    assert_eq!(payout.extra["fxRate"], "1.2345");
    assert_eq!(payout.extra["fees"]["fixed"], "0.25");
    // The JSON door keeps them too, spelled as received.
    server.script(Scripted::Json(
        json!({"ret_code": "000100", "customer": {"customerNo": "1", "payeeStatus": "Frozen", "tier": "gold"}})
            .to_string(),
    ));
    let customer = client
        .call_json(Operation::RetrievePayee, json!({"customerNo": "1"}))
        .await
        .unwrap();
    assert_eq!(customer["payeeStatus"], "Frozen");
    assert_eq!(customer["tier"], "gold");
    // Statuses match without regard to case and keep their documented spelling.
    server.script(Scripted::Json(
        json!({"ret_code": "000100", "accounts": [{"status": "ACTIVATED", "accountType": "VENMO"}]}).to_string(),
    ));
    let listed = client
        .list_payout_accounts(ListPayoutAccountsParams::builder().customer_no("1"))
        .await
        .unwrap();
    assert_eq!(listed.accounts[0].status, Some(AccountStatus::Activated));
    assert_eq!(
        listed.accounts[0].account_type,
        Some(AccountType::Unknown("VENMO".into()))
    );
}

#[tokio::test]
async fn non_2xx_and_non_json_answers_keep_status_and_a_bounded_excerpt() {
    let server = TestServer::start().await;
    let client = server.client();
    server.script(Scripted::Status(502, "<html>bad gateway</html>".into()));
    let e = client
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Http);
    assert_eq!(e.http_status(), Some(502));
    assert!(e.to_string().contains("bad gateway"), "{e}");

    server.script(Scripted::Status(404, "x".repeat(100_000)));
    let e = client
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap_err();
    match &e {
        Error::Http { status, excerpt } => {
            assert_eq!(*status, 404);
            assert!(
                excerpt.len() <= pockyt_payouts::EXCERPT_LIMIT + 4,
                "{}",
                excerpt.len()
            );
        }
        other => panic!("{other:?}"),
    }

    server.script(Scripted::Json("<html>maintenance</html>".into()));
    let e = client
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Decode);
    assert_eq!(e.http_status(), Some(200));
    assert!(e.to_string().contains("maintenance"), "{e}");

    server.script(Scripted::Json(r#"{"ret_code":"000100"}"#.into()));
    let e = client
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Decode, "success without its payload");
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_typed() {
    let server = TestServer::start().await;
    server.script(Scripted::Delay(std::time::Duration::from_secs(5)));
    let client = server
        .client()
        .with_timeout(std::time::Duration::from_millis(100));
    let e = client
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Timeout);
    assert!(e.may_have_been_received());

    // A port nothing listens on: refused before anything was sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = pockyt_payouts::Config::new("1", "2", "test-token-1234")
        .with_base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(pockyt_payouts::RetryPolicy::none());
    let e = pockyt_payouts::Client::new(config)
        .unwrap()
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Network);
    assert!(!e.may_have_been_received(), "{e:?}");
}

#[tokio::test]
async fn a_success_without_the_id_the_next_step_needs_is_a_decode_error() {
    let server = TestServer::start().await;
    let client = server.client();
    server.script(Scripted::Json(
        json!({"ret_code": "000100", "customer": {"firstName": "John"}}).to_string(),
    ));
    let e = client.register_payee(register()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Decode);
    assert!(e.to_string().contains("customerNo"), "{e}");
    server.script(Scripted::Json(
        json!({"ret_code": "000100", "result": {"accountStatus": "ACTIVATED"}}).to_string(),
    ));
    let e = client
        .add_bank_account(
            AddBankAccountParams::builder()
                .customer_no("1")
                .bank_account_id("7861053298")
                .branch_id("101089292")
                .bank_account_purpose(BankAccountPurpose::Checking),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Decode);
    assert!(e.to_string().contains("accountToken"), "{e}");
}
