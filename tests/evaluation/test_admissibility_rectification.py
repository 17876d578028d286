"""A notified inadmissibility changes only through a recorded act, « Rectifier
l'irrecevabilité » (a recours gracieux shows the missing piece was attached): the reason,
who, when, the old and new admissibility, and, since the call's decisions are notified
and the committee re-examined the dossier, the committee's decision on each of its lots,
frozen at once. One new letter tells the organisation, the public list of selected
organisations follows, and the candidate reads the new outcome and timeline. Every other
path (the service's refusals, the admissibility form's URL, the model layer that the
shell and any admin use) is refused."""

import datetime as dt
import html
import re
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from aap.models import Lot
from candidatures.models import Candidature
from core.exceptions import DomainError
from core.models import OutgoingEmail
from evaluation import letters, services
from evaluation.models import (
    Admissibility,
    AdmissibilityChange,
    AdmissibilityFrozen,
    AdmissibilityRectification,
    Decision,
    DecisionFrozen,
    DecisionRevision,
    NotificationLetter,
)
from evaluation.states import LetterKind, LetterStatus
from tests.evaluation import notified as world
from tests.evaluation.conftest import submitted_dossier
from tests.factories import dossier_ready_call
from tests.pdf import pdf_text

NOTIFIED_ON = dt.datetime(2026, 2, 17, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
RECTIFIED_ON = dt.datetime(2026, 8, 4, 15, 30, tzinfo=ZoneInfo("Europe/Paris"))
REASON = "Recours gracieux : l'attestation signée était jointe au dossier déposé."


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Letters and records are stored in this test's own private folder."""


@pytest.fixture(autouse=True)
def clock():
    """The call is decided and notified on NOTIFIED_ON; the rectification comes later."""
    with time_machine.travel(NOTIFIED_ON, tick=True):
        yield


@pytest.fixture
def decided(graded_call, instructeur, evaluators):
    return world.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])


@pytest.fixture
def notified(decided, graded_call, instructeur, django_capture_on_commit_callbacks):
    world.notify(graded_call, by=instructeur, capture=django_capture_on_commit_callbacks)
    return decided


def selected(lot, amount="10000", fte="0.25"):
    return {
        lot.pk: {
            "outcome": "selected",
            "amount_granted": Decimal(amount),
            "fte_granted": Decimal(fte),
            "reason": "",
        }
    }


def rectify(dossier, *, by, capture, **values):
    values.setdefault("reason", REASON)
    with time_machine.travel(RECTIFIED_ON, tick=True), capture(execute=True):
        return services.rectify_admissibility(dossier, by=by, **values)


def nothing_recorded(dossier) -> bool:
    admissibility = Admissibility.objects.get(candidature=dossier)
    return (
        admissibility.outcome == "inadmissible"
        and admissibility.reason == world.INADMISSIBLE_REASON
        and not AdmissibilityRectification.objects.exists()
        and not AdmissibilityChange.objects.filter(rectification__isnull=False).exists()
        and not Decision.objects.filter(candidature=dossier).exists()
        and not NotificationLetter.objects.filter(kind=LetterKind.RECTIFICATION).exists()
    )


def page(response) -> str:
    return html.unescape(response.content.decode())


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page(response)))


# --- Refusals -----------------------------------------------------------------------------------


def test_only_an_instructeur_rectifies_an_inadmissibility(notified, ddets_reader, evaluators):
    delta, lot = notified["delta"], notified["lot"]
    member = delta.organisation.memberships.get().user
    for user in (ddets_reader, evaluators[0], member):
        with pytest.raises(PermissionDenied):
            services.rectify_admissibility(delta, by=user, reason=REASON, decisions=selected(lot))
        with pytest.raises(PermissionDenied):
            services.preview_admissibility_rectification(
                delta, by=user, reason=REASON, decisions=selected(lot)
            )
    assert nothing_recorded(delta)


def test_a_dossier_that_is_not_inadmissible_is_refused(notified, instructeur):
    with pytest.raises(DomainError, match="n'est pas déclaré irrecevable"):
        services.rectify_admissibility(
            notified["gamma"],
            by=instructeur,
            reason=REASON,
            decisions=selected(notified["lot"]),
        )
    # Nor one whose admissibility was never decided.
    call = dossier_ready_call()
    undecided = submitted_dossier(call, "Régie sans recevabilité", lot=call.lots.first())
    with pytest.raises(DomainError, match="n'est pas déclaré irrecevable"):
        services.rectify_admissibility(
            undecided, by=instructeur, reason=REASON, decisions=selected(call.lots.first())
        )
    assert not AdmissibilityRectification.objects.exists()


def test_an_inadmissibility_not_yet_notified_goes_through_the_ordinary_form(decided, instructeur):
    delta = decided["delta"]
    with pytest.raises(DomainError, match=r"pas encore notifiée.*formulaire de recevabilité"):
        services.rectify_admissibility(
            delta, by=instructeur, reason=REASON, decisions=selected(decided["lot"])
        )
    assert nothing_recorded(delta)
    # That form still corrects it, as before the notification.
    services.decide_admissibility(delta, by=instructeur, admissible=True)
    assert Admissibility.objects.get(candidature=delta).outcome == "admissible"


def test_a_rectification_without_a_reason_is_refused(notified, instructeur):
    delta = notified["delta"]
    with pytest.raises(DomainError, match="motif de la rectification"):
        services.rectify_admissibility(
            delta, by=instructeur, reason="   ", decisions=selected(notified["lot"])
        )
    assert nothing_recorded(delta)


def test_each_lot_needs_the_committees_decision(notified, instructeur):
    delta, lot = notified["delta"], notified["lot"]
    with pytest.raises(DomainError, match=f"décision du comité pour le lot « {lot.name} »"):
        services.rectify_admissibility(delta, by=instructeur, reason=REASON, decisions={})
    with pytest.raises(DomainError, match="montant et des ETP"):
        services.rectify_admissibility(
            delta, by=instructeur, reason=REASON, decisions={lot.pk: {"outcome": "selected"}}
        )
    with pytest.raises(DomainError, match="motif de la décision de non-retenue"):
        services.rectify_admissibility(
            delta,
            by=instructeur,
            reason=REASON,
            decisions={lot.pk: {"outcome": "not_selected", "reason": " "}},
        )
    other_lot = lot.call.lots.exclude(pk=lot.pk).get()
    with pytest.raises(DomainError, match="ne candidate pas sur ce lot"):
        services.rectify_admissibility(
            delta,
            by=instructeur,
            reason=REASON,
            decisions={**selected(lot), **selected(other_lot)},
        )
    assert nothing_recorded(delta)


def test_a_selection_beyond_the_lots_budget_is_refused(notified, instructeur):
    delta, lot = notified["delta"], notified["lot"]
    # Alpha holds 24 500 € of the lot.
    Lot.objects.filter(pk=lot.pk).update(budget=Decimal("30000"))
    with pytest.raises(DomainError, match="dépasseraient son budget"):
        services.rectify_admissibility(
            delta, by=instructeur, reason=REASON, decisions=selected(lot, amount="6000")
        )
    assert nothing_recorded(delta)
    # Within it, the same act passes.
    services.rectify_admissibility(
        delta, by=instructeur, reason=REASON, decisions=selected(lot, amount="5500")
    )
    assert Decision.objects.get(candidature=delta).amount_granted == Decimal("5500")


def test_a_second_identical_act_is_refused(
    notified, instructeur, django_capture_on_commit_callbacks
):
    delta, lot = notified["delta"], notified["lot"]
    rectify(
        delta,
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        decisions=selected(lot),
    )
    letters = NotificationLetter.objects.count()

    with pytest.raises(DomainError, match="n'est pas déclaré irrecevable"):
        rectify(
            delta,
            by=instructeur,
            capture=django_capture_on_commit_callbacks,
            decisions=selected(lot),
        )

    assert AdmissibilityRectification.objects.count() == 1
    assert Decision.objects.filter(candidature=delta).count() == 1
    assert NotificationLetter.objects.count() == letters


# --- Every other path is refused once notified --------------------------------------------------


def test_the_model_layer_refuses_to_change_a_notified_admissibility(notified, instructeur):
    """What the shell, or an admin form, would do."""
    delta, alpha = notified["delta"], notified["alpha"]
    admissibility = Admissibility.objects.get(candidature=delta)
    admissibility.outcome, admissibility.reason = "admissible", ""
    with pytest.raises(AdmissibilityFrozen, match="Rectifier l'irrecevabilité"):
        admissibility.save()
    with pytest.raises(AdmissibilityFrozen):
        Admissibility.objects.get(candidature=delta).delete()
    admitted = Admissibility.objects.get(candidature=alpha)
    admitted.outcome, admitted.reason = "inadmissible", "Après coup"
    with pytest.raises(AdmissibilityFrozen):
        admitted.save()
    # An act not recorded, or another dossier's, does not open it.
    unsaved = AdmissibilityRectification(candidature=delta, new_outcome="admissible")
    with pytest.raises(AdmissibilityFrozen):
        admissibility.save(rectification=unsaved)
    services.rectify_admissibility(
        delta, by=instructeur, reason=REASON, decisions=selected(notified["lot"])
    )
    act = AdmissibilityRectification.objects.get()
    with pytest.raises(AdmissibilityFrozen):
        admitted.save(rectification=act)

    assert Admissibility.objects.get(candidature=alpha).outcome == "admissible"


def test_the_admissibility_form_url_refuses_and_points_to_the_rectification(
    notified, instructeur, client_for
):
    delta = notified["delta"]
    client = client_for(instructeur)
    url = reverse("evaluation:admissibility_decide", args=[delta.pk])

    shown = page(client.get(url))
    assert "La recevabilité de ce dossier a été notifiée" in shown
    assert 'name="outcome"' not in shown
    assert reverse("evaluation:admissibility_rectify", args=[delta.pk]) in shown

    response = client.post(url, {"outcome": "admissible", "reason": ""})
    assert response.status_code == 400
    assert "« Rectifier l'irrecevabilité »" in page(response)
    assert nothing_recorded(delta)


def test_no_admin_page_edits_admissibility_or_its_rectification(admin_user, client_for):
    """The Django admin registers none of them: no path there changes the act."""
    for model in (Admissibility, AdmissibilityChange, AdmissibilityRectification):
        assert model not in admin.site._registry
    client = client_for(admin_user)
    assert client.get("/admin/evaluation/admissibility/").status_code == 404
    assert client.get("/admin/evaluation/admissibilityrectification/").status_code == 404


# --- What the act does ---------------------------------------------------------------------------


def test_the_act_records_the_admissibility_and_the_committees_decision(
    notified, instructeur, django_capture_on_commit_callbacks
):
    delta, lot = notified["delta"], notified["lot"]
    act = rectify(
        delta,
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        decisions=selected(lot),
    )

    assert (
        act.old_outcome,
        act.old_reason,
        act.new_outcome,
        act.reason,
        act.by,
    ) == ("inadmissible", world.INADMISSIBLE_REASON, "admissible", REASON, instructeur)
    assert act.old_decided_at.astimezone(ZoneInfo("Europe/Paris")).date() == NOTIFIED_ON.date()
    assert act.at.astimezone(ZoneInfo("Europe/Paris")).date() == RECTIFIED_ON.date()
    admissibility = Admissibility.objects.get(candidature=delta)
    assert (admissibility.outcome, admissibility.reason, admissibility.decided_at) == (
        "admissible",
        REASON,
        act.at,
    )
    change = AdmissibilityChange.objects.filter(candidature=delta).latest("pk")
    assert (change.outcome, change.reason, change.by, change.rectification) == (
        "admissible",
        REASON,
        instructeur,
        act,
    )
    assert [c.outcome for c in AdmissibilityChange.objects.filter(candidature=delta)] == [
        "admissible",
        "inadmissible",
        "admissible",
    ]
    decision = Decision.objects.get(candidature=delta)
    assert (decision.lot, decision.outcome, decision.amount_granted, decision.fte_granted) == (
        lot,
        "selected",
        Decimal("10000"),
        Decimal("0.25"),
    )
    revision = DecisionRevision.objects.get(decision=decision)
    assert (revision.action, revision.by, revision.note) == ("admit", instructeur, REASON)
    assert revision.after["montant attribué (€)"] == "10\xa0000,00"
    # Notified by the act: frozen at once, changed only by a rectification.
    with pytest.raises(DecisionFrozen, match="notifiée le 4 août 2026"):
        services.record_decision(
            delta, lot, by=instructeur, outcome="not_selected", reason="Après coup"
        )
    # The act itself never changes nor goes.
    act.reason = "Réécrit"
    with pytest.raises(DecisionFrozen):
        act.save()
    with pytest.raises(DecisionFrozen):
        act.delete()
    assert AdmissibilityRectification.objects.get().reason == REASON


def test_one_letter_says_the_dossier_is_admissible_with_the_decision_and_the_recours(
    notified, instructeur, django_capture_on_commit_callbacks, mailoutbox
):
    delta, lot = notified["delta"], notified["lot"]
    first = world.decision_letter(delta)
    first_pdf = world.stored(first)
    mailoutbox.clear()

    act = rectify(
        delta,
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        decisions=selected(lot),
    )

    [letter] = NotificationLetter.objects.filter(candidature=delta, kind=LetterKind.RECTIFICATION)
    assert (letter.admissibility_rectification, letter.status) == (act, LetterStatus.SENT)
    content = world.stored(letter)
    text_ = pdf_text(content)
    for expected in (
        "rectification de la décision d'irrecevabilité",
        "Grenoble, le 4 août 2026",
        "la décision d'irrecevabilité qui vous a été notifiée le 17 février 2026 est rectifiée",
        "Votre dossier, déclaré irrecevable le 17 février 2026, est recevable.",
        f"Motif de la rectification : {REASON}",
        "Retenu 10 000,00 € pour 0,25 ETP",
        "Voies et délais de recours",
        "tribunal administratif de Grenoble",
        "dans un délai de deux mois à compter de sa notification",
    ):
        assert expected in text_, expected
    assert world.INADMISSIBLE_REASON not in text_
    raw = pdf_text(content, order="raw")
    assert f"{lot.name} Retenu" in raw
    assert "une convention de partenariat vous sera proposée" in raw
    # The first letter stays as it left.
    assert world.stored(world.decision_letter(delta)) == first_pdf
    member = delta.organisation.memberships.get().user
    [message] = [m for m in mailoutbox if m.to == [member.email]]
    assert "Votre dossier est déclaré recevable" in message.subject
    assert delta.call.reference in message.subject
    assert [(name, data) for name, data, _mime in message.attachments] == [
        (letter.filename, content)
    ]
    url = f"/candidatures/dossiers/{delta.pk}/"
    assert url in message.body
    assert url in message.alternatives[0][0]
    assert OutgoingEmail.objects.get(pk=letter.email_id).template == "admissibility_rectified"


def test_the_public_list_of_laureates_follows_with_its_date(
    notified, instructeur, client, django_capture_on_commit_callbacks
):
    call = notified["delta"].call
    public = page(client.get(call.get_absolute_url()))
    assert world.DELTA not in public and "Liste mise à jour" not in public

    rectify(
        notified["delta"],
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        decisions=selected(notified["lot"]),
    )

    public = page(client.get(call.get_absolute_url()))
    section = public[public.index("Structures retenues") :]
    assert world.DELTA in section and world.ALPHA in section
    assert "Liste mise à jour le 4 août 2026, après rectification d'une décision." in section


def test_the_record_is_flagged_with_the_dossier_admitted_after_it(
    notified, instructeur, client_for, django_capture_on_commit_callbacks
):
    record = notified["lot"].committee_records.get()
    before = record.sha256
    rectify(
        notified["delta"],
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        decisions=selected(notified["lot"]),
    )

    shown = page(
        client_for(instructeur).get(
            reverse("evaluation:ranking", args=[record.call_id, record.lot_id])
        )
    )

    flag = shown[shown.index(f'data-record="{record.pk}"') :]
    flag = flag[flag.index("data-admitted") : flag.index("</li>")]
    assert "1 dossier déclaré recevable par rectification depuis ce procès-verbal" in flag
    assert (
        f"{world.DELTA} – Irrecevable → Recevable, décision du comité : Retenu, "
        "le 4 août 2026 à 15h30"
    ) in flag
    assert REASON in flag
    record.refresh_from_db()
    assert record.sha256 == before  # the record stays as it was signed


def test_the_candidate_sees_the_new_outcome_letter_and_timeline(
    notified, instructeur, client_for, django_capture_on_commit_callbacks
):
    delta = notified["delta"]
    client = client_for(delta.organisation.memberships.get().user)
    assert "Irrecevable" in text(client.get(reverse("candidatures:my_dossiers")))

    rectify(
        delta,
        by=instructeur,
        capture=django_capture_on_commit_callbacks,
        decisions=selected(notified["lot"]),
    )

    listing = text(client.get(reverse("candidatures:my_dossiers")))
    assert "Retenu" in listing and "Irrecevable" not in listing
    dossier = text(client.get(reverse("candidatures:dossier", args=[delta.pk])))
    assert "Retenu" in dossier
    assert "Irrecevabilité rectifiée le 4 août 2026, dossier recevable" in dossier
    assert "Télécharger la lettre de rectification (PDF)" in dossier
    assert "Dossier déclaré irrecevable" in dossier and world.INADMISSIBLE_REASON in dossier
    assert (
        "Irrecevabilité rectifiée : dossier déclaré recevable, décision du comité notifiée "
        "(nouvelle lettre envoyée) – 4 août 2026 à 15h30"
    ) in dossier
    letter = NotificationLetter.objects.get(candidature=delta, kind=LetterKind.RECTIFICATION)
    response = client.get(reverse("evaluation:letter_file", args=[delta.pk, letter.pk]))
    assert b"".join(response.streaming_content) == world.stored(letter)


# --- The staff's page ----------------------------------------------------------------------------


def form_data(lot, **values):
    return {
        "reason": REASON,
        f"outcome_{lot.pk}": "selected",
        f"amount_granted_{lot.pk}": "10 000",
        f"fte_granted_{lot.pk}": "0,25",
        f"reason_{lot.pk}": "",
        f"deliberation_{lot.pk}": "2026 CP08 04-2",
        "opening": "",
        "closing": "",
        **values,
    }


def test_staff_preview_the_letter_then_confirm_from_the_dossier_page(
    notified, instructeur, client_for, django_capture_on_commit_callbacks
):
    delta, lot = notified["delta"], notified["lot"]
    client = client_for(instructeur)
    dossier_url = reverse("evaluation:dossier", args=[delta.pk])
    url = reverse("evaluation:admissibility_rectify", args=[delta.pk])
    assert "Rectifier l'irrecevabilité" in page(client.get(dossier_url))
    assert f'href="{url}"' in page(client.get(dossier_url))
    form = page(client.get(url))
    assert f"Lot {lot.name} : décision du comité" in form
    assert world.INADMISSIBLE_REASON in form

    preview = client.post(
        reverse("evaluation:admissibility_rectify_preview", args=[delta.pk]),
        form_data(lot, opening="Nous avons réexaminé votre dossier à la suite de votre recours."),
    )
    assert preview.status_code == 200
    shown = page(preview)
    for expected in (
        "Nous avons réexaminé votre dossier à la suite de votre recours.",
        "est recevable",
        "10\xa0000,00 € pour 0,25 ETP",
        "tribunal administratif de Grenoble",
        "Rectifier et envoyer la lettre",
    ):
        assert expected in shown, expected
    assert nothing_recorded(delta)

    with (
        time_machine.travel(RECTIFIED_ON, tick=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_for(instructeur).post(
            url,
            form_data(
                lot, opening="Nous avons réexaminé votre dossier à la suite de votre recours."
            ),
            follow=True,
        )
    shown = page(response)
    assert "L'irrecevabilité est rectifiée : le dossier est recevable" in shown
    assert "Rectifier la décision" in shown and "Rectifier l'irrecevabilité" not in shown
    assert "Décision prise avec la rectification de l'irrecevabilité" in shown  # history
    letter = NotificationLetter.objects.get(candidature=delta, kind=LetterKind.RECTIFICATION)
    assert "Nous avons réexaminé votre dossier" in pdf_text(world.stored(letter))
    # The deliberation that grants it goes with the decision, frozen with it.
    assert Decision.objects.get(candidature=delta).deliberation == "2026 CP08 04-2"


def test_a_refused_act_on_the_page_says_why_and_keeps_what_was_typed(
    notified, instructeur, client_for
):
    delta, lot = notified["delta"], notified["lot"]
    client = client_for(instructeur)
    Lot.objects.filter(pk=lot.pk).update(budget=Decimal("30000"))

    response = client.post(
        reverse("evaluation:admissibility_rectify", args=[delta.pk]),
        form_data(lot, reason="Motif tapé avec soin"),
    )
    assert response.status_code == 400
    shown = page(response)
    assert "dépasseraient son budget" in shown and "Motif tapé avec soin" in shown

    response = client.post(
        reverse("evaluation:admissibility_rectify_preview", args=[delta.pk]),
        form_data(lot, reason="", **{f"outcome_{lot.pk}": ""}),
    )
    assert response.status_code == 400
    assert "Ce champ est obligatoire" in page(response)
    assert nothing_recorded(delta)


def test_the_page_of_a_dossier_that_cannot_be_rectified_says_why(decided, instructeur, client_for):
    client = client_for(instructeur)
    for key, why in [
        ("alpha", "n'est pas déclaré irrecevable"),
        ("delta", "pas encore notifiée : elle se corrige par le formulaire de recevabilité"),
    ]:
        dossier = decided[key]
        shown = page(client.get(reverse("evaluation:admissibility_rectify", args=[dossier.pk])))
        assert why in shown and 'name="reason"' not in shown, key
        assert "Rectifier l'irrecevabilité" not in page(
            client.get(reverse("evaluation:dossier", args=[dossier.pk]))
        )


def test_no_one_else_reaches_the_rectification(
    notified, evaluators, ddets_reader, other_candidate, client_for
):
    """Candidates (the dossier's own members too), evaluators and the DDETS: 403 or 404,
    on the page and on the preview, and nothing is written."""
    delta, lot = notified["delta"], notified["lot"]
    member = delta.organisation.memberships.get().user
    for user in (member, other_candidate, evaluators[0], ddets_reader):
        client = client_for(user)
        for name in ("admissibility_rectify", "admissibility_rectify_preview"):
            url = reverse(f"evaluation:{name}", args=[delta.pk])
            for response in (client.get(url), client.post(url, form_data(lot))):
                assert response.status_code in (403, 404), (user, name, response.status_code)
                assert world.INADMISSIBLE_REASON.encode() not in response.content
    assert nothing_recorded(delta)


@pytest.mark.django_db(transaction=True)
def test_two_acts_at_the_same_instant_record_one(graded_call, instructeur, evaluators):
    """A double click, or two instructeurs at once: the locks make the second act wait,
    then find the dossier admissible and refuse; one act, one decision, one letter."""
    decided = world.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])
    letters.notify_decisions(graded_call, by=instructeur)
    delta, lot = decided["delta"], decided["lot"]
    barrier = threading.Barrier(2)
    outcomes = []

    def act():
        try:
            barrier.wait()
            services.rectify_admissibility(
                Candidature.objects.get(pk=delta.pk),
                by=instructeur,
                reason=REASON,
                decisions=selected(lot),
            )
            outcomes.append("recorded")
        except DomainError as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=act) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [
        "Ce dossier n'est pas déclaré irrecevable : il n'y a pas d'irrecevabilité à rectifier.",
        "recorded",
    ]
    assert AdmissibilityRectification.objects.count() == 1
    assert Decision.objects.filter(candidature=delta).count() == 1
    assert NotificationLetter.objects.filter(kind=LetterKind.RECTIFICATION).count() == 1
