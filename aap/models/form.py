from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from aap.models.calls import Call, CallPart


class QuestionKind(models.TextChoices):
    SHORT_TEXT = "short_text", _("Texte court")
    LONG_TEXT = "long_text", _("Texte long")
    NUMBER = "number", _("Nombre")
    AMOUNT = "amount", _("Montant en euros")
    DATE = "date", _("Date")
    YES_NO = "yes_no", _("Oui / non")
    CHOICE = "choice", _("Un choix dans une liste")
    CHOICES = "choices", _("Plusieurs choix dans une liste")
    LOTS = "lots", _("Choix des lots")


class QuestionMeaning(models.TextChoices):
    """What the platform itself reads from an answer (for rankings and agreements)."""

    NONE = "", _("—")
    REQUESTED_AMOUNT = "requested_amount", _("Montant sollicité")


KINDS_WITH_CHOICES = (QuestionKind.CHOICE, QuestionKind.CHOICES)
KINDS_WITH_LENGTH = (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)


class Question(CallPart):
    """A question of a call's funding-request form, set by the instructeurs."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="form_questions")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    section = models.CharField(
        _("rubrique"),
        max_length=200,
        blank=True,
        help_text=_("Titre de la partie du formulaire où la question apparaît."),
    )
    label = models.CharField(_("question"), max_length=500)
    help_text = models.TextField(_("aide"), blank=True)
    kind = models.CharField(_("type de réponse"), max_length=20, choices=QuestionKind.choices)
    required = models.BooleanField(_("réponse obligatoire"), default=True)
    max_length = models.PositiveIntegerField(
        _("longueur maximale (caractères)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50_000)],
    )
    choices = models.TextField(
        _("choix proposés"), blank=True, help_text=_("Un choix par ligne (listes seulement).")
    )
    meaning = models.CharField(
        _("usage de la réponse"),
        max_length=30,
        choices=QuestionMeaning.choices,
        blank=True,
        default=QuestionMeaning.NONE,
        help_text=_("« Montant sollicité » : comparé au budget du lot dans le classement."),
    )

    class Meta:
        verbose_name = _("question du dossier")
        verbose_name_plural = _("questions du dossier")
        ordering = ["call_id", "position", "pk"]

    def __str__(self):
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]
