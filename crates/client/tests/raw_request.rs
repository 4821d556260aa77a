//! The signed raw request: envelope filled and signed, state-changing
//! rules and idempotency key, bounded answer, the same typed errors.

mod common;

use std::time::Duration;

use common::RawServer;
use pockyt_payouts::{Client, Config, ErrorCode, RetCode, RetryPolicy};
use pockyt_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

#[tokio::test]
async fn a_raw_request_is_signed_and_answers_the_whole_object() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let sc = sandbox.config().clone();
    let client = Client::new(
        Config::new(
            sc.merchant_no.clone(),
            sc.store_no.clone(),
            sc.api_token.as_str(),
        )
        .with_base_url(sandbox.base_url()),
    )
    .unwrap();
    // A modelled path works too (the sandbox verifies the signature).
    let answer = client
        .request("/v3/payouts/balance", json!({ "currency": "USD" }))
        .await
        .unwrap();
    assert_eq!(answer["ret_code"], "000100");
    assert_eq!(answer["balance"]["amount"], "1000000.00");
    // A refusal is the same typed error as the modelled calls'.
    let e = client
        .request("/v3/payee/retrieve", json!({ "customerNo": "0" }))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Api(RetCode::NoRelatedInformation));
    // An unmodelled path reaches the server signed; the sandbox does not
    // serve it (HTTP 404).
    let e = client
        .request(
            "/v3/payee/account/configurations",
            json!({ "country": "US" }),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Http);
    assert_eq!(e.http_status(), Some(404));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_paths_and_envelope_fields_are_refused_before_sending() {
    let server = RawServer::start(|_| async {}).await;
    let client =
        Client::new(Config::new("1", "2", "test-token-1234").with_base_url(&server.base_url))
            .unwrap();
    for path in [
        "v3/payouts/pay",
        "/v2/payouts/pay",
        "/v3/../admin",
        "/v3/a b",
        "https://evil.example/v3/x",
    ] {
        let e = client.request(path, json!({})).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidRequest, "{path}");
        assert_eq!(e.field(), Some("path"), "{path}");
    }
    let e = client
        .request("/v3/x", json!({ "verifySign": "00" }))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("verifySign"));
    let e = client
        .request("/v3/x", json!({ "n": 1 }))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("n"));
    assert_eq!(server.hits(), 0, "nothing was sent");
}

#[tokio::test]
async fn an_unmodelled_path_is_state_changing_and_resent_with_one_key() {
    let server = common::TestServer::start().await;
    // The test server knows no such path: it answers 404, a definite
    // refusal, so the request is sent once; with a 503 it is resent with
    // the same key.
    let client = Client::new(
        server.config().retry_policy(
            RetryPolicy::default()
                .max_retries(2)
                .base_delay(Duration::from_millis(1)),
        ),
    )
    .unwrap();
    let e = client
        .request(
            "/v3/payee/account/create/crypto",
            json!({ "customerNo": "1" }),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Http);
    let keys = server.request_ids();
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0].as_deref().is_some_and(|k| k.len() == 36),
        "{keys:?}"
    );
}
