//! Every error code, in the order the checks are made, with no payload.

mod common;

use std::time::{Duration, SystemTime};

use common::{invoice, start, Api, TOKEN};
use pockyt_payouts_sign::Signer;
use serde_json::{json, Value};

/// `answer` is the error `code`, its message mentions `mention`, and it
/// carries nothing but `ret_code` and `ret_msg`.
fn assert_error(answer: &Value, code: &str, mention: &str) {
    assert_eq!(answer["ret_code"], code, "{answer}");
    let message = answer["ret_msg"].as_str().unwrap_or_default();
    assert!(
        message.contains(mention),
        "{message:?} should mention {mention:?}"
    );
    let keys = common::keys(answer);
    assert_eq!(keys.len(), 2, "an error carries no payload: {answer}");
}

/// Signs any JSON map of strings with the API token (no envelope added).
fn sign_raw(mut body: Value, token: &str) -> Value {
    let pairs: Vec<(String, String)> = body
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let signature = pockyt_payouts_sign::sign(pairs, token);
    body["verifySign"] = Value::String(signature);
    body
}

#[tokio::test]
async fn missing_envelope_fields_are_000020() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    for field in ["merchantNo", "storeNo", "verifySign"] {
        let mut body = api.signed(&[("currency", "USD")]);
        body.as_object_mut().unwrap().remove(field);
        let answer = api.post_value("/v3/payouts/balance", &body).await;
        assert_error(&answer, "000020", field);
    }
    // Presence is checked before the merchant is.
    let body = sign_raw(
        json!({ "merchantNo": "1", "storeNo": "", "currency": "USD" }),
        TOKEN,
    );
    assert_error(
        &api.post_value("/v3/payouts/balance", &body).await,
        "000020",
        "storeNo",
    );
}

#[tokio::test]
async fn a_wrong_signature_merchant_or_store_is_000030() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);

    let other_token = Signer::new("202333", "301854", "not-the-token");
    let mut body = serde_json::Map::new();
    body.insert("currency".into(), "USD".into());
    other_token
        .sign_fields(&mut body, SystemTime::now())
        .unwrap();
    let answer = api
        .post_value("/v3/payouts/balance", &Value::Object(body))
        .await;
    assert_error(&answer, "000030", "verifySign");

    let mut tampered = api.signed(&[("currency", "USD")]);
    tampered["currency"] = "EUR".into();
    assert_error(
        &api.post_value("/v3/payouts/balance", &tampered).await,
        "000030",
        "verifySign",
    );

    // A field added after signing is not signed.
    let mut extra = api.signed(&[("currency", "USD")]);
    extra["subject"] = "x".into();
    assert_error(
        &api.post_value("/v3/payouts/balance", &extra).await,
        "000030",
        "verifySign",
    );

    let other_merchant = Signer::new("999999", "301854", TOKEN);
    let mut body = serde_json::Map::new();
    body.insert("currency".into(), "USD".into());
    other_merchant
        .sign_fields(&mut body, SystemTime::now())
        .unwrap();
    let answer = api
        .post_value("/v3/payouts/balance", &Value::Object(body))
        .await;
    assert_error(&answer, "000030", "merchantNo");

    let other_store = Signer::new("202333", "1", TOKEN);
    let mut body = serde_json::Map::new();
    body.insert("currency".into(), "USD".into());
    other_store
        .sign_fields(&mut body, SystemTime::now())
        .unwrap();
    let answer = api
        .post_value("/v3/payouts/balance", &Value::Object(body))
        .await;
    assert_error(&answer, "000030", "storeNo");

    // The signature is checked before the operation's own fields.
    let mut body = api.signed(&[]);
    body["verifySign"] = "0".repeat(32).into();
    assert_error(
        &api.post_value("/v3/payouts/pay", &body).await,
        "000030",
        "verifySign",
    );
}

#[tokio::test]
async fn unparseable_bodies_and_non_string_values_are_000023() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let response = api
        .post_raw(
            "/v3/payouts/balance",
            "application/json",
            "{\"currency\": ".into(),
        )
        .await;
    assert_error(&response.json().await.unwrap(), "000023", "JSON");
    let response = api
        .post_raw(
            "/v3/payouts/balance",
            "application/json",
            "[\"USD\"]".into(),
        )
        .await;
    assert_error(&response.json().await.unwrap(), "000023", "object");

    let mut body = api.signed(&[("currency", "USD")]);
    body["amount"] = json!(5);
    assert_error(
        &api.post_value("/v3/payouts/balance", &body).await,
        "000023",
        "amount",
    );

    let response = api
        .post_raw(
            "/v3/payouts/balance",
            "application/x-www-form-urlencoded",
            "currency=USD&currency=EUR".into(),
        )
        .await;
    assert_error(&response.json().await.unwrap(), "000023", "currency");
}

#[tokio::test]
async fn a_bad_or_stale_timestamp_is_000023() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let stale = Signer::new("202333", "301854", TOKEN);
    let mut body = serde_json::Map::new();
    body.insert("currency".into(), "USD".into());
    stale
        .sign_fields(&mut body, SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let answer = api
        .post_value("/v3/payouts/balance", &Value::Object(body.clone()))
        .await;
    assert_error(&answer, "000023", "timestamp");

    let mut future = serde_json::Map::new();
    future.insert("currency".into(), "USD".into());
    stale
        .sign_fields(&mut future, SystemTime::now() + Duration::from_secs(3600))
        .unwrap();
    let answer = api
        .post_value("/v3/payouts/balance", &Value::Object(future))
        .await;
    assert_error(&answer, "000023", "timestamp");

    let body = sign_raw(
        json!({ "merchantNo": "202333", "storeNo": "301854", "currency": "USD", "timestamp": "2023-02-13 10:50:58" }),
        TOKEN,
    );
    assert_error(
        &api.post_value("/v3/payouts/balance", &body).await,
        "000023",
        "timestamp",
    );

    // The timestamp is checked before the operation's own fields.
    let mut body = serde_json::Map::new();
    stale
        .sign_fields(&mut body, SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let answer = api
        .post_value("/v3/payouts/pay", &Value::Object(body))
        .await;
    assert_error(&answer, "000023", "timestamp");
}

#[tokio::test]
async fn missing_mandatory_fields_are_000020_for_every_operation() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let cases: [(&str, Vec<(&str, &str)>); 8] = [
        (
            "/v3/payee/register",
            vec![("profileType", "INDIVIDUAL"), ("dateOfBirth", "1999-01-01")],
        ),
        (
            "/v3/payee/retrieve",
            vec![("customerNo", customer_no.as_str())],
        ),
        (
            "/v3/payee/update",
            vec![("customerNo", customer_no.as_str())],
        ),
        (
            "/v3/payee/account/create/bank-account",
            vec![
                ("customerNo", customer_no.as_str()),
                ("bankAccountId", "7861053298"),
                ("branchId", "101089292"),
                ("bankAccountPurpose", "CHECKING"),
            ],
        ),
        (
            "/v3/payee/payout-accounts",
            vec![("customerNo", customer_no.as_str())],
        ),
        (
            "/v3/payouts/pay",
            vec![
                ("customerNo", customer_no.as_str()),
                ("accountToken", token.as_str()),
                ("amount", "1"),
                ("currency", "USD"),
                ("invoiceId", "mandatory-1"),
            ],
        ),
        ("/v3/payouts/inquiry", vec![("invoiceId", "mandatory-1")]),
        ("/v3/payouts/balance", vec![("currency", "USD")]),
    ];
    for (path, params) in &cases {
        for (i, (missing, _)) in params.iter().enumerate() {
            let without: Vec<(&str, &str)> = params
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, p)| *p)
                .collect();
            let answer = api.call(path, &without).await;
            assert_error(&answer, "000020", missing);
            // Present but empty or blank is missing too.
            let mut blank = params.clone();
            blank[i].1 = "  ";
            let answer = api.call(path, &blank).await;
            assert_error(&answer, "000020", missing);
        }
    }
    assert!(sandbox.payouts().is_empty());
    // Mandatory fields are checked before the rules of the others.
    let answer = api
        .call(
            "/v3/payouts/pay",
            &[
                ("customerNo", &customer_no),
                ("amount", "-5"),
                ("currency", "usd"),
            ],
        )
        .await;
    assert_error(&answer, "000020", "accountToken");
}

#[tokio::test]
async fn values_breaking_the_shared_rules_are_000023() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let register = |field: &'static str, value: &'static str| {
        let mut params = vec![("profileType", "INDIVIDUAL"), ("dateOfBirth", "1999-01-01")];
        params.retain(|(k, _)| *k != field);
        params.push((field, value));
        params
    };
    for (field, value) in [
        ("profileType", "ROBOT"),
        ("dateOfBirth", "1999-02-29"),
        ("dateOfBirth", "01/01/1999"),
        ("email", "john@"),
        ("countryCode", "USA"),
        ("governmentIdType", "LIBRARY_CARD"),
    ] {
        let answer = api
            .call("/v3/payee/register", &register(field, value))
            .await;
        assert_error(&answer, "000023", field);
    }
    let answer = api
        .call(
            "/v3/payee/update",
            &[("customerNo", &customer_no), ("email", "not an email")],
        )
        .await;
    assert_error(&answer, "000023", "email");

    let bank = |field: &'static str, value: &'static str| {
        let mut params = vec![
            ("customerNo", customer_no.as_str()),
            ("bankAccountId", "7861053298"),
            ("branchId", "101089292"),
            ("bankAccountPurpose", "CHECKING"),
        ];
        params.retain(|(k, _)| *k != field);
        params.push((field, value));
        params
    };
    for (field, value) in [
        ("branchId", "101089293"),
        ("branchId", "12345"),
        ("bankAccountId", "12ab"),
        ("bankAccountPurpose", "BROKERAGE"),
        ("accountType", "CARD"),
        ("accountCountry", "usa"),
        ("accountCurrency", "dollars"),
        ("clientIp", "300.1.1.1"),
        ("ipnUrl", "ftp://example.com"),
    ] {
        let answer = api
            .call("/v3/payee/account/create/bank-account", &bank(field, value))
            .await;
        assert_error(&answer, "000023", field);
    }

    let long_invoice = "x".repeat(65);
    let pay = |field: &'static str, value: &str| {
        let mut params: Vec<(&str, String)> = vec![
            ("customerNo", customer_no.clone()),
            ("accountToken", token.clone()),
            ("amount", "1".into()),
            ("currency", "USD".into()),
            ("invoiceId", invoice("rules-")),
        ];
        params.retain(|(k, _)| *k != field);
        params.push((field, value.to_owned()));
        params
    };
    for (field, value) in [
        ("amount", "-5"),
        ("amount", "0"),
        ("amount", "5.001"),
        ("amount", "1,000"),
        ("amount", "1e3"),
        ("currency", "usd"),
        ("invoiceId", long_invoice.as_str()),
        ("ipnUrl", "example.com/ipn"),
        ("processingChannel", "CARRIER_PIGEON"),
    ] {
        let params = pay(field, value);
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = api.call("/v3/payouts/pay", &borrowed).await;
        assert_error(&answer, "000023", field);
    }
    let answer = api.call("/v3/payouts/balance", &[("currency", "US")]).await;
    assert_error(&answer, "000023", "currency");
    assert!(sandbox.payouts().is_empty());
    assert_eq!(sandbox.balance("USD").as_deref(), Some("1000000.00"));
}

#[tokio::test]
async fn unknown_references_are_000021() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let nobody = "2000999999999999999999";
    for path in [
        "/v3/payee/retrieve",
        "/v3/payee/update",
        "/v3/payee/payout-accounts",
    ] {
        assert_error(
            &api.call(path, &[("customerNo", nobody)]).await,
            "000021",
            "customerNo",
        );
    }
    let answer = api
        .call(
            "/v3/payee/account/create/bank-account",
            &[
                ("customerNo", nobody),
                ("bankAccountId", "7861053298"),
                ("branchId", "101089292"),
                ("bankAccountPurpose", "CHECKING"),
            ],
        )
        .await;
    assert_error(&answer, "000021", "customerNo");
    assert_error(
        &api.pay(nobody, &token, "1", &invoice("u-")).await,
        "000021",
        "customerNo",
    );
    assert_error(
        &api.pay(&customer_no, "2010999999999999999999", "1", &invoice("u-"))
            .await,
        "000021",
        "accountToken",
    );
    assert_error(&api.inquire("never-paid").await, "000021", "invoiceId");
    assert_error(
        &api.call("/v3/payouts/balance", &[("currency", "EUR")])
            .await,
        "000021",
        "EUR",
    );
    assert!(sandbox.payouts().is_empty());
}

#[tokio::test]
async fn an_account_of_another_payee_is_000022() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, _token) = api.payee().await;
    let (_other, other_token) = api.payee().await;
    let answer = api
        .pay(&customer_no, &other_token, "1", &invoice("m-"))
        .await;
    assert_error(&answer, "000022", "accountToken");
    assert!(sandbox.payouts().is_empty());
    assert_eq!(sandbox.balance("USD").as_deref(), Some("1000000.00"));
}

#[tokio::test]
async fn a_pay_beyond_the_balance_is_000040() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let answer = api
        .pay(&customer_no, &token, "1000000.01", &invoice("big-"))
        .await;
    assert_error(&answer, "000040", "balance");
    let answer = api
        .call(
            "/v3/payouts/pay",
            &[
                ("customerNo", &customer_no),
                ("accountToken", &token),
                ("amount", "1"),
                ("currency", "EUR"),
                ("invoiceId", &invoice("eur-")),
            ],
        )
        .await;
    assert_error(&answer, "000040", "EUR");
    assert!(sandbox.payouts().is_empty());
    // The whole balance can be paid.
    let answer = api
        .pay(&customer_no, &token, "1000000.00", &invoice("all-"))
        .await;
    assert_eq!(answer["ret_code"], "000100", "{answer}");
    assert_eq!(sandbox.balance("USD").as_deref(), Some("0.00"));
}

#[tokio::test]
async fn a_json_body_naming_a_field_twice_is_refused() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let good = api.signed(&[("currency", "USD")]);
    let sig = good["verifySign"].as_str().unwrap().to_owned();
    // A bogus verifySign first, the right one last: serde_json alone would
    // keep the last and accept it.
    let mut text = good.to_string();
    text.insert_str(1, "\"verifySign\":\"00000000000000000000000000000000\",");
    assert!(text.contains(&sig));
    let response = api
        .http
        .post(format!("{}/v3/payouts/balance", api.base))
        .header("content-type", "application/json")
        .body(text)
        .send()
        .await
        .unwrap();
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["ret_code"], "000023", "{answer}");
    assert!(
        answer["ret_msg"]
            .as_str()
            .unwrap()
            .contains("more than once"),
        "{answer}"
    );
}
