//! `setup`: the payees, bank account and payout every run uses, registered
//! once through the SDK; prints them as one JSON line.

use pockyt_payouts::types::{AddBankAccountParams, PayParams, RegisterPayeeParams};
use pockyt_payouts::{BankAccountPurpose, ProfileType};
use serde_json::json;

use crate::driver::sdk_client;
use crate::ops::{CURRENCY, DATE_OF_BIRTH, PAY_AMOUNT};

/// Registers the bench payee, adds its bank account, pays it once
/// (invoiceId `<BENCH_PREFIX>-setup`), registers a second payee that
/// `add_bank_account` adds its accounts to (so that the first one's list
/// of accounts stays one long, whatever ran before), and prints
/// `{"customer_no", "account_token", "invoice_id", "accounts_customer_no"}`.
pub async fn run() -> Result<bool, String> {
    let client = sdk_client()?;
    let text = |e: pockyt_payouts::Error| e.to_string();
    let register = |last_name: &str| {
        client.register_payee(
            RegisterPayeeParams::builder()
                .profile_type(ProfileType::Individual)
                .date_of_birth(DATE_OF_BIRTH)
                .first_name(Some("Bench".to_string()))
                .last_name(Some(last_name.to_string())),
        )
    };
    let payee = register("Payee").await.map_err(text)?;
    let account = client
        .add_bank_account(
            AddBankAccountParams::builder()
                .customer_no(payee.customer_no.clone())
                .bank_account_id("7861053298")
                .branch_id("101089292")
                .bank_account_purpose(BankAccountPurpose::Checking),
        )
        .await
        .map_err(text)?;
    let invoice_id = format!("{}-setup", crate::env("BENCH_PREFIX")?);
    client
        .pay(
            PayParams::builder()
                .customer_no(payee.customer_no.clone())
                .account_token(account.account_token.clone())
                .amount(PAY_AMOUNT)
                .currency(CURRENCY)
                .invoice_id(invoice_id.clone()),
        )
        .await
        .map_err(text)?;
    let accounts_payee = register("Accounts").await.map_err(text)?;
    let line = json!({
        "customer_no": payee.customer_no,
        "accounts_customer_no": accounts_payee.customer_no,
        "account_token": account.account_token,
        "invoice_id": invoice_id,
    });
    println!("{line}");
    Ok(true)
}
