"""The public call PDF is rendered by WeasyPrint once per version of what it shows: every
other request is served from the cache, a browser revalidates it with its ETag, and a
change of the call (a text, an answer published) makes a new version."""

import datetime as dt
import logging

import pytest
import weasyprint
from django.core.cache import caches
from django.urls import reverse

from aap import services
from aap.models import Call, CallQuestion
from tests import environment
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

INSTANT = dt.datetime(2024, 9, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def renders(monkeypatch):
    """How many PDFs WeasyPrint wrote: the real ``write_pdf``, counted."""
    written = []
    real = weasyprint.HTML.write_pdf

    def counting(self, *args, **kwargs):
        written.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", counting)
    return written


@pytest.fixture
def call(request, time_machine):
    """An open call made at a fixed instant (its last change is the PDF's version)."""
    time_machine.move_to(INSTANT, tick=False)
    caches["default"].clear()
    return request.getfixturevalue("open_call")


def get_pdf(client, call, **headers):
    return client.get(reverse("aap:call_pdf", args=[call.slug]), **headers)


def test_the_pdf_is_rendered_once_and_served_again(client, call, renders):
    first = get_pdf(client, call)
    second = get_pdf(client, call)

    assert len(renders) == 1
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert first["ETag"] == second["ETag"] and first["ETag"].startswith('W/"')
    assert first["Cache-Control"] == "public, max-age=300"
    assert first["Last-Modified"]
    text = pdf_text(first.content)
    assert call.title in text
    assert "Version du" in text and "imprimé le" not in text


def test_a_browser_that_has_the_version_gets_304(client, call, renders):
    first = get_pdf(client, call)

    again = get_pdf(client, call, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert len(renders) == 1


def test_a_published_answer_makes_a_new_version(
    client, call, renders, instructeur, candidate, time_machine
):
    first = get_pdf(client, call)
    question = CallQuestion.objects.create(call=call, asked_by=candidate, question="Et le lot ?")
    time_machine.shift(dt.timedelta(hours=2))
    services.answer_question(
        question,
        by=instructeur,
        public_question="Peut-on candidater sur les deux lots ?",
        answer="Oui, avec un dossier par lot.",
    )

    second = get_pdf(client, call, HTTP_IF_NONE_MATCH=first["ETag"])

    assert second.status_code == 200
    assert len(renders) == 2
    assert second["ETag"] != first["ETag"]
    text = pdf_text(second.content)
    assert "Peut-on candidater sur les deux lots ?" in text
    assert "2 septembre 2024 à 12h00" in text  # the version: the answer's publication
    assert get_pdf(client, call).content == second.content
    assert len(renders) == 2


def test_a_change_of_the_call_makes_a_new_version(client, call, renders):
    first = get_pdf(client, call)
    Call.objects.filter(pk=call.pk).update(contact_email="nouveau-contact@isere.test")

    second = get_pdf(client, call)

    assert len(renders) == 2
    assert second["ETag"] != first["ETag"]
    assert "nouveau-contact@isere.test" in pdf_text(second.content)


def test_a_cache_that_is_down_costs_a_rendering_not_an_error(
    client, call, renders, settings, caplog
):
    settings.CACHES = {"default": environment.unreachable_cache()}
    caplog.set_level(logging.WARNING, logger="core.pdf")

    responses = [get_pdf(client, call) for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
    assert len(renders) == 2
    assert "Cache unavailable" in caplog.text
