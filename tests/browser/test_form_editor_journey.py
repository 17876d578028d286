"""An instructeur builds a call's form in the editor: questions moved and added in place,
without the page reloading; after a reload, the new order is the one saved."""

import re

import pytest
from playwright.sync_api import expect

from aap.models import Question
from aap.states import CallStatus
from core.roles import Role
from tests.browser.helpers import assert_every_field_labelled, label, log_in
from tests.factories import CallFactory, UserFactory

pytestmark = pytest.mark.browser


def rows(page):
    return page.locator("#form-editor tbody th[scope=row]")


def settled(page):
    """htmx enables a swapped fragment once it has settled: a person never clicks within
    those milliseconds, a test may."""
    expect(page.locator(".htmx-request, .htmx-settling, .htmx-swapping")).to_have_count(0)


def test_an_instructeur_reorders_and_adds_questions_without_a_reload(page):
    instructeur = UserFactory(email="ines@isere.test", roles=[Role.INSTRUCTEUR])
    call = CallFactory(status=CallStatus.DRAFT, title="Appel 2025")
    for position, (text, kind) in enumerate(
        [("Lots sollicités", "lots"), ("Résumé du projet", "long_text"), ("Montant", "amount")],
        start=1,
    ):
        Question.objects.create(call=call, position=position, label=text, kind=kind)

    log_in(page, instructeur.email)
    page.goto(f"/gestion/appels/{call.pk}/formulaire/")
    expect(rows(page)).to_have_text(["Lots sollicités", "Résumé du projet", "Montant"])
    settled(page)
    assert_every_field_labelled(page)
    # A mark on the page's window: a navigation would lose it.
    page.evaluate("() => { window.editorMark = 'same page'; }")

    # « Montant » goes up twice, with the keyboard.
    up = page.get_by_role("button", name="Monter « Montant »")
    up.focus()
    page.keyboard.press("Enter")
    expect(rows(page)).to_have_text(["Lots sollicités", "Montant", "Résumé du projet"])
    settled(page)
    expect(page.locator("#form-editor-status")).to_have_text(
        "La question « Montant » est maintenant en position 2."
    )
    # The focus stays on the button pressed, which followed its question.
    expect(page.get_by_role("button", name="Monter « Montant »")).to_be_focused()
    page.keyboard.press("Enter")
    expect(rows(page)).to_have_text(["Montant", "Lots sollicités", "Résumé du projet"])
    settled(page)
    expect(page.get_by_role("button", name="Monter « Montant »")).to_be_disabled()

    # A new question, added at the end.
    add = page.locator(".question-add")
    add.get_by_label(label("Rubrique")).fill("Public")
    add.get_by_label(label("Question")).fill("Nombre de bénéficiaires")
    add.get_by_label(label("Type de réponse")).select_option(label="Nombre")
    add.get_by_role("button", name="Ajouter la question").click()
    expect(rows(page)).to_have_text(
        ["Montant", "Lots sollicités", "Résumé du projet", "Nombre de bénéficiaires"]
    )
    settled(page)
    # The add form is empty again, its cursor ready for the next question.
    expect(add.get_by_label(label("Question"))).to_have_value("")
    expect(page.locator(".question-add").get_by_label(label("Question"))).to_be_focused()

    assert page.evaluate("() => window.editorMark") == "same page", "after add"
    # A change in place: the question's fields open on its line, then it is saved.
    page.get_by_role("link", name="Modifier « Résumé du projet »").click()
    editing = page.locator("tr.question-editing")
    expect(editing.get_by_label(label("Question"))).to_be_focused()
    editing.get_by_label(label("Question")).fill("Résumé")
    editing.get_by_role("button", name="Enregistrer").click()
    expect(rows(page)).to_have_text(
        ["Montant", "Lots sollicités", "Résumé", "Nombre de bénéficiaires"]
    )
    settled(page)

    assert page.evaluate("() => window.editorMark") == "same page", "after edit"
    # A bad question is refused in French, what was typed kept, nothing added.
    add = page.locator(".question-add")
    add.get_by_label(label("Question")).fill("Territoire")
    add.get_by_label(label("Type de réponse")).select_option(label="Un choix dans une liste")
    add.get_by_role("button", name="Ajouter la question").click()
    expect(page.locator(".question-add")).to_contain_text(
        "Indiquez au moins deux choix, un par ligne."
    )
    settled(page)
    expect(page.locator(".question-add").get_by_label(label("Question"))).to_have_value(
        "Territoire"
    )
    expect(rows(page)).to_have_count(4)

    # All of it without leaving the page.
    assert page.evaluate("() => window.editorMark") == "same page"
    assert page.url.endswith(f"/gestion/appels/{call.pk}/formulaire/")

    # After a reload, the order is the one saved.
    page.reload()
    assert page.evaluate("() => window.editorMark") is None
    expect(rows(page)).to_have_text(
        ["Montant", "Lots sollicités", "Résumé", "Nombre de bénéficiaires"]
    )
    settled(page)
    assert list(call.form_questions.order_by("position").values_list("position", "label")) == [
        (1, "Montant"),
        (2, "Lots sollicités"),
        (3, "Résumé"),
        (4, "Nombre de bénéficiaires"),
    ]

    # « Voir comme un candidat »: the form in the new order.
    page.get_by_role("link", name="Voir comme un candidat").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossier de demande de financement")
    text = page.get_by_role("group", name="Réponses").inner_text()
    positions = [
        text.index(name)
        for name in ("Montant", "Lots sollicités", "Résumé", "Nombre de bénéficiaires")
    ]
    assert positions == sorted(positions), text
    expect(page.get_by_text(re.compile("Aperçu : le formulaire"))).to_be_visible()
