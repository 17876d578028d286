from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from aap.models import Call, SubCriterion

DEFAULT_LEVELS = ["Insuffisant", "Passable", "Moyen", "Bon", "Très bon"]


def default_levels():
    return list(DEFAULT_LEVELS)


class ScoringGrid(models.Model):
    """How a call's dossiers are scored: a scale with a label per level, a due date, the
    number of evaluators wanted per dossier and the gap that flags a disagreement.

    The criteria, sub-criteria and weights are the call's own (``aap.Criterion``); they
    freeze when the first evaluation is submitted (``Call.scoring_locked_at``).
    """

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="scoring_grid")
    scale_max = models.PositiveSmallIntegerField(
        _("note maximale"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Chaque sous-critère est noté de 0 à cette note."),
    )
    levels = models.JSONField(
        _("libellés des niveaux"),
        default=default_levels,
        help_text=_("Un libellé par note, de 0 à la note maximale."),
    )
    due_at = models.DateTimeField(_("évaluations à rendre avant le"), null=True, blank=True)
    evaluators_per_dossier = models.PositiveSmallIntegerField(
        _("évaluateurs par dossier"), default=2, validators=[MinValueValidator(1)]
    )
    disagreement_threshold = models.DecimalField(
        _("écart signalé (points sur 100)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("15"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "Au-delà de cet écart entre la note la plus haute et la plus basse, le "
            "dossier est signalé pour harmonisation."
        ),
    )

    class Meta:
        verbose_name = _("grille d'évaluation")
        verbose_name_plural = _("grilles d'évaluation")

    def __str__(self):
        return f"Grille {self.call.reference}"

    def clean(self):
        if len(self.levels) != self.scale_max + 1:
            raise ValidationError(
                {
                    "levels": _("Il faut un libellé pour chaque note, de 0 à %(max)s.")
                    % {"max": self.scale_max}
                }
            )

    def level_choices(self):
        return [(value, f"{value} – {label}") for value, label in enumerate(self.levels)]


class SubCriterionFactor(models.Model):
    """Points out of 100 that one point of a sub-criterion is worth, frozen with the grid.

    ``factor = weight of the criterion / (scale_max × number of its sub-criteria)``: a
    criterion scores the mean of its sub-criteria, brought to its weight. Stored when the
    grid locks so that every total is a plain ``Sum(score × factor)`` in the database.
    """

    grid = models.ForeignKey(ScoringGrid, on_delete=models.CASCADE, related_name="factors")
    subcriterion = models.OneToOneField(
        SubCriterion, on_delete=models.PROTECT, related_name="factor"
    )
    factor = models.DecimalField(max_digits=16, decimal_places=10)

    class Meta:
        verbose_name = _("coefficient de sous-critère")
        verbose_name_plural = _("coefficients de sous-critères")

    def __str__(self):
        return f"{self.subcriterion}: {self.factor}"
