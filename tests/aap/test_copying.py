"""« Dupliquer » : next year's call from the seed's 2024 call, and what is refused."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from aap.copying import copy_call, copy_checklist
from aap.models import Call
from aap.services import publish_call
from aap.states import CallStatus
from candidatures.models import Candidature
from conventions.models import FundingTerms, Indicator
from core.dates import format_datetime
from core.exceptions import DomainError
from demo import seed
from demo.loader import load_demo
from evaluation.models import QuorumRule, ScoringGrid
from tests.factories import CallFactory, add_structure

PARIS = ZoneInfo("Europe/Paris")
# Spring 2025: the 2024 call is closed, a 2025 copy can still be published.
SPRING_2025 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=PARIS)


@pytest.fixture
def seed_call(db, private_root):
    with time_machine.travel(SPRING_2025, tick=False):
        load_demo(with_accounts=False)
    call = Call.objects.get(reference=seed.REFERENCE)
    ScoringGrid.objects.get_or_create(call=call, defaults={"due_at": call.deadline})
    QuorumRule.objects.get_or_create(call=call, defaults={"min_members": 4})
    FundingTerms.objects.get_or_create(
        call=call, defaults={"advance_percent": 40, "obligations": "Article 6 de 2024."}
    )
    return call


def _copy(call, by, **kwargs):
    values = {"title": "Appel à projets 2025", "reference": "AAP-2025-FCS", "months": 12}
    return copy_call(call, by=by, **{**values, **kwargs})


def _structure(call):
    return {
        "lots": list(call.lots.values_list("position", "name", "territory", "fte", "budget")),
        "criteria": [
            (c.title, c.weight, [s.title for s in c.subcriteria.all()])
            for c in call.criteria.prefetch_related("subcriteria")
        ],
        "actions": list(call.expected_actions.values_list("label", flat=True)),
        "documents": list(
            call.required_documents.values_list(
                "label", "mandatory", "multiple", "allowed_formats", "max_size_mb", "template_name"
            )
        ),
        "questions": list(
            call.form_questions.values_list("position", "section", "label", "kind", "meaning")
        ),
        "reminders": list(call.reminder_settings.values_list("name", "days")),
        "indicators": list(
            Indicator.objects.filter(call=call).values_list("label", "unit", "kind", "target")
        ),
    }


def test_the_copy_is_a_draft_with_the_whole_structure_and_no_dossier(seed_call, instructeur):
    with time_machine.travel(SPRING_2025, tick=False):
        copy = _copy(seed_call, instructeur)
    assert copy.status == CallStatus.DRAFT
    assert (copy.title, copy.reference, copy.year) == ("Appel à projets 2025", "AAP-2025-FCS", 2025)
    assert copy.copied_from == seed_call and copy.copied_by == instructeur
    assert format_datetime(copy.deadline) == "17 septembre 2025 à 17h00"
    assert copy.objectives == seed_call.objectives
    assert copy.eligible_kinds == seed_call.eligible_kinds
    source = _structure(seed_call)
    assert source["questions"] and source["documents"] and source["indicators"]
    assert _structure(copy) == source
    assert not Candidature.objects.filter(call=copy).exists()
    assert ScoringGrid.objects.get(call=copy).due_at == copy.deadline
    assert QuorumRule.objects.get(call=copy).min_members == 4
    source_terms = FundingTerms.objects.filter(call=seed_call).values().get()
    copied_terms = FundingTerms.objects.filter(call=copy).values().get()
    for name in ("id", "call_id"):
        source_terms.pop(name), copied_terms.pop(name)
    assert copied_terms == source_terms
    assert copied_terms["obligations"] == "Article 6 de 2024."


def test_the_copied_templates_are_files_of_their_own(seed_call, instructeur):
    with time_machine.travel(SPRING_2025, tick=False):
        copy = _copy(seed_call, instructeur)
    pairs = list(
        zip(
            seed_call.required_documents.exclude(template=""),
            copy.required_documents.exclude(template=""),
            strict=True,
        )
    )
    assert pairs
    for original, copied in pairs:
        assert copied.template.name != original.template.name
        with original.template.open("rb") as a, copied.template.open("rb") as b:
            assert a.read() == b.read()
    pairs[0][1].delete()
    assert pairs[0][0].template.storage.exists(pairs[0][0].template.name)


def test_the_copy_can_be_published_once_reviewed(seed_call, instructeur):
    with time_machine.travel(SPRING_2025, tick=False):
        copy = _copy(seed_call, instructeur)
        publish_call(copy, by=instructeur)
    copy.refresh_from_db()
    assert copy.status == CallStatus.PUBLISHED
    seed_call.refresh_from_db()
    assert seed_call.status == CallStatus.CLOSED  # the source is untouched


def test_the_checklist_names_the_dates_and_the_texts_still_naming_2024(seed_call, instructeur):
    with time_machine.travel(SPRING_2025, tick=False):
        copy = _copy(seed_call, instructeur)
        items = copy_checklist(copy)
    assert items[0] == (
        "Dates : lancement le 31 juillet 2025, date limite le 17 septembre 2025 à 17h00."
    )
    assert any("mentionne encore 2024" in item for item in items)
    copy.start_expected = "à l'automne 2025"
    for name in ("summary", "context", "objectives", "eligibility", "dossier_contents"):
        setattr(copy, name, getattr(copy, name).replace("2024", "2025").replace("2023", "2022"))
    copy.save()
    with time_machine.travel(SPRING_2025, tick=False):
        fewer = copy_checklist(copy)
    assert not any("« Démarrage prévu »" in item for item in fewer)
    assert len(fewer) < len(items)


def test_new_dates_may_be_given_instead_of_a_shift(seed_call, instructeur):
    opens = dt.datetime(2025, 4, 1, tzinfo=PARIS)
    deadline = dt.datetime(2025, 6, 30, 12, 0, tzinfo=PARIS)
    copy = _copy(seed_call, instructeur, months=None, opens_at=opens, deadline=deadline)
    assert (copy.opens_at, copy.deadline) == (opens, deadline)
    assert ScoringGrid.objects.get(call=copy).due_at is None  # asked again, not guessed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reference": "AAP-2024-FCS"}, "La référence « AAP-2024-FCS » est déjà celle"),
        ({"title": "  "}, "Indiquez l'intitulé et la référence"),
        ({"months": None}, "Indiquez la date de lancement et la date limite"),
        ({"months": 0}, "Décalez les dates de 1 à 60 mois."),
        (
            {
                "months": None,
                "opens_at": dt.datetime(2025, 6, 1, tzinfo=PARIS),
                "deadline": dt.datetime(2025, 5, 1, tzinfo=PARIS),
            },
            "La date limite doit suivre la date de lancement.",
        ),
    ],
)
def test_an_incomplete_or_conflicting_copy_is_refused(seed_call, instructeur, kwargs, message):
    before = Call.objects.count()
    with pytest.raises(DomainError) as refusal:
        _copy(seed_call, instructeur, **kwargs)
    assert message in refusal.value.message
    assert Call.objects.count() == before


def test_a_shift_into_the_hour_skipped_in_spring_is_refused(db, instructeur):
    # 30 March 2024 at 02:30 exists; 30 March 2025 at 02:30 does not (clocks go forward).
    call = add_structure(
        CallFactory(
            opens_at=dt.datetime(2024, 1, 2, tzinfo=PARIS),
            deadline=dt.datetime(2024, 3, 30, 2, 30, tzinfo=PARIS),
        )
    )
    with pytest.raises(DomainError) as refusal:
        _copy(call, instructeur, reference="X-2025")
    assert "l'heure sautée" in refusal.value.message


@pytest.mark.parametrize("persona", ["candidate", "evaluator", "ddets_reader"])
def test_only_staff_may_copy(seed_call, request, persona):
    with pytest.raises(PermissionDenied):
        _copy(seed_call, request.getfixturevalue(persona))


# --- The page ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("candidate", 403), ("evaluator", 403), ("ddets_reader", 403), ("anonymous", 302)],
)
def test_the_copy_page_is_refused_to_others(seed_call, client_for, persona, status, request):
    user = request.getfixturevalue(persona)
    client = client_for(user if user.is_authenticated else None)
    url = reverse("aap:backoffice_copy", args=[seed_call.pk])
    assert client.get(url).status_code == status
    response = client.post(url, {"title": "X", "reference": "X-1", "dates": "shift", "months": 12})
    assert response.status_code == status
    assert not Call.objects.filter(reference="X-1").exists()


def test_an_instructeur_copies_from_the_page_and_a_double_click_makes_one_copy(
    seed_call, client_for, instructeur
):
    client = client_for(instructeur)
    url = reverse("aap:backoffice_copy", args=[seed_call.pk])
    with time_machine.travel(SPRING_2025, tick=False):
        page = client.get(url).content.decode()
        assert 'value="AAP-2025-FCS"' in page and 'value="12"' in page
        data = {
            "title": "Appel à projets 2025",
            "reference": "AAP-2025-FCS",
            "dates": "shift",
            "months": "12",
        }
        first = client.post(url, data)
        second = client.post(url, data)
        copy = Call.objects.get(reference="AAP-2025-FCS")
        assert first.status_code == 302 and first.url == reverse(
            "aap:backoffice_call", args=[copy.pk]
        )
        assert second.status_code == 400
        assert "La référence « AAP-2025-FCS » est déjà celle" in second.content.decode()
        detail = client.get(first.url).content.decode()
    assert "Copie de AAP-2024-FCS" in detail
    assert "Liste de vérification de la copie" in detail
    assert "17 septembre 2025 à 17h00" in detail


def test_new_dates_are_required_when_not_shifted(seed_call, client_for, instructeur):
    response = client_for(instructeur).post(
        reverse("aap:backoffice_copy", args=[seed_call.pk]),
        {"title": "Appel 2025", "reference": "AAP-2025-FCS", "dates": "new"},
    )
    assert response.status_code == 400
    assert "Indiquez cette date pour le nouvel appel à projets." in response.content.decode()
    assert not Call.objects.filter(reference="AAP-2025-FCS").exists()
