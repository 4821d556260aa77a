"""pockyt_payouts.django: a Django app (configured here, CSRF middleware on)
served for real (wsgiref, on 127.0.0.1), receiving real IPNs from the
sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from webhook_scenario import TOKEN, Recorder, configure_django, post, run_scenario, serve_wsgi, start_sandbox

pytest.importorskip("django")
from django.urls import path  # noqa: E402

from pockyt_payouts import PayoutEvent  # noqa: E402
from pockyt_payouts.django import payout_webhook  # noqa: E402
from pockyt_payouts.testing import Sandbox  # noqa: E402
from pockyt_payouts.webhooks import Webhook  # noqa: E402

RECORDER = Recorder()


@payout_webhook(Webhook(TOKEN))
def on_payout(event: PayoutEvent) -> None:
    """The handler: records the event."""
    RECORDER(event)


urlpatterns = [path("pockyt/ipn", on_payout)]


def django_app() -> object:
    """The WSGI application, Django configured with this module as URLconf."""
    configure_django()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


def test_django_receiver(sandbox: Sandbox) -> None:
    with serve_wsgi(django_app(), "/pockyt/ipn") as url:
        run_scenario(sandbox, url, RECORDER, "django")
        # POST only.
        assert post(url, b"", method="GET")[0] == 405


def test_a_coroutine_handler_is_refused_when_decorated() -> None:
    async def handler(event: PayoutEvent) -> None:
        pass

    with pytest.raises(TypeError, match=r"plain \(def\) handler"):
        payout_webhook(Webhook(TOKEN))(handler)
