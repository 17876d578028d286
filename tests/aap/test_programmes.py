"""Programmes in the back-office: listed, created, changed; deleted only while no call
uses one; instructeurs only."""

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

from aap import programmes
from aap.models import Programme
from core.exceptions import DomainError
from tests.factories import CallFactory, ProgrammeFactory


@pytest.fixture
def staff(client_for, instructeur):
    return client_for(instructeur)


@pytest.fixture
def used(db):
    programme = ProgrammeFactory(short_name="PDI-E", start_year=2023, end_year=2027)
    CallFactory(programme=programme, year=2024)
    return programme


@pytest.fixture
def unused(db):
    return ProgrammeFactory(short_name="PLS", name="Pacte local des solidarités")


def form(**overrides):
    data = {
        "name": "Pacte local des solidarités",
        "short_name": "PLS",
        "description": "",
        "start_year": "2024",
        "end_year": "2027",
    }
    return data | overrides


# --- Refusals -------------------------------------------------------------------------------


def test_a_programme_used_by_a_call_is_not_deleted_whatever_the_path(used, staff, instructeur):
    url = reverse("aap:programme_delete", args=[used.pk])
    page = staff.get(url).content.decode()
    assert "utilisé par 1 appel à projets" in page and "disabled" in page
    response = staff.post(url)
    assert response.status_code == 400
    assert "utilisé par 1 appel à projets" in response.content.decode()
    with pytest.raises(DomainError, match="ne peut pas être supprimé"):
        programmes.delete_programme(used, by=instructeur)
    with pytest.raises(ProtectedError):  # the admin and the shell meet the database's rule
        Programme.objects.filter(pk=used.pk).delete()
    assert Programme.objects.filter(pk=used.pk).exists()


def test_a_programme_cannot_shrink_away_from_its_calls_years(used, staff):
    response = staff.post(
        reverse("aap:programme_edit", args=[used.pk]),
        form(short_name="PDI-E", start_year="2025", end_year="2027"),
    )
    assert response.status_code == 400
    assert "2024" in response.content.decode()
    used.refresh_from_db()
    assert used.start_year == 2023


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_year": "2020"}, "L&#x27;année de fin suit l&#x27;année de début."),
        ({"short_name": "PDI-E"}, "Un programme avec ce sigle existe déjà."),
        ({"name": ""}, "Ce champ est obligatoire."),
    ],
)
def test_a_bad_programme_is_refused_in_french(used, staff, overrides, message):
    response = staff.post(reverse("aap:programme_create"), form(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Programme.objects.count() == 1


@pytest.mark.parametrize("persona", ["candidate", "evaluator", "ddets_reader"])
def test_other_roles_get_403_on_every_programme_page(used, client_for, persona, request):
    client = client_for(request.getfixturevalue(persona))
    for name, args in [
        ("programme_list", []),
        ("programme_create", []),
        ("programme_edit", [used.pk]),
        ("programme_delete", [used.pk]),
    ]:
        url = reverse(f"aap:{name}", args=args)
        assert client.get(url).status_code == 403, name
        assert client.post(url, form(short_name="X")).status_code == 403, name
    assert list(Programme.objects.values_list("short_name", flat=True)) == ["PDI-E"]


def test_anonymous_visitors_are_sent_to_login(used, client):
    response = client.get(reverse("aap:programme_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_programme_that_does_not_exist_is_not_found(db, staff):
    assert staff.get(reverse("aap:programme_edit", args=[999])).status_code == 404
    assert staff.post(reverse("aap:programme_delete", args=[999])).status_code == 404


def test_only_an_instructeur_deletes(unused, candidate):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        programmes.delete_programme(unused, by=candidate)
    assert Programme.objects.filter(pk=unused.pk).exists()


# --- What works ------------------------------------------------------------------------------


def test_an_instructeur_lists_creates_edits_and_deletes_programmes(used, staff):
    response = staff.post(reverse("aap:programme_create"), form())
    assert response.status_code == 302
    created = Programme.objects.get(short_name="PLS")
    assert (created.name, created.start_year, created.end_year) == (
        "Pacte local des solidarités",
        2024,
        2027,
    )
    page = staff.get(reverse("aap:programme_list")).content.decode()
    assert "PDI-E" in page and "Pacte local des solidarités" in page

    response = staff.post(reverse("aap:programme_edit", args=[created.pk]), form(end_year="2028"))
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.end_year == 2028

    response = staff.post(reverse("aap:programme_delete", args=[created.pk]))
    assert response.status_code == 302
    assert not Programme.objects.filter(pk=created.pk).exists()
    # The call form offers the programmes made here.
    page = staff.get(reverse("aap:backoffice_create")).content.decode()
    assert "PDI-E" in page


def test_the_list_counts_calls_in_as_many_queries_for_one_programme_as_for_ten(used, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("aap:programme_list")
    with CaptureQueriesContext(connection) as one:
        staff.get(url)
    for index in range(9):
        programme = ProgrammeFactory(short_name=f"P{index}")
        CallFactory(programme=programme)
    with CaptureQueriesContext(connection) as ten:
        page = staff.get(url).content.decode()
    assert len(ten.captured_queries) == len(one.captured_queries)
    assert page.count("/modifier/") == 10 and page.count("/supprimer/") == 0
