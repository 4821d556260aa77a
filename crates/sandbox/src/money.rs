//! Amounts as integer cents.

use pockyt_payouts_core::money::Amount;

/// Parses a non-negative decimal with at most two fraction digits ("500",
/// "12.5", "0.00") into cents, by the SDK's one rule
/// ([`pockyt_payouts_core::money::Amount`]; "5." and ".5" are refused, 15
/// integer digits at most). Amounts of payouts are checked first with
/// `pockyt_payouts_core::validate::amount` (the same rule, zero refused);
/// this also reads balances, which may be zero.
pub(crate) fn parse_cents(text: &str) -> Option<i128> {
    Amount::parse_non_negative(text)
        .ok()
        .map(|amount| i128::from(amount.minor_units()))
}

/// Formats cents with two fraction digits: `50000` → `"500.00"`.
pub(crate) fn format_cents(cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse_cents("500"), Some(50_000));
        assert_eq!(parse_cents("12.5"), Some(1_250));
        assert_eq!(parse_cents("0.07"), Some(7));
        assert_eq!(parse_cents("0"), Some(0));
        assert_eq!(parse_cents("007.10"), Some(710));
        assert_eq!(
            parse_cents("999999999999999.99"),
            Some(99_999_999_999_999_999)
        );
        for bad in [
            "",
            ".5",
            "5.",
            "5.123",
            "-1",
            "1,000",
            "1e3",
            " 1",
            "abc",
            "1000000000000000",
        ] {
            assert_eq!(parse_cents(bad), None, "{bad}");
        }
        assert_eq!(format_cents(50_000), "500.00");
        assert_eq!(format_cents(7), "0.07");
        assert_eq!(format_cents(-1_250), "-12.50");
        assert_eq!(format_cents(0), "0.00");
    }
}
