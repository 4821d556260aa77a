//! A local stand-in for the API written from the API page alone: it checks
//! every request (path, JSON body of strings, envelope, timestamp within 10
//! minutes, mandatory fields, and the signature, recomputed here with md-5
//! directly rather than with the SDK's signing crate) and answers the API
//! page's example responses verbatim, or whatever a test scripts.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use md5::{Digest, Md5};
use serde_json::{Map, Value};

pub const MERCHANT_NO: &str = "202333";
pub const STORE_NO: &str = "301854";
pub const API_TOKEN: &str = "test-api-token-7f3a9c";

/// What a test wants the server to answer next (consumed in order; when
/// the queue is empty the API page's example for the path is answered).
#[derive(Clone, Debug)]
pub enum Scripted {
    /// HTTP 200 with this JSON text.
    Json(String),
    /// This status and body.
    Status(u16, String),
    /// Wait, then answer the example.
    Delay(Duration),
}

#[derive(Default)]
pub struct Inner {
    pub received: Mutex<Vec<(String, Map<String, Value>)>>,
    /// The `Pockyt-Request-ID` of each request received, in order.
    pub request_ids: Mutex<Vec<Option<String>>>,
    pub problems: Mutex<Vec<String>>,
    pub script: Mutex<VecDeque<Scripted>>,
}

pub struct TestServer {
    pub base_url: String,
    pub inner: Arc<Inner>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestServer {
            base_url,
            inner,
            _shutdown: tx,
        }
    }

    pub fn script(&self, answer: Scripted) {
        self.inner.script.lock().unwrap().push_back(answer);
    }

    pub fn received(&self) -> Vec<(String, Map<String, Value>)> {
        self.inner.received.lock().unwrap().clone()
    }

    /// The `Pockyt-Request-ID` of each request received, in order.
    pub fn request_ids(&self) -> Vec<Option<String>> {
        self.inner.request_ids.lock().unwrap().clone()
    }

    pub fn problems(&self) -> Vec<String> {
        self.inner.problems.lock().unwrap().clone()
    }

    pub fn config(&self) -> pockyt_payouts::Config {
        pockyt_payouts::Config::new(MERCHANT_NO, STORE_NO, API_TOKEN)
            .with_base_url(&self.base_url)
            .retry_policy(pockyt_payouts::RetryPolicy::none())
    }

    pub fn client(&self) -> pockyt_payouts::Client {
        pockyt_payouts::Client::new(self.config()).unwrap()
    }
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The API page's rule, written out again here on purpose.
pub fn expected_sign(fields: &Map<String, Value>, token: &str) -> String {
    let mut names: Vec<&String> = fields.keys().filter(|k| *k != "verifySign").collect();
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut text = String::new();
    for name in names {
        text.push_str(name);
        text.push('=');
        text.push_str(fields[name].as_str().unwrap_or_default());
        text.push('&');
    }
    text.push_str(&md5_hex(token.as_bytes()));
    md5_hex(text.as_bytes())
}

pub fn mandatory(path: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match path {
        "/v3/payee/register" => ("register_payee", &["profileType", "dateOfBirth"]),
        "/v3/payee/retrieve" => ("retrieve_payee", &["customerNo"]),
        "/v3/payee/update" => ("update_payee", &["customerNo"]),
        "/v3/payee/account/create/bank-account" => (
            "add_bank_account",
            &[
                "customerNo",
                "bankAccountId",
                "branchId",
                "bankAccountPurpose",
                "accountType",
            ],
        ),
        "/v3/payee/payout-accounts" => ("list_payout_accounts", &["customerNo"]),
        "/v3/payee/account/delete" => ("delete_payout_account", &["customerNo", "accountToken"]),
        "/v3/payouts/pay" => (
            "pay",
            &[
                "accountToken",
                "amount",
                "currency",
                "customerNo",
                "invoiceId",
            ],
        ),
        "/v3/payouts/inquiry" => ("inquire_payout", &["invoiceId"]),
        "/v3/payouts/balance" => ("balance", &["currency"]),
        _ => return None,
    })
}

pub fn example_text(name: &str) -> String {
    let path = format!(
        "{}/../../spec/examples/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

fn json(text: String) -> Response {
    ([("content-type", "application/json")], text).into_response()
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: axum::http::Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    inner.request_ids.lock().unwrap().push(
        headers
            .get("pockyt-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    );
    let path = uri.path().to_owned();
    let problem = |p: String| inner.problems.lock().unwrap().push(format!("{path}: {p}"));
    if method != axum::http::Method::POST {
        problem(format!("method {method}"));
    }
    let Some((example, required)) = mandatory(&path) else {
        problem("unknown path".into());
        return (StatusCode::NOT_FOUND, "no such path").into_response();
    };
    let fields: Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(map)) => map,
        _ => {
            problem("body is not a JSON object".into());
            Map::new()
        }
    };
    inner
        .received
        .lock()
        .unwrap()
        .push((path.clone(), fields.clone()));
    if fields.values().any(|v| !v.is_string()) {
        problem("a value is not a string".into());
    }
    if fields.get("merchantNo").and_then(Value::as_str) != Some(MERCHANT_NO)
        || fields.get("storeNo").and_then(Value::as_str) != Some(STORE_NO)
    {
        problem("wrong merchantNo/storeNo".into());
    }
    match fields.get("timestamp").and_then(Value::as_str) {
        Some(ts) => match chrono::NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%SZ") {
            Ok(t) if ts.len() == 20 => {
                let skew = (chrono::Utc::now().naive_utc() - t).num_seconds().abs();
                if skew > 600 {
                    problem(format!("timestamp {ts} is {skew} s off"));
                }
            }
            _ => problem(format!("timestamp {ts:?} is not YYYY-MM-DDTHH:MM:SSZ")),
        },
        None => problem("no timestamp".into()),
    }
    if fields.get("verifySign").and_then(Value::as_str)
        != Some(expected_sign(&fields, API_TOKEN).as_str())
    {
        problem("bad verifySign".into());
    }
    for name in required {
        if fields
            .get(*name)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            problem(format!("mandatory {name} missing"));
        }
    }
    let next = inner.script.lock().unwrap().pop_front();
    match next {
        Some(Scripted::Json(text)) => json(text),
        Some(Scripted::Status(code, text)) => {
            (StatusCode::from_u16(code).unwrap(), text).into_response()
        }
        Some(Scripted::Delay(d)) => {
            tokio::time::sleep(d).await;
            json(example_text(&format!("{example}.response")))
        }
        None => json(example_text(&format!("{example}.response"))),
    }
}

/// Everything traced (at every level) while the guard lives, as text.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub fn install() -> (Capture, tracing::subscriber::DefaultGuard) {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        (capture, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Registers a payee and adds a bank account; answers (customerNo, accountToken).
pub async fn payee_with_account(client: &pockyt_payouts::Client) -> (String, String) {
    use pockyt_payouts::types::{AddBankAccountParams, RegisterPayeeParams};
    let payee = client
        .register_payee(
            RegisterPayeeParams::builder()
                .profile_type(pockyt_payouts::ProfileType::Individual)
                .date_of_birth("1999-01-01")
                .first_name(Some("John".to_string()))
                .last_name(Some("Doe".to_string()))
                .email(Some("john.doe@example.com".to_string())),
        )
        .await
        .unwrap();
    let customer_no = payee.customer_no;
    let account = client
        .add_bank_account(
            AddBankAccountParams::builder()
                .customer_no(customer_no.clone())
                .bank_account_id("7861053298")
                .branch_id("101089292")
                .bank_account_purpose(pockyt_payouts::BankAccountPurpose::Checking),
        )
        .await
        .unwrap();
    (customer_no, account.account_token)
}

/// A raw HTTP/1.1 server on 127.0.0.1 (port 0) for answers no well-behaved
/// server gives: each connection's request is read, then `respond` writes
/// whatever it likes. It lives in the test's runtime and stops with it.
pub struct RawServer {
    pub base_url: String,
    /// Requests received so far.
    pub hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl RawServer {
    pub async fn start<F, Fut>(respond: F) -> RawServer
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        let respond = Arc::new(respond);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (respond, counter) = (respond.clone(), counter.clone());
                tokio::spawn(async move {
                    if read_request(&mut stream).await {
                        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        respond(stream).await;
                    }
                });
            }
        });
        RawServer { base_url, hits }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Reads one request (headers, then a Content-Length body); `false` if the
/// connection ended first.
async fn read_request(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return true;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 20 {
            return false;
        }
    }
}

/// Writes a chunked HTTP 200 answer of `total` bytes (`None`: endless) in
/// 64 KiB chunks, until done or the client leaves.
pub async fn stream_chunked(stream: tokio::net::TcpStream, total: Option<u64>) {
    stream_chunked_status(stream, "200 OK", total).await
}

/// Like [`stream_chunked`], with another status line.
pub async fn stream_chunked_status(
    mut stream: tokio::net::TcpStream,
    status: &str,
    total: Option<u64>,
) {
    use tokio::io::AsyncWriteExt;
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let piece = vec![b' '; 64 * 1024];
    let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
    framed.extend_from_slice(&piece);
    framed.extend_from_slice(b"\r\n");
    let mut sent = 0u64;
    while total.is_none_or(|t| sent < t) {
        if stream.write_all(&framed).await.is_err() {
            return;
        }
        sent += piece.len() as u64;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
}
