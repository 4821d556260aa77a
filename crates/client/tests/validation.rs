//! The validation matrix: each rule refuses with INVALID_REQUEST naming the
//! field (wire and snake_case spelling) and the rule, and nothing is sent.

mod common;

use common::TestServer;
use pockyt_payouts::types::*;
use pockyt_payouts::{Client, ErrorCode, Operation};
use serde_json::{json, Value};

/// `base` with the fields of `overrides` replaced or added.
fn with(mut base: Value, overrides: Value) -> Value {
    for (k, v) in overrides.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn pay_params(overrides: Value) -> Value {
    with(
        json!({"customerNo": "2000305228292319592008", "accountToken": "2010305228303182765718",
               "amount": "500.00", "currency": "USD", "invoiceId": "inv-1"}),
        overrides,
    )
}

fn bank_params(overrides: Value) -> Value {
    with(
        json!({"customerNo": "2000305228303182610217", "bankAccountId": "7861053298",
               "branchId": "101089292", "bankAccountPurpose": "CHECKING"}),
        overrides,
    )
}

fn register_params(overrides: Value) -> Value {
    with(
        json!({"profileType": "INDIVIDUAL", "dateOfBirth": "1999-01-01"}),
        overrides,
    )
}

async fn refused(client: &Client, op: Operation, params: Value, field: &str, rule_part: &str) {
    let e = client
        .call_json(op, params.clone())
        .await
        .expect_err(&format!("{op} {params} should be refused"));
    assert_eq!(e.code(), ErrorCode::InvalidRequest, "{op} {params}: {e}");
    assert_eq!(e.field(), Some(field), "{op} {params}: {e}");
    let text = e.to_string();
    assert!(text.contains(field), "{text}");
    assert!(
        text.contains(rule_part),
        "{op} {params}: {text} lacks {rule_part:?}"
    );
    assert!(!e.may_have_been_received());
}

#[tokio::test]
async fn the_matrix() {
    let server = TestServer::start().await;
    let client = server.client();
    use Operation::*;

    // Amounts.
    for bad in [
        "0", "0.00", "-5", "+5", "5.001", "1,000.00", "$5", "5 USD", "1e3", "5.", ".5", "", " 5",
        "٥",
    ] {
        let rule = if bad == "0" || bad == "0.00" {
            "greater than zero"
        } else {
            "positive decimal"
        };
        let rule = if bad.is_empty() {
            "positive decimal"
        } else {
            rule
        };
        refused(
            &client,
            Pay,
            pay_params(json!({"amount": bad})),
            "amount",
            rule,
        )
        .await;
    }
    // Currency: three uppercase letters.
    for bad in ["usd", "US", "USDT", "U$D", ""] {
        refused(
            &client,
            Pay,
            pay_params(json!({"currency": bad})),
            "currency",
            "three uppercase letters",
        )
        .await;
        refused(
            &client,
            Balance,
            json!({"currency": bad}),
            "currency",
            "three uppercase letters",
        )
        .await;
    }
    // invoiceId: 1 to 64 characters.
    refused(
        &client,
        Pay,
        pay_params(json!({"invoiceId": ""})),
        "invoiceId",
        "1 to 64",
    )
    .await;
    refused(
        &client,
        Pay,
        pay_params(json!({"invoiceId": "x".repeat(65)})),
        "invoiceId",
        "1 to 64",
    )
    .await;
    refused(
        &client,
        InquirePayout,
        json!({"invoiceId": "é".repeat(65)}),
        "invoiceId",
        "1 to 64",
    )
    .await;
    refused(
        &client,
        Pay,
        pay_params(json!({"invoiceId": "a\nb"})),
        "invoiceId",
        "control",
    )
    .await;
    // Fields echoed into the signed IPN: no '&' (IPN verification refuses
    // it, so a payout with one would never get a verifiable IPN).
    for bad in ["inv&1", "&", "inv-1&status=pending"] {
        refused(
            &client,
            Pay,
            pay_params(json!({ "invoiceId": bad })),
            "invoiceId",
            "must not contain '&'",
        )
        .await;
        refused(
            &client,
            InquirePayout,
            json!({ "invoiceId": bad }),
            "invoiceId",
            "must not contain '&'",
        )
        .await;
    }
    refused(
        &client,
        Pay,
        pay_params(json!({"customerNo": "2000305228292319592008&status=pending"})),
        "customerNo",
        "must not contain '&'",
    )
    .await;
    // Required fields.
    refused(
        &client,
        Pay,
        pay_params(json!({"customerNo": "  "})),
        "customerNo",
        "required",
    )
    .await;
    refused(
        &client,
        Pay,
        pay_params(json!({"accountToken": ""})),
        "accountToken",
        "required",
    )
    .await;
    refused(&client, RetrievePayee, json!({}), "customerNo", "required").await;
    refused(
        &client,
        ListPayoutAccounts,
        json!({"customerNo": ""}),
        "customerNo",
        "required",
    )
    .await;
    refused(
        &client,
        UpdatePayee,
        json!({"zip": "10005"}),
        "customerNo",
        "required",
    )
    .await;
    refused(
        &client,
        RegisterPayee,
        json!({"dateOfBirth": "1999-01-01"}),
        "profileType",
        "required",
    )
    .await;
    refused(
        &client,
        RegisterPayee,
        json!({"profileType": "INDIVIDUAL"}),
        "dateOfBirth",
        "required",
    )
    .await;
    // Enumerations within their documented sets.
    refused(
        &client,
        RegisterPayee,
        register_params(json!({"profileType": "PERSON"})),
        "profileType",
        "INDIVIDUAL, BUSINESS",
    )
    .await;
    refused(
        &client,
        RegisterPayee,
        register_params(json!({"governmentIdType": "TAX_ID"})),
        "governmentIdType",
        "SSN",
    )
    .await;
    refused(
        &client,
        AddBankAccount,
        bank_params(json!({"bankAccountPurpose": "BROKERAGE"})),
        "bankAccountPurpose",
        "CHECKING, SAVINGS",
    )
    .await;
    refused(
        &client,
        AddBankAccount,
        bank_params(json!({"accountType": "PAYPAL"})),
        "accountType",
        "BANK_ACCOUNT",
    )
    .await;
    refused(
        &client,
        Pay,
        pay_params(json!({"processingChannel": "WIRE"})),
        "processingChannel",
        "SAME_DAY_ACH",
    )
    .await;
    // Dates of birth.
    for bad in [
        "1999-02-29",
        "1999-13-01",
        "99-01-01",
        "1999/01/01",
        "01-01-1999",
        "2999-01-01",
        "1850-01-01",
    ] {
        refused(
            &client,
            RegisterPayee,
            register_params(json!({"dateOfBirth": bad})),
            "dateOfBirth",
            "date",
        )
        .await;
    }
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    refused(
        &client,
        RegisterPayee,
        register_params(json!({"dateOfBirth": today})),
        "dateOfBirth",
        "past",
    )
    .await;
    refused(
        &client,
        UpdatePayee,
        json!({"customerNo": "1", "dateOfBirth": "2001-02-30"}),
        "dateOfBirth",
        "real date",
    )
    .await;
    // Country codes and email.
    for bad in ["us", "USA", "U", "1A"] {
        refused(
            &client,
            RegisterPayee,
            register_params(json!({"countryCode": bad})),
            "countryCode",
            "two uppercase",
        )
        .await;
        refused(
            &client,
            AddBankAccount,
            bank_params(json!({"accountCountry": bad})),
            "accountCountry",
            "two uppercase",
        )
        .await;
    }
    refused(
        &client,
        AddBankAccount,
        bank_params(json!({"accountCurrency": "usd"})),
        "accountCurrency",
        "three uppercase",
    )
    .await;
    for bad in [
        "john",
        "john@",
        "@example.com",
        "john@example",
        "jo hn@example.com",
        "a@b@c.com",
    ] {
        refused(
            &client,
            RegisterPayee,
            register_params(json!({"email": bad})),
            "email",
            "email address",
        )
        .await;
        refused(
            &client,
            UpdatePayee,
            json!({"customerNo": "1", "email": bad}),
            "email",
            "email address",
        )
        .await;
    }
    // Routing numbers (ABA checksum) and account numbers.
    for bad in [
        "101089293",
        "10108929",
        "1010892920",
        "10108929x",
        "000000001",
    ] {
        refused(
            &client,
            AddBankAccount,
            bank_params(json!({"branchId": bad})),
            "branchId",
            "routing number",
        )
        .await;
    }
    for bad in ["123", "123456789012345678", "12-34-56", ""] {
        refused(
            &client,
            AddBankAccount,
            bank_params(json!({"bankAccountId": bad})),
            "bankAccountId",
            "4 to 17 digits",
        )
        .await;
    }
    // URLs and IPs.
    refused(
        &client,
        Pay,
        pay_params(json!({"ipnUrl": "example.com/hook"})),
        "ipnUrl",
        "http",
    )
    .await;
    refused(
        &client,
        Pay,
        pay_params(json!({"ipnUrl": "ftp://example.com"})),
        "ipnUrl",
        "http",
    )
    .await;
    refused(
        &client,
        AddBankAccount,
        bank_params(json!({"clientIp": "300.1.1.1"})),
        "clientIp",
        "IPv4",
    )
    .await;

    assert!(
        server.received().is_empty(),
        "nothing may be sent: {:?}",
        server.received()
    );

    // And the good values of the same rules pass.
    for good in ["1", "0.01", "12.5", "999999.99", "007.10"] {
        client
            .call_json(Pay, pay_params(json!({"amount": good})))
            .await
            .unwrap();
    }
    for good in ["021000021", "011401533", "091000019"] {
        client
            .call_json(
                AddBankAccount,
                bank_params(json!({"branchId": good, "clientIp": "::1"})),
            )
            .await
            .unwrap();
    }
    client
        .call_json(
            RegisterPayee,
            register_params(json!({"dateOfBirth": "2000-02-29", "email": "a.b+c@example.co.uk"})),
        )
        .await
        .unwrap();
    assert_eq!(server.received().len(), 9);
    assert!(server.problems().is_empty(), "{:?}", server.problems());
}

#[tokio::test]
async fn typed_builders_report_missing_fields_by_name() {
    let server = TestServer::start().await;
    let client = server.client();
    let e = client
        .pay(
            PayParams::builder()
                .customer_no("1")
                .account_token("2")
                .amount("5")
                .currency("USD"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidRequest);
    assert_eq!(e.field(), Some("invoiceId"));
    assert!(e.to_string().contains("invoice_id"), "{e}");
    assert!(server.received().is_empty());
}
