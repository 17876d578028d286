"""« Conservation des données » is for administrators only: a candidate, an instructeur
without the administrator's role, an evaluator and the DDETS get 403 on every page and
action, whatever the bordereau; an administrator sees what is due and the bordereaux."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from retention import services
from retention.models import Bordereau
from retention.states import BordereauStatus
from tests.retention.conftest import at_noon, years_after
from tests.retention.small import ORGANISATION, small_world

pytestmark = pytest.mark.django_db

DAY = years_after(5)
ACTIONS = ["send", "visa", "refuse", "relist", "eliminate"]


@pytest.fixture
def bordereau(db):
    small_world()
    with at_noon(DAY):
        return services.prepare_draft(on=DAY)


def urls(pk):
    return [
        ("get", reverse("retention:index")),
        ("post", reverse("retention:generate")),
        ("get", reverse("retention:bordereau", args=[pk])),
        ("get", reverse("retention:bordereau_document", args=[pk, "pdf"])),
        ("get", reverse("retention:bordereau_document", args=[pk, "csv"])),
        *[("post", reverse("retention:bordereau_action", args=[pk, action])) for action in ACTIONS],
    ]


@pytest.mark.parametrize("persona", ["candidate", "instructeur", "evaluator", "ddets_reader"])
def test_other_roles_get_403_everywhere(persona, request, bordereau, client):
    with at_noon(DAY):  # logged in that day: a session does not last five years
        client.force_login(request.getfixturevalue(persona))
        for method, url in urls(bordereau.pk) + urls(bordereau.pk + 1000):
            response = getattr(client, method)(url)
            assert response.status_code == 403, (persona, url)
    bordereau.refresh_from_db()
    assert bordereau.status == BordereauStatus.DRAFT


def test_anonymous_visitors_are_sent_to_the_login_page(bordereau, client):
    for method, url in urls(bordereau.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/compte/connexion/" in response["Location"]


def test_an_administrator_sees_what_is_due_and_walks_the_bordereau(bordereau, admin_user, client):
    with at_noon(DAY):
        client.force_login(admin_user)
        page = client.get(reverse("retention:index")).content.decode()
        assert ORGANISATION in page and "Comptes inactifs" in page
        detail = reverse("retention:bordereau", args=[bordereau.pk])
        assert client.get(detail).status_code == 200
        assert (
            client.get(reverse("retention:bordereau", args=[bordereau.pk + 1000])).status_code
            == 404
        )
        pdf = client.get(reverse("retention:bordereau_document", args=[bordereau.pk, "pdf"]))
        assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
        assert (
            client.get(
                reverse("retention:bordereau_document", args=[bordereau.pk, "xls"])
            ).status_code
            == 404
        )
        send = reverse("retention:bordereau_action", args=[bordereau.pk, "send"])
        assert client.post(send).status_code == 302
        # A visa without its reference: refused with a French message, nothing recorded.
        visa = reverse("retention:bordereau_action", args=[bordereau.pk, "visa"])
        response = client.post(
            visa,
            {
                "visa_date": timezone.localdate().isoformat(),
                "reference": "",
                "signatory_name": "H. A.",
                "signatory_title": "Directrice",
            },
        )
        assert response.status_code == 400
        assert "Le formulaire contient des erreurs" in response.content.decode()
        assert Bordereau.objects.get(pk=bordereau.pk).status == BordereauStatus.SENT
        response = client.post(
            visa,
            {
                "visa_date": timezone.localdate().isoformat(),
                "reference": "AD38-1",
                "signatory_name": "Hélène Archiviste",
                "signatory_title": "Directrice des archives départementales",
            },
        )
        assert response.status_code == 302
    bordereau.refresh_from_db()
    assert (bordereau.status, bordereau.visa_reference) == (BordereauStatus.APPROVED, "AD38-1")
    # GET on an action changes nothing.
    assert (
        client.get(
            reverse("retention:bordereau_action", args=[bordereau.pk, "eliminate"])
        ).status_code
        == 404
    )


def test_the_page_runs_as_many_queries_for_many_things_due_as_for_one(
    bordereau, admin_user, client
):
    with at_noon(DAY):
        client.force_login(admin_user)
        with CaptureQueriesContext(connection) as one:
            assert client.get(reverse("retention:index")).status_code == 200
    for _ in range(3):
        small_world()
    with at_noon(DAY), CaptureQueriesContext(connection) as four:
        page = client.get(reverse("retention:index")).content.decode()
    assert page.count(ORGANISATION) == 4
    assert len(four) == len(one)
