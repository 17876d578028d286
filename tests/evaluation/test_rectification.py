"""A notified decision changes only through a rectification: a recorded act (reason, who,
when, old and new outcome, amount and FTE) that writes the decision's history, sends a
new letter to the organisation, updates the public list of selected organisations with
its date, and is shown to whoever prepares the agreement."""

import datetime as dt
import html
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from aap.models import Lot
from core.exceptions import DomainError
from core.models import OutgoingEmail
from evaluation import queries, services
from evaluation.models import (
    Decision,
    DecisionRectification,
    DecisionRevision,
    NotificationLetter,
)
from evaluation.states import LetterKind, LetterStatus
from tests.evaluation import notified as world
from tests.pdf import pdf_text

NOTIFIED_ON = dt.datetime(2026, 2, 17, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
RECTIFIED_ON = dt.datetime(2026, 8, 4, 15, 30, tzinfo=ZoneInfo("Europe/Paris"))
REASON = "Erreur matérielle : le budget du lot ne permettait pas ce montant."


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Letters and records are stored in this test's own private folder."""


@pytest.fixture(autouse=True)
def clock():
    """The call is made, decided and notified on NOTIFIED_ON; rectifications come later."""
    with time_machine.travel(NOTIFIED_ON, tick=True):
        yield


@pytest.fixture
def notified(graded_call, instructeur, evaluators, django_capture_on_commit_callbacks):
    decided = world.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])
    world.notify(graded_call, by=instructeur, capture=django_capture_on_commit_callbacks)
    return decided


def rectify(decision, *, by, capture, **values):
    with time_machine.travel(RECTIFIED_ON, tick=True), capture(execute=True):
        return services.rectify_decision(decision, by=by, **values)


def nothing_recorded(decision, before):
    decision.refresh_from_db()
    return (
        (decision.outcome, decision.amount_granted, decision.fte_granted) == before
        and not DecisionRectification.objects.exists()
        and not NotificationLetter.objects.filter(kind=LetterKind.RECTIFICATION).exists()
        and not DecisionRevision.objects.filter(action="rectify").exists()
    )


# --- Refusals ----------------------------------------------------------------------------------


def test_a_rectification_without_a_reason_is_refused(notified, instructeur):
    decision = Decision.objects.get(candidature=notified["alpha"])
    with pytest.raises(DomainError, match="motif de la rectification"):
        services.rectify_decision(decision, by=instructeur, outcome="not_selected", reason="  ")
    assert nothing_recorded(decision, ("selected", Decimal("24500"), Decimal("0.5")))


def test_a_decision_not_yet_notified_is_not_rectified(graded_call, instructeur, evaluators):
    decided = world.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])
    decision = Decision.objects.get(candidature=decided["gamma"])
    with pytest.raises(DomainError, match="pas encore notifiée"):
        services.rectify_decision(
            decision, by=instructeur, outcome="not_selected", reason="Trop tôt"
        )
    assert nothing_recorded(decision, ("waiting_list", None, None))


def test_a_rectification_that_changes_nothing_is_refused(notified, instructeur):
    decision = Decision.objects.get(candidature=notified["alpha"])
    with pytest.raises(DomainError, match="ne change ni"):
        services.rectify_decision(
            decision,
            by=instructeur,
            outcome="selected",
            amount_granted=Decimal("24500.00"),
            fte_granted=Decimal("0.50"),
            reason=REASON,
        )
    assert nothing_recorded(decision, ("selected", Decimal("24500"), Decimal("0.5")))


def test_a_selection_without_amount_or_beyond_the_budget_is_refused(notified, instructeur):
    decision = Decision.objects.get(candidature=notified["gamma"])
    with pytest.raises(DomainError, match="montant et des ETP"):
        services.rectify_decision(decision, by=instructeur, outcome="selected", reason=REASON)
    Lot.objects.filter(pk=notified["lot"].pk).update(budget=Decimal("30000"))
    with pytest.raises(DomainError, match="dépasseraient son budget"):
        services.rectify_decision(
            decision,
            by=instructeur,
            outcome="selected",
            amount_granted=Decimal("6000"),
            fte_granted=Decimal("0.2"),
            reason=REASON,
        )
    assert nothing_recorded(decision, ("waiting_list", None, None))


def test_only_an_instructeur_rectifies(notified, ddets_reader, evaluators):
    decision = Decision.objects.get(candidature=notified["alpha"])
    for user in (ddets_reader, evaluators[1]):
        with pytest.raises(PermissionDenied):
            services.rectify_decision(decision, by=user, outcome="not_selected", reason=REASON)
    assert nothing_recorded(decision, ("selected", Decimal("24500"), Decimal("0.5")))


# --- What a rectification does ---------------------------------------------------------------


def test_a_rectification_records_the_act_and_writes_the_history(
    notified, instructeur, django_capture_on_commit_callbacks
):
    decision = Decision.objects.get(candidature=notified["alpha"])
    rectification = rectify(
        decision,
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        outcome="not_selected",
        reason=REASON,
    )

    assert (
        rectification.old_outcome,
        rectification.old_amount,
        rectification.old_fte,
        rectification.new_outcome,
        rectification.new_amount,
        rectification.new_fte,
        rectification.reason,
        rectification.by,
    ) == (
        "selected",
        Decimal("24500"),
        Decimal("0.5"),
        "not_selected",
        None,
        None,
        REASON,
        instructeur,
    )
    assert rectification.at.astimezone(ZoneInfo("Europe/Paris")).date() == RECTIFIED_ON.date()
    decision.refresh_from_db()
    assert (decision.outcome, decision.amount_granted, decision.reason) == (
        "not_selected",
        None,
        REASON,
    )
    row = DecisionRevision.objects.filter(decision=decision).latest("pk")
    assert (row.action, row.by, row.note) == ("rectify", instructeur, REASON)
    assert row.before["décision"] == "Retenu" and row.after["décision"] == "Non retenu"
    assert row.before["montant attribué (€)"] == "24\xa0500,00"
    assert row.after["montant attribué (€)"] is None
    # The flag for the agreement prepared on the decision (conventions reads it).
    assert queries.rectified_notice(notified["alpha"], notified["lot"]) == (
        f"Décision rectifiée le 4 août 2026 à 15h30 : Retenu → Non retenu ({REASON})"
    )
    assert queries.rectified_notice(notified["beta"], notified["lot"]) == ""


def test_a_rectification_sends_a_new_letter_with_the_recours(
    notified, instructeur, django_capture_on_commit_callbacks, mailoutbox
):
    alpha = notified["alpha"]
    first = world.decision_letter(alpha)
    first_pdf = world.stored(first)
    mailoutbox.clear()

    rectification = rectify(
        Decision.objects.get(candidature=alpha),
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        outcome="not_selected",
        reason=REASON,
    )

    letter = NotificationLetter.objects.get(rectification=rectification)
    assert (letter.kind, letter.status) == (LetterKind.RECTIFICATION, LetterStatus.SENT)
    assert letter.sent_at.astimezone(ZoneInfo("Europe/Paris")).date() == RECTIFIED_ON.date()
    text = pdf_text(world.stored(letter))
    for expected in (
        "– rectification de la décision",
        "Grenoble, le 4 août 2026",
        "qui vous a été notifiée le 17 février 2026, est rectifiée",
        "Décision notifiée",
        "Décision rectifiée",
        "Retenu : 24 500,00 € pour 0,5 ETP",
        "Non retenu",
        f"Motif de la rectification : {REASON}",
        "La convention de partenariat préparée sur la décision notifiée sera revue",
        "Voies et délais de recours",
        "tribunal administratif de Grenoble",
        "dans un délai de deux mois à compter de sa notification",
        "https://citoyens.telerecours.fr",
    ):
        assert expected in text, expected
    # The first letter stays as it left.
    first.refresh_from_db()
    assert world.stored(first) == first_pdf and first.status == LetterStatus.SENT
    # The organisation is told, the letter attached.
    member = alpha.organisation.memberships.get().user
    [message] = [m for m in mailoutbox if m.to == [member.email]]
    assert message.subject.endswith(
        f"Rectification de la décision sur votre dossier ({alpha.call.reference})"
    )
    assert [(name, data) for name, data, _mime in message.attachments] == [
        (letter.filename, world.stored(letter))
    ]
    assert OutgoingEmail.objects.get(pk=letter.email_id).template == "decision_rectified"


def test_the_public_list_follows_the_rectification_with_its_date(
    notified, instructeur, client, django_capture_on_commit_callbacks
):
    call = notified["alpha"].call
    public = html.unescape(client.get(call.get_absolute_url()).content.decode())
    assert "Structures retenues" in public and world.ALPHA in public
    assert "Liste mise à jour" not in public

    rectify(
        Decision.objects.get(candidature=notified["alpha"]),
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        outcome="not_selected",
        reason=REASON,
    )
    rectify(
        Decision.objects.get(candidature=notified["gamma"]),
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        outcome="selected",
        amount_granted=Decimal("20000"),
        fte_granted=Decimal("0.5"),
        reason="Désistement d'un lauréat : le premier de la liste d'attente est retenu.",
    )

    public = html.unescape(client.get(call.get_absolute_url()).content.decode())
    section = public[public.index("Structures retenues") :]
    assert world.GAMMA in section and world.ALPHA not in section
    assert "Liste mise à jour le 4 août 2026, après rectification d'une décision." in section


def test_the_rectification_form_of_the_dossier_page(
    notified, instructeur, client_for, django_capture_on_commit_callbacks
):
    beta, lot = notified["beta"], notified["lot"]
    client = client_for(instructeur)
    url = reverse("evaluation:rectify", args=[beta.pk, lot.pk])

    refused = client.post(url, {f"lot{lot.pk}-outcome": "waiting_list"}, follow=True)
    assert "Motif de la rectification (communiqué au candidat) : Ce champ est obligatoire." in (
        html.unescape(refused.content.decode())
    )
    assert not DecisionRectification.objects.exists()

    with (
        time_machine.travel(RECTIFIED_ON, tick=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client = client_for(instructeur)  # months later: a new session
        response = client.post(
            url,
            {
                f"lot{lot.pk}-outcome": "waiting_list",
                f"lot{lot.pk}-reason": "Recours gracieux accueilli.",
            },
            follow=True,
        )
    text = html.unescape(response.content.decode())
    assert f"La décision est rectifiée pour le lot {lot.name}" in text
    assert "Décision rectifiée le 4 août 2026 à 15h30" in text
    assert "Rectification de la décision" in text  # the letter, listed with its dispatch
    assert DecisionRectification.objects.get().new_outcome == "waiting_list"


def test_the_candidate_reads_both_letters_and_no_one_elses(
    notified, instructeur, client_for, other_candidate, django_capture_on_commit_callbacks
):
    alpha = notified["alpha"]
    rectification = rectify(
        Decision.objects.get(candidature=alpha),
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        outcome="not_selected",
        reason=REASON,
    )
    member = alpha.organisation.memberships.get().user
    client = client_for(member)
    page = html.unescape(
        client.get(reverse("candidatures:dossier", args=[alpha.pk])).content.decode()
    )
    assert "Lettre de notification du 17 février 2026" in page
    assert "Décision rectifiée le 4 août 2026" in page
    letter = NotificationLetter.objects.get(rectification=rectification)
    response = client.get(reverse("evaluation:letter_file", args=[alpha.pk, letter.pk]))
    assert b"".join(response.streaming_content) == world.stored(letter)
    # The dossier's latest letter is the rectification.
    latest = client.get(reverse("evaluation:letter", args=[alpha.pk]))
    assert b"".join(latest.streaming_content) == world.stored(letter)
    outsider = client_for(other_candidate)
    assert (
        outsider.get(reverse("evaluation:letter_file", args=[alpha.pk, letter.pk])).status_code
        == 404
    )


def test_the_record_is_flagged_with_the_decisions_rectified_after_it(
    notified, instructeur, client_for, django_capture_on_commit_callbacks
):
    record = notified["lot"].committee_records.get()
    before = record.sha256
    decision = Decision.objects.get(candidature=notified["gamma"])
    rectify(
        decision,
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        outcome="not_selected",
        amount_granted=None,
        fte_granted=None,
        reason=REASON,
    )

    page = html.unescape(
        client_for(instructeur)
        .get(reverse("evaluation:ranking", args=[record.call_id, record.lot_id]))
        .content.decode()
    )

    flag = page[page.index(f'data-record="{record.pk}"') :]
    flag = flag[: flag.index("</li>")]
    assert "1 décision rectifiée depuis ce procès-verbal" in flag
    assert f"{world.GAMMA} – Liste d'attente → Non retenu, le 4 août 2026 à 15h30" in flag
    assert REASON in flag
    record.refresh_from_db()
    assert record.sha256 == before  # the record itself stays as it was signed


def rectification_data(lot, **values):
    data = {
        "outcome": "selected",
        "amount_granted": "10000",
        "fte_granted": "0,25",
        "reason": REASON,
        "opening": "",
        "closing": "",
        **values,
    }
    return {f"lot{lot.pk}-{name}": value for name, value in data.items()}


def test_staff_preview_the_rectification_letter_and_nothing_is_written(
    notified, instructeur, client_for
):
    gamma, lot = notified["gamma"], notified["lot"]
    decision = Decision.objects.get(candidature=gamma)
    letters_before = NotificationLetter.objects.count()
    client = client_for(instructeur)

    response = client.post(
        reverse("evaluation:rectify_preview", args=[gamma.pk, lot.pk]),
        rectification_data(
            lot, opening="Suite au désistement d'un lauréat, nous revenons vers vous."
        ),
    )

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Suite au désistement d'un lauréat, nous revenons vers vous." in page
    assert "Liste d'attente" in page and "Retenu" in page and REASON in page
    assert "tribunal administratif de Grenoble" in page and "deux mois" in page
    assert "Rectifier et envoyer la lettre" in page
    decision.refresh_from_db()
    assert decision.outcome == "waiting_list"
    assert not DecisionRectification.objects.exists()
    assert NotificationLetter.objects.count() == letters_before


def test_a_refused_preview_says_why(notified, instructeur, client_for):
    gamma, lot = notified["gamma"], notified["lot"]
    response = client_for(instructeur).post(
        reverse("evaluation:rectify_preview", args=[gamma.pk, lot.pk]),
        rectification_data(lot, outcome="waiting_list", amount_granted="", fte_granted=""),
    )
    assert response.status_code == 400
    assert "La rectification ne change ni la décision" in html.unescape(response.content.decode())
    assert not DecisionRectification.objects.exists()


def test_the_confirmed_letter_carries_staff_paragraphs(
    notified, instructeur, client_for, django_capture_on_commit_callbacks
):
    gamma, lot = notified["gamma"], notified["lot"]
    with (
        time_machine.travel(RECTIFIED_ON, tick=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client_for(instructeur).post(
            reverse("evaluation:rectify", args=[gamma.pk, lot.pk]),
            rectification_data(lot, closing="Nous vous prions de nous excuser de ce changement."),
        )

    letter = NotificationLetter.objects.get(candidature=gamma, kind=LetterKind.RECTIFICATION)
    assert letter.status == LetterStatus.SENT
    text = pdf_text(world.stored(letter))
    assert "Nous vous prions de nous excuser de ce changement." in text
    assert "rectifiée" in text
