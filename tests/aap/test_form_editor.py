"""The form editor: questions added, changed, deleted and moved in place (htmx) or by a
plain POST; only while the call is a draft, through every path; positions 1..n."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aap import form_editor
from aap.exceptions import StructureLocked
from aap.models import Question
from aap.states import CallStatus
from core.exceptions import DomainError
from tests.factories import CallFactory, as_draft

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def staff(client_for, instructeur):
    return client_for(instructeur)


@pytest.fixture
def draft(db):
    call = CallFactory(status=CallStatus.DRAFT)
    for position, label in enumerate(["Lots sollicités", "Résumé", "Montant"], start=1):
        kind = {"Lots sollicités": "lots", "Résumé": "long_text", "Montant": "amount"}[label]
        Question.objects.create(call=call, position=position * 10, label=label, kind=kind)
    return call


def labels(call):
    return list(call.form_questions.order_by("position").values_list("position", "label"))


def add_data(**values):
    data = {"new-label": "Nombre de bénéficiaires", "new-kind": "number", "new-required": "on"}
    data.update({f"new-{key}": value for key, value in values.items()})
    return data


def url(name, call, question=None):
    args = [call.pk] if question is None else [call.pk, question.pk]
    return reverse(f"aap:{name}", args=args)


# --- Refusals -------------------------------------------------------------------------------


@pytest.fixture
def published(draft):
    from aap.models import Call

    Call.objects.filter(pk=draft.pk).update(status=CallStatus.PUBLISHED)
    draft.refresh_from_db()
    return draft


def test_the_services_refuse_every_change_once_the_call_is_published(published, instructeur):
    question = published.form_questions.get(label="Résumé")
    before = labels(published)
    refusals = [
        lambda: form_editor.add_question(
            published, by=instructeur, values={"label": "X", "kind": "short_text"}
        ),
        lambda: form_editor.update_question(question, by=instructeur, values={"label": "Autre"}),
        lambda: form_editor.delete_question(question, by=instructeur),
        lambda: form_editor.move_question(question, by=instructeur, direction="up"),
    ]
    for refusal in refusals:
        with pytest.raises(StructureLocked, match="ne changent plus"):
            refusal()
    assert labels(published) == before


def test_the_views_refuse_every_change_once_the_call_is_published(published, staff):
    question = published.form_questions.get(label="Résumé")
    before = labels(published)
    posts = [
        (url("form_question_add", published), add_data()),
        (url("form_question_edit", published, question), {f"q{question.pk}-label": "Autre"}),
        (url("form_question_delete", published, question), {}),
        (url("form_question_move", published, question), {"direction": "up"}),
    ]
    for target, data in posts:
        for headers in ({}, HTMX):
            response = staff.post(target, data, **headers)
            page = response.content.decode() if response.status_code != 302 else ""
            if response.status_code == 302:
                page = staff.get(response["Location"]).content.decode()
            assert "ne changent plus" in page, (target, headers)
    assert labels(published) == before
    # Nothing to press on the page of a published call.
    page = staff.get(url("backoffice_questions_form", published)).content.decode()
    assert "Ajouter la question" not in page and "Monter" not in page


def test_the_model_refuses_a_question_of_a_published_call_whatever_the_path(published):
    question = published.form_questions.get(label="Résumé")
    question.label = "Par le shell"
    with pytest.raises(StructureLocked):
        question.save()
    with pytest.raises(StructureLocked):
        Question.objects.create(call=published, label="Nouvelle", kind="short_text")
    with pytest.raises(StructureLocked):
        question.delete()
    assert labels(published) == [(10, "Lots sollicités"), (20, "Résumé"), (30, "Montant")]


def test_a_second_lots_question_is_refused(draft, instructeur, staff):
    with pytest.raises(DomainError, match="Une seule question peut porter sur le choix des lots"):
        form_editor.add_question(draft, by=instructeur, values={"label": "Lots", "kind": "lots"})
    summary = draft.form_questions.get(label="Résumé")
    with pytest.raises(DomainError, match="Une seule question"):
        form_editor.update_question(summary, by=instructeur, values={"kind": "lots"})
    response = staff.post(url("form_question_add", draft), add_data(label="Lots", kind="lots"))
    assert response.status_code == 400
    assert "Une seule question peut porter sur le choix des lots." in response.content.decode()
    assert draft.form_questions.count() == 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kind": "choice", "choices": "Seul"}, "Indiquez au moins deux choix, un par ligne."),
        ({"label": ""}, "Ce champ est obligatoire."),
        (
            {"kind": "long_text", "meaning": "requested_amount"},
            "Le montant sollicité se lit dans une question « Montant en euros ».",
        ),
    ],
)
def test_a_bad_question_is_refused_in_french_and_kept_as_typed(staff, draft, values, message):
    response = staff.post(url("form_question_add", draft), add_data(**values), **HTMX)
    page = response.content.decode()
    assert response.status_code == 200  # htmx swaps the fragment with its errors
    assert message.replace("'", "&#x27;") in page
    assert "Nombre de bénéficiaires" in page or values.get("label") == ""
    assert draft.form_questions.count() == 3
    response = staff.post(url("form_question_add", draft), add_data(**values))
    assert response.status_code == 400 and message in response.content.decode()


def test_a_move_on_a_list_that_changed_meanwhile_is_refused(draft, instructeur, staff):
    amount = draft.form_questions.get(label="Montant")
    # Seen third; another tab moved it to second since.
    form_editor.move_question(amount, by=instructeur, direction="up")
    with pytest.raises(DomainError, match="a changé entre-temps"):
        form_editor.move_question(amount, by=instructeur, direction="up", seen_position=3)
    response = staff.post(
        url("form_question_move", draft, amount), {"direction": "up", "position": "3"}, **HTMX
    )
    assert "a changé entre-temps" in response.content.decode()
    assert labels(draft) == [(1, "Lots sollicités"), (2, "Montant"), (3, "Résumé")]


def test_a_question_of_another_call_is_not_found(draft, staff):
    other = CallFactory(status=CallStatus.DRAFT)
    stranger = Question.objects.create(call=other, position=1, label="Ailleurs", kind="short_text")
    for name in ("form_question_edit", "form_question_delete", "form_question_move"):
        target = reverse(f"aap:{name}", args=[draft.pk, stranger.pk])
        assert staff.post(target, {"direction": "up"}).status_code == 404, name
    assert (
        staff.get(reverse("aap:form_question_edit", args=[draft.pk, stranger.pk])).status_code
        == 404
    )
    assert Question.objects.filter(pk=stranger.pk, label="Ailleurs").exists()


@pytest.mark.parametrize("persona", ["candidate", "evaluator", "ddets_reader"])
def test_other_roles_get_403_on_every_editor_url(draft, client_for, persona, request):
    client = client_for(request.getfixturevalue(persona))
    question = draft.form_questions.first()
    before = labels(draft)
    for target in (
        url("backoffice_questions_form", draft),
        url("form_question_edit", draft, question),
        reverse("candidatures:form_preview", args=[draft.pk]),
    ):
        assert client.get(target).status_code == 403, target
    for target in (
        url("form_question_add", draft),
        url("form_question_edit", draft, question),
        url("form_question_delete", draft, question),
        url("form_question_move", draft, question),
    ):
        assert client.post(target, add_data() | {"direction": "down"}).status_code == 403, target
    assert labels(draft) == before


def test_anonymous_visitors_are_sent_to_login(draft, client):
    question = draft.form_questions.first()
    response = client.post(url("form_question_move", draft, question), {"direction": "down"})
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )
    response = client.get(reverse("candidatures:form_preview", args=[draft.pk]))
    assert response.status_code == 302


# --- What works ------------------------------------------------------------------------------


def test_moving_renumbers_the_positions_one_to_n(draft, staff):
    summary = draft.form_questions.get(label="Résumé")
    response = staff.post(
        url("form_question_move", draft, summary), {"direction": "up", "position": "2"}, **HTMX
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page  # a fragment for htmx
    assert "est maintenant en position 1" in page
    assert response["Vary"].count("HX-Request") == 1
    assert labels(draft) == [(1, "Résumé"), (2, "Lots sollicités"), (3, "Montant")]
    # Without JavaScript: a plain POST, then back to the editor with the message.
    response = staff.post(url("form_question_move", draft, summary), {"direction": "down"})
    assert response.status_code == 302
    assert response["Location"] == url("backoffice_questions_form", draft)
    assert labels(draft) == [(1, "Lots sollicités"), (2, "Résumé"), (3, "Montant")]
    # The last one cannot go lower: nothing moves.
    amount = draft.form_questions.get(label="Montant")
    staff.post(url("form_question_move", draft, amount), {"direction": "down"})
    assert labels(draft) == [(1, "Lots sollicités"), (2, "Résumé"), (3, "Montant")]


def test_adding_puts_the_question_last_without_blank_slots(draft, staff):
    response = staff.post(
        url("form_question_add", draft),
        add_data(section="Public", help_text="Nombre **estimé**.", max_length="40"),
        **HTMX,
    )
    assert response.status_code == 200
    assert labels(draft)[-1] == (4, "Nombre de bénéficiaires")
    added = draft.form_questions.get(position=4)
    assert (added.section, added.kind, added.required) == ("Public", "number", True)
    assert added.max_length is None  # a length means nothing for a number
    page = staff.get(url("backoffice_questions_form", draft)).content.decode()
    # One form to add a question, none empty per question: no blank slots.
    assert page.count('name="new-label"') == 1
    assert "items-TOTAL_FORMS" not in page


def test_editing_shows_the_fields_in_place_then_saves(draft, staff):
    summary = draft.form_questions.get(label="Résumé")
    response = staff.get(url("form_question_edit", draft, summary), **HTMX)
    page = response.content.decode()
    assert f'name="q{summary.pk}-label"' in page and "autofocus" in page and "<html" not in page
    response = staff.post(
        url("form_question_edit", draft, summary),
        {
            f"q{summary.pk}-label": "Résumé du projet",
            f"q{summary.pk}-kind": "long_text",
            f"q{summary.pk}-max_length": "2000",
            f"q{summary.pk}-section": "Projet",
        },
    )
    assert response.status_code == 302
    summary.refresh_from_db()
    assert (summary.label, summary.max_length, summary.section, summary.required) == (
        "Résumé du projet",
        2000,
        "Projet",
        False,
    )
    # Without JavaScript, the edit page is the whole editor with that question open.
    page = staff.get(url("form_question_edit", draft, summary)).content.decode()
    assert "<html" in page and f'name="q{summary.pk}-label"' in page


def test_deleting_renumbers_the_others(draft, staff):
    lots = draft.form_questions.get(label="Lots sollicités")
    response = staff.post(url("form_question_delete", draft, lots), **HTMX)
    assert "est supprimée" in response.content.decode()
    assert labels(draft) == [(1, "Résumé"), (2, "Montant")]
    assert staff.get(url("form_question_delete", draft, lots)).status_code in (404, 405)


def test_the_editor_runs_as_many_queries_for_twenty_questions_as_for_three(draft, staff):
    target = url("backoffice_questions_form", draft)
    with CaptureQueriesContext(connection) as few:
        assert staff.get(target).status_code == 200
    with as_draft(draft):
        for index in range(17):
            Question.objects.create(
                call=draft, position=40 + index, label=f"Q{index}", kind="yes_no"
            )
    with CaptureQueriesContext(connection) as many:
        page = staff.get(target).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert page.count("question-up-") == 20


def test_the_preview_shows_the_form_as_a_candidate_sees_it(draft, staff):
    with as_draft(draft):
        Question.objects.create(
            call=draft,
            position=40,
            section="Territoire",
            label="EPCI couverts",
            kind="choices",
            choices="Trièves\nOisans",
        )
    from aap.models import Lot

    Lot.objects.create(call=draft, position=1, name="Nord Isère", fte="0.5")
    page = staff.get(reverse("candidatures:form_preview", args=[draft.pk])).content.decode()
    assert "Nord Isère" in page and "Trièves" in page and "Territoire" in page
    assert page.index("Lots sollicités") < page.index("Résumé") < page.index("EPCI couverts")
    assert "<fieldset disabled>" in page
    assert "Réponse obligatoire pour déposer." in page


def test_the_editor_page_loads_htmx_from_our_static_files_under_the_csp(draft, staff):
    response = staff.get(url("backoffice_questions_form", draft))
    page = response.content.decode()
    assert "/static/vendor/htmx/htmx.min.js" in page and "/static/js/htmx-config.js" in page
    assert "hx-on" not in page and "style=" not in page
    assert "<script>" not in page
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy


def test_only_an_instructeur_may_call_the_services(draft, candidate):
    question = draft.form_questions.first()
    with pytest.raises(PermissionDenied):
        form_editor.move_question(question, by=candidate, direction="down")
    with pytest.raises(PermissionDenied):
        form_editor.add_question(draft, by=candidate, values={"label": "X", "kind": "yes_no"})


def test_a_form_is_built_question_by_question_with_what_each_kind_keeps(db, staff):
    call = CallFactory(status=CallStatus.DRAFT)
    rows = [
        {"section": "Projet", "label": "Lots sollicités", "kind": "lots", "required": "on"},
        {
            "section": "Projet",
            "label": "Résumé",
            "kind": "long_text",
            "required": "on",
            "max_length": "3000",
            "choices": "ignoré",
        },
        {
            "section": "Territoire",
            "label": "EPCI couverts",
            "kind": "choices",
            "choices": "Trièves\nOisans\n\nMatheysine",
        },
        {"section": "Financement", "label": "Montant", "kind": "amount", "max_length": "12"},
    ]
    for row in rows:
        data = {f"new-{key}": value for key, value in row.items()}
        assert staff.post(url("form_question_add", call), data).status_code == 302
    questions = list(call.form_questions.order_by("position"))
    assert [(q.position, q.label, q.kind) for q in questions] == [
        (1, "Lots sollicités", "lots"),
        (2, "Résumé", "long_text"),
        (3, "EPCI couverts", "choices"),
        (4, "Montant", "amount"),
    ]
    assert questions[1].choices == "" and questions[1].max_length == 3000
    assert questions[2].choice_list == ["Trièves", "Oisans", "Matheysine"]
    assert questions[3].max_length is None  # a length limit means nothing for an amount
