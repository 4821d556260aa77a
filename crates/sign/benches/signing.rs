//! Signing and IPN verification throughput: `cargo xtask bench`.

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use pockyt_payouts_sign::{
    format_timestamp, sign, verify_ipn_body_with_digest, verify_urlencoded, Signer, TokenDigest,
};

/// The fields of `pockyt_payouts_core::types::PayParams`, as it serializes
/// them (the core crate benches the real type: `cargo bench -p
/// pockyt-payouts-core --bench signed_body`).
#[derive(serde::Serialize, serde::Deserialize)]
struct PayParams {
    #[serde(rename = "accountToken")]
    account_token: String,
    amount: String,
    currency: String,
    #[serde(rename = "customerNo")]
    customer_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(rename = "invoiceId")]
    invoice_id: String,
    #[serde(rename = "ipnUrl", skip_serializing_if = "Option::is_none")]
    ipn_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(rename = "processingChannel", skip_serializing_if = "Option::is_none")]
    processing_channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
}

fn benches(c: &mut Criterion) {
    // The floor: MD5 alone over texts as long as the signed texts of the
    // pay below (326 bytes) and of the IPN (255 bytes).
    for len in [326usize, 255] {
        let text = vec![b'a'; len];
        c.bench_function(&format!("md5({len} bytes)"), |b| {
            b.iter(|| <md5::Md5 as md5::Digest>::digest(black_box(&text)))
        });
    }
    let pay = br#"{"accountToken":"2010305228303182765718","amount":"500","currency":"USD","customerNo":"2000305228292319592008","description":"thank you","invoiceId":"9aae4c685d824c5da746f97620c59eb5","ipnUrl":"https://example.com/webhooks","note":"Payouts, Thanks","subject":"Payouts"}"#;
    let signer = Signer::new("202333", "301854", "token");
    let at = UNIX_EPOCH + Duration::from_secs(1_676_285_458);
    c.bench_function("sign_json_body(pay)", |b| {
        b.iter(|| signer.sign_json_body(black_box(pay), at).unwrap())
    });
    let typed: PayParams = serde_json::from_slice(pay).unwrap();
    c.bench_function("signed_body(pay)", |b| {
        b.iter(|| signer.signed_body(black_box(&typed), at).unwrap())
    });
    c.bench_function("format_timestamp", |b| {
        b.iter(|| format_timestamp(black_box(at)))
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
    let digest = TokenDigest::from_token("token");
    c.bench_function("verify_ipn_body_with_digest(ipn)", |b| {
        b.iter(|| verify_ipn_body_with_digest(black_box(body.as_bytes()), &digest).unwrap())
    });
}

criterion_group!(signing, benches);
criterion_main!(signing);
