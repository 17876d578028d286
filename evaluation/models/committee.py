"""The selection committee (comité de sélection): its quorum rule per call, its meetings
(séances) with the members present and their declarations of interests, and the record
(procès-verbal) frozen for each lot.

A record is an act: once saved it never changes, and the meeting it names, with its
members and their declarations, changes no more either. These rules live here, read under
a lock of the meeting's row that freezing also takes, so the services, the views and a
shell all meet them. Bulk ``QuerySet.update()`` and ``delete()`` are the code's own
business (the bench's clean-up)."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Prefetch
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from aap.models import Call, Lot
from candidatures.models import Candidature
from core.dates import format_datetime
from core.exceptions import DomainError
from evaluation.states import AdmissibilityOutcome


class CommitteeFrozen(DomainError):
    """A frozen record holds it: the meeting, its members, the quorum rule or the record."""


class Seat(models.TextChoices):
    CHAIR = "chair", _("Président(e) de séance")
    SECRETARY = "secretary", _("Secrétaire de séance")
    MEMBER = "member", _("Membre")


class Interests(models.TextChoices):
    NONE = "none", _("Aucun lien d'intérêts")
    DECLARED = "declared", _("Lien d'intérêts déclaré")


class QuorumRule(models.Model):
    """What makes a meeting of the call's committee valid. Kept here rather than on the
    call; the call's default (``committee.quorum_rule_of``) until staff set it. It changes
    until the first record of the call is frozen."""

    call = models.OneToOneField("aap.Call", on_delete=models.CASCADE, related_name="quorum_rule")
    min_members = models.PositiveSmallIntegerField(
        _("membres présents au minimum"), default=3, validators=[MinValueValidator(1)]
    )
    ddets_required = models.BooleanField(_("présence de la DDETS requise"), default=True)
    interested_excluded = models.BooleanField(
        _("un membre lié à un dossier ne compte pas dans le quorum de ce dossier"), default=True
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("règle de quorum")
        verbose_name_plural = _("règles de quorum")
        constraints = [
            models.CheckConstraint(condition=models.Q(min_members__gte=1), name="quorum_at_least_1")
        ]

    def __str__(self):
        return f"{self.call_id}: {self.min_members}"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            # The call's row: freezing a record takes it too (``lock_scoring``).
            list(Call.objects.select_for_update().filter(pk=self.call_id).values_list("pk"))
            if CommitteeRecord.objects.filter(call=self.call_id).exists():
                raise CommitteeFrozen(
                    gettext_now(
                        "La règle de quorum ne change plus : un procès-verbal de l'appel à "
                        "projets a été figé avec elle."
                    )
                )
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise CommitteeFrozen(gettext_now("Une règle de quorum se modifie, elle ne s'efface pas."))


class CommitteeMeeting(models.Model):
    """A meeting (séance) of the call's selection committee."""

    call = models.ForeignKey("aap.Call", on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField(_("date et heure de la séance"))
    place = models.CharField(_("lieu"), max_length=250)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("séance du comité de sélection")
        verbose_name_plural = _("séances du comité de sélection")
        ordering = ["call_id", "starts_at", "pk"]

    def __str__(self):
        return gettext_now("Séance du %(date)s – %(place)s") % {
            "date": format_datetime(self.starts_at),
            "place": self.place,
        }

    def save(self, *args, **kwargs):
        with transaction.atomic():
            if self.pk is not None:
                refuse_if_meeting_frozen(self.pk)
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            refuse_if_meeting_frozen(self.pk)
            return super().delete(*args, **kwargs)


class CommitteeMember(models.Model):
    """A member present at a meeting, and what they declared of their interests when it
    opened: none, or the dossiers concerned and the nature of the link. A member may be a
    platform user (``user``) but need not be."""

    meeting = models.ForeignKey(CommitteeMeeting, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("nom et prénom"), max_length=200)
    organisation = models.CharField(_("organisme"), max_length=200)
    role = models.CharField(_("fonction"), max_length=200)
    seat = models.CharField(
        _("rôle dans la séance"), max_length=20, choices=Seat.choices, default=Seat.MEMBER
    )
    is_ddets = models.BooleanField(_("représente la DDETS"), default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("compte sur la plateforme"),
    )
    interests = models.CharField(
        _("déclaration d'intérêts"), max_length=20, choices=Interests.choices
    )
    interest_dossiers = models.ManyToManyField(
        Candidature, blank=True, related_name="+", verbose_name=_("dossiers concernés")
    )
    interest_nature = models.TextField(_("nature du lien"), blank=True)

    class Meta:
        verbose_name = _("membre présent")
        verbose_name_plural = _("membres présents")
        ordering = ["meeting_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "seat"],
                condition=~models.Q(seat="member"),
                name="one_chair_and_one_secretary_per_meeting",
            ),
            models.CheckConstraint(
                condition=(models.Q(interests="none") & models.Q(interest_nature=""))
                | (models.Q(interests="declared") & ~models.Q(interest_nature="")),
                name="declared_interests_have_a_nature",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.organisation})"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            refuse_if_meeting_frozen(self.meeting_id)
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            refuse_if_meeting_frozen(self.meeting_id)
            return super().delete(*args, **kwargs)


@receiver(m2m_changed, sender=CommitteeMember.interest_dossiers.through)
def _declared_dossiers_follow_the_meeting(sender, instance, action, **kwargs):
    """The dossiers of a declaration change only while the meeting does (the field has no
    reverse accessor: changes come from the member's side)."""
    if action.startswith("pre_"):
        refuse_if_meeting_frozen(instance.meeting_id)


class CommitteeRecord(models.Model):
    """The ranking, scores and decisions of a lot as the committee saw them at a meeting,
    frozen with its PDF and the PDF's SHA-256. Never changed nor deleted once saved; it
    is created only at a meeting that meets the call's quorum (``committee``)."""

    call = models.ForeignKey("aap.Call", on_delete=models.PROTECT, related_name="committee_records")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="committee_records")
    # Null only for records frozen before meetings were kept.
    meeting = models.ForeignKey(
        CommitteeMeeting,
        on_delete=models.PROTECT,
        null=True,
        related_name="records",
        verbose_name=_("séance"),
    )
    snapshot = models.JSONField()
    pdf = models.FileField(upload_to="comites/", max_length=200)
    sha256 = models.CharField(
        _("empreinte SHA-256 du PDF"),
        max_length=64,
        blank=True,
        editable=False,
        validators=[RegexValidator(r"^[0-9a-f]{64}$")],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("procès-verbal de comité")
        verbose_name_plural = _("procès-verbaux de comité")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.call.reference} – {self.lot} – {self.created_at:%d/%m/%Y}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise CommitteeFrozen(
                gettext_now("Un procès-verbal figé ne se modifie pas ; il se rectifie par un acte.")
            )
        # Whatever creates a record meets the quorum, the shell included.
        with transaction.atomic():
            refuse_unless_quorate(self.meeting, self.lot)
            if not self.sha256 or len(self.sha256) != 64:
                raise CommitteeFrozen(gettext_now("Un procès-verbal garde l'empreinte de son PDF."))
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise CommitteeFrozen(gettext_now("Un procès-verbal figé ne se supprime pas."))


def refuse_if_meeting_frozen(meeting_id: int | None) -> None:
    """Raise ``CommitteeFrozen`` when a record was frozen at the meeting, read under a
    lock of the meeting's row, which freezing also takes."""
    if meeting_id is None:
        return
    with transaction.atomic():
        starts_at = (
            CommitteeMeeting.objects.select_for_update()
            .filter(pk=meeting_id)
            .values_list("starts_at", flat=True)
            .first()
        )
        record = CommitteeRecord.objects.filter(meeting=meeting_id).order_by("created_at").first()
    if record is not None:
        raise CommitteeFrozen(
            gettext_now(
                "La séance du %(date)s ne change plus : le procès-verbal du lot « %(lot)s » y "
                "a été figé le %(frozen)s, avec ses membres et leurs déclarations d'intérêts."
            )
            % {
                "date": format_datetime(starts_at),
                "lot": record.lot.name,
                "frozen": format_datetime(record.created_at),
            }
        )


# --- Quorum ---------------------------------------------------------------------------------


class QuorumNotReached(DomainError):
    """The meeting does not meet the call's quorum rule: no record may be frozen at it."""


def quorum_rule_of(call: Call) -> QuorumRule:
    """The call's quorum rule, or the default one, unsaved (reading writes nothing)."""
    return QuorumRule.objects.filter(call=call).first() or QuorumRule(call=call)


def quorum_problems(meeting: CommitteeMeeting | None, lot: Lot | None = None) -> list[str]:
    """Why no record can be frozen at ``meeting`` (for ``lot``), in French; empty when the
    quorum is reached. With ``lot``, each of its admissible dossiers must keep the quorum
    once the members linked to it are set aside (when the rule says so)."""
    if meeting is None:
        return [
            gettext_now(
                "Aucune séance du comité n'est enregistrée pour cet appel à projets : "
                "enregistrez la séance, ses membres présents et leurs déclarations "
                "d'intérêts avant de figer le procès-verbal."
            )
        ]
    if lot is not None and lot.call_id != meeting.call_id:
        return [gettext_now("Cette séance n'est pas celle du comité de cet appel à projets.")]
    rule = quorum_rule_of(meeting.call)
    members = list(
        meeting.members.prefetch_related(
            Prefetch("interest_dossiers", queryset=Candidature.objects.only("pk"))
        )
    )
    problems = []
    if meeting.starts_at > timezone.now():
        problems.append(
            gettext_now("La séance du %(date)s n'a pas encore eu lieu.")
            % {"date": format_datetime(meeting.starts_at)}
        )
    problems += _count_problems(members, rule)
    seats = {member.seat for member in members}
    if Seat.CHAIR not in seats:
        problems.append(
            gettext_now(
                "Aucun président de séance n'est désigné parmi les membres présents : il "
                "signe le procès-verbal."
            )
        )
    if Seat.SECRETARY not in seats:
        problems.append(
            gettext_now(
                "Aucun secrétaire de séance n'est désigné parmi les membres présents : il "
                "signe le procès-verbal."
            )
        )
    for member in members:
        if member.interests == Interests.DECLARED and not member.interest_dossiers.all():
            problems.append(
                gettext_now("%(name)s déclare un lien d'intérêts sans nommer de dossier.")
                % {"name": member.name}
            )
    if lot is not None and rule.interested_excluded and not problems:
        # The meeting as a whole is quorate: only a dossier a member declared a link with
        # has fewer members to count.
        linked = {m.pk: {d.pk for d in m.interest_dossiers.all()} for m in members}
        dossiers = (
            Candidature.objects.filter(
                pk__in=set().union(*linked.values()),
                lots=lot,
                admissibility__outcome=AdmissibilityOutcome.ADMISSIBLE,
            )
            .order_by("organisation__name")
            .values_list("pk", "organisation__name")
        )
        for pk, name in dossiers:
            free = [m for m in members if pk not in linked[m.pk]]
            problems += _count_problems(free, rule, dossier=name)
    return problems


def _count_problems(members, rule: QuorumRule, *, dossier: str | None = None) -> list[str]:
    problems = []
    if len(members) < rule.min_members:
        if dossier is None:
            text = ngettext(
                "Quorum non atteint : %(n)s membre présent, %(min)s requis.",
                "Quorum non atteint : %(n)s membres présents, %(min)s requis.",
                len(members),
            )
        else:
            text = ngettext(
                "Quorum non atteint pour le dossier %(dossier)s : %(n)s membre présent sans "
                "lien d'intérêts avec lui, %(min)s requis.",
                "Quorum non atteint pour le dossier %(dossier)s : %(n)s membres présents sans "
                "lien d'intérêts avec lui, %(min)s requis.",
                len(members),
            )
        problems.append(
            text % {"n": len(members), "min": rule.min_members, "dossier": dossier or ""}
        )
    if rule.ddets_required and not any(member.is_ddets for member in members):
        if dossier is None:
            problems.append(
                gettext_now(
                    "Quorum non atteint : la présence d'un représentant de la DDETS est requise."
                )
            )
        else:
            problems.append(
                gettext_now(
                    "Quorum non atteint pour le dossier %(dossier)s : aucun représentant de la "
                    "DDETS présent sans lien d'intérêts avec lui."
                )
                % {"dossier": dossier}
            )
    return problems


def refuse_unless_quorate(meeting: CommitteeMeeting | None, lot: Lot) -> None:
    """Raise ``QuorumNotReached`` unless a record of ``lot`` may be frozen at ``meeting``;
    the meeting's row is locked first, so that its members stay as they were read."""
    if meeting is not None:
        list(CommitteeMeeting.objects.select_for_update().filter(pk=meeting.pk).values_list("pk"))
    if problems := quorum_problems(meeting, lot):
        raise QuorumNotReached(
            gettext_now(
                "Le procès-verbal ne peut pas être figé : la séance ne remplit pas la règle de "
                "quorum de l'appel à projets."
            ),
            problems=problems,
        )
