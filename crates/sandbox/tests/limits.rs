//! Hostile, unsigned clients: huge field counts, slow headers and bodies,
//! more connections than the cap, oversized bodies and fault headers. The
//! sandbox refuses or cuts them off and keeps answering signed calls.
//!
//! Limits are set small so that the tests run fast; nothing here asserts a
//! duration (client timeouts only keep a broken sandbox from hanging them).

mod common;

use std::time::Duration;

use common::{fast_config, invoice, Api};
use pockyt_sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for the sandbox to answer or close a raw
/// connection before it calls the sandbox stuck.
const STUCK: Duration = Duration::from_secs(20);

async fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("sandbox starts")
}

/// A signed balance call answers 000100.
async fn assert_balance_ok(api: &Api) {
    let answer = api
        .post_value("/v3/payouts/balance", &api.signed(&[("currency", "USD")]))
        .await;
    assert_eq!(answer["ret_code"], "000100", "{answer}");
}

/// A form body of `n` distinct fields.
fn wide_form(n: usize) -> String {
    let mut body = String::with_capacity(n * 12);
    for i in 0..n {
        if i > 0 {
            body.push('&');
        }
        body.push_str(&format!("f{i}=v"));
    }
    body
}

/// Everything the sandbox sends on `stream` until it closes it (or resets
/// it); panics when it does neither within [`STUCK`].
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(STUCK, stream.read(&mut buf)).await {
            Err(_) => panic!(
                "the sandbox neither answered nor closed the connection: {}",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_form_of_180k_fields_is_refused_and_the_sandbox_keeps_answering() {
    let sandbox = start(SandboxConfig {
        max_body_bytes: 4 * 1024 * 1024,
        ..fast_config()
    })
    .await;
    let api = Api::new(&sandbox);
    let body = wide_form(180_000);
    assert!(body.len() > 1_500_000);
    let answers = futures_join(
        api.post_raw(
            "/v3/payouts/balance",
            "application/x-www-form-urlencoded",
            body.clone(),
        ),
        api.post_raw(
            "/v3/payouts/balance",
            "application/x-www-form-urlencoded",
            body,
        ),
    )
    .await;
    for response in answers {
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["ret_code"], "000023", "{answer}");
        assert!(
            answer["ret_msg"]
                .as_str()
                .unwrap()
                .contains("more than 256 fields"),
            "{answer}"
        );
    }
    assert_balance_ok(&api).await;
}

/// Both futures, run concurrently.
async fn futures_join<F: std::future::Future>(a: F, b: F) -> [F::Output; 2] {
    let (a, b) = tokio::join!(a, b);
    [a, b]
}

#[tokio::test]
async fn a_180k_field_body_within_the_caps_is_checked_and_repeats_are_found() {
    let sandbox = start(SandboxConfig {
        max_body_bytes: 8 * 1024 * 1024,
        max_fields: 1_000_000,
        ..fast_config()
    })
    .await;
    let api = Api::new(&sandbox);
    // Distinct fields, no signature: read in full, then refused for the
    // missing envelope.
    let answer: Value = api
        .post_raw(
            "/v3/payouts/balance",
            "application/x-www-form-urlencoded",
            wide_form(180_000),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["ret_code"], "000020", "{answer}");
    // The same name twice, far apart: found.
    let repeated = format!("{}&f7=again", wide_form(180_000));
    let answer: Value = api
        .post_raw(
            "/v3/payouts/balance",
            "application/x-www-form-urlencoded",
            repeated,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["ret_code"], "000023", "{answer}");
    assert!(
        answer["ret_msg"]
            .as_str()
            .unwrap()
            .contains("f7 is sent more than once"),
        "{answer}"
    );
    // As JSON too.
    let mut members = Map::new();
    for i in 0..180_000 {
        members.insert(format!("f{i}"), Value::String("v".into()));
    }
    let mut json_text = serde_json::to_string(&Value::Object(members)).unwrap();
    json_text.pop();
    json_text.push_str(r#","f9":"again"}"#);
    let answer: Value = api
        .post_raw("/v3/payouts/balance", "application/json", json_text)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["ret_code"], "000023", "{answer}");
    assert!(
        answer["ret_msg"]
            .as_str()
            .unwrap()
            .contains("f9 is sent more than once"),
        "{answer}"
    );
    assert_balance_ok(&api).await;
}

#[tokio::test]
async fn a_json_body_over_the_field_cap_is_refused() {
    let sandbox = start(SandboxConfig {
        max_fields: 8,
        ..fast_config()
    })
    .await;
    let api = Api::new(&sandbox);
    let mut body = api.signed(&[("currency", "USD")]);
    for i in 0..10 {
        body[format!("extra{i}")] = json!("x");
    }
    let answer = api.post_value("/v3/payouts/balance", &body).await;
    assert_eq!(answer["ret_code"], "000023", "{answer}");
    assert!(answer["ret_msg"]
        .as_str()
        .unwrap()
        .contains("more than 8 fields"));
    // A signed call within the cap (4 envelope fields and currency).
    assert_balance_ok(&api).await;
}

#[tokio::test]
async fn a_body_larger_than_the_limit_is_refused_with_413() {
    let sandbox = start(SandboxConfig {
        max_body_bytes: 1_024,
        ..fast_config()
    })
    .await;
    // Declared far too large: refused at once, nothing read.
    let mut stream = TcpStream::connect(sandbox.local_addr()).await.unwrap();
    stream
        .write_all(
            b"POST /v3/payouts/balance HTTP/1.1\r\nHost: sandbox\r\n\
              Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n",
        )
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than 1024 bytes"), "{answer}");

    // Declared a little too large and sent: read, thrown away, refused.
    let mut stream = TcpStream::connect(sandbox.local_addr()).await.unwrap();
    stream
        .write_all(
            b"POST /v3/payouts/balance HTTP/1.1\r\nHost: sandbox\r\n\
              Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n",
        )
        .await
        .unwrap();
    stream.write_all(&[b' '; 5000]).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Without a Content-Length (chunked): cut off once past the limit.
    let mut stream = TcpStream::connect(sandbox.local_addr()).await.unwrap();
    stream
        .write_all(
            b"POST /v3/payouts/balance HTTP/1.1\r\nHost: sandbox\r\n\
              Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
    let chunk = format!("200\r\n{}\r\n", " ".repeat(0x200));
    for _ in 0..4 {
        stream.write_all(chunk.as_bytes()).await.unwrap();
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    // The rest is read and thrown away, so the client gets the answer
    // rather than a reset.
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // The same through an ordinary client.
    let api = Api::new(&sandbox);
    let body = serde_json::to_string(&json!({ "pad": "x".repeat(3_000) })).unwrap();
    let response = api
        .post_raw("/v3/payouts/balance", "application/json", body)
        .await;
    assert_eq!(response.status(), 413);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["ret_code"], "000023", "{answer}");
    assert_balance_ok(&Api::new(&sandbox)).await;
}

#[tokio::test]
async fn a_slow_body_is_cut_off_with_408() {
    let sandbox = start(SandboxConfig {
        body_read_timeout: Duration::from_millis(300),
        ..fast_config()
    })
    .await;
    let mut stream = TcpStream::connect(sandbox.local_addr()).await.unwrap();
    stream
        .write_all(
            b"POST /v3/payouts/balance HTTP/1.1\r\nHost: sandbox\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"cur",
        )
        .await
        .unwrap();
    // The rest of the body never comes.
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"));
    assert_balance_ok(&Api::new(&sandbox)).await;
}

#[tokio::test]
async fn slow_or_idle_headers_are_cut_off() {
    let sandbox = start(SandboxConfig {
        header_read_timeout: Duration::from_millis(300),
        ..fast_config()
    })
    .await;
    // Half a request head, then nothing.
    let mut slow = TcpStream::connect(sandbox.local_addr()).await.unwrap();
    slow.write_all(b"POST /v3/payouts/balance HTTP/1.1\r\nHost: sandbox\r\n")
        .await
        .unwrap();
    // Nothing at all.
    let mut idle = TcpStream::connect(sandbox.local_addr()).await.unwrap();
    for stream in [&mut slow, &mut idle] {
        let answer = read_until_closed(stream).await;
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    assert_balance_ok(&Api::new(&sandbox)).await;
}

#[tokio::test]
async fn a_signed_call_gets_through_while_slow_connections_are_held_open() {
    let sandbox = start(SandboxConfig {
        max_connections: 32,
        ..fast_config()
    })
    .await;
    let api = Api::new(&sandbox);
    // Below the cap: held open (the default timeouts are 10 s), and the
    // signed call is served at once beside them.
    let mut held = Vec::new();
    for _ in 0..24 {
        let mut stream = TcpStream::connect(sandbox.local_addr()).await.unwrap();
        stream
            .write_all(b"POST /v3/payouts/balance HTTP/1.1\r\nHost: sandbox\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    assert_balance_ok(&api).await;
    assert_eq!(held.len(), 24);
}

#[tokio::test]
async fn past_the_connection_cap_a_signed_call_waits_for_a_free_slot() {
    let sandbox = start(SandboxConfig {
        max_connections: 4,
        header_read_timeout: Duration::from_millis(400),
        ..fast_config()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..12 {
        let mut stream = TcpStream::connect(sandbox.local_addr()).await.unwrap();
        stream.write_all(b"POST /v3/pay").await.unwrap();
        held.push(stream);
    }
    // All 12 slow connections come before it, 4 at a time; each is cut
    // off by the header timeout, and then the call is served.
    let api = Api::new(&sandbox);
    assert_balance_ok(&api).await;
    for stream in &mut held {
        let answer = read_until_closed(stream).await;
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    assert_balance_ok(&api).await;
}

#[tokio::test]
async fn no_connections_at_all_is_refused_at_start() {
    let error = Sandbox::start(SandboxConfig {
        max_connections: 0,
        ..fast_config()
    })
    .await
    .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

/// Posts `body` to `path` with an `x-sandbox-fault` header.
async fn post_with_fault(api: &Api, path: &str, body: &Value, fault: &str) -> reqwest::Response {
    api.http
        .post(format!("{}{path}", api.base))
        .header("x-sandbox-fault", fault)
        .json(body)
        .send()
        .await
        .expect("an answer, not a fault")
}

#[tokio::test]
async fn an_unsigned_request_is_never_faulted() {
    let sandbox = start(fast_config()).await;
    let api = Api::new(&sandbox);
    let unsigned = json!({ "merchantNo": "202333", "storeNo": "301854", "currency": "USD" });
    let mut forged = api.signed(&[("currency", "USD")]);
    forged["verifySign"] = json!("0".repeat(32));
    // The client gives up after 30 s; a one-minute delay would fail this.
    for fault in [
        "delay=60000",
        "delay_after=60000",
        "drop",
        "http_503",
        "ret_000080",
        "explode",
    ] {
        let response = post_with_fault(&api, "/v3/payouts/balance", &unsigned, fault).await;
        assert_eq!(response.status(), 200, "{fault}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["ret_code"], "000020", "{fault}: {answer}");
        let response = post_with_fault(&api, "/v3/payouts/balance", &forged, fault).await;
        assert_eq!(response.status(), 200, "{fault}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["ret_code"], "000030", "{fault}: {answer}");
    }
    // Nor by an invoiceId test value.
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("fault-http_503-");
    let mut pay = api.signed(&[
        ("customerNo", &customer_no),
        ("accountToken", &token),
        ("amount", "1"),
        ("currency", "USD"),
        ("invoiceId", &invoice_id),
    ]);
    pay["verifySign"] = json!("0".repeat(32));
    let answer = api.post_value("/v3/payouts/pay", &pay).await;
    assert_eq!(answer["ret_code"], "000030", "{answer}");
    assert!(sandbox.payouts().is_empty());
    // Nor by an admin rule: the rule waits for a signed request.
    let (status, _) = api
        .admin_post(
            "/_sandbox/faults",
            json!({ "operation": "balance", "fault": "http_502" }),
        )
        .await;
    assert_eq!(status, 200);
    let answer = api.post_value("/v3/payouts/balance", &unsigned).await;
    assert_eq!(answer["ret_code"], "000020", "{answer}");
    let response = api
        .post_json("/v3/payouts/balance", &api.signed(&[("currency", "USD")]))
        .await;
    assert_eq!(response.status(), 502);
}

#[tokio::test]
async fn a_fault_delay_above_one_minute_is_refused() {
    let sandbox = start(fast_config()).await;
    let api = Api::new(&sandbox);
    let signed = api.signed(&[("currency", "USD")]);
    for fault in [
        "delay=60001",
        "delay_after=3600000",
        "delay=18446744073709551616",
    ] {
        let response = post_with_fault(&api, "/v3/payouts/balance", &signed, fault).await;
        assert_eq!(response.status(), 400, "{fault}");
        assert!(
            response.text().await.unwrap().contains("at most 60000 ms") || fault.ends_with("616")
        );
    }
    let (status, body) = api
        .admin_post("/_sandbox/faults", json!({ "fault": "delay=600000" }))
        .await;
    assert_eq!(status, 400, "{body}");
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("fault-delay=120000-");
    let answer = api
        .call(
            "/v3/payouts/pay",
            &[
                ("customerNo", &customer_no),
                ("accountToken", &token),
                ("amount", "1"),
                ("currency", "USD"),
                ("invoiceId", &invoice_id),
            ],
        )
        .await;
    assert_eq!(answer["ret_code"], "000023", "{answer}");
    assert!(sandbox.payouts().is_empty());
    assert_balance_ok(&api).await;
}

#[tokio::test]
async fn fault_rules_are_capped() {
    let sandbox = start(fast_config()).await;
    let api = Api::new(&sandbox);
    for _ in 0..1_000 {
        let (status, _) = api
            .admin_post(
                "/_sandbox/faults",
                json!({ "operation": "pay", "fault": "drop" }),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, body) = api
        .admin_post(
            "/_sandbox/faults",
            json!({ "operation": "pay", "fault": "drop" }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = api.admin_delete("/_sandbox/faults").await;
    assert_eq!(status, 200);
    let (status, _) = api
        .admin_post(
            "/_sandbox/faults",
            json!({ "operation": "pay", "fault": "drop" }),
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_connection_cap_holds_new_connections_until_a_slot_frees() {
    let sandbox = start(SandboxConfig {
        max_connections: 2,
        ..fast_config()
    })
    .await;
    let api = Api::new(&sandbox);
    let mut held = Vec::new();
    for _ in 0..2 {
        // Served (a whole request answered), then kept alive and idle.
        let mut stream = TcpStream::connect(sandbox.local_addr()).await.unwrap();
        stream
            .write_all(b"GET /_sandbox/balances HTTP/1.1\r\nHost: sandbox\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(stream);
    }
    // A third connection is not served while both slots are taken...
    let waiting = tokio::spawn({
        let body = api.signed(&[("currency", "USD")]);
        let api = Api::new(&sandbox);
        async move { api.post_value("/v3/payouts/balance", &body).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "served past the cap");
    // ...and is once one of them closes.
    drop(held.pop());
    let answer = tokio::time::timeout(STUCK, waiting)
        .await
        .expect("served once a slot freed")
        .unwrap();
    assert_eq!(answer["ret_code"], "000100", "{answer}");
}
