//! Open enumerations, used by the generated code in place of closed ones.
//!
//! The API's answers are not bound to the values its documentation lists
//! (the API page writes the same account status as `ACTIVATED` and as
//! `activated`), and progenitor's enums are closed: one unknown value would
//! fail a whole answer. Each enumeration has the documented values plus
//! `Unknown(String)`, which keeps the value as received. Values are matched
//! without regard to ASCII case and written back in their documented
//! spelling. Requests must use a known value; the `pockyt-payouts` client
//! refuses `Unknown` before anything is sent.
//!
//! The enumerations themselves are generated from `spec/payouts.yaml`
//! (`generated.rs` beside this file, by `cargo xtask codegen`); what is
//! written here is behaviour the spec does not state as data.
//!
//! ```
//! use pockyt_payouts_core::enums::{AccountStatus, PayoutStatus};
//! assert_eq!("ACTIVATED".parse::<AccountStatus>().unwrap(), AccountStatus::Activated);
//! let s: PayoutStatus = serde_json::from_str("\"on_hold\"").unwrap();
//! assert_eq!(s, PayoutStatus::Unknown("on_hold".into()));
//! assert_eq!(serde_json::to_string(&s).unwrap(), "\"on_hold\"");
//! ```

#[rustfmt::skip]
mod generated;

pub use generated::*;

impl RetCode {
    /// Whether this code means success (`000100`).
    pub fn is_success(&self) -> bool {
        matches!(self, RetCode::Success)
    }
}

impl PayoutStatus {
    /// Whether the payout can no longer change (success, failed or returned).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            PayoutStatus::Success | PayoutStatus::Failed | PayoutStatus::Returned
        )
    }
}
