"""Batch payouts from Python (``pockyt_payouts.batch``), sync and async,
against the in-process sandbox: every row paid once, progress reported,
refused files naming row and field, dry runs moving no money, reruns
resuming without paying again, reports written."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import new_payee_and_account

from pockyt_payouts import AsyncClient, Client, ConfigurationError, PayoutEvent
from pockyt_payouts.batch import (
    ROW_STATES,
    AsyncBatch,
    Batch,
    BatchError,
    BatchReport,
    Progress,
    default_journal_path,
)
from pockyt_payouts.testing import Sandbox

AMOUNTS = ["10.00", "20.50", "0.99", "100.00", "5.01"]
TOTAL = sum((Decimal(a) for a in AMOUNTS), Decimal("0"))


def write_csv(path: Path, header: list[str], rows: list[list[str]], line_end: str = "\n") -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator=line_end)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def rows_for(customer_no: str, account_token: str, prefix: str) -> list[list[str]]:
    return [[customer_no, account_token, amount, "USD", f"{prefix}-{n}"] for n, amount in enumerate(AMOUNTS, 1)]


def paid_invoices(sandbox: Sandbox, prefix: str) -> list[str]:
    return [p.invoice_id for p in sandbox.payouts() if p.invoice_id and p.invoice_id.startswith(prefix + "-")]


def usd_total(report: BatchReport) -> Decimal:
    return sum((Decimal(t.amount) for t in report.totals.get("USD", {}).values()), Decimal("0"))


def assert_all_paid(report: BatchReport, sandbox: Sandbox, prefix: str) -> None:
    assert report.is_success(), report
    assert report.rows == len(AMOUNTS)
    assert report.paid == len(AMOUNTS)
    assert report.count("pending") + report.count("success") == len(AMOUNTS)
    assert report.invalid == 0 and report.invalid_rows == []
    assert set(report.states) == set(ROW_STATES)
    assert usd_total(report) == TOTAL
    assert sum(t.rows for t in report.totals["USD"].values()) == len(AMOUNTS)
    invoices = paid_invoices(sandbox, prefix)
    assert sorted(invoices) == sorted(f"{prefix}-{n}" for n in range(1, len(AMOUNTS) + 1))  # each once


def test_csv_with_snake_case_header_pays_every_row_once(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = write_csv(
        tmp_path / "may.csv",
        ["customer_no", "account_token", "amount", "currency", "invoice_id"],
        rows_for(customer_no, account_token, "snake"),
    )
    balance_before = Decimal(sandbox.balance("USD") or "0")
    seen: list[Progress] = []
    threads: set[int] = set()

    def on_progress(progress: Progress) -> None:
        seen.append(progress)
        threads.add(threading.get_ident())

    batch = Batch(client, on_progress=on_progress)
    assert batch.journal is None
    report = batch.run(file)

    assert_all_paid(report, sandbox, "snake")
    assert report.batch is not None and report.batch.rows == len(AMOUNTS)
    assert report.source == str(file)
    assert default_journal_path(file).exists()
    assert default_journal_path(file) == tmp_path / "may.csv.journal"
    # The callback runs on the caller's thread, and saw the whole run.
    assert threads == {threading.get_ident()}
    paying = [p for p in seen if p.phase == "paying"]
    assert paying and paying[-1].done == paying[-1].total == len(AMOUNTS)
    assert paying[-1].paid == len(AMOUNTS) and paying[-1].problems == 0
    # The ledger: the money left the balance once.
    assert Decimal(sandbox.balance("USD") or "0") == balance_before - TOTAL


def test_csv_with_wire_names_and_a_named_journal(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = write_csv(
        tmp_path / "wire.csv",
        ["customerNo", "accountToken", "amount", "currency", "invoiceId"],
        rows_for(customer_no, account_token, "wire"),
    )
    journal = tmp_path / "payouts.journal"
    report = Batch(client, journal, concurrency=2, rate=1000.0).run(file)
    assert_all_paid(report, sandbox, "wire")
    assert journal.exists()
    assert not default_journal_path(file).exists()


def test_json_lines_file(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = tmp_path / "may.jsonl"
    lines = [
        json.dumps({"customer_no": c, "account_token": a, "amount": amount, "currency": cur, "invoice_id": inv})
        for c, a, amount, cur, inv in rows_for(customer_no, account_token, "jsonl")
    ]
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = Batch(client).run(file)
    assert_all_paid(report, sandbox, "jsonl")


def test_invalid_rows_refuse_the_file_naming_row_and_field(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = write_csv(
        tmp_path / "bad.csv",
        ["customer_no", "account_token", "amount", "currency", "invoice_id"],
        [
            [customer_no, account_token, "10.00", "USD", "bad-1"],
            [customer_no, account_token, "1,000", "USD", "bad-2"],
            [customer_no, account_token, "5.00", "USD", "bad-1"],
        ],
    )
    with pytest.raises(BatchError) as raised:
        Batch(client).run(file)
    error = raised.value
    assert error.code == "BATCH_INVALID_ROWS"
    assert error.count == 2
    by_row = {r.row: r for r in error.rows}
    assert by_row[3].field == "amount" and by_row[3].code == "INVALID_REQUEST"
    assert by_row[3].invoice_id == "bad-2"
    assert by_row[4].field == "invoice_id" and by_row[4].code == "DUPLICATE_INVOICE_ID"
    assert "row 3" in str(error)
    assert paid_invoices(sandbox, "bad") == []

    # skip_invalid: the valid row runs, the others are reported.
    report = Batch(client, skip_invalid=True).run(file)
    assert report.paid == 1 and report.invalid == 2 and not report.is_success()
    assert [(r.row, r.field) for r in report.invalid_rows] == [(3, "amount"), (4, "invoice_id")]
    assert paid_invoices(sandbox, "bad") == ["bad-1"]


def test_rows_of_a_crlf_file_are_numbered_as_a_spreadsheet_shows_them(client: Client, tmp_path: Path) -> None:
    file = write_csv(
        tmp_path / "crlf.csv",
        ["customer_no", "account_token", "amount", "currency", "invoice_id"],
        [["1", "2", "10.00", "USD", "crlf-1"], ["1", "2", "1,000", "USD", "crlf-2"]],
        line_end="\r\n",
    )
    with pytest.raises(BatchError) as raised:
        Batch(client).run(file)
    assert [(r.row, r.field) for r in raised.value.rows] == [(3, "amount")]


def test_a_file_that_is_not_a_batch(client: Client, tmp_path: Path) -> None:
    file = tmp_path / "odd.csv"
    file.write_text("customer_no,amount,colour\n1,2,3\n", encoding="utf-8")
    with pytest.raises(BatchError) as raised:
        Batch(client).run(file)
    assert raised.value.code == "BATCH_INPUT"
    assert raised.value.field == "colour" and raised.value.line == 1

    with pytest.raises(BatchError) as missing:
        Batch(client).run(tmp_path / "missing.csv")
    assert missing.value.code == "BATCH_INPUT"


def test_dry_run_moves_no_money(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = write_csv(
        tmp_path / "dry.csv",
        ["customer_no", "account_token", "amount", "currency", "invoice_id"],
        rows_for(customer_no, account_token, "dry"),
    )
    balance_before = sandbox.balance("USD")
    report = Batch(client, dry_run=True).run(file)
    assert report.dry_run and report.is_success()
    assert report.paid == 0
    assert report.count("planned") == len(AMOUNTS)
    assert usd_total(report) == TOTAL
    assert paid_invoices(sandbox, "dry") == []
    assert sandbox.balance("USD") == balance_before

    # Then for real: everything is paid.
    assert_all_paid(Batch(client).run(file), sandbox, "dry")


def test_rerunning_the_same_file_pays_nothing_new(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = write_csv(
        tmp_path / "again.csv",
        ["customer_no", "account_token", "amount", "currency", "invoice_id"],
        rows_for(customer_no, account_token, "again"),
    )
    first = Batch(client).run(file)
    balance_after_first = sandbox.balance("USD")
    payouts_after_first = len(sandbox.payouts())
    second = Batch(client).run(file)
    assert_all_paid(second, sandbox, "again")
    assert len(sandbox.payouts()) == payouts_after_first
    assert sandbox.balance("USD") == balance_after_first
    assert second.batch == first.batch


def test_insufficient_funds_refuse_to_start(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = write_csv(
        tmp_path / "eur.csv",
        ["customer_no", "account_token", "amount", "currency", "invoice_id"],
        [[customer_no, account_token, "75.00", "EUR", "eur-1"]],
    )
    with pytest.raises(BatchError) as raised:
        Batch(client).run(file)
    assert raised.value.code == "BATCH_INSUFFICIENT_FUNDS"
    [short] = raised.value.shortfalls
    assert (short.currency, short.needed, short.available) == ("EUR", "75.00", "50.00")
    assert paid_invoices(sandbox, "eur") == []


def test_status_follows_up_and_reports_and_events_are_recorded(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = write_csv(
        tmp_path / "follow.csv",
        ["customer_no", "account_token", "amount", "currency", "invoice_id"],
        rows_for(customer_no, account_token, "follow") + [[customer_no, account_token, "1.00", "USD", "failed-follow"]],
    )
    journal = tmp_path / "follow.journal"
    batch = Batch(client, journal, status_rounds=50, status_backoff=0.05)
    ran = batch.run(file)
    assert ran.paid == len(AMOUNTS) + 1
    followed = batch.status(file)
    assert followed.count("success") == len(AMOUNTS)
    assert followed.count("failed") == 1
    assert not followed.is_success()
    # The latest batch of the journal, with no file named.
    assert batch.report() == followed
    assert batch.status() == followed

    # An IPN for a row: recorded once; a final status is never taken back.
    transaction_no = client.inquire_payout(invoice_id="follow-1").transaction_no
    assert transaction_no is not None
    returned = PayoutEvent(transaction_no=transaction_no, status="returned", invoice_id="follow-1")
    assert batch.apply_event(returned) is True
    assert batch.apply_event(returned) is False
    stale = PayoutEvent(transaction_no=transaction_no, status="pending", invoice_id="follow-1")
    assert batch.apply_event(stale) is False
    assert batch.apply_event(PayoutEvent(transaction_no="1", status="success", invoice_id="elsewhere")) is False
    assert batch.report(file).count("returned") == 1


def test_report_writing_csv_and_json(client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = write_csv(
        tmp_path / "report.csv",
        ["customer_no", "account_token", "amount", "currency", "invoice_id"],
        rows_for(customer_no, account_token, "report") + [[customer_no, account_token, "abc", "USD", "report-bad"]],
    )
    batch = Batch(client, skip_invalid=True)
    batch.run(file)

    out = tmp_path / "out.csv"
    batch.write_report(out, file)
    with out.open(newline="", encoding="utf-8") as f:
        written = list(csv.DictReader(f))
    assert len(written) == len(AMOUNTS) + 1
    assert {w["invoiceId"] for w in written} == {f"report-{n}" for n in range(1, len(AMOUNTS) + 1)} | {"report-bad"}
    assert [w["state"] for w in written if w["invoiceId"] == "report-bad"] == ["invalid"]
    assert all(w["transactionNo"] for w in written if w["state"] != "invalid")

    text = io.StringIO()
    batch.write_report(text, file, format="json")
    document = json.loads(text.getvalue())
    assert document["summary"]["rows"] == len(AMOUNTS)
    assert len(document["rows"]) == len(AMOUNTS) + 1

    binary = io.BytesIO()
    batch.write_report(binary, file, format="csv")
    assert binary.getvalue().decode("utf-8") == out.read_text(encoding="utf-8")

    with pytest.raises(ConfigurationError) as bad_format:
        batch.write_report(io.BytesIO(), file, format="xml")  # type: ignore[arg-type]
    assert bad_format.value.field == "format"


def test_errors_before_anything_runs(client: Client, tmp_path: Path) -> None:
    # No journal and no file: nothing to look in.
    with pytest.raises(ConfigurationError) as no_journal:
        Batch(client).report()
    assert no_journal.value.field == "journal"
    # No journal there: not found, and none made.
    with pytest.raises(BatchError) as not_found:
        Batch(client, tmp_path / "empty.journal").report()
    assert not_found.value.code == "BATCH_NOT_FOUND"
    assert not (tmp_path / "empty.journal").exists()
    with pytest.raises(BatchError) as no_report:
        Batch(client, tmp_path / "empty.journal").write_report(tmp_path / "report.csv")
    assert no_report.value.code == "BATCH_NOT_FOUND"
    assert not (tmp_path / "report.csv").exists()
    # Options out of range: the core's rule, named.
    file = write_csv(tmp_path / "x.csv", ["customer_no", "account_token", "amount", "currency", "invoice_id"], [])
    with pytest.raises(ConfigurationError) as concurrency:
        Batch(client, concurrency=0).run(file)
    assert concurrency.value.field == "concurrency"
    with pytest.raises(ConfigurationError) as rate:
        Batch(client, rate=-1.0).run(file)
    assert rate.value.field == "rate"
    with pytest.raises(ConfigurationError):
        Batch(client, format="xml")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Batch("not a client")  # type: ignore[arg-type]


def test_ctrl_c_stops_the_batch_cleanly(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = write_csv(
        tmp_path / "interrupted.csv",
        ["customer_no", "account_token", "amount", "currency", "invoice_id"],
        [[customer_no, account_token, "1.00", "USD", f"interrupted-{n}"] for n in range(40)],
    )
    interrupt = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    interrupt.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            Batch(client, concurrency=1, rate=20.0).run(file)
    finally:
        interrupt.cancel()
    # Stopped cleanly: nothing left in flight, the rest still to pay.
    stopped = Batch(client).report(file)
    assert stopped.count("sending") == 0
    assert 0 < stopped.paid < 40
    assert stopped.paid + stopped.count("planned") == 40
    assert len(paid_invoices(sandbox, "interrupted")) == stopped.paid
    # The rerun pays the rest, each row once.
    assert Batch(client).run(file).paid == 40
    invoices = paid_invoices(sandbox, "interrupted")
    assert len(invoices) == len(set(invoices)) == 40


def test_an_exception_in_the_progress_callback_stops_the_batch(client: Client, tmp_path: Path) -> None:
    customer_no, account_token = new_payee_and_account(client)
    file = write_csv(
        tmp_path / "stop.csv",
        ["customer_no", "account_token", "amount", "currency", "invoice_id"],
        rows_for(customer_no, account_token, "stop"),
    )

    def on_progress(progress: Progress) -> None:
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        Batch(client, concurrency=1, on_progress=on_progress).run(file)
    # Stopped cleanly: nothing left in flight.
    assert Batch(client).report(file).count("sending") == 0
    # Running it again finishes the batch, each row paid once.
    report = Batch(client).run(file)
    assert report.paid == len(AMOUNTS)


def test_async_batch(sandbox: Sandbox, tmp_path: Path) -> None:
    async def main() -> None:
        client = sandbox.async_client()
        customer_no, account_token = new_payee_and_account(sandbox.client())
        file = write_csv(
            tmp_path / "async.csv",
            ["customer_no", "account_token", "amount", "currency", "invoice_id"],
            rows_for(customer_no, account_token, "async"),
        )
        loop_thread = threading.get_ident()
        seen: list[Progress] = []

        def on_progress(progress: Progress) -> None:
            assert threading.get_ident() == loop_thread
            seen.append(progress)

        batch = AsyncBatch(client, on_progress=on_progress, status_backoff=0.05, status_rounds=50)
        # Other tasks keep running while the batch does.
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        ticking = asyncio.ensure_future(ticker())
        report = await batch.run(file)
        ticking.cancel()
        assert_all_paid(report, sandbox, "async")
        assert ticks > 0
        assert any(p.phase == "paying" and p.done == len(AMOUNTS) for p in seen)

        followed = await batch.status(file)
        assert followed.count("success") == len(AMOUNTS)
        assert await batch.report(file) == followed
        buffer = io.BytesIO()
        await batch.write_report(buffer, file, format="json")
        assert json.loads(buffer.getvalue())["summary"]["states"]["success"] == len(AMOUNTS)
        out = tmp_path / "async-report.csv"
        await batch.write_report(out, file)
        assert len(out.read_text(encoding="utf-8").splitlines()) == len(AMOUNTS) + 1
        event = PayoutEvent(transaction_no="x", status="returned", invoice_id="async-1")
        assert await AsyncBatch(client, default_journal_path(file)).apply_event(event) is True

        # A refused file, from the coroutine.
        bad = write_csv(tmp_path / "async-bad.csv", ["customer_no", "account_token", "amount", "currency", "invoice_id"],
                        [[customer_no, account_token, "-1", "USD", "async-bad"]])
        with pytest.raises(BatchError) as raised:
            await AsyncBatch(client).run(bad)
        assert raised.value.code == "BATCH_INVALID_ROWS"
        assert [(r.row, r.field) for r in raised.value.rows] == [(2, "amount")]

        # A sync client works too; an exception in the callback fails the run.
        def boom(progress: Progress) -> None:
            raise ValueError("boom")

        again = write_csv(tmp_path / "async-again.csv", ["customer_no", "account_token", "amount", "currency", "invoice_id"],
                          rows_for(customer_no, account_token, "async-again"))
        with pytest.raises(ValueError, match="boom"):
            await AsyncBatch(sandbox.client(), on_progress=boom).run(again)
        finished = await AsyncBatch(sandbox.client()).run(again)
        assert finished.paid == len(AMOUNTS)

    asyncio.run(main())


def test_async_batch_is_cancellable(sandbox: Sandbox, tmp_path: Path) -> None:
    async def main() -> None:
        client: AsyncClient = sandbox.async_client()
        customer_no, account_token = new_payee_and_account(sandbox.client())
        file = write_csv(
            tmp_path / "cancel.csv",
            ["customer_no", "account_token", "amount", "currency", "invoice_id"],
            [[customer_no, account_token, "1.00", "USD", f"cancel-{n}"] for n in range(40)],
        )
        task = asyncio.ensure_future(AsyncBatch(client, concurrency=1, rate=20.0).run(file))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Stopped cleanly before the cancellation went on: nothing in flight.
        stopped = await AsyncBatch(client).report(file)
        assert stopped.count("sending") == 0 and stopped.count("planned") > 0
        # Resumed: every row paid once in the end.
        report = await AsyncBatch(client).run(file)
        assert report.paid == 40
        invoices = paid_invoices(sandbox, "cancel")
        assert len(invoices) == len(set(invoices)) == 40

    asyncio.run(main())
