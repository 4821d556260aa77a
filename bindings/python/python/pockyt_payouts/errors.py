"""The exceptions of ``pockyt_payouts``.

Every error the SDK raises is a :class:`PockytError` with a stable
``code``: the API's ``ret_code`` for errors the API answered
(:class:`ApiError` and one subclass per documented code), and a fixed string
for the rest (``INVALID_REQUEST``, ``INVALID_CONFIG``, ``NETWORK_ERROR``,
``TIMEOUT``, ``HTTP_ERROR``, ``DECODE_ERROR``, ``PAYOUT_OUTCOME_UNKNOWN``).

The native layer (Rust) chooses the class by the error's code and fills in
the attributes; messages never contain the API token.

========================================  ==========================
class                                     ``code``
========================================  ==========================
:class:`ApiSystemError`                   ``000000``
:class:`ParameterNullError`               ``000020``
:class:`NoRelatedInformationError`        ``000021``
:class:`ParametersMismatchError`          ``000022``
:class:`ParameterValueError`              ``000023``
:class:`AccessDeniedError`                ``000030``
:class:`InsufficientBalanceError`         ``000040``
:class:`SupplierSystemError`              ``000080``
:class:`ApiError` (any other ret_code)    the ret_code
:class:`InvalidRequestError`              ``INVALID_REQUEST``
:class:`ConfigurationError`               ``INVALID_CONFIG``
:class:`NetworkError`                     ``NETWORK_ERROR``
:class:`PockytTimeoutError`               ``TIMEOUT``
:class:`HttpError`                        ``HTTP_ERROR``
:class:`DecodeError`                      ``DECODE_ERROR``
:class:`PayoutOutcomeUnknownError`        ``PAYOUT_OUTCOME_UNKNOWN``
========================================  ==========================
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "PockytError",
    "ApiError",
    "ApiSystemError",
    "ParameterNullError",
    "NoRelatedInformationError",
    "ParametersMismatchError",
    "ParameterValueError",
    "AccessDeniedError",
    "InsufficientBalanceError",
    "SupplierSystemError",
    "InvalidRequestError",
    "ConfigurationError",
    "NetworkError",
    "PockytTimeoutError",
    "HttpError",
    "DecodeError",
    "PayoutOutcomeUnknownError",
]


def _restore(cls: type[PockytError], message: str, attributes: dict[str, Any]) -> PockytError:
    error = cls.__new__(cls, message)
    Exception.__init__(error, message)
    error.__dict__.update(attributes)
    return error


class PockytError(Exception):
    """Base class of every error of the SDK.

    ``code`` is stable (match on it or on the class); ``message`` is for
    people and never contains the API token.
    """

    code: str
    message: str

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not survive Exception's default
        # pickling; rebuild from the message and the attributes instead.
        return (_restore, (type(self), self.message, dict(self.__dict__)))


class ApiError(PockytError):
    """The API refused the call: ``code`` is its ``ret_code``, ``ret_msg``
    its message (may be empty). Raised as such for a ret_code this SDK does
    not know; the documented codes have a subclass each."""

    ret_msg: str

    def __init__(self, message: str, *, code: str, ret_msg: str = "") -> None:
        super().__init__(message, code=code)
        self.ret_msg = ret_msg


class _KnownApiError(ApiError):
    RET_CODE: ClassVar[str] = ""

    def __init__(self, message: str, *, ret_msg: str = "") -> None:
        super().__init__(message, code=self.RET_CODE, ret_msg=ret_msg)


class ApiSystemError(_KnownApiError):
    """``000000``: the API's system error. Read-only calls were already
    retried (see "Retries and safety")."""

    RET_CODE: ClassVar[str] = "000000"


class ParameterNullError(_KnownApiError):
    """``000020``: the API found a mandatory parameter missing."""

    RET_CODE: ClassVar[str] = "000020"


class NoRelatedInformationError(_KnownApiError):
    """``000021``: no related information: an unknown ``customer_no``,
    ``account_token`` or ``invoice_id``."""

    RET_CODE: ClassVar[str] = "000021"


class ParametersMismatchError(_KnownApiError):
    """``000022``: parameters do not match (for example an account that is
    not the payee's)."""

    RET_CODE: ClassVar[str] = "000022"


class ParameterValueError(_KnownApiError):
    """``000023``: the API refused a parameter's value."""

    RET_CODE: ClassVar[str] = "000023"


class AccessDeniedError(_KnownApiError):
    """``000030``: no rights / access denied: a wrong API token (bad
    signature), merchant number or store number."""

    RET_CODE: ClassVar[str] = "000030"


class InsufficientBalanceError(_KnownApiError):
    """``000040``: the merchant's balance is not sufficient for the payout."""

    RET_CODE: ClassVar[str] = "000040"


class SupplierSystemError(_KnownApiError):
    """``000080``: the supplier's system failed. Read-only calls were
    already retried."""

    RET_CODE: ClassVar[str] = "000080"


class InvalidRequestError(PockytError):
    """``INVALID_REQUEST``: an argument broke a rule and nothing was sent.
    ``field`` is the argument's (snake_case) name; the message names the
    rule."""

    field: str | None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, code="INVALID_REQUEST")
        self.field = field


class ConfigurationError(PockytError):
    """``INVALID_CONFIG``: the client's configuration, or a call's
    ``connect_timeout``, is incomplete or wrong (``field`` names the setting,
    argument or environment variable)."""

    field: str | None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, code="INVALID_CONFIG")
        self.field = field


class NetworkError(PockytError):
    """``NETWORK_ERROR``: the connection failed (after the retries that were
    safe)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="NETWORK_ERROR")


class PockytTimeoutError(PockytError):
    """``TIMEOUT``: no complete answer within the timeout. The request may
    have been received."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="TIMEOUT")


class HttpError(PockytError):
    """``HTTP_ERROR``: the server answered a non-2xx HTTP ``status``."""

    status: int | None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, code="HTTP_ERROR")
        self.status = status


class DecodeError(PockytError):
    """``DECODE_ERROR``: the answer was not the JSON this API sends
    (``status`` is its HTTP status)."""

    status: int | None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, code="DECODE_ERROR")
        self.status = status


class PayoutOutcomeUnknownError(PockytError):
    """``PAYOUT_OUTCOME_UNKNOWN``: a ``pay`` request may have reached the
    server and whether it created a payout could not be established.

    Do not pay again under a new invoice id: reconcile later with
    ``inquire_payout(invoice_id=error.invoice_id)``. The last failure is the
    exception's ``__cause__``.
    """

    invoice_id: str

    def __init__(self, message: str, *, invoice_id: str) -> None:
        super().__init__(message, code="PAYOUT_OUTCOME_UNKNOWN")
        self.invoice_id = invoice_id
