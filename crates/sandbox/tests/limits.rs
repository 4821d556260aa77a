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

/// `n` connections that sent half a request head, then `n` that sent a
/// head and part of a body, in that order (so in that order accepted).
async fn slow_heads_and_bodies(sandbox: &Sandbox, n: usize) -> Vec<TcpStream> {
    let mut slow = Vec::new();
    for i in 0..2 * n {
        let mut stream = TcpStream::connect(sandbox.local_addr()).await.unwrap();
        let sent: &[u8] = if i < n {
            b"POST /v3/payouts/balance HTTP/1.1\r\nHost: sandbox\r\n"
        } else {
            b"POST /v3/payouts/balance HTTP/1.1\r\nHost: sandbox\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"cur"
        };
        stream.write_all(sent).await.unwrap();
        slow.push(stream);
    }
    slow
}

/// True when the sandbox has closed `stream` (it answered nothing); false
/// when the connection is still open, after a short look.
async fn closed_without_answer(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
        Err(_) => false,
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(n)) => panic!("answered: {}", String::from_utf8_lossy(&buf[..n])),
    }
}

/// Timeouts no test outlasts: only making room closes a connection.
fn long_timeouts(max_connections: usize) -> SandboxConfig {
    SandboxConfig {
        max_connections,
        header_read_timeout: Duration::from_secs(120),
        body_read_timeout: Duration::from_secs(120),
        ..fast_config()
    }
}

#[tokio::test]
async fn past_the_cap_the_longest_waiting_slow_connections_are_closed_and_a_signed_call_gets_through(
) {
    let sandbox = start(long_timeouts(8)).await;
    // Three times the cap of each; all still open on this side.
    let mut slow = slow_heads_and_bodies(&sandbox, 24).await;
    assert_balance_ok(&Api::new(&sandbox)).await;
    // Each newcomer closed the one waiting longest: of the 48 slow ones
    // and the signed call's connection, the 7 newest slow ones and the
    // signed call's are open.
    let (oldest, newest) = slow.split_at_mut(48 - 7);
    for stream in oldest {
        let closed = tokio::time::timeout(STUCK, read_until_closed(stream)).await;
        assert_eq!(closed.expect("closed"), "");
    }
    for stream in newest {
        assert!(
            !closed_without_answer(stream).await,
            "a newer one was closed"
        );
    }
}

#[tokio::test]
async fn a_request_being_processed_is_not_closed_to_make_room() {
    let sandbox = start(long_timeouts(8)).await;
    let api = Api::new(&sandbox);
    // The oldest connection of all, its request read and held by a
    // (signed) delay fault.
    let delayed = tokio::spawn({
        let body = api.signed(&[("currency", "USD")]);
        let api = Api::new(&sandbox);
        async move { post_with_fault(&api, "/v3/payouts/balance", &body, "delay=3000").await }
    });
    // Served after it on the same sandbox: by then the delayed request
    // has been accepted and read.
    assert_balance_ok(&api).await;
    let mut slow = slow_heads_and_bodies(&sandbox, 24).await;
    let response = tokio::time::timeout(STUCK, delayed)
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["ret_code"], "000100", "{answer}");
    // The slow ones went instead (the balance call's idle connection,
    // then the oldest slow ones).
    assert!(closed_without_answer(&mut slow[0]).await);
    assert_balance_ok(&api).await;
}

/// Connections the sandbox holds a descriptor for: accepted sockets on
/// its port (one still in the listen queue, or closed, has inode 0).
#[cfg(target_os = "linux")]
fn accepted_sockets(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 9
                && fields[1].ends_with(&local)
                && fields[3] != "0A" // LISTEN
                && fields[9] != "0"
        })
        .count()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn open_connections_never_exceed_max_connections_plus_the_reserve() {
    let sandbox = start(SandboxConfig {
        connection_reserve: 4,
        ..long_timeouts(8)
    })
    .await;
    let port = sandbox.local_addr().port();
    let ceiling = 8 + 4;
    let mut held = Vec::new();
    let mut most = 0;
    for _ in 0..4 {
        held.extend(slow_heads_and_bodies(&sandbox, 12).await);
        most = most.max(accepted_sockets(port));
    }
    assert_balance_ok(&Api::new(&sandbox)).await;
    for _ in 0..20 {
        most = most.max(accepted_sockets(port));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(most <= ceiling, "{most} connections open at once");
    assert!(most >= 8, "only {most} seen: the count is broken");
    assert_eq!(held.len(), 96);
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
async fn idle_kept_alive_connections_are_the_first_to_go() {
    let sandbox = start(long_timeouts(2)).await;
    // A slow head, then two connections served and kept alive, idle.
    let mut slow = TcpStream::connect(sandbox.local_addr()).await.unwrap();
    slow.write_all(b"POST /v3/payouts/balance HTTP/1.1\r\nHost: sandbox\r\n")
        .await
        .unwrap();
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(sandbox.local_addr()).await.unwrap();
        stream
            .write_all(b"GET /_sandbox/balances HTTP/1.1\r\nHost: sandbox\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        idle.push(stream);
    }
    // The second came past the cap: the first, idle, went, though the
    // slow head has waited longer. A signed call past the cap closes the
    // second; the slow head is still open.
    assert!(closed_without_answer(&mut idle[0]).await);
    assert_balance_ok(&Api::new(&sandbox)).await;
    assert!(closed_without_answer(&mut idle[1]).await);
    assert!(!closed_without_answer(&mut slow).await);
}
