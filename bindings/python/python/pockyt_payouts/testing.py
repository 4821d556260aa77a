"""Test your integration offline against the SDK's sandbox server.

:class:`Sandbox` runs ``pockyt-sandbox`` (the Rust emulator of the Payouts
v3 API that the SDK's own tests use) inside this process, on
``127.0.0.1`` and a port the system picks. It signs and verifies exactly as
the real API does, keeps state (payees, accounts, payouts, balances), moves
payouts to their final status after ``settle_delay`` seconds and sends
signed IPNs to the ``ipn_url`` given to ``pay``.

>>> from pockyt_payouts.testing import Sandbox
>>> with Sandbox(balances={"USD": "1000.00"}) as sandbox:  # doctest: +SKIP
...     client = sandbox.client()
...     print(client.balance(currency="USD").amount)
1000.00

Test values: a payout whose ``invoice_id`` starts with ``failed``,
``returned`` or ``pending`` ends in that status (others end in
``success``).
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Mapping, Sequence

from ._client import AsyncClient, Client
from ._models import Payout
from ._native import NativeSandbox

__all__ = ["Sandbox"]


class Sandbox:
    """A sandbox server in this process: a context manager for ``with`` and
    ``async with`` (or call :meth:`start` and :meth:`stop`).

    Every option has a default and takes the same values as Node's
    ``startSandbox()`` (durations here in seconds); the Rust sandbox checks
    them and raises :class:`~pockyt_payouts.ConfigurationError` naming the
    option it refuses.

    :param merchant_no: The merchant number it accepts (default ``202333``).
    :param store_no: The store number it accepts (default ``301854``).
    :param api_token: The API token it signs and verifies with.
    :param host: The address to listen on (default ``127.0.0.1``).
    :param port: The port to listen on (``0``, the default, picks a free one).
    :param balances: The merchant's starting balance per currency, like
        ``{"USD": "10000.00"}``.
    :param settle_delay: Seconds before a payout moves from ``pending`` to
        its final status.
    :param ipn_retry_delays: Seconds to wait before each IPN try (at most 8).
    :param timestamp_tolerance: Accepted clock difference of a request's
        timestamp, in seconds.
    :param max_connections: Connections served at once (more wait).
    :param header_read_timeout: Seconds allowed to send a request's head.
    :param body_read_timeout: Seconds allowed to send a request's body.
    :param max_body_bytes: The largest request body accepted.
    :param max_fields: The most fields a request body may carry.
    :param connection_reserve: Connections accepted past ``max_connections``
        (the one waiting longest for a request is then closed).
    :param idempotency_ttl: Seconds a ``Pockyt-Request-ID`` is kept.
    :param idempotency_max_keys: Keys kept per merchant (oldest dropped).
    :param idempotency_wait: Seconds a repeat waits for a first request with
        its key that is still being processed.
    :param duplicate_window: Seconds within which an identical pay without a
        key is refused as a duplicate.
    """

    def __init__(
        self,
        *,
        merchant_no: str | None = None,
        store_no: str | None = None,
        api_token: str | None = None,
        host: str | None = None,
        port: int | None = None,
        balances: Mapping[str, str] | None = None,
        settle_delay: float | None = None,
        ipn_retry_delays: Sequence[float] | None = None,
        timestamp_tolerance: float | None = None,
        max_connections: int | None = None,
        header_read_timeout: float | None = None,
        body_read_timeout: float | None = None,
        max_body_bytes: int | None = None,
        max_fields: int | None = None,
        connection_reserve: int | None = None,
        idempotency_ttl: float | None = None,
        idempotency_max_keys: int | None = None,
        idempotency_wait: float | None = None,
        duplicate_window: float | None = None,
    ) -> None:
        self._options: dict[str, object] = {
            "merchant_no": merchant_no,
            "store_no": store_no,
            "api_token": api_token,
            "host": host,
            "port": port,
            "balances": dict(balances) if balances is not None else None,
            "settle_delay": settle_delay,
            "ipn_retry_delays": list(ipn_retry_delays) if ipn_retry_delays is not None else None,
            "timestamp_tolerance": timestamp_tolerance,
            "max_connections": max_connections,
            "header_read_timeout": header_read_timeout,
            "body_read_timeout": body_read_timeout,
            "max_body_bytes": max_body_bytes,
            "max_fields": max_fields,
            "connection_reserve": connection_reserve,
            "idempotency_ttl": idempotency_ttl,
            "idempotency_max_keys": idempotency_max_keys,
            "idempotency_wait": idempotency_wait,
            "duplicate_window": duplicate_window,
        }
        self._server: NativeSandbox | None = None

    # -- lifecycle -------------------------------------------------------

    def start(self) -> Sandbox:
        """Starts the server unless it is running (a stopped sandbox starts
        afresh, on a new port, with nothing in it); answers ``self``.

        :raises ConfigurationError: an option is refused.
        :raises ValueError: a balance is not a three-letter currency code
            with a non-negative decimal amount.
        """
        if self._server is None or not self._server.running:
            self._server = NativeSandbox(self._options)
        return self

    def stop(self) -> None:
        """Stops the server. Safe to call more than once."""
        if self._server is not None:
            self._server.shutdown()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Sandbox:
        # Starting binds a socket and starts the server's threads: done off
        # the event loop.
        await asyncio.get_running_loop().run_in_executor(None, self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.stop)

    def _running(self) -> NativeSandbox:
        if self._server is None:
            raise RuntimeError("the sandbox is not started: use `with Sandbox() as sandbox:` or call start()")
        return self._server

    # -- what a client needs ---------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self._running().base_url

    @property
    def merchant_no(self) -> str:
        """The merchant number the sandbox accepts."""
        return self._running().merchant_no

    @property
    def store_no(self) -> str:
        """The store number the sandbox accepts."""
        return self._running().store_no

    @property
    def api_token(self) -> str:
        """The API token the sandbox signs and verifies with (a test value)."""
        return self._running().api_token

    def client(
        self,
        *,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
    ) -> Client:
        """A :class:`~pockyt_payouts.Client` configured for this sandbox.
        Settings left ``None`` take the core's defaults, as for
        :class:`~pockyt_payouts.Client`."""
        server = self._running()
        return Client(
            merchant_no=server.merchant_no,
            store_no=server.store_no,
            api_token=server.api_token,
            base_url=server.base_url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            deadline=deadline,
            max_retries=max_retries,
        )

    def async_client(
        self,
        *,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
    ) -> AsyncClient:
        """An :class:`~pockyt_payouts.AsyncClient` configured for this
        sandbox; settings as for :meth:`client`."""
        server = self._running()
        return AsyncClient(
            merchant_no=server.merchant_no,
            store_no=server.store_no,
            api_token=server.api_token,
            base_url=server.base_url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            deadline=deadline,
            max_retries=max_retries,
        )

    # -- what the sandbox holds ------------------------------------------

    def payouts(self) -> list[Payout]:
        """Every payout the sandbox holds, in the order they were made."""
        return self._running().payouts(Payout)

    def balance(self, currency: str) -> str | None:
        """The merchant's balance in ``currency`` (``None`` if it has none)."""
        return self._running().balance(currency)

    def ipn_log(self) -> list[dict[str, Any]]:
        """Every IPN delivery attempt the sandbox made, oldest first: dicts
        with ``url``, ``fields`` (the form fields sent, wire names, in order,
        ``verifySign`` last), ``attempt`` (from 1), ``http_status`` and
        ``error`` (what the receiver did), ``answer`` (the first 200 bytes
        of the receiver's answer), ``resend_reason`` (why the try does not
        count as received, like ``answered `"success"`, expected
        `success```; ``None`` when received) and ``answered_success``."""
        return self._running().ipn_log()

    def resend_ipn(self, invoice_id: str) -> bool:
        """Sends the IPN of the payout's current status again, freshly
        signed, as the API resends one (a replay, to test your
        deduplication); ``False`` when no payout has this ``invoice_id`` or
        it was paid without an ``ipn_url``. Returns at once: the try shows
        in :meth:`ipn_log` when made."""
        return self._running().resend_ipn(invoice_id)

    def state(self) -> dict[str, Any]:
        """Everything the sandbox holds (payees, accounts, payouts, balances,
        IPN tries, fault rules), as ``GET /_sandbox/state`` answers it."""
        return self._running().state()

    def reset(self) -> None:
        """Forgets every payee, account, payout, IPN try and fault rule, and
        puts the balances back to the configured ones."""
        self._running().reset()

    def __repr__(self) -> str:
        if self._server is None:
            return "Sandbox(not started)"
        return f"Sandbox(base_url={self._server.base_url!r}, running={self._server.running!r})"
