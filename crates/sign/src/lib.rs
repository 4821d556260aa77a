//! Signing for the Pockyt (formerly Yuansfer) Payouts v3 API.
//!
//! Every request body carries `merchantNo`, `storeNo`, `timestamp` and
//! `verifySign`; the same `verifySign` rule signs the IPN (webhook) callbacks
//! the API sends to `ipnUrl`. The rule, from the API page:
//!
//! 1. take every field except `verifySign`;
//! 2. sort them by name, in byte order;
//! 3. join them as `name=value` with `&` (a field sent as an empty string is
//!    signed as `name=`; a field not sent is not signed);
//! 4. append `&` and the lowercase hex MD5 of the API token;
//! 5. `verifySign` is the lowercase hex MD5 of that string (UTF-8).
//!
//! This crate has no HTTP of its own: [`Signer`] turns typed parameters
//! ([`Signer::signed_body`], any `serde::Serialize` struct or map of
//! strings) or a JSON body ([`Signer::sign_json_body`]) into a signed JSON
//! body; [`verify_ipn_body`] and [`verify_ipn`] check a received
//! IPN callback and say why one is refused ([`IpnError`], with a stable
//! code); [`verify_urlencoded`] and [`verify`] answer the same as a `bool`.
//!
//! Because the rule escapes nothing, IPN verification refuses what it cannot
//! read unambiguously (see [`verify_ipn_body`] and [`MalformedIpn`]):
//! an empty or whitespace-only token, names with `=` or `&`, values with
//! `&`, invalid UTF-8, bad percent-encoding, and a missing or repeated
//! `verifySign`. The signature itself is compared in constant time.
//!
//! ```
//! use pockyt_payouts_sign::{sign, verify_ipn, IpnError};
//!
//! let sig = sign([("customerNo", "2000305228303182610217"), ("amount", "5.00")], "my-token");
//! let received = [("amount", "5.00"), ("customerNo", "2000305228303182610217"), ("verifySign", sig.as_str())];
//! assert_eq!(verify_ipn(received, "my-token"), Ok(()));
//! assert_eq!(verify_ipn(received, ""), Err(IpnError::EmptyToken));
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod collect;
mod ipn;
mod rule;

use std::fmt;
use std::time::SystemTime;

pub use ipn::{
    parse_ipn_body, verify_ipn, verify_ipn_body, verify_ipn_body_with_digest,
    verify_ipn_with_digest, IpnError, MalformedIpn,
};

use serde_json::{Map, Value};

use crate::collect::Collected;
use crate::rule::{md5_hex, sign_pairs, sign_sorted, Hex, Timestamp};

/// Name of the signature field in request bodies and IPN callbacks.
pub const SIGNATURE_FIELD: &str = "verifySign";
/// Name of the merchant number field of the signing envelope.
pub const MERCHANT_NO_FIELD: &str = "merchantNo";
/// Name of the store number field of the signing envelope.
pub const STORE_NO_FIELD: &str = "storeNo";
/// Name of the timestamp field of the signing envelope.
pub const TIMESTAMP_FIELD: &str = "timestamp";
/// The four fields the signing layer owns. Users never pass them.
pub const ENVELOPE_FIELDS: [&str; 4] = [
    MERCHANT_NO_FIELD,
    STORE_NO_FIELD,
    TIMESTAMP_FIELD,
    SIGNATURE_FIELD,
];

/// `strftime` pattern of the envelope timestamp: UTC, `YYYY-MM-DDTHH:MM:SSZ`.
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// The lowercase hex MD5 of an API token: what the signature actually mixes
/// in. It is enough to forge a signature, so it is kept as secret as the
/// token itself: `Debug` never shows it and it has no `Display`.
///
/// It remembers whether the token was empty or only whitespace, so that
/// IPN verification with it can refuse ([`IpnError::EmptyToken`]): anyone
/// can sign with `md5("")`.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenDigest {
    hex: String,
    blank: bool,
}

impl TokenDigest {
    /// Digest an API token, used exactly as given (no trimming).
    pub fn from_token(api_token: &str) -> Self {
        TokenDigest {
            hex: md5_hex(api_token.as_bytes()).as_str().to_owned(),
            blank: api_token.trim().is_empty(),
        }
    }

    /// The lowercase hex digest. Handle with the care due to the token.
    pub fn expose_secret(&self) -> &str {
        &self.hex
    }

    /// Whether the token was empty or only whitespace (which IPN
    /// verification refuses).
    pub fn is_blank(&self) -> bool {
        self.blank
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(<redacted>)")
    }
}

/// Computes `verifySign` over `params` with an already digested token.
///
/// A `verifySign` among `params` is left out, as the rule says.
pub fn sign_with_digest<I, K, V>(params: I, digest: &TokenDigest) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    signature_of(params, digest).as_str().to_owned()
}

/// [`sign_with_digest`], on the stack.
fn signature_of<I, K, V>(params: I, digest: &TokenDigest) -> Hex
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut pairs: Vec<(K, V)> = params
        .into_iter()
        .filter(|(k, _)| k.as_ref() != SIGNATURE_FIELD)
        .collect();
    pairs.sort_unstable_by(|(ka, va), (kb, vb)| {
        rule::rule_order((ka.as_ref(), va.as_ref()), (kb.as_ref(), vb.as_ref()))
    });
    sign_sorted(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())), digest)
}

/// Computes `verifySign` over `params` (name, value pairs) with the API token.
///
/// ```
/// // md5("a=1&b=2&" + md5("token")), computed by hand elsewhere:
/// let sig = pockyt_payouts_sign::sign([("b", "2"), ("a", "1")], "token");
/// assert_eq!(sig, pockyt_payouts_sign::sign(vec![("a".to_string(), "1".to_string()), ("b".into(), "2".into())], "token"));
/// ```
pub fn sign<I, K, V>(params: I, api_token: &str) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    sign_with_digest(params, &TokenDigest::from_token(api_token))
}

/// Checks a **request's** `verifySign` (found among `params`, the fields of
/// a JSON request body) against the other fields, in constant time, with an
/// already digested token: what the API (and the sandbox) does with the
/// requests it receives.
///
/// Returns `false` when there is no `verifySign`, or more than one.
/// The received signature is compared without regard to hex case.
///
/// **Not for IPNs.** It does not refuse an empty token or ambiguous fields
/// (a request's values may contain `&`: a JSON body delimits its fields
/// itself). Verify an IPN with [`verify_ipn_body`] / [`verify_ipn`] (or
/// [`verify_ipn_with_digest`]).
pub fn verify_with_digest<I, K, V>(params: I, digest: &TokenDigest) -> bool
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut received: Option<V> = None;
    let mut seen = 0usize;
    let mut rest: Vec<(K, V)> = Vec::new();
    for (k, v) in params {
        if k.as_ref() == SIGNATURE_FIELD {
            seen += 1;
            received = Some(v);
        } else {
            rest.push((k, v));
        }
    }
    let received = match (seen, received) {
        (1, Some(sig)) => sig,
        _ => return false,
    };
    signature_of(rest, digest).matches(received.as_ref())
}

/// Whether an IPN callback's fields (exactly as received, `verifySign` among
/// them) are genuine: [`verify_ipn`] as a `bool`. `false` for everything
/// [`verify_ipn`] refuses, including an empty or whitespace-only token;
/// use [`verify_ipn`] to know why.
///
/// ```
/// use pockyt_payouts_sign::{sign, verify};
/// let fields = [("status", "success"), ("transactionNo", "305588797074336092")];
/// let sig = sign(fields, "token");
/// let mut received = fields.to_vec();
/// received.push(("verifySign", sig.as_str()));
/// assert!(verify(received.clone(), "token"));
/// assert!(!verify(received.clone(), ""));
/// received[0].1 = "failed";
/// assert!(!verify(received, "token"));
/// ```
pub fn verify<I, K, V>(params: I, api_token: &str) -> bool
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    verify_ipn(params, api_token).is_ok()
}

/// Splits an `application/x-www-form-urlencoded` body into its fields,
/// decoded exactly once, in order, empty values kept: leniently (invalid
/// UTF-8 becomes U+FFFD, a stray `%` is kept). For request bodies; an IPN
/// is read with [`parse_ipn_body`], which refuses what this accepts.
pub fn parse_urlencoded(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Whether a raw `application/x-www-form-urlencoded` IPN body, exactly as
/// received, is genuine: [`verify_ipn_body`] as a `bool`. `false` for
/// everything [`verify_ipn_body`] refuses, including an empty or
/// whitespace-only token; use [`verify_ipn_body`] to know why.
///
/// ```
/// let sig = pockyt_payouts_sign::sign([("a", "x y")], "token");
/// let body = format!("a=x+y&verifySign={sig}");
/// assert!(pockyt_payouts_sign::verify_urlencoded(body.as_bytes(), "token"));
/// assert!(!pockyt_payouts_sign::verify_urlencoded(body.as_bytes(), " "));
/// ```
pub fn verify_urlencoded(body: &[u8], api_token: &str) -> bool {
    verify_ipn_body(body, api_token).is_ok()
}

/// Formats a point in time as the envelope timestamp: UTC,
/// `YYYY-MM-DDTHH:MM:SSZ`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_secs(1_676_285_458);
/// assert_eq!(pockyt_payouts_sign::format_timestamp(t), "2023-02-13T10:50:58Z");
/// ```
pub fn format_timestamp(at: SystemTime) -> String {
    Timestamp::of(at).as_str().to_owned()
}

/// Parses an envelope timestamp (`YYYY-MM-DDTHH:MM:SSZ`, UTC).
///
/// ```
/// let t = pockyt_payouts_sign::parse_timestamp("2023-02-13T10:50:58Z").unwrap();
/// assert_eq!(pockyt_payouts_sign::format_timestamp(t), "2023-02-13T10:50:58Z");
/// assert!(pockyt_payouts_sign::parse_timestamp("2023-02-13 10:50:58").is_none());
/// ```
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    // chrono accepts some non-padded forms; the wire format is exactly 20 bytes.
    if text.len() != 20 {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(text, TIMESTAMP_FORMAT)
        .ok()
        .map(|naive| naive.and_utc().into())
}

/// Why a body could not be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The body is not a JSON object.
    NotAnObject,
    /// A field's value is not a string (every value on this wire is a string).
    NotAString {
        /// The field's wire name.
        field: String,
    },
    /// The parameters' own `Serialize` implementation failed.
    Unserializable {
        /// What it said.
        message: String,
    },
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::NotAnObject => f.write_str("request body is not a JSON object"),
            SignError::NotAString { field } => {
                write!(f, "{field}: every value on the wire must be a string")
            }
            SignError::Unserializable { message } => {
                write!(f, "the parameters could not be serialized: {message}")
            }
        }
    }
}

impl std::error::Error for SignError {}

/// Fills the signing envelope into request bodies: `merchantNo`, `storeNo`,
/// `timestamp` and `verifySign`.
///
/// `Debug` shows the merchant and store numbers, never the token or its
/// digest.
///
/// ```
/// use pockyt_payouts_sign::{Signer, verify};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let signer = Signer::new("202333", "301854", "s3cr3t");
/// let at = UNIX_EPOCH + Duration::from_secs(1_676_285_458);
/// let body = signer.sign_json_body(br#"{"customerNo":"42"}"#, at).unwrap();
/// let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body).unwrap();
/// assert_eq!(fields["merchantNo"], "202333");
/// assert_eq!(fields["timestamp"], "2023-02-13T10:50:58Z");
/// let pairs = fields.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap()));
/// assert!(verify(pairs, "s3cr3t"));
/// assert!(!format!("{signer:?}").contains("s3cr3t"));
/// ```
#[derive(Clone)]
pub struct Signer {
    merchant_no: String,
    store_no: String,
    digest: TokenDigest,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("merchant_no", &self.merchant_no)
            .field("store_no", &self.store_no)
            .field("api_token", &"<redacted>")
            .finish()
    }
}

impl Signer {
    /// A signer for one merchant and store, with the merchant's API token.
    pub fn new(
        merchant_no: impl Into<String>,
        store_no: impl Into<String>,
        api_token: &str,
    ) -> Self {
        Signer {
            merchant_no: merchant_no.into(),
            store_no: store_no.into(),
            digest: TokenDigest::from_token(api_token),
        }
    }

    /// The merchant number put into every body.
    pub fn merchant_no(&self) -> &str {
        &self.merchant_no
    }

    /// The store number put into every body.
    pub fn store_no(&self) -> &str {
        &self.store_no
    }

    /// The token digest this signer signs with.
    pub fn token_digest(&self) -> &TokenDigest {
        &self.digest
    }

    /// Adds the envelope to `fields` (the parameters' pairs, without any
    /// envelope field), sorts them into the rule's order and signs them.
    fn seal<'a>(&'a self, fields: &mut Vec<(&'a str, &'a str)>, timestamp: &'a str) -> Hex {
        fields.push((MERCHANT_NO_FIELD, &self.merchant_no));
        fields.push((STORE_NO_FIELD, &self.store_no));
        fields.push((TIMESTAMP_FIELD, timestamp));
        sign_pairs(fields, &self.digest)
    }

    /// Puts the envelope into `fields` (overwriting any envelope field
    /// already there) and signs every field. On error `fields` is left as
    /// it was.
    pub fn sign_fields(
        &self,
        fields: &mut Map<String, Value>,
        at: SystemTime,
    ) -> Result<(), SignError> {
        let timestamp = Timestamp::of(at);
        let signature = {
            let mut pairs = string_pairs(fields)?;
            self.seal(&mut pairs, timestamp.as_str())
        };
        fields.remove(SIGNATURE_FIELD);
        fields.insert(
            MERCHANT_NO_FIELD.into(),
            Value::String(self.merchant_no.clone()),
        );
        fields.insert(STORE_NO_FIELD.into(), Value::String(self.store_no.clone()));
        fields.insert(
            TIMESTAMP_FIELD.into(),
            Value::String(timestamp.as_str().to_owned()),
        );
        fields.insert(
            SIGNATURE_FIELD.into(),
            Value::String(signature.as_str().to_owned()),
        );
        Ok(())
    }

    /// Signs a JSON object body (the operation's parameters) and returns the
    /// body to send: the parameters plus the envelope, as
    /// [`Signer::signed_body`] writes it.
    pub fn sign_json_body(&self, body: &[u8], at: SystemTime) -> Result<Vec<u8>, SignError> {
        let fields: Map<String, Value> = match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => map,
            _ => return Err(SignError::NotAnObject),
        };
        let timestamp = Timestamp::of(at);
        let mut pairs = string_pairs(&fields)?;
        let signature = self.seal(&mut pairs, timestamp.as_str());
        Ok(write_body(&pairs, signature.as_str()))
    }

    /// Signs typed parameters and returns the JSON body to send: the
    /// parameters' fields plus the envelope (`merchantNo`, `storeNo`,
    /// `timestamp` of `at`, `verifySign`), without going through a JSON
    /// tree.
    ///
    /// `params` is a struct or a map (a `serde_json::Map` of strings will
    /// do) whose every field is a string, a unit enum variant or a newtype
    /// of one; a `None` field is not sent, so not signed. An envelope field
    /// among them is replaced. Anything else is refused
    /// ([`SignError::NotAString`], or [`SignError::NotAnObject`] when
    /// `params` is not a struct or map).
    ///
    /// The body is compact JSON with the fields in byte order of their
    /// names, `verifySign` among them: what `serde_json` writes for a
    /// `BTreeMap` of the same fields.
    ///
    /// ```
    /// use pockyt_payouts_sign::{verify, Signer};
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// #[derive(serde::Serialize)]
    /// struct Inquiry<'a> {
    ///     #[serde(rename = "invoiceId")]
    ///     invoice_id: &'a str,
    ///     #[serde(skip_serializing_if = "Option::is_none")]
    ///     note: Option<&'a str>,
    /// }
    ///
    /// let signer = Signer::new("202333", "301854", "s3cr3t");
    /// let at = UNIX_EPOCH + Duration::from_secs(1_676_285_458);
    /// let body = signer.signed_body(&Inquiry { invoice_id: "inv-1", note: None }, at).unwrap();
    /// let text = std::str::from_utf8(&body).unwrap();
    /// assert!(text.starts_with(r#"{"invoiceId":"inv-1","merchantNo":"202333","storeNo":"301854","timestamp":"2023-02-13T10:50:58Z","verifySign":""#));
    /// let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body).unwrap();
    /// assert!(verify(fields.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap())), "s3cr3t"));
    /// assert_eq!(body, signer.sign_json_body(br#"{"invoiceId":"inv-1"}"#, at).unwrap());
    /// ```
    pub fn signed_body<T: serde::Serialize + ?Sized>(
        &self,
        params: &T,
        at: SystemTime,
    ) -> Result<Vec<u8>, SignError> {
        let collected = Collected::of(params)?;
        let timestamp = Timestamp::of(at);
        let mut pairs = Vec::with_capacity(collected.len() + 3);
        pairs.extend(collected.pairs());
        let signature = self.seal(&mut pairs, timestamp.as_str());
        Ok(write_body(&pairs, signature.as_str()))
    }
}

/// The fields of a JSON object as (name, value), the envelope's left out;
/// every other value must be a string.
fn string_pairs(fields: &Map<String, Value>) -> Result<Vec<(&str, &str)>, SignError> {
    let mut pairs = Vec::with_capacity(fields.len() + 3);
    for (name, value) in fields {
        if ENVELOPE_FIELDS.contains(&name.as_str()) {
            continue;
        }
        match value {
            Value::String(text) => pairs.push((name.as_str(), text.as_str())),
            _ => {
                return Err(SignError::NotAString {
                    field: name.clone(),
                })
            }
        }
    }
    Ok(pairs)
}

/// The body to send: `fields` (in the rule's order, without `verifySign`)
/// and `verifySign` in its place, as compact JSON.
fn write_body(fields: &[(&str, &str)], signature: &str) -> Vec<u8> {
    let size: usize = fields.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
    let mut out = Vec::with_capacity(size + SIGNATURE_FIELD.len() + signature.len() + 8);
    out.push(b'{');
    let mut signed = false;
    for (name, value) in fields {
        if !signed && name.as_bytes() > SIGNATURE_FIELD.as_bytes() {
            write_field(&mut out, SIGNATURE_FIELD, signature);
            signed = true;
        }
        write_field(&mut out, name, value);
    }
    if !signed {
        write_field(&mut out, SIGNATURE_FIELD, signature);
    }
    out.push(b'}');
    out
}

/// Appends `"name":"value"` (after a comma unless it is the first field).
fn write_field(out: &mut Vec<u8>, name: &str, value: &str) {
    if out.len() > 1 {
        out.push(b',');
    }
    write_string(out, name);
    out.push(b':');
    write_string(out, value);
}

/// Appends `text` as a JSON string: as is between quotes when nothing in it
/// needs escaping (no `"`, `\` or control character), else as `serde_json`
/// writes it.
fn write_string(out: &mut Vec<u8>, text: &str) {
    if needs_escaping(text.as_bytes()) {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// Whether `bytes` hold a byte JSON escapes: `"`, `\` or one below
/// 0x20. Eight bytes at a time; a `true` may be a false alarm (which costs
/// only the slower, exact path), a `false` never is.
fn needs_escaping(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether some byte of `word` is below `n` (n <= 0x80).
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_ne_bytes(word);
        if below(word, 0x20)
            || below(word ^ (ONES * u64::from(b'"')), 1)
            || below(word ^ (ONES * u64::from(b'\\')), 1)
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b == b'"' || b == b'\\' || b < 0x20)
}

#[cfg(test)]
mod tests {
    use super::needs_escaping;

    #[test]
    fn escaping_is_never_missed() {
        let naive = |bytes: &[u8]| bytes.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20);
        for len in 0..20 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    for fill in [b'a', 0x7f, 0xff, b' ', b'!', b'#', b'[', b']'] {
                        let mut text = vec![fill; len];
                        text[at] = byte;
                        if naive(&text) {
                            assert!(needs_escaping(&text), "{text:?}");
                        }
                    }
                }
            }
            assert!(!needs_escaping(&vec![b'a'; len]));
        }
        assert!(!needs_escaping(
            "Payouts, Thanks é 日本 🦀 \u{7f}".as_bytes()
        ));
    }
}
