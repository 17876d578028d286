"""The Service IVE's back-office: create, fill, preview, publish, and what stays locked."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from aap.models import Call, CallStatusChange
from aap.states import CallStatus
from demo import modeles
from tests.factories import CallFactory, ProgrammeFactory, add_structure


@pytest.fixture
def staff(client_for, instructeur):
    return client_for(instructeur)


def call_form_data(programme, **overrides):
    data = {
        "programme": programme.pk,
        "title": "Accompagnement vers l'emploi des allocataires du RSA",
        "reference": "aap-2030-rsa",
        "slug": "",
        "year": 2030,
        "authority": "Direction des solidarités (DSO) – Service Insertion Vers l'Emploi (IVE)",
        "summary": "Un appel pour accompagner vers l'emploi.",
        "eligible_kinds": ["epci", "association"],
        "priority_kinds": ["epci"],
        "opens_on": "2030-01-15",
        "deadline_date": "2030-03-31",
        "deadline_time": "17:00",
        "paper_copy_rule": "postmark",
        "paper_copy_count": 1,
        "contact_email": "dso.ive@isere.fr",
    }
    data.update(overrides)
    return data


def test_an_instructeur_creates_a_draft_call(db, staff):
    programme = ProgrammeFactory()
    response = staff.post(reverse("aap:backoffice_create"), call_form_data(programme))
    call = Call.objects.get()
    assert response["Location"] == reverse("aap:backoffice_call", args=[call.pk])
    assert (call.reference, call.slug, call.status) == ("AAP-2030-RSA", "aap-2030-rsa", "draft")
    # 31 March 2030 at 17:00 in Paris is summer time: 15:00 UTC.
    assert call.deadline == dt.datetime(2030, 3, 31, 15, 0, tzinfo=dt.UTC)
    assert call.opens_at == dt.datetime(2030, 1, 14, 23, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"deadline_date": "2030-01-10"}, "La date limite doit suivre le lancement."),
        ({"deadline_date": "2030-03-31", "deadline_time": "02:30"}, "changement d&#x27;heure"),
        ({"priority_kinds": ["gip"]}, "Une structure prioritaire doit aussi être éligible."),
        ({"reference": "AAP 2030/RSA"}, "Utilisez seulement des lettres"),
        ({"paper_copy_required": "on"}, "Indiquez où envoyer ou déposer"),
        ({"eligible_kinds": []}, "Ce champ est obligatoire."),
    ],
)
def test_the_call_form_refuses_bad_values_in_french(db, staff, overrides, message):
    programme = ProgrammeFactory()
    response = staff.post(reverse("aap:backoffice_create"), call_form_data(programme, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Call.objects.exists()


def formset_data(rows, *, initial=0):
    data = {
        "items-TOTAL_FORMS": str(len(rows)),
        "items-INITIAL_FORMS": str(initial),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"items-{index}-{key}"] = value
    return data


@pytest.fixture
def draft(db):
    return CallFactory(status=CallStatus.DRAFT)


def test_lots_are_added_with_their_fte_and_budget(staff, draft):
    url = reverse("aap:backoffice_lots", args=[draft.pk])
    response = staff.post(
        url,
        formset_data(
            [
                {
                    "position": 1,
                    "name": "Nord Isère",
                    "territory": "Nord",
                    "fte": "0,5",
                    "budget": "25000",
                },
                {
                    "position": 2,
                    "name": "Sud Isère",
                    "territory": "Sud",
                    "fte": "0,5",
                    "budget": "",
                },
            ]
        ),
    )
    assert response.status_code == 302
    lots = list(draft.lots.values_list("name", "fte", "budget"))
    assert lots == [
        ("Nord Isère", Decimal("0.50"), Decimal("25000.00")),
        ("Sud Isère", Decimal("0.50"), None),
    ]


def test_criteria_weights_must_add_up_to_100(staff, draft):
    url = reverse("aap:backoffice_criteria", args=[draft.pk])
    rows = [
        {"position": 1, "title": "Expérience", "weight": "30", "subcriteria_text": "Sensibilité"},
        {"position": 2, "title": "Qualité", "weight": "30", "subcriteria_text": "Animation"},
        {"position": 3, "title": "Ressources", "weight": "30", "subcriteria_text": "Moyens"},
    ]
    response = staff.post(url, formset_data(rows))
    assert response.status_code == 400
    assert "La somme des pondérations doit être égale à 100 % (elle est de 90,00 %)." in (
        response.content.decode()
    )
    assert not draft.criteria.exists()

    rows[0]["weight"] = "40"
    rows[2]["subcriteria_text"] = "Moyens dédiés\n- Environnement de travail\n\nPartenariats"
    assert staff.post(url, formset_data(rows)).status_code == 302
    criteria = {c.title: c for c in draft.criteria.prefetch_related("subcriteria")}
    assert [s.title for s in criteria["Ressources"].subcriteria.all()] == [
        "Moyens dédiés",
        "Environnement de travail",
        "Partenariats",
    ]
    assert sum(c.weight for c in criteria.values()) == 100


def test_editing_subcriteria_replaces_them_in_order(staff, draft):
    add_structure(draft, weights=(Decimal("100"),))
    criterion = draft.criteria.get()
    url = reverse("aap:backoffice_criteria", args=[draft.pk])
    data = formset_data(
        [
            {
                "id": criterion.pk,
                "position": 1,
                "title": "Unique",
                "weight": "100",
                "subcriteria_text": "Premier\nSecond",
            }
        ],
        initial=1,
    )
    assert staff.post(url, data).status_code == 302
    assert list(criterion.subcriteria.values_list("position", "title")) == [
        (1, "Premier"),
        (2, "Second"),
    ]
    data["items-0-subcriteria_text"] = "Seul"
    staff.post(url, data)
    assert list(criterion.subcriteria.values_list("title", flat=True)) == ["Seul"]


def test_a_required_document_gets_a_checked_template(staff, draft):
    url = reverse("aap:backoffice_documents", args=[draft.pk])
    row = {
        "position": 1,
        "label": "Budget prévisionnel",
        "allowed_formats": ["xlsx", "ods"],
        "max_size_mb": 10,
        "mandatory": "on",
    }
    template = SimpleUploadedFile("../../budget prévisionnel.xlsx", modeles.budget_xlsx())
    response = staff.post(url, {**formset_data([row]), "items-0-template": template})
    assert response.status_code == 302
    document = draft.required_documents.get()
    assert document.allowed_formats == ["xlsx", "ods"]
    assert document.template_name == "budget prévisionnel.xlsx"
    assert document.template.name.startswith("modeles/")
    assert "prévisionnel" not in document.template.name  # stored under a random name


def test_a_renamed_executable_is_refused_as_a_template(staff, draft):
    url = reverse("aap:backoffice_documents", args=[draft.pk])
    row = {"position": 1, "label": "Budget", "allowed_formats": ["pdf"], "max_size_mb": 10}
    fake = SimpleUploadedFile("modele.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200)
    response = staff.post(url, {**formset_data([row]), "items-0-template": fake})
    assert response.status_code == 400
    assert "ne correspond pas à son extension" in response.content.decode()
    assert not draft.required_documents.exists()


def test_publishing_from_the_back_office(staff, draft, instructeur):
    add_structure(draft)
    url = reverse("aap:backoffice_transition", args=[draft.pk, "publish"])
    assert "Confirmer" in staff.get(url).content.decode()
    response = staff.post(url, {"note": "Validé en réunion de service"})
    assert response["Location"] == reverse("aap:backoffice_call", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.status == CallStatus.PUBLISHED
    page = staff.get(reverse("aap:backoffice_call", args=[draft.pk])).content.decode()
    assert "Validé en réunion de service" in page
    assert str(instructeur) in page
    assert CallStatusChange.objects.get(call=draft).by == instructeur


def test_publishing_an_incomplete_call_lists_what_is_missing(staff, draft):
    response = staff.post(reverse("aap:backoffice_transition", args=[draft.pk, "publish"]), {})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Ajoutez au moins un lot." in page
    draft.refresh_from_db()
    assert draft.status == CallStatus.DRAFT


def test_structure_is_locked_once_published(staff, open_call):
    url = reverse("aap:backoffice_lots", args=[open_call.pk])
    lot = open_call.lots.first()
    data = formset_data(
        [{"id": lot.pk, "position": 1, "name": "Renommé", "fte": "3", "budget": ""}], initial=1
    )
    response = staff.post(url, data, follow=True)
    assert "ne changent plus" in response.content.decode()
    lot.refresh_from_db()
    assert lot.name != "Renommé"


def test_a_published_deadline_can_be_postponed_not_brought_forward(staff, open_call):
    url = reverse("aap:backoffice_edit", args=[open_call.pk])
    deadline = timezone.localtime(open_call.deadline)
    data = call_form_data(
        open_call.programme,
        reference=open_call.reference,
        slug=open_call.slug,
        opens_on=timezone.localtime(open_call.opens_at).date().isoformat(),
        deadline_date=(deadline.date() - dt.timedelta(days=1)).isoformat(),
        deadline_time="17:00",
    )
    response = staff.post(url, data)
    assert "peut être reportée, pas avancée" in response.content.decode()
    data["deadline_date"] = (deadline.date() + dt.timedelta(days=3)).isoformat()
    assert staff.post(url, data).status_code == 302
    open_call.refresh_from_db()
    assert timezone.localtime(open_call.deadline).date() == deadline.date() + dt.timedelta(days=3)


def test_an_archived_call_cannot_be_edited(staff, db):
    call = CallFactory(status=CallStatus.ARCHIVED)
    response = staff.post(
        reverse("aap:backoffice_edit", args=[call.pk]), {"title": "x"}, follow=True
    )
    assert "n'est plus modifiable" in response.content.decode().replace("&#x27;", "'")
    call.refresh_from_db()
    assert call.title != "x"


def test_reopening_a_closed_call(staff, db):
    call = CallFactory(
        status=CallStatus.CLOSED,
        opens_at=timezone.now() - dt.timedelta(days=40),
        deadline=timezone.now() - dt.timedelta(days=1),
    )
    new_day = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    url = reverse("aap:backoffice_reopen", args=[call.pk])
    response = staff.post(url, {"deadline_date": new_day, "deadline_time": "12:00", "note": ""})
    assert response.status_code == 400
    response = staff.post(
        url, {"deadline_date": new_day, "deadline_time": "12:00", "note": "Report décidé"}
    )
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.status == CallStatus.PUBLISHED
    assert timezone.localtime(call.deadline).strftime("%Y-%m-%d %H:%M") == f"{new_day} 12:00"


def test_unknown_actions_are_not_found(staff, draft):
    assert (
        staff.get(reverse("aap:backoffice_transition", args=[draft.pk, "explode"])).status_code
        == 404
    )
    assert (
        staff.get(reverse("aap:backoffice_transition", args=[draft.pk, "reopen"])).status_code
        == 404
    )


def test_a_call_is_decided_by_notifying_never_by_a_button(staff, db):
    """Decided by a button, a call would freeze decisions that no letter told anyone:
    only the notification of the decisions (evaluation.letters) decides it."""
    call = CallFactory(status=CallStatus.UNDER_REVIEW)
    page = staff.get(reverse("aap:backoffice_call", args=[call.pk])).content.decode()
    url = reverse("aap:backoffice_transition", args=[call.pk, "decide"])

    assert url not in page and "Enregistrer les décisions" not in page
    assert staff.get(url).status_code == 404
    assert staff.post(url, {"note": "Par un bouton"}).status_code == 404
    call.refresh_from_db()
    assert call.status == CallStatus.UNDER_REVIEW
    assert not CallStatusChange.objects.filter(call=call, action="decide").exists()


def test_the_back_office_list_counts_fte_and_pending_questions_apart(open_call, candidate):
    from aap.queries import backoffice_calls

    for index in range(3):
        open_call.questions.create(asked_by=candidate, question=f"Question {index} ?")
    row = backoffice_calls().get(pk=open_call.pk)
    assert (row.lot_count, row.fte_total, row.pending_questions) == (2, Decimal("1.00"), 3)
