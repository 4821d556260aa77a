"""Every example runs: the README's Python blocks (in order, in one
namespace, against a sandbox configured through the POCKYT_* variables)
and examples/quickstart.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEADLINE

from pockyt_payouts.testing import Sandbox

HERE = Path(__file__).resolve().parent.parent


def readme_blocks() -> list[str]:
    text = (HERE / "README.md").read_text(encoding="utf-8")
    return [block for block in re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)]


def test_readme_has_examples() -> None:
    assert len(readme_blocks()) >= 6


def test_readme_examples_run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(settle_delay=0.05) as sandbox:
        monkeypatch.setenv("POCKYT_MERCHANT_NO", sandbox.merchant_no)
        monkeypatch.setenv("POCKYT_STORE_NO", sandbox.store_no)
        monkeypatch.setenv("POCKYT_API_TOKEN", sandbox.api_token)
        monkeypatch.setenv("POCKYT_ENV", "sandbox")
        monkeypatch.setenv("POCKYT_BASE_URL", sandbox.base_url)
        namespace: dict[str, object] = {"__name__": "readme"}
        for number, block in enumerate(readme_blocks(), start=1):
            code = compile(block, f"README.md python block {number}", "exec")
            exec(code, namespace)
    shown = capsys.readouterr().out
    assert "your-api-token" not in shown
    assert "INVALID_REQUEST" not in shown and "amount - invalid request" in shown
    assert "000040" in shown


def test_quickstart_runs() -> None:
    finished = subprocess.run(
        [sys.executable, str(HERE / "examples" / "quickstart.py")], capture_output=True, text=True, timeout=DEADLINE
    )
    assert finished.returncode == 0, finished.stderr
    assert "ended success" in finished.stdout
    assert "refused before sending: amount" in finished.stdout
    assert "10 concurrent payouts" in finished.stdout
