//! The one place names change spelling between the wire (camelCase) and
//! Rust and Python (snake_case). The bindings call these rather than keep
//! their own.

/// `camelCase` to `snake_case`.
///
/// ```
/// assert_eq!(pockyt_payouts::naming::snake_case("dateOfBirth"), "date_of_birth");
/// assert_eq!(pockyt_payouts::naming::snake_case("street2"), "street2");
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
/// assert_eq!(pockyt_payouts::naming::camel_case("date_of_birth"), "dateOfBirth");
/// assert_eq!(pockyt_payouts::naming::camel_case("invoiceId"), "invoiceId");
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
