import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siret as stdnum_siret

from aap.models import ORGANISATION_KIND_SHORT, OrganisationKind


def validate_siret(value: str) -> None:
    """14 digits and the Luhn checksum (La Poste's SIRET, exempt from it, included)."""
    if not stdnum_siret.is_valid(value):
        raise ValidationError(
            _("Ce numéro SIRET n'est pas valide : il compte 14 chiffres, vérifiez-les."),
            code="invalid_siret",
        )


RNA = re.compile(r"W\d{9}")
RNA_INVALID = _(
    "Le numéro RNA (répertoire national des associations) s'écrit W suivi de 9 chiffres, "
    "par exemple W381234567."
)


def validate_rna(value: str) -> None:
    """The Répertoire national des associations' number, as the SCDL open data wants it."""
    if not RNA.fullmatch(value):
        raise ValidationError(RNA_INVALID, code="invalid_rna")


class Territory(models.Model):
    """Reference data: an EPCI of the Isère an organisation may cover (editable)."""

    name = models.CharField(_("nom"), max_length=200, unique=True)
    area = models.CharField(_("secteur"), max_length=100, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("territoire (EPCI)")
        verbose_name_plural = _("territoires (EPCI)")
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganisationQuerySet(models.QuerySet):
    def of_member(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Organisation(models.Model):
    """An applicant: an EPCI, a GIP, an association… Its members share its dossiers."""

    name = models.CharField(_("nom de la structure"), max_length=250)
    kind = models.CharField(_("type de structure"), max_length=20, choices=OrganisationKind.choices)
    siret = models.CharField(
        _("SIRET"),
        max_length=14,
        unique=True,
        validators=[validate_siret],
        help_text=_("14 chiffres."),
    )
    rna = models.CharField(
        _("numéro RNA"),
        max_length=10,
        blank=True,
        validators=[validate_rna],
        help_text=_(
            "Associations : W suivi de 9 chiffres (répertoire national des associations). "
            "Il est publié avec les subventions attribuées."
        ),
    )
    address = models.TextField(_("adresse"))
    postal_code = models.CharField(_("code postal"), max_length=5)
    city = models.CharField(_("commune"), max_length=150)
    legal_representative_name = models.CharField(_("représentant légal : nom"), max_length=200)
    legal_representative_role = models.CharField(
        _("représentant légal : qualité"),
        max_length=200,
        help_text=_("Par exemple : Président, Directrice."),
    )
    legal_representative_email = models.EmailField(_("représentant légal : adresse électronique"))
    territories = models.ManyToManyField(
        Territory, blank=True, related_name="organisations", verbose_name=_("territoires couverts")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("structure")
        verbose_name_plural = _("structures")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The open data publishes it: a wrong format never reaches the database, whichever
        # path saves (the form, a service, the shell).
        if self.rna:
            validate_rna(self.rna)
        return super().save(*args, **kwargs)

    def clean(self):
        if self.rna and self.kind != OrganisationKind.ASSOCIATION:
            raise ValidationError(
                {"rna": _("Seule une association a un numéro RNA : laissez ce champ vide.")}
            )

    @property
    def kind_short(self) -> str:
        return str(ORGANISATION_KIND_SHORT.get(self.kind, self.get_kind_display()))


class Membership(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    joined_at = models.DateTimeField(_("membre depuis"), default=timezone.now)

    class Meta:
        verbose_name = _("membre")
        verbose_name_plural = _("membres")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique")
        ]

    def __str__(self):
        return f"{self.user} – {self.organisation}"


def invitation_token() -> str:
    return secrets.token_urlsafe(24)


class Invitation(models.Model):
    """A member invites a colleague by e-mail; the link lets them join once."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("adresse électronique"))
    token = models.CharField(max_length=64, unique=True, default=invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.organisation}"

    def is_valid(self, when=None) -> bool:
        return self.accepted_at is None and (when or timezone.now()) < self.expires_at
