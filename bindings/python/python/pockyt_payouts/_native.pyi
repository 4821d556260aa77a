# Hand-written stub of the extension module built from bindings/python/src
# (Rust, PyO3). Checked against the built module by `python -m mypy.stubtest`.
import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Literal, Mapping, TypeVar, final, overload

__all__ = [
    "NativeClient",
    "NativeSandbox",
    "NativeBatch",
    "BatchStop",
    "batch_default_journal",
    "_cli_main",
    "sign",
    "verify_ipn",
    "snake_case",
    "camel_case",
    "construct_event",
    "event_from_fields",
    "check_api_token",
    "dedup_key",
    "reply_for",
    "outcome_for_claim",
    "NativeMemoryEventStore",
    "NativeSqliteEventStore",
    "IPN_ERROR_CODES",
    "IPN_MAX_BODY_BYTES",
    "IPN_SUCCESS_BODY",
    "IPN_CONTENT_TYPE",
    "_shutdown_runtime",
    "_reset_after_fork",
    "_runtime_started",
    "__version__",
]

# A result class of `pockyt_payouts._models` (built by the native layer).
_R = TypeVar("_R")
__version__: str
IPN_ERROR_CODES: list[str]
IPN_MAX_BODY_BYTES: int
IPN_SUCCESS_BODY: str
IPN_CONTENT_TYPE: str

@final
class NativeClient:
    def __new__(cls, options: dict[str, object]) -> NativeClient: ...
    @staticmethod
    def from_env(options: dict[str, object]) -> NativeClient: ...
    @property
    def base_url(self) -> str: ...
    @property
    def merchant_no(self) -> str: ...
    @property
    def store_no(self) -> str: ...
    @property
    def timeout(self) -> float: ...
    @property
    def connect_timeout(self) -> float: ...
    @overload
    def call(
        self,
        operation: str,
        params: dict[str, object],
        timeout: object = None,
        connect_timeout: object = None,
        deadline: object = None,
        idempotency_key: object = None,
        result: None = None,
    ) -> dict[str, Any]: ...
    @overload
    def call(
        self,
        operation: str,
        params: dict[str, object],
        timeout: object = None,
        connect_timeout: object = None,
        deadline: object = None,
        idempotency_key: object = None,
        *,
        result: type[_R],
    ) -> _R: ...
    @overload
    def call_async(
        self,
        operation: str,
        params: dict[str, object],
        timeout: object = None,
        connect_timeout: object = None,
        deadline: object = None,
        idempotency_key: object = None,
        result: None = None,
    ) -> Awaitable[dict[str, Any]]: ...
    @overload
    def call_async(
        self,
        operation: str,
        params: dict[str, object],
        timeout: object = None,
        connect_timeout: object = None,
        deadline: object = None,
        idempotency_key: object = None,
        *,
        result: type[_R],
    ) -> Awaitable[_R]: ...

@final
class NativeSandbox:
    def __new__(cls, options: dict[str, object]) -> NativeSandbox: ...
    @property
    def base_url(self) -> str: ...
    @property
    def merchant_no(self) -> str: ...
    @property
    def store_no(self) -> str: ...
    @property
    def api_token(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def payouts(self, result: type[_R]) -> list[_R]: ...
    def balance(self, currency: str) -> str | None: ...
    def ipn_log(self) -> list[dict[str, Any]]: ...
    def state(self) -> dict[str, Any]: ...
    def resend_ipn(self, invoice_id: str) -> bool: ...
    def reset(self) -> None: ...
    def shutdown(self) -> None: ...

_Path = str | os.PathLike[str]
_OnProgress = Callable[[dict[str, Any]], object] | None

@final
class NativeBatch:
    def __new__(
        cls,
        client: NativeClient,
        journal: _Path | None = None,
        *,
        concurrency: int | None = None,
        rate: float | None = None,
        dry_run: bool = False,
        skip_invalid: bool = False,
        skip_funds_check: bool = False,
        format: str | None = None,
        status_rounds: int | None = None,
        status_backoff: float | None = None,
    ) -> NativeBatch: ...
    @property
    def journal(self) -> Path | None: ...
    def run(self, file: _Path, on_progress: _OnProgress = None) -> dict[str, Any]: ...
    def status(self, file: _Path | None = None, on_progress: _OnProgress = None) -> dict[str, Any]: ...
    def report(self, file: _Path | None = None) -> dict[str, Any]: ...
    def write_report(self, file: _Path | None = None, format: str = "csv", out: _Path | None = None) -> bytes | None: ...
    def apply_event(self, event: dict[str, object]) -> bool: ...
    def run_async(
        self, file: _Path, on_progress: _OnProgress = None
    ) -> tuple[Awaitable[dict[str, Any]], BatchStop]: ...
    def status_async(
        self, file: _Path | None = None, on_progress: _OnProgress = None
    ) -> tuple[Awaitable[dict[str, Any]], BatchStop]: ...
    def report_async(self, file: _Path | None = None) -> Awaitable[dict[str, Any]]: ...
    def write_report_async(
        self, file: _Path | None = None, format: str = "csv", out: _Path | None = None
    ) -> Awaitable[bytes | None]: ...
    def apply_event_async(self, event: dict[str, object]) -> Awaitable[bool]: ...

@final
class BatchStop:
    def stop(self) -> None: ...
    @property
    def stopped(self) -> bool: ...

def batch_default_journal(file: str | os.PathLike[str]) -> Path:
    """The default journal of ``file``: ``<file>.journal`` beside it."""

@final
class NativeMemoryEventStore:
    def __new__(cls) -> NativeMemoryEventStore: ...
    def claim(self, key: str) -> Literal["new", "done", "in_progress"]: ...
    def complete(self, key: str) -> None: ...
    def release(self, key: str) -> None: ...
    def __len__(self) -> int: ...

@final
class NativeSqliteEventStore:
    def __new__(cls, path: str) -> NativeSqliteEventStore: ...
    @property
    def path(self) -> str: ...
    def claim(self, key: str) -> Literal["new", "done", "in_progress"]: ...
    def complete(self, key: str) -> None: ...
    def release(self, key: str) -> None: ...

def construct_event(body: bytes | bytearray | str, api_token: str, result: type[_R]) -> _R:
    """Verifies a raw IPN body with the API token; answers the event as an
    instance of ``result``. Raises ``WebhookError`` when refused."""

def event_from_fields(fields: Iterable[Any], api_token: str, result: type[_R]) -> _R:
    """Verifies decoded ``(name, value)`` pairs (a repeated field as repeated
    pairs); answers the event as an instance of ``result``. Raises
    ``WebhookError`` when refused, ``TypeError`` for a name or value that is
    not a str."""

def check_api_token(api_token: str) -> None:
    """Raises ``WebhookError`` (``IPN_EMPTY_TOKEN``) for an empty token."""

def dedup_key(transaction_no: str, status: str) -> str:
    """The key an event is deduplicated by: ``transactionNo:status``."""

def reply_for(name: str, code: str | None = None) -> tuple[int, str]:
    """The answer ``(status, body)`` for the outcome named ``name``."""

def outcome_for_claim(claim: object) -> str | None:
    """The outcome a store's claim answer decides (``None``: run the handler)."""

def sign(params: Mapping[str, str], api_token: str) -> str:
    """Computes ``verifySign`` over ``params`` (a ``verifySign`` among them is
    left out) with the API token: the lowercase hex MD5 of the fields sorted
    by name, joined ``name=value`` with ``&``, then ``&`` and the lowercase
    hex MD5 of the token."""

def verify_ipn(params: Mapping[str, str] | bytes | bytearray | str, api_token: str) -> bool:
    """Checks a received IPN's ``verifySign`` in constant time. ``params`` is
    either the decoded fields or the raw URL-encoded body (``bytes`` or
    ``str``), verified exactly as received. ``False`` when the signature is
    missing, repeated or wrong, or the IPN cannot be read unambiguously (a
    name with ``=`` or ``&``, a value with ``&``, invalid UTF-8, bad
    percent-encoding). Raises ``ConfigurationError`` (``INVALID_CONFIG``,
    field ``api_token``) when ``api_token`` is empty or only whitespace."""

def snake_case(name: str) -> str:
    """``camelCase`` to ``snake_case``: the SDK's one rule
    (``pockyt_payouts::naming::snake_case``; ASCII letters only)."""

def camel_case(name: str) -> str:
    """``snake_case`` to ``camelCase`` (the wire spelling): the SDK's one rule
    (``pockyt_payouts::naming::camel_case``; ASCII letters only)."""

def _cli_main(argv: list[str]) -> int:
    """Runs the ``pockyt-payouts`` command with ``argv`` (the first is the
    program's name), the GIL released; answers its exit code."""

def _shutdown_runtime() -> None: ...
def _reset_after_fork() -> None: ...
def _runtime_started() -> bool: ...
