//! IPN (webhook) verification that refuses ambiguous input.
//!
//! The signing rule joins `name=value` pairs with `&` and escapes nothing,
//! so two different sets of fields can sign the same text: a value
//! `USD&status=pending` signs exactly like a value `USD` followed by a field
//! `status` with the value `pending`. A receiver that accepted such input
//! could be shown fields the API never sent, under a valid signature. The
//! functions here therefore refuse, before comparing signatures:
//!
//! - an empty or whitespace-only API token ([`IpnError::EmptyToken`]): a
//!   handler reading its token with a default of `""` would otherwise
//!   accept IPNs signed with `md5("")`, which anyone can compute;
//! - a body that is not strict `application/x-www-form-urlencoded`
//!   ([`IpnError::MalformedBody`]): a `%` not followed by two hex digits,
//!   a name or value that is not valid UTF-8 once decoded (no lossy
//!   decoding: `%FF` and `%FE` must not both become U+FFFD), an empty
//!   name, a name containing `=` or `&`, a value containing `&` (after
//!   decoding), or a field other than `verifySign` sent twice;
//! - no `verifySign` ([`IpnError::MissingSignature`]) or more than one
//!   ([`IpnError::RepeatedSignature`]);
//!
//! and then compare the signature in constant time
//! ([`IpnError::SignatureMismatch`]).
//!
//! Every refusal has a stable code ([`IpnError::code`]), the same in every
//! language: `IPN_EMPTY_TOKEN`, `IPN_MISSING_SIGNATURE`,
//! `IPN_REPEATED_SIGNATURE`, `IPN_SIGNATURE_MISMATCH`, `IPN_MALFORMED_BODY`.
//!
//! No genuine IPN is refused: the API's fields never contain `&`, and the
//! values it echoes from requests (`reference` is the invoiceId,
//! `customerNo`) are refused with `&` by the client's input validation.

use std::borrow::Cow;
use std::fmt;

use crate::rule::{rule_order, sign_sorted};
use crate::{TokenDigest, SIGNATURE_FIELD};

/// Why an IPN (webhook) was refused. Each reason has a stable
/// [`code`](IpnError::code); only [`EmptyToken`](IpnError::EmptyToken) is a
/// configuration error (the receiver's fault, not the sender's).
///
/// `Display` never shows the token, its digest, the signatures or any
/// field's value.
///
/// ```
/// use pockyt_payouts_sign::{sign, verify_ipn_body, IpnError};
///
/// let sig = sign([("status", "success"), ("settleCurrency", "USD")], "token");
/// let body = format!("settleCurrency=USD&status=success&verifySign={sig}");
/// assert_eq!(verify_ipn_body(body.as_bytes(), "token"), Ok(()));
///
/// let err = verify_ipn_body(body.as_bytes(), "  ").unwrap_err();
/// assert_eq!(err, IpnError::EmptyToken);
/// assert_eq!(err.code(), "IPN_EMPTY_TOKEN");
/// assert_eq!(err.reason(), "empty_token");
/// assert_eq!(IpnError::reason_of("IPN_SIGNATURE_MISMATCH"), Some("signature_mismatch"));
/// assert!(err.is_configuration_error());
///
/// // The same signature over a body re-split inside a value.
/// let sig = sign([("settleCurrency", "USD"), ("status", "pending")], "token");
/// let forged = format!("settleCurrency=USD%26status%3Dpending&verifySign={sig}");
/// let err = verify_ipn_body(forged.as_bytes(), "token").unwrap_err();
/// assert_eq!(err.code(), "IPN_MALFORMED_BODY");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpnError {
    /// `IPN_EMPTY_TOKEN`: the API token to verify with is empty or only
    /// whitespace. A configuration error: nothing can be verified with it.
    EmptyToken,
    /// `IPN_MISSING_SIGNATURE`: the IPN has no `verifySign` field.
    MissingSignature,
    /// `IPN_REPEATED_SIGNATURE`: the IPN has more than one `verifySign`.
    RepeatedSignature,
    /// `IPN_SIGNATURE_MISMATCH`: `verifySign` is not the signature of the
    /// other fields with this token (wrong token, or altered fields).
    SignatureMismatch,
    /// `IPN_MALFORMED_BODY`: the IPN cannot be read unambiguously; the
    /// signature was not compared.
    MalformedBody(MalformedIpn),
}

impl IpnError {
    /// Code of [`IpnError::EmptyToken`].
    pub const EMPTY_TOKEN: &'static str = "IPN_EMPTY_TOKEN";
    /// Code of [`IpnError::MissingSignature`].
    pub const MISSING_SIGNATURE: &'static str = "IPN_MISSING_SIGNATURE";
    /// Code of [`IpnError::RepeatedSignature`].
    pub const REPEATED_SIGNATURE: &'static str = "IPN_REPEATED_SIGNATURE";
    /// Code of [`IpnError::SignatureMismatch`].
    pub const SIGNATURE_MISMATCH: &'static str = "IPN_SIGNATURE_MISMATCH";
    /// Code of [`IpnError::MalformedBody`].
    pub const MALFORMED_BODY: &'static str = "IPN_MALFORMED_BODY";
    /// Every code, in the order of the variants.
    pub const CODES: [&'static str; 5] = [
        Self::EMPTY_TOKEN,
        Self::MISSING_SIGNATURE,
        Self::REPEATED_SIGNATURE,
        Self::SIGNATURE_MISMATCH,
        Self::MALFORMED_BODY,
    ];
    /// The rule an empty token breaks, completing "`<the token setting> ...`";
    /// for bindings that raise [`IpnError::EmptyToken`] as their own
    /// configuration error.
    pub const EMPTY_TOKEN_RULE: &'static str =
        "must not be empty or only whitespace: an IPN cannot be verified without the API token";

    /// The stable code of this refusal (one of [`IpnError::CODES`]).
    pub fn code(&self) -> &'static str {
        match self {
            IpnError::EmptyToken => Self::EMPTY_TOKEN,
            IpnError::MissingSignature => Self::MISSING_SIGNATURE,
            IpnError::RepeatedSignature => Self::REPEATED_SIGNATURE,
            IpnError::SignatureMismatch => Self::SIGNATURE_MISMATCH,
            IpnError::MalformedBody(_) => Self::MALFORMED_BODY,
        }
    }

    /// The refusal's reason, the same word in every language:
    /// `empty_token`, `missing_signature`, `repeated_signature`,
    /// `signature_mismatch`, `malformed_body`.
    pub fn reason(&self) -> &'static str {
        Self::reason_of(self.code()).unwrap_or_default()
    }

    /// The reason ([`IpnError::reason`]) of the refusal with `code`, or
    /// `None` for a code not in [`IpnError::CODES`].
    pub fn reason_of(code: &str) -> Option<&'static str> {
        Self::CODES
            .iter()
            .zip(Self::REASONS)
            .find(|(c, _)| **c == code)
            .map(|(_, reason)| reason)
    }

    /// Every reason, in the order of [`IpnError::CODES`].
    pub const REASONS: [&'static str; 5] = [
        "empty_token",
        "missing_signature",
        "repeated_signature",
        "signature_mismatch",
        "malformed_body",
    ];

    /// Whether the receiver's configuration is at fault (an empty token)
    /// rather than the IPN. Bindings raise this one instead of answering
    /// `false`.
    pub fn is_configuration_error(&self) -> bool {
        matches!(self, IpnError::EmptyToken)
    }
}

impl fmt::Display for IpnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpnError::EmptyToken => write!(f, "the API token {}", Self::EMPTY_TOKEN_RULE),
            IpnError::MissingSignature => write!(f, "the IPN has no {SIGNATURE_FIELD}"),
            IpnError::RepeatedSignature => {
                write!(f, "the IPN has more than one {SIGNATURE_FIELD}")
            }
            IpnError::SignatureMismatch => write!(
                f,
                "{SIGNATURE_FIELD} does not match the IPN's fields and the API token"
            ),
            IpnError::MalformedBody(why) => write!(f, "malformed IPN: {why}"),
        }
    }
}

impl std::error::Error for IpnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IpnError::MalformedBody(why) => Some(why),
            _ => None,
        }
    }
}

impl From<MalformedIpn> for IpnError {
    fn from(why: MalformedIpn) -> Self {
        IpnError::MalformedBody(why)
    }
}

/// What makes an IPN malformed ([`IpnError::MalformedBody`]). Field names
/// are kept as received; `Display` shows them escaped and shortened, and
/// never shows a value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedIpn {
    /// A `%` not followed by two hexadecimal digits.
    BadPercentEncoding,
    /// A name or value that is not valid UTF-8 once its percent-escapes are
    /// decoded (no lossy decoding).
    InvalidUtf8,
    /// A field with an empty name.
    EmptyName,
    /// A name containing `=` or `&` (after decoding).
    NameWithSeparator {
        /// The name, as decoded.
        name: String,
    },
    /// A value containing `&` (after decoding).
    ValueWithAmpersand {
        /// The field's name.
        field: String,
    },
    /// A field other than `verifySign` sent more than once.
    RepeatedField {
        /// The field's name.
        field: String,
    },
    /// A genuine IPN without a field every event carries (`transactionNo`,
    /// `status`): it cannot be typed or deduplicated.
    MissingField {
        /// The field's name.
        field: String,
    },
    /// A field sent under both of its names with different values
    /// (`invoiceId` and `reference`): which one is meant is ambiguous.
    ConflictingFields {
        /// The field's name.
        field: String,
        /// The other name it was sent under.
        other: String,
    },
    /// A field whose value cannot be read as its type.
    InvalidField {
        /// The field's name.
        field: String,
    },
}

/// At most this many characters of a received name go into a message.
const NAME_SHOWN: usize = 40;

/// A received name for a message: escaped (no control characters reach a
/// log line) and shortened.
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        let head: String = chars.by_ref().take(NAME_SHOWN).collect();
        write!(f, "\"{}", head.escape_debug())?;
        if chars.next().is_some() {
            f.write_str("…")?;
        }
        f.write_str("\"")
    }
}

impl fmt::Display for MalformedIpn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MalformedIpn::BadPercentEncoding => {
                f.write_str("a '%' is not followed by two hexadecimal digits")
            }
            MalformedIpn::InvalidUtf8 => {
                f.write_str("a name or value is not valid UTF-8 once percent-decoded")
            }
            MalformedIpn::EmptyName => f.write_str("a field has an empty name"),
            MalformedIpn::NameWithSeparator { name } => write!(
                f,
                "the field name {} contains '=' or '&' (the signing rule cannot tell it from a separator)",
                Shown(name)
            ),
            MalformedIpn::ValueWithAmpersand { field } => write!(
                f,
                "the value of {} contains '&' (the signing rule cannot tell it from a field separator)",
                Shown(field)
            ),
            MalformedIpn::RepeatedField { field } => {
                write!(f, "the field {} is sent more than once", Shown(field))
            }
            MalformedIpn::MissingField { field } => write!(
                f,
                "the IPN has no {} (every payout event carries it)",
                Shown(field)
            ),
            MalformedIpn::ConflictingFields { field, other } => write!(
                f,
                "the IPN sends {} and {} with different values (which one is meant is ambiguous)",
                Shown(field),
                Shown(other)
            ),
            MalformedIpn::InvalidField { field } => {
                write!(f, "the value of {} cannot be read as its type", Shown(field))
            }
        }
    }
}

impl std::error::Error for MalformedIpn {}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes one name or value of a form body: `+` is a space, `%XX` a byte;
/// the bytes must be UTF-8. Linear in the input.
fn decode_component(raw: &[u8]) -> Result<Cow<'_, str>, MalformedIpn> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_value);
                let lo = raw.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(MalformedIpn::BadPercentEncoding),
                }
                i += 3;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| MalformedIpn::InvalidUtf8)
}

/// The bytes that end a field (`&`), split it (`=`) or need decoding (`+`,
/// `%`): one lookup per byte of the body.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'&' as usize] = true;
    table[b'=' as usize] = true;
    table[b'+' as usize] = true;
    table[b'%' as usize] = true;
    table
};

/// A decoded field of a form body: its name and value, borrowed from the
/// body when nothing in them was encoded.
type Decoded<'b> = (Cow<'b, str>, Cow<'b, str>);

/// The fields of a form body, decoded, in order, not yet checked. A name or
/// value without `+` or `%` is borrowed from the body; when the whole body
/// is UTF-8 (the common case) it is checked once, not part by part.
fn decode_fields(body: &[u8]) -> Result<Vec<Decoded<'_>>, MalformedIpn> {
    let text = std::str::from_utf8(body).ok();
    // A part of the body: borrowed when nothing in it is encoded.
    let part = |start: usize, end: usize, encoded: bool| -> Result<Cow<'_, str>, MalformedIpn> {
        let raw = &body[start..end];
        if encoded {
            return decode_component(raw);
        }
        // Parts end at '&', '=' or the ends of the body: char boundaries.
        match text.and_then(|text| text.get(start..end)) {
            Some(part) => Ok(Cow::Borrowed(part)),
            None => std::str::from_utf8(raw)
                .map(Cow::Borrowed)
                .map_err(|_| MalformedIpn::InvalidUtf8),
        }
    };
    let mut fields = Vec::with_capacity(16);
    let mut start = 0;
    while start < body.len() {
        // One pass over the segment: its end, its first '=', and whether
        // its name or value holds something to decode.
        let mut end = start;
        let mut equals = None;
        let mut encoded = [false; 2];
        while let Some(&byte) = body.get(end) {
            if SPECIAL[usize::from(byte)] {
                match byte {
                    b'&' => break,
                    b'=' if equals.is_none() => equals = Some(end),
                    b'+' | b'%' => encoded[usize::from(equals.is_some())] = true,
                    _ => {}
                }
            }
            end += 1;
        }
        // Empty segments are skipped, as form decoders do.
        if end > start {
            let (name_end, value_start) = equals.map_or((end, end), |at| (at, at + 1));
            let name = part(start, name_end, encoded[0])?;
            let value = part(value_start, end, encoded[1])?;
            fields.push((name, value));
        }
        start = end + 1;
    }
    Ok(fields)
}

/// The fields, as (name, value, position received), in the rule's order.
type Ordered<'f> = Vec<(&'f str, &'f str, usize)>;

/// Refuses fields that the signing rule cannot tell apart from others:
/// empty names, names with `=` or `&`, values with `&`, and any field other
/// than `verifySign` sent twice (its repetition is the caller's to judge).
/// The first refusal in the order received is the one reported. Answers the
/// fields in the rule's order (which finds the repeated ones).
fn check_fields<K: AsRef<str>, V: AsRef<str>>(
    fields: &[(K, V)],
) -> Result<Ordered<'_>, MalformedIpn> {
    // The first field, in the order received, that is wrong by itself.
    let mut wrong: Option<(usize, MalformedIpn)> = None;
    for (at, (name, value)) in fields.iter().enumerate() {
        let (name, value) = (name.as_ref(), value.as_ref());
        let why = if name.is_empty() {
            MalformedIpn::EmptyName
        } else if name.contains(['=', '&']) {
            MalformedIpn::NameWithSeparator {
                name: name.to_owned(),
            }
        } else if value.contains('&') {
            MalformedIpn::ValueWithAmpersand {
                field: name.to_owned(),
            }
        } else {
            continue;
        };
        wrong = Some((at, why));
        break;
    }
    let mut ordered: Ordered<'_> = fields
        .iter()
        .enumerate()
        .map(|(at, (k, v))| (k.as_ref(), v.as_ref(), at))
        .collect();
    ordered.sort_unstable_by(|a, b| rule_order((a.0, a.1), (b.0, b.1)).then(a.2.cmp(&b.2)));
    // The first repetition in the order received: for each repeated name,
    // the position of its second occurrence; the earliest of those.
    let mut repeated: Option<usize> = None;
    for group in ordered.chunk_by(|a, b| a.0 == b.0) {
        if group.len() < 2 || group[0].0 == SIGNATURE_FIELD {
            continue;
        }
        let mut positions: Vec<usize> = group.iter().map(|f| f.2).collect();
        positions.sort_unstable();
        let second = positions[1];
        repeated = Some(repeated.map_or(second, |r| r.min(second)));
    }
    match (wrong, repeated) {
        (Some((at, why)), Some(rep)) if at <= rep => Err(why),
        (Some((_, why)), None) => Err(why),
        (_, Some(rep)) => Err(MalformedIpn::RepeatedField {
            field: fields[rep].0.as_ref().to_owned(),
        }),
        (None, None) => Ok(ordered),
    }
}

/// Splits a raw `application/x-www-form-urlencoded` IPN body into its
/// fields, strictly: each name and value decoded exactly once (`+` is a
/// space, `%XX` a byte), in order, empty values kept, empty `&`-separated
/// segments skipped (as form decoders do). Refuses, with
/// [`IpnError::MalformedBody`], what [`verify_ipn_body`] refuses as
/// malformed: bad percent-encoding, invalid UTF-8, an empty name, a name
/// with `=` or `&`, a value with `&`, a field other than `verifySign`
/// repeated. It does not check the signature.
///
/// ```
/// use pockyt_payouts_sign::parse_ipn_body;
/// let fields = parse_ipn_body(b"note=caf%C3%A9+cr%C3%A8me&empty=&verifySign=x").unwrap();
/// assert_eq!(fields[0], ("note".to_string(), "café crème".to_string()));
/// assert_eq!(fields[1], ("empty".to_string(), String::new()));
/// assert!(parse_ipn_body(b"note=%FF").is_err());
/// assert!(parse_ipn_body(b"note=a%26b").is_err());
/// ```
pub fn parse_ipn_body(body: &[u8]) -> Result<Vec<(String, String)>, IpnError> {
    let fields = decode_fields(body)?;
    check_fields(&fields)?;
    Ok(fields
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

/// Verifies an IPN given as its decoded fields (name, value pairs, exactly
/// as received, `verifySign` among them) with an already digested token.
/// See [`verify_ipn`].
pub fn verify_ipn_with_digest<I, K, V>(params: I, digest: &TokenDigest) -> Result<(), IpnError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    if digest.is_blank() {
        return Err(IpnError::EmptyToken);
    }
    let fields: Vec<(K, V)> = params.into_iter().collect();
    verify_fields(&fields, digest)
}

/// [`verify_ipn_with_digest`] once the token is known not to be blank.
fn verify_fields<K: AsRef<str>, V: AsRef<str>>(
    fields: &[(K, V)],
    digest: &TokenDigest,
) -> Result<(), IpnError> {
    let ordered = check_fields(fields)?;
    let mut signatures = ordered
        .iter()
        .filter(|f| f.0 == SIGNATURE_FIELD)
        .map(|f| f.1);
    let received = match (signatures.next(), signatures.next()) {
        (None, _) => return Err(IpnError::MissingSignature),
        (Some(_), Some(_)) => return Err(IpnError::RepeatedSignature),
        (Some(sig), None) => sig,
    };
    let expected = sign_sorted(
        ordered
            .iter()
            .filter(|f| f.0 != SIGNATURE_FIELD)
            .map(|f| (f.0, f.1)),
        digest,
    );
    if expected.matches(received) {
        Ok(())
    } else {
        Err(IpnError::SignatureMismatch)
    }
}

/// Verifies an IPN given as its decoded fields (name, value pairs, exactly
/// as received, `verifySign` among them) with the API token: refuses an
/// empty or whitespace-only token, ambiguous fields (see [`MalformedIpn`]),
/// a missing or repeated `verifySign`, then compares the signature in
/// constant time (hex case ignored).
///
/// Prefer [`verify_ipn_body`] on the raw body: decoding it yourself can
/// hide what this function needs to see (invalid UTF-8, bad escapes).
///
/// ```
/// use pockyt_payouts_sign::{sign, verify_ipn, IpnError};
/// let fields = [("status", "success"), ("reference", "inv-0001")];
/// let sig = sign(fields, "token");
/// let mut received = fields.to_vec();
/// received.push(("verifySign", sig.as_str()));
/// assert_eq!(verify_ipn(received.clone(), "token"), Ok(()));
/// assert_eq!(verify_ipn(received.clone(), "other"), Err(IpnError::SignatureMismatch));
/// assert_eq!(verify_ipn(fields, "token"), Err(IpnError::MissingSignature));
/// assert_eq!(verify_ipn(received, ""), Err(IpnError::EmptyToken));
/// ```
pub fn verify_ipn<I, K, V>(params: I, api_token: &str) -> Result<(), IpnError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    verify_ipn_with_digest(params, &TokenDigest::from_token(api_token))
}

/// Verifies a raw `application/x-www-form-urlencoded` IPN body, exactly as
/// received, with an already digested token. See [`verify_ipn_body`].
pub fn verify_ipn_body_with_digest(body: &[u8], digest: &TokenDigest) -> Result<(), IpnError> {
    // The token is judged before the body: a configuration error is
    // reported whatever was received.
    if digest.is_blank() {
        return Err(IpnError::EmptyToken);
    }
    let fields = decode_fields(body)?;
    verify_fields(&fields, digest)
}

/// Verifies a raw `application/x-www-form-urlencoded` IPN body, exactly as
/// received, with the API token: the body is decoded strictly
/// ([`parse_ipn_body`]), then checked as [`verify_ipn`] does.
///
/// ```
/// use pockyt_payouts_sign::{sign, verify_ipn_body, IpnError};
/// let sig = sign([("a", "x y")], "token");
/// let body = format!("a=x+y&verifySign={sig}");
/// assert_eq!(verify_ipn_body(body.as_bytes(), "token"), Ok(()));
/// let twice = format!("{body}&verifySign={sig}");
/// assert_eq!(verify_ipn_body(twice.as_bytes(), "token"), Err(IpnError::RepeatedSignature));
/// ```
pub fn verify_ipn_body(body: &[u8], api_token: &str) -> Result<(), IpnError> {
    verify_ipn_body_with_digest(body, &TokenDigest::from_token(api_token))
}
