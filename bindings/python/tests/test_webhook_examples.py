"""The webhook examples run (their demo: no POCKYT_API_TOKEN, the embedded
sandbox pays to the app, then replays an IPN)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEADLINE

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("framework", ["fastapi", "flask", "django"])
def test_webhook_example_runs(framework: str) -> None:
    if importlib.util.find_spec(framework) is None:
        pytest.skip(f"{framework} is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POCKYT_")}
    finished = subprocess.run(
        [sys.executable, str(EXAMPLES / f"webhook_{framework}.py")],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=env,
    )
    assert finished.returncode == 0, finished.stderr
    out = finished.stdout
    assert out.count("handled: payout demo-invoice-1 is pending") == 1
    assert out.count("handled: payout demo-invoice-1 is success") == 1
    assert "not handled again" in out
