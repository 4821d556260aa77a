//! The API's eight operations, named once: the client sends to these paths,
//! the sandbox serves them, the bindings name their methods after them.

use std::fmt;

/// One of the eight calls of the Payouts v3 API.
///
/// ```
/// use pockyt_payouts_core::operation::Operation;
/// assert_eq!(Operation::AddBankAccount.path(), "/v3/payee/account/create/bank-account");
/// assert_eq!("inquire_payout".parse::<Operation>().unwrap(), Operation::InquirePayout);
/// assert!(Operation::Balance.is_read_only());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `POST /v3/payee/register`
    RegisterPayee,
    /// `POST /v3/payee/retrieve`
    RetrievePayee,
    /// `POST /v3/payee/update`
    UpdatePayee,
    /// `POST /v3/payee/account/create/bank-account`
    AddBankAccount,
    /// `POST /v3/payee/payout-accounts`
    ListPayoutAccounts,
    /// `POST /v3/payouts/pay`
    Pay,
    /// `POST /v3/payouts/inquiry`
    InquirePayout,
    /// `POST /v3/payouts/balance`
    Balance,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 8] = [
        Operation::RegisterPayee,
        Operation::RetrievePayee,
        Operation::UpdatePayee,
        Operation::AddBankAccount,
        Operation::ListPayoutAccounts,
        Operation::Pay,
        Operation::InquirePayout,
        Operation::Balance,
    ];

    /// The spec's operationId: the snake_case name (the method name in Rust
    /// and Python).
    pub fn name(self) -> &'static str {
        match self {
            Operation::RegisterPayee => "register_payee",
            Operation::RetrievePayee => "retrieve_payee",
            Operation::UpdatePayee => "update_payee",
            Operation::AddBankAccount => "add_bank_account",
            Operation::ListPayoutAccounts => "list_payout_accounts",
            Operation::Pay => "pay",
            Operation::InquirePayout => "inquire_payout",
            Operation::Balance => "balance",
        }
    }

    /// The request path.
    pub fn path(self) -> &'static str {
        match self {
            Operation::RegisterPayee => "/v3/payee/register",
            Operation::RetrievePayee => "/v3/payee/retrieve",
            Operation::UpdatePayee => "/v3/payee/update",
            Operation::AddBankAccount => "/v3/payee/account/create/bank-account",
            Operation::ListPayoutAccounts => "/v3/payee/payout-accounts",
            Operation::Pay => "/v3/payouts/pay",
            Operation::InquirePayout => "/v3/payouts/inquiry",
            Operation::Balance => "/v3/payouts/balance",
        }
    }

    /// Whether the call changes nothing on the server (and so may be sent
    /// again whenever it failed).
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            Operation::RetrievePayee
                | Operation::ListPayoutAccounts
                | Operation::InquirePayout
                | Operation::Balance
        )
    }
}

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
    /// assert_eq!(Operation::from_name("refund"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Operation> {
        let folded = |s: &str| s.replace('_', "").to_ascii_lowercase();
        let wanted = folded(name);
        Operation::ALL
            .into_iter()
            .find(|op| op.path() == name || folded(op.name()) == wanted)
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
