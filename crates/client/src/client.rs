//! The client: validate, send through the generated core (which signs),
//! map answers and failures, retry what is safe to retry.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pockyt_payouts_core::enums::RetCode;
use pockyt_payouts_core::types::{
    AddBankAccountParams, AddBankAccountResponse, Balance, BalanceParams, BalanceResponse,
    BankAccount, Customer, InquirePayoutParams, InquirePayoutResponse, ListPayoutAccountsParams,
    ListPayoutAccountsResponse, PayParams, PayResponse, Payout, RegisterPayeeParams,
    RegisterPayeeResponse, RetrievePayeeParams, RetrievePayeeResponse, UpdatePayeeParams,
    UpdatePayeeResponse,
};
use pockyt_payouts_core::ResponseValue;
use pockyt_payouts_sign::{Signer, ENVELOPE_FIELDS};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::error::{excerpt, Delivery, Error, EXCERPT_LIMIT};
use pockyt_payouts_core::operation::Operation;
use pockyt_payouts_core::validate::Validate;

type CoreError = pockyt_payouts_core::Error<()>;

/// How many pools for other connect timeouts a client keeps.
const MAX_CONNECT_TIMEOUT_POOLS: usize = 8;

/// `User-Agent` of every request.
const USER_AGENT: &str = concat!("pockyt-payouts-rust/", env!("CARGO_PKG_VERSION"));

/// Every answer carries `ret_code` and `ret_msg`.
trait Answer {
    fn ret_code(&self) -> &RetCode;
    fn ret_msg(&self) -> Option<&str>;
}

macro_rules! answers {
    ($($ty:ty),+ $(,)?) => {$(
        impl Answer for $ty {
            fn ret_code(&self) -> &RetCode { &self.ret_code }
            fn ret_msg(&self) -> Option<&str> { self.ret_msg.as_deref() }
        }
    )+};
}

answers!(
    RegisterPayeeResponse,
    RetrievePayeeResponse,
    UpdatePayeeResponse,
    AddBankAccountResponse,
    ListPayoutAccountsResponse,
    PayResponse,
    InquirePayoutResponse,
    BalanceResponse,
);

struct Shared {
    core: pockyt_payouts_core::Client,
    config: Config,
    /// The token and its digest, scrubbed from anything an error quotes.
    secrets: [String; 2],
    /// Pools for other connect timeouts ([`Client::with_connect_timeout`]),
    /// built once each, so a per-call override costs a lookup.
    by_connect_timeout: Mutex<HashMap<Duration, Arc<Shared>>>,
}

impl Shared {
    fn new(config: Config) -> Result<Shared, Error> {
        config.check()?;
        let core = build_core(&config)?;
        let secrets = [
            config.api_token.expose_secret().to_owned(),
            pockyt_payouts_sign::TokenDigest::from_token(config.api_token.expose_secret())
                .expose_secret()
                .to_owned(),
        ];
        Ok(Shared {
            core,
            config,
            secrets,
            by_connect_timeout: Mutex::new(HashMap::new()),
        })
    }
}

/// A client for the Payouts v3 API. Cheap to clone; safe to share across
/// tasks and threads; one connection pool per client.
///
/// Every method validates its input first (nothing is sent when it is
/// refused), signs the request, and maps the answer: `ret_code` `000100`
/// gives the typed result, anything else an [`Error`] with a stable code.
///
/// ```no_run
/// # async fn run() -> Result<(), pockyt_payouts::Error> {
/// use pockyt_payouts::{Client, Config, types::PayParams};
///
/// let client = Client::new(Config::from_env()?)?;
/// let payout = client
///     .pay(
///         PayParams::builder()
///             .customer_no("2000305228292319592008")
///             .account_token("2010305228303182765718")
///             .amount("500.00")
///             .currency("USD")
///             .invoice_id("inv-2024-0001"),
///     )
///     .await?;
/// println!("{:?} is {:?}", payout.transaction_no, payout.status);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.shared.config.base_url())
            .field("merchant_no", &self.shared.config.merchant_no)
            .field("store_no", &self.shared.config.store_no)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn build_core(config: &Config) -> Result<pockyt_payouts_core::Client, Error> {
    let http = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| Error::invalid_config("http_client", &e.to_string()))?;
    let signer = Signer::new(
        config.merchant_no.clone(),
        config.store_no.clone(),
        config.api_token.expose_secret(),
    );
    Ok(pockyt_payouts_core::Client::new_with_client(
        config.base_url(),
        http,
        signer,
    ))
}

/// Converts what a caller passed (params or their builder) into params.
fn into_params<P, T>(params: P) -> Result<T, Error>
where
    P: TryInto<T>,
    P::Error: Into<Error>,
{
    params.try_into().map_err(Into::into)
}

fn payload<T>(value: Option<T>, operation: Operation, field: &str) -> Result<T, Error> {
    value.ok_or_else(|| missing(operation, field))
}

fn missing(operation: Operation, field: &str) -> Error {
    Error::Decode {
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

/// Whether a failure is one a read-only call is retried on: connection
/// errors, timeouts, HTTP 5xx, ret_code 000000 or 000080.
fn is_transient(error: &Error) -> bool {
    match error {
        Error::Network { .. } | Error::Timeout { .. } => true,
        Error::Http { status, .. } => *status >= 500,
        Error::Api { ret_code, .. } => matches!(
            ret_code,
            RetCode::SystemError | RetCode::SupplierSystemError
        ),
        _ => false,
    }
}

/// Whether a failure happened before the request was written, so sending
/// again is safe for every operation (input refused before sending is not
/// such a failure: sending it again would be refused again).
fn never_reached_server(error: &Error) -> bool {
    !error.may_have_been_received() && !matches!(error, Error::InvalidRequest { .. })
}

/// Whether a failure may hide a change on the server: the request may have
/// been received and the answer says nothing definite. Only documented
/// refusals are definite; 000000, 000080 and codes this SDK does not know
/// are not.
fn is_ambiguous(error: &Error) -> bool {
    match error {
        Error::InvalidRequest { .. } | Error::InvalidConfig { .. } => false,
        Error::Api { ret_code, .. } => matches!(
            ret_code,
            RetCode::SystemError | RetCode::SupplierSystemError | RetCode::Unknown(_)
        ),
        other => other.may_have_been_received(),
    }
}

/// What an inquiry found under a pay's invoiceId.
enum Found {
    Same(Box<Payout>),
    Other,
    None,
}

/// Whether the payout found under a pay's invoiceId is that pay's: every
/// detail the answer shows must match what was sent (amounts compared in
/// cents, so "500" and "500.00" agree).
fn is_same_payout(found: &Payout, sent: &PayParams) -> bool {
    let same = |found: &Option<String>, sent: &str| found.as_deref().is_none_or(|f| f == sent);
    same(&found.customer_no, &sent.customer_no)
        && same(&found.account_token, &sent.account_token)
        && same(&found.currency, &sent.currency)
        && found
            .amount
            .as_deref()
            .is_none_or(|f| cents(f).is_some() && cents(f) == cents(&sent.amount))
}

/// A decimal amount in cents ("12.5" is 1250); `None` if it is not one.
fn cents(amount: &str) -> Option<u128> {
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 30
        || fraction.len() > 2
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let whole: u128 = whole.parse().ok()?;
    let fraction: u128 = format!("{fraction:0<2}").parse().ok()?;
    Some(whole * 100 + fraction)
}

impl Client {
    /// A client for `config`. Fails with `INVALID_CONFIG` when a setting is
    /// missing or malformed.
    pub fn new(config: Config) -> Result<Self, Error> {
        let timeout = config.timeout;
        Ok(Client {
            shared: Arc::new(Shared::new(config)?),
            timeout,
        })
    }

    /// A client configured from `POCKYT_*` environment variables (see
    /// [`Config::from_env`]).
    pub fn from_env() -> Result<Self, Error> {
        Client::new(Config::from_env()?)
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.shared.config.base_url()
    }

    /// The same client (same connections) with another total timeout per
    /// attempt, for one call or a few:
    /// `client.with_timeout(Duration::from_secs(5)).pay(params).await`.
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client {
            shared: Arc::clone(&self.shared),
            timeout: timeout.max(Duration::from_millis(1)),
        }
    }

    /// The same client with another connect timeout, for one call or a
    /// few: `client.with_connect_timeout(Duration::from_secs(2))?.pay(params)`.
    /// A connect timeout belongs to a connection pool, so each distinct value
    /// gets one pool, built the first time it is asked for and reused after
    /// (for up to eight distinct values; past that, each call builds its own).
    /// Fails with `INVALID_CONFIG` for a zero timeout.
    pub fn with_connect_timeout(&self, connect_timeout: Duration) -> Result<Client, Error> {
        if connect_timeout == self.shared.config.connect_timeout {
            return Ok(self.clone());
        }
        let mut pools = self
            .shared
            .by_connect_timeout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let shared = match pools.get(&connect_timeout) {
            Some(shared) => Arc::clone(shared),
            None => {
                let config = self.shared.config.clone().connect_timeout(connect_timeout);
                let shared = Arc::new(Shared::new(config)?);
                // A bounded cache: a caller deriving a new value per call
                // (say, from a deadline) gets fresh pools past the bound
                // rather than an ever-growing set of idle ones.
                if pools.len() < MAX_CONNECT_TIMEOUT_POOLS {
                    pools.insert(connect_timeout, Arc::clone(&shared));
                }
                shared
            }
        };
        Ok(Client {
            shared,
            timeout: self.timeout,
        })
    }

    /// The time allowed to establish a connection.
    pub fn connect_timeout(&self) -> Duration {
        self.shared.config.connect_timeout
    }

    /// The total time allowed for one attempt of a call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Registers a payee (`/v3/payee/register`) and answers it, with its
    /// `customer_no`.
    pub async fn register_payee<P>(&self, params: P) -> Result<Customer, Error>
    where
        P: TryInto<RegisterPayeeParams>,
        P::Error: Into<Error>,
    {
        let op = Operation::RegisterPayee;
        let mut params: RegisterPayeeParams = into_params(params)?;
        params.prepare()?;
        let core = &self.shared.core;
        let answer = self
            .run(op, || core.register_payee().body(params.clone()).send())
            .await?;
        with_customer_no(payload(answer.customer, op, "customer")?, op)
    }

    /// Retrieves a payee (`/v3/payee/retrieve`).
    pub async fn retrieve_payee<P>(&self, params: P) -> Result<Customer, Error>
    where
        P: TryInto<RetrievePayeeParams>,
        P::Error: Into<Error>,
    {
        let op = Operation::RetrievePayee;
        let mut params: RetrievePayeeParams = into_params(params)?;
        params.prepare()?;
        let core = &self.shared.core;
        let answer = self
            .run(op, || core.retrieve_payee().body(params.clone()).send())
            .await?;
        with_customer_no(payload(answer.customer, op, "customer")?, op)
    }

    /// Updates a payee (`/v3/payee/update`); fields not given are unchanged.
    pub async fn update_payee<P>(&self, params: P) -> Result<UpdatePayeeResponse, Error>
    where
        P: TryInto<UpdatePayeeParams>,
        P::Error: Into<Error>,
    {
        let op = Operation::UpdatePayee;
        let mut params: UpdatePayeeParams = into_params(params)?;
        params.prepare()?;
        let core = &self.shared.core;
        self.run(op, || core.update_payee().body(params.clone()).send())
            .await
    }

    /// Adds a bank account to a payee
    /// (`/v3/payee/account/create/bank-account`) and answers it, with the
    /// `account_token` to pay it with. `account_type`, `account_country` and
    /// `account_currency` default to `BANK_ACCOUNT`, `US` and `USD`.
    pub async fn add_bank_account<P>(&self, params: P) -> Result<BankAccount, Error>
    where
        P: TryInto<AddBankAccountParams>,
        P::Error: Into<Error>,
    {
        let op = Operation::AddBankAccount;
        let mut params: AddBankAccountParams = into_params(params)?;
        params.prepare()?;
        let core = &self.shared.core;
        let answer = self
            .run(op, || core.add_bank_account().body(params.clone()).send())
            .await?;
        let account = payload(answer.result, op, "result")?;
        // The token is what every payout to this account needs; the
        // bindings rely on this to type it as always present.
        match account.account_token.as_deref() {
            Some(token) if !token.is_empty() => Ok(account),
            _ => Err(missing(op, "result.accountToken")),
        }
    }

    /// Lists a payee's payout accounts (`/v3/payee/payout-accounts`).
    pub async fn list_payout_accounts<P>(
        &self,
        params: P,
    ) -> Result<ListPayoutAccountsResponse, Error>
    where
        P: TryInto<ListPayoutAccountsParams>,
        P::Error: Into<Error>,
    {
        let op = Operation::ListPayoutAccounts;
        let mut params: ListPayoutAccountsParams = into_params(params)?;
        params.prepare()?;
        let core = &self.shared.core;
        self.run(op, || {
            core.list_payout_accounts().body(params.clone()).send()
        })
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
    pub async fn pay<P>(&self, params: P) -> Result<Payout, Error>
    where
        P: TryInto<PayParams>,
        P::Error: Into<Error>,
    {
        let op = Operation::Pay;
        let mut params: PayParams = into_params(params)?;
        params.prepare()?;
        let core = &self.shared.core;
        let send = || core.pay().body(params.clone()).send();
        let policy = &self.shared.config.retry;
        let mut retries = 0u32;
        // Set once an attempt may have reached the server. From then on only
        // a payout found by inquiry, or a fresh send after the API said no
        // payout has this invoiceId, may end the call with a result; every
        // other ending is PAYOUT_OUTCOME_UNKNOWN, because that attempt may
        // still create the payout.
        let mut maybe_created = false;
        loop {
            let error = match self.attempt(op, retries, &send).await {
                // "Created", but without the payout: look it up like a lost answer.
                Ok(answer) => match payload(answer.result, op, "result") {
                    Ok(payout) => return Ok(payout),
                    Err(error) => error,
                },
                Err(error) => error,
            };
            let ambiguous = is_ambiguous(&error);
            let not_sent = never_reached_server(&error);
            if !ambiguous && !maybe_created {
                if not_sent && retries < policy.get_max_retries() {
                    // Nothing reached the server: sending again is safe.
                    self.backoff(op, &mut retries, &error).await;
                    continue;
                }
                return Err(error);
            }
            maybe_created = true;
            tracing::info!(operation = op.name(), error_code = %error.code(), "payout outcome unclear; inquiring by invoiceId");
            match self.find_payout(&params).await {
                Ok(Found::Same(payout)) => return Ok(*payout),
                // Under this invoiceId the API holds a payout with other
                // details. It is not this pay's, and the server should not
                // create a second one under the same invoiceId; but a wrong
                // "nothing was paid" would invite a second payment, so the
                // caller is told to reconcile.
                Ok(Found::Other) => {
                    let mismatch = Error::Api {
                        operation: op,
                        ret_code: RetCode::ParametersDoNotMatch,
                        ret_msg: format!(
                            "the payout found under invoiceId {:?} has other details (customerNo, accountToken, \
                             amount or currency) than this pay",
                            params.invoice_id
                        ),
                    };
                    return Err(self.outcome_unknown(&params.invoice_id, mismatch));
                }
                // No payout has this invoiceId: send again, same invoiceId,
                // unless this attempt was refused outright (sending again
                // would be refused too).
                Ok(Found::None)
                    if (ambiguous || not_sent) && retries < policy.get_max_retries() =>
                {
                    self.backoff(op, &mut retries, &error).await
                }
                // An earlier attempt may still be in flight.
                Ok(Found::None) => return Err(self.outcome_unknown(&params.invoice_id, error)),
                Err(inquiry_error) => {
                    let cause = if ambiguous { error } else { inquiry_error };
                    return Err(self.outcome_unknown(&params.invoice_id, cause));
                }
            }
        }
    }

    fn outcome_unknown(&self, invoice_id: &str, cause: Error) -> Error {
        tracing::warn!(operation = "pay", error_code = %cause.code(), "payout outcome unknown");
        Error::PayoutOutcomeUnknown {
            invoice_id: invoice_id.to_owned(),
            cause: Box::new(cause),
        }
    }

    /// Looks a payout up by the merchant's invoiceId (`/v3/payouts/inquiry`).
    /// An unknown invoiceId is `ret_code` 000021.
    pub async fn inquire_payout<P>(&self, params: P) -> Result<Payout, Error>
    where
        P: TryInto<InquirePayoutParams>,
        P::Error: Into<Error>,
    {
        let op = Operation::InquirePayout;
        let mut params: InquirePayoutParams = into_params(params)?;
        params.prepare()?;
        let core = &self.shared.core;
        let answer = self
            .run(op, || core.inquire_payout().body(params.clone()).send())
            .await?;
        payload(answer.result, op, "result")
    }

    /// Reads the merchant's payout balance in one currency
    /// (`/v3/payouts/balance`).
    pub async fn balance<P>(&self, params: P) -> Result<Balance, Error>
    where
        P: TryInto<BalanceParams>,
        P::Error: Into<Error>,
    {
        let op = Operation::Balance;
        let mut params: BalanceParams = into_params(params)?;
        params.prepare()?;
        let core = &self.shared.core;
        let answer = self
            .run(op, || core.balance().body(params.clone()).send())
            .await?;
        payload(answer.balance, op, "balance")
    }

    /// Calls `operation` with its parameters as a JSON object of wire
    /// (camelCase) names and string values, and answers the typed result as
    /// JSON. This is the door the Python and Node bindings use: the same
    /// validation, signing, error mapping and retries as the typed methods.
    ///
    /// `null` values count as absent. Envelope fields, unknown fields and
    /// non-string values are refused with `INVALID_REQUEST`.
    pub async fn call_json(&self, operation: Operation, params: Value) -> Result<Value, Error> {
        match operation {
            Operation::RegisterPayee => to_json(
                self.register_payee(from_json::<RegisterPayeeParams>(params)?)
                    .await,
            ),
            Operation::RetrievePayee => to_json(
                self.retrieve_payee(from_json::<RetrievePayeeParams>(params)?)
                    .await,
            ),
            Operation::UpdatePayee => to_json(
                self.update_payee(from_json::<UpdatePayeeParams>(params)?)
                    .await,
            ),
            Operation::AddBankAccount => to_json(
                self.add_bank_account(from_json::<AddBankAccountParams>(params)?)
                    .await,
            ),
            Operation::ListPayoutAccounts => to_json(
                self.list_payout_accounts(from_json::<ListPayoutAccountsParams>(params)?)
                    .await,
            ),
            Operation::Pay => to_json(self.pay(from_json::<PayParams>(params)?).await),
            Operation::InquirePayout => to_json(
                self.inquire_payout(from_json::<InquirePayoutParams>(params)?)
                    .await,
            ),
            Operation::Balance => to_json(self.balance(from_json::<BalanceParams>(params)?).await),
        }
    }

    /// What the API holds under a pay's invoiceId: the same payout, another
    /// one (other customer, account, amount or currency), or none (000021);
    /// or the error that kept it from saying.
    async fn find_payout(&self, pay: &PayParams) -> Result<Found, Error> {
        let params = InquirePayoutParams {
            invoice_id: pay.invoice_id.clone(),
        };
        match self.inquire_payout(params).await {
            Ok(payout) if is_same_payout(&payout, pay) => Ok(Found::Same(Box::new(payout))),
            Ok(_) => Ok(Found::Other),
            Err(Error::Api {
                ret_code: RetCode::NoRelatedInformation,
                ..
            }) => Ok(Found::None),
            Err(other) => Err(other),
        }
    }

    /// Sends with the retry rule of every operation but `pay`: a request
    /// that never reached the server is always sent again; a read-only call
    /// also on transient failures. Register, update and add-bank-account
    /// are never sent again once they may have been received.
    async fn run<R, F, Fut>(&self, op: Operation, send: F) -> Result<R, Error>
    where
        R: Answer,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<ResponseValue<R>, CoreError>>,
    {
        let policy = &self.shared.config.retry;
        let mut retries = 0u32;
        loop {
            match self.attempt(op, retries, &send).await {
                Ok(answer) => return Ok(answer),
                Err(error) => {
                    let retry =
                        never_reached_server(&error) || op.is_read_only() && is_transient(&error);
                    if !retry || retries >= policy.get_max_retries() {
                        return Err(error);
                    }
                    self.backoff(op, &mut retries, &error).await;
                }
            }
        }
    }

    async fn backoff(&self, op: Operation, retries: &mut u32, error: &Error) {
        let delay = self.shared.config.retry.delay_for(*retries);
        *retries += 1;
        tracing::info!(
            operation = op.name(),
            retry = *retries,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            error_code = %error.code(),
            "retrying"
        );
        tokio::time::sleep(delay).await;
    }

    /// One attempt: send within the timeout, then map the answer.
    async fn attempt<R, F, Fut>(&self, op: Operation, retry: u32, send: &F) -> Result<R, Error>
    where
        R: Answer,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<ResponseValue<R>, CoreError>>,
    {
        let started = Instant::now();
        tracing::debug!(operation = op.name(), path = op.path(), retry, "sending");
        let result = tokio::time::timeout(self.timeout, async {
            match send().await {
                Ok(answer) => Ok(answer.into_inner()),
                Err(error) => Err(self.map_core_error(op, error).await),
            }
        })
        .await
        .unwrap_or_else(|_| Err(self.timed_out(op)));
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(answer) if answer.ret_code().is_success() => {
                tracing::debug!(
                    operation = op.name(),
                    elapsed_ms,
                    ret_code = "000100",
                    "answered"
                );
                Ok(answer)
            }
            Ok(answer) => {
                tracing::debug!(operation = op.name(), elapsed_ms, ret_code = %answer.ret_code(), "refused");
                Err(Error::Api {
                    operation: op,
                    ret_code: answer.ret_code().clone(),
                    ret_msg: answer.ret_msg().unwrap_or_default().to_owned(),
                })
            }
            Err(error) => {
                tracing::debug!(operation = op.name(), elapsed_ms, error_code = %error.code(), "failed");
                Err(error)
            }
        }
    }

    fn excerpt(&self, body: &[u8]) -> String {
        let [token, digest] = &self.shared.secrets;
        excerpt(body, &[token, digest])
    }

    async fn map_core_error(&self, op: Operation, error: CoreError) -> Error {
        match error {
            CoreError::InvalidRequest(message) => Error::invalid_request("params", message),
            CoreError::CommunicationError(e)
            | CoreError::ResponseBodyError(e)
            | CoreError::InvalidUpgrade(e) => self.map_reqwest_error(op, &e),
            CoreError::InvalidResponsePayload(body, e) => Error::Decode {
                status: 200,
                message: format!("{} answer is not the expected JSON: {e}", op.name()),
                excerpt: self.excerpt(&body),
            },
            CoreError::UnexpectedResponse(mut response) => {
                let status = response.status().as_u16();
                let mut body = Vec::new();
                // Keep only the start of the body: enough to see what the
                // server said, bounded whatever it sends.
                while body.len() <= EXCERPT_LIMIT {
                    match response.chunk().await {
                        Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                Error::Http {
                    status,
                    excerpt: self.excerpt(&body),
                }
            }
            CoreError::ErrorResponse(value) => Error::Http {
                status: value.status().as_u16(),
                excerpt: String::new(),
            },
            CoreError::Custom(message) => Error::Network {
                message,
                delivery: Delivery::MaybeReceived,
            },
        }
    }

    fn timed_out(&self, op: Operation) -> Error {
        Error::Timeout {
            operation: op,
            after_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn map_reqwest_error(&self, op: Operation, error: &reqwest::Error) -> Error {
        if error.is_timeout() && !error.is_connect() {
            return self.timed_out(op);
        }
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        let [token, digest] = &self.shared.secrets;
        let message = excerpt(message.as_bytes(), &[token, digest]);
        let delivery = if error.is_connect() {
            Delivery::NotSent
        } else {
            Delivery::MaybeReceived
        };
        Error::Network { message, delivery }
    }
}

/// Parameters from a JSON object of wire names, with every refusal naming
/// the field.
fn from_json<T: DeserializeOwned + Serialize>(params: Value) -> Result<T, Error> {
    let Value::Object(mut fields) = params else {
        return Err(Error::invalid_request(
            "params",
            "must be an object of named string values",
        ));
    };
    fields.retain(|_, v| !v.is_null());
    for (name, value) in &fields {
        if ENVELOPE_FIELDS.contains(&name.as_str()) {
            return Err(Error::invalid_request(
                name,
                "is set by the SDK's signing layer and must not be passed",
            ));
        }
        if !value.is_string() {
            return Err(Error::invalid_request(name, "must be a string"));
        }
    }
    let names: Vec<String> = fields.keys().cloned().collect();
    let typed: T = serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if let Some(rest) = inner.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or_default();
            Error::invalid_request(field, "is required")
        } else if let Some(rest) = inner.strip_prefix("unknown field `") {
            let field = rest.split('`').next().unwrap_or_default();
            Error::invalid_request(field, "is not a parameter of this operation")
        } else {
            Error::invalid_request(if path == "." { "params" } else { &path }, inner)
        }
    })?;
    // Schemas without `deny_unknown_fields` (those built with allOf) drop
    // unknown names silently; a name that does not come back out was not
    // understood.
    let known = serde_json::to_value(&typed).unwrap_or(Value::Null);
    if let Some(unknown) = names.iter().find(|name| known.get(name.as_str()).is_none()) {
        return Err(Error::invalid_request(
            unknown,
            "is not a parameter of this operation",
        ));
    }
    Ok(typed)
}

fn to_json<T: Serialize>(result: Result<T, Error>) -> Result<Value, Error> {
    let value = result?;
    serde_json::to_value(&value).map_err(|e| Error::Decode {
        status: 200,
        message: e.to_string(),
        excerpt: String::new(),
    })
}
