//! The `raw` client: plain reqwest and serde_json, signed by the signer
//! below, written from the API page's rule and not from the SDK's signing
//! crate, so that the comparison measures the SDK against what a careful
//! hand-written integration costs.
//!
//! The rule: every body field but `verifySign`, sorted by name, joined as
//! `name=value&…`, then `&` and the lowercase hex MD5 of the API token;
//! `verifySign` is the lowercase hex MD5 of that text.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::ops::{Op, BANK_ACCOUNT_ID, BRANCH_ID, CURRENCY, DATE_OF_BIRTH, EMAIL, PAY_AMOUNT};

/// The lowercase hex MD5 of `data`.
fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// The `verifySign` of `fields` (string values only) with the token's MD5.
pub fn verify_sign(fields: &Map<String, Value>, token_md5: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(name, _)| name.as_str() != "verifySign")
        .map(|(name, value)| (name.as_str(), value.as_str().unwrap_or_default()))
        .collect();
    pairs.sort_unstable();
    let mut text = String::with_capacity(256);
    for (name, value) in pairs {
        text.push_str(name);
        text.push('=');
        text.push_str(value);
        text.push('&');
    }
    text.push_str(token_md5);
    md5_hex(text.as_bytes())
}

/// A hand-written client: one reqwest pool, the merchant's numbers and
/// the token's MD5.
pub struct RawClient {
    http: reqwest::Client,
    base_url: String,
    merchant_no: String,
    store_no: String,
    token_md5: String,
}

impl RawClient {
    /// A client of the API at `base_url`.
    pub fn new(base_url: &str, merchant_no: &str, store_no: &str, api_token: &str) -> Self {
        RawClient {
            http: reqwest::Client::new(),
            base_url: base_url.trim_end_matches('/').to_string(),
            merchant_no: merchant_no.to_string(),
            store_no: store_no.to_string(),
            token_md5: md5_hex(api_token.as_bytes()),
        }
    }

    /// Sends `fields` to `path`, signed, with the idempotency key
    /// `request_id` when given; the answer's JSON when its `ret_code` is
    /// `000100`.
    pub async fn call(
        &self,
        path: &str,
        mut fields: Map<String, Value>,
        request_id: Option<&str>,
    ) -> Result<Value, String> {
        fields.insert("merchantNo".into(), self.merchant_no.clone().into());
        fields.insert("storeNo".into(), self.store_no.clone().into());
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        fields.insert("timestamp".into(), now.to_string().into());
        let sign = verify_sign(&fields, &self.token_md5);
        fields.insert("verifySign".into(), sign.into());
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .json(&fields);
        if let Some(key) = request_id {
            request = request.header("Pockyt-Request-ID", key);
        }
        let response = request.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| format!("{path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{path}: HTTP {status}"));
        }
        let answer: Value =
            serde_json::from_slice(&body).map_err(|e| format!("{path}: bad JSON: {e}"))?;
        match answer.get("ret_code").and_then(Value::as_str) {
            Some("000100") => Ok(answer),
            _ => Err(format!("{path}: {answer}")),
        }
    }

    /// Calls `op` with the bench's parameters (`invoice_id` for a pay).
    pub async fn op(
        &self,
        op: Op,
        ctx: &crate::driver::Ctx,
        invoice_id: &str,
    ) -> Result<(), String> {
        let mut fields = Map::new();
        let mut put = |name: &str, value: &str| {
            fields.insert(name.to_string(), Value::String(value.to_string()));
        };
        match op {
            Op::Balance => put("currency", CURRENCY),
            Op::Pay => {
                put("customerNo", &ctx.customer_no);
                put("accountToken", &ctx.account_token);
                put("amount", PAY_AMOUNT);
                put("currency", CURRENCY);
                put("invoiceId", invoice_id);
            }
            Op::InquirePayout => put("invoiceId", &ctx.invoice_id),
            Op::RetrievePayee | Op::ListPayoutAccounts => put("customerNo", &ctx.customer_no),
            Op::RegisterPayee => {
                put("profileType", "INDIVIDUAL");
                put("dateOfBirth", DATE_OF_BIRTH);
            }
            Op::UpdatePayee => {
                put("customerNo", &ctx.customer_no);
                put("email", EMAIL);
            }
            Op::AddBankAccount => {
                put("customerNo", &ctx.accounts_customer_no);
                put("bankAccountId", BANK_ACCOUNT_ID);
                put("branchId", BRANCH_ID);
                put("bankAccountPurpose", "CHECKING");
            }
        }
        // State-changing calls carry an idempotency key, as the SDK's do,
        // so that the sandbox does the same work for both.
        let key = match op {
            Op::Pay | Op::RegisterPayee | Op::UpdatePayee | Op::AddBankAccount => {
                Some(format!("raw-{invoice_id}"))
            }
            _ => None,
        };
        self.call(op.path(), fields, key.as_deref()).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_api_page() {
        // md5("a=1&b=2&" + md5("token")), worked out by hand.
        let mut fields = Map::new();
        fields.insert("b".into(), "2".into());
        fields.insert("a".into(), "1".into());
        fields.insert("verifySign".into(), "ignored".into());
        let expected = md5_hex(format!("a=1&b=2&{}", md5_hex(b"token")).as_bytes());
        assert_eq!(verify_sign(&fields, &md5_hex(b"token")), expected);
    }
}
