"""Reminders about agreements, with time frozen on both sides of each milestone."""

import datetime as dt

import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone

from conventions import services
from conventions.models import Payment, Report
from conventions.states import ReportKind
from core.reminders import milestone_at, run_sweep
from tests.conventions.conftest import pdf_upload, sign


def sweep(when, capture) -> list:
    start = len(mail.outbox)
    with time_machine.travel(when, tick=False):
        with capture(execute=True):
            run_sweep()
        with capture(execute=True):
            assert run_sweep() == 0
    return [m for m in mail.outbox[start:] if "récapitulatif" not in m.subject]


def test_an_unsigned_agreement_is_reminded_to_instructeurs_once(
    convention, instructeur, django_capture_on_commit_callbacks
):
    day = timezone.localdate(convention.created_at) + dt.timedelta(days=30)
    assert (
        sweep(milestone_at(day) - dt.timedelta(seconds=1), django_capture_on_commit_callbacks) == []
    )
    sent = sweep(milestone_at(day), django_capture_on_commit_callbacks)
    assert [m.to for m in sent] == [[instructeur.email]]
    assert convention.number in sent[0].subject
    assert f"/gestion/conventions/{convention.pk}/" in sent[0].body
    assert f"(statut : {convention.get_status_display()})" in sent[0].body
    sign(convention, instructeur)
    later = sweep(milestone_at(day + dt.timedelta(days=40)), django_capture_on_commit_callbacks)
    assert [m for m in later if "non signée" in m.subject] == []


def test_an_instalment_due_soon_is_reminded_to_instructeurs(
    convention, instructeur, django_capture_on_commit_callbacks
):
    due = timezone.localdate() + dt.timedelta(days=25)
    Payment.objects.filter(convention=convention).delete()  # the draft's schedule, redone
    services.save_payment(
        convention, by=instructeur, label="Avance", due_on=due, amount=convention.amount
    )
    sign(convention, instructeur, start=True)
    assert (
        sweep(
            milestone_at(due - dt.timedelta(days=10)) - dt.timedelta(minutes=1),
            django_capture_on_commit_callbacks,
        )
        == []
    )
    sent = sweep(milestone_at(due - dt.timedelta(days=10)), django_capture_on_commit_callbacks)
    assert [m.to for m in sent] == [[instructeur.email]]
    assert "Avance" in sent[0].body and "24\xa0500,00 €" in sent[0].body


def test_a_progress_review_is_reminded_to_every_participant(
    signed, instructeur, ddets_reader, candidate, django_capture_on_commit_callbacks
):
    at = timezone.now() + dt.timedelta(days=20)
    services.schedule_review(
        signed,
        by=instructeur,
        scheduled_at=at,
        place="Visioconférence",
        participants="Département, DDETS, structure",
    )
    day = timezone.localdate(at)
    sent = sweep(milestone_at(day - dt.timedelta(days=7)), django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in sent) == sorted(
        [instructeur.email, ddets_reader.email, candidate.email]
    )
    member_message = next(m for m in sent if m.to == [candidate.email])
    assert f"/candidatures/conventions/{signed.pk}/" in member_message.body
    assert (
        len(sweep(milestone_at(day - dt.timedelta(days=1)), django_capture_on_commit_callbacks))
        == 3
    )


def test_reports_due_then_overdue_are_reminded_to_the_organisation(
    signed, candidate, instructeur, django_capture_on_commit_callbacks
):
    due = timezone.localdate() + dt.timedelta(days=40)
    # Test data: one report due in 40 days (the agreement's text is frozen otherwise).
    Report.objects.filter(convention=signed).exclude(kind=ReportKind.FINAL).delete()
    Report.objects.filter(convention=signed).update(due_on=due)
    report = signed.reports.get()
    sent = sweep(milestone_at(due - dt.timedelta(days=15)), django_capture_on_commit_callbacks)
    assert [m.to for m in sent] == [[candidate.email]]
    assert "à remettre avant le" in sent[0].subject
    assert sent[0].subject.startswith(f"{settings.EMAIL_SUBJECT_PREFIX}{report.get_kind_display()}")
    # The body names the report in its sentence (a filter inside the translated block once
    # left a blank there: « Le  de la convention »), in the text and in the HTML alike.
    html = sent[0].alternatives[0][0]
    for body in (sent[0].body, html):
        assert f"Le bilan final de la convention {signed.number} est à remettre" in body
    sent = sweep(milestone_at(due + dt.timedelta(days=1)), django_capture_on_commit_callbacks)
    assert [m.to for m in sent] == [[candidate.email]]
    assert "en retard" in sent[0].subject
    assert f"Le bilan final de la convention {signed.number} était attendu" in sent[0].body
    services.submit_report(report, by=candidate, uploaded=pdf_upload("bilan-final.pdf"))
    later = sweep(milestone_at(due + dt.timedelta(days=15)), django_capture_on_commit_callbacks)
    assert [m.subject for m in later if m.to == [candidate.email]] == []
