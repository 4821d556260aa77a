"""Batch payouts: pay every row of a CSV or JSON Lines file, journaled so
that running the same file again continues where the last run stopped and
never pays a row twice.

The engine is the SDK's Rust core (``pockyt_payouts::batch``); this module
only carries its calls across and types its answers:

- every row is checked by the same rules as :meth:`Client.pay
  <pockyt_payouts.Client.pay>` before any money moves, and a refused file
  raises :class:`BatchError` (``BATCH_INVALID_ROWS``) naming each row, field
  and rule (or, with ``skip_invalid=True``, the valid rows run and the
  others are reported);
- each row is written to the journal (SQLite, ``<file>.journal`` unless
  ``journal`` names another) before its pay is sent, with an idempotency
  key; a rerun settles rows a crash left in flight by inquiry;
- the balance is checked before the first pay (``BATCH_INSUFFICIENT_FUNDS``
  unless ``skip_funds_check=True``); ``concurrency`` pays in flight and an
  optional ``rate`` limit pace the run;
- :meth:`Batch.status` follows ``pending`` rows up, :meth:`Batch.apply_event`
  records a verified IPN, :meth:`Batch.report` and :meth:`Batch.write_report`
  tell what came of it.

A CSV file has a header row naming pay fields in snake_case
(``customer_no``) or wire spelling (``customerNo``): ``customer_no``,
``account_token``, ``amount``, ``currency`` and ``invoice_id`` are required,
the other pay fields (``ipn_url``, ``note``, ...) optional. A JSON Lines file
(``.jsonl``) has one object per line with the same names.

>>> from pockyt_payouts import Client
>>> from pockyt_payouts.batch import Batch
>>> batch = Batch(Client.from_env(), on_progress=print)  # doctest: +SKIP
>>> report = batch.run("may-payouts.csv")  # doctest: +SKIP
>>> report.paid, report.is_success()  # doctest: +SKIP
(120, True)
"""

from __future__ import annotations

import asyncio
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Awaitable, Callable, ClassVar, Literal, Mapping, Union, cast

from . import _native
from ._client import AsyncClient, Client
from ._models import PayoutEvent
from ._names import snake
from .errors import PockytError

__all__ = [
    "Batch",
    "AsyncBatch",
    "BatchReport",
    "BatchInfo",
    "Total",
    "RowError",
    "Shortfall",
    "Progress",
    "BatchError",
    "ROW_STATES",
    "default_journal_path",
]

StrPath = Union[str, os.PathLike[str]]
"""A path: ``str`` or :class:`os.PathLike` (``pathlib.Path``)."""

InputFormat = Literal["csv", "jsonl"]
"""How a batch file is written (``None``: by its name; ``.jsonl`` and
``.ndjson`` are JSON Lines, anything else CSV)."""

ReportFormat = Literal["csv", "json"]
"""How :meth:`Batch.write_report` writes rows."""

ROW_STATES: tuple[str, ...] = ("planned", "sending", "pending", "success", "failed", "returned", "refused", "unknown")
"""Where a row of a batch stands, in lifecycle order (the keys of
:attr:`BatchReport.states`): ``planned`` (journaled, not sent), ``sending``
(may have been sent; settled by inquiry on the next run), ``pending`` (the
API took it), ``success``, ``failed``, ``returned``, ``refused`` (the API or
the SDK's rules refused it: nothing paid), ``unknown`` (may or may not have
been paid: :meth:`Batch.status` looks it up again)."""


def default_journal_path(file: StrPath) -> Path:
    """The journal a file's batch uses when none is named: ``<file>.journal``
    beside it (the Rust core's rule)."""
    return Path(_native.batch_default_journal(file))


@dataclass(frozen=True)
class RowError:
    """One row that cannot be paid."""

    row: int
    """The row's line in the file, from 1 (in a CSV file the header is row
    1, the first payout row 2, as a spreadsheet shows it)."""
    field: str
    """The field at fault, snake_case (``amount``, ``invoice_id``), or
    ``row`` when the row as a whole cannot be read."""
    rule: str
    """The rule it broke, in words."""
    code: str
    """``INVALID_REQUEST`` (the pay rules), ``DUPLICATE_INVOICE_ID`` (the
    invoice id is already in the file or the journal) or ``INVALID_ROW``
    (the row cannot be read)."""
    invoice_id: str | None = None
    """The row's invoice id, when it has one."""

    @classmethod
    def _from_native(cls, fields: Mapping[str, Any]) -> RowError:
        return cls(
            row=int(fields["row"]),
            field=snake(str(fields["field"])),
            rule=str(fields["rule"]),
            code=str(fields["code"]),
            invoice_id=fields.get("invoiceId"),
        )


@dataclass(frozen=True)
class Shortfall:
    """A currency whose balance does not cover the rows still to pay."""

    currency: str
    """The currency."""
    needed: str
    """What the rows still to pay add up to, with two fraction digits."""
    available: str
    """The balance available, with two fraction digits."""


@dataclass(frozen=True)
class Total:
    """Rows and their amounts added."""

    rows: int
    """How many rows."""
    amount: str
    """Their amounts added, with two fraction digits."""


@dataclass(frozen=True)
class BatchInfo:
    """A batch in a journal: the file it was read from."""

    id: int
    """The journal's number for it."""
    digest: str
    """The SHA-256 of the file (hex): running the same file again resumes
    this batch."""
    source: str
    """The file's path when it was planned."""
    created_at: str
    """When it was planned (UTC, RFC 3339)."""
    rows: int
    """How many rows were journaled to pay."""
    invalid: int
    """How many rows were refused (kept with ``skip_invalid``)."""


@dataclass(frozen=True)
class BatchReport:
    """What a batch came to: rows per state, amounts per currency and
    state, the first refused rows."""

    batch: BatchInfo | None
    """The batch (``None`` for a dry run of a file the journal did not
    hold: nothing was kept)."""
    source: str
    """The file."""
    dry_run: bool
    """Whether nothing was sent."""
    rows: int
    """Rows to pay (journaled)."""
    invalid: int
    """Rows refused before anything was sent."""
    states: Mapping[str, int]
    """Rows per state (every state of :data:`ROW_STATES`, ``0`` included)."""
    totals: Mapping[str, Mapping[str, Total]]
    """Per currency, per state: how many rows and their amounts added."""
    invalid_rows: list[RowError]
    """The first refused rows (100 at most)."""
    paid: int
    """How many rows the API took (``pending`` or ``success``)."""
    success: bool
    """See :meth:`is_success`."""

    def is_success(self) -> bool:
        """Whether every row ended well: none refused before sending, and
        every journaled row ``pending`` or ``success`` (for a dry run: no
        row refused). The Rust core decides it."""
        return self.success

    def count(self, state: str) -> int:
        """How many rows are in ``state`` (one of :data:`ROW_STATES`)."""
        return self.states.get(state, 0)

    @classmethod
    def _from_native(cls, answer: Mapping[str, Any]) -> BatchReport:
        batch = answer.get("batch")
        return cls(
            batch=None
            if batch is None
            else BatchInfo(
                id=int(batch["id"]),
                digest=str(batch["digest"]),
                source=str(batch["source"]),
                created_at=str(batch["createdAt"]),
                rows=int(batch["rows"]),
                invalid=int(batch["invalid"]),
            ),
            source=str(answer["source"]),
            dry_run=bool(answer["dryRun"]),
            rows=int(answer["rows"]),
            invalid=int(answer["invalid"]),
            states={str(k): int(v) for k, v in answer["states"].items()},
            totals={
                str(currency): {str(state): Total(rows=int(t["rows"]), amount=str(t["amount"])) for state, t in by_state.items()}
                for currency, by_state in answer["totals"].items()
            },
            invalid_rows=[RowError._from_native(r) for r in answer["invalidRows"]],
            paid=int(answer["paid"]),
            success=bool(answer["success"]),
        )


@dataclass(frozen=True)
class Progress:
    """How far a batch is, as ``on_progress`` is told."""

    phase: str
    """``checking`` (reading and checking rows), ``paying`` (paying, and
    settling rows a crash left in flight) or ``following`` (following
    pending rows up)."""
    total: int
    """How many rows this phase has to handle (``0`` while checking)."""
    done: int
    """How many it has handled."""
    paid: int
    """Of those, how many ended ``pending`` or ``success``."""
    problems: int
    """Of those, how many ended otherwise."""

    @classmethod
    def _from_native(cls, fields: Mapping[str, Any]) -> Progress:
        return cls(
            phase=str(fields["phase"]),
            total=int(fields["total"]),
            done=int(fields["done"]),
            paid=int(fields["paid"]),
            problems=int(fields["problems"]),
        )


class BatchError(PockytError):
    """A batch that cannot run, or go on, with a stable ``code``:

    - ``BATCH_INPUT``: the file cannot be read as a batch (missing, a header
      naming no pay field, a required column missing): ``path``, ``line``,
      ``field`` (the column) and ``rule`` say what;
    - ``BATCH_INVALID_ROWS``: rows were refused (``rows``, the first 100 of
      ``count``) and ``skip_invalid`` is off; nothing was sent;
    - ``BATCH_INSUFFICIENT_FUNDS``: the balance does not cover the rows
      (``shortfalls``); nothing was sent;
    - ``BATCH_IN_PROGRESS``: another run holds the ``journal``;
    - ``BATCH_NOT_FOUND``: the journal holds no batch of this file;
    - ``BATCH_JOURNAL``: the journal (or a report file) could not be
      written; a rerun resumes;
    - ``BATCH_OTHER_MERCHANT``: the ``journal`` holds the payouts of
      another merchant or store than the client's; nothing was sent.

    A call the batch made that failed (the balance, say) raises that call's
    own error (:class:`~pockyt_payouts.errors.NetworkError`, ...), with its
    code.
    """

    CODE: ClassVar[str | None] = None

    rows: list[RowError]
    """The refused rows (``BATCH_INVALID_ROWS``; empty otherwise)."""
    count: int | None
    """How many rows were refused (``BATCH_INVALID_ROWS``)."""
    shortfalls: list[Shortfall]
    """Each currency short (``BATCH_INSUFFICIENT_FUNDS``; empty otherwise)."""
    path: str | None
    """The file (``BATCH_INPUT``)."""
    line: int | None
    """The line at fault, when there is one (``BATCH_INPUT``)."""
    rule: str | None
    """The rule broken (``BATCH_INPUT``)."""
    journal: str | None
    """The journal another run holds (``BATCH_IN_PROGRESS``), or that holds
    another merchant's payouts (``BATCH_OTHER_MERCHANT``)."""


def _error_from_native(message: str, code: str, details: Mapping[str, Any]) -> BatchError:
    """The exception for a batch error of the native layer (called by it only)."""
    error = BatchError(message, code=code, field=details.get("field"))
    error.rows = [RowError._from_native(r) for r in details.get("rows", [])]
    error.count = details.get("count")
    error.shortfalls = [
        Shortfall(currency=str(s["currency"]), needed=str(s["needed"]), available=str(s["available"]))
        for s in details.get("shortfalls", [])
    ]
    error.path = details.get("path")
    error.line = details.get("line")
    error.rule = details.get("rule")
    error.journal = details.get("journal")
    return error


def _event_fields(event: PayoutEvent) -> dict[str, object]:
    """A verified IPN's event as the native layer reads it (wire names)."""
    if not isinstance(event, PayoutEvent):
        raise TypeError("event must be a PayoutEvent (from pockyt_payouts.webhooks.construct_event)")
    fields: dict[str, object] = {}
    for wire, attribute in PayoutEvent._ATTRIBUTES.items():
        value = getattr(event, attribute)
        if value is not None:
            fields[wire] = value
    return fields


def _write_out(out: IO[bytes] | IO[str], data: bytes) -> None:
    if isinstance(out, io.TextIOBase):
        cast("IO[str]", out).write(data.decode("utf-8"))
    else:
        cast("IO[bytes]", out).write(data)


async def _stoppable(started: tuple[Awaitable[dict[str, Any]], _native.BatchStop]) -> dict[str, Any]:
    """Awaits a run (or status) of the native batch; when the awaiting task
    is cancelled, stops the batch cleanly (the pays in flight finish and are
    recorded, rows not sent go back to planned) and waits for it before the
    cancellation goes on. Cancelled again meanwhile, it abandons the batch
    at once (the next run settles what was in flight)."""
    future, stop = started
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop.stop()
        try:
            await future
        except BaseException:
            pass  # The batch's own outcome; this task was cancelled.
        raise


class _BaseBatch:
    """Construction shared by :class:`Batch` and :class:`AsyncBatch`."""

    __slots__ = ("_native", "_on_progress")

    _native: _native.NativeBatch
    _on_progress: Callable[[Progress], object] | None

    def __init__(
        self,
        client: Client | AsyncClient,
        journal: StrPath | None = None,
        *,
        concurrency: int | None = None,
        rate: float | None = None,
        dry_run: bool = False,
        skip_invalid: bool = False,
        skip_funds_check: bool = False,
        format: InputFormat | None = None,
        status_rounds: int | None = None,
        status_backoff: float | None = None,
        on_progress: Callable[[Progress], object] | None = None,
    ) -> None:
        """A batch paying through ``client``.

        Options left ``None`` take the Rust core's defaults; the core checks
        them when a batch runs (``ConfigurationError`` naming the option).

        :param client: The client that pays (a :class:`~pockyt_payouts.Client`
            or :class:`~pockyt_payouts.AsyncClient`: either works with
            either kind of batch).
        :param journal: The journal's path (SQLite, created if missing).
            ``None``: each file's own, ``<file>.journal`` beside it.
        :param concurrency: Pays in flight at once, 1 to 256 (default 8).
        :param rate: At most this many pays started per second (default: no
            limit).
        :param dry_run: Check, journal and report, but send nothing: no
            money moves (the funds check still reads the balance).
        :param skip_invalid: Run the valid rows and report the refused ones,
            instead of refusing the whole file.
        :param skip_funds_check: Start even when the balance does not cover
            the rows.
        :param format: ``"csv"`` or ``"jsonl"`` (default: by the file's
            name).
        :param status_rounds: :meth:`status`: rounds of inquiries at most
            (default 5).
        :param status_backoff: :meth:`status`: seconds to wait after the
            first round that leaves rows pending, doubled each round up to
            30 (default 1).
        :param on_progress: Called with a :class:`Progress` as rows are
            checked, paid and followed up (on the thread that called
            :meth:`Batch.run`; on the event loop for :class:`AsyncBatch`).
            An exception it raises stops the batch cleanly (the pays in
            flight finish and are recorded) and is then raised.
        """
        if not isinstance(client, (Client, AsyncClient)):
            raise TypeError("client must be a pockyt_payouts.Client or AsyncClient")
        self._native = _native.NativeBatch(
            client._native,
            journal,
            concurrency=concurrency,
            rate=rate,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            skip_funds_check=skip_funds_check,
            format=format,
            status_rounds=status_rounds,
            status_backoff=status_backoff,
        )
        self._on_progress = on_progress

    @property
    def journal(self) -> Path | None:
        """The journal given (``None``: each file's :func:`default_journal_path`)."""
        journal = self._native.journal
        return None if journal is None else Path(journal)

    def _progress(self) -> Callable[[Mapping[str, Any]], object] | None:
        callback = self._on_progress
        if callback is None:
            return None

        def call(fields: Mapping[str, Any]) -> object:
            return callback(Progress._from_native(fields))

        return call

    def __repr__(self) -> str:
        return f"{type(self).__name__}(journal={self.journal!r})"


class Batch(_BaseBatch):
    """Batch payouts, blocking: see the module's documentation.

    Each method waits with the GIL released; ``on_progress`` is called on
    the calling thread. Ctrl-C stops the batch cleanly (no new pay starts,
    the pays in flight finish and are recorded, rows not sent go back to
    ``planned``) and then raises ``KeyboardInterrupt``; a second Ctrl-C
    meanwhile abandons it at once. Either way, running the file again
    continues the batch, never paying a row twice.
    """

    __slots__ = ()

    def run(self, file: StrPath) -> BatchReport:
        """Runs the batch of ``file``: checks and journals every row (or,
        when the journal already holds this file, resumes it), checks the
        funds, pays every row not yet paid, and answers the report. Rows that
        failed are in the report, not raised.

        :raises BatchError: the file or a row is refused (nothing sent), the
            funds are short, another run holds the journal, or the journal
            cannot be written.
        :raises ConfigurationError: an option is out of range.
        """
        return BatchReport._from_native(self._native.run(file, self._progress()))

    def status(self, file: StrPath | None = None) -> BatchReport:
        """Follows the batch of ``file`` (the journal's latest when ``None``)
        up: inquires every ``pending``, ``unknown`` and ``sending`` row, in
        rounds, until none is pending; sends no pay. Answers the report.

        :raises BatchError: ``BATCH_NOT_FOUND`` when the journal holds no
            such batch.
        """
        return BatchReport._from_native(self._native.status(file, self._progress()))

    def report(self, file: StrPath | None = None) -> BatchReport:
        """The report of the batch of ``file`` (the journal's latest when
        ``None``), from the journal alone: nothing is sent.

        :raises BatchError: ``BATCH_NOT_FOUND`` when there is no journal at
            the path, or it holds no such batch.
        """
        return BatchReport._from_native(self._native.report(file))

    def write_report(
        self, path_or_file: StrPath | IO[bytes] | IO[str], file: StrPath | None = None, format: ReportFormat = "csv"
    ) -> None:
        """Writes every row of the batch of ``file`` (the journal's latest
        when ``None``): each payout with its state, transaction number and
        error, then each refused row (state ``invalid``), as ``"csv"`` (a
        header row first) or ``"json"`` (``{"summary": ..., "rows": [...]}``,
        wire names). ``path_or_file`` is a path (the file is written by the
        Rust core, a page of rows at a time) or an open file (binary or
        text).

        :raises BatchError: ``BATCH_NOT_FOUND`` when there is no journal at
            the path, or it holds no such batch (no file is then written);
            ``BATCH_JOURNAL`` when the report cannot be written.
        """
        if isinstance(path_or_file, (str, os.PathLike)):
            self._native.write_report(file, format, path_or_file)
        else:
            _write_out(path_or_file, cast(bytes, self._native.write_report(file, format, None)))

    def apply_event(self, event: PayoutEvent) -> bool:
        """Records a verified IPN (:func:`pockyt_payouts.webhooks.construct_event`)
        in the journal: the row with the event's invoice id moves to the
        event's status, unless that would take back a final status. Answers
        whether a row changed (``False`` for a payout of no batch of this
        journal). Needs ``journal``, which must exist (``BATCH_NOT_FOUND``
        otherwise)."""
        return bool(self._native.apply_event(_event_fields(event)))


class AsyncBatch(_BaseBatch):
    """Batch payouts for asyncio: the methods of :class:`Batch`, as
    coroutines. The batch runs on the SDK's runtime and never blocks the
    event loop; ``on_progress`` is called on the loop. Cancelling the
    task awaiting :meth:`run` or :meth:`status` stops the batch cleanly
    before the cancellation goes on, as Ctrl-C stops :class:`Batch`.
    """

    __slots__ = ()

    async def run(self, file: StrPath) -> BatchReport:
        """See :meth:`Batch.run`."""
        return BatchReport._from_native(await _stoppable(self._native.run_async(file, self._progress())))

    async def status(self, file: StrPath | None = None) -> BatchReport:
        """See :meth:`Batch.status`."""
        return BatchReport._from_native(await _stoppable(self._native.status_async(file, self._progress())))

    async def report(self, file: StrPath | None = None) -> BatchReport:
        """See :meth:`Batch.report`."""
        return BatchReport._from_native(await self._native.report_async(file))

    async def write_report(
        self, path_or_file: StrPath | IO[bytes] | IO[str], file: StrPath | None = None, format: ReportFormat = "csv"
    ) -> None:
        """See :meth:`Batch.write_report` (an open file is written on the
        event loop's thread)."""
        if isinstance(path_or_file, (str, os.PathLike)):
            await self._native.write_report_async(file, format, path_or_file)
        else:
            _write_out(path_or_file, cast(bytes, await self._native.write_report_async(file, format, None)))

    async def apply_event(self, event: PayoutEvent) -> bool:
        """See :meth:`Batch.apply_event`."""
        return bool(await self._native.apply_event_async(_event_fields(event)))
