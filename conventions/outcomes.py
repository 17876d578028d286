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
    # source index: (status changes, path to the agreement, what names it, labels)
    sources = [
        (ConventionStatusChange, "convention", "convention__number", agreement_labels),
        (PaymentStatusChange, "payment__convention", "payment__label", payment_labels),
        (ReportStatusChange, "report__convention", "report__kind", report_labels),
    ]
    first, *others = (
        model.objects.filter(**{f"{path}__candidature__in": ids, "action__in": list(labels)})
        .annotate(source=Value(index), dossier=F(f"{path}__candidature"), name=F(name))
        .values_list(*fields)
        .order_by()
        for index, (model, path, name, labels) in enumerate(sources)
    )
    report_kinds = dict(ReportKind.choices)
    changes = first.union(*others, all=True).order_by("source", "at", "pk")
    for source, dossier, at, action, name, note, _pk in changes:
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
