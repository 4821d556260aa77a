//! The `Pockyt-Request-ID` of each state-changing call: made once per
//! logical call and sent with every attempt of it, so the API answers a
//! resend with the first answer instead of acting twice.
//!
//! - the caller's own key ([`Client::with_idempotency_key`]), when given;
//! - for `pay`, a key derived from the merchant, the store, the invoiceId
//!   and the payout's details (customer, account, amount, currency): a
//!   process that crashes and pays the same payout again sends the same
//!   key;
//! - for the other state-changing calls, a random UUID (v4).
//!
//! Read-only calls carry none.

use pockyt_payouts_core::money::Amount;
use pockyt_payouts_core::types::PayParams;
use uuid::Uuid;

use crate::client::Client;
use crate::endpoint::Endpoint;

/// The namespace of derived pay keys (a fixed, random UUID).
const PAY_NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_4c2e_9a0d_4e57_8c3b_5d21_7f90_a4e3);

impl Client {
    /// The key of one call of `op`: `None` for a read-only call and for
    /// one whose operation takes no `Pockyt-Request-ID`.
    pub(crate) fn call_key(&self, op: Endpoint) -> Option<String> {
        // Only a call that sends the header gets a key (and with it
        // resends of possibly received attempts).
        if op.is_read_only() || !op.takes_request_id() {
            return None;
        }
        Some(match &self.idempotency_key {
            Some(key) => key.to_string(),
            None => Uuid::new_v4().to_string(),
        })
    }

    /// The key of a pay: the caller's, or one derived from the payout.
    pub(crate) fn pay_key(&self, params: &PayParams) -> String {
        if let Some(key) = &self.idempotency_key {
            return key.to_string();
        }
        derived_pay_key(
            self.config().merchant_no(),
            self.config().store_no(),
            params,
        )
    }
}

/// The derived key of a payout: a UUID v5 of the merchant, store,
/// invoiceId, customer, account, amount (in cents, so `"5"` and `"5.00"`
/// agree) and currency.
///
/// ```ignore
/// // (crate-private; see the tests of this module)
/// ```
pub(crate) fn derived_pay_key(merchant_no: &str, store_no: &str, params: &PayParams) -> String {
    let cents = Amount::parse(&params.amount)
        .map(|a| a.minor_units().to_string())
        .unwrap_or_else(|_| params.amount.clone());
    // Length-prefixed parts: no two different payouts join to the same text.
    let mut name = String::new();
    for part in [
        merchant_no,
        store_no,
        params.invoice_id.as_str(),
        params.customer_no.as_str(),
        params.account_token.as_str(),
        cents.as_str(),
        params.currency.as_str(),
    ] {
        name.push_str(&part.len().to_string());
        name.push(':');
        name.push_str(part);
    }
    Uuid::new_v5(&PAY_NAMESPACE, name.as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pay(amount: &str, invoice: &str) -> PayParams {
        PayParams {
            account_token: "2".into(),
            amount: amount.into(),
            currency: "USD".into(),
            customer_no: "1".into(),
            invoice_id: invoice.into(),
            description: None,
            ipn_url: None,
            note: None,
            processing_channel: None,
            subject: None,
        }
    }

    #[test]
    fn derived_keys_are_stable_and_tell_payouts_apart() {
        let a = derived_pay_key("m", "s", &pay("5", "inv-1"));
        assert_eq!(a, derived_pay_key("m", "s", &pay("5.00", "inv-1")));
        assert_ne!(a, derived_pay_key("m", "s", &pay("5.01", "inv-1")));
        assert_ne!(a, derived_pay_key("m", "s", &pay("5", "inv-2")));
        assert_ne!(a, derived_pay_key("m", "t", &pay("5", "inv-1")));
        assert_eq!(a.len(), 36);
        assert!(pockyt_payouts_core::validate::idempotency_key("k", &a).is_ok());
    }
}
