//! The JSON door: parameters as a JSON object of wire names, results as
//! JSON. The Python and Node bindings call every operation through it.

use pockyt_payouts_core::operation::Operation;
use pockyt_payouts_sign::ENVELOPE_FIELDS;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::params::RequiredFields;

/// Parameters from a JSON object of wire names, with every refusal naming
/// the field.
///
/// Every check is made on the JSON object itself, before serde sees it:
/// names of the signing envelope, non-string values, missing required
/// fields (from [`RequiredFields`]); after it, names that do not come back
/// out of the typed params were not understood. Nothing here reads serde's
/// message text; a value serde still refuses (say, an enumeration value it
/// does not know) is refused at the path serde reports, in serde's words.
pub(crate) fn from_json<T: DeserializeOwned + Serialize + RequiredFields>(
    params: Value,
) -> Result<T, Error> {
    let Value::Object(mut fields) = params else {
        return Err(Error::invalid_request(
            "params",
            "must be an object of named string values",
        ));
    };
    fields.retain(|_, v| !v.is_null());
    for (name, value) in &fields {
        if ENVELOPE_FIELDS.contains(&name.as_str()) {
            return Err(Error::invalid_request(
                name,
                "is set by the SDK's signing layer and must not be passed",
            ));
        }
        if !value.is_string() {
            return Err(Error::invalid_request(name, "must be a string"));
        }
    }
    if let Some(missing) = T::REQUIRED.iter().find(|name| !fields.contains_key(**name)) {
        return Err(Error::invalid_request(missing, "is required"));
    }
    let names: Vec<String> = fields.keys().cloned().collect();
    let typed: T = serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "params" } else { &path };
        Error::invalid_request(field, e.into_inner().to_string())
    })?;
    // The params types do not deny unknown fields (serde drops them
    // silently): a name that does not come back out was not understood.
    let known = serde_json::to_value(&typed).unwrap_or(Value::Null);
    if let Some(unknown) = names.iter().find(|name| known.get(name.as_str()).is_none()) {
        return Err(Error::invalid_request(
            unknown,
            "is not a parameter of this operation",
        ));
    }
    Ok(typed)
}

/// A result as JSON, every list field of the result there (`[]` when the
/// API left it out), so every language sees the same shape.
pub(crate) fn to_json<T: Serialize>(
    operation: Operation,
    result: Result<T, Error>,
) -> Result<Value, Error> {
    let value = result?;
    let mut json = serde_json::to_value(&value).map_err(|e| Error::Decode {
        operation: operation.into(),
        status: 200,
        message: e.to_string(),
        excerpt: String::new(),
    })?;
    if let Value::Object(fields) = &mut json {
        for name in operation.result_list_fields() {
            fields
                .entry(*name)
                .or_insert_with(|| Value::Array(Vec::new()));
        }
    }
    Ok(json)
}
