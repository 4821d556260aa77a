"""Bad input is refused by the Rust core with InvalidRequestError naming
the (snake_case) argument, before anything is sent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import ScriptedServer

from pockyt_payouts import AsyncClient, Client, ConfigurationError, InvalidRequestError

PAY: dict[str, Any] = {
    "customer_no": "2000305228292319592008",
    "account_token": "2010305228303182765718",
    "amount": "500",
    "currency": "USD",
    "invoice_id": "inv-1",
}
BANK: dict[str, Any] = {
    "customer_no": "2000305228292319592008",
    "bank_account_id": "7861053298",
    "branch_id": "101089292",
    "bank_account_purpose": "CHECKING",
}
REGISTER: dict[str, Any] = {"profile_type": "INDIVIDUAL", "date_of_birth": "1999-01-01"}

CASES = [
    ("pay", {**PAY, "amount": "-5"}, "amount"),
    ("pay", {**PAY, "amount": "1e3"}, "amount"),
    ("pay", {**PAY, "amount": "5.001"}, "amount"),
    ("pay", {**PAY, "amount": "0.00"}, "amount"),
    ("pay", {**PAY, "amount": 500}, "amount"),
    ("pay", {**PAY, "currency": "usd"}, "currency"),
    ("pay", {**PAY, "invoice_id": ""}, "invoice_id"),
    ("pay", {**PAY, "invoice_id": "x" * 65}, "invoice_id"),
    ("pay", {**PAY, "customer_no": "  "}, "customer_no"),
    ("pay", {**PAY, "ipn_url": "example.com/hook"}, "ipn_url"),
    ("pay", {**PAY, "processing_channel": "CARRIER_PIGEON"}, "processing_channel"),
    ("register_payee", {**REGISTER, "date_of_birth": "1999-02-29"}, "date_of_birth"),
    ("register_payee", {**REGISTER, "date_of_birth": "2999-01-01"}, "date_of_birth"),
    ("register_payee", {**REGISTER, "profile_type": "ROBOT"}, "profile_type"),
    ("register_payee", {**REGISTER, "email": "not-an-email"}, "email"),
    ("register_payee", {**REGISTER, "country_code": "USA"}, "country_code"),
    ("register_payee", {**REGISTER, "government_id_type": "LIBRARY_CARD"}, "government_id_type"),
    ("update_payee", {"customer_no": ""}, "customer_no"),
    ("update_payee", {"customer_no": "1", "email": "@"}, "email"),
    ("add_bank_account", {**BANK, "branch_id": "101089293"}, "branch_id"),
    ("add_bank_account", {**BANK, "bank_account_id": "12"}, "bank_account_id"),
    ("add_bank_account", {**BANK, "bank_account_purpose": "BROKERAGE"}, "bank_account_purpose"),
    ("add_bank_account", {**BANK, "account_type": "CARD"}, "account_type"),
    ("add_bank_account", {**BANK, "client_ip": "300.1.1.1"}, "client_ip"),
    ("add_bank_account", {**BANK, "account_currency": "dollars"}, "account_currency"),
    ("retrieve_payee", {"customer_no": ""}, "customer_no"),
    ("list_payout_accounts", {"customer_no": ""}, "customer_no"),
    ("inquire_payout", {"invoice_id": ""}, "invoice_id"),
    ("balance", {"currency": "US"}, "currency"),
]


@pytest.mark.parametrize(("method", "arguments", "field"), CASES)
def test_refused_before_sending(scripted: ScriptedServer, method: str, arguments: dict[str, Any], field: str) -> None:
    client = scripted.client()
    with pytest.raises(InvalidRequestError) as caught:
        getattr(client, method)(**arguments)
    error = caught.value
    assert error.code == "INVALID_REQUEST"
    assert error.field == field
    assert field in str(error)
    assert scripted.requests == []


@pytest.mark.parametrize(("method", "arguments", "field"), CASES[:4] + CASES[-4:])
def test_async_refused_before_sending(
    scripted: ScriptedServer, method: str, arguments: dict[str, Any], field: str
) -> None:
    client = AsyncClient(merchant_no="202333", store_no="301854", api_token="test-token", base_url=scripted.base_url)

    async def call() -> None:
        await getattr(client, method)(**arguments)

    with pytest.raises(InvalidRequestError) as caught:
        asyncio.run(call())
    assert caught.value.field == field
    assert scripted.requests == []


@pytest.mark.parametrize("option", ["timeout", "connect_timeout", "deadline"])
@pytest.mark.parametrize("value", [-1.0, 0, "5", float("nan"), 10_000])
def test_bad_call_settings_are_configuration_errors_before_sending(
    scripted: ScriptedServer, option: str, value: object
) -> None:
    # One code for every setting, per client or per call, named as the
    # argument is (the rule lives once, in the Rust core).
    client = scripted.client()
    with pytest.raises(ConfigurationError) as caught:
        settings: dict[str, Any] = {option: value}
        client.balance(currency="USD", **settings)
    assert caught.value.code == "INVALID_CONFIG" and caught.value.field == option
    assert scripted.requests == []


def test_messages_never_repeat_sensitive_values(scripted: ScriptedServer) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        scripted.client().add_bank_account(**{**BANK, "bank_account_id": "123456789012345678"})
    assert "123456789012345678" not in str(caught.value)


def test_valid_input_is_sent_signed_with_wire_names(scripted: ScriptedServer) -> None:
    scripted.answer = {"ret_code": "000100", "ret_msg": "ok", "result": {"invoiceId": "inv-1", "status": "pending"}}
    payout = scripted.client().pay(**PAY, ipn_url="https://example.com/ipn", processing_channel="REAL_TIME_PAY")
    assert payout.status == "pending"
    [request] = scripted.requests
    assert request["path"] == "/v3/payouts/pay"
    body = request["body"]
    assert body["customerNo"] == PAY["customer_no"] and body["invoiceId"] == "inv-1"
    assert body["ipnUrl"] == "https://example.com/ipn" and body["processingChannel"] == "REAL_TIME_PAY"
    assert {"merchantNo", "storeNo", "timestamp", "verifySign"} <= set(body)
    assert "scripted-token" not in str(body)
    # Arguments left None are not sent at all.
    assert "note" not in body and "description" not in body


def test_defaults_are_filled_in_rust(scripted: ScriptedServer) -> None:
    scripted.answer = {"ret_code": "000100", "result": {"accountToken": "t"}}
    scripted.client().add_bank_account(**BANK)
    body = scripted.requests[0]["body"]
    assert (body["accountType"], body["accountCountry"], body["accountCurrency"]) == ("BANK_ACCOUNT", "US", "USD")


def test_keyword_only_arguments(scripted: ScriptedServer) -> None:
    client: Any = scripted.client()
    with pytest.raises(TypeError):
        client.balance("USD")
    with pytest.raises(TypeError):
        client.pay(**PAY, not_a_parameter="x")
    with pytest.raises(TypeError):
        Client("202333", "301854", "t")  # type: ignore[call-arg]
    assert scripted.requests == []
