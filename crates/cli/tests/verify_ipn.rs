//! `verify-ipn`: a correctly signed body passes, a tampered one does not.

mod common;

use common::{cli, TOKEN};

fn signed_body() -> String {
    let fields = [
        ("transactionNo", "378265991124154801"),
        ("status", "success"),
        ("amount", "25.00"),
        ("currency", "USD"),
        ("reference", "inv-0001"),
    ];
    let sig = pockyt_payouts::sign(fields, TOKEN);
    let mut body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    body.push(format!("verifySign={sig}"));
    body.join("&")
}

fn token_env() -> Vec<(&'static str, String)> {
    vec![("POCKYT_API_TOKEN", TOKEN.to_owned())]
}

#[tokio::test]
async fn a_signed_body_is_verified_and_printed() {
    let body = signed_body();
    let run = cli(
        &["verify-ipn", "--body", &body, "--json"],
        &token_env(),
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let event = run.json();
    assert_eq!(event["transactionNo"], "378265991124154801");
    assert_eq!(event["status"], "success");
    assert_eq!(event["invoiceId"], "inv-0001");

    // From stdin, with the newline `echo` adds; pretty JSON without --json.
    let piped = format!("{body}\n");
    let run = cli(&["verify-ipn"], &token_env(), Some(piped.as_bytes())).await;
    assert_eq!(run.code, 0, "{run:?}");
    let event: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(event["amount"], "25.00");
}

#[tokio::test]
async fn a_tampered_body_is_refused() {
    let tampered = signed_body().replace("amount=25.00", "amount=2500.00");
    let run = cli(
        &["verify-ipn", "--body", &tampered, "--json"],
        &token_env(),
        None,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.json()["error"]["code"], "IPN_SIGNATURE_MISMATCH");
    assert!(
        run.stderr.contains("error: IPN_SIGNATURE_MISMATCH: "),
        "{run:?}"
    );

    let unsigned = cli(
        &["verify-ipn", "--body", "status=success"],
        &token_env(),
        None,
    )
    .await;
    assert_eq!(unsigned.code, 1, "{unsigned:?}");
    assert!(
        unsigned.stderr.contains("IPN_MISSING_SIGNATURE"),
        "{unsigned:?}"
    );

    // No token: a configuration error, not a forged IPN.
    let no_token = cli(&["verify-ipn", "--body", &signed_body()], &[], None).await;
    assert_eq!(no_token.code, 3, "{no_token:?}");
    assert!(no_token.stderr.contains("IPN_EMPTY_TOKEN"), "{no_token:?}");
}
