"""Reads of dossiers reused by views: limited to what the user may see, in few queries."""

import django_filters
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from aap.models import OrganisationKind, Question, RequiredDocument
from candidatures.models import (
    Answer,
    Candidature,
    CandidatureStatusChange,
    Document,
    Message,
    PaperCopyRevision,
    PieceRequestRevision,
    Receipt,
)
from candidatures.states import CandidatureStatus
from core import rules as core_rules


def member_emails(organisation) -> list[str]:
    """The addresses of the organisation's active members: who hears about its dossiers."""
    return list(
        organisation.memberships.filter(user__is_active=True).values_list("user__email", flat=True)
    )


def candidatures_visible_to(user):
    """Members see their organisations' dossiers; instructeurs and the DDETS see all."""
    if core_rules.is_instructeur(user) or core_rules.is_ddets_reader(user):
        return Candidature.objects.all()
    return Candidature.objects.of_member(user)


def _count(queryset, by="call"):
    """The rows of ``queryset`` (filtered on an outer reference to ``by``), as a subquery."""
    return Coalesce(
        Subquery(
            queryset.order_by().values(by).annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def with_missing_count(queryset):
    """Annotate ``missing``: mandatory pieces without a file, required questions without
    an answer, and no lot chosen on a call with lots. Zero means complete."""
    missing_documents = RequiredDocument.objects.filter(
        call=OuterRef("call"), mandatory=True
    ).exclude(
        Exists(
            Document.objects.filter(
                candidature=OuterRef(OuterRef("pk")), required_document=OuterRef("pk")
            )
        )
    )
    missing_answers = (
        Question.objects.filter(call=OuterRef("call"), required=True)
        .exclude(kind="lots")
        .exclude(
            Exists(
                Answer.objects.filter(candidature=OuterRef(OuterRef("pk")), question=OuterRef("pk"))
                .exclude(value=None)
                .exclude(value="")
                .exclude(value=[])
            )
        )
    )
    return queryset.annotate(
        missing_documents=_count(missing_documents),
        missing_answers=_count(missing_answers),
        # A subquery, not a join: without GROUP BY, PostgreSQL counts a page's rows
        # without these sub-queries and runs them for the rows of the page only.
        lot_count=_count(
            Candidature.lots.through.objects.filter(candidature=OuterRef("pk")), by="candidature"
        ),
    )


def staff_dossier_list(call):
    return (
        with_missing_count(Candidature.objects.filter(call=call))
        # The lots' names come in one query of values (``listing.attach_lot_names``).
        .select_related("organisation", "paper_copy")
        .annotate(
            total_size=Coalesce(
                Subquery(
                    Document.objects.filter(candidature=OuterRef("pk"))
                    .order_by()
                    .values("candidature")
                    .annotate(total=Sum("size"))
                    .values("total")[:1]
                ),
                Value(0),
            ),
            document_count=Coalesce(
                Subquery(
                    Document.objects.filter(candidature=OuterRef("pk"))
                    .order_by()
                    .values("candidature")
                    .annotate(n=Count("pk"))
                    .values("n")[:1]
                ),
                Value(0),
            ),
        )
        .order_by("organisation__name")
    )


class DossierFilter(django_filters.FilterSet):
    # Read by ``listing.search`` (organisation, SIRET, receipt number, answers).
    q = django_filters.CharFilter(label=_("Rechercher"), method="filter_nothing")
    status = django_filters.ChoiceFilter(
        label=_("Statut"), choices=CandidatureStatus.choices, empty_label=_("Tous")
    )
    lot = django_filters.ModelChoiceFilter(
        label=_("Lot"), field_name="lots", queryset=None, empty_label=_("Tous")
    )
    kind = django_filters.ChoiceFilter(
        label=_("Type de structure"),
        field_name="organisation__kind",
        choices=OrganisationKind.choices,
        empty_label=_("Tous"),
    )
    complete = django_filters.ChoiceFilter(
        label=_("Complet"),
        choices=[("yes", _("Oui")), ("no", _("Non"))],
        method="filter_complete",
        empty_label=_("Tous"),
    )
    paper_copy = django_filters.ChoiceFilter(
        label=_("Exemplaire papier"),
        choices=[("yes", _("Reçu")), ("no", _("Non reçu"))],
        method="filter_paper_copy",
        empty_label=_("Tous"),
    )

    class Meta:
        model = Candidature
        fields = ["q", "status", "lot", "kind", "complete", "paper_copy"]

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["lot"].queryset = call.lots.all()

    def filter_complete(self, queryset, name, value):
        complete = Q(missing_documents=0, missing_answers=0) & (
            Q(lot_count__gt=0)
            | ~Exists(self.filters["lot"].queryset.model.objects.filter(call=OuterRef("call")))
        )
        return queryset.filter(complete) if value == "yes" else queryset.exclude(complete)

    def filter_nothing(self, queryset, name, value):
        return queryset

    def filter_paper_copy(self, queryset, name, value):
        return queryset.filter(paper_copy__isnull=(value != "yes"))


def dossier_page(queryset):
    """Everything a dossier page shows, in a fixed number of queries."""
    return queryset.select_related(
        "call", "call__programme", "organisation", "paper_copy"
    ).prefetch_related(
        "lots",
        "organisation__territories",
        Prefetch("answers", queryset=Answer.objects.select_related("question")),
        Prefetch("documents", queryset=Document.objects.select_related("required_document")),
        Prefetch("receipts", queryset=Receipt.objects.order_by("-sequence")),
        # Joined rather than prefetched in a second step, which would run only once
        # there is a row: the page costs the same whatever the dossier holds.
        Prefetch("status_changes", queryset=CandidatureStatusChange.objects.select_related("by")),
        Prefetch("messages", queryset=Message.objects.select_related("author")),
        # A many-to-many: one more query once the dossier has a request, never more.
        "piece_requests__required_documents",
        Prefetch(
            "piece_requests__revisions", queryset=PieceRequestRevision.objects.select_related("by")
        ),
        Prefetch("paper_copy__revisions", queryset=PaperCopyRevision.objects.select_related("by")),
        "call__lots",
        "call__required_documents",
        "call__form_questions",
    )
