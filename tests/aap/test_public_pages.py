"""What a visitor reads: the lists of calls, the call page, its PDF and its templates."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from aap.states import CallStatus
from tests.factories import CallFactory, add_structure, as_draft
from tests.pdf import pdf_text


def test_calls_are_listed_as_open_upcoming_and_closed(db, client):
    now = timezone.now()
    open_call = CallFactory(title="Appel ouvert")
    upcoming = CallFactory(
        title="Appel à venir",
        opens_at=now + dt.timedelta(days=5),
        deadline=now + dt.timedelta(days=40),
    )
    past_deadline = CallFactory(
        title="Appel échu",
        opens_at=now - dt.timedelta(days=40),
        deadline=now - dt.timedelta(hours=1),
    )
    closed = CallFactory(
        title="Appel clos",
        status=CallStatus.CLOSED,
        opens_at=now - dt.timedelta(days=40),
        deadline=now - dt.timedelta(days=2),
    )
    draft = CallFactory(title="Appel en brouillon", status=CallStatus.DRAFT)
    response = client.get(reverse("aap:call_list"))
    assert list(response.context["open_calls"]) == [open_call]
    assert list(response.context["upcoming_calls"]) == [upcoming]
    assert set(response.context["closed_page"].object_list) == {past_deadline, closed}
    assert draft.title not in response.content.decode()


def test_home_page_shows_only_open_calls(db, client):
    open_call = CallFactory(title="Appel ouvert")
    CallFactory(
        title="Appel clos",
        status=CallStatus.CLOSED,
        opens_at=timezone.now() - dt.timedelta(days=9),
        deadline=timezone.now() - dt.timedelta(days=1),
    )
    page = client.get(reverse("aap:home")).content.decode()
    assert open_call.title in page
    assert "Appel clos" not in page


@pytest.fixture
def seed_call(db):
    from django.core.management import call_command

    call_command("load_demo", no_accounts=True)
    from aap.models import Call

    return Call.objects.get(reference="AAP-2024-FCS")


def test_the_seed_call_page_shows_what_a_candidate_needs(seed_call, client):
    page = client.get(seed_call.get_absolute_url()).content.decode()
    for expected in [
        "Co-animation du réseau des facilitateurs clauses sociales",
        "Direction des solidarités (DSO)",
        "17 septembre 2024 à 17h00",
        "31 juillet 2024",
        "Nord Isère",
        "Sud Isère",
        "Expérience des clauses sociales dans la pratique de commande publique",
        "Sensibilité à la question de l",
        "Capacité à couvrir un territoire comprenant plusieurs EPCI",
        "Environnement de travail",
        "33,34 %",
        "Les pondérations sont fixées par le Département",
        "La gestion d&#x27;un espace numérique de collaboration",
        "territoire du Vercors",
        "Attestation d&#x27;engagement du représentant légal",
        "Télécharger le modèle",
        "cachet de la Poste fait foi",
        "7 rue Fantin-Latour CS 41096",
        "17-19 rue Commandant l&#x27;Herminier",
        "dso.ive@isere.fr",
        "04.76.00.32.07",
        "Clos",
    ]:
        assert expected in page, expected
    assert "Il reste" not in page  # no countdown on a closed call


def test_an_open_call_shows_a_countdown(db, client):
    call = add_structure(CallFactory(deadline=timezone.now() + dt.timedelta(days=3, hours=5)))
    page = client.get(call.get_absolute_url()).content.decode()
    assert "Il reste" in page
    assert "3 jours et 4 heures" in page or "3 jours et 5 heures" in page
    assert f'data-deadline="{timezone.localtime(call.deadline).isoformat()}"' in page


def test_a_draft_is_hidden_from_the_public_and_previewed_by_instructeurs(
    db, client_for, instructeur
):
    draft = add_structure(CallFactory(status=CallStatus.DRAFT))
    assert client_for(None).get(draft.get_absolute_url()).status_code == 404
    page = client_for(instructeur).get(draft.get_absolute_url()).content.decode()
    assert "Aperçu" in page
    assert "seuls les instructeurs voient cette page" in page


def test_a_template_downloads_as_an_attachment(db, client):
    call = add_structure(CallFactory())
    document = call.required_documents.get()
    document.template_name = "Modèle de dossier.docx"
    with as_draft(call):
        document.template.save("x", ContentFile(b"PK\x03\x04 contenu"), save=True)
    response = client.get(reverse("aap:template_download", args=[call.slug, document.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Mod%C3%A8le%20de%20dossier.docx" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"PK\x03\x04 contenu"


def test_a_document_without_template_has_no_download(db, client):
    call = add_structure(CallFactory())
    document = call.required_documents.get()
    assert (
        client.get(reverse("aap:template_download", args=[call.slug, document.pk])).status_code
        == 404
    )


def test_the_printable_pdf_carries_the_call(seed_call, client):
    response = client.get(reverse("aap:call_pdf", args=[seed_call.slug]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    # In drawing order: a criterion's title wraps beside its weight in the table.
    text = pdf_text(response.content, order="raw")
    for expected in [
        "Appel à projets 2024",
        "date limite de réception des dossiers : 17 septembre 2024 à 17h00",
        "Expérience des clauses sociales dans la pratique de commande publique",
        "Territoire du Nord Isère",
        "Dossier de demande de financement",
        "cachet de la Poste faisant foi",
        "38022 Grenoble cedex 1",
        "Page 1 /",
    ]:
        assert expected in text, expected


def test_closed_calls_are_paginated(db, client):
    now = timezone.now()
    for index in range(25):
        CallFactory(
            status=CallStatus.CLOSED,
            opens_at=now - dt.timedelta(days=400),
            deadline=now - dt.timedelta(days=index + 1),
        )
    first = client.get(reverse("aap:call_list"))
    assert len(first.context["closed_page"].object_list) == 20
    assert "Page 1 sur 2" in first.content.decode()
    second = client.get(reverse("aap:call_list"), {"page": 2})
    assert len(second.context["closed_page"].object_list) == 5
    assert client.get(reverse("aap:call_list"), {"page": "x"}).status_code == 200
