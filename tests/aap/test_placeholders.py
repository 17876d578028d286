"""Dates that cannot contradict each other: placeholders in a call's texts, and the
warning at publication for a date that is none of its calendar's."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from aap import placeholders
from aap.models import Call
from aap.services import publish_call
from aap.states import CallStatus
from tests.factories import CallFactory, add_structure
from tests.pdf import pdf_text

PARIS = ZoneInfo("Europe/Paris")
OPENS = dt.datetime(2024, 7, 2, 0, 0, tzinfo=PARIS)
DEADLINE = dt.datetime(2024, 9, 17, 17, 0, tzinfo=PARIS)
BEFORE = dt.datetime(2024, 7, 1, 9, 0, tzinfo=PARIS)


@pytest.fixture
def draft(db):
    with time_machine.travel(BEFORE, tick=False):
        return add_structure(
            CallFactory(status=CallStatus.DRAFT, opens_at=OPENS, deadline=DEADLINE, year=2024)
        )


def test_each_placeholder_reads_the_calendar(draft):
    text = (
        "Lancé le {{ date_lancement }}, clos le {{date_limite}}, démarrage "
        "{{ demarrage }} ; appel {{ annee }}."
    )
    assert placeholders.render(text, draft) == (
        "Lancé le 2 juillet 2024, clos le 17 septembre 2024 à 17h00, démarrage "
        "à l'automne 2024 ; appel 2024."
    )


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        (dt.datetime(2024, 7, 10, 12, 0, tzinfo=PARIS), "à l'été 2024"),  # août
        (dt.datetime(2024, 11, 5, 12, 0, tzinfo=PARIS), "à l'hiver 2024-2025"),  # décembre
        (dt.datetime(2025, 1, 31, 23, 0, tzinfo=PARIS), "à l'hiver 2024-2025"),  # février
        (dt.datetime(2025, 2, 28, 12, 0, tzinfo=PARIS), "au printemps 2025"),
    ],
)
def test_the_start_follows_the_season_after_the_deadline(deadline, expected):
    assert placeholders.start_text(deadline) == expected


def test_staff_text_never_reaches_the_template_language(draft):
    text = "{{ settings.SECRET_KEY }} {% load static %} {{ date_fin }}"
    assert placeholders.render(text, draft) == text


def test_the_public_page_follows_a_postponed_deadline(draft, client, instructeur):
    Call.objects.filter(pk=draft.pk).update(
        submission_terms="Dépôt au plus tard le {{ date_limite }}.",
        summary="Appel {{ annee }}, lancé le {{ date_lancement }}.",
    )
    draft.refresh_from_db()
    with time_machine.travel(BEFORE, tick=False):
        publish_call(draft, by=instructeur)
        page = client.get(reverse("aap:call_detail", args=[draft.slug])).content.decode()
        assert "Dépôt au plus tard le 17 septembre 2024 à 17h00." in page
        assert "Appel 2024, lancé le 2 juillet 2024." in page
        draft.refresh_from_db()
        draft.deadline = dt.datetime(2024, 10, 1, 12, 0, tzinfo=PARIS)
        draft.save()
        page = client.get(reverse("aap:call_detail", args=[draft.slug])).content.decode()
    assert "Dépôt au plus tard le 1 octobre 2024 à 12h00." in page
    assert "{{" not in page


def test_publishing_warns_about_a_date_outside_the_calendar(draft, instructeur, client_for):
    Call.objects.filter(pk=draft.pk).update(
        context="Le réseau existe depuis le 1er août 2023.",
        submission_terms="Date limite : 17 septembre 2024 ; jury le 15/10/2024.",
        funding_terms="Versement au {{ date_fin }}.",
    )
    draft.refresh_from_db()
    warnings = placeholders.warnings(draft)
    assert len(warnings) == 3
    assert warnings[0].startswith("« éléments de contexte » cite le 1er août 2023")
    assert "lancement le 2 juillet 2024, date limite le 17 septembre 2024 à 17h00" in warnings[0]
    assert any("cite le 15/10/2024" in warning for warning in warnings)
    # The deadline's own date, written out, is no warning.
    assert not any(warning.split(",")[0].endswith("17 septembre 2024") for warning in warnings)
    assert any("{{ date_fin }}, qui n'est pas une date connue" in warning for warning in warnings)
    with time_machine.travel(BEFORE, tick=False):
        page = client_for(instructeur).get(
            reverse("aap:backoffice_transition", args=[draft.pk, "publish"])
        )
        text = page.content.decode()
        assert "Dates à vérifier dans les textes" in text
        # A warning, not a refusal: the call is published.
        publish_call(draft, by=instructeur)
    draft.refresh_from_db()
    assert draft.status == CallStatus.PUBLISHED


def test_a_text_with_only_calendar_dates_raises_no_warning(draft):
    Call.objects.filter(pk=draft.pk).update(
        submission_terms="Du 2 juillet 2024 au 17 septembre 2024 (17/09/2024), 17h00.",
    )
    draft.refresh_from_db()
    assert placeholders.warnings(draft) == []


def test_the_call_pdf_writes_the_placeholders_out(draft, client, instructeur):
    Call.objects.filter(pk=draft.pk).update(
        submission_terms="Dossiers attendus au plus tard le {{ date_limite }}, pour un "
        "démarrage {{ demarrage }}.",
    )
    draft.refresh_from_db()
    with time_machine.travel(BEFORE, tick=False):
        publish_call(draft, by=instructeur)
        response = client.get(reverse("aap:call_pdf", args=[draft.slug]))
    text = " ".join(pdf_text(b"".join(response)).split())
    assert (
        "Dossiers attendus au plus tard le 17 septembre 2024 à 17h00, pour un démarrage "
        "à l'automne 2024." in text
    )
    assert "{{" not in text
