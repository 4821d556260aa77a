"""What the Rust core decides once and every language inherits: the same
error attributes on every error, the same settings and ranges, the core's
events on ``logging``."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import pytest
from conftest import ScriptedServer

import pockyt_payouts
from pockyt_payouts import Client, ConfigurationError, NetworkError, PockytError
from pockyt_payouts.testing import Sandbox

ATTRIBUTES = (
    "code",
    "message",
    "ret_code",
    "ret_msg",
    "operation",
    "field",
    "may_have_been_received",
    "status",
    "timeout",
    "invoice_id",
    "body",
)


def test_every_error_carries_every_attribute(sandbox: Sandbox) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Client(merchant_no="1", store_no="2", api_token="test-token", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(NetworkError) as caught:
        client.balance(currency="USD")
    error = caught.value
    for name in ATTRIBUTES:
        assert hasattr(error, name), name
    assert error.operation == "balance" and error.may_have_been_received is False
    with pytest.raises(pockyt_payouts.NoRelatedInformationError) as refused:
        sandbox.client().retrieve_payee(customer_no="0")
    assert (refused.value.operation, refused.value.ret_code) == ("retrieve_payee", "000021")
    assert refused.value.may_have_been_received is True


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"max_retries": 11}, "max_retries"),
        ({"max_retries": -1}, "max_retries"),
        ({"timeout": "5"}, "timeout"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"deadline": 601}, "deadline"),
        ({"max_response_bytes": 10}, "max_response_bytes"),
        ({"max_connections": 0}, "max_connections"),
        ({"max_connections": 10_001}, "max_connections"),
        ({"api_token": "short"}, "api_token"),
    ],
)
def test_one_range_and_one_code_for_every_setting(settings: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"merchant_no": "202333", "store_no": "301854", "api_token": "test-token"}
    arguments.update(settings)
    with pytest.raises(ConfigurationError) as caught:
        Client(**arguments)
    assert caught.value.code == "INVALID_CONFIG" and caught.value.field == field


def test_list_results_are_lists_even_when_the_api_leaves_them_out(scripted: ScriptedServer) -> None:
    scripted.answer = {"ret_code": "000100", "ret_msg": "success"}
    accounts = scripted.client().list_payout_accounts(customer_no="1")
    assert accounts.accounts == [] and accounts.to_dict()["accounts"] == []


def test_core_events_reach_logging_without_secrets(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pockyt_payouts")
    # The native layer reads the logger's level at most once a second.
    time.sleep(1.1)
    client = sandbox.client()
    client.balance(currency="USD")
    client.balance(currency="USD")
    records = [r for r in caplog.records if r.name == "pockyt_payouts"]
    messages = [r.getMessage() for r in records]
    assert any(m.startswith("sending") and "operation=balance" in m for m in messages), messages
    assert any(m.startswith("answered") for m in messages), messages
    for message in messages:
        assert sandbox.api_token not in message


def test_pockyt_error_is_the_base_of_every_class() -> None:
    for name in pockyt_payouts.__all__:
        value = getattr(pockyt_payouts, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, PockytError), name


def test_state_changing_calls_take_an_idempotency_key(sandbox: Sandbox) -> None:
    client = sandbox.client()
    first = client.register_payee(
        profile_type="INDIVIDUAL", date_of_birth="1990-05-17", customer_code="idem-1", idempotency_key="payee-idem-1"
    )
    # The same key and parameters: the first answer again, no second payee.
    again = client.register_payee(
        profile_type="INDIVIDUAL", date_of_birth="1990-05-17", customer_code="idem-1", idempotency_key="payee-idem-1"
    )
    assert again.customer_no == first.customer_no
    payees = [p for p in sandbox.state()["payees"] if p.get("customerCode") == "idem-1"]
    assert len(payees) == 1
    with pytest.raises(pockyt_payouts.InvalidRequestError) as caught:
        client.register_payee(profile_type="INDIVIDUAL", date_of_birth="1990-05-17", idempotency_key="not a key")
    assert caught.value.field == "idempotency_key"


def test_delete_payout_account(sandbox: Sandbox) -> None:
    client = sandbox.client()
    payee = client.register_payee(profile_type="INDIVIDUAL", date_of_birth="1990-05-17")
    account = client.add_bank_account(
        customer_no=payee.customer_no, bank_account_id="7861053298", branch_id="101089292", bank_account_purpose="CHECKING"
    )
    result = client.delete_payout_account(customer_no=payee.customer_no, account_token=account.account_token)
    assert result.ret_code == "000100" and isinstance(result, pockyt_payouts.DeleteResult)
    assert client.list_payout_accounts(customer_no=payee.customer_no).accounts == []
    with pytest.raises(pockyt_payouts.NoRelatedInformationError):
        client.pay(
            customer_no=payee.customer_no,
            account_token=account.account_token,
            amount="1.00",
            currency="USD",
            invoice_id="to-a-deleted-account",
        )


def test_signed_raw_request(sandbox: Sandbox) -> None:
    client = sandbox.client()
    answer = client.request("/v3/payouts/balance", currency="USD")
    assert answer["ret_code"] == "000100" and answer["balance"]["amount"] == "1000000.00"
    with pytest.raises(pockyt_payouts.NoRelatedInformationError):
        client.request("/v3/payee/retrieve", customerNo="0")
    with pytest.raises(pockyt_payouts.InvalidRequestError) as caught:
        client.request("/v2/elsewhere", currency="USD")
    assert caught.value.field == "path"
    with pytest.raises(pockyt_payouts.InvalidRequestError) as caught:
        client.request("/v3/payouts/balance", verifySign="00")
    assert caught.value.field == "verify_sign"


async def _async_raw(sandbox: Sandbox) -> dict[str, Any]:
    return await sandbox.async_client().request("/v3/payouts/balance", currency="USD")


def test_signed_raw_request_async(sandbox: Sandbox) -> None:
    import asyncio

    assert asyncio.run(_async_raw(sandbox))["balance"]["currency"] == "USD"
