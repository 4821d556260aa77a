"""Per-call timeouts: ``timeout`` and ``connect_timeout`` (seconds) on every
method of ``Client`` and ``AsyncClient`` override the client's settings for
that call only. A per-call ``connect_timeout`` goes through the Rust
client's ``with_connect_timeout`` (one pool per distinct value); a value
that is not a positive number of seconds is refused there, with
ConfigurationError, before anything is sent."""

from __future__ import annotations

import asyncio
import inspect
import math
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import ScriptedServer, add_fault, admin

from pockyt_payouts import (
    AsyncClient,
    BankAccountPurpose,
    Client,
    ConfigurationError,
    NetworkError,
    PayoutStatus,
    PockytTimeoutError,
    ProfileType,
    SupplierSystemError,
)
from pockyt_payouts._native import NativeClient
from pockyt_payouts.testing import Sandbox

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

# Every method, with arguments the Rust core accepts.
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("register_payee", REGISTER),
    ("retrieve_payee", {"customer_no": "2000305228292319592008"}),
    ("update_payee", {"customer_no": "2000305228292319592008", "first_name": "Ada"}),
    ("add_bank_account", BANK),
    ("list_payout_accounts", {"customer_no": "2000305228292319592008"}),
    ("pay", PAY),
    ("inquire_payout", {"invoice_id": "inv-1"}),
    ("balance", {"currency": "USD"}),
]
METHODS = [method for method, _ in CALLS]

# Not a positive number of seconds (1e-12 s rounds to a zero duration).
BAD_CONNECT_TIMEOUTS = [0, 0.0, -1.0, -0.001, math.nan, math.inf, -math.inf, 1e-12]


def test_connect_timeout_property() -> None:
    settings: dict[str, Any] = {"merchant_no": "202333", "store_no": "301854", "api_token": "test-token"}
    for cls in (Client, AsyncClient):
        assert cls(**settings).connect_timeout == 10.0
        client = cls(**settings, timeout=12.5, connect_timeout=3.25)
        assert (client.timeout, client.connect_timeout) == (12.5, 3.25)
    with pytest.raises(AttributeError):
        Client(**settings).connect_timeout = 1.0  # type: ignore[misc]


def test_settings_left_out_take_the_cores_defaults(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    # Python keeps no defaults of its own: a setting left out is None all
    # the way to the native layer, and the Rust configuration's defaults
    # (30 s, 10 s, 2 retries) apply. The properties read the Rust client.
    settings: dict[str, Any] = {"merchant_no": "202333", "store_no": "301854", "api_token": "test-token"}
    factories: list[Callable[..., Any]] = [
        Client, AsyncClient, Client.from_env, AsyncClient.from_env, Sandbox.client, Sandbox.async_client
    ]
    for factory in factories:
        for name in ("timeout", "connect_timeout", "max_retries"):
            assert inspect.signature(factory).parameters[name].default is None, (factory, name)
    for cls in (Client, AsyncClient):
        assert (cls(**settings).timeout, cls(**settings).connect_timeout) == (30.0, 10.0)
        assert (cls(**settings, timeout=5).timeout, cls(**settings, timeout=5).connect_timeout) == (5.0, 10.0)
        explicit_none = cls(**settings, timeout=None, connect_timeout=None, max_retries=None)
        assert (explicit_none.timeout, explicit_none.connect_timeout) == (30.0, 10.0)
    native = NativeClient({"merchant_no": "202333", "store_no": "301854", "api_token": "test-token"})
    assert (native.timeout, native.connect_timeout) == (30.0, 10.0)
    native = NativeClient(
        {"merchant_no": "202333", "store_no": "301854", "api_token": "test-token", "timeout": None, "max_retries": None}
    )
    assert (native.timeout, native.connect_timeout) == (30.0, 10.0)
    monkeypatch.setenv("POCKYT_MERCHANT_NO", sandbox.merchant_no)
    monkeypatch.setenv("POCKYT_STORE_NO", sandbox.store_no)
    monkeypatch.setenv("POCKYT_API_TOKEN", sandbox.api_token)
    monkeypatch.setenv("POCKYT_BASE_URL", sandbox.base_url)
    for from_env in (Client.from_env, AsyncClient.from_env, lambda: NativeClient.from_env({})):
        client = from_env()
        assert (client.timeout, client.connect_timeout) == (30.0, 10.0)
    # Two retries: a read-only call outlasts two transient failures, not three.
    for client in (sandbox.client(), Client.from_env()):
        add_fault(sandbox.base_url, "balance", "ret_000080", times=2)
        assert client.balance(currency="USD").amount == "1000000.00"
        add_fault(sandbox.base_url, "balance", "ret_000080", times=3)
        with pytest.raises(SupplierSystemError):
            client.balance(currency="USD")
        assert admin(sandbox.base_url, "GET", "/_sandbox/faults")["faults"] == []


def test_every_method_takes_a_connect_timeout(sandbox: Sandbox) -> None:
    client = sandbox.client()
    payee = client.register_payee(
        profile_type=ProfileType.INDIVIDUAL, date_of_birth="1990-05-17", timeout=20.0, connect_timeout=2.5
    )
    assert payee.customer_no
    customer_no = payee.customer_no
    assert client.retrieve_payee(customer_no=customer_no, connect_timeout=2.5).customer_no == customer_no
    client.update_payee(customer_no=customer_no, first_name="Ada", timeout=20.0, connect_timeout=3.0)
    account = client.add_bank_account(
        customer_no=customer_no,
        bank_account_id="7861053298",
        branch_id="101089292",
        bank_account_purpose=BankAccountPurpose.CHECKING,
        connect_timeout=2.5,
    )
    assert account.account_token
    listed = client.list_payout_accounts(customer_no=customer_no, timeout=20.0, connect_timeout=2.5)
    assert [a.account_token for a in listed.accounts] == [account.account_token]
    payout = client.pay(
        customer_no=customer_no,
        account_token=account.account_token,
        amount="5.00",
        currency="USD",
        invoice_id="inv-connect-timeout",
        timeout=20.0,
        connect_timeout=0.5,
    )
    assert payout.invoice_id == "inv-connect-timeout"
    found = client.inquire_payout(invoice_id="inv-connect-timeout", connect_timeout=10.0)
    assert found.transaction_no == payout.transaction_no
    assert client.balance(currency="USD", timeout=20.0, connect_timeout=1.0).currency == "USD"
    # The overrides were for those calls only.
    assert (client.timeout, client.connect_timeout) == (30.0, 10.0)
    assert [p.invoice_id for p in sandbox.payouts()] == ["inv-connect-timeout"]


def test_every_async_method_takes_a_connect_timeout(sandbox: Sandbox) -> None:
    client = sandbox.async_client()

    async def flow() -> None:
        payee = await client.register_payee(
            profile_type=ProfileType.BUSINESS, date_of_birth="1980-01-01", connect_timeout=2.5
        )
        assert payee.customer_no
        customer_no = payee.customer_no
        await client.retrieve_payee(customer_no=customer_no, timeout=20.0, connect_timeout=2.5)
        await client.update_payee(customer_no=customer_no, last_name="Byron", connect_timeout=3.0)
        account = await client.add_bank_account(
            customer_no=customer_no,
            bank_account_id="123456789",
            branch_id="021000021",
            bank_account_purpose=BankAccountPurpose.SAVINGS,
            timeout=20.0,
            connect_timeout=2.5,
        )
        assert account.account_token
        await client.list_payout_accounts(customer_no=customer_no, connect_timeout=2.5)
        # Concurrent calls with several connect timeouts (one pool each).
        payouts = await asyncio.gather(
            *(
                client.pay(
                    customer_no=customer_no,
                    account_token=account.account_token,
                    amount="1.00",
                    currency="USD",
                    invoice_id=f"inv-async-{n}",
                    connect_timeout=0.5 + n % 3,
                )
                for n in range(9)
            )
        )
        assert sorted(p.invoice_id or "" for p in payouts) == [f"inv-async-{n}" for n in range(9)]
        found = await client.inquire_payout(invoice_id="inv-async-0", timeout=20.0, connect_timeout=1.5)
        assert found.status in {PayoutStatus.PENDING, PayoutStatus.SUCCESS}
        assert (await client.balance(currency="USD", connect_timeout=1.0)).currency == "USD"

    asyncio.run(flow())
    assert (client.timeout, client.connect_timeout) == (30.0, 10.0)
    assert len(sandbox.payouts()) == 9


def test_repeated_connect_timeouts_reuse_their_pool(sandbox: Sandbox) -> None:
    client = sandbox.client(connect_timeout=4.0)
    for connect_timeout in [1.0, 2.0, 1.0, 4.0, 2.0, 1.0, None]:
        assert client.balance(currency="USD", connect_timeout=connect_timeout).amount == "1000000.00"
    assert client.connect_timeout == 4.0


@pytest.mark.parametrize("connect_timeout", BAD_CONNECT_TIMEOUTS)
@pytest.mark.parametrize(("method", "arguments"), CALLS, ids=METHODS)
def test_bad_connect_timeout_is_refused_before_sending(
    scripted: ScriptedServer, method: str, arguments: dict[str, Any], connect_timeout: float
) -> None:
    client = scripted.client()
    with pytest.raises(ConfigurationError) as caught:
        getattr(client, method)(**arguments, connect_timeout=connect_timeout)
    error = caught.value
    assert error.code == "INVALID_CONFIG"
    assert error.field == "connect_timeout"
    assert "connect_timeout" in str(error)
    assert scripted.requests == []
    # The client itself is unchanged and still works.
    assert client.connect_timeout == 10.0
    client.update_payee(customer_no="2000305228292319592008", connect_timeout=5.0)
    assert len(scripted.requests) == 1


@pytest.mark.parametrize("connect_timeout", [0.0, -2.5, math.nan])
@pytest.mark.parametrize(("method", "arguments"), CALLS, ids=METHODS)
def test_async_bad_connect_timeout_is_refused_before_sending(
    scripted: ScriptedServer, method: str, arguments: dict[str, Any], connect_timeout: float
) -> None:
    client = AsyncClient(merchant_no="202333", store_no="301854", api_token="test-token", base_url=scripted.base_url)

    async def call() -> None:
        await getattr(client, method)(**arguments, connect_timeout=connect_timeout)

    with pytest.raises(ConfigurationError) as caught:
        asyncio.run(call())
    assert caught.value.code == "INVALID_CONFIG" and caught.value.field == "connect_timeout"
    assert scripted.requests == []


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port whose listen queue is full: a connection attempt to it is
    neither accepted nor refused (Linux drops the SYN), so only a connect
    timeout ends it."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            yield port


@pytest.mark.skipif(sys.platform != "linux", reason="relies on Linux dropping SYNs to a full listen queue")
def test_per_call_connect_timeout_applies(unanswered_port: int) -> None:
    client = Client(
        merchant_no="202333",
        store_no="301854",
        api_token="test-token",
        base_url=f"http://127.0.0.1:{unanswered_port}",
        timeout=30.0,
        connect_timeout=30.0,
        max_retries=0,
    )
    # With the client's 30 s connect timeout, the 1 s total timeout ends the
    # attempt first.
    with pytest.raises(PockytTimeoutError):
        client.balance(currency="USD", timeout=1.0)
    # With 0.2 s to connect, the connection attempt fails first: a network
    # error, and nothing reached the server.
    with pytest.raises(NetworkError):
        client.balance(currency="USD", timeout=20.0, connect_timeout=0.2)

    async def call() -> None:
        await AsyncClient(
            merchant_no="202333",
            store_no="301854",
            api_token="test-token",
            base_url=f"http://127.0.0.1:{unanswered_port}",
            connect_timeout=30.0,
            max_retries=0,
        ).balance(currency="USD", timeout=20.0, connect_timeout=0.2)

    with pytest.raises(NetworkError):
        asyncio.run(call())
