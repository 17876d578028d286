"""Reads of calls reused by several views: what each user may see, fetched in few queries."""

from django.db.models import Count, OuterRef, Prefetch, Subquery, Sum
from django.db.models.functions import Coalesce

from aap import rules
from aap.models import Call, CallQuestion, Criterion, RequiredDocument


def calls_visible_to(user):
    """Instructeurs see every call, drafts included; everybody else the public ones."""
    if rules.is_instructeur(user):
        return Call.objects.all()
    return Call.objects.public()


def with_lot_summary(queryset):
    """Annotate each call with its number of lots and total FTE (lists of calls)."""
    return queryset.select_related("programme").annotate(
        lot_count=Count("lots", distinct=True), fte_total=Sum("lots__fte")
    )


def call_page(queryset):
    """Everything the call page shows, in a fixed number of queries."""
    return queryset.select_related("programme").prefetch_related(
        "lots",
        "expected_actions",
        Prefetch("criteria", queryset=Criterion.objects.prefetch_related("subcriteria")),
        Prefetch("required_documents", queryset=RequiredDocument.objects.all()),
        Prefetch(
            "questions",
            queryset=CallQuestion.objects.published().order_by("published_at"),
            to_attr="published_questions",
        ),
    )


def call_version_date(call):
    """When what the call's page and PDF show last changed: the call itself or its latest
    published answer (``call_page`` prefetched them)."""
    dates = [call.updated_at]
    dates += [q.published_at for q in call.published_questions if q.published_at]
    return max(dates)


def backoffice_calls():
    # A subquery, not a second join: joining questions would multiply the lots' FTE sum.
    pending = (
        CallQuestion.objects.pending()
        .filter(call=OuterRef("pk"))
        .order_by()
        .values("call")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return with_lot_summary(Call.objects.all()).annotate(
        pending_questions=Coalesce(Subquery(pending), 0)
    )
