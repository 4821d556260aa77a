"""The native runtime: the GIL is released while a call waits, Ctrl-C
interrupts a blocking call, asyncio calls never block the loop and can be
cancelled, many run at once, a forked child works, and the interpreter
exits cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from conftest import DEADLINE, ScriptedServer, add_fault, new_payee_and_account

import pockyt_payouts
from pockyt_payouts import AsyncClient, Client, Payout
from pockyt_payouts.testing import Sandbox


def test_blocking_call_releases_the_gil(scripted: ScriptedServer) -> None:
    # The scripted server is Python code: it can only take and answer the
    # request if the waiting call has released the GIL.
    scripted.answer = {"ret_code": "000100", "balance": {"currency": "USD", "amount": "2.00"}}
    scripted.release.clear()
    result: list[object] = []
    caller = threading.Thread(target=lambda: result.append(scripted.client().balance(currency="USD")))
    caller.start()
    try:
        assert scripted.arrived.wait(DEADLINE), "the server never got the request: the GIL was held"
        assert caller.is_alive()
    finally:
        scripted.release.set()
        caller.join(DEADLINE)
    assert [getattr(r, "amount", None) for r in result] == ["2.00"]


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="POSIX signals")
def test_ctrl_c_interrupts_a_blocking_call(scripted: ScriptedServer) -> None:
    scripted.release.clear()
    client = scripted.client()

    def interrupt_when_waiting() -> None:
        if scripted.arrived.wait(DEADLINE):
            os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_when_waiting)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            client.retrieve_payee(customer_no="1")
    finally:
        interrupter.join(DEADLINE)
        scripted.release.set()
    # The client still works afterwards.
    scripted.answer = {"ret_code": "000100", "balance": {"currency": "USD", "amount": "1.00"}}
    assert client.balance(currency="USD").amount == "1.00"


def test_async_calls_do_not_block_the_loop_and_can_be_cancelled(sandbox: Sandbox) -> None:
    add_fault(sandbox.base_url, "balance", "delay=30000", match={"currency": "USD"})
    client = sandbox.async_client(max_retries=0)

    async def run() -> None:
        slow = asyncio.ensure_future(client.balance(currency="USD"))
        other = asyncio.ensure_future(client.balance(currency="EUR"))
        done, _ = await asyncio.wait({slow, other}, return_when=asyncio.FIRST_COMPLETED)
        # The second call went around the first, which is still waiting.
        assert other in done and not slow.done()
        assert other.result().amount == "50.00"
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        # The loop and the client keep working.
        assert (await client.balance(currency="EUR")).currency == "EUR"

    asyncio.run(run())


def test_awaitable_outside_a_running_loop_is_refused(sandbox: Sandbox) -> None:
    native = sandbox.async_client()._native
    with pytest.raises(RuntimeError):
        native.call_async("balance", {"currency": "USD"})


def test_200_concurrent_async_pays(sandbox: Sandbox) -> None:
    customer_no, token = new_payee_and_account(sandbox.client())
    client = sandbox.async_client()

    async def pay_all() -> list[Payout]:
        return await asyncio.gather(
            *(
                client.pay(
                    customer_no=customer_no,
                    account_token=token,
                    amount="1.25",
                    currency="USD",
                    invoice_id=f"conc-{i}",
                )
                for i in range(200)
            )
        )

    payouts = asyncio.run(pay_all())
    assert len(payouts) == 200
    assert {p.invoice_id for p in payouts} == {f"conc-{i}" for i in range(200)}
    assert len({p.transaction_no for p in payouts}) == 200
    assert len(sandbox.payouts()) == 200
    assert sandbox.balance("USD") == "999750.00"


def test_blocking_client_is_thread_safe(sandbox: Sandbox) -> None:
    client = sandbox.client()
    customer_no, token = new_payee_and_account(client)
    errors: list[BaseException] = []

    def pay(i: int) -> None:
        try:
            client.pay(customer_no=customer_no, account_token=token, amount="1", currency="USD", invoice_id=f"t-{i}")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    assert errors == []
    assert len(sandbox.payouts()) == 20


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_makes_calls(sandbox: Sandbox, client: Client) -> None:
    # The runtime and the client's connection pool are in use before the fork.
    assert client.balance(currency="USD").amount == "1000000.00"
    assert pockyt_payouts._native._runtime_started()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return to pytest
        status = 1
        try:
            os.close(read_end)
            started_before = pockyt_payouts._native._runtime_started()
            inherited = client.balance(currency="USD").amount
            fresh = sandbox.client().balance(currency="EUR").amount

            async def via_asyncio() -> str | None:
                return (await sandbox.async_client().balance(currency="USD")).amount

            from_async = asyncio.run(via_asyncio())
            # Letting go of the parent's sandbox must not stop it.
            sandbox.stop()
            os.write(write_end, f"{started_before} {inherited} {fresh} {from_async}".encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    give_up = time.monotonic() + DEADLINE
    while True:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > give_up:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.02)
    with os.fdopen(read_end, "rb") as pipe:
        reported = pipe.read().decode()
    assert os.WIFEXITED(wait_status) and os.WEXITSTATUS(wait_status) == 0, reported
    assert reported == "False 1000000.00 50.00 1000000.00"
    # The parent, its client and its sandbox are unaffected.
    assert client.balance(currency="USD").amount == "1000000.00"
    assert sandbox.client().balance(currency="EUR").amount == "50.00"
    assert "running=True" in repr(sandbox)


EXIT_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    import pockyt_payouts
    from pockyt_payouts.testing import Sandbox

    assert not pockyt_payouts._native._runtime_started()  # lazily started
    sandbox = Sandbox(settle_delay=0.01).start()
    client = sandbox.async_client()

    async def main():
        await asyncio.gather(*(client.balance(currency="USD") for _ in range(20)))

    asyncio.run(main())
    assert pockyt_payouts._native._runtime_started()
    sandbox.client().balance(currency="USD")
    # Exit with the runtime and the sandbox still running: atexit shuts the
    # runtime down before the interpreter finalizes.
    print("done")
    """
)


def test_interpreter_exits_cleanly_with_the_runtime_running() -> None:
    for _ in range(5):
        finished = subprocess.run(
            [sys.executable, "-c", EXIT_SCRIPT], capture_output=True, text=True, timeout=DEADLINE
        )
        assert finished.returncode == 0, finished.stderr
        assert finished.stdout.strip() == "done"
        assert "Fatal Python error" not in finished.stderr


def test_calls_after_shutdown_fail_cleanly() -> None:
    script = textwrap.dedent(
        """
        import pockyt_payouts
        from pockyt_payouts import _native
        client = pockyt_payouts.Client(merchant_no="1", store_no="2", api_token="test-token", base_url="http://127.0.0.1:9")
        _native._shutdown_runtime()
        try:
            client.balance(currency="USD")
        except RuntimeError as error:
            print("refused:", error)
        """
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=DEADLINE)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith("refused:")


def test_async_client_is_usable_from_many_event_loops(sandbox: Sandbox) -> None:
    client: AsyncClient = sandbox.async_client()

    async def one() -> str | None:
        return (await client.balance(currency="USD")).amount

    assert [asyncio.run(one()) for _ in range(3)] == ["1000000.00"] * 3
