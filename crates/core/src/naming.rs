//! The one place names change spelling between the wire (camelCase) and
//! Rust and Python (snake_case). The bindings call these rather than keep
//! their own. (`pockyt_payouts::naming` re-exports this module.)

/// `camelCase` to `snake_case`.
///
/// ```
/// assert_eq!(pockyt_payouts_core::naming::snake_case("dateOfBirth"), "date_of_birth");
/// assert_eq!(pockyt_payouts_core::naming::snake_case("street2"), "street2");
/// ```
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `snake_case` to `camelCase` (the wire spelling).
///
/// ```
/// assert_eq!(pockyt_payouts_core::naming::camel_case("date_of_birth"), "dateOfBirth");
/// assert_eq!(pockyt_payouts_core::naming::camel_case("invoiceId"), "invoiceId");
/// ```
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// How a language names settings and measures durations: the one rule the
/// Python and Node packages share for client settings, per-call options
/// and sandbox options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spelling {
    /// snake_case names; durations in seconds (`timeout=2.5`).
    Python,
    /// camelCase names; durations in milliseconds with an `Ms` suffix
    /// (`timeoutMs: 2500`).
    Node,
}

impl Spelling {
    /// The name a language gives the setting `name` (snake_case), a
    /// duration or not.
    ///
    /// ```
    /// use pockyt_payouts_core::naming::Spelling;
    /// assert_eq!(Spelling::Node.name("connect_timeout", true), "connectTimeoutMs");
    /// assert_eq!(Spelling::Node.name("max_retries", false), "maxRetries");
    /// assert_eq!(Spelling::Python.name("connect_timeout", true), "connect_timeout");
    /// ```
    pub fn name(self, name: &str, is_duration: bool) -> String {
        match self {
            Spelling::Python => name.to_owned(),
            Spelling::Node if is_duration => camel_case(name) + "Ms",
            Spelling::Node => camel_case(name),
        }
    }

    /// The unit durations are given in: `seconds` or `milliseconds`.
    pub fn unit(self) -> &'static str {
        match self {
            Spelling::Python => "seconds",
            Spelling::Node => "milliseconds",
        }
    }

    /// A number of this language's duration unit as a duration: `None`
    /// when negative, not finite or too large.
    ///
    /// ```
    /// use std::time::Duration;
    /// use pockyt_payouts_core::naming::Spelling;
    /// assert_eq!(Spelling::Node.duration(1500.0), Some(Duration::from_millis(1500)));
    /// assert_eq!(Spelling::Python.duration(f64::NAN), None);
    /// ```
    pub fn duration(self, value: f64) -> Option<std::time::Duration> {
        let seconds = match self {
            Spelling::Python => value,
            Spelling::Node => value / 1000.0,
        };
        if !seconds.is_finite() || seconds < 0.0 {
            return None;
        }
        std::time::Duration::try_from_secs_f64(seconds).ok()
    }

    /// A duration in this language's unit.
    pub fn from_duration(self, value: std::time::Duration) -> f64 {
        match self {
            Spelling::Python => value.as_secs_f64(),
            Spelling::Node => value.as_secs_f64() * 1000.0,
        }
    }
}
