//! The API operations.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use pockyt_payouts_core::enums::{
    AccountType, GovernmentIdType, PayoutStatus, ProfileType, RetCode,
};
use pockyt_payouts_core::types::{
    AddBankAccountParams, BalanceParams, DeletePayoutAccountParams, InquirePayoutParams,
    ListPayoutAccountsParams, PayParams, RegisterPayeeParams, RetrievePayeeParams,
    UpdatePayeeParams,
};
use pockyt_payouts_core::validate::{self, Validate};
use pockyt_payouts_sign::{
    format_timestamp, parse_timestamp, verify_with_digest, ENVELOPE_FIELDS, MERCHANT_NO_FIELD,
    SIGNATURE_FIELD, STORE_NO_FIELD, TIMESTAMP_FIELD,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::fault::{self, Fault, Refusal};
use crate::idempotency::{self, Claim, Fingerprint, Owner, Request, Resolution};
use crate::lifecycle;
use crate::money::{format_cents, parse_cents};
use crate::shared::Shared;
use crate::state::{Account, Payee, Payout, RequestRecord};

pub(crate) use pockyt_payouts_core::operation::Operation;

/// Fields the sandbox requires present and not blank (000020): the
/// operation's required parameters, as the spec marks them (generated into
/// [`Operation::required_params`]); add-bank-account's accountType,
/// accountCountry and accountCurrency are optional there and default to
/// BANK_ACCOUNT, US and USD.
fn mandatory(op: Operation) -> &'static [&'static str] {
    op.required_params()
}

/// A request's fields, exactly as received, in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every field, as received.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The field, when present and not empty.
    fn given(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// The operation's parameters: every non-empty field but the envelope
    /// (an empty string counts as not given), read into the generated
    /// parameter type and checked with the shared rules of
    /// `pockyt_payouts_core::validate`.
    fn params<T: DeserializeOwned + Validate>(&self) -> Result<T, Answer> {
        let map: Map<String, Value> = self
            .0
            .iter()
            .filter(|(k, v)| !v.is_empty() && !ENVELOPE_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut params: T = serde_json::from_value(Value::Object(map)).map_err(|e| {
            Answer::error(
                RetCode::ParameterValueError,
                format!("parameters cannot be read: {e}"),
            )
        })?;
        params.prepare().map_err(|violation| {
            Answer::error(RetCode::ParameterValueError, violation.to_string())
        })?;
        Ok(params)
    }
}

/// An API answer: HTTP 200 with a JSON body carrying `ret_code`.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub ret_code: RetCode,
    pub body: Value,
}

impl Answer {
    /// An error: `ret_code` and `ret_msg`, no payload.
    pub fn error(ret_code: RetCode, ret_msg: impl Into<String>) -> Answer {
        Answer {
            body: json!({ "ret_code": ret_code.as_str(), "ret_msg": ret_msg.into() }),
            ret_code,
        }
    }

    /// A success (000100) with its payloads.
    fn success(ret_msg: &str, payload: impl IntoIterator<Item = (&'static str, Value)>) -> Answer {
        let mut body = Map::new();
        body.insert(
            "ret_code".into(),
            Value::String(RetCode::Success.as_str().into()),
        );
        body.insert("ret_msg".into(), Value::String(ret_msg.into()));
        for (key, value) in payload {
            body.insert(key.into(), value);
        }
        Answer {
            ret_code: RetCode::Success,
            body: Value::Object(body),
        }
    }
}

/// The `ret_code` of an answer, kept on the response for the request log.
#[derive(Clone, Debug)]
pub(crate) struct RetCodeNote(pub RetCode);

/// On a response: close the connection instead of sending it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DropConnection;

/// The fault a response carries, for the request log.
#[derive(Clone, Debug)]
pub(crate) struct FaultNote(pub String);

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, axum::Json(self.body)).into_response();
        response.extensions_mut().insert(RetCodeNote(self.ret_code));
        response
    }
}

/// The routes of the operations.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    let mut router = Router::new();
    for op in Operation::ALL {
        router = router.route(
            op.path(),
            post(
                move |AxumState(shared): AxumState<Arc<Shared>>,
                      headers: HeaderMap,
                      body: Bytes| async move {
                    handle(shared, op, headers, body).await
                },
            ),
        );
    }
    router
}

/// One API request: read it, check its envelope and signature, check its
/// idempotency key, choose its fault, process it (or replay the answer
/// kept under its key), answer.
///
/// Nothing that costs more than reading the body once happens before the
/// signature verified: no fault (so no delay) is ever chosen, and no key
/// kept, for a request that is not signed with the API token. A fault that
/// answers without processing (`http_5xx`, `ret_…`) is chosen before the
/// key is looked at, so it leaves nothing under the key; one that acts
/// after the commit (`drop`, `delay_after`, `http_500_after_commit`,
/// `malformed`) finds the answer already kept.
async fn handle(shared: Arc<Shared>, op: Operation, headers: HeaderMap, body: Bytes) -> Response {
    let log = |answer: Answer, key: Option<String>| {
        log_request(&shared, op, key, false, Some(&answer.ret_code), None);
        answer.into_response()
    };
    let fields = match parse_body(&headers, &body, shared.config.max_fields) {
        Ok(fields) => fields,
        Err(answer) => return log(answer, well_formed_key(&headers)),
    };
    drop(body);
    if let Err(answer) = check_signed(&shared, &fields) {
        return log(answer, well_formed_key(&headers));
    }
    let key = match idempotency::request_id(&headers) {
        Ok(key) => key,
        Err(answer) => return log(answer, None),
    };
    let chosen = {
        let mut state = shared.lock();
        fault::choose(&mut state, op, &headers, &fields)
    };
    let fault = match chosen {
        Ok(fault) => fault,
        Err(Refusal::BadHeader(message)) => {
            log_request(&shared, op, key, false, None, None);
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
        Err(Refusal::Answer(answer)) => return log(answer, key),
    };
    let fault_name = fault.as_ref().map(ToString::to_string);
    let mut response = match &fault {
        Some(Fault::Http(status)) => {
            log_request(&shared, op, key, false, None, fault_name);
            fault_text(*status, fault.as_ref())
        }
        Some(Fault::Ret(code)) => {
            let answer = Answer::error(code.clone(), fault_message(code));
            log_request(&shared, op, key, false, None, fault_name);
            answer.into_response()
        }
        _ => {
            // A request runs to completion on its own task: like a real
            // server, the sandbox does not undo or skip work because the
            // client stopped waiting. So a `delay` fault whose client timed
            // out still commits, late, as a slow server would, and its
            // answer is kept under its key.
            let delay = match fault {
                Some(Fault::Delay(wait)) => Some(wait),
                _ => None,
            };
            let worker = Arc::clone(&shared);
            let task = tokio::spawn(async move {
                let (answer, replayed) = run(&worker, op, &fields, key.as_deref(), delay).await;
                log_request(
                    &worker,
                    op,
                    key,
                    replayed,
                    Some(&answer.ret_code),
                    fault_name,
                );
                answer
            });
            let answer = task.await.unwrap_or_else(|_| {
                Answer::error(
                    RetCode::SystemError,
                    "the sandbox failed to process the request",
                )
            });
            match &fault {
                Some(Fault::DelayAfter(wait)) => {
                    tokio::time::sleep(*wait).await;
                    answer.into_response()
                }
                Some(Fault::Drop) => {
                    let mut response = StatusCode::OK.into_response();
                    response.extensions_mut().insert(DropConnection);
                    response
                        .extensions_mut()
                        .insert(RetCodeNote(answer.ret_code));
                    response
                }
                Some(Fault::Http500AfterCommit) => fault_text(500, fault.as_ref()),
                Some(Fault::Malformed) => {
                    let mut response = (
                        StatusCode::OK,
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        r#"{"ret_code": "000100", "result": "#,
                    )
                        .into_response();
                    response
                        .extensions_mut()
                        .insert(RetCodeNote(answer.ret_code));
                    response
                }
                _ => answer.into_response(),
            }
        }
    };
    if let Some(fault) = fault {
        response
            .extensions_mut()
            .insert(FaultNote(fault.to_string()));
    }
    response
}

/// The request's `Pockyt-Request-ID` when it is well-formed, for the log.
fn well_formed_key(headers: &HeaderMap) -> Option<String> {
    idempotency::request_id(headers).ok().flatten()
}

/// Adds a request to the request log.
fn log_request(
    shared: &Shared,
    op: Operation,
    request_id: Option<String>,
    replayed: bool,
    ret_code: Option<&RetCode>,
    fault: Option<String>,
) {
    let record = RequestRecord {
        time: now(),
        operation: op.name(),
        request_id,
        replayed,
        ret_code: ret_code.map(|code| code.as_str().to_owned()),
        fault,
    };
    shared.lock().log_request(record);
}

/// Processes a signed request under its idempotency key (if any): claims
/// the key, waits `delay` (a `delay` fault), then processes, replays the
/// kept answer, refuses, or waits for the request in flight with the same
/// key. Answers the answer and whether it was replayed.
async fn run(
    shared: &Arc<Shared>,
    op: Operation,
    fields: &Fields,
    key: Option<&str>,
    mut delay: Option<Duration>,
) -> (Answer, bool) {
    let request = Request {
        merchant_no: fields.get(MERCHANT_NO_FIELD).unwrap_or_default(),
        op,
        key,
        fingerprint: Fingerprint::of(op, fields),
    };
    let deadline = tokio::time::Instant::now() + shared.config.idempotency_wait;
    loop {
        let claim = shared
            .lock()
            .claim(&shared.config, &request, std::time::Instant::now());
        // The owner is set up before any wait: if this task is dropped,
        // the key is released and its waiters wake.
        let (claim, owner) = match claim {
            Claim::Process(ticket) => (None, Some(Owner::new(Arc::clone(shared), ticket))),
            other => (Some(other), None),
        };
        if let Some(wait) = delay.take() {
            tokio::time::sleep(wait).await;
        }
        if let Some(owner) = owner {
            let answer = process(shared, op, fields);
            owner.finish(&answer);
            return (answer, false);
        }
        match claim {
            Some(Claim::Replay(answer)) => return (answer, true),
            Some(Claim::Refuse(answer)) => return (answer, false),
            Some(Claim::Wait(mut done)) => {
                let waited =
                    tokio::time::timeout_at(deadline, done.wait_for(Option::is_some)).await;
                let resolution = match waited {
                    Ok(Ok(resolution)) => resolution.clone(),
                    // The first request was abandoned: claim again.
                    Ok(Err(_)) => None,
                    Err(_) => {
                        return (
                            Answer::error(
                                RetCode::SystemError,
                                "request with this Pockyt-Request-ID still in progress; send it again later",
                            ),
                            false,
                        )
                    }
                };
                if let Some(Resolution::Completed(answer)) = resolution {
                    return (answer, true);
                }
                // Refused: this repeat is processed normally.
            }
            Some(Claim::Process(_)) | None => {}
        }
    }
}

fn fault_text(status: u16, fault: Option<&Fault>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let name = fault.map(ToString::to_string).unwrap_or_default();
    (status, format!("sandbox fault: {name}\n")).into_response()
}

fn fault_message(code: &RetCode) -> String {
    format!("{} (sandbox fault ret_{code})", code.description())
}

/// Reads a JSON object of strings or an `application/x-www-form-urlencoded`
/// body. The Content-Type decides; without one, a body starting with `{`
/// is JSON.
///
/// Linear in the body's length: at most `max_fields` fields are read
/// (more answer 000023 before any of them is kept), and repeated names are
/// found with a hash set.
fn parse_body(headers: &HeaderMap, body: &[u8], max_fields: usize) -> Result<Fields, Answer> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let json = content_type.contains("json");
    let looks_like_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let too_many = || {
        Answer::error(
            RetCode::ParameterValueError,
            format!("the request has more than {max_fields} fields"),
        )
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut names: HashSet<String> = HashSet::new();
    // serde_json's maps keep the last of a repeated key, and a form can
    // repeat a name; a request that names a field twice (a second
    // verifySign, say) is refused instead.
    let mut keep = |name: String, value: String| -> Result<(), Answer> {
        if fields.len() >= max_fields {
            return Err(too_many());
        }
        if !names.insert(name.clone()) {
            return Err(Answer::error(
                RetCode::ParameterValueError,
                format!("{name} is sent more than once"),
            ));
        }
        fields.push((name, value));
        Ok(())
    };
    if form || (!json && !looks_like_json) {
        // `form_urlencoded::parse` decodes lazily: a body of a million
        // fields costs no more than `max_fields + 1` of them.
        for (name, value) in form_urlencoded::parse(body) {
            keep(name.into_owned(), value.into_owned())?;
        }
        return Ok(Fields(fields));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let pairs =
        serde::de::DeserializeSeed::deserialize(JsonPairs { max_fields }, &mut deserializer)
            .and_then(|pairs| deserializer.end().map(|()| pairs))
            .map_err(|e| {
                if e.to_string().starts_with(TOO_MANY_MEMBERS) {
                    too_many()
                } else {
                    Answer::error(
                        RetCode::ParameterValueError,
                        format!("the request body must be a JSON object of strings: {e}"),
                    )
                }
            })?;
    for (name, value) in pairs {
        match value {
            Value::String(text) => keep(name, text)?,
            _ => {
                return Err(Answer::error(
                    RetCode::ParameterValueError,
                    format!("{name} must be a string (every value on this API is a string)"),
                ))
            }
        }
    }
    Ok(Fields(fields))
}

/// The start of the error [`JsonPairs`] gives past its `max_fields`.
const TOO_MANY_MEMBERS: &str = "too many members";

/// Reads a JSON object's members in order, repeated names kept, and fails
/// past `max_fields` of them (before reading the rest).
struct JsonPairs {
    max_fields: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonPairs {
    type Value = Vec<(String, Value)>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        struct Members {
            max_fields: usize,
        }
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Vec<(String, Value)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    if pairs.len() >= self.max_fields {
                        return Err(serde::de::Error::custom(TOO_MANY_MEMBERS));
                    }
                    pairs.push(pair);
                }
                Ok(pairs)
            }
        }
        deserializer.deserialize_map(Members {
            max_fields: self.max_fields,
        })
    }
}

/// The checks that come before anything else (and before any fault):
/// envelope fields present (000020), merchant, store and signature
/// (000030).
fn check_signed(shared: &Shared, fields: &Fields) -> Result<(), Answer> {
    for name in [MERCHANT_NO_FIELD, STORE_NO_FIELD, SIGNATURE_FIELD] {
        validate::required(name, fields.get(name).unwrap_or_default())
            .map_err(|v| Answer::error(RetCode::ParameterNull, v.to_string()))?;
    }
    if fields.get(MERCHANT_NO_FIELD) != Some(shared.config.merchant_no.as_str()) {
        return Err(Answer::error(
            RetCode::AccessDenied,
            "merchantNo is not this sandbox's merchant",
        ));
    }
    if fields.get(STORE_NO_FIELD) != Some(shared.config.store_no.as_str()) {
        return Err(Answer::error(
            RetCode::AccessDenied,
            "storeNo is not a store of this merchant",
        ));
    }
    if !verify_with_digest(fields.0.iter().map(|(k, v)| (k, v)), &shared.digest) {
        return Err(Answer::error(
            RetCode::AccessDenied,
            "verifySign does not match the request's fields (check the API token and that every sent field is signed)",
        ));
    }
    Ok(())
}

/// The checks every signed request goes through next, in the API's order:
/// timestamp (000023), the operation's mandatory fields (000020).
fn check_common(shared: &Shared, op: Operation, fields: &Fields) -> Result<(), Answer> {
    if let Some(text) = fields.get(TIMESTAMP_FIELD) {
        let at = parse_timestamp(text).ok_or_else(|| {
            Answer::error(
                RetCode::ParameterValueError,
                "timestamp must be the UTC time as YYYY-MM-DDTHH:MM:SSZ",
            )
        })?;
        let now = SystemTime::now();
        let skew = now
            .duration_since(at)
            .or_else(|_| at.duration_since(now))
            .unwrap_or(Duration::ZERO);
        if skew > shared.config.timestamp_tolerance {
            return Err(Answer::error(
                RetCode::ParameterValueError,
                format!(
                    "timestamp is more than {} seconds away from the server's clock",
                    shared.config.timestamp_tolerance.as_secs()
                ),
            ));
        }
    }
    for name in mandatory(op) {
        validate::required(name, fields.get(name).unwrap_or_default())
            .map_err(|v| Answer::error(RetCode::ParameterNull, v.to_string()))?;
    }
    Ok(())
}

/// Processes one parsed request and answers it.
fn process(shared: &Arc<Shared>, op: Operation, fields: &Fields) -> Answer {
    // An operation added to the spec as a copy of another is emulated as
    // that one.
    let outcome = check_common(shared, op, fields).and_then(|()| match op.emulated_as() {
        Operation::RegisterPayee => register(shared, fields),
        Operation::RetrievePayee => retrieve(shared, fields),
        Operation::UpdatePayee => update(shared, fields),
        Operation::AddBankAccount => add_bank_account(shared, fields),
        Operation::ListPayoutAccounts => list_payout_accounts(shared, fields),
        Operation::DeletePayoutAccount => delete_payout_account(shared, fields),
        Operation::Pay => pay(shared, fields),
        Operation::InquirePayout => inquire(shared, fields),
        Operation::Balance => balance(shared, fields),
        // An operation added to the spec that the sandbox does not emulate
        // yet: a definite refusal, so no client retries it.
        other => Err(Answer::error(
            RetCode::ParameterValueError,
            format!("the sandbox does not emulate POST {}", other.path()),
        )),
    });
    outcome.unwrap_or_else(|answer| answer)
}

type Outcome = Result<Answer, Answer>;

fn now() -> String {
    format_timestamp(SystemTime::now())
}

fn unknown_payee(customer_no: &str) -> Answer {
    Answer::error(
        RetCode::NoRelatedInformation,
        format!("customerNo {customer_no} is not a registered payee"),
    )
}

fn unknown_account(account_token: &str) -> Answer {
    Answer::error(
        RetCode::NoRelatedInformation,
        format!("accountToken {account_token} is not a payout account (never added, or deleted)"),
    )
}

fn not_the_payees(account_token: &str, customer_no: &str) -> Answer {
    Answer::error(
        RetCode::ParametersDoNotMatch,
        format!("accountToken {account_token} is not a payout account of customerNo {customer_no}"),
    )
}

/// Profile fields a payee keeps, by wire name: register's parameters, as
/// the spec lists them (the generated operation table).
fn profile_field_names() -> &'static [&'static str] {
    Operation::RegisterPayee.params()
}

/// Profile fields a payee keeps but retrieve does not answer.
const UNANSWERED_PROFILE_FIELDS: [&str; 2] = ["governmentId", "payorNo"];

/// The given (non-empty) profile fields, enumerations in their documented
/// spelling.
fn profile_fields(fields: &Fields) -> Vec<(String, String)> {
    profile_field_names()
        .iter()
        .filter_map(|name| {
            let value = fields.given(name)?;
            let value = match *name {
                "profileType" => ProfileType::from_wire(value).as_str().to_owned(),
                "governmentIdType" => GovernmentIdType::from_wire(value).as_str().to_owned(),
                _ => value.to_owned(),
            };
            Some(((*name).to_owned(), value))
        })
        .collect()
}

fn register(shared: &Shared, fields: &Fields) -> Outcome {
    fields.params::<RegisterPayeeParams>()?;
    let created = now();
    let mut state = shared.lock();
    let payee = Payee {
        customer_no: state.new_customer_no(),
        profile: profile_fields(fields).into_iter().collect(),
        created_time: created.clone(),
        updated_time: created,
    };
    let mut customer = Map::new();
    payee.put(&mut customer, &["firstName", "lastName", "customerCode"]);
    customer.insert("createdTime".into(), payee.created_time.clone().into());
    customer.insert("customerNo".into(), payee.customer_no.clone().into());
    payee.put(&mut customer, &["email"]);
    state.add_payee(payee);
    Ok(Answer::success(
        "success",
        [("customer", Value::Object(customer))],
    ))
}

/// A payee as retrieve and the admin state show it.
pub(crate) fn customer_json(payee: &Payee, names: &[&str]) -> Value {
    let mut customer = Map::new();
    customer.insert("customerNo".into(), payee.customer_no.clone().into());
    payee.put(&mut customer, names);
    customer.insert("payeeStatus".into(), "Activated".into());
    customer.insert("createdTime".into(), payee.created_time.clone().into());
    customer.insert("updatedTime".into(), payee.updated_time.clone().into());
    Value::Object(customer)
}

/// Every profile field, for the admin state.
/// Profile fields retrieve answers: all but [`UNANSWERED_PROFILE_FIELDS`].
fn answered_profile_fields() -> Vec<&'static str> {
    profile_field_names()
        .iter()
        .copied()
        .filter(|f| !UNANSWERED_PROFILE_FIELDS.contains(f))
        .collect()
}

pub(crate) fn all_profile_fields() -> &'static [&'static str] {
    profile_field_names()
}

fn retrieve(shared: &Shared, fields: &Fields) -> Outcome {
    let params: RetrievePayeeParams = fields.params()?;
    let state = shared.lock();
    let payee = state
        .payee(&params.customer_no)
        .ok_or_else(|| unknown_payee(&params.customer_no))?;
    Ok(Answer::success(
        "query success",
        [("customer", customer_json(payee, &answered_profile_fields()))],
    ))
}

fn update(shared: &Shared, fields: &Fields) -> Outcome {
    let params: UpdatePayeeParams = fields.params()?;
    let updated = now();
    let mut state = shared.lock();
    let payee = state
        .payee_mut(&params.customer_no)
        .ok_or_else(|| unknown_payee(&params.customer_no))?;
    payee.profile.extend(profile_fields(fields));
    payee.updated_time = updated;
    Ok(Answer::success("update success", []))
}

fn add_bank_account(shared: &Shared, fields: &Fields) -> Outcome {
    let params: AddBankAccountParams = fields.params()?;
    let created = now();
    let mut state = shared.lock();
    let payee = state
        .payee(&params.customer_no)
        .ok_or_else(|| unknown_payee(&params.customer_no))?;
    let mut result = Map::new();
    let account = Account {
        account_token: state.new_account_token(),
        customer_no: params.customer_no.clone(),
        account_tag: params.account_tag.clone(),
        account_type: params
            .account_type
            .as_ref()
            .unwrap_or(&AccountType::BankAccount)
            .as_str()
            .to_owned(),
        country: params.account_country.clone(),
        currency: params.account_currency.clone(),
        bank_account_id: params.bank_account_id.clone(),
        branch_id: params.branch_id.clone(),
        bank_account_purpose: params.bank_account_purpose.as_str().to_owned(),
        client_ip: params.client_ip.clone(),
        ipn_url: params.ipn_url.clone(),
        created_time: created,
    };
    if let Some(tag) = &account.account_tag {
        result.insert("accountTag".into(), tag.clone().into());
    }
    result.insert("accountStatus".into(), "ACTIVATED".into());
    result.insert("country".into(), account.country.clone().into());
    payee.put(&mut result, &["firstName", "lastName"]);
    result.insert("accountType".into(), account.account_type.clone().into());
    result.insert("currency".into(), account.currency.clone().into());
    result.insert("accountToken".into(), account.account_token.clone().into());
    result.insert("customerNo".into(), account.customer_no.clone().into());
    payee.put(&mut result, &["email"]);
    result.insert("timestamp".into(), account.created_time.clone().into());
    state.add_account(account);
    Ok(Answer::success(
        "success",
        [("result", Value::Object(result))],
    ))
}

fn list_payout_accounts(shared: &Shared, fields: &Fields) -> Outcome {
    let params: ListPayoutAccountsParams = fields.params()?;
    let state = shared.lock();
    let payee = state
        .payee(&params.customer_no)
        .ok_or_else(|| unknown_payee(&params.customer_no))?;
    let accounts: Vec<Value> = state
        .accounts_of(&payee.customer_no)
        .map(|a| {
            let mut account = Map::new();
            if let Some(tag) = &a.account_tag {
                account.insert("accountTag".into(), tag.clone().into());
            }
            account.insert("country".into(), a.country.clone().into());
            account.insert("createdAt".into(), a.created_time.clone().into());
            account.insert("accountType".into(), a.account_type.clone().into());
            account.insert("currency".into(), a.currency.clone().into());
            account.insert("accountToken".into(), a.account_token.clone().into());
            account.insert("cardNumber".into(), a.card_number().into());
            account.insert("status".into(), "activated".into());
            Value::Object(account)
        })
        .collect();
    let mut user = Map::new();
    payee.put(&mut user, &["firstName", "lastName", "customerCode"]);
    user.insert("customerNo".into(), payee.customer_no.clone().into());
    payee.put(&mut user, &["email"]);
    Ok(Answer::success(
        "success",
        [
            ("accounts", Value::Array(accounts)),
            ("user", Value::Object(user)),
        ],
    ))
}

/// Removes a payout account: it is no longer listed and pays to it answer
/// 000021. The payouts already made to it stay.
fn delete_payout_account(shared: &Shared, fields: &Fields) -> Outcome {
    let params: DeletePayoutAccountParams = fields.params()?;
    let mut state = shared.lock();
    if state.payee(&params.customer_no).is_none() {
        return Err(unknown_payee(&params.customer_no));
    }
    let account = state
        .account(&params.account_token)
        .ok_or_else(|| unknown_account(&params.account_token))?;
    if account.customer_no != params.customer_no {
        return Err(not_the_payees(&params.account_token, &params.customer_no));
    }
    state.remove_account(&params.account_token);
    Ok(Answer::success("success", []))
}

fn pay(shared: &Arc<Shared>, fields: &Fields) -> Outcome {
    let params: PayParams = fields.params()?;
    let amount = parse_cents(&params.amount).ok_or_else(|| {
        Answer::error(
            RetCode::ParameterValueError,
            "amount must be a positive decimal with at most two fraction digits",
        )
    })?;
    let created = now();
    let mut state = shared.lock();
    // The invoiceId identifies the payout: a repeat never creates another.
    if let Some(existing) = state.payout(&params.invoice_id) {
        let same = existing.customer_no == params.customer_no
            && existing.account_token == params.account_token
            && existing.amount_cents == amount
            && existing.currency == params.currency;
        if same {
            return Ok(Answer::success(
                "succeeded",
                [("result", existing.to_json())],
            ));
        }
        return Err(Answer::error(
            RetCode::ParametersDoNotMatch,
            format!(
                "invoiceId {} is already used by another payout (different customerNo, accountToken, amount or currency)",
                params.invoice_id
            ),
        ));
    }
    if state.payee(&params.customer_no).is_none() {
        return Err(unknown_payee(&params.customer_no));
    }
    let account = state
        .account(&params.account_token)
        .ok_or_else(|| unknown_account(&params.account_token))?;
    if account.customer_no != params.customer_no {
        return Err(not_the_payees(&params.account_token, &params.customer_no));
    }
    let balance = state.balances.get(&params.currency).copied();
    match balance {
        None => {
            return Err(Answer::error(
                RetCode::InsufficientBalance,
                format!(
                    "account balance is not sufficient: the merchant has no {} balance",
                    params.currency
                ),
            ))
        }
        Some(available) if available < amount => {
            return Err(Answer::error(
                RetCode::InsufficientBalance,
                format!(
                    "account balance is not sufficient: {} {} available, {} needed",
                    format_cents(available),
                    params.currency,
                    format_cents(amount)
                ),
            ))
        }
        Some(available) => {
            state
                .balances
                .insert(params.currency.clone(), available - amount);
        }
    }
    let payout = Payout {
        uid: state.new_uid(),
        version: 0,
        invoice_id: params.invoice_id.clone(),
        transaction_no: state.new_transaction_no(),
        customer_no: params.customer_no.clone(),
        account_token: params.account_token.clone(),
        amount_cents: amount,
        currency: params.currency.clone(),
        status: PayoutStatus::Pending,
        created_time: created,
        ipn_url: params.ipn_url.clone(),
        ipn_queue: None,
    };
    let answer = Answer::success("succeeded", [("result", payout.to_json())]);
    let index = state.add_payout(payout);
    lifecycle::start(shared, &mut state, index);
    Ok(answer)
}

fn inquire(shared: &Shared, fields: &Fields) -> Outcome {
    let params: InquirePayoutParams = fields.params()?;
    let state = shared.lock();
    let payout = state.payout(&params.invoice_id).ok_or_else(|| {
        Answer::error(
            RetCode::NoRelatedInformation,
            format!(
                "invoiceId {} is not the invoiceId of any payout",
                params.invoice_id
            ),
        )
    })?;
    Ok(Answer::success("success", [("result", payout.to_json())]))
}

fn balance(shared: &Shared, fields: &Fields) -> Outcome {
    let params: BalanceParams = fields.params()?;
    let state = shared.lock();
    let amount = state.balances.get(&params.currency).ok_or_else(|| {
        Answer::error(
            RetCode::NoRelatedInformation,
            format!("the merchant has no {} balance", params.currency),
        )
    })?;
    Ok(Answer::success(
        "success",
        [(
            "balance",
            json!({ "currency": params.currency, "amount": format_cents(*amount) }),
        )],
    ))
}
