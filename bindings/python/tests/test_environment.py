"""The provider's environments: ``provider-sandbox`` (the provider's hosted
test server, not the local emulator) and ``production``; ``sandbox``, the
old name, still accepted with a ``DeprecationWarning`` — as an argument, as
``Environment.SANDBOX`` and as ``POCKYT_ENV``. The Rust core decides; the
package only passes the name on and warns."""

from __future__ import annotations

import warnings

import pytest

from pockyt_payouts import AsyncClient, Client, ConfigurationError, Environment

PROVIDER_SANDBOX_URL = "https://mapi.yuansfer.yunkeguan.com"
CREDENTIALS = {"merchant_no": "202333", "store_no": "301854", "api_token": "a-long-api-token"}


def make(cls: type[Client] | type[AsyncClient], environment: Environment | str | None = None) -> Client | AsyncClient:
    """A client of ``cls`` with test credentials and ``environment`` (the
    default when ``None``)."""
    if environment is None:
        return cls(merchant_no="202333", store_no="301854", api_token="a-long-api-token")
    return cls(merchant_no="202333", store_no="301854", api_token="a-long-api-token", environment=environment)


def test_the_provider_sandbox_has_its_own_name_and_is_the_default() -> None:
    assert Environment.PROVIDER_SANDBOX.value == "provider-sandbox"
    assert Environment.PRODUCTION.value == "production"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cls in (Client, AsyncClient):
            assert make(cls).base_url == PROVIDER_SANDBOX_URL
            assert make(cls, "provider-sandbox").base_url == PROVIDER_SANDBOX_URL
            assert make(cls, Environment.PROVIDER_SANDBOX).base_url == PROVIDER_SANDBOX_URL
            assert make(cls, Environment.PRODUCTION).base_url == "https://mapi.yuansfer.com"


@pytest.mark.parametrize("old", ["sandbox", "SANDBOX", Environment.SANDBOX])
def test_sandbox_is_a_deprecated_alias(old: str) -> None:
    for cls in (Client, AsyncClient):
        with pytest.warns(DeprecationWarning, match='environment "sandbox" is deprecated: use "provider-sandbox"') as seen:
            client = make(cls, old)
        assert client.base_url == PROVIDER_SANDBOX_URL
        # The warning points at the code that made the client.
        assert [w.filename for w in seen if issubclass(w.category, DeprecationWarning)] == [__file__]


def test_the_deprecated_member_is_still_there() -> None:
    assert Environment.SANDBOX.value == "sandbox"
    assert Environment("sandbox") is Environment.SANDBOX


def test_a_deprecation_raises_when_warnings_are_errors() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        with pytest.raises(DeprecationWarning):
            make(Client, "sandbox")


def test_an_unknown_environment_names_the_new_spellings() -> None:
    with pytest.raises(ConfigurationError) as caught:
        make(Client, "local")
    assert caught.value.field == "environment"
    assert '"provider-sandbox" or "production"' in str(caught.value)


@pytest.fixture
def credentials_in_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("POCKYT_BASE_URL", raising=False)
    monkeypatch.setenv("POCKYT_MERCHANT_NO", CREDENTIALS["merchant_no"])
    monkeypatch.setenv("POCKYT_STORE_NO", CREDENTIALS["store_no"])
    monkeypatch.setenv("POCKYT_API_TOKEN", CREDENTIALS["api_token"])
    return monkeypatch


def test_pockyt_env_provider_sandbox_is_the_new_spelling(credentials_in_env: pytest.MonkeyPatch) -> None:
    credentials_in_env.setenv("POCKYT_ENV", "provider-sandbox")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Client.from_env().base_url == PROVIDER_SANDBOX_URL
        assert AsyncClient.from_env().base_url == PROVIDER_SANDBOX_URL


def test_pockyt_env_sandbox_still_works_with_a_deprecation_warning(credentials_in_env: pytest.MonkeyPatch) -> None:
    credentials_in_env.setenv("POCKYT_ENV", "sandbox")
    for cls in (Client, AsyncClient):
        with pytest.warns(DeprecationWarning, match='POCKYT_ENV "sandbox" is deprecated: use "provider-sandbox"') as seen:
            client = cls.from_env()
        assert client.base_url == PROVIDER_SANDBOX_URL
        assert [w.filename for w in seen if issubclass(w.category, DeprecationWarning)] == [__file__]


def test_an_unknown_pockyt_env_names_the_new_spellings(credentials_in_env: pytest.MonkeyPatch) -> None:
    credentials_in_env.setenv("POCKYT_ENV", "staging")
    with pytest.raises(ConfigurationError) as caught:
        Client.from_env()
    assert caught.value.field == "POCKYT_ENV"
    assert '"provider-sandbox"' in str(caught.value)
