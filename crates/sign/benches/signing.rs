//! Signing and IPN verification throughput: `cargo xtask bench`.

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use pockyt_payouts_sign::{sign, verify_urlencoded, Signer};

fn benches(c: &mut Criterion) {
    let pay = br#"{"accountToken":"2010305228303182765718","amount":"500","currency":"USD","customerNo":"2000305228292319592008","description":"thank you","invoiceId":"9aae4c685d824c5da746f97620c59eb5","ipnUrl":"https://example.com/webhooks","note":"Payouts, Thanks","subject":"Payouts"}"#;
    let signer = Signer::new("202333", "301854", "token");
    let at = UNIX_EPOCH + Duration::from_secs(1_676_285_458);
    c.bench_function("sign_json_body(pay)", |b| {
        b.iter(|| signer.sign_json_body(black_box(pay), at).unwrap())
    });

    let fields = [
        ("amount", "500.00"),
        ("currency", "USD"),
        ("customerNo", "2000305228292319592008"),
        ("merchantNo", "202333"),
        ("reference", "9aae4c685d824c5da746f97620c59eb5"),
        ("settleCurrency", "USD"),
        ("status", "success"),
        ("storeNo", "301854"),
        ("time", "20230213120000"),
        ("transactionNo", "305588797074336092"),
    ];
    c.bench_function("sign(10 fields)", |b| {
        b.iter(|| sign(black_box(fields), "token"))
    });

    let sig = sign(fields, "token");
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        body.append_pair(k, v);
    }
    body.append_pair("verifySign", &sig);
    let body = body.finish();
    c.bench_function("verify_urlencoded(ipn)", |b| {
        b.iter(|| assert!(verify_urlencoded(black_box(body.as_bytes()), "token")))
    });
}

criterion_group!(signing, benches);
criterion_main!(signing);
