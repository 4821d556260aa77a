//! Money amounts: the one reading of the wire's amount strings.
//!
//! Every amount on this API is a string (`"500"`, `"12.50"`). [`Amount`]
//! reads one by a single rule, shared by the client's input validation
//! ([`crate::validate::amount`]), the client's comparison of a sent and an
//! answered payout, and the sandbox's ledger:
//!
//! - ASCII digits, with at most one `.` followed by one or two digits
//!   (`"5"`, `"5.5"`, `"5.50"`; leading zeros are allowed: `"007.10"`);
//! - no sign, thousands separator, currency symbol, exponent, spaces, or
//!   non-ASCII digits; `"5."` and `".5"` are refused;
//! - at most [`Amount::MAX_INTEGER_DIGITS`] integer digits (leading zeros
//!   not counted);
//! - greater than zero ([`Amount::parse`]), or zero allowed too
//!   ([`Amount::parse_non_negative`], for balances).
//!
//! The value is kept as integer minor units (cents), so `"500"` and
//! `"500.00"` are the same amount, and [`Display`](std::fmt::Display)
//! writes two fraction digits.
//!
//! ```
//! use pockyt_payouts_core::money::Amount;
//!
//! let amount: Amount = "12.5".parse().unwrap();
//! assert_eq!(amount.minor_units(), 1_250);
//! assert_eq!(amount.to_string(), "12.50");
//! assert_eq!(Amount::parse("500").unwrap(), Amount::parse("500.00").unwrap());
//! assert!(Amount::parse("5.").is_err());
//! ```

use std::fmt;
use std::str::FromStr;

/// An amount of money as integer minor units (cents: two fraction digits),
/// read from the wire's decimal string by the one rule of this module.
///
/// Ordered and compared by value. Always at most [`Amount::MAX`].
///
/// ```
/// use pockyt_payouts_core::money::{Amount, AmountError};
///
/// assert_eq!(Amount::parse("0.01").unwrap().minor_units(), 1);
/// assert_eq!(Amount::parse("007.10").unwrap().to_string(), "7.10");
/// assert_eq!(Amount::parse("0.00"), Err(AmountError::Zero));
/// assert_eq!(Amount::parse_non_negative("0").unwrap(), Amount::ZERO);
/// for bad in ["-5", "+5", "5.001", "1,000", "$5", "1e3", "5.", ".5", " 5", "", "٥"] {
///     assert_eq!(Amount::parse(bad), Err(AmountError::Malformed), "{bad}");
/// }
/// assert_eq!(Amount::parse("1000000000000000"), Err(AmountError::TooLarge));
/// assert_eq!(Amount::parse("999999999999999.99").unwrap(), Amount::MAX);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount {
    minor: u64,
}

/// Why a text is not an [`Amount`]. `Display` gives the rule in words,
/// completing "`<field> ...`", without repeating the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmountError {
    /// Not digits with at most one `.` followed by one or two digits.
    Malformed,
    /// Zero, where an amount must be greater than zero.
    Zero,
    /// More than [`Amount::MAX_INTEGER_DIGITS`] integer digits.
    TooLarge,
}

impl AmountError {
    /// The rule broken, in words, completing "`<field> ...`".
    pub fn rule(self) -> &'static str {
        match self {
            AmountError::Malformed => {
                "must be a positive decimal with at most two fraction digits, like \"500\" or \"12.50\" (no sign, separators, currency symbol or exponent)"
            }
            AmountError::Zero => "must be greater than zero",
            AmountError::TooLarge => "is too large (at most 15 integer digits)",
        }
    }
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rule())
    }
}

impl std::error::Error for AmountError {}

impl Amount {
    /// The most integer digits an amount may have (leading zeros not
    /// counted): amounts up to 999 999 999 999 999.99.
    pub const MAX_INTEGER_DIGITS: usize = 15;
    /// The largest amount: 999 999 999 999 999.99.
    pub const MAX: Amount = Amount {
        minor: 99_999_999_999_999_999,
    };
    /// Zero (a balance may be zero; a payout amount may not).
    pub const ZERO: Amount = Amount { minor: 0 };

    /// Reads an amount that must be greater than zero (a payout's amount).
    ///
    /// ```
    /// use pockyt_payouts_core::money::Amount;
    /// assert_eq!(Amount::parse("25.00").unwrap().minor_units(), 2_500);
    /// assert!(Amount::parse("0").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Amount, AmountError> {
        let amount = Amount::parse_non_negative(text)?;
        if amount == Amount::ZERO {
            return Err(AmountError::Zero);
        }
        Ok(amount)
    }

    /// Reads an amount that may be zero (a balance), by the same rule
    /// otherwise.
    ///
    /// ```
    /// use pockyt_payouts_core::money::Amount;
    /// assert_eq!(Amount::parse_non_negative("0.00").unwrap().minor_units(), 0);
    /// assert!(Amount::parse_non_negative("-1").is_err());
    /// ```
    pub fn parse_non_negative(text: &str) -> Result<Amount, AmountError> {
        let (whole, fraction) = match text.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !fraction.is_none_or(|f| digits(f) && f.len() <= 2) {
            return Err(AmountError::Malformed);
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > Amount::MAX_INTEGER_DIGITS {
            return Err(AmountError::TooLarge);
        }
        // At most 15 digits: fits in u64 (and times 100, plus 99).
        let units = whole
            .bytes()
            .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
        let cents = match fraction.map(str::as_bytes) {
            None => 0,
            Some([tens]) => u64::from(tens - b'0') * 10,
            Some([tens, ones]) => u64::from(tens - b'0') * 10 + u64::from(ones - b'0'),
            // digits(f) && f.len() <= 2 was checked above.
            Some(_) => return Err(AmountError::Malformed),
        };
        Ok(Amount {
            minor: units * 100 + cents,
        })
    }

    /// The amount of `minor` units (cents); `None` above [`Amount::MAX`].
    ///
    /// ```
    /// use pockyt_payouts_core::money::Amount;
    /// assert_eq!(Amount::from_minor_units(1_250).unwrap().to_string(), "12.50");
    /// assert!(Amount::from_minor_units(u64::MAX).is_none());
    /// ```
    pub fn from_minor_units(minor: u64) -> Option<Amount> {
        (minor <= Amount::MAX.minor).then_some(Amount { minor })
    }

    /// The amount in minor units (cents).
    pub fn minor_units(self) -> u64 {
        self.minor
    }

    /// The sum, or `None` above [`Amount::MAX`].
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        Amount::from_minor_units(self.minor.checked_add(other.minor)?)
    }

    /// The difference, or `None` below zero.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.minor
            .checked_sub(other.minor)
            .map(|minor| Amount { minor })
    }
}

/// Reads an amount that must be greater than zero ([`Amount::parse`]).
impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(text: &str) -> Result<Amount, AmountError> {
        Amount::parse(text)
    }
}

/// Writes the amount with two fraction digits: `"500.00"`, `"0.07"`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.minor / 100, self.minor % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_every_shape() {
        let ok = [
            ("500", 50_000),
            ("500.0", 50_000),
            ("500.00", 50_000),
            ("12.5", 1_250),
            ("0.07", 7),
            ("0.01", 1),
            ("007.10", 710),
            ("999999999999999.99", 99_999_999_999_999_999),
            ("0000000000000000001", 100),
        ];
        for (text, minor) in ok {
            assert_eq!(
                Amount::parse(text).map(Amount::minor_units),
                Ok(minor),
                "{text}"
            );
        }
        for bad in [
            "", ".", ".5", "5.", "5.001", "-1", "+1", "1,000", "1 000", "1e3", " 1", "1 ", "$5",
            "5USD", "0x10", "5..0", "5.0.0", "٥", "１", "NaN", "inf",
        ] {
            assert_eq!(Amount::parse(bad), Err(AmountError::Malformed), "{bad:?}");
            assert_eq!(
                Amount::parse_non_negative(bad),
                Err(AmountError::Malformed),
                "{bad:?}"
            );
        }
        for zero in ["0", "0.0", "0.00", "000"] {
            assert_eq!(Amount::parse(zero), Err(AmountError::Zero));
            assert_eq!(Amount::parse_non_negative(zero), Ok(Amount::ZERO));
        }
        assert_eq!(
            Amount::parse("1000000000000000"),
            Err(AmountError::TooLarge)
        );
        assert_eq!(Amount::parse(&"9".repeat(40)), Err(AmountError::TooLarge));
    }

    #[test]
    fn display_and_arithmetic() {
        assert_eq!(Amount::parse("500").unwrap().to_string(), "500.00");
        assert_eq!(Amount::parse("0.07").unwrap().to_string(), "0.07");
        assert_eq!(Amount::ZERO.to_string(), "0.00");
        assert_eq!(Amount::MAX.to_string(), "999999999999999.99");
        let a = Amount::parse("10.50").unwrap();
        let b = Amount::parse("0.75").unwrap();
        assert_eq!(a.checked_add(b).unwrap().to_string(), "11.25");
        assert_eq!(a.checked_sub(b).unwrap().to_string(), "9.75");
        assert_eq!(b.checked_sub(a), None);
        assert_eq!(
            Amount::MAX.checked_add(Amount::parse("0.01").unwrap()),
            None
        );
        assert!(b < a);
        // Round trip through Display.
        for text in ["1", "1.5", "123456789012345.67"] {
            let amount = Amount::parse(text).unwrap();
            assert_eq!(Amount::parse(&amount.to_string()), Ok(amount));
        }
    }
}
