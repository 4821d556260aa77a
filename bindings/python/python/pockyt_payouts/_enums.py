"""Enumerations of the Payouts v3 API, as ``str``-valued enums.

Members are ``str`` subclasses equal to their wire value
(``ProfileType.INDIVIDUAL == "INDIVIDUAL"``), and ``str()`` of a member is its
value. Arguments accept a member or the plain string.

Answers carry enumerated values as plain ``str``: the API may answer a value
this SDK does not know, which comes through unchanged, while a documented
value arrives in the spelling listed here (the Rust core normalises its case),
so ``payout.status == PayoutStatus.SUCCESS`` is the way to compare.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "Environment",
    "ProfileType",
    "GovernmentIdType",
    "AccountType",
    "BankAccountPurpose",
    "ProcessingChannel",
    "PayoutStatus",
    "PayeeStatus",
    "AccountStatus",
]


class _StrEnum(str, Enum):
    def __str__(self) -> str:
        return str(self.value)


class Environment(_StrEnum):
    """Which of the provider's servers a client talks to."""

    SANDBOX = "sandbox"
    """The provider's hosted sandbox: test credentials, no real money."""
    PRODUCTION = "production"
    """Production: real money."""


class ProfileType(_StrEnum):
    """Kind of payee."""

    INDIVIDUAL = "INDIVIDUAL"
    BUSINESS = "BUSINESS"


class GovernmentIdType(_StrEnum):
    """Kind of government identification."""

    ID_CARD = "ID_CARD"
    SSN = "SSN"
    PASSPORT = "PASSPORT"
    DRIVER_LICENSE = "DRIVER_LICENSE"
    BUSINESS_REGISTRATION_CERT = "BUSINESS_REGISTRATION_CERT"


class AccountType(_StrEnum):
    """Kind of payout account (``add_bank_account`` creates ``BANK_ACCOUNT``)."""

    BANK_ACCOUNT = "BANK_ACCOUNT"
    CARD = "CARD"
    PAYPAL = "PAYPAL"
    PREPAID_CARD = "PREPAID_CARD"
    ALIPAY = "ALIPAY"


class BankAccountPurpose(_StrEnum):
    """Kind of bank account."""

    CHECKING = "CHECKING"
    SAVINGS = "SAVINGS"


class ProcessingChannel(_StrEnum):
    """How a payout is sent."""

    STANDARD_ACH = "STANDARD_ACH"
    SAME_DAY_ACH = "SAME_DAY_ACH"
    REAL_TIME_PAY = "REAL_TIME_PAY"


class PayoutStatus(_StrEnum):
    """Status of a payout."""

    PENDING = "pending"
    """Received; will be processed."""
    SUCCESS = "success"
    """Funds have been credited to the recipient's account."""
    FAILED = "failed"
    """Failed; funds were not deducted from the sender's account."""
    RETURNED = "returned"
    """Cancelled."""


class PayeeStatus(_StrEnum):
    """Status of a payee."""

    ACTIVATED = "Activated"
    PENDING = "Pending"
    DECLINED = "Declined"
    DEACTIVATED = "Deactivated"


class AccountStatus(_StrEnum):
    """Status of a payout account."""

    ACTIVATED = "activated"
    PENDING = "pending"
    INVALID = "invalid"
