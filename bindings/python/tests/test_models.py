"""Typed results keep what the API answers, known or not; enums are str."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import pytest
from conftest import ScriptedServer

from pockyt_payouts import _models
from pockyt_payouts import (
    AccountStatus,
    Balance,
    BankAccount,
    BankAccountPurpose,
    Customer,
    DecodeError,
    Environment,
    PayoutAccounts,
    PayoutStatus,
    ProfileType,
)


def test_unknown_fields_and_values_come_through(scripted: ScriptedServer) -> None:
    scripted.answer = {
        "ret_code": "000100",
        "ret_msg": "succeeded",
        "result": {
            "transactionNo": "305588797074336092",
            "invoiceId": "inv-1",
            "status": "on_hold",
            "amount": "500.00",
            "settleCurrency": "EUR",
            "feeInfo": {"feeAmount": "1.50", "feeCurrency": "USD"},
        },
    }
    payout = scripted.client().inquire_payout(invoice_id="inv-1")
    assert payout.status == "on_hold"  # an enum value this SDK does not know
    assert payout.transaction_no == "305588797074336092"
    assert payout.currency is None  # documented, not answered
    assert payout.extra == {"settle_currency": "EUR", "fee_info": {"fee_amount": "1.50", "fee_currency": "USD"}}
    as_dict = payout.to_dict()
    assert as_dict["settle_currency"] == "EUR" and as_dict["fee_info"]["fee_amount"] == "1.50"
    assert "currency" not in as_dict


def test_documented_values_arrive_in_their_documented_spelling(scripted: ScriptedServer) -> None:
    scripted.answer = {
        "ret_code": "000100",
        "accounts": [{"accountToken": "1", "status": "ACTIVATED", "nickname": "main"}],
        "user": {"customerNo": "9", "middleName": "Q"},
        "pageInfo": {"total": 1},
    }
    listed = scripted.client().list_payout_accounts(customer_no="9")
    assert isinstance(listed, PayoutAccounts)
    [account] = listed.accounts
    assert account.status == AccountStatus.ACTIVATED
    assert account.status == "activated"
    assert account.extra == {"nickname": "main"}
    assert listed.user is not None and listed.user.extra == {"middle_name": "Q"}
    assert listed.extra == {"page_info": {"total": 1}}
    assert listed.to_dict() == {
        "accounts": [{"account_token": "1", "status": "activated", "nickname": "main"}],
        "user": {"customer_no": "9", "middle_name": "Q"},
        "ret_code": "000100",
        "page_info": {"total": 1},
    }


def test_results_are_frozen_dataclasses() -> None:
    balance = Balance(currency="USD", amount="1.00")
    assert dataclasses.is_dataclass(balance)
    with pytest.raises(dataclasses.FrozenInstanceError):
        balance.amount = "2.00"  # type: ignore[misc]


@dataclass(frozen=True)
class _NeedsAField(_models._Result):
    """A result type whose one attribute no list of accounts holds."""

    reference: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    _ATTRIBUTES = {"reference": "reference"}


def test_a_result_missing_a_required_attribute_raises_the_dataclass_error(scripted: ScriptedServer) -> None:
    scripted.answer = {"ret_code": "000100", "accounts": []}
    native = scripted.client()._native
    with pytest.raises(TypeError, match="reference"):
        native.call("list_payout_accounts", {"customerNo": "9"}, result=_NeedsAField)
    # The same call without a result type answers the JSON as it is.
    assert native.call("list_payout_accounts", {"customerNo": "9"}) == {"ret_code": "000100", "accounts": []}


def test_default_lists_are_new_for_each_result(scripted: ScriptedServer) -> None:
    scripted.answer = {"ret_code": "000100"}
    client = scripted.client()
    first, second = client.list_payout_accounts(customer_no="9"), client.list_payout_accounts(customer_no="9")
    assert first.accounts == [] and second.accounts == [] and first.accounts is not second.accounts
    assert first.extra == {} and first.extra is not second.extra


def test_a_built_result_equals_one_made_by_hand(scripted: ScriptedServer) -> None:
    """The native layer builds results without the dataclass's
    ``__init__``: the same object all the same, equal, hashable, frozen."""
    scripted.answer = {"ret_code": "000100", "customer": {"customerNo": "1", "payeeStatus": "Activated"}}
    built = scripted.client().retrieve_payee(customer_no="1")
    by_hand = Customer(customer_no="1", payee_status="Activated")
    assert built == by_hand and vars(built) == vars(by_hand)
    assert repr(built) == repr(by_hand)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.customer_no = "2"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("operation", "answer", "missing"),
    [
        ("register_payee", {"customer": {"firstName": "Ada"}}, "customerNo"),
        ("register_payee", {"customer": {"customerNo": ""}}, "customerNo"),
        ("retrieve_payee", {"customer": {"customerNo": None}}, "customerNo"),
        ("add_bank_account", {"result": {"customerNo": "1"}}, "accountToken"),
        ("add_bank_account", {"result": {"accountToken": ""}}, "accountToken"),
    ],
)
def test_ids_typed_str_are_guaranteed_by_the_core(
    scripted: ScriptedServer, operation: str, answer: dict[str, object], missing: str
) -> None:
    """``Customer.customer_no`` and ``BankAccount.account_token`` are typed
    ``str``: a success without them is a DecodeError from the Rust core,
    never a result holding ``None``."""
    scripted.answer = {"ret_code": "000100", "ret_msg": "succeeded", **answer}
    client = scripted.client()
    with pytest.raises(DecodeError, match=missing.replace(".", r"\.")):
        if operation == "register_payee":
            client.register_payee(profile_type=ProfileType.BUSINESS, date_of_birth="1999-01-01")
        elif operation == "retrieve_payee":
            client.retrieve_payee(customer_no="1")
        else:
            client.add_bank_account(
                customer_no="1", bank_account_id="123456789", branch_id="021000021",
                bank_account_purpose=BankAccountPurpose.SAVINGS,
            )  # fmt: skip


def test_required_ids_have_no_default() -> None:
    required = {
        cls.__name__: [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                       and f.default_factory is dataclasses.MISSING]
        for cls in (Customer, BankAccount)
    }  # fmt: skip
    assert required == {"Customer": ["customer_no"], "BankAccount": ["account_token"]}
    assert BankAccount(account_token="t").to_dict() == {"account_token": "t"}


def test_enums_are_their_wire_strings() -> None:
    assert ProfileType.INDIVIDUAL == "INDIVIDUAL" and str(ProfileType.BUSINESS) == "BUSINESS"
    assert f"{PayoutStatus.SUCCESS}" == "success"
    assert BankAccountPurpose("SAVINGS") is BankAccountPurpose.SAVINGS
    assert Environment.PRODUCTION.value == "production"
    assert {s.value for s in PayoutStatus} == {"pending", "success", "failed", "returned"}


def test_enum_members_are_sent_as_their_values(scripted: ScriptedServer) -> None:
    scripted.answer = {"ret_code": "000100", "customer": {"customerNo": "1"}}
    scripted.client().register_payee(profile_type=ProfileType.BUSINESS, date_of_birth="1999-01-01")
    scripted.client().register_payee(profile_type="individual", date_of_birth="1999-01-01")
    sent = [r["body"]["profileType"] for r in scripted.requests]
    # Plain strings are accepted in any case and sent in the documented one.
    assert sent == ["BUSINESS", "INDIVIDUAL"]
