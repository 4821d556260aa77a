"""sign() and verify_ipn(): the decoded fields, or the raw body as received."""

from __future__ import annotations

import hashlib
import urllib.parse
from typing import Any

import pytest

from pockyt_payouts import sign, verify_ipn

TOKEN = "5cbfb079f15b150122261c8537086d77a"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def reference_sign(fields: dict[str, str], token: str) -> str:
    """The API page's rule, written out independently of the SDK."""
    pairs = sorted((k, v) for k, v in fields.items() if k != "verifySign")
    return md5("&".join(f"{k}={v}" for k, v in pairs) + "&" + md5(token))


IPN = {
    "merchantNo": "202333",
    "storeNo": "301854",
    "transactionNo": "305588797074336092",
    "reference": "inv 1/ü",
    "status": "success",
    "amount": "500.00",
    "currency": "USD",
    "settleCurrency": "USD",
    "customerNo": "2000305228292319592008",
    "time": "20230213115859",
    "note": "",
}


def test_sign_matches_the_documented_rule() -> None:
    fields = {"amount": "1.00", "currency": "USD", "merchantNo": "200043", "storeNo": "300014"}
    assert sign(fields, TOKEN) == reference_sign(fields, TOKEN)
    assert sign(IPN, TOKEN) == reference_sign(IPN, TOKEN)
    # verifySign itself is never signed.
    assert sign({**fields, "verifySign": "x"}, TOKEN) == sign(fields, TOKEN)
    # Names sort in byte order: uppercase before lowercase.
    assert sign({"b": "1", "B": "2"}, TOKEN) == md5("B=2&b=1&" + md5(TOKEN))


def test_verify_decoded_fields() -> None:
    signed = {**IPN, "verifySign": sign(IPN, TOKEN)}
    assert verify_ipn(signed, TOKEN)
    assert not verify_ipn(signed, "another-token")
    assert not verify_ipn({**signed, "status": "failed"}, TOKEN)
    assert not verify_ipn({**signed, "extra": "field"}, TOKEN)
    assert not verify_ipn(IPN, TOKEN)  # no verifySign


def test_verify_raw_body_bytes_and_str() -> None:
    body = urllib.parse.urlencode({**IPN, "verifySign": sign(IPN, TOKEN)})
    assert "+" in body and "%2F" in body  # encoded exactly as a form would be
    assert verify_ipn(body, TOKEN)
    assert verify_ipn(body.encode(), TOKEN)
    assert verify_ipn(bytearray(body.encode()), TOKEN)
    assert not verify_ipn(body, "another-token")
    tampered = body.replace("status=success", "status=failed")
    assert tampered != body
    assert not verify_ipn(tampered, TOKEN)
    assert not verify_ipn(tampered.encode(), TOKEN)
    assert not verify_ipn(b"", TOKEN)
    assert not verify_ipn(b"status=success", TOKEN)
    # A repeated verifySign is refused.
    assert not verify_ipn(body + "&verifySign=" + sign(IPN, TOKEN), TOKEN)


@pytest.mark.parametrize("bad", [{"amount": 1}, {1: "x"}, ["amount", "1"], None])
def test_non_string_fields_are_type_errors(bad: Any) -> None:
    with pytest.raises(TypeError):
        sign(bad, TOKEN)
    with pytest.raises(TypeError):
        verify_ipn(bad, TOKEN)
