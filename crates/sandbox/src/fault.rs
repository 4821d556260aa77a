//! Fault injection: which fault a request gets, and what each fault is.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::http::HeaderMap;
use pockyt_payouts_core::enums::RetCode;

use crate::api::{Answer, Fields, Operation};
use crate::config::MAX_FAULT_DELAY;
use crate::state::State;

/// The request header that asks for a fault.
pub(crate) const FAULT_HEADER: &str = "x-sandbox-fault";

/// The invoiceId prefix (any ASCII case) that asks for a fault on the first
/// pay with that invoiceId.
pub(crate) const FAULT_INVOICE_PREFIX: &str = "fault-";

const KNOWN: &str = "delay=<ms>, delay_after=<ms>, drop, http_500, http_502, http_503, \
                     http_500_after_commit, malformed, ret_000080, ret_000000";

/// One fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Wait (at most [`MAX_FAULT_DELAY`]), then process normally.
    Delay(Duration),
    /// Process and commit, then wait (at most [`MAX_FAULT_DELAY`]), then
    /// answer.
    DelayAfter(Duration),
    /// Process and commit, then close the connection without answering.
    Drop,
    /// Answer this HTTP status without processing.
    Http(u16),
    /// Process and commit, then answer HTTP 500.
    Http500AfterCommit,
    /// Process and commit, then answer HTTP 200 with invalid JSON.
    Malformed,
    /// Answer this `ret_code` without processing.
    Ret(RetCode),
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let lower = text.trim().to_ascii_lowercase();
        let millis = |ms: &str| {
            let wait = ms.parse::<u64>().map(Duration::from_millis).map_err(|_| {
                format!("sandbox fault {text:?}: the delay must be a whole number of milliseconds")
            })?;
            if wait > MAX_FAULT_DELAY {
                return Err(format!(
                    "sandbox fault {text:?}: the delay must be at most {} ms",
                    MAX_FAULT_DELAY.as_millis()
                ));
            }
            Ok(wait)
        };
        if let Some(ms) = lower.strip_prefix("delay_after=") {
            return millis(ms).map(Fault::DelayAfter);
        }
        if let Some(ms) = lower.strip_prefix("delay=") {
            return millis(ms).map(Fault::Delay);
        }
        Ok(match lower.as_str() {
            "drop" => Fault::Drop,
            "http_500" => Fault::Http(500),
            "http_502" => Fault::Http(502),
            "http_503" => Fault::Http(503),
            "http_500_after_commit" => Fault::Http500AfterCommit,
            "malformed" => Fault::Malformed,
            "ret_000080" => Fault::Ret(RetCode::SupplierSystemError),
            "ret_000000" => Fault::Ret(RetCode::SystemError),
            _ => {
                return Err(format!(
                    "unknown sandbox fault {text:?}; the faults are: {KNOWN}"
                ))
            }
        })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Delay(d) => write!(f, "delay={}", d.as_millis()),
            Fault::DelayAfter(d) => write!(f, "delay_after={}", d.as_millis()),
            Fault::Drop => f.write_str("drop"),
            Fault::Http(status) => write!(f, "http_{status}"),
            Fault::Http500AfterCommit => f.write_str("http_500_after_commit"),
            Fault::Malformed => f.write_str("malformed"),
            Fault::Ret(code) => write!(f, "ret_{code}"),
        }
    }
}

/// A rule set with `POST /_sandbox/faults`.
#[derive(Clone, Debug)]
pub(crate) struct FaultRule {
    /// `None` matches every operation.
    pub operation: Option<Operation>,
    /// Fields the request must carry with exactly these values.
    pub matches: BTreeMap<String, String>,
    pub fault: Fault,
    /// How many more requests this rule applies to (at least 1).
    pub remaining: u32,
}

impl FaultRule {
    fn applies(&self, op: Operation, fields: &Fields) -> bool {
        if self.operation.is_some_and(|o| o != op) {
            return false;
        }
        self.matches
            .iter()
            .all(|(name, value)| fields.get(name) == Some(value.as_str()))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "operation": self.operation.map_or("*", Operation::name),
            "match": self.matches,
            "fault": self.fault.to_string(),
            "times": self.remaining,
        })
    }
}

/// Why no fault could be chosen: the answer to give instead.
pub(crate) enum Refusal {
    /// The `x-sandbox-fault` header is not a fault: HTTP 400.
    BadHeader(String),
    /// A `fault-` invoiceId names no fault: an API answer (000023).
    Answer(Answer),
}

/// Chooses the fault of one API request: the `x-sandbox-fault` header
/// first, then the first matching rule (consumed), then the `fault-<fault>-`
/// invoiceId test value of a pay (only on the first pay with that
/// invoiceId).
///
/// Called only for a request whose signature verified: an unsigned client
/// can neither delay nor otherwise fault the sandbox.
pub(crate) fn choose(
    state: &mut State,
    op: Operation,
    headers: &HeaderMap,
    fields: &Fields,
) -> Result<Option<Fault>, Refusal> {
    if let Some(value) = headers.get(FAULT_HEADER) {
        let text = value
            .to_str()
            .map_err(|_| Refusal::BadHeader(format!("{FAULT_HEADER} must be ASCII")))?;
        if !text.trim().is_empty() {
            return text.parse().map(Some).map_err(Refusal::BadHeader);
        }
    }
    if let Some(pos) = state.fault_rules.iter().position(|r| r.applies(op, fields)) {
        let rule = &mut state.fault_rules[pos];
        let fault = rule.fault.clone();
        rule.remaining = rule.remaining.saturating_sub(1);
        if rule.remaining == 0 {
            state.fault_rules.remove(pos);
        }
        return Ok(Some(fault));
    }
    if op == Operation::Pay {
        if let Some(invoice_id) = fields.get("invoiceId") {
            if let Some(rest) = strip_prefix_ignore_case(invoice_id, FAULT_INVOICE_PREFIX) {
                let name = rest.split('-').next().unwrap_or_default();
                let fault: Fault = name.parse().map_err(|e: String| {
                    Refusal::Answer(Answer::error(
                        RetCode::ParameterValueError,
                        format!("invoiceId starts with \"fault-\" but {e}"),
                    ))
                })?;
                if state.fault_invoices_used.insert(invoice_id.to_owned()) {
                    return Ok(Some(fault));
                }
            }
        }
    }
    Ok(None)
}

/// `text` without `prefix`, compared without regard to ASCII case.
pub(crate) fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fault_and_round_trips() {
        for text in [
            "delay=250",
            "delay_after=3000",
            "drop",
            "http_500",
            "http_502",
            "http_503",
            "http_500_after_commit",
            "malformed",
            "ret_000080",
            "ret_000000",
        ] {
            let fault: Fault = text.parse().unwrap();
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!("DROP".parse::<Fault>().unwrap(), Fault::Drop);
        assert_eq!(
            "delay=5".parse::<Fault>().unwrap(),
            Fault::Delay(Duration::from_millis(5))
        );
        assert_eq!(
            "delay=60000".parse::<Fault>().unwrap(),
            Fault::Delay(MAX_FAULT_DELAY)
        );
        for bad in [
            "",
            "delay",
            "delay=",
            "delay=-1",
            "delay=60001",
            "delay_after=18446744073709551615",
            "http_404",
            "ret_000100",
            "explode",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }

    #[test]
    fn prefix_ignores_case() {
        assert_eq!(
            strip_prefix_ignore_case("FAULT-drop-1", "fault-"),
            Some("drop-1")
        );
        assert_eq!(strip_prefix_ignore_case("faul", "fault-"), None);
        assert_eq!(strip_prefix_ignore_case("é", "fault-"), None);
    }
}
