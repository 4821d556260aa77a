//! The spec, read once into the model every template renders from.
//!
//! Each fact the spec states (operations and their paths, parameters and
//! which are required, results and their fields, enumerations and their
//! values, ret_codes and their error classes) is taken from
//! `spec/payouts.yaml` here and nowhere else. The names each language spells
//! are derived here too, so the templates only lay text out.

use serde::Serialize;
use serde_json::{Map, Value};

/// Everything the templates see.
#[derive(Serialize)]
pub struct Model {
    pub operations: Vec<Operation>,
    pub enums: Vec<EnumDef>,
    /// Every result type an operation answers, nested ones included, each once.
    pub results: Vec<ResultDef>,
    /// The documented ret_codes other than success, with their error classes.
    pub ret_codes: Vec<EnumValue>,
    /// The webhook (IPN) events: schemas marked `x-webhook-event`. Each is
    /// also in `results`, so every language types it like an answer.
    pub events: Vec<EventDef>,
}

/// A webhook (IPN) event the API sends.
#[derive(Serialize)]
pub struct EventDef {
    /// The schema name: `PayoutEvent`.
    pub schema: String,
    /// Wire names of the fields every event of this kind must carry.
    pub required: Vec<String>,
    /// `(field, other wire name)` for each field the API may send under
    /// another name (`x-also-sent-as`): `("invoiceId", "reference")`.
    pub aliases: Vec<(String, String)>,
}

/// One operation of the API.
#[derive(Serialize)]
pub struct Operation {
    /// The operationId: `register_payee`.
    pub id: String,
    /// `registerPayee`: the Node method name.
    pub camel: String,
    /// `RegisterPayee`: the Rust enum variant.
    pub pascal: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    /// `x-read-only`: the call changes nothing on the server.
    pub read_only: bool,
    /// `x-reconcile-by-invoice-id`: a lost answer is settled by inquiry.
    pub reconcile: bool,
    /// The operation takes the `Pockyt-Request-ID` header (idempotency key).
    pub idempotent: bool,
    /// The generated Rust parameters type: `RegisterPayeeParams`.
    pub params_type: String,
    /// Required parameters first, then optional ones, each in spec order.
    pub params: Vec<Field>,
    /// The 200 answer's schema: `RegisterPayeeResponse`.
    pub response: String,
    /// What the call answers.
    pub result: ResultRef,
}

/// What an operation answers: one payload object of the response, or the
/// whole response when it has no single payload.
#[derive(Serialize)]
pub struct ResultRef {
    /// The schema name: `Customer`, `UpdatePayeeResponse`.
    pub schema: String,
    /// The name the SDK surfaces use: `Customer`, `UpdateResult`.
    pub name: String,
    /// The response property holding it (`customer`), or none for the
    /// whole response.
    pub payload: Option<String>,
    /// Its list fields (answered `[]` when absent).
    pub list_fields: Vec<Field>,
}

/// A parameter or a result field.
#[derive(Serialize, Clone)]
pub struct Field {
    /// As on the wire: `dateOfBirth`.
    pub wire: String,
    /// `date_of_birth`.
    pub snake: String,
    pub required: bool,
    pub description: String,
    /// `string`, `enum`, `object` or `list`.
    pub kind: String,
    /// The enum or object schema (`object`, `list` of objects, `enum`).
    pub reference: Option<String>,
    /// The SDK name of the referenced object, for `object` and `list`.
    pub reference_name: Option<String>,
}

/// An open enumeration.
#[derive(Serialize)]
pub struct EnumDef {
    pub name: String,
    pub description: String,
    pub values: Vec<EnumValue>,
}

/// One documented value of an enumeration.
#[derive(Serialize, Clone)]
pub struct EnumValue {
    pub wire: String,
    /// The Rust variant: `IdCard`.
    pub variant: String,
    /// The Python member: `ID_CARD`.
    pub member: String,
    pub description: String,
    /// For ret_codes: the error class of the Python and Node packages.
    pub error_class: Option<String>,
    /// For ret_codes: the error class's documentation.
    pub error_doc: Option<String>,
}

/// A result type: an object the API answers.
#[derive(Serialize)]
pub struct ResultDef {
    pub schema: String,
    pub name: String,
    pub description: String,
    pub fields: Vec<Field>,
}

/// `date_of_birth` -> `dateOfBirth`.
pub fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
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

/// `dateOfBirth` -> `date_of_birth` (names already snake stay as they are).
pub fn snake(wire: &str) -> String {
    let mut out = String::new();
    for c in wire.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `register_payee` / `ID_CARD` / `pending` -> `RegisterPayee` / `IdCard` / `Pending`.
pub fn pascal(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let lower = if part.chars().all(|c| !c.is_ascii_lowercase()) {
                part.to_ascii_lowercase()
            } else {
                part.to_owned()
            };
            let mut chars = lower.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `Activated` / `ID_CARD` -> `ACTIVATED` / `ID_CARD`.
fn member(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn text(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn ref_name(schema: &Value) -> Option<String> {
    schema
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
        .map(str::to_owned)
}

struct Reader<'a> {
    schemas: &'a Map<String, Value>,
}

impl Reader<'_> {
    fn schema(&self, name: &str) -> Result<&Value, String> {
        self.schemas
            .get(name)
            .ok_or_else(|| format!("schema {name} is referenced but not defined"))
    }

    /// An open enumeration: `anyOf[{enum: [...]}, {type: string}]`.
    fn enum_def(&self, name: &str) -> Result<Option<EnumDef>, String> {
        let schema = self.schema(name)?;
        let Some(parts) = schema.get("anyOf").and_then(Value::as_array) else {
            return Ok(None);
        };
        let Some(values) = parts
            .iter()
            .find_map(|p| p.get("enum"))
            .and_then(Value::as_array)
        else {
            return Ok(None);
        };
        let list = |key: &str| -> Vec<Option<String>> {
            schema
                .get(key)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (names, descriptions, classes, docs) = (
            list("x-enum-varnames"),
            list("x-enum-descriptions"),
            list("x-error-classes"),
            list("x-error-docs"),
        );
        let mut out = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let wire = value
                .as_str()
                .ok_or_else(|| format!("{name}: enum values must be strings"))?
                .to_owned();
            out.push(EnumValue {
                variant: names
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| pascal(&wire)),
                member: member(&wire),
                description: descriptions.get(i).cloned().flatten().unwrap_or_default(),
                error_class: classes.get(i).cloned().flatten(),
                error_doc: docs.get(i).cloned().flatten(),
                wire,
            });
        }
        Ok(Some(EnumDef {
            name: name.to_owned(),
            description: first_paragraph(&text(schema.get("description"))),
            values: out,
        }))
    }

    /// The SDK name of an object schema (`x-sdk-name`, else its own).
    fn sdk_name(&self, name: &str) -> Result<String, String> {
        Ok(text(self.schema(name)?.get("x-sdk-name"))).map(|n| {
            if n.is_empty() {
                name.to_owned()
            } else {
                n
            }
        })
    }

    /// The properties of an object schema, `allOf` parts merged in order.
    fn properties(
        &self,
        schema: &Value,
        out: &mut Vec<(String, Value, bool)>,
    ) -> Result<(), String> {
        if let Some(name) = ref_name(schema) {
            return self.properties(self.schema(&name)?, out);
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for part in parts {
                self.properties(part, out)?;
            }
        }
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                out.retain(|(n, _, _)| n != name);
                out.push((
                    name.clone(),
                    prop.clone(),
                    required.contains(&name.as_str()),
                ));
            }
        }
        // `required` may name a property another allOf part declares.
        for (name, _, req) in out.iter_mut() {
            if required.contains(&name.as_str()) {
                *req = true;
            }
        }
        Ok(())
    }

    fn field(&self, wire: &str, prop: &Value, required: bool) -> Result<Field, String> {
        let mut field = Field {
            wire: wire.to_owned(),
            snake: snake(wire),
            required,
            description: text(prop.get("description")),
            kind: "string".into(),
            reference: None,
            reference_name: None,
        };
        if let Some(name) = ref_name(prop) {
            let target = self.schema(&name)?;
            if field.description.is_empty() {
                field.description = first_paragraph(&text(target.get("description")));
            }
            if self.enum_def(&name)?.is_some() {
                field.kind = "enum".into();
            } else {
                field.kind = "object".into();
                field.reference_name = Some(self.sdk_name(&name)?);
            }
            field.reference = Some(name);
        } else if prop.get("type").and_then(Value::as_str) == Some("array") {
            let items = prop
                .get("items")
                .ok_or_else(|| format!("{wire}: array without items"))?;
            let name =
                ref_name(items).ok_or_else(|| format!("{wire}: array items must be a $ref"))?;
            field.kind = "list".into();
            field.reference_name = Some(self.sdk_name(&name)?);
            field.reference = Some(name);
        }
        Ok(field)
    }

    fn fields(&self, schema: &Value) -> Result<Vec<Field>, String> {
        let mut props = Vec::new();
        self.properties(schema, &mut props)?;
        props
            .iter()
            .map(|(name, prop, required)| self.field(name, prop, *required))
            .collect()
    }
}

/// `#/components/parameters/X` -> `X`.
fn ref_name_of_parameter(parameter: &Value) -> Option<String> {
    parameter
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/parameters/")
        .map(str::to_owned)
}

fn first_paragraph(text: &str) -> String {
    text.split("\n\n")
        .next()
        .unwrap_or_default()
        .replace('\n', " ")
        .trim()
        .to_owned()
}

/// Method names the SDK's clients already use (and Rust keywords): an
/// operationId may not take them.
const RESERVED_IDS: &[&str] = &[
    "request",
    "call_json",
    "call_json_as",
    "call_json_text",
    "from_env",
    "new",
    "config",
    "base_url",
    "timeout",
    "deadline",
    "connect_timeout",
    "with_timeout",
    "with_deadline",
    "with_connect_timeout",
    "with_idempotency_key",
    "with_options",
    "to_json",
    "self",
    "type",
    "fn",
    "mod",
    "use",
    "match",
    "loop",
    "move",
    "ref",
    "return",
    "static",
    "struct",
    "trait",
    "where",
    "async",
    "await",
    "dyn",
    "crate",
    "super",
    "impl",
    "enum",
    "const",
    "break",
    "continue",
    "else",
    "for",
    "if",
    "in",
    "let",
    "mut",
    "pub",
    "true",
    "false",
    "while",
    "box",
    "abstract",
    "become",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "try",
    "gen",
];

/// An operationId must be a snake_case name, `^[a-z][a-z0-9_]*$`, that no
/// client method or Rust keyword already takes: it becomes the method name
/// in Rust and Python (and, camelCased, in Node).
fn check_operation_id(path: &str, id: &str) -> Result<(), String> {
    let mut bytes = id.bytes();
    let well_formed = bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !id.ends_with('_')
        && !id.contains("__");
    if !well_formed {
        return Err(format!(
            "{path}: operationId {id:?} must be snake_case: lowercase letters, digits and single underscores, starting with a letter"
        ));
    }
    if RESERVED_IDS.contains(&id) {
        return Err(format!(
            "{path}: operationId {id:?} is a name the SDK's clients already use"
        ));
    }
    Ok(())
}

/// The envelope's fields are the signing layer's, never a parameter.
const ENVELOPE: &str = "SignedEnvelope";
/// Fields every answer carries, never a payload.
const STATUS_FIELDS: [&str; 2] = ["ret_code", "ret_msg"];

/// Reads the spec (as JSON) into the model.
pub fn read(spec: &Value) -> Result<Model, String> {
    let schemas = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or("spec has no components.schemas")?;
    let reader = Reader { schemas };
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("spec has no paths")?;

    let mut operations = Vec::new();
    let mut result_schemas: Vec<String> = Vec::new();
    for (path, item) in paths {
        let op = item
            .get("post")
            .ok_or_else(|| format!("{path}: every operation is a POST"))?;
        let id = text(op.get("operationId"));
        check_operation_id(path, &id)?;
        let body = op
            .pointer("/requestBody/content/application~1json/schema")
            .and_then(ref_name)
            .ok_or_else(|| format!("{path}: request body must be a $ref"))?;
        let params_type = reader
            .schema(&body)?
            .get("allOf")
            .and_then(Value::as_array)
            .and_then(|parts| {
                parts
                    .iter()
                    .filter_map(ref_name)
                    .find(|name| name != ENVELOPE)
            })
            .ok_or_else(|| {
                format!("{path}: request schema {body} must be allOf[{ENVELOPE}, <Params>]")
            })?;
        let mut params = reader.fields(reader.schema(&params_type)?)?;
        params.sort_by_key(|f| !f.required);

        let response = op
            .pointer("/responses/200/content/application~1json/schema")
            .and_then(ref_name)
            .ok_or_else(|| format!("{path}: the 200 answer must be a $ref"))?;
        let response_fields = reader.fields(reader.schema(&response)?)?;
        let payloads: Vec<&Field> = response_fields
            .iter()
            .filter(|f| !STATUS_FIELDS.contains(&f.wire.as_str()))
            .collect();
        let (schema, payload) = match payloads.as_slice() {
            [one] if one.kind == "object" => (
                one.reference.clone().unwrap_or_default(),
                Some(one.wire.clone()),
            ),
            _ => (response.clone(), None),
        };
        let result_fields = reader.fields(reader.schema(&schema)?)?;
        let result = ResultRef {
            name: reader.sdk_name(&schema)?,
            list_fields: result_fields
                .iter()
                .filter(|f| f.kind == "list")
                .cloned()
                .collect(),
            schema: schema.clone(),
            payload,
        };
        collect_results(&reader, &schema, &mut result_schemas)?;
        operations.push(Operation {
            camel: camel(&id),
            pascal: pascal(&id),
            path: path.clone(),
            summary: text(op.get("summary")),
            description: text(op.get("description")),
            read_only: op
                .get("x-read-only")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            reconcile: op
                .get("x-reconcile-by-invoice-id")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            idempotent: op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|list| {
                    list.iter().any(|p| {
                        ref_name_of_parameter(p).as_deref() == Some("PockytRequestId")
                            || p.get("name").and_then(Value::as_str) == Some("Pockyt-Request-ID")
                    })
                }),
            params_type,
            params,
            response,
            result,
            id,
        });
    }

    let mut enums = Vec::new();
    for name in schemas.keys() {
        if let Some(def) = reader.enum_def(name)? {
            enums.push(def);
        }
    }
    let ret_codes = enums
        .iter()
        .find(|e| e.name == "RetCode")
        .ok_or("spec has no RetCode enumeration")?
        .values
        .iter()
        .filter(|v| v.error_class.is_some())
        .cloned()
        .collect();
    let mut events = Vec::new();
    for (name, schema) in schemas {
        if schema.get("x-webhook-event").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        collect_results(&reader, name, &mut result_schemas)?;
        let props = schema.get("properties").and_then(Value::as_object);
        events.push(EventDef {
            schema: name.clone(),
            required: reader
                .fields(schema)?
                .into_iter()
                .filter(|f| f.required)
                .map(|f| f.wire)
                .collect(),
            aliases: props
                .into_iter()
                .flatten()
                .filter_map(|(wire, prop)| {
                    let alias = text(prop.get("x-also-sent-as"));
                    (!alias.is_empty()).then(|| (wire.clone(), alias))
                })
                .collect(),
        });
    }
    let results = result_schemas
        .iter()
        .map(|name| {
            let schema = reader.schema(name)?;
            Ok(ResultDef {
                schema: name.clone(),
                name: reader.sdk_name(name)?,
                description: first_paragraph(&text(schema.get("description"))),
                fields: reader.fields(schema)?,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Model {
        operations,
        enums,
        results,
        ret_codes,
        events,
    })
}

/// `name` and the object schemas its fields refer to, dependencies first.
fn collect_results(reader: &Reader<'_>, name: &str, out: &mut Vec<String>) -> Result<(), String> {
    if out.iter().any(|n| n == name) {
        return Ok(());
    }
    for field in reader.fields(reader.schema(name)?)? {
        if matches!(field.kind.as_str(), "object" | "list") {
            if let Some(nested) = &field.reference {
                collect_results(reader, nested, out)?;
            }
        }
    }
    out.push(name.to_owned());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_checked() {
        assert!(check_operation_id("/p", "balance_snapshot").is_ok());
        assert!(check_operation_id("/p", "balanceSnapshot").is_err());
        assert!(check_operation_id("/p", "balance-snapshot").is_err());
        assert!(check_operation_id("/p", "").is_err());
        assert!(check_operation_id("/p", "request").is_err());
        assert!(check_operation_id("/p", "type").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(camel("date_of_birth"), "dateOfBirth");
        assert_eq!(snake("dateOfBirth"), "date_of_birth");
        assert_eq!(snake("ret_code"), "ret_code");
        assert_eq!(pascal("ID_CARD"), "IdCard");
        assert_eq!(pascal("register_payee"), "RegisterPayee");
        assert_eq!(pascal("Activated"), "Activated");
        assert_eq!(member("Activated"), "ACTIVATED");
    }

    #[test]
    fn reads_the_project_spec() {
        let text = std::fs::read_to_string(crate::root().join("spec/payouts.yaml")).unwrap();
        let spec: Value = serde_yaml::from_str(&text).unwrap();
        let model = read(&spec).unwrap();
        let pay = model.operations.iter().find(|o| o.id == "pay").unwrap();
        assert!(pay.reconcile && !pay.read_only);
        assert_eq!(pay.result.payload.as_deref(), Some("result"));
        assert_eq!(pay.result.name, "Payout");
        assert!(pay.params.iter().take(5).all(|f| f.required));
        let list = model
            .operations
            .iter()
            .find(|o| o.id == "list_payout_accounts")
            .unwrap();
        assert_eq!(list.result.name, "PayoutAccounts");
        let lists: Vec<&str> = list
            .result
            .list_fields
            .iter()
            .map(|f| f.wire.as_str())
            .collect();
        assert_eq!(lists, ["accounts"]);
        let update = model
            .operations
            .iter()
            .find(|o| o.id == "update_payee")
            .unwrap();
        assert_eq!(update.result.name, "UpdateResult");
        assert_eq!(model.ret_codes.len(), 8);
        let event = model
            .events
            .iter()
            .find(|e| e.schema == "PayoutEvent")
            .unwrap();
        assert_eq!(event.required, ["transactionNo", "status"]);
        assert_eq!(
            event.aliases,
            [("invoiceId".to_owned(), "reference".to_owned())]
        );
        assert!(model.results.iter().any(|r| r.name == "PayoutEvent"));
        assert!(
            model.results.iter().position(|r| r.name == "PayoutAccount")
                < model
                    .results
                    .iter()
                    .position(|r| r.name == "PayoutAccounts")
        );
    }
}
