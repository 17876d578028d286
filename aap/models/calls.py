from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from aap.deadlines import is_on_time
from aap.exceptions import DeadlineBroughtForward, ScoringGridLocked, StructureLocked
from aap.models.programmes import Programme
from aap.states import PUBLIC_STATUSES, CallAction, CallStatus
from core.dates import to_the_second
from core.documents import describe_formats
from core.models.history import StatusChange


class OrganisationKind(models.TextChoices):
    """Kinds of applicant organisations (EPCI and GIP are the seed call's priority)."""

    EPCI = "epci", _("EPCI (établissement public de coopération intercommunale)")
    GIP = "gip", _("GIP (groupement d'intérêt public)")
    ASSOCIATION = "association", _("Association")
    COMMUNE = "commune", _("Commune")
    OTHER = "other", _("Autre structure")


# How kinds read inside a sentence or between brackets ("Trièves (EPCI)").
ORGANISATION_KIND_SHORT = {
    OrganisationKind.EPCI: _("EPCI"),
    OrganisationKind.GIP: _("GIP"),
    OrganisationKind.ASSOCIATION: _("association"),
    OrganisationKind.COMMUNE: _("commune"),
    OrganisationKind.OTHER: _("autre structure"),
}


class PaperCopyRule(models.TextChoices):
    POSTMARK = "postmark", _("Cachet de la Poste faisant foi")
    RECEPTION = "reception", _("Date de réception par le Département")


class CallQuerySet(models.QuerySet):
    def public(self):
        """Calls the public may see: every call that left the draft status."""
        return self.filter(status__in=PUBLIC_STATUSES)

    def open_at(self, when=None):
        """Published calls whose submission window contains ``when``."""
        when = to_the_second(when or timezone.now())
        return self.filter(status=CallStatus.PUBLISHED, opens_at__lte=when, deadline__gte=when)

    def upcoming_at(self, when=None):
        when = when or timezone.now()
        return self.filter(status=CallStatus.PUBLISHED, opens_at__gt=when)

    def closed_at(self, when=None):
        """Public calls no longer taking dossiers, whether or not the sweep has run."""
        when = to_the_second(when or timezone.now())
        return self.public().filter(~Q(status=CallStatus.PUBLISHED) | Q(deadline__lt=when))

    def past_deadline(self, when=None):
        """Published calls whose deadline has passed: the automatic close picks them."""
        when = to_the_second(when or timezone.now())
        return self.filter(status=CallStatus.PUBLISHED, deadline__lt=when)


class Call(models.Model):
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="calls", verbose_name=_("programme")
    )
    title = models.CharField(_("intitulé"), max_length=250)
    reference = models.CharField(
        _("référence"),
        max_length=40,
        unique=True,
        help_text=_("Préfixe des numéros d'accusé de réception, par exemple AAP-2024-FCS."),
    )
    slug = models.SlugField(_("adresse courte"), max_length=80, unique=True)
    year = models.PositiveSmallIntegerField(_("année"))
    authority = models.CharField(
        _("autorité responsable"),
        max_length=250,
        default="Direction des solidarités (DSO) – Service Insertion Vers l'Emploi (IVE)",
    )
    summary = models.TextField(
        _("résumé"), max_length=600, help_text=_("Deux ou trois phrases pour la liste des appels.")
    )
    context = models.TextField(_("éléments de contexte"), blank=True)
    objectives = models.TextField(_("objectifs généraux et modalités opérationnelles"), blank=True)
    actions_intro = models.TextField(_("introduction des actions attendues"), blank=True)
    actions_note = models.TextField(
        _("précision sur les actions attendues"),
        blank=True,
        help_text=_("Par exemple l'attention particulière portée à un territoire."),
    )
    selection_intro = models.TextField(_("introduction des critères de sélection"), blank=True)
    eligibility = models.TextField(_("structures visées"), blank=True)
    eligible_kinds = models.JSONField(_("types de structures éligibles"), default=list, blank=True)
    priority_kinds = models.JSONField(
        _("types de structures prioritaires"), default=list, blank=True
    )
    partnership_terms = models.TextField(_("formalisation du partenariat et durée"), blank=True)
    funding_terms = models.TextField(_("financements apportés"), blank=True)
    dossier_contents = models.TextField(_("constitution du dossier"), blank=True)
    submission_terms = models.TextField(_("modalités de dépôt"), blank=True)

    opens_at = models.DateTimeField(_("lancement de l'appel à projets"))
    deadline = models.DateTimeField(
        _("date limite de réception des dossiers"),
        help_text=_("Date et heure, heure de Paris."),
    )
    start_expected = models.CharField(_("démarrage prévu"), max_length=200, blank=True)

    paper_copy_required = models.BooleanField(_("exemplaire papier exigé"), default=False)
    paper_copy_rule = models.CharField(
        _("règle pour l'exemplaire papier"),
        max_length=20,
        choices=PaperCopyRule.choices,
        default=PaperCopyRule.POSTMARK,
    )
    paper_copy_count = models.PositiveSmallIntegerField(
        _("nombre d'exemplaires"), default=1, validators=[MinValueValidator(1)]
    )
    paper_mail_address = models.TextField(_("adresse d'envoi en recommandé avec AR"), blank=True)
    hand_delivery_allowed = models.BooleanField(
        _("dépôt en main propre contre récépissé possible"), default=False
    )
    hand_delivery_address = models.TextField(_("adresse de dépôt en main propre"), blank=True)

    funding_request_generated = models.BooleanField(
        _("dossier de demande établi par la plateforme"),
        default=False,
        help_text=_(
            "Les candidats répondent en ligne ; la plateforme met en forme le dossier de "
            "demande de financement (PDF) à partir de leurs réponses, joint à l'accusé de "
            "réception. Le modèle DOCX n'est alors plus à demander."
        ),
    )

    max_dossier_size_mb = models.PositiveSmallIntegerField(
        _("taille maximale d'un dossier (Mo)"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text=_("Total des fichiers d'un dossier."),
    )

    contact_email = models.EmailField(_("adresse électronique de contact"))
    contact_details = models.TextField(_("personnes à contacter"), blank=True)

    # Decision letters: empty means the authority's default (settings.LETTER_*).
    letter_place = models.CharField(_("lieu des lettres de décision"), max_length=100, blank=True)
    letter_signatory_name = models.CharField(
        _("nom du signataire des lettres"), max_length=200, blank=True
    )
    letter_signatory_title = models.CharField(
        _("fonction du signataire des lettres"), max_length=250, blank=True
    )
    letter_signatory_delegation = models.CharField(
        _("délégation de signature"), max_length=250, blank=True
    )
    appeal_authority = models.CharField(
        _("destinataire du recours gracieux"), max_length=250, blank=True
    )
    appeal_authority_address = models.CharField(
        _("adresse du recours gracieux"), max_length=300, blank=True
    )
    appeal_court = models.CharField(
        _("juridiction du recours contentieux"), max_length=250, blank=True
    )
    appeal_court_address = models.CharField(
        _("adresse de la juridiction"), max_length=300, blank=True
    )
    appeal_wording = models.TextField(
        _("voies et délais de recours (paragraphe entier)"),
        blank=True,
        help_text=_(
            "Vide : le paragraphe est composé des valeurs ci-dessus (recours gracieux, "
            "recours contentieux dans les deux mois, Télérecours citoyens)."
        ),
    )

    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=CallStatus.choices,
        default=CallStatus.DRAFT,
        editable=False,
    )
    published_at = models.DateTimeField(_("publié le"), null=True, blank=True, editable=False)
    scoring_locked_at = models.DateTimeField(
        _("grille d'évaluation figée le"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("À la première évaluation déposée : les pondérations ne changent plus."),
    )
    abandon_reason = models.TextField(
        _("motif du classement sans suite"),
        blank=True,
        editable=False,
        help_text=_("Publié sur la page de l'appel et adressé aux candidats."),
    )
    abandoned_at = models.DateTimeField(
        _("classé sans suite le"), null=True, blank=True, editable=False
    )
    is_demo = models.BooleanField(
        _("démonstration"),
        default=False,
        help_text=_("Copie de démonstration : les dossiers déposés ne sont pas instruits."),
    )
    copied_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="copies",
        verbose_name=_("copie de"),
    )
    copied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("copié par"),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        verbose_name = _("appel à projets")
        verbose_name_plural = _("appels à projets")
        ordering = ["-deadline", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("opens_at")),
                name="call_deadline_after_opening",
            )
        ]

    def __str__(self):
        return f"{self.reference} – {self.title}"

    def save(self, *args, **kwargs):
        # Every path (back-office, admin, shell) meets the rule, under the row's lock.
        with transaction.atomic():
            if problem := self.deadline_problem(locked=True):
                raise DeadlineBroughtForward(problem)
            return super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("aap:call_detail", kwargs={"slug": self.slug})

    def clean(self):
        super().clean()
        if problem := self.deadline_problem():
            raise ValidationError({"deadline": problem})

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    def is_open(self, when=None) -> bool:
        when = when or timezone.now()
        return (
            self.status == CallStatus.PUBLISHED
            and self.opens_at <= when
            and is_on_time(self.deadline, when)
        )

    def phase(self, when=None) -> str:
        """What the public reads: "upcoming", "open", "closed" or "abandoned" (or
        "draft")."""
        when = when or timezone.now()
        if self.status == CallStatus.DRAFT:
            return "draft"
        if self.status == CallStatus.ABANDONED:
            return "abandoned"
        if self.status == CallStatus.PUBLISHED and when < self.opens_at:
            return "upcoming"
        if self.is_open(when):
            return "open"
        return "closed"

    @property
    def is_structure_editable(self) -> bool:
        """Lots, criteria and documents change only before publication (equal treatment)."""
        return self.status == CallStatus.DRAFT

    @property
    def is_text_editable(self) -> bool:
        return self.status in (CallStatus.DRAFT, CallStatus.PUBLISHED)

    def deadline_problem(self, *, locked: bool = False) -> str:
        """Why this deadline may not be saved, or "": once published, a call's deadline
        may be postponed, never brought forward (a candidate counting on it would lose).
        ``locked``: the stored deadline is read under a lock of the row."""
        if self.pk is None or self.status == CallStatus.DRAFT:
            return ""
        rows = Call.objects.select_for_update() if locked else Call.objects
        stored = rows.filter(pk=self.pk).values_list("deadline", flat=True).first()
        # Compared to the second, as the deadline rule reads it (aap.deadlines).
        if stored is not None and to_the_second(self.deadline) < to_the_second(stored):
            return str(
                _(
                    "L'appel est publié : la date limite peut être reportée, pas avancée "
                    "(elle est le %(date)s)."
                )
                % {"date": date_format(timezone.localtime(stored), "DATETIME_FORMAT")}
            )
        return ""

    def get_eligible_kinds_display(self) -> list[str]:
        return [
            str(label) for code, label in OrganisationKind.choices if code in self.eligible_kinds
        ]

    def get_priority_kinds_display(self) -> list[str]:
        return [
            str(label) for code, label in OrganisationKind.choices if code in self.priority_kinds
        ]

    @property
    def max_dossier_size_bytes(self) -> int:
        return self.max_dossier_size_mb * 1024 * 1024

    @property
    def total_fte(self) -> Decimal:
        return sum((lot.fte for lot in self.lots.all()), Decimal("0"))


STRUCTURE_LOCKED = _(
    "L'appel à projets est publié : ses lots, critères, pièces, actions attendues et "
    "questions ne changent plus, pour que tous les candidats soient traités de la même façon."
)


def refuse_unless_structure_editable(call_id: int) -> None:
    """Raise unless the call is a draft, read under a lock of its row: a publication
    running at the same time waits for the change, or the change sees it."""
    status = Call.objects.select_for_update().values_list("status", flat=True).get(pk=call_id)
    if status != CallStatus.DRAFT:
        raise StructureLocked(STRUCTURE_LOCKED)


class CallPart(models.Model):
    """A part of a call's structure (lot, criterion, document, action, question): it
    changes only while its call is a draft, through every path (back-office, admin,
    shell). ``call_path`` names the call's id from the part."""

    call_path = "call_id"

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        with transaction.atomic():
            self.refuse_change()
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            refuse_unless_structure_editable(self.structure_call_id())
            return super().delete(*args, **kwargs)

    def clean(self):
        super().clean()
        try:
            call_id = self.structure_call_id()
        except ObjectDoesNotExist:
            return  # no call yet: the form says what is missing
        if (
            call_id is not None
            and not Call.objects.filter(pk=call_id, status=CallStatus.DRAFT).exists()
        ):
            raise ValidationError(STRUCTURE_LOCKED)

    def structure_call_id(self) -> int:
        value = self
        for name in self.call_path.split("."):
            value = getattr(value, name)
        return value

    def refuse_change(self) -> None:
        refuse_unless_structure_editable(self.structure_call_id())


class Lot(CallPart):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="lots")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    name = models.CharField(_("nom"), max_length=120, help_text=_("Par exemple : Nord Isère."))
    territory = models.TextField(_("territoire couvert"), blank=True)
    fte = models.DecimalField(
        _("ETP financés"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("50"))],
    )
    budget = models.DecimalField(
        _("budget (€)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Laisser vide si l'appel ne fixe pas de montant."),
    )

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["call_id", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["call", "name"], name="lot_unique_name_per_call")
        ]

    def __str__(self):
        return self.name


def refuse_if_grid_locked(call):
    """Raise once the first evaluation has frozen the grid, read under a lock of the call's
    row (``lock_grid`` sets it in the submission's transaction)."""
    with transaction.atomic():
        locked_at = (
            Call.objects.select_for_update()
            .values_list("scoring_locked_at", flat=True)
            .get(pk=call.pk)
        )
    if locked_at is not None:
        call.scoring_locked_at = locked_at
        raise ScoringGridLocked(
            _(
                "La grille d'évaluation est figée depuis le dépôt de la première évaluation "
                "(%(date)s) : les pondérations et les sous-critères ne peuvent plus changer."
            )
            % {"date": date_format(timezone.localtime(call.scoring_locked_at), "DATETIME_FORMAT")}
        )


class Criterion(CallPart):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    title = models.CharField(_("intitulé"), max_length=250)
    description = models.TextField(_("précisions"), blank=True)
    weight = models.DecimalField(
        _("pondération (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        verbose_name = _("critère de sélection")
        verbose_name_plural = _("critères de sélection")
        ordering = ["call_id", "position", "pk"]

    def __str__(self):
        return self.title

    # The weights are set in the scoring grid after publication, until the first
    # evaluation freezes them; the rest of a criterion is structure.
    STRUCTURE_FIELDS = ("title", "description", "position")

    def refuse_change(self) -> None:
        stored = (
            type(self).objects.filter(pk=self.pk).values(*self.STRUCTURE_FIELDS, "weight").first()
            if self.pk is not None
            else None
        )
        if stored is None or any(
            stored[name] != getattr(self, name) for name in self.STRUCTURE_FIELDS
        ):
            super().refuse_change()
        if stored is None or stored["weight"] != self.weight:
            # Scores already given were weighed with the current grid: it no longer changes.
            refuse_if_grid_locked(self.call)

    def delete(self, *args, **kwargs):
        refuse_if_grid_locked(self.call)
        return super().delete(*args, **kwargs)


class SubCriterion(CallPart):
    call_path = "criterion.call_id"

    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="subcriteria")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    title = models.CharField(_("intitulé"), max_length=250)

    class Meta:
        verbose_name = _("sous-critère")
        verbose_name_plural = _("sous-critères")
        ordering = ["criterion_id", "position", "pk"]

    def __str__(self):
        return self.title

    def refuse_change(self) -> None:
        refuse_if_grid_locked(self.criterion.call)  # the more precise reason comes first
        super().refuse_change()

    def delete(self, *args, **kwargs):
        refuse_if_grid_locked(self.criterion.call)
        return super().delete(*args, **kwargs)


class ExpectedAction(CallPart):
    """An action the call expects candidates to carry out (the seed lists eight)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="expected_actions")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    label = models.CharField(_("action attendue"), max_length=300)

    class Meta:
        verbose_name = _("action attendue")
        verbose_name_plural = _("actions attendues")
        ordering = ["call_id", "position", "pk"]

    def __str__(self):
        return self.label


def template_upload_to(instance, filename):
    # Stored under a random name; the original name is kept in ``template_name``.
    from uuid import uuid4

    return f"modeles/{uuid4().hex}"


class RequiredDocument(CallPart):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="required_documents")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    label = models.CharField(_("pièce à fournir"), max_length=250)
    description = models.TextField(_("précisions"), blank=True)
    mandatory = models.BooleanField(_("obligatoire"), default=True)
    multiple = models.BooleanField(
        _("plusieurs fichiers possibles"),
        default=False,
        help_text=_("Par exemple un CV par professionnel."),
    )
    allowed_formats = models.JSONField(_("formats acceptés"), default=list)
    max_size_mb = models.PositiveSmallIntegerField(
        _("taille maximale par fichier (Mo)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    template = models.FileField(
        _("modèle à télécharger"), upload_to=template_upload_to, blank=True, max_length=200
    )
    template_name = models.CharField(_("nom du fichier modèle"), max_length=200, blank=True)
    template_size = models.PositiveIntegerField(_("taille du modèle (octets)"), default=0)

    class Meta:
        verbose_name = _("pièce à fournir")
        verbose_name_plural = _("pièces à fournir")
        ordering = ["call_id", "position", "pk"]

    def __str__(self):
        return self.label

    @property
    def formats_display(self) -> str:
        return describe_formats(self.allowed_formats)

    @property
    def max_size_bytes(self) -> int:
        return self.max_size_mb * 1024 * 1024


class CallStatusChange(StatusChange):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="status_changes")
    statuses, actions = CallStatus, CallAction

    class Meta(StatusChange.Meta):
        verbose_name = _("changement de statut")
        verbose_name_plural = _("historique des statuts")
