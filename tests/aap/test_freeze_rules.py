"""The calls' freeze rules hold through every path: the back-office, the Django admin and a
shell (the models themselves), under a lock of the call's row.

- once published, a deadline may be postponed, never brought forward;
- lots, criteria, sub-criteria, documents, expected actions and form questions change
  only while the call is a draft;
- the weights change after publication (the scoring grid), until the first submitted
  evaluation freezes them.
"""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from aap.exceptions import DeadlineBroughtForward, ScoringGridLocked, StructureLocked
from aap.models import Call, Criterion, ExpectedAction, Lot, Question, RequiredDocument
from aap.states import CallStatus
from tests.factories import CallFactory, add_structure

pytestmark = pytest.mark.django_db
JSON_FIELDS = {"eligible_kinds", "priority_kinds"}


@pytest.fixture
def published():
    return add_structure(CallFactory(status=CallStatus.PUBLISHED))


@pytest.fixture
def draft():
    return add_structure(CallFactory(status=CallStatus.DRAFT))


# --- A shell, or any code: the models refuse --------------------------------------------------


def test_a_published_deadline_cannot_be_brought_forward_even_by_the_model(published):
    stored = published.deadline
    published.deadline = stored - dt.timedelta(days=1)

    with pytest.raises(DeadlineBroughtForward, match="reportée, pas avancée"):
        published.save()

    assert Call.objects.get(pk=published.pk).deadline == stored
    published.deadline = stored + dt.timedelta(days=7)  # a postponement is fine
    published.save()
    assert Call.objects.get(pk=published.pk).deadline == stored + dt.timedelta(days=7)


def test_a_draft_s_deadline_moves_both_ways(draft):
    draft.deadline -= dt.timedelta(days=1)
    draft.save()
    draft.deadline += dt.timedelta(days=3)
    draft.save()


@pytest.mark.parametrize(
    "change",
    [
        lambda call: Lot.objects.create(call=call, position=9, name="Vercors", fte="0.2"),
        lambda call: call.lots.first().delete(),
        lambda call: Lot.objects.filter(pk=call.lots.first().pk).first().save(),
        lambda call: RequiredDocument.objects.create(call=call, label="Statuts"),
        lambda call: call.required_documents.first().delete(),
        lambda call: ExpectedAction.objects.create(call=call, label="Une action de plus"),
        lambda call: Question.objects.create(call=call, label="Une question de plus"),
        lambda call: Criterion.objects.create(call=call, title="Nouveau", weight=Decimal(1)),
        lambda call: call.criteria.first().subcriteria.create(title="Nouveau"),
        lambda call: call.criteria.first().subcriteria.first().delete(),
    ],
    ids=[
        "lot added",
        "lot deleted",
        "lot saved",
        "document added",
        "document deleted",
        "action added",
        "question added",
        "criterion added",
        "sub-criterion added",
        "sub-criterion deleted",
    ],
)
def test_the_structure_of_a_published_call_refuses_any_change(published, change):
    before = (published.lots.count(), published.required_documents.count())

    with pytest.raises(StructureLocked, match="ne changent plus"):
        change(published)

    assert (published.lots.count(), published.required_documents.count()) == before


def test_a_criterion_s_title_is_structure_its_weight_belongs_to_the_grid(published):
    criterion = published.criteria.first()
    criterion.title = "Un autre intitulé"
    with pytest.raises(StructureLocked):
        criterion.save()

    criterion.refresh_from_db()
    criterion.weight = Decimal("35")
    criterion.save()  # the grid sets the weights after publication

    Call.objects.filter(pk=published.pk).update(scoring_locked_at=published.deadline)
    criterion.weight = Decimal("36")
    with pytest.raises(ScoringGridLocked, match="figée"):
        criterion.save()
    assert Criterion.objects.get(pk=criterion.pk).weight == Decimal("35")


def test_a_draft_s_structure_changes_freely(draft):
    Lot.objects.create(call=draft, position=9, name="Vercors", fte="0.2")
    draft.lots.first().delete()
    criterion = draft.criteria.first()
    criterion.title = "Un autre intitulé"
    criterion.save()


# --- The Django admin ---------------------------------------------------------------------------


def _admin_form(call, admin_user, **changes):
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = admin.site._registry[Call]
    form_class = model_admin.get_form(request, call, change=True)
    values = {**model_to_dict(call, fields=form_class.base_fields), **changes}
    data = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, dt.datetime):  # the admin's date and time inputs
            local = timezone.localtime(value)
            data[f"{key}_0"], data[f"{key}_1"] = f"{local:%d/%m/%Y}", f"{local:%H:%M:%S}"
        elif isinstance(value, list):
            data[key] = json.dumps(value) if key in JSON_FIELDS else value
        else:
            data[key] = value.pk if hasattr(value, "pk") else value
    return form_class(data=data, instance=call)


def test_the_admin_cannot_bring_a_deadline_forward(published, admin_user):
    stored = published.deadline
    form = _admin_form(published, admin_user, deadline=stored - dt.timedelta(hours=1))

    assert not form.is_valid()
    assert "reportée, pas avancée" in " ".join(form.errors["deadline"])
    assert Call.objects.get(pk=published.pk).deadline == stored

    later = _admin_form(published, admin_user, deadline=stored + dt.timedelta(days=2))
    assert later.is_valid(), later.errors


def test_the_admin_shows_the_lots_of_a_published_call_read_only(
    published, draft, admin_user, client
):
    client.force_login(admin_user)

    frozen = client.get(reverse("admin:aap_call_change", args=[published.pk])).content.decode()
    open_ = client.get(reverse("admin:aap_call_change", args=[draft.pk])).content.decode()

    assert 'name="lots-0-name"' not in frozen  # shown as text, no input
    assert published.lots.first().name in frozen
    assert 'name="lots-0-name"' in open_


def test_the_admin_cannot_change_the_lots_of_a_published_call(published, admin_user, client):
    client.force_login(admin_user)
    url = reverse("admin:aap_call_change", args=[published.pk])
    page = client.get(url).content.decode()
    # What the page sends back: its inlines' management forms, then the call's fields.
    management = dict(
        re.findall(r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)" value="(\d*)"', page)
    )
    lot = published.lots.first()
    data = {
        **_admin_form(published, admin_user).data,
        **management,
        # A lot's fields, as a hand-made request would send them.
        "lots-0-id": str(lot.pk),
        "lots-0-call": str(published.pk),
        "lots-0-name": "Renommé",
        "lots-0-position": "0",
        "lots-0-fte": "0,5",
        "_save": "Enregistrer",
    }

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]  # the call saved
    lot.refresh_from_db()
    assert lot.name != "Renommé"  # its lots did not change
