"""The error a refused IPN raises: :class:`WebhookError`."""

from __future__ import annotations

from typing import ClassVar

from ._native import reply_for
from .errors import PockytError

__all__ = ["WebhookError"]


class WebhookError(PockytError):
    """An IPN was refused: not verified, or not readable unambiguously. Do
    not act on it; answer :attr:`reply` (non-2xx) so the API resends.

    ``code`` is one of ``IPN_EMPTY_TOKEN`` (the receiver's token is empty: a
    configuration error), ``IPN_MISSING_SIGNATURE``,
    ``IPN_REPEATED_SIGNATURE``, ``IPN_SIGNATURE_MISMATCH``,
    ``IPN_MALFORMED_BODY``; ``reason`` is the same in lowercase without the
    prefix (``signature_mismatch``). The message never shows the IPN's
    values or the token.
    """

    CODE: ClassVar[str | None] = None

    reason: str
    """``empty_token``, ``missing_signature``, ``repeated_signature``,
    ``signature_mismatch`` or ``malformed_body``."""

    @property
    def reply(self) -> tuple[int, str]:
        """The answer to send the API, ``(status, plain-text body)``: ``400
        refused: <code>`` (``500`` for an empty token), from the Rust core."""
        return reply_for("refused", self.code)


def _from_native(message: str, code: str, reason: str) -> WebhookError:
    """The exception for a refusal of the native layer (called by it only)."""
    error = WebhookError(message, code=code)
    error.reason = reason
    return error
