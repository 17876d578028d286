"""What the open API publishes: public calls, the laureates of decided calls as the public
page lists them, and nothing else. Each list runs a fixed number of queries."""

from django.db.models import Prefetch

from aap.models import Call, Criterion, RequiredDocument
from aap.states import CallStatus
from candidatures.models import Receipt
from candidatures.queries import candidatures_visible_to
from evaluation.models import Decision
from evaluation.states import DecisionOutcome

# The public page lists a call's selected organisations once every decision is notified:
# the call is then « décidé » (or archived). Rectified decisions are updated in place.
DECIDED_STATUSES = (CallStatus.DECIDED, CallStatus.ARCHIVED)


def public_calls():
    return (
        Call.objects.public()
        .select_related("programme")
        .prefetch_related(
            "lots",
            Prefetch("criteria", queryset=Criterion.objects.prefetch_related("subcriteria")),
            Prefetch("required_documents", queryset=RequiredDocument.objects.all()),
        )
        .order_by("-opens_at", "pk")
    )


def laureates():
    return (
        Decision.objects.filter(
            candidature__call__status__in=DECIDED_STATUSES, outcome=DecisionOutcome.SELECTED
        )
        .select_related("candidature__organisation", "candidature__call", "lot")
        .order_by(
            "-candidature__call__deadline",
            "candidature__call_id",
            "lot__position",
            "candidature__organisation__name",
            "pk",
        )
    )


def staff_dossiers(user, call):
    """A call's dossiers as the staff's dossier list shows them to ``user``."""
    return (
        candidatures_visible_to(user)
        .filter(call=call)
        .select_related("organisation")
        .prefetch_related(
            "lots",
            Prefetch("receipts", queryset=Receipt.objects.order_by("-sequence")),
        )
        .order_by("pk")
    )
