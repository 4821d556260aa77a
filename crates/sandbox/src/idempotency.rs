//! Idempotency keys (`Pockyt-Request-ID`) and the no-key duplicate check of
//! pay.
//!
//! Keys are kept per merchant with the request's fingerprint (the
//! operation and every body field but `timestamp` and `verifySign`):
//!
//! - a key seen for the first time is *claimed*: the request is processed,
//!   and while it runs the key is in flight;
//! - when it completes with `000100` its answer is kept under the key and a
//!   repeat with the same fingerprint gets that answer again (replayed,
//!   nothing processed); any other answer forgets the key, so a repeat is
//!   processed normally;
//! - a repeat while the first is in flight waits for it (on a
//!   `tokio::sync::watch`, no polling) and then replays its answer, or is
//!   processed normally when the first was refused;
//! - a repeat with another fingerprint is refused (`000022`).
//!
//! A pay sent without a key whose fingerprint equals a pay that is in
//! flight or succeeded within `duplicate_window` is refused as a
//! "Duplicate request" (`000023`).
//!
//! Both are bounded: entries expire (`idempotency_ttl`, `duplicate_window`)
//! and at most `idempotency_max_keys` of each are kept per merchant, the
//! oldest dropped first. Lookups are hash lookups, expiry and eviction walk
//! a `BTreeMap` ordered by age.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use md5::{Digest, Md5};
use pockyt_payouts_core::enums::RetCode;
use pockyt_payouts_sign::{SIGNATURE_FIELD, TIMESTAMP_FIELD};
use tokio::sync::watch;

use crate::api::{Answer, Fields, Operation};
use crate::config::SandboxConfig;
use crate::shared::Shared;

/// The request header that carries the idempotency key.
pub(crate) const REQUEST_ID_HEADER: &str = "pockyt-request-id";

/// The longest key (the spec's `maxLength`).
pub(crate) const MAX_KEY_LEN: usize = 64;

/// How a "Duplicate request" refusal's `ret_msg` starts.
pub(crate) const DUPLICATE_REQUEST: &str = "Duplicate request";

/// Reads the `Pockyt-Request-ID` header: `None` when absent; a refusal
/// (`000023`) when it is sent more than once, empty, longer than
/// [`MAX_KEY_LEN`], or has a character other than an ASCII letter, a digit
/// or one of `-_.:`.
pub(crate) fn request_id(headers: &HeaderMap) -> Result<Option<String>, Answer> {
    let mut values = headers.get_all(REQUEST_ID_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let refuse = |why: &str| {
        Answer::error(
            RetCode::ParameterValueError,
            format!("Pockyt-Request-ID {why}"),
        )
    };
    if values.next().is_some() {
        return Err(refuse("is sent more than once"));
    }
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return Err(refuse("is empty"));
    }
    if bytes.len() > MAX_KEY_LEN {
        return Err(refuse(&format!("is longer than {MAX_KEY_LEN} characters")));
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    {
        return Err(refuse(
            "may only have ASCII letters, digits and the characters - _ . :",
        ));
    }
    // Only ASCII passed the check above.
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// What makes two requests "the same": the operation and every field but
/// `timestamp` and `verifySign` (name=value, sorted), as an MD5 digest so
/// that a kept key costs the same whatever the body's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// The fingerprint of one request.
    pub fn of(op: Operation, fields: &Fields) -> Fingerprint {
        let mut pairs: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, _)| *k != SIGNATURE_FIELD && *k != TIMESTAMP_FIELD)
            .collect();
        pairs.sort_unstable();
        let mut hasher = Md5::new();
        hasher.update(op.name().as_bytes());
        for (name, value) in pairs {
            // Lengths first: no two different lists hash the same text.
            hasher.update((name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
            hasher.update((value.len() as u64).to_le_bytes());
            hasher.update(value.as_bytes());
        }
        Fingerprint(hasher.finalize().into())
    }
}

/// A map whose entries expire and whose size is capped, oldest dropped
/// first. Every entry has a sequence number unique for the life of the
/// sandbox (across resets), so that a late owner never removes a newer
/// entry under the same key.
struct ExpiringMap<K, V> {
    entries: HashMap<K, Slot<V>>,
    /// Sequence number → key, oldest first.
    order: BTreeMap<u64, K>,
}

struct Slot<V> {
    seq: u64,
    at: Instant,
    value: V,
}

impl<K: Clone + Eq + Hash, V> ExpiringMap<K, V> {
    fn new() -> Self {
        ExpiringMap {
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    /// Drops the entries older than `ttl`.
    fn expire(&mut self, now: Instant, ttl: Duration) {
        while let Some((&seq, key)) = self.order.first_key_value() {
            match self.entries.get(key) {
                Some(slot) if slot.seq == seq && now.duration_since(slot.at) < ttl => return,
                Some(slot) if slot.seq == seq => {
                    let key = key.clone();
                    self.entries.remove(&key);
                }
                // Cannot happen (the two maps change together); repair.
                _ => {}
            }
            self.order.remove(&seq);
        }
    }

    fn get(&self, key: &K) -> Option<&Slot<V>> {
        self.entries.get(key)
    }

    fn get_mut(&mut self, key: &K) -> Option<&mut Slot<V>> {
        self.entries.get_mut(key)
    }

    /// Inserts (replacing any entry under `key`), first dropping the
    /// oldest entries while `max` (at least 1) are kept.
    fn insert(&mut self, key: K, value: V, seq: u64, now: Instant, max: usize) {
        if let Some(old) = self.entries.remove(&key) {
            self.order.remove(&old.seq);
        }
        while self.entries.len() >= max.max(1) {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        self.order.insert(seq, key.clone());
        self.entries.insert(
            key,
            Slot {
                seq,
                at: now,
                value,
            },
        );
    }

    /// Removes the entry under `key` if it is still the one numbered `seq`.
    fn remove_if(&mut self, key: &K, seq: u64) {
        if self.entries.get(key).is_some_and(|slot| slot.seq == seq) {
            self.entries.remove(key);
            self.order.remove(&seq);
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// How a claimed request ended, for those waiting on its key.
#[derive(Clone, Debug)]
pub(crate) enum Resolution {
    /// It completed with `000100`: replay this answer.
    Completed(Answer),
    /// It was refused (or abandoned): process the repeat normally.
    Refused,
}

/// Waiters' end of an in-flight request: `None` until it ends.
pub(crate) type Done = watch::Receiver<Option<Resolution>>;

enum Entry {
    InFlight {
        fingerprint: Fingerprint,
        done: Done,
    },
    Completed {
        fingerprint: Fingerprint,
        answer: Answer,
    },
}

/// One merchant's keys and recent pays.
struct Merchant {
    keys: ExpiringMap<String, Entry>,
    recent_pays: ExpiringMap<Fingerprint, ()>,
}

/// Every merchant's keys. Lives in the state (so a reset forgets it).
pub(crate) struct Idempotency {
    merchants: HashMap<String, Merchant>,
}

/// What to do with a request, decided under the state's lock.
pub(crate) enum Claim {
    /// Process it; then [`Ticket::finish`] records the outcome.
    Process(Ticket),
    /// Answer this, kept from the first request with the key.
    Replay(Answer),
    /// Refuse it with this answer (key used with other parameters,
    /// duplicate pay).
    Refuse(Answer),
    /// Another request with the key is in flight: wait for it.
    Wait(Done),
}

/// The right to process a request, and what to record when it ends.
pub(crate) struct Ticket {
    merchant: String,
    key: Option<(String, u64, watch::Sender<Option<Resolution>>)>,
    pay: Option<(Fingerprint, u64)>,
}

/// What the claim needs to know about the request.
pub(crate) struct Request<'a> {
    pub merchant_no: &'a str,
    pub op: Operation,
    pub key: Option<&'a str>,
    pub fingerprint: Fingerprint,
}

impl Idempotency {
    pub fn new() -> Self {
        Idempotency {
            merchants: HashMap::new(),
        }
    }

    /// How many keys are kept (in flight or completed), all merchants.
    pub fn kept(&self) -> usize {
        self.merchants.values().map(|m| m.keys.len()).sum()
    }

    /// Decides what to do with a request. `seq` is called for a fresh
    /// sequence number (unique for the sandbox's life).
    pub fn claim(
        &mut self,
        config: &SandboxConfig,
        request: &Request<'_>,
        now: Instant,
        mut seq: impl FnMut() -> u64,
    ) -> Claim {
        let stores_key = request.key.is_some() && !request.op.is_read_only();
        let is_pay = request.op == Operation::Pay;
        if !stores_key && !is_pay {
            return Claim::Process(Ticket::none(request.merchant_no));
        }
        let merchant = self
            .merchants
            .entry(request.merchant_no.to_owned())
            .or_insert_with(|| Merchant {
                keys: ExpiringMap::new(),
                recent_pays: ExpiringMap::new(),
            });
        merchant.keys.expire(now, config.idempotency_ttl);
        merchant.recent_pays.expire(now, config.duplicate_window);
        let mut ticket = Ticket::none(request.merchant_no);
        if let (true, Some(key)) = (stores_key, request.key) {
            let key = key.to_owned();
            // An in-flight entry whose owner is gone without a word (it
            // cannot be: the owner resolves on drop) would make its
            // waiters spin; it is forgotten instead.
            if let Some(slot) = merchant.keys.get(&key) {
                if let Entry::InFlight { done, .. } = &slot.value {
                    if done.has_changed().is_err() && done.borrow().is_none() {
                        let seq = slot.seq;
                        merchant.keys.remove_if(&key, seq);
                    }
                }
            }
            if let Some(slot) = merchant.keys.get(&key) {
                let (fingerprint, outcome) = match &slot.value {
                    Entry::InFlight { fingerprint, done } => {
                        (*fingerprint, Claim::Wait(done.clone()))
                    }
                    Entry::Completed {
                        fingerprint,
                        answer,
                    } => (*fingerprint, Claim::Replay(answer.clone())),
                };
                if fingerprint != request.fingerprint {
                    return Claim::Refuse(Answer::error(
                        RetCode::ParametersDoNotMatch,
                        format!(
                            "Pockyt-Request-ID {key} was already used with other parameters \
                             (another operation or other field values); use a new key for a new request"
                        ),
                    ));
                }
                return outcome;
            }
            let (tx, rx) = watch::channel(None);
            let number = seq();
            merchant.keys.insert(
                key.clone(),
                Entry::InFlight {
                    fingerprint: request.fingerprint,
                    done: rx,
                },
                number,
                now,
                config.idempotency_max_keys,
            );
            ticket.key = Some((key, number, tx));
        }
        if is_pay {
            let seen = merchant.recent_pays.get(&request.fingerprint).is_some();
            if seen && ticket.key.is_none() {
                return Claim::Refuse(Answer::error(
                    RetCode::ParameterValueError,
                    format!(
                        "{DUPLICATE_REQUEST}: an identical pay was sent within the last {} seconds \
                         (send a Pockyt-Request-ID to have a repeat answered with the original result)",
                        config.duplicate_window.as_secs()
                    ),
                ));
            }
            if !seen {
                let number = seq();
                merchant.recent_pays.insert(
                    request.fingerprint,
                    (),
                    number,
                    now,
                    config.idempotency_max_keys,
                );
                ticket.pay = Some((request.fingerprint, number));
            }
        }
        Claim::Process(ticket)
    }
}

impl Ticket {
    fn none(merchant_no: &str) -> Ticket {
        Ticket {
            merchant: merchant_no.to_owned(),
            key: None,
            pay: None,
        }
    }

    /// Records how the request ended and wakes those waiting on its key:
    /// a success (`000100`) is kept under the key and the pay stays in the
    /// duplicate window; anything else (or `None`: abandoned) forgets
    /// both.
    fn resolve(&mut self, idempotency: &mut Idempotency, answer: Option<&Answer>) {
        let success = answer.filter(|a| a.ret_code == RetCode::Success);
        let merchant = idempotency.merchants.get_mut(&self.merchant);
        if let Some(merchant) = merchant {
            if let Some((key, seq, _)) = &self.key {
                match success {
                    Some(answer) => {
                        if let Some(slot) = merchant.keys.get_mut(key) {
                            if slot.seq == *seq {
                                if let Entry::InFlight { fingerprint, .. } = slot.value {
                                    slot.value = Entry::Completed {
                                        fingerprint,
                                        answer: answer.clone(),
                                    };
                                }
                            }
                        }
                    }
                    None => merchant.keys.remove_if(key, *seq),
                }
            }
            if let (None, Some((fingerprint, seq))) = (success, &self.pay) {
                merchant.recent_pays.remove_if(fingerprint, *seq);
            }
        }
        if let Some((_, _, tx)) = self.key.take() {
            let resolution = match success {
                Some(answer) => Resolution::Completed(answer.clone()),
                None => Resolution::Refused,
            };
            tx.send_replace(Some(resolution));
        }
        self.pay = None;
    }
}

/// A [`Ticket`] that records the outcome when finished, and forgets the
/// key (waking its waiters) if dropped unfinished (a panic while
/// processing).
pub(crate) struct Owner {
    shared: Arc<Shared>,
    ticket: Ticket,
}

impl Owner {
    pub fn new(shared: Arc<Shared>, ticket: Ticket) -> Owner {
        Owner { shared, ticket }
    }

    /// Records the answer (see [`Ticket`]).
    pub fn finish(mut self, answer: &Answer) {
        let mut state = self.shared.lock();
        self.ticket.resolve(&mut state.idempotency, Some(answer));
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        if self.ticket.key.is_some() || self.ticket.pay.is_some() {
            let mut state = self.shared.lock();
            self.ticket.resolve(&mut state.idempotency, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(REQUEST_ID_HEADER, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    #[test]
    fn keys_are_checked() {
        assert_eq!(request_id(&headers(&[])).unwrap(), None);
        let uuid = b"9b2f4a59-2f0c-4e89-9d34-b1f1e3d6d2a1";
        assert_eq!(
            request_id(&headers(&[uuid])).unwrap().as_deref(),
            Some("9b2f4a59-2f0c-4e89-9d34-b1f1e3d6d2a1")
        );
        assert!(request_id(&headers(&[b"a.b:c_d-E"])).is_ok());
        assert!(request_id(&headers(&["k".repeat(64).as_bytes()])).is_ok());
        for bad in [
            b"".as_slice(),
            "k".repeat(65).as_bytes(),
            b"has space",
            b"slash/",
            b"caf\xc3\xa9",
        ] {
            let answer = request_id(&headers(&[bad])).unwrap_err();
            assert_eq!(answer.ret_code, RetCode::ParameterValueError);
            assert!(answer.body["ret_msg"]
                .as_str()
                .unwrap()
                .contains("Pockyt-Request-ID"));
        }
        assert!(request_id(&headers(&[b"a", b"b"])).is_err());
    }

    #[test]
    fn the_map_expires_and_caps_oldest_first() {
        let start = Instant::now();
        let mut map: ExpiringMap<&str, u32> = ExpiringMap::new();
        map.insert("a", 1, 1, start, 2);
        map.insert("b", 2, 2, start + Duration::from_secs(1), 2);
        map.insert("c", 3, 3, start + Duration::from_secs(2), 2);
        assert!(map.get(&"a").is_none(), "the oldest is dropped at the cap");
        assert_eq!(map.len(), 2);
        map.remove_if(&"b", 99);
        assert!(map.get(&"b").is_some(), "another sequence number is kept");
        map.expire(start + Duration::from_millis(2_500), Duration::from_secs(1));
        assert!(map.get(&"b").is_none());
        assert_eq!(map.get(&"c").unwrap().value, 3);
        map.insert("c", 4, 4, start + Duration::from_secs(3), 2);
        assert_eq!(map.len(), 1);
        assert_eq!(map.order.len(), 1);
        map.remove_if(&"c", 4);
        assert_eq!((map.len(), map.order.len()), (0, 0));
    }
}
