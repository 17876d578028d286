"""Reads of calls reused by several views: what each user may see, fetched in few queries."""

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    OuterRef,
    Prefetch,
    Subquery,
    Sum,
    Value,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from aap import rules
from aap.models import (
    Call,
    CallQuestion,
    Criterion,
    ExpectedAction,
    Lot,
    Programme,
    RequiredDocument,
    SubCriterion,
)


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


def _call_page_prefetches():
    return [
        "lots",
        "expected_actions",
        Prefetch("criteria", queryset=Criterion.objects.prefetch_related("subcriteria")),
        Prefetch("required_documents", queryset=RequiredDocument.objects.all()),
        Prefetch(
            "questions",
            queryset=CallQuestion.objects.published().order_by("published_at"),
            to_attr="published_questions",
        ),
    ]


def call_page(queryset):
    """Everything the call page shows, in a fixed number of queries."""
    return queryset.select_related("programme").prefetch_related(*_call_page_prefetches())


def prefetch_call_page(call):
    """``call_page`` for a call already read (with its programme)."""
    prefetch_related_objects([call], *_call_page_prefetches())
    return call


def call_version_date(call):
    """When what the call's page and PDF show last changed: the call itself or its latest
    published answer (``call_page`` prefetched them)."""
    dates = [call.updated_at]
    dates += [q.published_at for q in call.published_questions if q.published_at]
    return max(dates)


# --- The version of a call's public page -------------------------------------------------
#
# The page is kept rendered for anonymous visitors (core.page_cache) under a digest of every
# row it reads, whole: any column of any of these rows that changes, or a row added or
# removed, makes a new version. The apps above add the rows they show on the page (the
# evaluation: the selected organisations) through ``register_page_rows``.

_page_row_providers = []


def register_page_rows(provider) -> None:
    """``provider()`` returns ``(model, condition)`` pairs: the rows of ``model`` (aliased
    ``t``) that the page of the call ``{call}`` shows, as SQL, e.g. ``t.call_id =
    {call}.id``."""
    if provider not in _page_row_providers:
        _page_row_providers.append(provider)


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _page_rows() -> list[tuple]:
    rows = [
        (Call, "t.id = {call}.id"),
        (Programme, "t.id = {call}.programme_id"),
        (Lot, "t.call_id = {call}.id"),
        (ExpectedAction, "t.call_id = {call}.id"),
        (Criterion, "t.call_id = {call}.id"),
        (
            SubCriterion,
            f"t.criterion_id IN (SELECT id FROM {table(Criterion)} WHERE call_id = {{call}}.id)",
        ),
        (RequiredDocument, "t.call_id = {call}.id"),
        (CallQuestion, "t.call_id = {call}.id AND t.published_at IS NOT NULL"),
    ]
    for provider in _page_row_providers:
        rows += provider()
    return rows


def with_page_digest(queryset):
    """Annotate each call with ``page_digest``: the MD5 of every row its public page
    reads, on PostgreSQL; elsewhere None, and the page is rendered each time."""
    if connection.vendor != "postgresql":
        return queryset.annotate(page_digest=Value(None, output_field=CharField()))
    parts = [
        f"coalesce((SELECT string_agg(md5(t::text), '' ORDER BY md5(t::text)) "
        f"FROM {table(model)} t WHERE {condition.format(call=table(Call))}), '')"
        for model, condition in _page_rows()
    ]
    digest = RawSQL(f"md5(concat_ws('#', {', '.join(parts)}))", [], output_field=CharField())
    return queryset.annotate(page_digest=digest)


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
