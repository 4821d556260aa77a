//! Every example in spec/examples validates against its schema in
//! spec/payouts.yaml (requests against `<Op>Request`, the wire body with
//! the envelope; answers against `<Op>Response`), deserializes into the
//! generated answer types, and the schemas really refuse what they must.

use std::path::PathBuf;

use serde_json::{json, Value};

/// Every operation (from the generated table) as (operationId, schema
/// prefix): `("register_payee", "RegisterPayee")`.
fn operations() -> Vec<(&'static str, String)> {
    pockyt_payouts_core::operation::Operation::ALL
        .iter()
        .map(|op| {
            let camel = op.camel_name();
            let schema = camel[..1].to_ascii_uppercase() + &camel[1..];
            (op.name(), schema)
        })
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn spec() -> Value {
    let text = std::fs::read_to_string(root().join("spec/payouts.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn example(name: &str) -> Value {
    let path = root().join("spec/examples").join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A validator for `components.schemas.<name>` of the spec.
fn validator(spec: &Value, name: &str) -> jsonschema::Validator {
    assert!(
        spec["components"]["schemas"].get(name).is_some(),
        "spec has no schema {name}"
    );
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{name}"),
        "components": spec["components"],
    });
    jsonschema::validator_for(&schema).unwrap()
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn every_example_validates_against_its_schema() {
    let spec = spec();
    for (file, schema) in operations() {
        let request = validator(&spec, &format!("{schema}Request"));
        let found = errors(&request, &example(&format!("{file}.request")));
        assert!(found.is_empty(), "{file}.request: {found:?}");
        let response = validator(&spec, &format!("{schema}Response"));
        let found = errors(&response, &example(&format!("{file}.response")));
        assert!(found.is_empty(), "{file}.response: {found:?}");
    }
}

#[test]
fn every_operation_has_its_path_and_examples() {
    let spec = spec();
    let paths = spec["paths"].as_object().unwrap();
    assert_eq!(paths.len(), operations().len());
    for (file, schema) in operations() {
        let (path, item) = paths
            .iter()
            .find(|(_, item)| item["post"]["operationId"] == file)
            .unwrap_or_else(|| panic!("no operation {file}"));
        assert_eq!(
            item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{schema}Request"),
            "{path}"
        );
    }
    assert!(paths.contains_key("/v3/payee/account/create/bank-account"));
}

#[test]
fn schemas_refuse_what_they_must() {
    let spec = spec();
    let register = validator(&spec, "RegisterPayeeRequest");
    let mut body = example("register_payee.request");
    body.as_object_mut().unwrap().remove("dateOfBirth");
    assert!(
        !errors(&register, &body).is_empty(),
        "dateOfBirth is mandatory"
    );
    let mut body = example("register_payee.request");
    body.as_object_mut().unwrap().remove("verifySign");
    assert!(
        !errors(&register, &body).is_empty(),
        "the envelope is mandatory"
    );
    let mut body = example("register_payee.request");
    body["timestamp"] = json!("2023-02-13 10:50:58");
    assert!(!errors(&register, &body).is_empty(), "timestamp format");

    let pay = validator(&spec, "PayRequest");
    for bad in ["-5", "5.001", "1,000", "$5", "1e3"] {
        let mut body = example("pay.request");
        body["amount"] = json!(bad);
        assert!(!errors(&pay, &body).is_empty(), "amount {bad}");
    }
    let mut body = example("pay.request");
    body["amount"] = json!(500);
    assert!(!errors(&pay, &body).is_empty(), "values are strings");

    let answer = validator(&spec, "PayResponse");
    let mut body = example("pay.response");
    body.as_object_mut().unwrap().remove("ret_code");
    assert!(!errors(&answer, &body).is_empty(), "ret_code is required");
}

#[test]
fn answers_are_open_to_unknown_values_and_fields() {
    let spec = spec();
    let answer = validator(&spec, "PayResponse");
    let mut body = example("pay.response");
    body["result"]["status"] = json!("on_hold");
    body["result"]["fxRate"] = json!("1.0");
    body["newTopLevel"] = json!({"a": 1});
    assert!(errors(&answer, &body).is_empty());
    // Errors come without the payload.
    assert!(errors(
        &answer,
        &json!({"ret_code": "000040", "ret_msg": "balance not enough"})
    )
    .is_empty());
}

#[test]
fn examples_deserialize_into_the_generated_answer_types() {
    use pockyt_payouts_core::enums::{AccountStatus, PayeeStatus, PayoutStatus, RetCode};
    use pockyt_payouts_core::types::*;
    let r: RegisterPayeeResponse =
        serde_json::from_value(example("register_payee.response")).unwrap();
    assert_eq!(r.ret_code, RetCode::Success);
    assert_eq!(r.customer.unwrap().customer_no, "2000305228292319592008");
    let r: RetrievePayeeResponse =
        serde_json::from_value(example("retrieve_payee.response")).unwrap();
    assert_eq!(
        r.customer.unwrap().payee_status,
        Some(PayeeStatus::Activated)
    );
    let r: UpdatePayeeResponse = serde_json::from_value(example("update_payee.response")).unwrap();
    assert_eq!(r.ret_msg.as_deref(), Some("update success"));
    let r: AddBankAccountResponse =
        serde_json::from_value(example("add_bank_account.response")).unwrap();
    assert_eq!(
        r.result.unwrap().account_status,
        Some(AccountStatus::Activated)
    );
    let r: ListPayoutAccountsResponse =
        serde_json::from_value(example("list_payout_accounts.response")).unwrap();
    assert_eq!(r.accounts[0].status, Some(AccountStatus::Activated));
    assert_eq!(r.accounts[0].card_number.as_deref(), Some("****3298"));
    let r: PayResponse = serde_json::from_value(example("pay.response")).unwrap();
    assert_eq!(r.result.unwrap().status, Some(PayoutStatus::Pending));
    let r: InquirePayoutResponse =
        serde_json::from_value(example("inquire_payout.response")).unwrap();
    assert_eq!(r.result.unwrap().status, Some(PayoutStatus::Success));
    let r: BalanceResponse = serde_json::from_value(example("balance.response")).unwrap();
    assert_eq!(r.balance.unwrap().amount.as_deref(), Some("9500.00"));
}
