"""Shared fixtures: the in-process sandbox, an IPN receiver, and a scripted
HTTP server for answers the sandbox cannot be made to give."""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

from pockyt_payouts import BankAccountPurpose, Client, ProfileType
from pockyt_payouts.testing import Sandbox

# Generous deadline for things that happen in the background (settlement,
# IPN delivery). Only a bound on waiting: never asserted as a duration.
DEADLINE = 60.0


def wait_for(predicate: Callable[[], Any], what: str) -> Any:
    """Polls ``predicate`` until it answers something truthy (answered), or
    fails the test after ``DEADLINE`` seconds."""
    give_up = time.monotonic() + DEADLINE
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > give_up:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def admin(base_url: str, method: str, path: str, body: Any = None) -> Any:
    """Calls one of the sandbox's admin endpoints (``/_sandbox/...``)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base_url + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def add_fault(base_url: str, operation: str, fault: str, times: int = 1, match: dict[str, str] | None = None) -> None:
    """Adds a fault rule through ``POST /_sandbox/faults``."""
    rule: dict[str, Any] = {"operation": operation, "fault": fault, "times": times}
    if match:
        rule["match"] = match
    admin(base_url, "POST", "/_sandbox/faults", rule)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(settle_delay=0.05, balances={"USD": "1000000.00", "EUR": "50.00"}) as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox) -> Client:
    return sandbox.client()


def new_payee_and_account(client: Client, **account: Any) -> tuple[str, str]:
    """Registers a payee, adds a bank account; answers (customer_no, account_token)."""
    payee = client.register_payee(
        profile_type=ProfileType.INDIVIDUAL,
        date_of_birth="1990-05-17",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
    )
    assert payee.customer_no
    created = client.add_bank_account(
        customer_no=payee.customer_no,
        bank_account_id="7861053298",
        branch_id="101089292",
        bank_account_purpose=BankAccountPurpose.CHECKING,
        **account,
    )
    assert created.account_token
    return payee.customer_no, created.account_token


class IpnReceiver:
    """A tiny IPN endpoint on 127.0.0.1: records each POST body (raw bytes)
    and answers ``success``."""

    def __init__(self) -> None:
        self.bodies: queue.Queue[bytes] = queue.Queue()
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                received.put(body)
                answer = b"success"
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # The default backlog (5) is too small for many notifications
            # arriving at once.
            request_queue_size = 512
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ipn"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ipn_receiver() -> Iterator[IpnReceiver]:
    receiver = IpnReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


class ScriptedServer:
    """A local HTTP server that answers every POST with the JSON body it is
    told to (``answer``), counting the requests it received. Used for
    answers the sandbox cannot be made to give (an unknown ret_code, fields
    this SDK does not know). ``hold`` makes it wait until released."""

    def __init__(self) -> None:
        self.answer: dict[str, Any] = {"ret_code": "000100", "ret_msg": "success"}
        self.requests: list[dict[str, Any]] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.release.set()
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                scripted.requests.append({"path": self.path, "body": json.loads(body)})
                scripted.arrived.set()
                scripted.release.wait(DEADLINE)
                data = json.dumps(scripted.answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client went away (an interrupted call)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 64
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def client(self, **settings: Any) -> Client:
        settings.setdefault("max_retries", 0)
        return Client(merchant_no="202333", store_no="301854", api_token="scripted-token", base_url=self.base_url, **settings)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    try:
        yield server
    finally:
        server.close()
