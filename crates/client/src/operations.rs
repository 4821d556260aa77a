//! One method per operation, each a thin, uniform call into one generic
//! runner ([`Client::run_op`]): which operation, the params, how the core
//! client sends them, and what of the answer is the result. A later step
//! renders this file from the spec with a template.

use std::future::Future;

use pockyt_payouts_core::operation::Operation;
use pockyt_payouts_core::types::{
    AddBankAccountParams, Balance, BalanceParams, BankAccount, Customer, InquirePayoutParams,
    ListPayoutAccountsParams, ListPayoutAccountsResponse, PayParams, Payout, RegisterPayeeParams,
    RetrievePayeeParams, UpdatePayeeParams, UpdatePayeeResponse,
};
use pockyt_payouts_core::validate::Validate;
use pockyt_payouts_core::ResponseValue;

use crate::client::Client;
use crate::error::Error;
use crate::params::IntoParams;
use crate::transport::{Answer, CoreError};

/// The answer's payload, which a success must carry.
pub(crate) fn payload<T>(value: Option<T>, operation: Operation, field: &str) -> Result<T, Error> {
    value.ok_or_else(|| missing(operation, field))
}

fn missing(operation: Operation, field: &str) -> Error {
    Error::Decode {
        operation,
        status: 200,
        message: format!(
            "POST {} answered ret_code 000100 without `{field}`",
            operation.path()
        ),
        excerpt: String::new(),
    }
}

/// A payee answered without its `customerNo` is useless to every later
/// call; the bindings rely on this to type it as always present.
fn with_customer_no(customer: Customer, operation: Operation) -> Result<Customer, Error> {
    match customer.customer_no.as_deref() {
        Some(no) if !no.is_empty() => Ok(customer),
        _ => Err(missing(operation, "customer.customerNo")),
    }
}

/// A bank account answered without its `accountToken`: every payout to it
/// needs the token; the bindings rely on this to type it as always present.
fn with_account_token(account: BankAccount, operation: Operation) -> Result<BankAccount, Error> {
    match account.account_token.as_deref() {
        Some(token) if !token.is_empty() => Ok(account),
        _ => Err(missing(operation, "result.accountToken")),
    }
}

/// The params a caller passed, converted, with defaults filled and every
/// rule checked: nothing is sent when this fails.
pub(crate) fn prepared<T: Validate>(params: impl IntoParams<T>) -> Result<T, Error> {
    let mut params = params.into_params()?;
    params.prepare()?;
    Ok(params)
}

impl Client {
    /// The one runner of every operation but `pay`: prepares the params,
    /// sends them with `send` under the operation's retry rule, and makes
    /// the result of the answer with `result`.
    async fn run_op<'a, T, R, Out, F, Fut>(
        &'a self,
        op: Operation,
        params: impl IntoParams<T>,
        send: F,
        result: impl FnOnce(R) -> Result<Out, Error>,
    ) -> Result<Out, Error>
    where
        T: Validate + Clone,
        R: Answer,
        F: Fn(&'a pockyt_payouts_core::Client, T) -> Fut,
        Fut: Future<Output = Result<ResponseValue<R>, CoreError>>,
    {
        let params = prepared(params)?;
        let deadline = self.start_call()?;
        let core = &self.shared.core;
        let answer = self
            .run(op, &deadline, || send(core, params.clone()))
            .await?;
        result(answer)
    }

    /// Registers a payee (`/v3/payee/register`) and answers it, with its
    /// `customer_no`.
    pub async fn register_payee(
        &self,
        params: impl IntoParams<RegisterPayeeParams>,
    ) -> Result<Customer, Error> {
        let op = Operation::RegisterPayee;
        self.run_op(
            op,
            params,
            |core, p| core.register_payee().body(p).send(),
            |answer| with_customer_no(payload(answer.customer, op, "customer")?, op),
        )
        .await
    }

    /// Retrieves a payee (`/v3/payee/retrieve`).
    pub async fn retrieve_payee(
        &self,
        params: impl IntoParams<RetrievePayeeParams>,
    ) -> Result<Customer, Error> {
        let op = Operation::RetrievePayee;
        self.run_op(
            op,
            params,
            |core, p| core.retrieve_payee().body(p).send(),
            |answer| with_customer_no(payload(answer.customer, op, "customer")?, op),
        )
        .await
    }

    /// Updates a payee (`/v3/payee/update`); fields not given are unchanged.
    pub async fn update_payee(
        &self,
        params: impl IntoParams<UpdatePayeeParams>,
    ) -> Result<UpdatePayeeResponse, Error> {
        let op = Operation::UpdatePayee;
        self.run_op(op, params, |core, p| core.update_payee().body(p).send(), Ok)
            .await
    }

    /// Adds a bank account to a payee
    /// (`/v3/payee/account/create/bank-account`) and answers it, with the
    /// `account_token` to pay it with. `account_type`, `account_country` and
    /// `account_currency` default to `BANK_ACCOUNT`, `US` and `USD`.
    pub async fn add_bank_account(
        &self,
        params: impl IntoParams<AddBankAccountParams>,
    ) -> Result<BankAccount, Error> {
        let op = Operation::AddBankAccount;
        self.run_op(
            op,
            params,
            |core, p| core.add_bank_account().body(p).send(),
            |answer| with_account_token(payload(answer.result, op, "result")?, op),
        )
        .await
    }

    /// Lists a payee's payout accounts (`/v3/payee/payout-accounts`).
    pub async fn list_payout_accounts(
        &self,
        params: impl IntoParams<ListPayoutAccountsParams>,
    ) -> Result<ListPayoutAccountsResponse, Error> {
        let op = Operation::ListPayoutAccounts;
        self.run_op(
            op,
            params,
            |core, p| core.list_payout_accounts().body(p).send(),
            Ok,
        )
        .await
    }

    /// Pays a payee (`/v3/payouts/pay`). The answer's status is normally
    /// `pending`; the final status arrives by IPN and through
    /// [`Client::inquire_payout`].
    ///
    /// Never pays twice: a request that may have reached the server is
    /// never sent again blindly. The client asks `inquire_payout(invoice_id)`
    /// instead and answers the payout it finds; only when the API says no
    /// payout has that invoiceId is the request sent again, with the same
    /// invoiceId. When that cannot be established the call fails with
    /// `PAYOUT_OUTCOME_UNKNOWN`, carrying the invoiceId to reconcile with.
    pub async fn pay(&self, params: impl IntoParams<PayParams>) -> Result<Payout, Error> {
        let params = prepared(params)?;
        let deadline = self.start_call()?;
        self.pay_reconciled(params, &deadline).await
    }

    /// Looks a payout up by the merchant's invoiceId (`/v3/payouts/inquiry`).
    /// An unknown invoiceId is `ret_code` 000021.
    pub async fn inquire_payout(
        &self,
        params: impl IntoParams<InquirePayoutParams>,
    ) -> Result<Payout, Error> {
        let op = Operation::InquirePayout;
        self.run_op(
            op,
            params,
            |core, p| core.inquire_payout().body(p).send(),
            |answer| payload(answer.result, op, "result"),
        )
        .await
    }

    /// Reads the merchant's payout balance in one currency
    /// (`/v3/payouts/balance`).
    pub async fn balance(&self, params: impl IntoParams<BalanceParams>) -> Result<Balance, Error> {
        let op = Operation::Balance;
        self.run_op(
            op,
            params,
            |core, p| core.balance().body(p).send(),
            |answer| payload(answer.balance, op, "balance"),
        )
        .await
    }
}
