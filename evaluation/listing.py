"""The evaluation's columns and bulk action on the staff's list of dossiers
(``candidatures.listing``): admissibility and score, and assigning an evaluator to the
ticked dossiers."""

from decimal import Decimal

from django import forms
from django.db.models import Avg, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from candidatures.listing import BulkAction, Column
from core.models import User
from core.roles import Role
from evaluation import services
from evaluation.models import Evaluation
from evaluation.queries import SCORE
from evaluation.states import AdmissibilityOutcome, EvaluationStatus


def _with_admissibility(queryset):
    return queryset.annotate(list_admissibility=F("admissibility__outcome"))


def _with_score(queryset):
    """The consensus score, else the mean of the submitted evaluations (out of 100)."""
    mean = (
        Evaluation.objects.filter(
            assignment__candidature=OuterRef("pk"), status=EvaluationStatus.SUBMITTED
        )
        .order_by()
        .values("assignment__candidature")
        .annotate(mean=Avg("total"))
        .values("mean")[:1]
    )
    return queryset.annotate(
        list_score=Coalesce(
            F("consensus__total"), Subquery(mean, output_field=SCORE), output_field=SCORE
        )
    )


def _admissibility(dossier) -> str:
    value = dossier.list_admissibility
    return str(AdmissibilityOutcome(value).label) if value else ""


def _score(dossier):
    if dossier.list_score is None:
        return None
    return dossier.list_score.quantize(Decimal("0.01"))


def _score_text(dossier) -> str:
    score = _score(dossier)
    return "—" if score is None else number_format(score, decimal_pos=2)


def columns() -> list[Column]:
    return [
        Column(
            "recevabilite",
            _("Recevabilité"),
            _admissibility,
            order="list_admissibility",
            annotate=_with_admissibility,
        ),
        Column(
            "note",
            _("Note /100"),
            _score,
            order="list_score",
            annotate=_with_score,
            text=_score_text,
        ),
    ]


class AssignEvaluatorForm(forms.Form):
    evaluator = forms.ModelChoiceField(
        label=_("Évaluateur à affecter aux dossiers cochés"),
        queryset=User.objects.none(),
        empty_label=_("Choisissez…"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evaluator"].queryset = User.objects.with_role(Role.EVALUATEUR).order_by(
            "last_name", "first_name", "email"
        )


def assign_action() -> BulkAction:
    return BulkAction(
        key="affecter",
        label=_("Affecter un évaluateur"),
        form=AssignEvaluatorForm,
        run=lambda dossiers, *, by, evaluator: services.assign_many(dossiers, evaluator, by=by),
        done=lambda n: (
            ngettext(
                "Évaluateur affecté à %(n)d dossier.", "Évaluateur affecté à %(n)d dossiers.", n
            )
            % {"n": n}
        ),
    )
