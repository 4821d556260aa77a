//! From a received IPN to a typed event: verify first, then read.

use pockyt_payouts_sign::{
    parse_ipn_body, verify_ipn_with_digest, IpnError, MalformedIpn, TokenDigest, SIGNATURE_FIELD,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A webhook event type generated from the spec (a schema marked
/// `x-webhook-event`): which fields every event carries and which fields
/// the API may send under another name. Implemented by the generated code
/// for [`PayoutEvent`](super::PayoutEvent); not meant to be implemented by
/// hand.
pub trait WebhookEvent: DeserializeOwned {
    /// Wire names of the fields every event of this kind carries.
    const REQUIRED: &'static [&'static str];
    /// `(field, other wire name)`: the field may arrive under the other
    /// name (`("invoiceId", "reference")`).
    const ALIASES: &'static [(&'static str, &'static str)];
}

/// Verifies a raw IPN body and types it: the strict reading and the
/// signature check come first, nothing is read from an IPN that fails them.
pub(crate) fn from_body<E: WebhookEvent>(body: &[u8], digest: &TokenDigest) -> Result<E, IpnError> {
    if digest.is_blank() {
        return Err(IpnError::EmptyToken);
    }
    let fields = parse_ipn_body(body)?;
    from_verified_fields(fields, digest)
}

/// Verifies already decoded fields and types them.
pub(crate) fn from_fields<E, I, K, V>(fields: I, digest: &TokenDigest) -> Result<E, IpnError>
where
    E: WebhookEvent,
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    if digest.is_blank() {
        return Err(IpnError::EmptyToken);
    }
    let fields: Vec<(String, String)> = fields
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    from_verified_fields(fields, digest)
}

fn from_verified_fields<E: WebhookEvent>(
    fields: Vec<(String, String)>,
    digest: &TokenDigest,
) -> Result<E, IpnError> {
    verify_ipn_with_digest(fields.iter().map(|(k, v)| (k, v)), digest)?;
    typed(fields)
}

/// Types verified fields: every field kept (`verifySign` aside), a field
/// sent under its other name filled in, required fields present and not
/// empty.
fn typed<E: WebhookEvent>(fields: Vec<(String, String)>) -> Result<E, IpnError> {
    let mut map = Map::with_capacity(fields.len() + E::ALIASES.len());
    for (name, value) in fields {
        if name != SIGNATURE_FIELD {
            map.insert(name, Value::String(value));
        }
    }
    for (field, other) in E::ALIASES {
        // An empty value under the other name says nothing.
        let Some(value) = map
            .get(*other)
            .filter(|v| v.as_str().is_some_and(|v| !v.is_empty()))
            .cloned()
        else {
            continue;
        };
        match map.get(*field) {
            Some(existing) if *existing != value => {
                return Err(MalformedIpn::ConflictingFields {
                    field: (*field).to_owned(),
                    other: (*other).to_owned(),
                }
                .into())
            }
            Some(_) => {}
            None => {
                map.insert((*field).to_owned(), value);
            }
        }
    }
    for field in E::REQUIRED {
        let present = map
            .get(*field)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.trim().is_empty());
        if !present {
            return Err(MalformedIpn::MissingField {
                field: (*field).to_owned(),
            }
            .into());
        }
    }
    serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
        MalformedIpn::InvalidField {
            field: e.path().to_string(),
        }
        .into()
    })
}
