//! `POST /v3/payee/account/delete`: the account is no longer listed and
//! cannot be paid; unknown and foreign accounts are refused.

mod common;

use common::{invoice, key, start, Api};
use serde_json::Value;

const DELETE: &str = "/v3/payee/account/delete";

async fn listed_tokens(api: &Api, customer_no: &str) -> Vec<String> {
    let answer = api
        .ok("/v3/payee/payout-accounts", &[("customerNo", customer_no)])
        .await;
    answer["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountToken"].as_str().unwrap().to_owned())
        .collect()
}

async fn delete(api: &Api, customer_no: &str, token: &str) -> Value {
    api.call(
        DELETE,
        &[("customerNo", customer_no), ("accountToken", token)],
    )
    .await
}

#[tokio::test]
async fn a_deleted_account_is_no_longer_listed_nor_payable() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, first) = api.payee().await;
    let second = api.add_bank(&customer_no).await;
    let third = api.add_bank(&customer_no).await;
    let paid_before = invoice("pending-before-delete-");
    assert_eq!(
        api.pay(&customer_no, &second, "10", &paid_before).await["ret_code"],
        "000100"
    );

    let answer = delete(&api, &customer_no, &second).await;
    assert_eq!(
        answer,
        serde_json::json!({ "ret_code": "000100", "ret_msg": "success" })
    );
    assert_eq!(
        listed_tokens(&api, &customer_no).await,
        vec![first.clone(), third.clone()],
        "the others stay, in order"
    );
    let refused = api
        .pay(
            &customer_no,
            &second,
            "10",
            &invoice("pending-after-delete-"),
        )
        .await;
    assert_eq!(refused["ret_code"], "000021", "{refused}");
    assert!(refused["ret_msg"]
        .as_str()
        .unwrap()
        .contains("accountToken"));
    // The payout made before stays, and the other accounts still work.
    assert_eq!(api.inquire(&paid_before).await["ret_code"], "000100");
    assert_eq!(
        api.pay(&customer_no, &third, "10", &invoice("pending-third-"))
            .await["ret_code"],
        "000100"
    );
    assert_eq!(sandbox.payouts().len(), 2);
    let (_, state) = api.admin_get("/_sandbox/state").await;
    assert_eq!(state["accounts"].as_array().unwrap().len(), 2);

    let twice = delete(&api, &customer_no, &second).await;
    assert_eq!(twice["ret_code"], "000021", "{twice}");
}

#[tokio::test]
async fn unknown_and_foreign_accounts_are_refused() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let (other_customer, other_token) = api.payee().await;

    let unknown_payee = delete(&api, "2000999999999999999999", &token).await;
    assert_eq!(unknown_payee["ret_code"], "000021", "{unknown_payee}");
    assert!(unknown_payee["ret_msg"]
        .as_str()
        .unwrap()
        .contains("customerNo"));
    let unknown_account = delete(&api, &customer_no, "2010999999999999999999").await;
    assert_eq!(unknown_account["ret_code"], "000021", "{unknown_account}");
    let foreign = delete(&api, &customer_no, &other_token).await;
    assert_eq!(foreign["ret_code"], "000022", "{foreign}");
    let missing = api.call(DELETE, &[("customerNo", &customer_no)]).await;
    assert_eq!(missing["ret_code"], "000020", "{missing}");

    assert_eq!(listed_tokens(&api, &customer_no).await, vec![token]);
    assert_eq!(
        listed_tokens(&api, &other_customer).await,
        vec![other_token]
    );
}

#[tokio::test]
async fn a_repeated_delete_with_its_key_is_replayed() {
    let sandbox = start().await;
    let api = Api::new(&sandbox);
    let (customer_no, token) = api.payee().await;
    let request_id = key("delete");
    let params = [
        ("customerNo", customer_no.as_str()),
        ("accountToken", token.as_str()),
    ];
    let first = api.call_keyed(DELETE, &params, &request_id).await;
    assert_eq!(first["ret_code"], "000100", "{first}");
    let again = api.call_keyed(DELETE, &params, &request_id).await;
    assert_eq!(again, first);
    let without_key = api.call(DELETE, &params).await;
    assert_eq!(without_key["ret_code"], "000021", "{without_key}");
    assert!(listed_tokens(&api, &customer_no).await.is_empty());
}
