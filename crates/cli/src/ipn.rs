//! `pockyt-payouts verify-ipn`: checks a raw IPN (webhook) body with the
//! API token of `POCKYT_API_TOKEN` (`webhook::construct_event`) and prints
//! the typed event as JSON.

use std::io::Read;

use clap::Args;
use pockyt_payouts::webhook::{construct_event, MAX_BODY_BYTES};

use crate::exit_code;
use crate::output::{ipn_failure, say, Failure, Output};

/// Examples of `verify-ipn`, after its help.
pub(crate) const EXAMPLES: &str = "\
The body is the raw application/x-www-form-urlencoded text the API POSTed,
exactly as received (read from stdin without --body; one trailing newline
there is ignored). Only POCKYT_API_TOKEN is needed.

Exit codes: 0 genuine (the event is printed), 1 refused (IPN_SIGNATURE_MISMATCH,
IPN_MISSING_SIGNATURE, IPN_REPEATED_SIGNATURE, IPN_MALFORMED_BODY),
3 POCKYT_API_TOKEN missing or blank (IPN_EMPTY_TOKEN).

Examples:
  pockyt-payouts verify-ipn < ipn-body.txt
  pockyt-payouts verify-ipn --body 'transactionNo=378265991124154801&status=success&verifySign=..'";

/// `verify-ipn`.
#[derive(Args, Debug)]
pub(crate) struct VerifyIpnArgs {
    /// The raw body [default: read from stdin].
    #[arg(long, value_name = "TEXT")]
    body: Option<String>,
}

/// Reads the body from stdin: at most `MAX_BODY_BYTES`, one trailing
/// newline dropped (what `echo` and editors add).
fn read_stdin() -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| Failure::io("cannot read the body from stdin", &e))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(Failure::usage(format!(
            "the body is longer than {MAX_BODY_BYTES} bytes: not an IPN"
        )));
    }
    if body.ends_with(b"\n") {
        body.pop();
        if body.ends_with(b"\r") {
            body.pop();
        }
    }
    Ok(body)
}

/// Verifies the body and prints the event.
pub(crate) fn run(args: VerifyIpnArgs, out: &Output) -> Result<i32, Failure> {
    let body = match args.body {
        Some(body) => body.into_bytes(),
        None => read_stdin()?,
    };
    // An unset or non-UTF-8 variable is a blank token: IPN_EMPTY_TOKEN.
    let token = std::env::var("POCKYT_API_TOKEN").unwrap_or_default();
    let event = construct_event(&body, &token).map_err(|e| ipn_failure(&e))?;
    if out.json {
        out.json_line(&event);
    } else {
        let text = serde_json::to_string_pretty(&event)
            .map_err(|e| Failure::new("OUTPUT_ERROR", format!("cannot write the event: {e}")))?;
        say(&text);
    }
    Ok(exit_code::SUCCESS)
}
