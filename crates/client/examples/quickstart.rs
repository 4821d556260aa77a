//! The payout flow, end to end: register a payee, add a bank account, list
//! the payee's accounts, pay, look the payout up, and receive and verify the
//! signed webhook (IPN) that reports its outcome.
//!
//! With no `POCKYT_*` variables set it starts an embedded sandbox (the
//! local emulator, `pockyt-sandbox`) on 127.0.0.1: no credentials needed.
//! With `POCKYT_MERCHANT_NO`, `POCKYT_STORE_NO` and `POCKYT_API_TOKEN` set,
//! it runs against the provider's server that `POCKYT_ENV` names
//! (`provider-sandbox`, the provider's hosted test server and the default,
//! or `production`: real money) or `POCKYT_BASE_URL`, and starts no
//! sandbox; webhooks then reach it only if `POCKYT_IPN_URL` is a public URL
//! forwarded to this machine's receiver (its port is printed).
//!
//! ```text
//! cargo run -p pockyt-payouts --example quickstart
//! ```
//!
//! (`crates/client/tests/quickstart.rs` runs [`run`] with no variables.)

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use pockyt_payouts::types::*;
use pockyt_payouts::webhook::{Webhook, CONTENT_TYPE};
use pockyt_payouts::{BankAccountPurpose, Client, Config, ProfileType};
use tokio::sync::mpsc;

/// How long to wait for the final webhook before giving up.
const IPN_WAIT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() {
    if let Err(e) = run(&|name| std::env::var(name).ok()).await {
        eprintln!("\nfailed: {e}");
        std::process::exit(1);
    }
}

/// The whole flow, reading the `POCKYT_*` variables through `var`.
pub async fn run(var: &dyn Fn(&str) -> Option<String>) -> Result<(), Box<dyn std::error::Error>> {
    // 1. A server: the one named by POCKYT_* variables, or an embedded sandbox.
    let env_configured = var("POCKYT_MERCHANT_NO").is_some_and(|v| !v.is_empty());
    let (config, sandbox) = if env_configured {
        let config = Config::from_lookup(var)?;
        if let Some(deprecation) = config.deprecation() {
            eprintln!("   (warning: {deprecation})");
        }
        println!(
            "▶ using the API at {} (from POCKYT_* variables)",
            config.base_url()
        );
        (config, None)
    } else {
        let sandbox_config = pockyt_sandbox::SandboxConfig {
            settle_delay: Duration::from_millis(1500),
            ..pockyt_sandbox::SandboxConfig::default()
        };
        let sandbox = pockyt_sandbox::Sandbox::start(sandbox_config).await?;
        let c = sandbox.config();
        let config = Config::new(
            c.merchant_no.clone(),
            c.store_no.clone(),
            c.api_token.as_str(),
        )
        .with_base_url(sandbox.base_url());
        println!(
            "▶ started an embedded sandbox at {} (no credentials needed)",
            sandbox.base_url()
        );
        (config, Some(sandbox))
    };
    let api_token = config.api_token().clone();
    let client = Client::new(config)?;

    // 2. A webhook receiver: verifies every IPN before trusting it, and runs
    //    the handler once per transactionNo + status however often resent.
    //    (With the `axum` feature, `pockyt_payouts::axum::payout_webhook` is
    //    this route ready-made.)
    let (ipn_tx, mut ipn_rx) = mpsc::unbounded_channel::<PayoutEvent>();
    let webhook = Webhook::new(api_token.expose_secret())?;
    let receiver = axum::Router::new()
        .route("/webhooks/pockyt", axum::routing::post(receive_ipn))
        .with_state((webhook, ipn_tx));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let local_ipn_url = format!("http://{}/webhooks/pockyt", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let ipn_url = var("POCKYT_IPN_URL")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| local_ipn_url.clone());
    println!("▶ webhook receiver listening at {local_ipn_url}");

    // 3. Register a payee.
    let payee = client
        .register_payee(
            RegisterPayeeParams::builder()
                .profile_type(ProfileType::Individual)
                .date_of_birth("1990-05-17")
                .first_name(Some("Ada".to_string()))
                .last_name(Some("Lovelace".to_string()))
                .email(Some("ada@example.com".to_string()))
                .country_code(Some("US".to_string()))
                .customer_code(Some(format!("quickstart-{}", unique()))),
        )
        .await?;
    let customer_no = payee.customer_no.clone();
    println!("1. registered payee       customerNo={customer_no}");

    // 4. Add a bank account (routing number checked before sending).
    let account = client
        .add_bank_account(
            AddBankAccountParams::builder()
                .customer_no(customer_no.clone())
                .bank_account_id("7861053298")
                .branch_id("101089292")
                .bank_account_purpose(BankAccountPurpose::Checking)
                .account_tag(Some("main-checking".to_string())),
        )
        .await?;
    let account_token = account.account_token.clone();
    println!(
        "2. added bank account     accountToken={account_token} status={}",
        account
            .account_status
            .map(|s| s.to_string())
            .unwrap_or_default()
    );

    // 5. List the payee's payout accounts.
    let listed = client
        .list_payout_accounts(ListPayoutAccountsParams::builder().customer_no(customer_no.clone()))
        .await?;
    for a in &listed.accounts {
        println!(
            "3. payout account         {} {} {}",
            a.account_token.as_deref().unwrap_or("?"),
            a.card_number.as_deref().unwrap_or(""),
            a.status
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
    }

    // 6. Pay. The invoiceId is the key that makes retries safe.
    let invoice_id = format!("quickstart-{}", unique());
    let payout = client
        .pay(
            PayParams::builder()
                .customer_no(customer_no.clone())
                .account_token(account_token)
                .amount("25.00")
                .currency("USD")
                .invoice_id(invoice_id.clone())
                .ipn_url(Some(ipn_url))
                .note(Some("Thanks for your referrals".to_string())),
        )
        .await?;
    println!(
        "4. paid                   invoiceId={invoice_id} transactionNo={} amount={} status={}",
        payout.transaction_no.as_deref().unwrap_or("?"),
        payout.amount.as_deref().unwrap_or("?"),
        payout
            .status
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    );

    // 7. Look the payout up by invoiceId.
    let found = client
        .inquire_payout(InquirePayoutParams::builder().invoice_id(invoice_id.clone()))
        .await?;
    println!(
        "5. inquiry                status={}",
        found
            .status
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    );

    // 8. Wait for the webhook that reports the final status; it was verified on arrival.
    let deadline = tokio::time::Instant::now() + IPN_WAIT;
    loop {
        let ipn = match tokio::time::timeout_at(deadline, ipn_rx.recv()).await {
            Ok(Some(ipn)) => ipn,
            _ => {
                return Err(format!(
                    "no final webhook within {} s (the server must be able to reach the ipnUrl)",
                    IPN_WAIT.as_secs()
                )
                .into())
            }
        };
        println!(
            "6. webhook received       signature verified; invoiceId={} status={} transactionNo={}",
            ipn.invoice_id.as_deref().unwrap_or("?"),
            ipn.status,
            ipn.transaction_no
        );
        if ipn.invoice_id.as_deref() == Some(invoice_id.as_str()) && ipn.status.is_final() {
            break;
        }
    }

    // 9. The API agrees, and the balance shows the payout.
    let settled = client
        .inquire_payout(InquirePayoutParams::builder().invoice_id(invoice_id))
        .await?;
    let balance = client
        .balance(BalanceParams::builder().currency("USD"))
        .await?;
    println!(
        "7. settled                status={}; balance {} {}",
        settled.status.map(|s| s.to_string()).unwrap_or_default(),
        balance.amount.as_deref().unwrap_or("?"),
        balance.currency.as_deref().unwrap_or("USD")
    );

    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    println!("✔ payout flow complete");
    Ok(())
}

/// Verifies an IPN over its raw body before anything else looks at it,
/// hands each new status on once, and answers the plain text `success`
/// (anything else makes the server resend).
async fn receive_ipn(
    State((webhook, tx)): State<(Webhook, mpsc::UnboundedSender<PayoutEvent>)>,
    body: Bytes,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    let outcome = webhook
        .handle(&body, |event| async move {
            tx.send(event).map_err(|_| "the example stopped listening")
        })
        .await;
    if let pockyt_payouts::webhook::Outcome::Refused(why) = &outcome {
        eprintln!("   (refused a webhook: {why})");
    }
    let reply = outcome.reply();
    (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        reply.body,
    )
}

fn unique() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default()
}
