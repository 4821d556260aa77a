//! Admin endpoints under `/_sandbox/`: no signature, plain JSON, HTTP
//! status codes for errors (`{"error": "..."}`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pockyt_payouts_core::enums::PayoutStatus;
use pockyt_payouts_core::validate;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api::{all_profile_fields, customer_json, Operation};
use crate::fault::{Fault, FaultRule};
use crate::lifecycle;
use crate::money::{format_cents, parse_cents};
use crate::shared::Shared;
use crate::state::State;
use crate::IpnDelivery;

/// The most fault rules waiting at once (`POST /_sandbox/faults` answers
/// 409 beyond it), so that the admin endpoint cannot grow memory without
/// bound.
const MAX_FAULT_RULES: usize = 1_000;

/// The admin routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sandbox/state", get(state))
        .route("/_sandbox/payouts/{invoice_id}/status", post(force_status))
        .route(
            "/_sandbox/payouts/{invoice_id}/resend-ipn",
            post(resend_ipn),
        )
        .route("/_sandbox/ipn-log", get(ipn_log))
        .route("/_sandbox/requests", get(requests))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/balances", get(balances).post(set_balances))
        .route(
            "/_sandbox/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn read_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

fn balances_json(state: &State) -> Value {
    Value::Object(
        state
            .balances
            .iter()
            .map(|(currency, cents)| (currency.clone(), Value::String(format_cents(*cents))))
            .collect(),
    )
}

fn faults_json(state: &State) -> Value {
    Value::Array(state.fault_rules.iter().map(FaultRule::to_json).collect())
}

/// One IPN try as JSON: `fields` becomes an object.
pub(crate) fn ipn_json(delivery: &IpnDelivery) -> Value {
    let fields: Map<String, Value> = delivery
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "url": delivery.url,
        "fields": fields,
        "attempt": delivery.attempt,
        "httpStatus": delivery.http_status,
        "error": delivery.error,
        "answer": delivery.answer,
        "resendReason": delivery.resend_reason,
        "answeredSuccess": delivery.answered_success,
    })
}

/// Everything, as JSON.
pub(crate) fn state_json(shared: &Shared) -> Value {
    let state = shared.lock();
    let payees: Vec<Value> = state
        .payees
        .iter()
        .map(|p| customer_json(p, all_profile_fields()))
        .collect();
    let accounts: Vec<Value> = state
        .accounts
        .iter()
        .map(|a| {
            json!({
                "accountToken": a.account_token,
                "customerNo": a.customer_no,
                "accountTag": a.account_tag,
                "accountType": a.account_type,
                "country": a.country,
                "currency": a.currency,
                "bankAccountId": a.bank_account_id,
                "branchId": a.branch_id,
                "bankAccountPurpose": a.bank_account_purpose,
                "clientIp": a.client_ip,
                "ipnUrl": a.ipn_url,
                "cardNumber": a.card_number(),
                "status": "activated",
                "createdAt": a.created_time,
            })
        })
        .collect();
    let payouts: Vec<Value> = state
        .payouts
        .iter()
        .map(|p| {
            let mut payout = p.to_json();
            if let Value::Object(map) = &mut payout {
                map.insert("ipnUrl".into(), json!(p.ipn_url));
            }
            payout
        })
        .collect();
    json!({
        "merchantNo": shared.config.merchant_no,
        "storeNo": shared.config.store_no,
        "payees": payees,
        "accounts": accounts,
        "payouts": payouts,
        "balances": balances_json(&state),
        "faults": faults_json(&state),
        "requestIdsKept": state.idempotency.kept(),
    })
}

async fn state(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    Json(state_json(&shared)).into_response()
}

async fn ipn_log(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let state = shared.lock();
    let log: Vec<Value> = state.ipn_log.iter().map(ipn_json).collect();
    Json(Value::Array(log)).into_response()
}

async fn requests(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let state = shared.lock();
    let log: Vec<Value> = state.request_log.iter().map(|r| r.to_json()).collect();
    Json(json!({ "requests": log })).into_response()
}

async fn reset(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    shared.reset();
    Json(json!({ "reset": true })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
}

async fn force_status(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(invoice_id): Path<String>,
    body: Bytes,
) -> Response {
    let body: StatusBody = match read_json(&body) {
        Ok(body) => body,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let status = PayoutStatus::from_wire(&body.status);
    if !status.is_known() {
        return error(
            StatusCode::BAD_REQUEST,
            format!("status must be one of {}", PayoutStatus::KNOWN.join(", ")),
        );
    }
    let mut state = shared.lock();
    let Some(index) = state.payout_index(&invoice_id) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no payout has invoiceId {invoice_id}"),
        );
    };
    if let Err(message) = lifecycle::change_status(&shared, &mut state, index, status) {
        return error(StatusCode::CONFLICT, message);
    }
    Json(json!({ "payout": state.payouts[index].to_json() })).into_response()
}

async fn resend_ipn(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(invoice_id): Path<String>,
) -> Response {
    let state = shared.lock();
    let Some(index) = state.payout_index(&invoice_id) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no payout has invoiceId {invoice_id}"),
        );
    };
    if !lifecycle::resend_ipn(&shared, &state.payouts[index]) {
        return error(StatusCode::CONFLICT, "this payout has no ipnUrl");
    }
    Json(json!({ "payout": state.payouts[index].to_json() })).into_response()
}

async fn balances(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let state = shared.lock();
    Json(json!({ "balances": balances_json(&state) })).into_response()
}

async fn set_balances(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let wanted: BTreeMap<String, String> = match read_json(&body) {
        Ok(wanted) => wanted,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let mut parsed = Vec::with_capacity(wanted.len());
    for (currency, amount) in wanted {
        if let Err(violation) = validate::currency(&currency, &currency) {
            return error(StatusCode::BAD_REQUEST, violation.to_string());
        }
        let Some(cents) = parse_cents(&amount) else {
            return error(
                StatusCode::BAD_REQUEST,
                format!("{currency} must be a non-negative decimal with at most two fraction digits, like \"100.00\""),
            );
        };
        parsed.push((currency, cents));
    }
    let mut state = shared.lock();
    state.balances.extend(parsed);
    Json(json!({ "balances": balances_json(&state) })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultBody {
    #[serde(default)]
    operation: Option<String>,
    #[serde(default, rename = "match")]
    matches: BTreeMap<String, String>,
    fault: String,
    #[serde(default)]
    times: Option<u32>,
}

async fn faults(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let state = shared.lock();
    Json(json!({ "faults": faults_json(&state) })).into_response()
}

async fn add_fault(AxumState(shared): AxumState<Arc<Shared>>, body: Bytes) -> Response {
    let body: FaultBody = match read_json(&body) {
        Ok(body) => body,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let operation = match body.operation.as_deref().unwrap_or("*") {
        "*" => None,
        name => match Operation::from_name(name) {
            Some(op) => Some(op),
            None => {
                let names: Vec<&str> = Operation::ALL.iter().map(|op| op.name()).collect();
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "operation must be \"*\", an operation path or one of {}",
                        names.join(", ")
                    ),
                );
            }
        },
    };
    let fault: Fault = match body.fault.parse() {
        Ok(fault) => fault,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let times = body.times.unwrap_or(1);
    if times == 0 {
        return error(StatusCode::BAD_REQUEST, "times must be at least 1");
    }
    let mut state = shared.lock();
    if state.fault_rules.len() >= MAX_FAULT_RULES {
        return error(
            StatusCode::CONFLICT,
            format!("at most {MAX_FAULT_RULES} fault rules may wait at once; delete some first"),
        );
    }
    state.fault_rules.push(FaultRule {
        operation,
        matches: body.matches,
        fault,
        remaining: times,
    });
    Json(json!({ "faults": faults_json(&state) })).into_response()
}

async fn clear_faults(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let mut state = shared.lock();
    state.fault_rules.clear();
    Json(json!({ "faults": [] })).into_response()
}
