"""pockyt_payouts.testing.Sandbox itself."""

from __future__ import annotations

import pytest
from conftest import new_payee_and_account

from pockyt_payouts import ConfigurationError, NoRelatedInformationError
from pockyt_payouts.testing import Sandbox


def test_lifecycle_and_options() -> None:
    sandbox = Sandbox(balances={"USD": "12.00", "CAD": "3"})
    assert "not started" in repr(sandbox)
    with pytest.raises(RuntimeError):
        sandbox.base_url
    with sandbox:
        first = sandbox.base_url
        assert first.startswith("http://127.0.0.1:")
        assert (sandbox.merchant_no, sandbox.store_no) == ("202333", "301854")
        assert sandbox.balance("USD") == "12.00" and sandbox.balance("CAD") == "3.00"
        assert sandbox.balance("EUR") is None
        assert sandbox.client().balance(currency="CAD").amount == "3.00"
        assert sandbox.payouts() == [] and sandbox.ipn_log() == []
    assert "running=False" in repr(sandbox)
    with pytest.raises(RuntimeError):
        sandbox.payouts()
    sandbox.stop()  # stopping twice is harmless
    # A stopped sandbox starts afresh.
    with sandbox:
        assert sandbox.balance("USD") == "12.00"


def test_reset_forgets_everything() -> None:
    with Sandbox() as sandbox:
        client = sandbox.client()
        customer_no, token = new_payee_and_account(client)
        client.pay(customer_no=customer_no, account_token=token, amount="9", currency="USD", invoice_id="r-1")
        assert len(sandbox.payouts()) == 1 and sandbox.balance("USD") == "999991.00"
        sandbox.reset()
        assert sandbox.payouts() == [] and sandbox.balance("USD") == "1000000.00"
        with pytest.raises(NoRelatedInformationError):
            client.retrieve_payee(customer_no=customer_no)


@pytest.mark.parametrize(
    "options", [{"balances": {"usd": "1.00"}}, {"balances": {"USD": "-1"}}, {"settle_delay": -1.0}]
)
def test_bad_options_are_configuration_errors(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Sandbox(**options).start()  # type: ignore[arg-type]
    assert caught.value.field in {"balances", "settle_delay"}


def test_the_same_options_as_nodes_start_sandbox() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Sandbox(
        port=port,
        api_token="my-sandbox-token",
        merchant_no="1001",
        store_no="2002",
        ipn_retry_delays=[0, 0.01],
        timestamp_tolerance=60,
        settle_delay=0.01,
    ) as sandbox:
        assert sandbox.base_url == f"http://127.0.0.1:{port}"
        assert (sandbox.api_token, sandbox.merchant_no, sandbox.store_no) == ("my-sandbox-token", "1001", "2002")
        assert sandbox.client().balance(currency="USD").amount == "1000000.00"
        state = sandbox.state()
        assert isinstance(state, dict) and "payouts" in state


@pytest.mark.parametrize(
    ("options", "field"),
    [({"port": 70000}, "port"), ({"ipn_retry_delays": ["soon"]}, "ipn_retry_delays"), ({"host": "nowhere"}, "host")],
)
def test_refused_sandbox_options_name_the_option(options: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Sandbox(**options).start()  # type: ignore[arg-type]
    assert caught.value.field == field
