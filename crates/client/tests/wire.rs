//! What goes on the wire: every call is a POST with `Accept` and
//! `Content-Type: application/json`, a `Pockyt-Request-ID` exactly when the
//! operation takes one, no `api-version`, and a compact JSON body of string
//! fields in byte order of their names, the envelope and a valid
//! `verifySign` among them (signed straight from the typed params).

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::IntoResponse;
use common::{example_text, expected_sign, API_TOKEN, MERCHANT_NO, STORE_NO};
use pockyt_payouts::types::{BalanceParams, PayParams};
use pockyt_payouts::{Client, Config, RetryPolicy};
use serde_json::{Map, Value};

type Seen = Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>;

async fn record(
    State(seen): State<Seen>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let name = common::mandatory(uri.path()).map_or("balance", |(name, _)| name);
    seen.lock()
        .unwrap()
        .push((uri.path().to_owned(), headers, body));
    (
        [("content-type", "application/json")],
        example_text(&format!("{name}.response")),
    )
}

async fn server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .fallback(record)
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base_url, seen)
}

/// Checks one request's headers and body; answers its fields.
fn check(headers: &HeaderMap, body: &[u8], request_id: bool) -> Map<String, Value> {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header("accept").as_deref(), Some("application/json"));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(header("api-version"), None);
    assert_eq!(
        header("pockyt-request-id").is_some(),
        request_id,
        "{headers:?}"
    );
    let fields: Map<String, Value> = serde_json::from_slice(body).unwrap();
    // Compact, names in byte order: what a JSON encoder writes for a
    // sorted map of the same strings.
    let sorted: BTreeMap<&str, &str> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().expect("string values")))
        .collect();
    assert_eq!(
        std::str::from_utf8(body).unwrap(),
        serde_json::to_string(&sorted).unwrap()
    );
    assert_eq!(fields["merchantNo"], MERCHANT_NO);
    assert_eq!(fields["storeNo"], STORE_NO);
    assert_eq!(
        fields["verifySign"].as_str(),
        Some(expected_sign(&fields, API_TOKEN).as_str())
    );
    fields
}

#[tokio::test]
async fn calls_send_the_same_headers_and_a_signed_sorted_body() {
    let (base_url, seen) = server().await;
    let client = Client::new(
        Config::new(MERCHANT_NO, STORE_NO, API_TOKEN)
            .with_base_url(&base_url)
            .retry_policy(RetryPolicy::none()),
    )
    .unwrap();

    client
        .pay(
            PayParams::builder()
                .customer_no("2000305228292319592008")
                .account_token("2010305228303182765718")
                .amount("500.00")
                .currency("USD")
                .invoice_id("wire-1")
                .note(Some("quote \" backslash \\ tab \t é & = done".to_owned())),
        )
        .await
        .unwrap();
    client
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap();
    client
        .request(
            "/v3/payee/account/configurations",
            serde_json::json!({ "country": "US", "currency": "USD", "skipped": null }),
        )
        .await
        .unwrap();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);

    let (path, headers, body) = &seen[0];
    assert_eq!(path, "/v3/payouts/pay");
    let fields = check(headers, body, true);
    assert_eq!(fields["note"], "quote \" backslash \\ tab \t é & = done");
    assert_eq!(fields["invoiceId"], "wire-1");
    assert!(!fields.contains_key("description"), "None is not sent");

    let (path, headers, body) = &seen[1];
    assert_eq!(path, "/v3/payouts/balance");
    let fields = check(headers, body, false);
    assert_eq!(fields.len(), 5);

    let (path, headers, body) = &seen[2];
    assert_eq!(path, "/v3/payee/account/configurations");
    let fields = check(headers, body, true);
    assert_eq!(fields["country"], "US");
    assert!(!fields.contains_key("skipped"));
}
