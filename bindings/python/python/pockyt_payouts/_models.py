"""The typed results of the client's calls.

Each result is a frozen dataclass with one snake_case attribute per field
the API documents (``None`` when the answer left it out), plus ``extra``:
the fields this SDK does not know, kept with snake_case names, so nothing
the API answers is lost. The ids a next call needs are never ``None``:
``Customer.customer_no`` and ``BankAccount.account_token`` are typed ``str``
because the Rust core fails the call (``DecodeError``) rather than answer a
success without them. ``to_dict()`` gives the whole answer as a plain
dict (snake_case names; fields absent from the answer left out).

Enumerated values (``status``, ``payee_status``, ...) are plain ``str``:
compare them with the enum members (``payout.status == PayoutStatus.PENDING``);
a value this SDK does not know comes through unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, TypeVar

from ._names import snake, snake_keys

__all__ = [
    "Customer",
    "UpdateResult",
    "BankAccount",
    "PayoutAccount",
    "PayeeSummary",
    "PayoutAccounts",
    "Payout",
    "Balance",
]

_R = TypeVar("_R", bound="_Result")


def _plain(value: Any) -> Any:
    if isinstance(value, _Result):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class _Result:
    """Shared behaviour of the result types (each one a dataclass)."""

    extra: Mapping[str, Any]

    @classmethod
    def _from_wire(cls: type[_R], answer: Mapping[str, Any]) -> _R:
        """Builds the result from the native layer's answer (wire names)."""
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}  # type: ignore[arg-type]
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in answer.items():
            name = snake(key)
            if name in known:
                values[name] = cls._nested(name, value)
            else:
                extra[name] = snake_keys(value)
        values["extra"] = extra
        return cls(**values)

    @classmethod
    def _nested(cls, name: str, value: Any) -> Any:
        return value

    def to_dict(self) -> dict[str, Any]:
        """The answer as a plain dict with snake_case names, unknown fields
        included and absent ones left out."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = _plain(value)
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class Customer(_Result):
    """A payee, as answered by ``register_payee`` and ``retrieve_payee``."""

    customer_no: str
    """The payee's number, assigned by Pockyt: the key of later calls.

    Always a non-empty ``str``: the SDK's Rust core refuses a
    ``register_payee`` / ``retrieve_payee`` success without it (a
    :class:`~pockyt_payouts.DecodeError`), so this field has no default and is
    never ``None``."""
    customer_code: str | None = None
    """The merchant's own reference for this payee."""
    profile_type: str | None = None
    """``INDIVIDUAL`` or ``BUSINESS`` (see :class:`ProfileType`)."""
    payee_status: str | None = None
    """See :class:`PayeeStatus`."""
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    date_of_birth: str | None = None
    """``YYYY-MM-DD``."""
    street: str | None = None
    street2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    lang: str | None = None
    created_time: str | None = None
    """UTC, ``YYYY-MM-DDTHH:MM:SSZ``."""
    updated_time: str | None = None
    """UTC, ``YYYY-MM-DDTHH:MM:SSZ``."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Fields this SDK does not know, snake_case names."""


@dataclass(frozen=True)
class UpdateResult(_Result):
    """The answer of ``update_payee`` (``ret_code`` is ``000100``)."""

    ret_code: str | None = None
    ret_msg: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Fields this SDK does not know, snake_case names."""


@dataclass(frozen=True)
class BankAccount(_Result):
    """A payout account as answered by ``add_bank_account``."""

    account_token: str
    """The token to pay this account with (``pay(account_token=...)``).

    Always a non-empty ``str``: the SDK's Rust core refuses an
    ``add_bank_account`` success without it (a
    :class:`~pockyt_payouts.DecodeError`), so this field has no default and is
    never ``None``."""
    account_tag: str | None = None
    account_status: str | None = None
    """See :class:`AccountStatus`."""
    account_type: str | None = None
    """See :class:`AccountType`."""
    country: str | None = None
    currency: str | None = None
    customer_no: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    timestamp: str | None = None
    """When the account was created, UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Fields this SDK does not know, snake_case names."""


@dataclass(frozen=True)
class PayoutAccount(_Result):
    """A payout account as listed by ``list_payout_accounts``."""

    account_token: str | None = None
    account_tag: str | None = None
    account_type: str | None = None
    """See :class:`AccountType`."""
    status: str | None = None
    """See :class:`AccountStatus`."""
    card_number: str | None = None
    """The account number, masked but for its last four digits."""
    country: str | None = None
    currency: str | None = None
    created_at: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Fields this SDK does not know, snake_case names."""


@dataclass(frozen=True)
class PayeeSummary(_Result):
    """The payee, as summarised by ``list_payout_accounts``."""

    customer_no: str | None = None
    customer_code: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Fields this SDK does not know, snake_case names."""


@dataclass(frozen=True)
class PayoutAccounts(_Result):
    """The answer of ``list_payout_accounts``: the payee's accounts and the
    payee."""

    accounts: list[PayoutAccount] = field(default_factory=list)
    user: PayeeSummary | None = None
    ret_code: str | None = None
    ret_msg: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Fields this SDK does not know, snake_case names."""

    @classmethod
    def _nested(cls, name: str, value: Any) -> Any:
        if name == "accounts" and isinstance(value, list):
            return [PayoutAccount._from_wire(v) if isinstance(v, Mapping) else v for v in value]
        if name == "user" and isinstance(value, Mapping):
            return PayeeSummary._from_wire(value)
        return value


@dataclass(frozen=True)
class Payout(_Result):
    """A payout, as answered by ``pay`` and ``inquire_payout``."""

    transaction_no: str | None = None
    """Pockyt's number for this payout."""
    invoice_id: str | None = None
    """The merchant's invoice id: the key to look the payout up with."""
    status: str | None = None
    """``pending``, ``success``, ``failed`` or ``returned`` (see
    :class:`PayoutStatus`), or a value this SDK does not know."""
    amount: str | None = None
    """The amount, with two fraction digits."""
    currency: str | None = None
    account_token: str | None = None
    customer_no: str | None = None
    created_time: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Fields this SDK does not know, snake_case names."""


@dataclass(frozen=True)
class Balance(_Result):
    """The merchant's payout balance in one currency."""

    currency: str | None = None
    amount: str | None = None
    """The balance available for payouts, with two fraction digits."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Fields this SDK does not know, snake_case names."""
