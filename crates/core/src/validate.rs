//! Every input rule, once: the client refuses a call that breaks one with
//! `INVALID_REQUEST` before anything is sent (for all three languages), and
//! the sandbox answers `000023` for it, as the API does. A [`Violation`]
//! names the field (wire spelling) and the rule. Messages never repeat the
//! value: account numbers and government ids are sensitive.

use std::net::IpAddr;

use crate::enums::{
    AccountType, BankAccountPurpose, GovernmentIdType, ProcessingChannel, ProfileType,
};
use crate::money::Amount;
use crate::types::{
    AddBankAccountParams, BalanceParams, DeletePayoutAccountParams, InquirePayoutParams,
    ListPayoutAccountsParams, PayParams, RegisterPayeeParams, RetrievePayeeParams,
    UpdatePayeeParams,
};
use chrono::{Datelike, NaiveDate, Utc};

/// A broken input rule: which field, and the rule in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The field's wire (camelCase) name.
    pub field: String,
    /// The rule, in words, completing "`<field> ...`": "is required", ...
    pub rule: String,
}

impl Violation {
    /// A violation of `rule` by `field`.
    pub fn new(field: &str, rule: impl Into<String>) -> Self {
        Violation {
            field: field.to_owned(),
            rule: rule.into(),
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.rule)
    }
}

impl std::error::Error for Violation {}

/// The result of a rule.
pub type Check = Result<(), Violation>;

/// Rules a request's parameters must meet before they are sent.
pub trait Validate {
    /// Fills documented defaults, then checks every rule.
    fn prepare(&mut self) -> Check;
}

/// A mandatory field: present and not blank.
pub fn required(field: &str, value: &str) -> Check {
    if value.trim().is_empty() {
        return Err(Violation::new(field, "is required and must not be empty"));
    }
    Ok(())
}

/// An amount: a positive decimal with at most two fraction digits, digits
/// and one optional dot only (no sign, thousands separator, currency symbol,
/// exponent or spaces), at most 15 integer digits. The rule is
/// [`Amount::parse`](crate::money::Amount::parse): the one reading of
/// amounts shared by the client and the sandbox.
///
/// ```
/// use pockyt_payouts_core::validate::amount;
/// assert!(amount("amount", "500").is_ok());
/// assert!(amount("amount", "0.01").is_ok());
/// for bad in ["0", "0.00", "-5", "+5", "5.001", "1,000", "$5", "1e3", "5.", ".5", " 5", ""] {
///     assert!(amount("amount", bad).is_err(), "{bad}");
/// }
/// ```
pub fn amount(field: &str, value: &str) -> Check {
    Amount::parse(value)
        .map(|_| ())
        .map_err(|e| Violation::new(field, e.rule()))
}

/// An ISO 4217 currency code: three uppercase ASCII letters.
pub fn currency(field: &str, value: &str) -> Check {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(Violation::new(
            field,
            "must be a currency code of three uppercase letters, like \"USD\"",
        ))
    }
}

/// An ISO 3166-1 alpha-2 country code: two uppercase ASCII letters.
pub fn country_code(field: &str, value: &str) -> Check {
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(Violation::new(
            field,
            "must be a country code of two uppercase letters, like \"US\"",
        ))
    }
}

/// An email address's shape: `local@domain.tld`, no spaces, at most 254
/// characters.
///
/// ```
/// use pockyt_payouts_core::validate::email;
/// assert!(email("email", "john.doe+pay@example.co.uk").is_ok());
/// for bad in ["john", "john@", "@example.com", "john@example", "jo hn@example.com", "a@b@c.com", "john@.com", "john@example.com."] {
///     assert!(email("email", bad).is_err(), "{bad}");
/// }
/// ```
pub fn email(field: &str, value: &str) -> Check {
    const RULE: &str = "must be an email address like \"name@example.com\"";
    let ok = value.len() <= 254
        && !value
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        && match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && domain.split('.').all(|label| {
                        !label.is_empty() && !label.starts_with('-') && !label.ends_with('-')
                    })
            }
            None => false,
        };
    if ok {
        Ok(())
    } else {
        Err(Violation::new(field, RULE))
    }
}

/// A date of birth: a real calendar date, `YYYY-MM-DD`, in the past, not
/// before 1900.
///
/// ```
/// use pockyt_payouts_core::validate::date_of_birth;
/// assert!(date_of_birth("dateOfBirth", "1999-01-01").is_ok());
/// assert!(date_of_birth("dateOfBirth", "2000-02-29").is_ok());
/// for bad in ["1999-02-29", "1999-13-01", "1999-1-1", "01/01/1999", "2999-01-01", "1899-12-31", ""] {
///     assert!(date_of_birth("dateOfBirth", bad).is_err(), "{bad}");
/// }
/// ```
pub fn date_of_birth(field: &str, value: &str) -> Check {
    const RULE: &str = "must be a real date in YYYY-MM-DD format";
    let shape = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shape {
        return Err(Violation::new(field, RULE));
    }
    let date =
        NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| Violation::new(field, RULE))?;
    if date >= Utc::now().date_naive() {
        return Err(Violation::new(field, "must be a date in the past"));
    }
    if date.year() < 1900 {
        return Err(Violation::new(field, "must not be before 1900-01-01"));
    }
    Ok(())
}

/// A US ABA routing number: nine digits whose weighted sum
/// 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) is a multiple of 10.
///
/// ```
/// use pockyt_payouts_core::validate::routing_number;
/// assert!(routing_number("branchId", "101089292").is_ok());
/// assert!(routing_number("branchId", "021000021").is_ok());
/// for bad in ["101089293", "10108929", "1010892921", "10108929a", ""] {
///     assert!(routing_number("branchId", bad).is_err(), "{bad}");
/// }
/// ```
pub fn routing_number(field: &str, value: &str) -> Check {
    let bytes = value.as_bytes();
    if bytes.len() != 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(Violation::new(
            field,
            "must be a 9-digit ABA routing number",
        ));
    }
    const WEIGHTS: [u32; 9] = [3, 7, 1, 3, 7, 1, 3, 7, 1];
    let sum: u32 = bytes
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    if !sum.is_multiple_of(10) {
        return Err(Violation::new(
            field,
            "fails the ABA routing number checksum",
        ));
    }
    Ok(())
}

/// A US bank account number: 4 to 17 digits.
pub fn bank_account_number(field: &str, value: &str) -> Check {
    if (4..=17).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Violation::new(
            field,
            "must be a bank account number of 4 to 17 digits",
        ))
    }
}

/// A request value the API echoes back in the signed IPN (webhook) of the
/// payout: it must not contain `&`.
///
/// The IPN signing rule joins `name=value` pairs with `&` and escapes
/// nothing, so IPN verification refuses a value containing `&` (it cannot
/// be told from a field separator; see `pockyt_payouts_sign::IpnError`).
/// Refusing it here, before the payout is sent, means no genuine IPN is
/// ever refused. The pay fields echoed into IPNs are `invoiceId` (as
/// `reference`), `customerNo`, `amount` and `currency`; the last two
/// cannot contain `&` by their own rules.
///
/// ```
/// use pockyt_payouts_core::validate::echoed_in_ipn;
/// assert!(echoed_in_ipn("invoiceId", "inv-0001 / a=b").is_ok());
/// let refused = echoed_in_ipn("invoiceId", "inv&status=pending").unwrap_err();
/// assert_eq!(refused.field, "invoiceId");
/// assert!(refused.rule.contains("must not contain '&'"));
/// ```
pub fn echoed_in_ipn(field: &str, value: &str) -> Check {
    if value.contains('&') {
        return Err(Violation::new(
            field,
            "must not contain '&': it is echoed in the signed IPN, whose signing rule cannot tell it from a field separator",
        ));
    }
    Ok(())
}

/// The merchant's invoiceId: 1 to 64 characters, no control characters,
/// no `&` (it comes back as the IPN's `reference`: see [`echoed_in_ipn`]).
///
/// ```
/// use pockyt_payouts_core::validate::invoice_id;
/// assert!(invoice_id("invoiceId", "inv-0001").is_ok());
/// for bad in ["", "a\nb", "inv&1", "&"] {
///     assert!(invoice_id("invoiceId", bad).is_err(), "{bad:?}");
/// }
/// ```
pub fn invoice_id(field: &str, value: &str) -> Check {
    let count = value.chars().count();
    if count == 0 || count > 64 {
        return Err(Violation::new(field, "must be 1 to 64 characters long"));
    }
    if value.chars().any(char::is_control) {
        return Err(Violation::new(field, "must not contain control characters"));
    }
    echoed_in_ipn(field, value)
}

/// An absolute `http://` or `https://` URL.
pub fn url(field: &str, value: &str) -> Check {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !value.chars().any(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(Violation::new(
            field,
            "must be an absolute http:// or https:// URL",
        )),
    }
}

/// An IPv4 or IPv6 address.
pub fn ip_address(field: &str, value: &str) -> Check {
    value
        .parse::<IpAddr>()
        .map(|_| ())
        .map_err(|_| Violation::new(field, "must be an IPv4 or IPv6 address"))
}

/// An idempotency key (`Pockyt-Request-ID`): 1 to 64 ASCII letters, digits
/// and `-`, `_`, `.`, `:` (a UUID fits).
///
/// ```
/// use pockyt_payouts_core::validate::idempotency_key;
/// assert!(idempotency_key("idempotencyKey", "9b2f4a59-2f0c-4e89-9d34-b1f1e3d6d2a1").is_ok());
/// assert!(idempotency_key("idempotencyKey", "").is_err());
/// assert!(idempotency_key("idempotencyKey", "spaces are not allowed").is_err());
/// ```
pub fn idempotency_key(field: &str, value: &str) -> Check {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(Violation::new(
            field,
            "must be 1 to 64 ASCII letters, digits, '-', '_', '.' or ':'",
        ))
    }
}

/// A value of an open enumeration sent in a request must be one of the
/// documented values (`values`).
fn known(field: &str, is_known: bool, values: &[&str]) -> Check {
    if is_known {
        Ok(())
    } else {
        Err(Violation::new(
            field,
            format!("must be one of {}", values.join(", ")),
        ))
    }
}

fn optional(value: &Option<String>, rule: impl Fn(&str) -> Check) -> Check {
    value.as_deref().map_or(Ok(()), rule)
}

/// Rules shared by register and update for the optional profile fields.
fn profile(
    email_: &Option<String>,
    country_code_: &Option<String>,
    gov: &Option<GovernmentIdType>,
) -> Check {
    optional(email_, |v| email("email", v))?;
    optional(country_code_, |v| country_code("countryCode", v))?;
    if let Some(t) = gov {
        known("governmentIdType", t.is_known(), GovernmentIdType::KNOWN)?;
    }
    Ok(())
}

impl Validate for RegisterPayeeParams {
    fn prepare(&mut self) -> Check {
        known(
            "profileType",
            self.profile_type.is_known(),
            ProfileType::KNOWN,
        )?;
        date_of_birth("dateOfBirth", &self.date_of_birth)?;
        profile(&self.email, &self.country_code, &self.government_id_type)
    }
}

impl Validate for UpdatePayeeParams {
    fn prepare(&mut self) -> Check {
        required("customerNo", &self.customer_no)?;
        if let Some(t) = &self.profile_type {
            known("profileType", t.is_known(), ProfileType::KNOWN)?;
        }
        optional(&self.date_of_birth, |v| date_of_birth("dateOfBirth", v))?;
        profile(&self.email, &self.country_code, &self.government_id_type)
    }
}

impl Validate for RetrievePayeeParams {
    fn prepare(&mut self) -> Check {
        required("customerNo", &self.customer_no)
    }
}

impl Validate for ListPayoutAccountsParams {
    fn prepare(&mut self) -> Check {
        required("customerNo", &self.customer_no)
    }
}

impl Validate for AddBankAccountParams {
    fn prepare(&mut self) -> Check {
        // The one kind of account this call creates.
        let account_type = self.account_type.get_or_insert(AccountType::BankAccount);
        if *account_type != AccountType::BankAccount {
            return Err(Violation::new(
                "accountType",
                "must be BANK_ACCOUNT for add_bank_account",
            ));
        }
        required("customerNo", &self.customer_no)?;
        bank_account_number("bankAccountId", &self.bank_account_id)?;
        routing_number("branchId", &self.branch_id)?;
        known(
            "bankAccountPurpose",
            self.bank_account_purpose.is_known(),
            BankAccountPurpose::KNOWN,
        )?;
        country_code("accountCountry", &self.account_country)?;
        currency("accountCurrency", &self.account_currency)?;
        optional(&self.client_ip, |v| ip_address("clientIp", v))?;
        optional(&self.ipn_url, |v| url("ipnUrl", v))
    }
}

impl Validate for DeletePayoutAccountParams {
    fn prepare(&mut self) -> Check {
        required("customerNo", &self.customer_no)?;
        required("accountToken", &self.account_token)
    }
}

impl Validate for PayParams {
    fn prepare(&mut self) -> Check {
        required("customerNo", &self.customer_no)?;
        echoed_in_ipn("customerNo", &self.customer_no)?;
        required("accountToken", &self.account_token)?;
        amount("amount", &self.amount)?;
        currency("currency", &self.currency)?;
        invoice_id("invoiceId", &self.invoice_id)?;
        optional(&self.ipn_url, |v| url("ipnUrl", v))?;
        if let Some(c) = &self.processing_channel {
            known("processingChannel", c.is_known(), ProcessingChannel::KNOWN)?;
        }
        Ok(())
    }
}

impl Validate for InquirePayoutParams {
    fn prepare(&mut self) -> Check {
        invoice_id("invoiceId", &self.invoice_id)
    }
}

impl Validate for BalanceParams {
    fn prepare(&mut self) -> Check {
        currency("currency", &self.currency)
    }
}
