//! An axum app receiving payout IPNs, fed by the embedded sandbox: it pays
//! with `ipnUrl` pointing at itself and prints each status the sandbox
//! sends (`pending`, then `success`), each once, however often resent.
//!
//! `cargo run -p pockyt-payouts --features axum --example webhook_axum`
//!
//! Against the real API, serve the same router on a public HTTPS URL and
//! build the `Webhook` with `Webhook::from_env()`.

use std::time::Duration;

use axum::Router;
use pockyt_payouts::types::{AddBankAccountParams, PayParams, RegisterPayeeParams};
use pockyt_payouts::webhook::Webhook;
use pockyt_payouts::{BankAccountPurpose, Client, Config, ProfileType};
use pockyt_sandbox::{Sandbox, SandboxConfig};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(SandboxConfig {
        settle_delay: Duration::from_millis(300),
        ..SandboxConfig::default()
    })
    .await?;
    let c = sandbox.config();
    let config = Config::new(
        c.merchant_no.clone(),
        c.store_no.clone(),
        c.api_token.as_str(),
    )
    .with_base_url(sandbox.base_url());

    // The receiver: verify with the same API token, run the handler once
    // per transactionNo + status.
    let (seen, mut events) = mpsc::unbounded_channel();
    let webhook = Webhook::new(config.api_token().expose_secret())?;
    let app: Router = Router::new().route(
        "/pockyt/ipn",
        pockyt_payouts::axum::payout_webhook(webhook, move |event| {
            let seen = seen.clone();
            async move {
                println!("IPN: payout {} is {}", event.transaction_no, event.status);
                seen.send(event.status.clone())
                    .map_err(|_| "the example stopped listening")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let ipn_url = format!("http://{}/pockyt/ipn", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = Client::new(config)?;
    let payee = client
        .register_payee(
            RegisterPayeeParams::builder()
                .profile_type(ProfileType::Individual)
                .date_of_birth("1990-05-17")
                .first_name(Some("Ada".to_string()))
                .last_name(Some("Lovelace".to_string()))
                .email(Some("ada@example.com".to_string())),
        )
        .await?;
    let account = client
        .add_bank_account(
            AddBankAccountParams::builder()
                .customer_no(payee.customer_no.clone())
                .bank_account_id("7861053298")
                .branch_id("101089292")
                .bank_account_purpose(BankAccountPurpose::Checking),
        )
        .await?;
    let payout = client
        .pay(
            PayParams::builder()
                .customer_no(payee.customer_no)
                .account_token(account.account_token)
                .amount("25.00")
                .currency("USD")
                .invoice_id("webhook-example-1")
                .ipn_url(Some(ipn_url)),
        )
        .await?;
    println!(
        "paid: transactionNo={}",
        payout.transaction_no.as_deref().unwrap_or("?")
    );

    for _ in 0..2 {
        let status = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await?
            .ok_or("the receiver stopped")?;
        println!("handled once: {status}");
    }
    println!("✔ webhook flow complete");
    Ok(())
}
