//! Signing the real `PayParams` into the body sent on the wire, the old way
//! (the builder writes JSON, the hook parses, signs and writes it again)
//! and the way the client sends it now (`Signer::signed_body`):
//! `cargo bench -p pockyt-payouts-core --bench signed_body`.

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use pockyt_payouts_core::sign::Signer;
use pockyt_payouts_core::types::PayParams;

fn benches(c: &mut Criterion) {
    let pay = PayParams {
        account_token: "2010305228303182765718".into(),
        amount: "500".into(),
        currency: "USD".into(),
        customer_no: "2000305228292319592008".into(),
        description: Some("thank you".into()),
        invoice_id: "9aae4c685d824c5da746f97620c59eb5".into(),
        ipn_url: Some("https://example.com/webhooks".into()),
        note: Some("Payouts, Thanks".into()),
        processing_channel: None,
        subject: Some("Payouts".into()),
    };
    let signer = Signer::new("202333", "301854", "token");
    let at = UNIX_EPOCH + Duration::from_secs(1_676_285_458);
    c.bench_function("core: to_vec + sign_json_body(PayParams)", |b| {
        b.iter(|| {
            let json = serde_json::to_vec(black_box(&pay)).unwrap();
            signer.sign_json_body(&json, at).unwrap()
        })
    });
    c.bench_function("core: signed_body(PayParams)", |b| {
        b.iter(|| signer.signed_body(black_box(&pay), at).unwrap())
    });
}

criterion_group!(signing, benches);
criterion_main!(signing);
