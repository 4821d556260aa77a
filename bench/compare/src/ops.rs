//! The operations the bench can time, by the SDK's (snake_case) names, and
//! the one set of parameters every client sends for each.

use std::str::FromStr;

/// An operation of the Payouts v3 API that the bench can time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `balance`: the USD balance.
    Balance,
    /// `pay`: 1.00 USD to the bench's account, a new invoiceId per call.
    Pay,
    /// `inquire_payout`: the payout `setup` made.
    InquirePayout,
    /// `retrieve_payee`: the payee `setup` registered.
    RetrievePayee,
    /// `list_payout_accounts`: that payee's accounts.
    ListPayoutAccounts,
    /// `register_payee`: a new individual payee per call.
    RegisterPayee,
    /// `update_payee`: the email of the payee `setup` registered.
    UpdatePayee,
    /// `add_bank_account`: a new checking account per call, of the second
    /// payee `setup` registered (so that the first one's list stays short).
    AddBankAccount,
}

/// The amount and currency of every bench payout.
pub const PAY_AMOUNT: &str = "1.00";
/// The currency of every bench call.
pub const CURRENCY: &str = "USD";
/// The date of birth of every registered payee.
pub const DATE_OF_BIRTH: &str = "1990-05-17";
/// The email `update_payee` sets.
pub const EMAIL: &str = "bench@example.com";
/// The account number and routing number (a valid ABA checksum) of every
/// added bank account.
pub const BANK_ACCOUNT_ID: &str = "123456789";
/// See [`BANK_ACCOUNT_ID`].
pub const BRANCH_ID: &str = "011000015";

impl FromStr for Op {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Ok(match name {
            "balance" => Op::Balance,
            "pay" => Op::Pay,
            "inquire_payout" => Op::InquirePayout,
            "retrieve_payee" => Op::RetrievePayee,
            "list_payout_accounts" => Op::ListPayoutAccounts,
            "register_payee" => Op::RegisterPayee,
            "update_payee" => Op::UpdatePayee,
            "add_bank_account" => Op::AddBankAccount,
            other => return Err(format!("unknown operation {other:?}")),
        })
    }
}

impl Op {
    /// The SDK's (snake_case) name of the operation.
    pub fn name(self) -> &'static str {
        match self {
            Op::Balance => "balance",
            Op::Pay => "pay",
            Op::InquirePayout => "inquire_payout",
            Op::RetrievePayee => "retrieve_payee",
            Op::ListPayoutAccounts => "list_payout_accounts",
            Op::RegisterPayee => "register_payee",
            Op::UpdatePayee => "update_payee",
            Op::AddBankAccount => "add_bank_account",
        }
    }

    /// The operation's path on the API.
    pub fn path(self) -> &'static str {
        match self {
            Op::Balance => "/v3/payouts/balance",
            Op::Pay => "/v3/payouts/pay",
            Op::InquirePayout => "/v3/payouts/inquiry",
            Op::RetrievePayee => "/v3/payee/retrieve",
            Op::ListPayoutAccounts => "/v3/payee/payout-accounts",
            Op::RegisterPayee => "/v3/payee/register",
            Op::UpdatePayee => "/v3/payee/update",
            Op::AddBankAccount => "/v3/payee/account/create/bank-account",
        }
    }
}
