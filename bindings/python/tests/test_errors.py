"""Every exception class, each driven the way it happens: API refusals and
faults through the sandbox, the rest through configuration, a closed port
or a scripted server."""

from __future__ import annotations

import pickle
import socket
from typing import Any

import pytest
from conftest import ScriptedServer, add_fault, admin, new_payee_and_account

import pockyt_payouts
from pockyt_payouts import (
    AccessDeniedError,
    ApiError,
    ApiSystemError,
    Client,
    ConfigurationError,
    DecodeError,
    HttpError,
    InsufficientBalanceError,
    InvalidRequestError,
    NetworkError,
    NoRelatedInformationError,
    ParameterNullError,
    ParametersMismatchError,
    ParameterValueError,
    PayoutOutcomeUnknownError,
    PockytError,
    PockytTimeoutError,
    ProfileType,
    SupplierSystemError,
)
from pockyt_payouts.testing import Sandbox

UNKNOWN_CUSTOMER = "2000999999999999999999"


def register(client: Client) -> str:
    payee = client.register_payee(profile_type=ProfileType.INDIVIDUAL, date_of_birth="1999-01-01")
    assert payee.customer_no
    return payee.customer_no


def test_wrong_token_is_access_denied_and_never_shows_the_token(sandbox: Sandbox) -> None:
    token = "not-the-sandbox-token-s3cr3t"
    client = Client(
        merchant_no=sandbox.merchant_no, store_no=sandbox.store_no, api_token=token, base_url=sandbox.base_url
    )
    with pytest.raises(AccessDeniedError) as caught:
        client.balance(currency="USD")
    error = caught.value
    assert isinstance(error, ApiError) and isinstance(error, PockytError)
    assert error.code == "000030"
    assert error.ret_msg
    assert token not in str(error) and token not in repr(error) and token not in error.ret_msg


def test_wrong_merchant_is_access_denied(sandbox: Sandbox) -> None:
    client = Client(merchant_no="999999", store_no=sandbox.store_no, api_token=sandbox.api_token, base_url=sandbox.base_url)
    with pytest.raises(AccessDeniedError):
        client.retrieve_payee(customer_no=UNKNOWN_CUSTOMER)


def test_unknown_customer_is_no_related_information(client: Client) -> None:
    with pytest.raises(NoRelatedInformationError) as caught:
        client.retrieve_payee(customer_no=UNKNOWN_CUSTOMER)
    assert caught.value.code == "000021"
    with pytest.raises(NoRelatedInformationError):
        client.inquire_payout(invoice_id="never-paid")


def test_low_balance_is_insufficient_balance(client: Client, sandbox: Sandbox) -> None:
    customer_no, token = new_payee_and_account(client)
    with pytest.raises(InsufficientBalanceError) as caught:
        client.pay(customer_no=customer_no, account_token=token, amount="50.01", currency="EUR", invoice_id="big")
    assert caught.value.code == "000040"
    assert sandbox.payouts() == [] and sandbox.balance("EUR") == "50.00"


def test_another_payees_account_is_parameters_mismatch(client: Client) -> None:
    _, token = new_payee_and_account(client)
    other = register(client)
    with pytest.raises(ParametersMismatchError) as caught:
        client.pay(customer_no=other, account_token=token, amount="1", currency="USD", invoice_id="mismatch")
    assert caught.value.code == "000022"


def test_refused_value_is_parameter_value_error(client: Client) -> None:
    # The sandbox refuses a `fault-` invoiceId that names no fault with
    # 000023 (the client's own rules accept it).
    customer_no, token = new_payee_and_account(client)
    with pytest.raises(ParameterValueError) as caught:
        client.pay(customer_no=customer_no, account_token=token, amount="1", currency="USD", invoice_id="fault-bogus-1")
    assert caught.value.code == "000023"


@pytest.mark.parametrize(
    ("fault", "cls", "code"), [("ret_000000", ApiSystemError, "000000"), ("ret_000080", SupplierSystemError, "000080")]
)
def test_system_errors(sandbox: Sandbox, fault: str, cls: type[ApiError], code: str) -> None:
    client = sandbox.client(max_retries=0)
    add_fault(sandbox.base_url, "register_payee", fault)
    with pytest.raises(cls) as caught:
        register(client)
    assert caught.value.code == code


def test_read_only_calls_are_retried_through_transient_errors(sandbox: Sandbox) -> None:
    client = sandbox.client(max_retries=2)
    add_fault(sandbox.base_url, "balance", "ret_000080", times=2)
    assert client.balance(currency="USD").amount == "1000000.00"
    assert admin(sandbox.base_url, "GET", "/_sandbox/faults")["faults"] == []


def test_parameter_null_and_unknown_ret_codes(scripted: ScriptedServer) -> None:
    client = scripted.client()
    scripted.answer = {"ret_code": "000020", "ret_msg": "customerNo is null"}
    with pytest.raises(ParameterNullError) as null:
        client.retrieve_payee(customer_no="1")
    assert (null.value.code, null.value.ret_msg) == ("000020", "customerNo is null")

    scripted.answer = {"ret_code": "000099", "ret_msg": "something new"}
    with pytest.raises(ApiError) as unknown:
        client.retrieve_payee(customer_no="1")
    assert type(unknown.value) is ApiError
    assert (unknown.value.code, unknown.value.ret_msg) == ("000099", "something new")


def test_http_error_carries_the_status(sandbox: Sandbox) -> None:
    add_fault(sandbox.base_url, "register_payee", "http_503")
    with pytest.raises(HttpError) as caught:
        register(sandbox.client(max_retries=0))
    assert caught.value.code == "HTTP_ERROR" and caught.value.status == 503


def test_malformed_answer_is_decode_error(sandbox: Sandbox) -> None:
    add_fault(sandbox.base_url, "retrieve_payee", "malformed")
    with pytest.raises(DecodeError) as caught:
        sandbox.client(max_retries=0).retrieve_payee(customer_no=UNKNOWN_CUSTOMER)
    assert caught.value.code == "DECODE_ERROR" and caught.value.status == 200


def test_slow_answer_is_timeout(sandbox: Sandbox) -> None:
    add_fault(sandbox.base_url, "balance", "delay=3000")
    with pytest.raises(PockytTimeoutError) as caught:
        sandbox.client(max_retries=0).balance(currency="USD", timeout=0.2)
    assert caught.value.code == "TIMEOUT"
    assert not isinstance(caught.value, TimeoutError)


def test_closed_port_is_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Client(merchant_no="1", store_no="2", api_token="test-token", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(NetworkError) as caught:
        client.balance(currency="USD")
    assert caught.value.code == "NETWORK_ERROR"


def test_lost_pay_answer_is_reconciled_by_invoice_id(sandbox: Sandbox, client: Client) -> None:
    customer_no, token = new_payee_and_account(client)
    # The first pay with this invoiceId is processed, then its connection
    # dropped: the client inquires and answers the payout it finds.
    payout = client.pay(customer_no=customer_no, account_token=token, amount="5", currency="USD", invoice_id="fault-drop-1")
    assert payout.invoice_id == "fault-drop-1" and payout.transaction_no
    assert [p.transaction_no for p in sandbox.payouts()] == [payout.transaction_no]


def test_unknown_pay_outcome_carries_the_invoice_id(sandbox: Sandbox) -> None:
    client = sandbox.client(max_retries=0)
    customer_no, token = new_payee_and_account(client)
    add_fault(sandbox.base_url, "pay", "drop")
    # The inquiry stays down for as long as the client keeps inquiring while
    # the dropped pay may land (twice its per-attempt timeout).
    add_fault(sandbox.base_url, "inquire_payout", "http_503", times=1000)
    impatient = sandbox.client(max_retries=0, timeout=0.3)
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        impatient.pay(customer_no=customer_no, account_token=token, amount="7", currency="USD", invoice_id="inv-unknown")
    error = caught.value
    assert error.code == "PAYOUT_OUTCOME_UNKNOWN" and error.invoice_id == "inv-unknown"
    assert "inv-unknown" in str(error)
    assert isinstance(error.__cause__, PockytError)
    # Reconcile: the payout was made exactly once.
    admin(sandbox.base_url, "DELETE", "/_sandbox/faults")
    found = client.inquire_payout(invoice_id=error.invoice_id)
    assert [p.transaction_no for p in sandbox.payouts()] == [found.transaction_no]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"environment": "live"}, "environment"),
        ({"api_token": ""}, "api_token"),
        ({"merchant_no": " "}, "merchant_no"),
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"timeout": 0}, "timeout"),
        ({"connect_timeout": -1.0}, "connect_timeout"),
        ({"max_retries": -1}, "max_retries"),
    ],
)
def test_bad_configuration(settings: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"merchant_no": "202333", "store_no": "301854", "api_token": "test-token"}
    arguments.update(settings)
    with pytest.raises(ConfigurationError) as caught:
        Client(**arguments)
    assert caught.value.code == "INVALID_CONFIG" and caught.value.field == field


def test_from_env(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    for name in ["POCKYT_MERCHANT_NO", "POCKYT_STORE_NO", "POCKYT_API_TOKEN", "POCKYT_ENV", "POCKYT_BASE_URL"]:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        Client.from_env()
    assert caught.value.field == "POCKYT_MERCHANT_NO"
    monkeypatch.setenv("POCKYT_MERCHANT_NO", sandbox.merchant_no)
    monkeypatch.setenv("POCKYT_STORE_NO", sandbox.store_no)
    monkeypatch.setenv("POCKYT_API_TOKEN", sandbox.api_token)
    monkeypatch.setenv("POCKYT_ENV", "production")
    assert Client.from_env().base_url == "https://mapi.yuansfer.com"
    monkeypatch.setenv("POCKYT_ENV", "staging")
    with pytest.raises(ConfigurationError):
        Client.from_env()
    monkeypatch.setenv("POCKYT_ENV", "sandbox")
    assert Client.from_env().base_url == "https://mapi.yuansfer.yunkeguan.com"
    monkeypatch.setenv("POCKYT_BASE_URL", sandbox.base_url)
    client = Client.from_env(timeout=5)
    assert client.base_url == sandbox.base_url and client.timeout == 5.0
    assert client.balance(currency="USD").amount == "1000000.00"
    async_client = pockyt_payouts.AsyncClient.from_env()
    assert isinstance(async_client, pockyt_payouts.AsyncClient)


def test_repr_never_shows_the_token(sandbox: Sandbox) -> None:
    token = "very-secret-token-123"
    for cls in (Client, pockyt_payouts.AsyncClient):
        client = cls(merchant_no="202333", store_no="301854", api_token=token, base_url=sandbox.base_url)
        shown = repr(client) + str(client) + repr(client._native) + str(dir(client))
        assert token not in shown
        assert "202333" in repr(client) and sandbox.base_url in repr(client)
    assert sandbox.api_token not in repr(sandbox)


@pytest.mark.parametrize(
    "error",
    [
        AccessDeniedError("denied", ret_msg="no rights"),
        ApiError("new", code="000099", ret_msg="?"),
        InvalidRequestError("bad", field="amount"),
        HttpError("status", status=502),
        PayoutOutcomeUnknownError("unknown", invoice_id="inv-1"),
        PockytTimeoutError("slow"),
    ],
)
def test_errors_pickle(error: PockytError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.code, copy.message, str(copy)) == (error.code, error.message, str(error))
    assert vars(copy) == vars(error)


def test_no_builtin_is_shadowed() -> None:
    import builtins

    assert not set(pockyt_payouts.__all__) & set(dir(builtins))
