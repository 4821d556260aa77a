"""``Client`` (blocking) and ``AsyncClient`` (asyncio).

Both carry every call to the Rust client (``pockyt_payouts._native``), which
validates, signs, maps errors and retries. This module only converts names
(snake_case arguments to the API's camelCase) and enum members to ``str``,
and wraps answers in the typed results of :mod:`pockyt_payouts._models`.
"""

from __future__ import annotations

from typing import Any, Mapping, TypeVar

from ._native import NativeClient
from ._enums import (
    AccountType,
    BankAccountPurpose,
    Environment,
    GovernmentIdType,
    ProcessingChannel,
    ProfileType,
)
from ._models import Balance, BankAccount, Customer, Payout, PayoutAccounts, UpdateResult
from ._names import wire

__all__ = ["Client", "AsyncClient"]

_C = TypeVar("_C", bound="_BaseClient")

class _BaseClient:
    """Construction and settings shared by ``Client`` and ``AsyncClient``."""

    __slots__ = ("_native",)

    _native: NativeClient

    def __init__(
        self,
        *,
        merchant_no: str,
        store_no: str,
        api_token: str,
        environment: Environment | str = Environment.SANDBOX,
        base_url: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        """A client for one merchant and store.

        :param merchant_no: The merchant number assigned by Pockyt.
        :param store_no: The store number assigned by Pockyt.
        :param api_token: The API token. Kept in the native layer only: never
            shown by ``repr()`` nor in an error message.
        :param environment: ``"sandbox"`` (default) or ``"production"``.
        :param base_url: An explicit base URL (a local sandbox, a proxy);
            overrides ``environment``.
        :param timeout: Total time allowed for one attempt of a call, in
            seconds (``None``: the core's default, 30 s); a method's
            ``timeout=`` overrides it for that call.
        :param connect_timeout: Time allowed to establish a connection, in
            seconds (``None``: the core's default, 10 s); a method's
            ``connect_timeout=`` overrides it for that call.
        :param max_retries: Retries after the first attempt, for failures
            that are safe to retry (``None``: the core's default, 2; see
            "Retries and safety").
        :raises ConfigurationError: a setting is missing or malformed.
        """
        env = environment.value if isinstance(environment, Environment) else environment
        self._native = NativeClient(
            merchant_no, store_no, api_token, env, base_url, timeout, connect_timeout, max_retries
        )

    @classmethod
    def from_env(
        cls: type[_C],
        *,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> _C:
        """A client configured from the environment: ``POCKYT_MERCHANT_NO``,
        ``POCKYT_STORE_NO``, ``POCKYT_API_TOKEN`` (required), ``POCKYT_ENV``
        (``sandbox`` or ``production``, default ``sandbox``) and
        ``POCKYT_BASE_URL`` (overrides the environment's URL).

        ``timeout``, ``connect_timeout`` and ``max_retries`` are as for the
        constructor: ``None`` takes the core's defaults (30 s, 10 s and 2
        retries).

        :raises ConfigurationError: a variable or setting is missing or
            malformed.
        """
        client = cls.__new__(cls)
        client._native = NativeClient.from_env(timeout, connect_timeout, max_retries)
        return client

    @property
    def base_url(self) -> str:
        """The base URL requests go to."""
        return self._native.base_url

    @property
    def merchant_no(self) -> str:
        """The merchant number."""
        return self._native.merchant_no

    @property
    def store_no(self) -> str:
        """The store number."""
        return self._native.store_no

    @property
    def timeout(self) -> float:
        """The total time allowed for one attempt of a call, in seconds."""
        return self._native.timeout

    @property
    def connect_timeout(self) -> float:
        """The time allowed to establish a connection, in seconds."""
        return self._native.connect_timeout

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, merchant_no={self.merchant_no!r}, "
            f"store_no={self.store_no!r}, timeout={self.timeout!r})"
        )


class Client(_BaseClient):
    """A blocking client for the Pockyt Payouts v3 API.

    Thread-safe; one connection pool per client. Every call releases the GIL
    while it waits, and Ctrl-C interrupts it (raising ``KeyboardInterrupt``;
    an interrupted ``pay`` may still have been received: reconcile with
    ``inquire_payout``). Every method takes keyword arguments only, plus an
    optional ``timeout`` and ``connect_timeout`` (seconds) that override the
    client's for that call, and raises a
    :class:`~pockyt_payouts.errors.PockytError` subclass on failure; bad
    input raises :class:`~pockyt_payouts.errors.InvalidRequestError` before
    anything is sent (a ``connect_timeout`` that is not a positive number
    raises :class:`~pockyt_payouts.errors.ConfigurationError`, also before
    anything is sent).
    """

    __slots__ = ()

    def _call(
        self, operation: str, timeout: float | None, connect_timeout: float | None, params: Mapping[str, object]
    ) -> dict[str, Any]:
        return self._native.call(operation, wire(params), timeout, connect_timeout)

    def register_payee(
        self,
        *,
        profile_type: ProfileType | str,
        date_of_birth: str,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        street: str | None = None,
        street2: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip: str | None = None,
        country: str | None = None,
        country_code: str | None = None,
        customer_code: str | None = None,
        government_id: str | None = None,
        government_id_type: GovernmentIdType | str | None = None,
        lang: str | None = None,
        payor_no: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> Customer:
        """Registers a payee (``/v3/payee/register``) and answers it, with
        its ``customer_no``.

        :param profile_type: ``INDIVIDUAL`` or ``BUSINESS``.
        :param date_of_birth: ``YYYY-MM-DD``, a real date in the past.
        :param country_code: ISO 3166-1 alpha-2, like ``US``.
        :param customer_code: Your own reference for the payee.
        :param government_id_type: See :class:`GovernmentIdType`.
        :param payor_no: Payor number, for merchant-of-record accounts.
        """
        params = dict(
            profile_type=profile_type, date_of_birth=date_of_birth, first_name=first_name, last_name=last_name,
            email=email, phone=phone, street=street, street2=street2, city=city, state=state, zip=zip,
            country=country, country_code=country_code, customer_code=customer_code, government_id=government_id,
            government_id_type=government_id_type, lang=lang, payor_no=payor_no,
        )  # fmt: skip
        return Customer._from_wire(self._call("register_payee", timeout, connect_timeout, params))

    def retrieve_payee(
        self, *, customer_no: str, timeout: float | None = None, connect_timeout: float | None = None
    ) -> Customer:
        """Retrieves a payee (``/v3/payee/retrieve``).

        :raises NoRelatedInformationError: no payee has this number.
        """
        answer = self._call("retrieve_payee", timeout, connect_timeout, dict(customer_no=customer_no))
        return Customer._from_wire(answer)

    def update_payee(
        self,
        *,
        customer_no: str,
        profile_type: ProfileType | str | None = None,
        date_of_birth: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        street: str | None = None,
        street2: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip: str | None = None,
        country: str | None = None,
        country_code: str | None = None,
        customer_code: str | None = None,
        government_id: str | None = None,
        government_id_type: GovernmentIdType | str | None = None,
        lang: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> UpdateResult:
        """Updates a payee (``/v3/payee/update``); arguments left ``None``
        are not sent and stay as they are."""
        params = dict(
            customer_no=customer_no, profile_type=profile_type, date_of_birth=date_of_birth, first_name=first_name,
            last_name=last_name, email=email, phone=phone, street=street, street2=street2, city=city, state=state,
            zip=zip, country=country, country_code=country_code, customer_code=customer_code,
            government_id=government_id, government_id_type=government_id_type, lang=lang,
        )  # fmt: skip
        return UpdateResult._from_wire(self._call("update_payee", timeout, connect_timeout, params))

    def add_bank_account(
        self,
        *,
        customer_no: str,
        bank_account_id: str,
        branch_id: str,
        bank_account_purpose: BankAccountPurpose | str,
        account_type: AccountType | str | None = None,
        account_country: str | None = None,
        account_currency: str | None = None,
        account_tag: str | None = None,
        client_ip: str | None = None,
        ipn_url: str | None = None,
        payor_no: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> BankAccount:
        """Adds a US bank account to a payee
        (``/v3/payee/account/create/bank-account``) and answers it, with the
        ``account_token`` to pay it with.

        :param bank_account_id: The account number, 4 to 17 digits.
        :param branch_id: The 9-digit ABA routing number.
        :param bank_account_purpose: ``CHECKING`` or ``SAVINGS``.
        :param account_type: ``BANK_ACCOUNT`` (the default).
        :param account_country: Default ``US``.
        :param account_currency: Default ``USD``.
        :param client_ip: The creator's IP address.
        :param ipn_url: URL that receives notifications about this account.
        """
        params = dict(
            customer_no=customer_no, bank_account_id=bank_account_id, branch_id=branch_id,
            bank_account_purpose=bank_account_purpose, account_type=account_type, account_country=account_country,
            account_currency=account_currency, account_tag=account_tag, client_ip=client_ip, ipn_url=ipn_url,
            payor_no=payor_no,
        )  # fmt: skip
        return BankAccount._from_wire(self._call("add_bank_account", timeout, connect_timeout, params))

    def list_payout_accounts(
        self, *, customer_no: str, timeout: float | None = None, connect_timeout: float | None = None
    ) -> PayoutAccounts:
        """Lists a payee's payout accounts (``/v3/payee/payout-accounts``)."""
        answer = self._call("list_payout_accounts", timeout, connect_timeout, dict(customer_no=customer_no))
        return PayoutAccounts._from_wire(answer)

    def pay(
        self,
        *,
        customer_no: str,
        account_token: str,
        amount: str,
        currency: str,
        invoice_id: str,
        description: str | None = None,
        note: str | None = None,
        subject: str | None = None,
        ipn_url: str | None = None,
        processing_channel: ProcessingChannel | str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> Payout:
        """Pays a payee (``/v3/payouts/pay``). The answer's status is
        normally ``pending``; the final status arrives by IPN at ``ipn_url``
        and through :meth:`inquire_payout`.

        Never pays twice: a request that may have reached the server is never
        sent again blindly; the client looks the payout up by ``invoice_id``
        instead.

        :param amount: A positive decimal string with at most two fraction
            digits, like ``"500"`` or ``"12.50"``.
        :param currency: ISO 4217, like ``USD``.
        :param invoice_id: Your unique id of this payout (1 to 64
            characters): the key to look it up and to retry safely.
        :raises InsufficientBalanceError: the balance does not cover it.
        :raises PayoutOutcomeUnknownError: whether a payout was created could
            not be established; reconcile with ``inquire_payout``.
        """
        params = dict(
            customer_no=customer_no, account_token=account_token, amount=amount, currency=currency,
            invoice_id=invoice_id, description=description, note=note, subject=subject, ipn_url=ipn_url,
            processing_channel=processing_channel,
        )  # fmt: skip
        return Payout._from_wire(self._call("pay", timeout, connect_timeout, params))

    def inquire_payout(
        self, *, invoice_id: str, timeout: float | None = None, connect_timeout: float | None = None
    ) -> Payout:
        """Looks a payout up by your invoice id (``/v3/payouts/inquiry``).

        :raises NoRelatedInformationError: no payout has this invoice id.
        """
        return Payout._from_wire(self._call("inquire_payout", timeout, connect_timeout, dict(invoice_id=invoice_id)))

    def balance(
        self, *, currency: str, timeout: float | None = None, connect_timeout: float | None = None
    ) -> Balance:
        """Reads the merchant's payout balance in ``currency``
        (``/v3/payouts/balance``)."""
        return Balance._from_wire(self._call("balance", timeout, connect_timeout, dict(currency=currency)))


class AsyncClient(_BaseClient):
    """The asyncio twin of :class:`Client`: the same methods, as coroutines.

    Calls run on the SDK's own tokio runtime and never block the event loop;
    any number may run concurrently. Cancelling the awaiting task abandons
    the call (a cancelled ``pay`` may still have been received: reconcile
    with ``inquire_payout``).
    """

    __slots__ = ()

    async def _call(
        self, operation: str, timeout: float | None, connect_timeout: float | None, params: Mapping[str, object]
    ) -> dict[str, Any]:
        # The awaitable must be created inside the running event loop: this
        # coroutine runs there.
        return await self._native.call_async(operation, wire(params), timeout, connect_timeout)

    async def register_payee(
        self,
        *,
        profile_type: ProfileType | str,
        date_of_birth: str,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        street: str | None = None,
        street2: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip: str | None = None,
        country: str | None = None,
        country_code: str | None = None,
        customer_code: str | None = None,
        government_id: str | None = None,
        government_id_type: GovernmentIdType | str | None = None,
        lang: str | None = None,
        payor_no: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> Customer:
        """Registers a payee; see :meth:`Client.register_payee`."""
        params = dict(
            profile_type=profile_type, date_of_birth=date_of_birth, first_name=first_name, last_name=last_name,
            email=email, phone=phone, street=street, street2=street2, city=city, state=state, zip=zip,
            country=country, country_code=country_code, customer_code=customer_code, government_id=government_id,
            government_id_type=government_id_type, lang=lang, payor_no=payor_no,
        )  # fmt: skip
        return Customer._from_wire(await self._call("register_payee", timeout, connect_timeout, params))

    async def retrieve_payee(
        self, *, customer_no: str, timeout: float | None = None, connect_timeout: float | None = None
    ) -> Customer:
        """Retrieves a payee; see :meth:`Client.retrieve_payee`."""
        answer = await self._call("retrieve_payee", timeout, connect_timeout, dict(customer_no=customer_no))
        return Customer._from_wire(answer)

    async def update_payee(
        self,
        *,
        customer_no: str,
        profile_type: ProfileType | str | None = None,
        date_of_birth: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        street: str | None = None,
        street2: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip: str | None = None,
        country: str | None = None,
        country_code: str | None = None,
        customer_code: str | None = None,
        government_id: str | None = None,
        government_id_type: GovernmentIdType | str | None = None,
        lang: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> UpdateResult:
        """Updates a payee; see :meth:`Client.update_payee`."""
        params = dict(
            customer_no=customer_no, profile_type=profile_type, date_of_birth=date_of_birth, first_name=first_name,
            last_name=last_name, email=email, phone=phone, street=street, street2=street2, city=city, state=state,
            zip=zip, country=country, country_code=country_code, customer_code=customer_code,
            government_id=government_id, government_id_type=government_id_type, lang=lang,
        )  # fmt: skip
        return UpdateResult._from_wire(await self._call("update_payee", timeout, connect_timeout, params))

    async def add_bank_account(
        self,
        *,
        customer_no: str,
        bank_account_id: str,
        branch_id: str,
        bank_account_purpose: BankAccountPurpose | str,
        account_type: AccountType | str | None = None,
        account_country: str | None = None,
        account_currency: str | None = None,
        account_tag: str | None = None,
        client_ip: str | None = None,
        ipn_url: str | None = None,
        payor_no: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> BankAccount:
        """Adds a bank account to a payee; see :meth:`Client.add_bank_account`."""
        params = dict(
            customer_no=customer_no, bank_account_id=bank_account_id, branch_id=branch_id,
            bank_account_purpose=bank_account_purpose, account_type=account_type, account_country=account_country,
            account_currency=account_currency, account_tag=account_tag, client_ip=client_ip, ipn_url=ipn_url,
            payor_no=payor_no,
        )  # fmt: skip
        return BankAccount._from_wire(await self._call("add_bank_account", timeout, connect_timeout, params))

    async def list_payout_accounts(
        self, *, customer_no: str, timeout: float | None = None, connect_timeout: float | None = None
    ) -> PayoutAccounts:
        """Lists a payee's payout accounts; see :meth:`Client.list_payout_accounts`."""
        answer = await self._call("list_payout_accounts", timeout, connect_timeout, dict(customer_no=customer_no))
        return PayoutAccounts._from_wire(answer)

    async def pay(
        self,
        *,
        customer_no: str,
        account_token: str,
        amount: str,
        currency: str,
        invoice_id: str,
        description: str | None = None,
        note: str | None = None,
        subject: str | None = None,
        ipn_url: str | None = None,
        processing_channel: ProcessingChannel | str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> Payout:
        """Pays a payee; see :meth:`Client.pay`."""
        params = dict(
            customer_no=customer_no, account_token=account_token, amount=amount, currency=currency,
            invoice_id=invoice_id, description=description, note=note, subject=subject, ipn_url=ipn_url,
            processing_channel=processing_channel,
        )  # fmt: skip
        return Payout._from_wire(await self._call("pay", timeout, connect_timeout, params))

    async def inquire_payout(
        self, *, invoice_id: str, timeout: float | None = None, connect_timeout: float | None = None
    ) -> Payout:
        """Looks a payout up by your invoice id; see :meth:`Client.inquire_payout`."""
        answer = await self._call("inquire_payout", timeout, connect_timeout, dict(invoice_id=invoice_id))
        return Payout._from_wire(answer)

    async def balance(
        self, *, currency: str, timeout: float | None = None, connect_timeout: float | None = None
    ) -> Balance:
        """Reads the merchant's payout balance; see :meth:`Client.balance`."""
        return Balance._from_wire(await self._call("balance", timeout, connect_timeout, dict(currency=currency)))
