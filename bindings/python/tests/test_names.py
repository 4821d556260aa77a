"""Names change spelling (snake_case <-> camelCase) by the Rust core's one
rule, ``pockyt_payouts::naming``, which the native module exposes; the
Python layer keeps no copy of it."""

from __future__ import annotations

import pytest
from conftest import ScriptedServer

from pockyt_payouts import _names, _native

# Wire (camelCase) names and their snake_case spellings, by the Rust rule
# (crates/client/src/naming.rs): only ASCII letters change case.
PAIRS = [
    ("dateOfBirth", "date_of_birth"),
    ("street2", "street2"),
    ("invoiceId", "invoice_id"),
    ("accountIPN", "account_i_p_n"),
    ("ret_code", "ret_code"),
    ("", ""),
    ("Élan", "Élan"),
    ("dateOfÉlan", "date_ofÉlan"),
    ("straße", "straße"),
]

# snake_case (or other) names and their camelCase spellings. A letter after
# "_" is upper-cased only when it is ASCII: "é" stays "é", "ß" stays "ß".
CAMEL = [
    ("date_of_birth", "dateOfBirth"),
    ("street2", "street2"),
    ("invoiceId", "invoiceId"),
    ("account_i_p_n", "accountIPN"),
    ("date_of_élan", "dateOfélan"),
    ("city_ßtraße", "cityßtraße"),
    ("name_ﬁle", "nameﬁle"),
    ("_leading", "Leading"),
    ("trailing_", "trailing"),
    ("double__under", "doubleUnder"),
    ("two_2", "two2"),
    ("", ""),
]

NAMES = [name for pair in PAIRS + CAMEL for name in pair] + ["ΣΑΣ_σας", "ǆ_ǆ", "İstanbul_ı"]


@pytest.mark.parametrize(("camel", "snake"), PAIRS)
def test_snake(camel: str, snake: str) -> None:
    assert _native.snake_case(camel) == snake
    assert _names.snake(camel) == snake


@pytest.mark.parametrize(("snake", "camel"), CAMEL)
def test_camel(snake: str, camel: str) -> None:
    assert _native.camel_case(snake) == camel
    assert _names.camel(snake) == camel


def test_the_python_helpers_are_the_native_rule() -> None:
    for name in NAMES:
        # Twice: a remembered answer is the same answer.
        for _ in range(2):
            assert _names.snake(name) == _native.snake_case(name), name
            assert _names.camel(name) == _native.camel_case(name), name


def test_nested_answers_and_parameters_use_the_rule(scripted: ScriptedServer) -> None:
    scripted.answer = {"ret_code": "000100", "dateOfÉlan": [{"accountIPN": "x"}], "street2": None}
    listed = scripted.client().list_payout_accounts(customer_no="9")
    assert listed.extra == {"date_ofÉlan": [{"account_i_p_n": "x"}], "street2": None}
    assert _names.wire({"date_of_élan": "1", "date_of_birth": "2"}) == {"dateOfélan": "1", "dateOfBirth": "2"}
