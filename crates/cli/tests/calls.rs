//! `balance`, `pay` and `inquire` against the sandbox, and the exit codes
//! of configuration and usage errors.

mod common;

use common::{cli, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_pay_and_inquire_with_json() {
    let world = World::start().await;
    let (customer_no, account_token) = world.payee().await;

    let balance = world.cli(&["balance", "--currency", "USD", "--json"]).await;
    assert_eq!(balance.code, 0, "{balance:?}");
    assert_eq!(balance.json()["currency"], "USD");
    assert_eq!(balance.json()["amount"], "1000000.00");

    let pay = world
        .cli(&[
            "pay",
            "--customer-no",
            &customer_no,
            "--account-token",
            &account_token,
            "--amount",
            "12.5",
            "--currency",
            "USD",
            "--invoice-id",
            "cli-pay-1",
            "--note",
            "thanks",
            "--json",
        ])
        .await;
    assert_eq!(pay.code, 0, "{pay:?}");
    let payout = pay.json();
    assert_eq!(payout["invoiceId"], "cli-pay-1");
    assert_eq!(payout["amount"], "12.50");
    assert_eq!(payout["status"], "pending");
    let paid = world.sandbox.payouts();
    assert_eq!(paid.len(), 1);
    assert_eq!(payout["transactionNo"], paid[0].transaction_no.as_str());

    let inquire = world
        .cli(&["inquire", "--invoice-id", "cli-pay-1", "--json"])
        .await;
    assert_eq!(inquire.code, 0, "{inquire:?}");
    assert_eq!(
        inquire.json()["transactionNo"],
        paid[0].transaction_no.as_str()
    );

    // Text output: one `name  value` line per field.
    let text = world.cli(&["inquire", "--invoice-id", "cli-pay-1"]).await;
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout
            .lines()
            .any(|l| l.starts_with("transactionNo") && l.ends_with(&paid[0].transaction_no)),
        "{text:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_print_their_stable_code() {
    let world = World::start().await;
    let (customer_no, account_token) = world.payee().await;

    // Refused before anything is sent: the field is named.
    let bad = world
        .cli(&[
            "pay",
            "--customer-no",
            &customer_no,
            "--account-token",
            &account_token,
            "--amount",
            "-3",
            "--currency",
            "USD",
            "--invoice-id",
            "cli-bad-1",
            "--json",
        ])
        .await;
    assert_eq!(bad.code, 3, "{bad:?}");
    assert_eq!(bad.json()["error"]["code"], "INVALID_REQUEST");
    assert_eq!(bad.json()["error"]["field"], "amount");
    assert!(bad.stderr.contains("error: INVALID_REQUEST: "), "{bad:?}");
    assert!(world.sandbox.payouts().is_empty());

    // The API's ret_code: no payout under this invoiceId.
    let missing = world
        .cli(&["inquire", "--invoice-id", "nothing-here"])
        .await;
    assert_eq!(missing.code, 3, "{missing:?}");
    assert!(missing.stderr.contains("error: 000021: "), "{missing:?}");
    assert!(missing.stdout.is_empty(), "{missing:?}");

    // No configuration.
    let unconfigured = cli(&["balance", "--currency", "USD", "--json"], &[], None).await;
    assert_eq!(unconfigured.code, 3, "{unconfigured:?}");
    assert_eq!(unconfigured.json()["error"]["code"], "INVALID_CONFIG");

    // A usage error is clap's, exit 2; help is exit 0.
    let usage = world.cli(&["pay", "--amount", "1.00"]).await;
    assert_eq!(usage.code, 2, "{usage:?}");
    assert!(usage.stderr.contains("--customer-no"), "{usage:?}");
    let help = world.cli(&["batch", "run", "--help"]).await;
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Examples:"), "{help:?}");
}
