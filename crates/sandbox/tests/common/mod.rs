//! Helpers shared by the sandbox's integration tests: a signing HTTP
//! client built on `reqwest` and `pockyt_payouts_sign` only, an IPN
//! receiver, and polling.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use pockyt_payouts_sign::Signer;
use pockyt_sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Map, Value};

pub const TOKEN: &str = "sandbox-api-token";

/// A config with a short settle delay and a short IPN schedule.
pub fn fast_config() -> SandboxConfig {
    SandboxConfig {
        settle_delay: Duration::from_millis(200),
        ipn_retry_delays: [0, 50, 100, 100, 100, 100, 100, 100]
            .into_iter()
            .map(Duration::from_millis)
            .collect(),
        ..SandboxConfig::default()
    }
}

pub async fn start() -> Sandbox {
    Sandbox::start(fast_config()).await.expect("sandbox starts")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// A unique idempotency key with a prefix.
pub fn key(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A unique invoiceId with a prefix.
pub fn invoice(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// An API example of the spec.
pub fn example(name: &str) -> Value {
    let path = format!("{}/../../spec/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("example is JSON")
}

/// The names of an object's fields.
pub fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

/// Polls `check` until it answers true, for up to `secs` seconds.
pub async fn eventually<F, Fut>(what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "not within {secs} s: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A client of one sandbox that signs as the SDKs do.
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub signer: Signer,
}

impl Api {
    pub fn new(sandbox: &Sandbox) -> Api {
        let config = sandbox.config();
        Api {
            base: sandbox.base_url(),
            http: http(),
            signer: Signer::new(
                config.merchant_no.clone(),
                config.store_no.clone(),
                &config.api_token,
            ),
        }
    }

    /// `params` plus the envelope, signed now.
    pub fn signed(&self, params: &[(&str, &str)]) -> Value {
        let mut map: Map<String, Value> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        self.signer
            .sign_fields(&mut map, SystemTime::now())
            .expect("signs");
        Value::Object(map)
    }

    /// POSTs a JSON body; answers the HTTP response.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// POSTs a raw body with a Content-Type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: String,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// POSTs a JSON body and reads the HTTP 200 JSON answer.
    pub async fn post_value(&self, path: &str, body: &Value) -> Value {
        let response = self.post_json(path, body).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.expect("JSON answer")
    }

    /// Signs `params` and calls `path`.
    pub async fn call(&self, path: &str, params: &[(&str, &str)]) -> Value {
        self.post_value(path, &self.signed(params)).await
    }

    /// POSTs a JSON body with extra request headers and reads the HTTP 200
    /// JSON answer.
    pub async fn post_value_with(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Value {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.expect("JSON answer")
    }

    /// Signs `params` and calls `path` with extra request headers.
    pub async fn call_with(
        &self,
        path: &str,
        params: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Value {
        self.post_value_with(path, &self.signed(params), headers)
            .await
    }

    /// Signs `params` and calls `path` with `Pockyt-Request-ID: key`.
    pub async fn call_keyed(&self, path: &str, params: &[(&str, &str)], key: &str) -> Value {
        self.call_with(path, params, &[("Pockyt-Request-ID", key)])
            .await
    }

    /// Pays (USD) with `Pockyt-Request-ID: key`.
    pub async fn pay_keyed(
        &self,
        customer_no: &str,
        token: &str,
        amount: &str,
        invoice_id: &str,
        key: &str,
    ) -> Value {
        self.call_keyed(
            "/v3/payouts/pay",
            &[
                ("customerNo", customer_no),
                ("accountToken", token),
                ("amount", amount),
                ("currency", "USD"),
                ("invoiceId", invoice_id),
            ],
            key,
        )
        .await
    }

    /// The request log (`GET /_sandbox/requests`).
    pub async fn requests(&self) -> Vec<Value> {
        let (status, body) = self.admin_get("/_sandbox/requests").await;
        assert_eq!(status, 200);
        body["requests"].as_array().expect("requests").clone()
    }

    /// Calls `path` and expects success.
    pub async fn ok(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let answer = self.call(path, params).await;
        assert_eq!(answer["ret_code"], "000100", "{path}: {answer}");
        answer
    }

    /// Registers a payee and answers its customerNo.
    pub async fn register(&self) -> String {
        let answer = self
            .ok(
                "/v3/payee/register",
                &[
                    ("profileType", "INDIVIDUAL"),
                    ("dateOfBirth", "1999-01-01"),
                    ("firstName", "John"),
                    ("lastName", "Doe"),
                    ("email", "john.doe@example.com"),
                    ("customerCode", "1665425422"),
                ],
            )
            .await;
        answer["customer"]["customerNo"]
            .as_str()
            .expect("customerNo")
            .to_owned()
    }

    /// Adds a bank account to a payee and answers its accountToken.
    pub async fn add_bank(&self, customer_no: &str) -> String {
        let answer = self
            .ok(
                "/v3/payee/account/create/bank-account",
                &[
                    ("customerNo", customer_no),
                    ("bankAccountId", "7861053298"),
                    ("branchId", "101089292"),
                    ("bankAccountPurpose", "CHECKING"),
                ],
            )
            .await;
        answer["result"]["accountToken"]
            .as_str()
            .expect("accountToken")
            .to_owned()
    }

    /// A payee with one bank account: (customerNo, accountToken).
    pub async fn payee(&self) -> (String, String) {
        let customer_no = self.register().await;
        let token = self.add_bank(&customer_no).await;
        (customer_no, token)
    }

    /// Pays and answers the JSON answer.
    pub async fn pay(
        &self,
        customer_no: &str,
        token: &str,
        amount: &str,
        invoice_id: &str,
    ) -> Value {
        self.call(
            "/v3/payouts/pay",
            &[
                ("customerNo", customer_no),
                ("accountToken", token),
                ("amount", amount),
                ("currency", "USD"),
                ("invoiceId", invoice_id),
            ],
        )
        .await
    }

    /// Inquires about a payout and answers the JSON answer.
    pub async fn inquire(&self, invoice_id: &str) -> Value {
        self.call("/v3/payouts/inquiry", &[("invoiceId", invoice_id)])
            .await
    }

    /// The payout's status through inquiry.
    pub async fn status_of(&self, invoice_id: &str) -> String {
        let answer = self.inquire(invoice_id).await;
        answer["result"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn admin_get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }

    pub async fn admin_delete(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .delete(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }
}

/// One IPN as the receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub fields: Vec<(String, String)>,
    pub verified: bool,
}

impl Received {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An IPN receiver on 127.0.0.1:0 that verifies every IPN with the API
/// token, answers `fail` to the first `failures` requests and `success`
/// afterwards.
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct ReceiverState {
    received: Arc<Mutex<Vec<Received>>>,
    failures: usize,
}

impl Receiver {
    pub async fn start(failures: usize) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = ReceiverState {
            received: Arc::clone(&received),
            failures,
        };
        let app = Router::new()
            .route(
                "/ipn",
                post(
                    |State(state): State<ReceiverState>, body: Bytes| async move {
                        let verified = pockyt_payouts_sign::verify_urlencoded(&body, TOKEN);
                        let fields = pockyt_payouts_sign::parse_urlencoded(&body);
                        let mut received = state.received.lock().unwrap();
                        received.push(Received { fields, verified });
                        if received.len() <= state.failures {
                            "fail"
                        } else {
                            "success"
                        }
                    },
                ),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/ipn", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver serves");
        });
        Receiver {
            url,
            received,
            server,
        }
    }

    pub fn got(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A JSON object from pairs, for admin bodies.
pub fn object(pairs: &[(&str, &str)]) -> Value {
    let map: Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    Value::Object(map)
}
