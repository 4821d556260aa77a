//! `balance`, `pay` and `inquire` against the sandbox, and the exit codes
//! of configuration and usage errors.

mod common;

use std::time::Duration;

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

/// Ctrl-C while a call is on the wire (the server has accepted its
/// connection and says nothing) ends the command at once with exit code 130
/// and `INTERRUPTED`, never by the signal's default effect. The signal is
/// sent the instant the connection is accepted, twenty times over: before
/// the listener was registered ahead of the call, about one run in four
/// died of the signal instead.
#[cfg(unix)]
#[test]
fn ctrl_c_while_a_call_is_on_the_wire_exits_130() {
    use std::net::TcpListener;
    use std::process::Stdio;

    for _ in 0..20 {
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let env = [
            ("POCKYT_MERCHANT_NO", "202333".to_owned()),
            ("POCKYT_STORE_NO", "301854".to_owned()),
            ("POCKYT_API_TOKEN", "a-long-enough-token".to_owned()),
            (
                "POCKYT_BASE_URL",
                format!("http://{}", silent.local_addr().unwrap()),
            ),
        ];
        let child = common::command(&["--timeout", "300", "balance", "--currency", "USD"], &env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let connection = accept_within(&silent, Duration::from_secs(30));
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid, which has not been waited
        // for yet, so it names no other process.
        #[allow(unsafe_code)]
        let sent = unsafe { libc::kill(pid, libc::SIGINT) };
        assert_eq!(sent, 0);
        let output = child.wait_with_output().unwrap();
        drop(connection);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(130),
            "{:?} {stderr}",
            output.status
        );
        assert!(stderr.contains("INTERRUPTED"), "{stderr}");
    }
}

/// The connection the command opens to `listener`, accepted the moment it
/// arrives (blocking, so the signal follows at once), within `limit`: a
/// command that never calls fails the test instead of hanging it (Linux
/// applies `SO_RCVTIMEO` to `accept`).
#[cfg(unix)]
fn accept_within(listener: &std::net::TcpListener, limit: Duration) -> std::net::TcpStream {
    use std::os::fd::AsRawFd;
    let timeout = libc::timeval {
        tv_sec: limit.as_secs() as libc::time_t,
        tv_usec: 0,
    };
    // SAFETY: setsockopt on a socket this test owns, with a timeval that
    // lives across the call and its exact size.
    #[allow(unsafe_code)]
    let set = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const timeout).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0, "SO_RCVTIMEO");
    let (connection, _) = listener
        .accept()
        .expect("the command called within the limit");
    connection
}
