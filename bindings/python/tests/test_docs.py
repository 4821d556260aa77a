"""Every example runs: the README's Python blocks (in order, in one
namespace, against a sandbox configured through the POCKYT_* variables)
and examples/quickstart.py. The README's blocks also pass ``mypy --strict``,
read as one module."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import DEADLINE

from pockyt_payouts.testing import Sandbox

HERE = Path(__file__).resolve().parent.parent


def readme_blocks() -> list[str]:
    """The README's ```python blocks in order, dedented: those indented in
    a list item included (their closing fence has the same indent)."""
    text = (HERE / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"^([ \t]*)```python\n(.*?)^\1```", text, flags=re.S | re.M)
    return [textwrap.dedent(block) for _indent, block in found]


def test_readme_has_examples() -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 9
    assert any("def pay_once" in block for block in blocks)  # the one indented in a list item


def test_readme_examples_run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(settle_delay=0.05) as sandbox:
        monkeypatch.setenv("POCKYT_MERCHANT_NO", sandbox.merchant_no)
        monkeypatch.setenv("POCKYT_STORE_NO", sandbox.store_no)
        monkeypatch.setenv("POCKYT_API_TOKEN", sandbox.api_token)
        monkeypatch.setenv("POCKYT_ENV", "provider-sandbox")
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
    """``python examples/quickstart.py`` as a newcomer runs it: no POCKYT_*
    variables, so it starts the embedded sandbox and goes through the whole
    payout flow, webhook included."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("POCKYT_")}
    env["PYTHONIOENCODING"] = "utf-8"
    finished = subprocess.run(
        [sys.executable, str(HERE / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=HERE,
        timeout=DEADLINE,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    lines = finished.stdout.strip().splitlines()
    assert lines[0].startswith("▶ started an embedded sandbox at http://127.0.0.1:"), finished.stdout
    assert lines[-1] == "✔ payout flow complete", finished.stdout
    assert re.search(r"^4\. paid +invoiceId=quickstart-\d+ transactionNo=\d+ amount=25\.00 status=pending$", finished.stdout, re.M)
    assert re.search(r"^6\. webhook received +signature verified; .*status=success ", finished.stdout, re.M)
    assert re.search(r"^7\. settled +status=success; balance \d+\.\d{2} USD$", finished.stdout, re.M)


def test_quickstart_runs_against_the_server_the_variables_name() -> None:
    """With POCKYT_* set, the quickstart starts no sandbox of its own and
    pays through the server they name (here a sandbox standing in for the
    provider's)."""
    with Sandbox(settle_delay=0.2) as sandbox:
        env = {name: value for name, value in os.environ.items() if not name.startswith("POCKYT_")}
        env.update(
            PYTHONIOENCODING="utf-8",
            POCKYT_MERCHANT_NO=sandbox.merchant_no,
            POCKYT_STORE_NO=sandbox.store_no,
            POCKYT_API_TOKEN=sandbox.api_token,
            POCKYT_BASE_URL=sandbox.base_url,
        )
        finished = subprocess.run(
            [sys.executable, str(HERE / "examples" / "quickstart.py")],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            timeout=DEADLINE,
        )
        assert finished.returncode == 0, finished.stdout + finished.stderr
        assert finished.stdout.startswith(f"▶ using the API at {sandbox.base_url} "), finished.stdout
        assert finished.stdout.strip().endswith("✔ payout flow complete")
        assert len(sandbox.payouts()) == 1


def test_readme_examples_type_check(tmp_path: Path) -> None:
    """The README's blocks, concatenated in order into one module, pass
    ``mypy --strict`` against the installed package."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed in this environment (pip install mypy): README examples not type-checked")
    module = tmp_path / "readme_examples.py"
    module.write_text(
        "".join(f"# README.md python block {number}\n{block}\n" for number, block in enumerate(readme_blocks(), 1)),
        encoding="utf-8",
    )
    finished = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", f"--cache-dir={tmp_path / 'mypy-cache'}", module.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEADLINE * 5,
    )
    assert finished.returncode == 0, f"mypy --strict on the README's examples:\n{finished.stdout}{finished.stderr}"
