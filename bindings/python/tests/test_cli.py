"""The package's ``pockyt-payouts`` console script (``[project.scripts]``):
the Rust CLI built into the extension module, run as pip installs it,
against the in-process sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import DEADLINE

from pockyt_payouts.testing import Sandbox


def command() -> Path:
    """The installed console script (beside this interpreter's)."""
    name = "pockyt-payouts.exe" if sys.platform == "win32" else "pockyt-payouts"
    for directory in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        path = Path(directory) / name
        if path.exists():
            return path
    pytest.fail("the pockyt-payouts console script is not installed (pip install ./bindings/python)")


def environment(sandbox: Sandbox | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POCKYT_")}
    if sandbox is not None:
        env.update(
            POCKYT_MERCHANT_NO=sandbox.merchant_no,
            POCKYT_STORE_NO=sandbox.store_no,
            POCKYT_API_TOKEN=sandbox.api_token,
            POCKYT_BASE_URL=sandbox.base_url,
        )
    return env


def test_balance_as_json() -> None:
    with Sandbox(balances={"USD": "1234.50"}) as sandbox:
        finished = subprocess.run(
            [str(command()), "balance", "--currency", "USD", "--json"],
            env=environment(sandbox),
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )
    assert finished.returncode == 0, finished.stderr
    balance = json.loads(finished.stdout)
    assert balance["currency"] == "USD"
    assert balance["amount"] == "1234.50"


def test_exit_codes() -> None:
    usage = subprocess.run([str(command()), "no-such-command"], capture_output=True, text=True, timeout=DEADLINE)
    assert usage.returncode == 2
    assert "Usage: pockyt-payouts" in usage.stderr
    unconfigured = subprocess.run(
        [str(command()), "balance", "--currency", "USD"],
        env=environment(None),
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert unconfigured.returncode == 3
    assert "INVALID_CONFIG" in unconfigured.stderr
    assert "Traceback" not in unconfigured.stderr


def test_the_module_runs_the_same_command() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "pockyt_payouts._cli", "--help"], capture_output=True, text=True, timeout=DEADLINE
    )
    assert finished.returncode == 0, finished.stderr
    assert "batch" in finished.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_ends_a_call_at_once() -> None:
    """The command, not the interpreter, takes Ctrl-C: a call stuck on a
    silent server ends at once with exit code 130 (interrupted), not when
    its timeout runs out, and with no KeyboardInterrupt traceback."""
    import signal
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(DEADLINE)
        env = environment(None)
        env.update(
            POCKYT_MERCHANT_NO="202333",
            POCKYT_STORE_NO="301854",
            POCKYT_API_TOKEN="a-long-enough-token",
            POCKYT_BASE_URL=f"http://127.0.0.1:{silent.getsockname()[1]}",
        )
        process = subprocess.Popen(
            [str(command()), "--timeout", "300", "balance", "--currency", "USD"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            connection, _ = silent.accept()  # the call is in flight
            with connection:
                process.send_signal(signal.SIGINT)
                returncode = process.wait(timeout=DEADLINE)
        finally:
            process.kill()
            process.wait()
    assert returncode == 130
    assert process.stderr is not None
    assert b"Traceback" not in process.stderr.read()
