//! The axum integration receiving real IPNs from the sandbox: each status
//! handled once however often resent, a failing handler retried by the
//! sandbox's resends, forged and re-encoded IPNs answered as they must be.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use pockyt_payouts::types::PayParams;
use pockyt_payouts::webhook::{SqliteEventStore, Webhook};
use pockyt_payouts::PayoutStatus;
use pockyt_sandbox::{Sandbox, SandboxConfig};

const TOKEN: &str = "webhook-test-token-0001";

/// transactionNo, status, invoiceId of each event handled.
type Seen = (String, PayoutStatus, Option<String>);

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        api_token: TOKEN.into(),
        settle_delay: Duration::from_millis(200),
        ipn_retry_delays: [0, 50, 50, 50, 50].map(Duration::from_millis).to_vec(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ipn", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn pay(sandbox: &Sandbox, invoice_id: &str, ipn_url: &str) {
    let c = sandbox.config();
    let client = pockyt_payouts::Client::new(
        pockyt_payouts::Config::new(c.merchant_no.clone(), c.store_no.clone(), TOKEN)
            .with_base_url(sandbox.base_url()),
    )
    .unwrap();
    let (customer_no, account_token) = common::payee_with_account(&client).await;
    client
        .pay(
            PayParams::builder()
                .customer_no(customer_no)
                .account_token(account_token)
                .amount("12.34")
                .currency("USD")
                .invoice_id(invoice_id)
                .ipn_url(Some(ipn_url.to_owned())),
        )
        .await
        .unwrap();
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..400 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn each_status_is_handled_once_and_answered_success() {
    let sandbox = sandbox().await;
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let dir = std::env::temp_dir().join(format!("pockyt-axum-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteEventStore::open(dir.join("ipn.sqlite3")).unwrap();
    let webhook = Webhook::new(TOKEN).unwrap().with_store(store);
    let recorded = Arc::clone(&seen);
    let app = Router::new().route(
        "/ipn",
        pockyt_payouts::axum::payout_webhook(webhook, move |event| {
            let recorded = Arc::clone(&recorded);
            async move {
                recorded.lock().unwrap().push((
                    event.transaction_no.clone(),
                    event.status.clone(),
                    event.invoice_id.clone(),
                ));
                Ok::<_, String>(())
            }
        }),
    );
    let url = serve(app).await;
    pay(&sandbox, "axum-once-1", &url).await;
    wait_for("pending and success", || seen.lock().unwrap().len() == 2).await;

    // A replay of the final IPN: answered success, the handler not run.
    assert!(sandbox.resend_ipn("axum-once-1"));
    wait_for("the replay's answer", || {
        sandbox
            .ipn_log()
            .iter()
            .filter(|d| d.answered_success)
            .count()
            == 3
    })
    .await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].1, PayoutStatus::Pending);
    assert_eq!(seen[1].1, PayoutStatus::Success);
    assert_eq!(seen[1].2.as_deref(), Some("axum-once-1"));
    for delivery in sandbox.ipn_log() {
        assert_eq!(delivery.http_status, Some(200));
        assert_eq!(delivery.answer.as_deref(), Some("success"));
        assert_eq!(delivery.resend_reason, None);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_failing_handler_is_run_again_by_the_resend() {
    let sandbox = sandbox().await;
    let calls = Arc::new(Mutex::new(0u32));
    let counted = Arc::clone(&calls);
    let webhook = Webhook::new(TOKEN).unwrap();
    let app = Router::new().route(
        "/ipn",
        pockyt_payouts::axum::payout_webhook(webhook, move |event| {
            let counted = Arc::clone(&counted);
            async move {
                if event.status != PayoutStatus::Pending {
                    return Ok(());
                }
                let mut n = counted.lock().unwrap();
                *n += 1;
                if *n == 1 {
                    Err("the database was busy".to_owned())
                } else {
                    Ok(())
                }
            }
        }),
    );
    let url = serve(app).await;
    pay(&sandbox, "pending-axum-retry", &url).await;
    wait_for("the resend to succeed", || {
        sandbox.ipn_log().iter().any(|d| d.answered_success)
    })
    .await;
    let log = sandbox.ipn_log();
    assert_eq!(log[0].http_status, Some(500));
    assert!(log[0]
        .resend_reason
        .as_deref()
        .unwrap()
        .starts_with("answered HTTP 500"));
    assert!(log[1].answered_success);
    assert_eq!(*calls.lock().unwrap(), 2);
}

#[tokio::test]
async fn a_json_quoted_success_is_logged_as_the_reason_to_resend() {
    let sandbox = sandbox().await;
    let app = Router::new().route("/ipn", post(|| async { axum::Json("success") }));
    let url = serve(app).await;
    pay(&sandbox, "pending-json-answer", &url).await;
    wait_for("a try", || !sandbox.ipn_log().is_empty()).await;
    let first = &sandbox.ipn_log()[0];
    assert!(!first.answered_success);
    assert_eq!(first.answer.as_deref(), Some("\"success\""));
    assert_eq!(
        first.resend_reason.as_deref(),
        Some("answered `\\\"success\\\"`, expected `success`")
    );
}

#[tokio::test]
async fn the_extractor_refuses_forged_and_accepts_reencoded_ipns() {
    let webhook = Webhook::new(TOKEN).unwrap();
    let app = Router::new()
        .route(
            "/ipn",
            post(|pockyt_payouts::axum::PayoutEvent(event)| async move {
                format!(
                    "{}:{}",
                    event.transaction_no,
                    event.invoice_id.unwrap_or_default()
                )
            }),
        )
        .with_state(webhook);
    let url = serve(app).await;
    let http = reqwest::Client::new();
    let fields = [
        ("transactionNo", "378265991124154801"),
        ("status", "success"),
        ("reference", "inv 1/é"),
        ("amount", "20.00"),
    ];
    let sig = pockyt_payouts::sign(fields, TOKEN);
    let post_body = |body: String| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let answer = http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        }
    };
    // Re-encoded: other field order, %20 for the space, upper-case escapes.
    let reencoded = format!(
        "amount=20.00&reference=inv%201%2F%C3%A9&status=success&transactionNo=378265991124154801&verifySign={}",
        sig.to_uppercase()
    );
    assert_eq!(
        post_body(reencoded).await,
        (200, "378265991124154801:inv 1/é".to_owned())
    );
    let forged = format!(
        "amount=2000.00&reference=inv+1%2F%C3%A9&status=success&transactionNo=378265991124154801&verifySign={sig}"
    );
    assert_eq!(
        post_body(forged).await,
        (400, "refused: IPN_SIGNATURE_MISMATCH".to_owned())
    );
    let unsigned = "status=success&transactionNo=1".to_owned();
    assert_eq!(
        post_body(unsigned).await,
        (400, "refused: IPN_MISSING_SIGNATURE".to_owned())
    );
    let huge = "a=".to_owned() + &"x".repeat(pockyt_payouts::webhook::MAX_BODY_BYTES + 1);
    assert_eq!(post_body(huge).await.0, 413);
}
