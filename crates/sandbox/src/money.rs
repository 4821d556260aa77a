//! Amounts as integer cents.

/// Parses a non-negative decimal with at most two fraction digits ("500",
/// "12.5", "0.00") into cents. Amounts of payouts are checked first with
/// `pockyt_payouts_core::validate::amount`; this also reads balances, which
/// may be zero.
pub(crate) fn parse_cents(text: &str) -> Option<i128> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 2 {
        return None;
    }
    if text.contains('.') && fraction.is_empty() {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 30 {
        return None;
    }
    let units: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let cents: i128 = match fraction.len() {
        0 => 0,
        1 => i128::from(fraction.as_bytes()[0] - b'0') * 10,
        _ => fraction.parse().ok()?,
    };
    units.checked_mul(100)?.checked_add(cents)
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
        for bad in ["", ".5", "5.", "5.123", "-1", "1,000", "1e3", " 1", "abc"] {
            assert_eq!(parse_cents(bad), None, "{bad}");
        }
        assert_eq!(format_cents(50_000), "500.00");
        assert_eq!(format_cents(7), "0.07");
        assert_eq!(format_cents(-1_250), "-12.50");
        assert_eq!(format_cents(0), "0.00");
    }
}
