//! The sandbox's mutable state: payees, accounts, payouts, balances, the
//! IPN log and the fault rules. Always behind a `std::sync::Mutex` that is
//! never held across an `.await`.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Instant;

use pockyt_payouts_core::enums::PayoutStatus;
use rand::Rng;
use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::config::SandboxConfig;
use crate::fault::FaultRule;
use crate::idempotency::{Claim, Idempotency, Request};
use crate::money::format_cents;
use crate::{IpnDelivery, PayoutRecord};

/// A registered payee.
pub(crate) struct Payee {
    pub customer_no: String,
    /// The profile fields given (non-empty), by wire name.
    pub profile: BTreeMap<String, String>,
    pub created_time: String,
    pub updated_time: String,
}

impl Payee {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.profile.get(name).map(String::as_str)
    }

    /// Inserts `names` that the payee has into `out`.
    pub fn put(&self, out: &mut Map<String, Value>, names: &[&str]) {
        for name in names {
            if let Some(value) = self.get(name) {
                out.insert((*name).to_owned(), Value::String(value.to_owned()));
            }
        }
    }
}

/// A payout account (bank account) of a payee.
pub(crate) struct Account {
    pub account_token: String,
    pub customer_no: String,
    pub account_tag: Option<String>,
    pub account_type: String,
    pub country: String,
    pub currency: String,
    pub bank_account_id: String,
    pub branch_id: String,
    pub bank_account_purpose: String,
    pub client_ip: Option<String>,
    pub ipn_url: Option<String>,
    pub created_time: String,
}

impl Account {
    /// `****` and the last four digits of the account number.
    pub fn card_number(&self) -> String {
        let digits = self.bank_account_id.as_str();
        let start = digits.len().saturating_sub(4);
        format!("****{}", &digits[start..])
    }
}

/// One notification to deliver to an `ipnUrl`.
pub(crate) struct IpnJob {
    pub url: String,
    pub fields: Vec<(String, String)>,
}

/// A payout.
pub(crate) struct Payout {
    /// Unique for the life of the sandbox (across resets); background tasks
    /// check it so that they never touch a later payout with the same
    /// invoiceId.
    pub uid: u64,
    /// Bumped on every status change; a pending settle applies only to the
    /// version it was scheduled for.
    pub version: u64,
    pub invoice_id: String,
    pub transaction_no: String,
    pub customer_no: String,
    pub account_token: String,
    pub amount_cents: i128,
    pub currency: String,
    pub status: PayoutStatus,
    pub created_time: String,
    pub ipn_url: Option<String>,
    /// The queue of this payout's IPN worker (one worker per payout keeps
    /// its notifications in order).
    pub ipn_queue: Option<UnboundedSender<IpnJob>>,
}

impl Payout {
    /// The payout as pay and inquiry answer it.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "amount": format_cents(self.amount_cents),
            "transactionNo": self.transaction_no,
            "createdTime": self.created_time,
            "invoiceId": self.invoice_id,
            "currency": self.currency,
            "accountToken": self.account_token,
            "customerNo": self.customer_no,
            "status": self.status.as_str(),
        })
    }

    pub fn record(&self) -> PayoutRecord {
        PayoutRecord {
            invoice_id: self.invoice_id.clone(),
            transaction_no: self.transaction_no.clone(),
            customer_no: self.customer_no.clone(),
            account_token: self.account_token.clone(),
            amount: format_cents(self.amount_cents),
            currency: self.currency.clone(),
            status: self.status.as_str().to_owned(),
            created_time: self.created_time.clone(),
        }
    }
}

/// Whether a payout in `status` holds its amount out of the balance
/// (pending and success do; failed and returned gave it back).
pub(crate) fn holds_funds(status: &PayoutStatus) -> bool {
    matches!(status, PayoutStatus::Pending | PayoutStatus::Success)
}

/// The most entries the request log keeps (`GET /_sandbox/requests`); the
/// oldest is dropped first.
pub(crate) const MAX_REQUEST_LOG: usize = 1_000;

/// One API request, as the request log shows it.
pub(crate) struct RequestRecord {
    /// When it was answered, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: String,
    /// The operationId.
    pub operation: &'static str,
    /// Its `Pockyt-Request-ID`, when it sent a well-formed one.
    pub request_id: Option<String>,
    /// Whether the answer was replayed from the key's first request.
    pub replayed: bool,
    /// The answer's `ret_code` (the one processing gave, even when a fault
    /// hid it); `None` when a fault answered without processing.
    pub ret_code: Option<String>,
    /// The fault it got.
    pub fault: Option<String>,
}

impl RequestRecord {
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "time": self.time,
            "operation": self.operation,
            "requestId": self.request_id,
            "replayed": self.replayed,
            "retCode": self.ret_code,
            "fault": self.fault,
        })
    }
}

/// Everything the sandbox remembers.
pub(crate) struct State {
    pub payees: Vec<Payee>,
    payee_index: HashMap<String, usize>,
    pub accounts: Vec<Account>,
    account_index: HashMap<String, usize>,
    /// Each payee's account tokens, oldest first: listing one payee's
    /// accounts costs what that payee has, not what every payee has.
    accounts_by_payee: HashMap<String, Vec<String>>,
    pub payouts: Vec<Payout>,
    payout_index: HashMap<String, usize>,
    transaction_nos: HashSet<String>,
    /// Current balance per currency, in cents.
    pub balances: BTreeMap<String, i128>,
    pub ipn_log: Vec<IpnDelivery>,
    pub fault_rules: Vec<FaultRule>,
    /// `fault-…` invoiceIds whose one faulted pay has happened.
    pub fault_invoices_used: HashSet<String>,
    /// Idempotency keys and recent pays, per merchant.
    pub idempotency: Idempotency,
    /// The last [`MAX_REQUEST_LOG`] API requests.
    pub request_log: VecDeque<RequestRecord>,
    next_uid: u64,
}

impl State {
    pub fn new(balances: BTreeMap<String, i128>) -> Self {
        State {
            payees: Vec::new(),
            payee_index: HashMap::new(),
            accounts: Vec::new(),
            account_index: HashMap::new(),
            accounts_by_payee: HashMap::new(),
            payouts: Vec::new(),
            payout_index: HashMap::new(),
            transaction_nos: HashSet::new(),
            balances,
            ipn_log: Vec::new(),
            fault_rules: Vec::new(),
            fault_invoices_used: HashSet::new(),
            idempotency: Idempotency::new(),
            request_log: VecDeque::new(),
            next_uid: 0,
        }
    }

    /// Decides what to do with a request under its idempotency key (see
    /// [`Idempotency::claim`]); sequence numbers come from `next_uid`, so
    /// they stay unique across resets.
    pub fn claim(&mut self, config: &SandboxConfig, request: &Request<'_>, now: Instant) -> Claim {
        let next_uid = &mut self.next_uid;
        self.idempotency.claim(config, request, now, || {
            *next_uid += 1;
            *next_uid
        })
    }

    /// Forgets everything but keeps `next_uid` growing.
    pub fn reset(&mut self, balances: BTreeMap<String, i128>) {
        let next_uid = self.next_uid;
        *self = State::new(balances);
        self.next_uid = next_uid;
    }

    pub fn payee(&self, customer_no: &str) -> Option<&Payee> {
        self.payee_index.get(customer_no).map(|i| &self.payees[*i])
    }

    pub fn payee_mut(&mut self, customer_no: &str) -> Option<&mut Payee> {
        let i = *self.payee_index.get(customer_no)?;
        Some(&mut self.payees[i])
    }

    pub fn account(&self, token: &str) -> Option<&Account> {
        self.account_index.get(token).map(|i| &self.accounts[*i])
    }

    /// The accounts of the payee `customer_no`, oldest first.
    pub fn accounts_of<'s>(&'s self, customer_no: &str) -> impl Iterator<Item = &'s Account> + 's {
        self.accounts_by_payee
            .get(customer_no)
            .into_iter()
            .flatten()
            .filter_map(|token| self.account(token))
    }

    pub fn payout_index(&self, invoice_id: &str) -> Option<usize> {
        self.payout_index.get(invoice_id).copied()
    }

    pub fn payout(&self, invoice_id: &str) -> Option<&Payout> {
        self.payout_index(invoice_id).map(|i| &self.payouts[i])
    }

    /// A fresh 22-digit customerNo.
    pub fn new_customer_no(&self) -> String {
        loop {
            let candidate = random_digits("2000", 22);
            if !self.payee_index.contains_key(&candidate) {
                return candidate;
            }
        }
    }

    /// A fresh 22-digit accountToken.
    pub fn new_account_token(&self) -> String {
        loop {
            let candidate = random_digits("2010", 22);
            if !self.account_index.contains_key(&candidate) {
                return candidate;
            }
        }
    }

    /// A fresh 18-digit transactionNo.
    pub fn new_transaction_no(&self) -> String {
        loop {
            let candidate = random_digits("30", 18);
            if !self.transaction_nos.contains(&candidate) {
                return candidate;
            }
        }
    }

    pub fn new_uid(&mut self) -> u64 {
        self.next_uid += 1;
        self.next_uid
    }

    pub fn add_payee(&mut self, payee: Payee) {
        self.payee_index
            .insert(payee.customer_no.clone(), self.payees.len());
        self.payees.push(payee);
    }

    pub fn add_account(&mut self, account: Account) {
        self.account_index
            .insert(account.account_token.clone(), self.accounts.len());
        self.accounts_by_payee
            .entry(account.customer_no.clone())
            .or_default()
            .push(account.account_token.clone());
        self.accounts.push(account);
    }

    /// Removes a payout account (the payouts made to it stay).
    pub fn remove_account(&mut self, token: &str) -> Option<Account> {
        let index = self.account_index.remove(token)?;
        let account = self.accounts.remove(index);
        if let Some(tokens) = self.accounts_by_payee.get_mut(&account.customer_no) {
            tokens.retain(|t| t != token);
        }
        // Accounts keep their order (payout-accounts lists them oldest
        // first): the later ones move down by one.
        for later in &self.accounts[index..] {
            if let Some(i) = self.account_index.get_mut(&later.account_token) {
                *i -= 1;
            }
        }
        Some(account)
    }

    /// Appends to the request log, dropping the oldest past
    /// [`MAX_REQUEST_LOG`].
    pub fn log_request(&mut self, record: RequestRecord) {
        while self.request_log.len() >= MAX_REQUEST_LOG {
            self.request_log.pop_front();
        }
        self.request_log.push_back(record);
    }

    /// Adds a payout and answers its index.
    pub fn add_payout(&mut self, payout: Payout) -> usize {
        let index = self.payouts.len();
        self.transaction_nos.insert(payout.transaction_no.clone());
        self.payout_index.insert(payout.invoice_id.clone(), index);
        self.payouts.push(payout);
        index
    }
}

/// `prefix` followed by random digits, `len` digits in all.
fn random_digits(prefix: &str, len: usize) -> String {
    let mut rng = rand::rng();
    let mut out = String::with_capacity(len);
    out.push_str(prefix);
    while out.len() < len {
        out.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    out
}
