//! The two Rust clients behind one call, and what every call needs from
//! `setup`.

use pockyt_payouts::types::{
    AddBankAccountParams, BalanceParams, InquirePayoutParams, ListPayoutAccountsParams, PayParams,
    RegisterPayeeParams, RetrievePayeeParams, UpdatePayeeParams,
};
use pockyt_payouts::{BankAccountPurpose, Client, Config, ProfileType};

use crate::env;
use crate::ops::{Op, BANK_ACCOUNT_ID, BRANCH_ID, CURRENCY, DATE_OF_BIRTH, EMAIL, PAY_AMOUNT};
use crate::raw::RawClient;

/// What `setup` made, and the prefix of this run's invoiceIds.
pub struct Ctx {
    /// The bench payee's customerNo.
    pub customer_no: String,
    /// The bench payee's bank account.
    pub account_token: String,
    /// A payout that exists (for `inquire_payout`).
    pub invoice_id: String,
    /// The payee `add_bank_account` adds its accounts to.
    pub accounts_customer_no: String,
    /// Unique to this client and run: every pay's invoiceId starts with it.
    pub prefix: String,
}

impl Ctx {
    /// Reads `BENCH_CUSTOMER_NO`, `BENCH_ACCOUNT_TOKEN`, `BENCH_INVOICE_ID`,
    /// `BENCH_ACCOUNTS_CUSTOMER_NO` and `BENCH_PREFIX`.
    pub fn from_env() -> Result<Self, String> {
        Ok(Ctx {
            customer_no: env("BENCH_CUSTOMER_NO")?,
            account_token: env("BENCH_ACCOUNT_TOKEN")?,
            invoice_id: env("BENCH_INVOICE_ID")?,
            accounts_customer_no: env("BENCH_ACCOUNTS_CUSTOMER_NO")?,
            prefix: env("BENCH_PREFIX")?,
        })
    }
}

/// A client under test.
pub enum Driver {
    /// reqwest with the bench's own signer.
    Raw(RawClient),
    /// The SDK's client.
    Rust(Client),
}

/// The SDK client configured from the environment (`POCKYT_*`).
pub fn sdk_client() -> Result<Client, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    Client::new(config).map_err(|e| e.to_string())
}

impl Driver {
    /// The client named `raw` or `rust`, configured from `POCKYT_*`.
    pub fn new(name: &str) -> Result<Self, String> {
        match name {
            "raw" => Ok(Driver::Raw(RawClient::new(
                &env("POCKYT_BASE_URL")?,
                &env("POCKYT_MERCHANT_NO")?,
                &env("POCKYT_STORE_NO")?,
                &env("POCKYT_API_TOKEN")?,
            ))),
            "rust" => Ok(Driver::Rust(sdk_client()?)),
            other => Err(format!("unknown client {other:?} (raw, rust)")),
        }
    }

    /// One call of `op`; `invoice_id` is the pay's (unique) invoiceId.
    pub async fn call(&self, op: Op, ctx: &Ctx, invoice_id: &str) -> Result<(), String> {
        let client = match self {
            Driver::Raw(raw) => return raw.op(op, ctx, invoice_id).await,
            Driver::Rust(client) => client,
        };
        let done = match op {
            Op::Balance => client
                .balance(BalanceParams::builder().currency(CURRENCY))
                .await
                .map(drop),
            Op::Pay => client
                .pay(
                    PayParams::builder()
                        .customer_no(ctx.customer_no.clone())
                        .account_token(ctx.account_token.clone())
                        .amount(PAY_AMOUNT)
                        .currency(CURRENCY)
                        .invoice_id(invoice_id),
                )
                .await
                .map(drop),
            Op::InquirePayout => client
                .inquire_payout(InquirePayoutParams::builder().invoice_id(ctx.invoice_id.clone()))
                .await
                .map(drop),
            Op::RetrievePayee => client
                .retrieve_payee(RetrievePayeeParams::builder().customer_no(ctx.customer_no.clone()))
                .await
                .map(drop),
            Op::ListPayoutAccounts => client
                .list_payout_accounts(
                    ListPayoutAccountsParams::builder().customer_no(ctx.customer_no.clone()),
                )
                .await
                .map(drop),
            Op::RegisterPayee => client
                .register_payee(
                    RegisterPayeeParams::builder()
                        .profile_type(ProfileType::Individual)
                        .date_of_birth(DATE_OF_BIRTH),
                )
                .await
                .map(drop),
            Op::UpdatePayee => client
                .update_payee(
                    UpdatePayeeParams::builder()
                        .customer_no(ctx.customer_no.clone())
                        .email(Some(EMAIL.to_string())),
                )
                .await
                .map(drop),
            Op::AddBankAccount => client
                .add_bank_account(
                    AddBankAccountParams::builder()
                        .customer_no(ctx.accounts_customer_no.clone())
                        .bank_account_id(BANK_ACCOUNT_ID)
                        .branch_id(BRANCH_ID)
                        .bank_account_purpose(BankAccountPurpose::Checking),
                )
                .await
                .map(drop),
        };
        done.map_err(|e| format!("{}: {e}", op.name()))
    }
}
