//! The API's operations, named once: the client sends to these paths, the
//! sandbox serves them, the bindings name their methods after them.
//!
//! [`Operation`] and its tables (name, path, parameters, whether it is
//! read-only) are generated from `spec/payouts.yaml` (`generated.rs` beside
//! this file, by `cargo xtask codegen`); what is written here is how an
//! operation is named in text.
//!
//! ```
//! use pockyt_payouts_core::operation::Operation;
//! assert_eq!(Operation::AddBankAccount.path(), "/v3/payee/account/create/bank-account");
//! assert_eq!("inquire_payout".parse::<Operation>().unwrap(), Operation::InquirePayout);
//! assert!(Operation::Balance.is_read_only());
//! assert_eq!(Operation::Pay.required_params(), ["accountToken", "amount", "currency", "customerNo", "invoiceId"]);
//! ```

use std::fmt;

#[rustfmt::skip]
mod generated;

pub use generated::Operation;

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Operation {
    /// Reads an operation named by its operationId (`inquire_payout`), its
    /// camelCase name (`inquirePayout`, the Node method name) or its path
    /// (`/v3/payouts/inquiry`).
    ///
    /// ```
    /// use pockyt_payouts_core::operation::Operation;
    /// assert_eq!(Operation::from_name("inquirePayout"), Some(Operation::InquirePayout));
    /// assert_eq!(Operation::from_name("/v3/payouts/inquiry"), Some(Operation::InquirePayout));
    /// assert_eq!(Operation::from_name("inquire_payout"), Some(Operation::InquirePayout));
    /// assert_eq!(Operation::from_name("inquirePayouts"), None);
    /// assert_eq!(Operation::from_name("refund"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Operation> {
        // Compared without allocating: the bindings look an operation up
        // by name on every call.
        fn folded(name: &str) -> impl Iterator<Item = u8> + '_ {
            name.bytes()
                .filter(|b| *b != b'_')
                .map(|b| b.to_ascii_lowercase())
        }
        Operation::ALL
            .into_iter()
            .find(|op| op.path() == name || folded(op.name()).eq(folded(name)))
    }
}

impl std::str::FromStr for Operation {
    type Err = crate::validate::Violation;

    /// Like [`Operation::from_name`], refusing what names no operation.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Operation::from_name(name).ok_or_else(|| {
            crate::validate::Violation::new(
                "operation",
                "is not an operation of the Payouts v3 API",
            )
        })
    }
}
