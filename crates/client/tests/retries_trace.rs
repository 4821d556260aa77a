//! Counted in the trace, so alone in its test binary: events of tests
//! running at the same time in one binary can race tracing's per-callsite
//! interest cache and go missing from a thread-local capture.

mod common;

use std::time::Duration;

use common::Capture;
use pockyt_payouts::types::*;
use pockyt_payouts::{Client, ErrorCode, RetryPolicy};

fn pay() -> PayParams {
    PayParams::builder()
        .customer_no("2000305228303182610217")
        .account_token("2010305228303182765718")
        .amount("500")
        .currency("USD")
        .invoice_id("9aae4c685d824c5da746f97620c59eb5")
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn requests_that_never_left_are_resent_for_every_operation() {
    // Nothing listens: every attempt fails before the request is written,
    // so even pay and register are sent again (counted in the trace).
    let (trace, _guard) = Capture::install();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = pockyt_payouts::Config::new("1", "2", "test-token-1234")
        .with_base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(
            RetryPolicy::default()
                .max_retries(2)
                .base_delay(Duration::from_millis(1)),
        );
    let client = Client::new(config).unwrap();
    let e = client.pay(pay()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Network, "{e}");
    assert!(!e.may_have_been_received());
    let e = client
        .register_payee(
            RegisterPayeeParams::builder()
                .profile_type(pockyt_payouts::ProfileType::Individual)
                .date_of_birth("1970-01-01"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Network);
    let text = trace.text();
    assert_eq!(text.matches("retrying").count(), 4, "{text}");
    assert_eq!(
        text.matches("operation=\"pay\" retry=").count(),
        2,
        "{text}"
    );
}
