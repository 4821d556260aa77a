"""verify_ipn() refuses what the signing rule cannot read unambiguously:
one test per rule (the Rust crate ``pockyt-payouts-sign`` holds the rules
and their exhaustive tests; this checks that Python reaches them).

Every forged IPN here is signed correctly for the text the signing rule
builds, so a refusal proves the rule, not a broken signature.
"""

from __future__ import annotations

import hashlib
import urllib.parse

import pytest

from pockyt_payouts import ConfigurationError, verify_ipn

TOKEN = "ipn-hardening-token"

GENUINE = {
    "merchantNo": "202333",
    "storeNo": "301854",
    "transactionNo": "305588797074336092",
    "reference": "inv-0001",
    "status": "success",
    "amount": "25.00",
    "currency": "USD",
    "settleCurrency": "USD",
    "customerNo": "2000305228292319592008",
    "time": "20240101120000",
}


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def reference_sign(pairs: list[tuple[str, str]], token: str) -> str:
    """The API page's rule, written out independently of the SDK."""
    ordered = sorted(((k, v) for k, v in pairs if k != "verifySign"), key=lambda kv: kv[0].encode())
    return md5("&".join(f"{k}={v}" for k, v in ordered) + "&" + md5(token))


def signed_body(fields: dict[str, str], token: str) -> str:
    return urllib.parse.urlencode({**fields, "verifySign": reference_sign(list(fields.items()), token)})


def test_a_genuine_ipn_passes() -> None:
    body = signed_body(GENUINE, TOKEN)
    assert verify_ipn(body, TOKEN) is True
    assert verify_ipn(body.encode(), TOKEN) is True
    assert verify_ipn(dict(urllib.parse.parse_qsl(body)), TOKEN) is True


def test_an_empty_token_raises_a_configuration_error() -> None:
    # Signed with md5(""): anyone can compute it.
    forged = signed_body(GENUINE, "")
    for ipn in (forged, forged.encode(), dict(urllib.parse.parse_qsl(forged))):
        with pytest.raises(ConfigurationError) as raised:
            verify_ipn(ipn, "")
        assert raised.value.code == "INVALID_CONFIG"
        assert raised.value.field == "api_token"
        assert "empty" in str(raised.value)


def test_a_whitespace_token_raises_a_configuration_error() -> None:
    for token in (" ", "\t\n", "\u3000"):
        forged = signed_body(GENUINE, token)
        with pytest.raises(ConfigurationError) as raised:
            verify_ipn(forged, token)
        assert raised.value.code == "INVALID_CONFIG"


def test_a_value_re_split_into_another_field_is_refused() -> None:
    # Signed: settleCurrency=USD and status=pending; sent: no status field.
    sig = reference_sign([("settleCurrency", "USD"), ("status", "pending")], TOKEN)
    forged = f"settleCurrency=USD%26status%3Dpending&verifySign={sig}"
    assert verify_ipn(forged, TOKEN) is False
    assert verify_ipn({"settleCurrency": "USD&status=pending", "verifySign": sig}, TOKEN) is False


def test_a_name_re_split_across_fields_is_refused() -> None:
    # Signed: amount=25.00 and currency=USD; sent: one field named
    # "amount=25.00&currency".
    sig = reference_sign([("amount", "25.00"), ("currency", "USD")], TOKEN)
    forged = f"amount%3D25.00%26currency=USD&verifySign={sig}"
    assert verify_ipn(forged, TOKEN) is False
    assert verify_ipn({"amount=25.00&currency": "USD", "verifySign": sig}, TOKEN) is False


def test_invalid_utf8_is_refused() -> None:
    # %FF and %FE both used to decode to U+FFFD, signed alike.
    sig = reference_sign([("note", "\ufffd")], TOKEN)
    assert verify_ipn(f"note=%FF&verifySign={sig}".encode(), TOKEN) is False
    assert verify_ipn(f"note=%FE&verifySign={sig}", TOKEN) is False
    assert verify_ipn(b"note=\xff&verifySign=" + sig.encode(), TOKEN) is False
    # U+FFFD itself, properly encoded, is a genuine value.
    assert verify_ipn(f"note=%EF%BF%BD&verifySign={sig}", TOKEN) is True


def test_bad_percent_encoding_is_refused() -> None:
    sig = reference_sign([("note", "%G1")], TOKEN)
    assert verify_ipn(f"note=%G1&verifySign={sig}", TOKEN) is False


def test_a_missing_signature_is_refused() -> None:
    assert verify_ipn(urllib.parse.urlencode(GENUINE), TOKEN) is False
    assert verify_ipn(GENUINE, TOKEN) is False


def test_a_repeated_signature_is_refused() -> None:
    body = signed_body(GENUINE, TOKEN)
    sig = reference_sign(list(GENUINE.items()), TOKEN)
    assert verify_ipn(f"{body}&verifySign={sig}", TOKEN) is False
