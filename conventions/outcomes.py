"""What the organisation reads of its agreement on the dossier's timeline
(``candidatures.outcomes``): sent for signature, signed, instalments ordered and paid,
reports accepted or sent back. Drafts and staff-only steps stay out."""

from collections import defaultdict

from django.utils.translation import gettext as _

from candidatures.outcomes import Event
from conventions.models import ConventionStatusChange, PaymentStatusChange, ReportStatusChange
from conventions.states import ConventionAction, PaymentAction, ReportAction


def events(dossiers) -> dict[int, list[Event]]:
    ids = [dossier.pk for dossier in dossiers]
    found = defaultdict(list)
    agreement_labels = {
        ConventionAction.SEND: _("Convention %(n)s envoyée pour signature"),
        ConventionAction.SIGN: _("Convention %(n)s signée"),
        ConventionAction.SETTLE: _("Convention %(n)s soldée"),
        ConventionAction.TERMINATE: _("Convention %(n)s résiliée"),
    }
    for change in ConventionStatusChange.objects.filter(
        convention__candidature__in=ids, action__in=list(agreement_labels)
    ).select_related("convention"):
        convention = change.convention
        label = agreement_labels[change.action] % {"n": convention.number}
        detail = change.note if change.action == ConventionAction.TERMINATE else ""
        found[convention.candidature_id].append(Event(change.at, label, detail))
    payment_labels = {
        PaymentAction.ORDER: _("Versement mandaté : %(label)s"),
        PaymentAction.PAY: _("Versement effectué : %(label)s"),
    }
    for change in PaymentStatusChange.objects.filter(
        payment__convention__candidature__in=ids, action__in=list(payment_labels)
    ).select_related("payment__convention"):
        payment = change.payment
        found[payment.convention.candidature_id].append(
            Event(change.at, payment_labels[change.action] % {"label": payment.label})
        )
    report_labels = {
        ReportAction.ACCEPT: _("%(report)s validé"),
        ReportAction.SEND_BACK: _("%(report)s renvoyé à la structure"),
    }
    for change in ReportStatusChange.objects.filter(
        report__convention__candidature__in=ids, action__in=list(report_labels)
    ).select_related("report__convention"):
        report = change.report
        label = report_labels[change.action] % {"report": report.get_kind_display()}
        detail = change.note if change.action == ReportAction.SEND_BACK else ""
        found[report.convention.candidature_id].append(Event(change.at, label, detail))
    return found
