"""What the organisation reads of its agreement on the dossier's timeline
(``candidatures.outcomes``): sent for signature, signed, instalments ordered and paid,
reports accepted or sent back. Drafts and staff-only steps stay out."""

from collections import defaultdict

from django.db.models import F, Value
from django.utils.translation import gettext as _

from candidatures.outcomes import Event
from conventions.models import ConventionStatusChange, PaymentStatusChange, ReportStatusChange
from conventions.states import ConventionAction, PaymentAction, ReportAction, ReportKind


def events(dossiers) -> dict[int, list[Event]]:
    """One query: the agreement's, payments' and reports' status changes, as one union of
    plain values, each source in its own order (``at``, then ``pk``)."""
    ids = [dossier.pk for dossier in dossiers]
    found = defaultdict(list)
    agreement_labels = {
        ConventionAction.SEND: _("Convention %(n)s envoyée pour signature"),
        ConventionAction.SIGN: _("Convention %(n)s signée"),
        ConventionAction.SETTLE: _("Convention %(n)s soldée"),
        ConventionAction.TERMINATE: _("Convention %(n)s résiliée"),
    }
    payment_labels = {
        PaymentAction.ORDER: _("Versement mandaté : %(label)s"),
        PaymentAction.PAY: _("Versement effectué : %(label)s"),
    }
    report_labels = {
        ReportAction.ACCEPT: _("%(report)s validé"),
        ReportAction.SEND_BACK: _("%(report)s renvoyé à la structure"),
    }
    fields = ("source", "dossier", "at", "action", "name", "note", "pk")
    agreements = (
        ConventionStatusChange.objects.filter(
            convention__candidature__in=ids, action__in=list(agreement_labels)
        )
        .annotate(
            source=Value(0), dossier=F("convention__candidature"), name=F("convention__number")
        )
        .values_list(*fields)
    )
    payments = (
        PaymentStatusChange.objects.filter(
            payment__convention__candidature__in=ids, action__in=list(payment_labels)
        )
        .annotate(
            source=Value(1), dossier=F("payment__convention__candidature"), name=F("payment__label")
        )
        .values_list(*fields)
    )
    reports = (
        ReportStatusChange.objects.filter(
            report__convention__candidature__in=ids, action__in=list(report_labels)
        )
        .annotate(
            source=Value(2), dossier=F("report__convention__candidature"), name=F("report__kind")
        )
        .values_list(*fields)
    )
    report_kinds = dict(ReportKind.choices)
    changes = agreements.order_by().union(payments.order_by(), reports.order_by(), all=True)
    for source, dossier, at, action, name, note, _pk in changes.order_by("source", "at", "pk"):
        if source == 0:
            label = agreement_labels[action] % {"n": name}
            detail = note if action == ConventionAction.TERMINATE else ""
        elif source == 1:
            label, detail = payment_labels[action] % {"label": name}, ""
        else:
            label = report_labels[action] % {"report": report_kinds.get(name, name)}
            detail = note if action == ReportAction.SEND_BACK else ""
        found[dossier].append(Event(at, label, detail))
    return found
