//! `pockyt-payouts balance | pay | inquire`: one call each, through the
//! SDK's JSON door (`Client::call_json`: the same validation, signing,
//! retries and errors as the typed methods, and the same answer the Python
//! and Node packages get).
//!
//! `pay`'s flags are the pay operation's parameters as the spec lists them
//! (`Operation::Pay.params()`), so a field added to the spec is a flag here
//! without a change.

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use pockyt_payouts::naming::snake_case;
use pockyt_payouts::{Client, Config, Operation};
use serde_json::{Map, Value};

use crate::exit_code;
use crate::output::{note, say, Failure, Output};

/// Examples of `pay`, after its help.
pub(crate) const PAY_EXAMPLES: &str = "\
Examples:
  pockyt-payouts pay --customer-no 2023110712345678 --account-token bat_7d1c9e \\
      --amount 25.00 --currency USD --invoice-id inv-0001
  pockyt-payouts pay --customer-no 2023110712345678 --account-token bat_7d1c9e \\
      --amount 25.00 --currency USD --invoice-id inv-0002 \\
      --ipn-url https://example.com/pockyt/ipn --json

A payout whose outcome cannot be established fails with PAYOUT_OUTCOME_UNKNOWN:
look it up with `pockyt-payouts inquire --invoice-id ..`, never pay it again
under a new invoiceId.";

/// A client from the `POCKYT_*` environment variables.
pub(crate) fn client() -> Result<Client, Failure> {
    let config = Config::from_env()?;
    if let Some(deprecation) = config.deprecation() {
        note(&format!("warning: {deprecation}"));
    }
    let client = Client::new(config)?;
    Ok(match TIMEOUT.get() {
        Some(timeout) => client.with_timeout(*timeout),
        None => client,
    })
}

/// `--timeout`, when given.
static TIMEOUT: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();

/// Sets the per-attempt timeout of every client this process makes.
pub(crate) fn set_timeout(timeout: std::time::Duration) {
    let _ = TIMEOUT.set(timeout);
}

/// Parses `--timeout`: a positive number of seconds (the client checks
/// its range).
pub(crate) fn seconds(text: &str) -> Result<std::time::Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => {
            Ok(std::time::Duration::from_secs_f64(s))
        }
        _ => Err(format!(
            "must be a number of seconds from 0 to 86400, not {text:?}"
        )),
    }
}

/// `balance`.
#[derive(Args, Debug)]
pub(crate) struct BalanceArgs {
    /// The currency (ISO 4217, e.g. USD).
    #[arg(long, value_name = "CODE")]
    currency: String,
}

/// `inquire`.
#[derive(Args, Debug)]
pub(crate) struct InquireArgs {
    /// The payout's invoiceId (the merchant's id given to `pay`).
    #[arg(long, value_name = "ID")]
    invoice_id: String,
}

/// `pay`: one flag per pay parameter of the spec, kept by wire name.
#[derive(Debug)]
pub(crate) struct PayArgs {
    fields: Map<String, Value>,
}

/// The flag of a wire name: `customerNo` → `customer-no`.
fn flag(wire: &str) -> String {
    snake_case(wire).replace('_', "-")
}

/// What a pay parameter is, for `--help`.
fn pay_help(wire: &str) -> String {
    let what = match wire {
        "customerNo" => "The payee to pay (its customerNo)",
        "accountToken" => "The payee's payout account to pay (its accountToken)",
        "amount" => "The amount, e.g. 25.00",
        "currency" => "The currency (ISO 4217), e.g. USD",
        "invoiceId" => "Your unique id of this payout: what `inquire` looks up",
        "description" => "A description of the payout",
        "note" => "A note to the payee",
        "subject" => "The payout's subject",
        "ipnUrl" => "The URL the API POSTs the payout's status changes (IPN) to",
        "processingChannel" => "STANDARD_ACH, SAME_DAY_ACH or REAL_TIME_PAY",
        _ => "A pay parameter",
    };
    format!("{what} [wire: {wire}]")
}

impl Args for PayArgs {
    fn augment_args(command: Command) -> Command {
        let required = Operation::Pay.required_params();
        command.args(Operation::Pay.params().iter().map(|wire| {
            Arg::new(*wire)
                .long(flag(wire))
                .value_name(snake_case(wire).to_ascii_uppercase())
                .required(required.contains(wire))
                .allow_negative_numbers(true)
                .help(pay_help(wire))
        }))
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

impl FromArgMatches for PayArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut fields = Map::new();
        for wire in Operation::Pay.params() {
            if let Some(value) = matches.get_one::<String>(wire) {
                fields.insert((*wire).to_owned(), Value::String(value.clone()));
            }
        }
        Ok(PayArgs { fields })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// `balance --currency ..`.
pub(crate) async fn balance(args: BalanceArgs, out: &Output) -> Result<i32, Failure> {
    let mut params = Map::new();
    params.insert("currency".into(), Value::String(args.currency));
    call(Operation::Balance, params, out).await
}

/// `pay ..`.
pub(crate) async fn pay(args: PayArgs, out: &Output) -> Result<i32, Failure> {
    call(Operation::Pay, args.fields, out).await
}

/// `inquire --invoice-id ..`.
pub(crate) async fn inquire(args: InquireArgs, out: &Output) -> Result<i32, Failure> {
    let mut params = Map::new();
    params.insert("invoiceId".into(), Value::String(args.invoice_id));
    call(Operation::InquirePayout, params, out).await
}

async fn call(
    operation: Operation,
    params: Map<String, Value>,
    out: &Output,
) -> Result<i32, Failure> {
    let client = client()?;
    let answer = client.call_json(operation, Value::Object(params)).await?;
    if out.json {
        out.json_line(&answer);
    } else {
        say(&text(&answer));
    }
    Ok(exit_code::SUCCESS)
}

/// An answer as `name: value` lines (nested values as JSON).
fn text(answer: &Value) -> String {
    let Value::Object(fields) = answer else {
        return answer.to_string();
    };
    let width = fields.keys().map(String::len).max().unwrap_or(0);
    fields
        .iter()
        .map(|(name, value)| {
            let shown = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{name:<width$}  {shown}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
