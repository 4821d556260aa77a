//! Whole calls through the client (validate, sign, HTTP on loopback, map the
//! answer) against the in-process sandbox, and validation alone:
//! `cargo xtask bench`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use pockyt_payouts::types::{BalanceParams, PayParams};
use pockyt_payouts::validate::Validate;
use pockyt_payouts::{Client, Config, Operation};
use serde_json::json;

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt
        .block_on(pockyt_sandbox::Sandbox::start(
            pockyt_sandbox::SandboxConfig::default(),
        ))
        .unwrap();
    let sc = sandbox.config();
    let client = Client::new(
        Config::new(
            sc.merchant_no.clone(),
            sc.store_no.clone(),
            sc.api_token.as_str(),
        )
        .with_base_url(sandbox.base_url()),
    )
    .unwrap();

    c.bench_function("validate(pay params)", |b| {
        let params: PayParams = PayParams::builder()
            .customer_no("2000305228292319592008")
            .account_token("2010305228303182765718")
            .amount("500.00")
            .currency("USD")
            .invoice_id("9aae4c685d824c5da746f97620c59eb5")
            .try_into()
            .unwrap();
        b.iter(|| black_box(params.clone()).prepare().unwrap())
    });

    c.bench_function("balance round trip (typed)", |b| {
        b.iter(|| {
            rt.block_on(client.balance(BalanceParams::builder().currency("USD")))
                .unwrap()
        })
    });

    c.bench_function("balance round trip (JSON door)", |b| {
        b.iter(|| {
            rt.block_on(client.call_json(Operation::Balance, json!({"currency": "USD"})))
                .unwrap()
        })
    });

    rt.block_on(sandbox.shutdown());
}

criterion_group!(roundtrip, benches);
criterion_main!(roundtrip);
