"""Pay affiliates, sellers and gig workers through the Pockyt (formerly
Yuansfer) **Payouts v3** API.

Register a payee, attach a bank account, pay it, look the payout up, read
the balance, and verify the webhooks (IPN) the API sends back. Every call is
validated, signed, retried when that is safe, and answered with a typed
result or a :class:`PockytError` with a stable ``code``; all of that is done
by the SDK's Rust core (``pockyt_payouts._native``).

>>> from pockyt_payouts import Client
>>> client = Client(merchant_no="202333", store_no="301854", api_token="...")  # doctest: +SKIP
>>> payout = client.pay(customer_no=..., account_token=..., amount="25.00",
...                     currency="USD", invoice_id="inv-0001")  # doctest: +SKIP
"""

from __future__ import annotations

import atexit as _atexit
import os as _os

from . import _native
from ._client import AsyncClient, Client
from ._enums import (
    AccountStatus,
    AccountType,
    BankAccountPurpose,
    Environment,
    GovernmentIdType,
    PayeeStatus,
    PayoutStatus,
    ProcessingChannel,
    ProfileType,
)
from ._models import (
    Balance,
    BankAccount,
    Customer,
    PayeeSummary,
    Payout,
    PayoutAccount,
    PayoutAccounts,
    UpdateResult,
)
from ._native import sign, verify_ipn
from .errors import (
    AccessDeniedError,
    ApiError,
    ApiSystemError,
    ConfigurationError,
    DecodeError,
    HttpError,
    InsufficientBalanceError,
    InvalidRequestError,
    NetworkError,
    NoRelatedInformationError,
    ParameterNullError,
    ParametersMismatchError,
    ParameterValueError,
    PayoutOutcomeUnknownError,
    PockytError,
    PockytTimeoutError,
    SupplierSystemError,
)

__version__: str = _native.__version__

__all__ = [
    "Client",
    "AsyncClient",
    "sign",
    "verify_ipn",
    # results
    "Customer",
    "UpdateResult",
    "BankAccount",
    "PayoutAccount",
    "PayeeSummary",
    "PayoutAccounts",
    "Payout",
    "Balance",
    # enums
    "Environment",
    "ProfileType",
    "GovernmentIdType",
    "AccountType",
    "BankAccountPurpose",
    "ProcessingChannel",
    "PayoutStatus",
    "PayeeStatus",
    "AccountStatus",
    # errors
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

# The native layer's tokio runtime is started lazily by the first call. It
# is shut down at interpreter exit (with the GIL released, before the
# interpreter finalizes), and reset in a forked child, where the parent's
# runtime threads do not exist.
_atexit.register(_native._shutdown_runtime)
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_native._reset_after_fork)
