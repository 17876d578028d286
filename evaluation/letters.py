"""The committee record of a lot and the notification letters, as WeasyPrint PDFs."""

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aap.models import Call, Lot
from aap.services import record_call_decided
from aap.states import CallStatus
from candidatures.models import Candidature
from candidatures.queries import member_emails
from core.dates import format_datetime
from core.exceptions import DomainError
from core.links import absolute_url
from core.mail import queue_email
from core.models import User
from core.pdf import render_pdf
from evaluation import exports, rules
from evaluation.models import CommitteeRecord, Decision, NotificationLetter, lock_scoring
from evaluation.states import AdmissibilityOutcome


def freeze_committee(call: Call, lot: Lot, *, by: User) -> CommitteeRecord:
    """Keep the ranking, scores and decisions of ``lot`` as the committee saw them."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    with transaction.atomic():
        # Scores saved meanwhile land before the freeze, and none after (scoring closes).
        lock_scoring(call.pk)
        return _freeze(call, lot, by)


def _freeze(call: Call, lot: Lot, by: User) -> CommitteeRecord:
    now = timezone.now()
    table = exports.ranking_table(lot)
    snapshot = {
        "frozen_at": now.isoformat(),
        "columns": table.columns,
        "rows": [[str(cell) for cell in row] for row in table.rows],
        "money": {key: str(value) for key, value in table.money.items()},
    }
    content = render_pdf(
        "evaluation/pdf/committee.html",
        {"call": call, "lot": lot, "table": table, "frozen_at": format_datetime(now), "by": by},
    )
    record = CommitteeRecord(call=call, lot=lot, snapshot=snapshot, created_by=by, created_at=now)
    record.pdf.save(
        f"PV-{call.reference}-{lot.pk}-{now:%Y%m%d-%H%M}.pdf", ContentFile(content), save=False
    )
    record.save()
    return record


def letter_context(candidature: Candidature) -> dict:
    admissibility = getattr(candidature, "admissibility", None)
    decisions = list(candidature.decisions.select_related("lot").order_by("lot__position"))
    results = None
    if admissibility is not None and admissibility.outcome == AdmissibilityOutcome.ADMISSIBLE:
        results = exports.dossier_results(candidature)
    return {
        "candidature": candidature,
        "organisation": candidature.organisation,
        "call": candidature.call,
        "admissibility": admissibility,
        "decisions": decisions,
        "results": results,
        "date": format_datetime(timezone.now()).split(" à ")[0],
    }


def missing_decisions(call: Call) -> list[str]:
    """Submitted dossiers that cannot be notified yet, in French."""
    problems = []
    dossiers = (
        Candidature.objects.submitted()
        .filter(call=call)
        .select_related("organisation", "admissibility")
        .prefetch_related("lots", "decisions")
    )
    for dossier in dossiers:
        admissibility = getattr(dossier, "admissibility", None)
        if admissibility is None:
            problems.append(_("Recevabilité non décidée : %(org)s") % {"org": dossier.organisation})
            continue
        if admissibility.outcome == AdmissibilityOutcome.INADMISSIBLE:
            continue
        decided = {decision.lot_id for decision in dossier.decisions.all()}
        for lot in dossier.lots.all():
            if lot.pk not in decided:
                problems.append(
                    _("Décision manquante : %(org)s, lot %(lot)s")
                    % {"org": dossier.organisation, "lot": lot.name}
                )
    return problems


def notify_decisions(call: Call, *, by: User) -> int:
    """Send each candidate its letter (PDF in its space and attached to an e-mail), then
    mark the call decided. Refused while a dossier lacks a decision."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    call.refresh_from_db(fields=["status"])
    if call.status != CallStatus.UNDER_REVIEW:
        raise DomainError(
            _("Les décisions se notifient quand l'appel à projets est en instruction.")
        )
    if problems := missing_decisions(call):
        raise DomainError(_("Toutes les décisions ne sont pas prises."), problems=problems)
    sent = 0
    dossiers = (
        Candidature.objects.submitted()
        .filter(call=call)
        .select_related("organisation", "call", "admissibility")
    )
    with transaction.atomic():
        lock_scoring(call.pk)  # no score changes while the letters are written
        for dossier in dossiers:
            content = render_pdf("evaluation/pdf/letter.html", letter_context(dossier))
            letter, _created = NotificationLetter.objects.get_or_create(
                candidature=dossier, defaults={"sent_by": by}
            )
            letter.pdf.save(
                f"Notification-{call.reference}-{dossier.pk}.pdf", ContentFile(content), save=False
            )
            letter.sent_at, letter.sent_by = timezone.now(), by
            letter.save()
            queue_email(
                to=member_emails(dossier.organisation),
                template="decision_notified",
                context={
                    "candidature": dossier,
                    "url": absolute_url("candidatures:dossier", pk=dossier.pk),
                },
                key=f"notified-{letter.pk}-{letter.sent_at:%Y%m%d%H%M%S}",
                attachments=[
                    {
                        "name": f"Notification-{call.reference}.pdf",
                        "mimetype": "application/pdf",
                        "path": letter.pdf.name,
                    }
                ],
            )
            sent += 1
        record_call_decided(call, by=by, note=_("Décisions notifiées aux candidats."))
    return sent


def selected_organisations(call: Call):
    """Published on the call's page once every decision is notified."""
    if call.status not in (CallStatus.DECIDED, CallStatus.ARCHIVED):
        return Decision.objects.none()
    return (
        Decision.objects.filter(candidature__call=call, outcome="selected")
        .select_related("candidature__organisation", "lot")
        .order_by("lot__position", "candidature__organisation__name")
    )
