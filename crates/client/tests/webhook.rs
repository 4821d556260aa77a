//! Webhooks through the public API: typing a verified IPN, refusing what
//! is forged or ambiguous, and running a handler at most once per
//! transactionNo + status whatever the store.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use pockyt_payouts::webhook::{
    construct_event, dedup_key, event_from_fields, Claim, EventStore, MemoryEventStore, Outcome,
    Webhook,
};
use pockyt_payouts::{IpnError, MalformedIpn, PayoutStatus};

const TOKEN: &str = "webhook-token-0001";

/// A signed body of `fields`, encoded plainly, `verifySign` last.
fn signed(fields: &[(&str, &str)]) -> String {
    let sig = pockyt_payouts::sign(fields.iter().copied(), TOKEN);
    let mut body = form_encode(fields);
    body.push_str("&verifySign=");
    body.push_str(&sig);
    body
}

fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('%', "%25").replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&")
}

const GENUINE: [(&str, &str); 9] = [
    ("amount", "20.00"),
    ("completedAt", "2025-02-06T13:23:39Z"),
    ("currency", "USD"),
    ("customerNo", "2000299440486216204525"),
    ("reference", "hwI8KhTcOS"),
    ("settleCurrency", "USD"),
    ("status", "success"),
    ("transactionNo", "378265991124154801"),
    ("vendorId", "v-1"),
];

#[test]
fn a_genuine_ipn_is_typed_with_every_field_kept() {
    let event = construct_event(signed(&GENUINE).as_bytes(), TOKEN).unwrap();
    assert_eq!(event.transaction_no, "378265991124154801");
    assert_eq!(event.status, PayoutStatus::Success);
    assert_eq!(event.invoice_id.as_deref(), Some("hwI8KhTcOS"));
    assert_eq!(event.amount.as_deref(), Some("20.00"));
    assert_eq!(event.currency.as_deref(), Some("USD"));
    assert_eq!(event.settle_currency.as_deref(), Some("USD"));
    assert_eq!(event.customer_no.as_deref(), Some("2000299440486216204525"));
    assert_eq!(event.completed_at.as_deref(), Some("2025-02-06T13:23:39Z"));
    assert_eq!(event.vendor_id.as_deref(), Some("v-1"));
    assert_eq!(event.extra.get("reference").unwrap(), "hwI8KhTcOS");
    assert!(!event.extra.contains_key("verifySign"));
    assert_eq!(dedup_key(&event), "378265991124154801:success");
}

#[test]
fn unknown_fields_and_statuses_come_through() {
    let body = signed(&[
        ("transactionNo", "1"),
        ("status", "on_hold"),
        ("invoiceId", "inv-9"),
        ("newField", "x"),
    ]);
    let event = construct_event(body.as_bytes(), TOKEN).unwrap();
    assert_eq!(event.status, PayoutStatus::Unknown("on_hold".into()));
    assert_eq!(event.invoice_id.as_deref(), Some("inv-9"));
    assert_eq!(event.extra.get("newField").unwrap(), "x");
}

fn malformed(body: &str) -> MalformedIpn {
    match construct_event(body.as_bytes(), TOKEN).unwrap_err() {
        IpnError::MalformedBody(why) => why,
        other => panic!("expected a malformed body, got {other:?}"),
    }
}

#[test]
fn a_genuine_ipn_that_cannot_be_typed_is_malformed() {
    assert_eq!(
        malformed(&signed(&[("status", "success")])),
        MalformedIpn::MissingField {
            field: "transactionNo".into()
        }
    );
    assert_eq!(
        malformed(&signed(&[("transactionNo", "1"), ("status", " ")])),
        MalformedIpn::MissingField {
            field: "status".into()
        }
    );
    let conflicting = signed(&[
        ("transactionNo", "1"),
        ("status", "success"),
        ("invoiceId", "a"),
        ("reference", "b"),
    ]);
    let why = malformed(&conflicting);
    assert!(matches!(why, MalformedIpn::ConflictingFields { .. }));
    assert!(!why.to_string().contains("\"a\""), "{why}");
    let agreeing = signed(&[
        ("transactionNo", "1"),
        ("status", "success"),
        ("invoiceId", "a"),
        ("reference", "a"),
    ]);
    assert!(construct_event(agreeing.as_bytes(), TOKEN).is_ok());
}

#[test]
fn forged_repeated_and_unsigned_ipns_are_refused_with_their_code() {
    let body = signed(&GENUINE);
    let codes =
        |body: &str, token: &str| construct_event(body.as_bytes(), token).unwrap_err().code();
    assert_eq!(codes(&body, "other-token"), "IPN_SIGNATURE_MISMATCH");
    assert_eq!(codes(&body, " "), "IPN_EMPTY_TOKEN");
    assert_eq!(
        codes(&body.replace("20.00", "2000.00"), TOKEN),
        "IPN_SIGNATURE_MISMATCH"
    );
    let unsigned = form_encode(&GENUINE);
    assert_eq!(codes(&unsigned, TOKEN), "IPN_MISSING_SIGNATURE");
    let twice = format!("{body}&verifySign=00");
    assert_eq!(codes(&twice, TOKEN), "IPN_REPEATED_SIGNATURE");
    assert_eq!(codes("status=%FF", TOKEN), "IPN_MALFORMED_BODY");
    assert_eq!(codes("", TOKEN), "IPN_MISSING_SIGNATURE");
}

#[test]
fn parsed_fields_are_verified_the_same_way() {
    let sig = pockyt_payouts::sign(GENUINE, TOKEN);
    let mut fields: Vec<(&str, &str)> = GENUINE.to_vec();
    fields.push(("verifySign", &sig));
    let event = event_from_fields(fields.clone(), TOKEN).unwrap();
    assert_eq!(event.invoice_id.as_deref(), Some("hwI8KhTcOS"));
    fields.push(("verifySign", &sig));
    assert_eq!(
        event_from_fields(fields, TOKEN).unwrap_err(),
        IpnError::RepeatedSignature
    );
}

#[test]
fn an_empty_token_is_refused_when_the_receiver_is_built() {
    assert_eq!(Webhook::new("").unwrap_err(), IpnError::EmptyToken);
    assert_eq!(Webhook::new(" \t").unwrap_err().code(), "IPN_EMPTY_TOKEN");
    let debug = format!("{:?}", Webhook::new(TOKEN).unwrap());
    assert!(!debug.contains(TOKEN), "{debug}");
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn the_handler_runs_once_per_transaction_and_status() {
    block_on(async {
        let webhook = Webhook::new(TOKEN).unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let run = |runs: Arc<AtomicUsize>| {
            move |_event| async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(())
            }
        };
        let success = signed(&GENUINE);
        let pending_fields: Vec<(&str, &str)> = GENUINE
            .iter()
            .map(|&(k, v)| {
                if k == "status" {
                    (k, "pending")
                } else {
                    (k, v)
                }
            })
            .collect();
        let pending = signed(&pending_fields);
        for body in [&success, &success, &pending, &success, &pending] {
            let outcome = webhook
                .handle(body.as_bytes(), run(Arc::clone(&runs)))
                .await;
            assert!(outcome.is_success(), "{outcome}");
            assert_eq!(outcome.reply().body, "success");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn a_failed_handler_is_released_for_the_resend() {
    block_on(async {
        let webhook = Webhook::new(TOKEN).unwrap();
        let body = signed(&GENUINE);
        let failed = webhook
            .handle(body.as_bytes(), |_| async { Err("database down") })
            .await;
        assert_eq!(failed, Outcome::HandlerFailed);
        assert_eq!(failed.reply().status, 500);
        let retried = webhook
            .handle(body.as_bytes(), |_| async { Ok::<_, String>(()) })
            .await;
        assert_eq!(retried, Outcome::Handled);
    });
}

#[test]
fn a_delivery_arriving_while_another_runs_is_not_run() {
    block_on(async {
        let store = Arc::new(MemoryEventStore::new());
        let webhook = Webhook::new(TOKEN)
            .unwrap()
            .with_shared_store(Arc::clone(&store) as Arc<dyn EventStore>);
        let body = signed(&GENUINE);
        let event = construct_event(body.as_bytes(), TOKEN).unwrap();
        assert_eq!(store.claim(&dedup_key(&event)).await.unwrap(), Claim::New);
        let outcome = webhook
            .handle(body.as_bytes(), |_| async { Ok::<_, String>(()) })
            .await;
        assert_eq!(outcome, Outcome::InProgress);
        assert_eq!(outcome.reply().status, 409);
    });
}

#[test]
fn refusals_answer_without_echoing_the_ipn() {
    block_on(async {
        let webhook = Webhook::new(TOKEN).unwrap();
        let body = signed(&GENUINE).replace("hwI8KhTcOS", "forged%3Cscript%3E");
        let outcome = webhook
            .handle(body.as_bytes(), |_| async { Ok::<_, String>(()) })
            .await;
        let reply = outcome.reply();
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (400, "refused: IPN_SIGNATURE_MISMATCH")
        );
    });
}

#[cfg(feature = "sqlite")]
#[test]
fn the_sqlite_store_is_shared_by_every_handle_on_the_file() {
    use pockyt_payouts::webhook::SqliteEventStore;
    let dir = std::env::temp_dir().join(format!("pockyt-sqlite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.sqlite3");
    let first = SqliteEventStore::open(&path).unwrap();
    let second = SqliteEventStore::open(&path).unwrap();
    assert_eq!(first.claim_now("k:success").unwrap(), Claim::New);
    assert_eq!(second.claim_now("k:success").unwrap(), Claim::InProgress);
    second.release_now("k:success").unwrap();
    assert_eq!(second.claim_now("k:success").unwrap(), Claim::New);
    second.complete_now("k:success").unwrap();
    drop((first, second));
    let reopened = SqliteEventStore::open(&path).unwrap();
    assert_eq!(reopened.claim_now("k:success").unwrap(), Claim::Done);
    std::fs::remove_dir_all(dir).unwrap();
}
