//! The JSON door: parameters as a JSON object of wire names, results as
//! JSON. The Python and Node bindings call every operation through it.

use pockyt_payouts_core::operation::Operation;
use pockyt_payouts_sign::ENVELOPE_FIELDS;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::params::RequiredFields;

/// Parameters from a JSON object of wire names, with every refusal naming
/// the field.
///
/// Every check is made on the JSON object itself, before serde sees it:
/// names of the signing envelope, non-string values, missing required
/// fields (from [`RequiredFields::REQUIRED`]); after it, a name that is not
/// one of the type's fields ([`RequiredFields::FIELDS`], both tables
/// generated from the spec) was not understood. Nothing here reads serde's
/// message text; a value serde still refuses (say, an enumeration value it
/// does not know) is refused at the path serde reports, in serde's words.
pub(crate) fn from_json<T: DeserializeOwned + RequiredFields>(params: Value) -> Result<T, Error> {
    let Value::Object(mut fields) = params else {
        return Err(Error::invalid_request(
            "params",
            "must be an object of named string values",
        ));
    };
    fields.retain(|_, v| !v.is_null());
    // The params types do not deny unknown fields (serde would drop them
    // silently): the first name that is not one of the type's is refused
    // after serde's own refusals, as before.
    let mut unknown = None;
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
        if unknown.is_none() && !T::FIELDS.contains(&name.as_str()) {
            unknown = Some(name.clone());
        }
    }
    if let Some(missing) = T::REQUIRED.iter().find(|name| !fields.contains_key(**name)) {
        return Err(Error::invalid_request(missing, "is required"));
    }
    let typed: T = serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "params" } else { &path };
        Error::invalid_request(field, e.into_inner().to_string())
    })?;
    if let Some(unknown) = unknown {
        return Err(Error::invalid_request(
            &unknown,
            "is not a parameter of this operation",
        ));
    }
    Ok(typed)
}

/// What the JSON door answers a result as: a [`Value`]
/// ([`Client::call_json`](crate::Client::call_json), which the Python
/// binding builds its result objects from) or JSON text (a [`String`],
/// [`Client::call_json_text`](crate::Client::call_json_text), which Node
/// parses with `JSON.parse`). Both carry every list field of the result,
/// `[]` when the API left it out, so every language sees the same fields.
/// In the text, a result's fields come in the order of its type, unknown
/// fields last; a [`Value`] keeps serde_json's own order.
///
/// Implemented for [`Value`] and [`String`] only; only this crate makes
/// answers.
pub trait JsonAnswer: sealed::Answer {}

impl JsonAnswer for Value {}

impl JsonAnswer for String {}

/// How an answer is made, out of reach of other crates.
pub(crate) mod sealed {
    use super::{not_serializable, Error, Map, Operation, Serialize, Value};

    pub trait Answer: Sized {
        /// The typed `result` of `operation`. `empty_lists` names its list
        /// fields that are empty: the typed results leave an empty list out
        /// of their serialization, and the answer puts each back as `[]`.
        fn from_result<T: Serialize>(
            operation: Operation,
            result: &T,
            empty_lists: &[Option<&'static str>],
        ) -> Result<Self, Error>;

        /// The answer of a raw request, as it came.
        fn from_object(object: Map<String, Value>) -> Self;
    }

    impl Answer for Value {
        fn from_result<T: Serialize>(
            operation: Operation,
            result: &T,
            empty_lists: &[Option<&'static str>],
        ) -> Result<Self, Error> {
            let mut json =
                serde_json::to_value(result).map_err(|e| not_serializable(operation, e))?;
            if let Value::Object(fields) = &mut json {
                for name in empty_lists.iter().flatten() {
                    fields
                        .entry(*name)
                        .or_insert_with(|| Value::Array(Vec::new()));
                }
            }
            Ok(json)
        }

        fn from_object(object: Map<String, Value>) -> Self {
            Value::Object(object)
        }
    }

    impl Answer for String {
        /// Serialized straight from the typed result, with no [`Value`] in
        /// between (a quarter of the time for a list of accounts). An empty
        /// list is left out by the type's serialization, and a typed result
        /// from the wire holds no other field of that name (its `extra` gets
        /// only names the type does not have), so `"name":[]` is added
        /// before the object's closing brace. The names are the spec's
        /// field names, which JSON writes as they are.
        fn from_result<T: Serialize>(
            operation: Operation,
            result: &T,
            empty_lists: &[Option<&'static str>],
        ) -> Result<Self, Error> {
            let mut text =
                serde_json::to_string(result).map_err(|e| not_serializable(operation, e))?;
            for name in empty_lists.iter().flatten() {
                debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
                if text.ends_with('}') {
                    text.pop();
                    if text != "{" {
                        text.push(',');
                    }
                    text.push('"');
                    text.push_str(name);
                    text.push_str("\":[]}");
                }
            }
            Ok(text)
        }

        fn from_object(object: Map<String, Value>) -> Self {
            Value::Object(object).to_string()
        }
    }
}

/// A typed result that JSON cannot hold (no result of the spec is one).
fn not_serializable(operation: Operation, error: serde_json::Error) -> Error {
    Error::Decode {
        operation: operation.into(),
        status: 200,
        message: error.to_string(),
        excerpt: String::new(),
    }
}

impl crate::Client {
    /// Calls `operation` with its parameters as a JSON object of wire
    /// (camelCase) names and string values, and answers the typed result as
    /// JSON (a list field the API left out as `[]`). This is the door the
    /// Python and Node bindings use: the same validation, signing, error
    /// mapping and retries as the typed methods.
    ///
    /// `null` values count as absent. Envelope fields, unknown fields and
    /// non-string values are refused with `INVALID_REQUEST`.
    pub async fn call_json(&self, operation: Operation, params: Value) -> Result<Value, Error> {
        self.call_json_as(operation, params).await
    }

    /// [`call_json`](Self::call_json), answering the result as JSON text:
    /// the same object, serialized from the typed result directly.
    pub async fn call_json_text(
        &self,
        operation: Operation,
        params: Value,
    ) -> Result<String, Error> {
        self.call_json_as(operation, params).await
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Answer;
    use super::*;
    use crate::types::*;

    const LISTED: &str = r#"{"ret_code":"000100","ret_msg":"success","accounts":[{"accountToken":"tok_1","currency":"USD"}],"user":{"customerNo":"C1"},"surprise":{"a":[1]}}"#;

    fn both(result: &ListPayoutAccountsResponse) -> (Value, String) {
        let empty = [result.accounts.is_empty().then_some("accounts")];
        let op = Operation::ListPayoutAccounts;
        (
            Value::from_result(op, result, &empty).unwrap(),
            String::from_result(op, result, &empty).unwrap(),
        )
    }

    #[test]
    fn the_text_answer_is_the_value_answer_written_out() {
        let listed: ListPayoutAccountsResponse = serde_json::from_str(LISTED).unwrap();
        let none: ListPayoutAccountsResponse =
            serde_json::from_str(r#"{"ret_code":"000100","extra_field":"x"}"#).unwrap();
        for result in [listed, none] {
            let (value, text) = both(&result);
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
            assert!(value["accounts"].is_array(), "{value}");
            // `from_str` keeps the last of two equal names: count them.
            assert_eq!(text.matches("\"accounts\":").count(), 1, "{text}");
        }
    }

    #[test]
    fn an_empty_list_is_answered_as_an_empty_array_even_in_an_empty_object() {
        let empty = Map::new();
        let op = Operation::ListPayoutAccounts;
        let text = String::from_result(op, &empty, &[Some("accounts")]).unwrap();
        assert_eq!(text, r#"{"accounts":[]}"#);
        let value = Value::from_result(op, &empty, &[Some("accounts")]).unwrap();
        assert_eq!(value, serde_json::json!({"accounts": []}));
        let text = String::from_result(op, &serde_json::json!({"a": 1}), &[None]).unwrap();
        assert_eq!(text, r#"{"a":1}"#);
    }

    /// Every field set: the names that come back out are the type's.
    fn fields_are_the_serialized_names<T: RequiredFields + DeserializeOwned + Serialize>() {
        let every: Map<String, Value> = T::FIELDS
            .iter()
            .map(|name| (name.to_string(), Value::from("1")))
            .collect();
        let typed: T = serde_json::from_value(Value::Object(every)).unwrap();
        let Value::Object(out) = serde_json::to_value(&typed).unwrap() else {
            panic!("params serialize to an object");
        };
        let mut names: Vec<&str> = out.keys().map(String::as_str).collect();
        let mut fields = T::FIELDS.to_vec();
        names.sort_unstable();
        fields.sort_unstable();
        assert_eq!(names, fields, "{}", std::any::type_name::<T>());
        assert!(T::REQUIRED.iter().all(|name| T::FIELDS.contains(name)));
    }

    #[test]
    fn fields_names_every_field_of_every_params_type() {
        fields_are_the_serialized_names::<RegisterPayeeParams>();
        fields_are_the_serialized_names::<RetrievePayeeParams>();
        fields_are_the_serialized_names::<UpdatePayeeParams>();
        fields_are_the_serialized_names::<AddBankAccountParams>();
        fields_are_the_serialized_names::<ListPayoutAccountsParams>();
        fields_are_the_serialized_names::<DeletePayoutAccountParams>();
        fields_are_the_serialized_names::<PayParams>();
        fields_are_the_serialized_names::<InquirePayoutParams>();
        fields_are_the_serialized_names::<BalanceParams>();
        assert_eq!(ListPayoutAccountsParams::FIELDS, ["customerNo"]);
    }

    #[test]
    fn an_unknown_name_is_refused_after_a_missing_required_one() {
        let missing = from_json::<PayParams>(serde_json::json!({"nope": "1"})).unwrap_err();
        assert!(missing.to_string().contains("accountToken"), "{missing}");
        let every: Map<String, Value> = PayParams::REQUIRED
            .iter()
            .map(|name| (name.to_string(), Value::from("1")))
            .chain([("nope".to_string(), Value::from("1"))])
            .collect();
        let unknown = from_json::<PayParams>(Value::Object(every)).unwrap_err();
        assert!(
            unknown.to_string().contains("nope")
                && unknown.to_string().contains("is not a parameter"),
            "{unknown}"
        );
    }
}
