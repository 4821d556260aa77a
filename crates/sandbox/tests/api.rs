//! Each operation's happy path, answers shaped like the API page's
//! examples, both body formats, and repeated invoiceIds.

mod common;

use common::{example, invoice, keys, start, Api, TOKEN};
use serde_json::Value;

fn is_digits(value: &Value, len: usize) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
}

fn is_utc_time(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| pockyt_payouts_sign::parse_timestamp(s).is_some())
}

/// The register request of the API page, as `(name, value)` pairs without
/// the envelope.
fn page_register_params() -> Vec<(String, String)> {
    let request = example("register_payee.request.json");
    request
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !pockyt_payouts_sign::ENVELOPE_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .map(|(k, v)| {
            if k == "email" {
                (k, "john.doe@example.com".to_owned())
            } else {
                (k, v)
            }
        })
        .collect()
}

fn pairs(owned: &[(String, String)]) -> Vec<(&str, &str)> {
    owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[tokio::test]
async fn register_answers_the_customer_like_the_api_page() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let params = page_register_params();
    let answer = api.ok("/v3/payee/register", &pairs(&params)).await;
    let page = example("register_payee.response.json");
    assert_eq!(keys(&answer), keys(&page));
    assert_eq!(keys(&answer["customer"]), keys(&page["customer"]));
    let customer = &answer["customer"];
    assert!(is_digits(&customer["customerNo"], 22), "{customer}");
    assert!(is_utc_time(&customer["createdTime"]));
    assert_eq!(customer["firstName"], "John");
    assert_eq!(customer["customerCode"], "1665425422");
    assert_eq!(customer["email"], "john.doe@example.com");
    assert_eq!(answer["ret_msg"], "success");
}

#[tokio::test]
async fn register_leaves_out_what_the_payee_never_gave() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let answer = api
        .ok(
            "/v3/payee/register",
            &[
                ("profileType", "BUSINESS"),
                ("dateOfBirth", "1980-05-06"),
                ("email", ""),
            ],
        )
        .await;
    let expected: std::collections::BTreeSet<String> = ["createdTime", "customerNo"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(keys(&answer["customer"]), expected);
    let customer_no = answer["customer"]["customerNo"].as_str().unwrap();
    let retrieved = api
        .ok("/v3/payee/retrieve", &[("customerNo", customer_no)])
        .await;
    assert!(retrieved["customer"].get("email").is_none());
    assert!(!retrieved.to_string().contains("null"), "{retrieved}");
}

#[tokio::test]
async fn retrieve_answers_every_profile_field_like_the_api_page() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let mut params = page_register_params();
    params.push(("lang".into(), "en".into()));
    let registered = api.ok("/v3/payee/register", &pairs(&params)).await;
    let customer_no = registered["customer"]["customerNo"].as_str().unwrap();
    let answer = api
        .ok("/v3/payee/retrieve", &[("customerNo", customer_no)])
        .await;
    let page = example("retrieve_payee.response.json");
    assert_eq!(keys(&answer), keys(&page));
    // The page's request sends street2 as "": not given, so not answered,
    // exactly as the page's answer shows.
    assert_eq!(keys(&answer["customer"]), keys(&page["customer"]));
    let customer = &answer["customer"];
    assert_eq!(customer["customerNo"], customer_no);
    assert_eq!(customer["payeeStatus"], "Activated");
    assert_eq!(customer["profileType"], "INDIVIDUAL");
    assert_eq!(customer["dateOfBirth"], "1999-01-01");
    assert_eq!(customer["zip"], "10005");
    assert!(is_utc_time(&customer["updatedTime"]));
    assert_eq!(answer["ret_msg"], "query success");
}

#[tokio::test]
async fn update_changes_given_fields_and_answers_like_the_api_page() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let customer_no = api.register().await;
    let answer = api
        .ok(
            "/v3/payee/update",
            &[
                ("customerNo", &customer_no),
                ("zip", "10006"),
                ("phone", "123456789"),
                ("lastName", ""),
                ("profileType", "business"),
            ],
        )
        .await;
    let page = example("update_payee.response.json");
    assert_eq!(keys(&answer), keys(&page));
    assert_eq!(answer["ret_msg"], "update success");
    let customer = api
        .ok("/v3/payee/retrieve", &[("customerNo", &customer_no)])
        .await["customer"]
        .clone();
    assert_eq!(customer["zip"], "10006");
    assert_eq!(customer["phone"], "123456789");
    // An empty string is "not given": the stored value stays.
    assert_eq!(customer["lastName"], "Doe");
    // Enumerations are stored in their documented spelling.
    assert_eq!(customer["profileType"], "BUSINESS");
}

#[tokio::test]
async fn add_bank_account_answers_the_result_like_the_api_page() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let customer_no = api.register().await;
    let request = example("add_bank_account.request.json");
    let mut params: Vec<(String, String)> = request
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !pockyt_payouts_sign::ENVELOPE_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    for (k, v) in &mut params {
        if k == "customerNo" {
            *v = customer_no.clone();
        }
    }
    let answer = api
        .ok("/v3/payee/account/create/bank-account", &pairs(&params))
        .await;
    let page = example("add_bank_account.response.json");
    assert_eq!(keys(&answer), keys(&page));
    assert_eq!(keys(&answer["result"]), keys(&page["result"]));
    let result = &answer["result"];
    assert!(is_digits(&result["accountToken"], 22), "{result}");
    assert_eq!(result["accountStatus"], "ACTIVATED");
    assert_eq!(result["accountTag"], "1a52692711");
    assert_eq!(result["customerNo"], customer_no.as_str());
    assert_eq!(result["firstName"], "John");
    assert!(is_utc_time(&result["timestamp"]));
}

#[tokio::test]
async fn add_bank_account_fills_the_documented_defaults() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let customer_no = api.register().await;
    let answer = api
        .ok(
            "/v3/payee/account/create/bank-account",
            &[
                ("customerNo", &customer_no),
                ("bankAccountId", "000123456789"),
                ("branchId", "021000021"),
                ("bankAccountPurpose", "SAVINGS"),
            ],
        )
        .await;
    let result = &answer["result"];
    assert_eq!(result["accountType"], "BANK_ACCOUNT");
    assert_eq!(result["country"], "US");
    assert_eq!(result["currency"], "USD");
    assert!(result.get("accountTag").is_none());
}

#[tokio::test]
async fn payout_accounts_lists_masked_accounts_like_the_api_page() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let customer_no = api.register().await;
    let first = api.add_bank(&customer_no).await;
    let second = api
        .ok(
            "/v3/payee/account/create/bank-account",
            &[
                ("customerNo", &customer_no),
                ("bankAccountId", "5551234"),
                ("branchId", "021000021"),
                ("bankAccountPurpose", "SAVINGS"),
                ("accountTag", "1a52692711"),
            ],
        )
        .await["result"]["accountToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_payee = api.register().await;
    api.add_bank(&other_payee).await;

    let answer = api
        .ok("/v3/payee/payout-accounts", &[("customerNo", &customer_no)])
        .await;
    let page = example("list_payout_accounts.response.json");
    assert_eq!(keys(&answer), keys(&page));
    assert_eq!(keys(&answer["user"]), keys(&page["user"]));
    let accounts = answer["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{answer}");
    assert_eq!(accounts[0]["accountToken"], first.as_str());
    assert_eq!(accounts[0]["cardNumber"], "****3298");
    assert!(accounts[0].get("accountTag").is_none());
    assert_eq!(accounts[1]["accountToken"], second.as_str());
    assert_eq!(accounts[1]["cardNumber"], "****1234");
    // The tagged account has every field of the page's.
    assert_eq!(keys(&accounts[1]), keys(&page["accounts"][0]));
    assert_eq!(accounts[1]["status"], "activated");
    assert!(is_utc_time(&accounts[1]["createdAt"]));
    assert_eq!(answer["user"]["customerNo"], customer_no.as_str());
    assert_eq!(answer["user"]["customerCode"], "1665425422");
}

#[tokio::test]
async fn payout_accounts_keeps_its_order_after_a_delete_and_lists_no_other_payees() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let customer_no = api.register().await;
    let other_payee = api.register().await;
    let first = api.add_bank(&customer_no).await;
    api.add_bank(&other_payee).await;
    let second = api.add_bank(&customer_no).await;
    let third = api.add_bank(&customer_no).await;
    api.ok(
        "/v3/payee/account/delete",
        &[("customerNo", &customer_no), ("accountToken", &second)],
    )
    .await;

    let answer = api
        .ok("/v3/payee/payout-accounts", &[("customerNo", &customer_no)])
        .await;
    let tokens: Vec<&str> = answer["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountToken"].as_str().unwrap())
        .collect();
    assert_eq!(tokens, [first.as_str(), third.as_str()], "{answer}");
}

#[tokio::test]
async fn pay_answers_a_pending_payout_like_the_api_page_and_debits() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pay-");
    let answer = api
        .ok(
            "/v3/payouts/pay",
            &[
                ("accountToken", &token),
                ("amount", "500"),
                ("currency", "USD"),
                ("customerNo", &customer_no),
                ("description", "thank you"),
                ("invoiceId", &invoice_id),
                ("note", "Payouts, Thanks"),
                ("subject", "Payouts"),
            ],
        )
        .await;
    let page = example("pay.response.json");
    assert_eq!(keys(&answer), keys(&page));
    assert_eq!(keys(&answer["result"]), keys(&page["result"]));
    let result = &answer["result"];
    assert_eq!(result["amount"], "500.00");
    assert_eq!(result["status"], "pending");
    assert_eq!(result["invoiceId"], invoice_id.as_str());
    assert_eq!(result["currency"], "USD");
    assert_eq!(result["accountToken"], token.as_str());
    assert_eq!(result["customerNo"], customer_no.as_str());
    assert!(is_digits(&result["transactionNo"], 18), "{result}");
    assert!(is_utc_time(&result["createdTime"]));
    assert_eq!(answer["ret_msg"], "succeeded");
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999500.00"));
    let records = sandbox.payouts();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].invoice_id, invoice_id);
    assert_eq!(records[0].amount, "500.00");
    assert_eq!(
        records[0].transaction_no,
        result["transactionNo"].as_str().unwrap()
    );
}

#[tokio::test]
async fn inquiry_answers_the_payout_like_the_example() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("inq-");
    let paid = api.pay(&customer_no, &token, "12.5", &invoice_id).await;
    let answer = api.inquire(&invoice_id).await;
    assert_eq!(answer["ret_code"], "000100", "{answer}");
    let page = example("inquire_payout.response.json");
    assert_eq!(keys(&answer), keys(&page));
    assert_eq!(keys(&answer["result"]), keys(&page["result"]));
    assert_eq!(
        answer["result"]["transactionNo"],
        paid["result"]["transactionNo"]
    );
    assert_eq!(answer["result"]["amount"], "12.50");
}

#[tokio::test]
async fn balance_answers_like_the_example() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let answer = api.ok("/v3/payouts/balance", &[("currency", "USD")]).await;
    let page = example("balance.response.json");
    assert_eq!(keys(&answer), keys(&page));
    assert_eq!(keys(&answer["balance"]), keys(&page["balance"]));
    assert_eq!(answer["balance"]["amount"], "1000000.00");
    assert_eq!(answer["balance"]["currency"], "USD");
}

#[tokio::test]
async fn identifiers_are_unique() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let mut customers = std::collections::HashSet::new();
    let mut tokens = std::collections::HashSet::new();
    let mut transactions = std::collections::HashSet::new();
    for _ in 0..10 {
        let (customer_no, token) = api.payee().await;
        let answer = api.pay(&customer_no, &token, "1", &invoice("uniq-")).await;
        assert!(customers.insert(customer_no));
        assert!(tokens.insert(token));
        assert!(transactions.insert(
            answer["result"]["transactionNo"]
                .as_str()
                .unwrap()
                .to_owned()
        ));
    }
}

#[tokio::test]
async fn urlencoded_bodies_are_accepted() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let signed = api.signed(&[
        ("profileType", "INDIVIDUAL"),
        ("dateOfBirth", "1999-01-01"),
        ("firstName", "Zoë & Co"),
        ("street", "1 Main St, Apt #2"),
    ]);
    let body = form(&signed);
    let response = api
        .post_raw(
            "/v3/payee/register",
            "application/x-www-form-urlencoded",
            body,
        )
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["ret_code"], "000100", "{answer}");
    assert_eq!(answer["customer"]["firstName"], "Zoë & Co");
}

fn form(signed: &Value) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in signed.as_object().unwrap() {
        serializer.append_pair(k, v.as_str().unwrap());
    }
    serializer.finish()
}

/// The provider's Python SDK posts a form body, sends no timestamp on pay,
/// and signs every field it sends, empty strings included.
#[tokio::test]
async fn a_pay_signed_like_the_providers_python_sdk_is_accepted() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("py-");
    let fields = [
        ("merchantNo", "202333"),
        ("storeNo", "301854"),
        ("customerNo", customer_no.as_str()),
        ("accountToken", token.as_str()),
        ("amount", "25.00"),
        ("currency", "USD"),
        ("invoiceId", invoice_id.as_str()),
        ("description", ""),
        ("note", ""),
    ];
    let signature = pockyt_payouts_sign::sign(fields, TOKEN);
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    serializer.extend_pairs(fields);
    serializer.append_pair("verifySign", &signature);
    let response = api
        .post_raw(
            "/v3/payouts/pay",
            "application/x-www-form-urlencoded",
            serializer.finish(),
        )
        .await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["ret_code"], "000100", "{answer}");
    assert_eq!(answer["result"]["amount"], "25.00");

    // The empty fields are signed: leaving them out of the signature fails.
    let unsigned_empty = pockyt_payouts_sign::sign(fields[..7].iter().copied(), TOKEN);
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    serializer.extend_pairs(fields);
    serializer.append_pair("verifySign", &unsigned_empty);
    let response = api
        .post_raw(
            "/v3/payouts/pay",
            "application/x-www-form-urlencoded",
            serializer.finish(),
        )
        .await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["ret_code"], "000030", "{answer}");
}

#[tokio::test]
async fn unknown_extra_fields_are_ignored() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let answer = api
        .call(
            "/v3/payouts/balance",
            &[("currency", "USD"), ("subject", "x"), ("somethingNew", "y")],
        )
        .await;
    assert_eq!(answer["ret_code"], "000100", "{answer}");
}

#[tokio::test]
async fn a_repeated_invoice_id_answers_the_existing_payout() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("pending-repeat-");
    let first = api.pay(&customer_no, &token, "500", &invoice_id).await;
    let again = api.pay(&customer_no, &token, "500.00", &invoice_id).await;
    assert_eq!(again["ret_code"], "000100", "{again}");
    assert_eq!(again["result"], first["result"]);
    assert_eq!(sandbox.payouts().len(), 1);
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999500.00"));

    let different = api.pay(&customer_no, &token, "501", &invoice_id).await;
    assert_eq!(different["ret_code"], "000022", "{different}");
    assert!(different["ret_msg"].as_str().unwrap().contains("invoiceId"));
    assert!(different["ret_msg"]
        .as_str()
        .unwrap()
        .contains("already used"));
    assert!(different.get("result").is_none());
    assert_eq!(sandbox.payouts().len(), 1);
    assert_eq!(sandbox.balance("USD").as_deref(), Some("999500.00"));
}

#[tokio::test]
async fn a_repeat_of_a_settled_payout_answers_its_final_status_even_with_no_balance_left() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let invoice_id = invoice("repeat-final-");
    assert_eq!(
        api.pay(&customer_no, &token, "1000000", &invoice_id).await["ret_code"],
        "000100"
    );
    common::eventually("the payout succeeds", 20, || async {
        api.status_of(&invoice_id).await == "success"
    })
    .await;
    // Not byte-identical (an identical repeat without a key within 10
    // minutes is a "Duplicate request"), but the same payout by value.
    let again = api
        .pay(&customer_no, &token, "1000000.00", &invoice_id)
        .await;
    assert_eq!(again["ret_code"], "000100", "{again}");
    assert_eq!(again["result"]["status"], "success");
    assert_eq!(sandbox.balance("USD").as_deref(), Some("0.00"));
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let response = api.post_json("/v3/payouts/nothing", &api.signed(&[])).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ret_code"], "000000");

    let response = api
        .http
        .get(format!("{}/v3/payouts/pay", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ret_code"], "000000");
}
