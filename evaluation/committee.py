"""The selection committee (comité de sélection): the call's quorum rule, its meetings
with the members present and their declarations of interests, and the record
(procès-verbal) of a lot, frozen as a PDF with its SHA-256 at a meeting that meets the
quorum. The rules that freeze live in ``evaluation.models.committee``."""

import datetime as dt
import hashlib

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aap.models import Call, Lot
from candidatures.models import Candidature
from core.dates import format_datetime
from core.exceptions import DomainError
from core.models import User
from core.pdf import render_pdf
from core.roles import Role
from evaluation import exports, rules
from evaluation.models import (
    CommitteeMeeting,
    CommitteeMember,
    CommitteeRecord,
    Interests,
    QuorumRule,
    Seat,
    lock_scoring,
    quorum_rule_of,
    refuse_if_meeting_frozen,
    refuse_unless_quorate,
)

# Who may be linked to a member: the platform's staff, never a candidate.
MEMBER_ROLES = (Role.INSTRUCTEUR, Role.EVALUATEUR, Role.LECTEUR_DDETS)


def _refuse_unless_staff(by: User) -> None:
    if not rules.can_run_evaluation(by):
        raise PermissionDenied


# --- Quorum rule ------------------------------------------------------------------------------


def update_quorum_rule(
    call: Call,
    *,
    by: User,
    min_members: int,
    ddets_required: bool,
    interested_excluded: bool,
) -> QuorumRule:
    """Set the call's quorum rule; refused once a record of the call is frozen."""
    _refuse_unless_staff(by)
    if min_members < 1:
        raise DomainError(_("Le quorum compte au moins un membre présent."))
    with transaction.atomic():
        rule = quorum_rule_of(call)
        rule.min_members = min_members
        rule.ddets_required = ddets_required
        rule.interested_excluded = interested_excluded
        rule.updated_by, rule.updated_at = by, timezone.now()
        rule.save()
    return rule


# --- Meetings and members -----------------------------------------------------------------------


def _check_meeting(call: Call, starts_at: dt.datetime, place: str) -> str:
    place = (place or "").strip()
    if not place:
        raise DomainError(_("Indiquez le lieu de la séance."))
    if starts_at < call.deadline:
        raise DomainError(
            _(
                "La séance du comité se tient après la date limite de dépôt des dossiers "
                "(%(deadline)s)."
            )
            % {"deadline": format_datetime(call.deadline)}
        )
    return place


def create_meeting(call: Call, *, by: User, starts_at: dt.datetime, place: str) -> CommitteeMeeting:
    _refuse_unless_staff(by)
    place = _check_meeting(call, starts_at, place)
    return CommitteeMeeting.objects.create(
        call=call, starts_at=starts_at, place=place, created_by=by
    )


def update_meeting(
    meeting: CommitteeMeeting, *, by: User, starts_at: dt.datetime, place: str
) -> CommitteeMeeting:
    """Correct the date or the place; refused once a record was frozen at the meeting."""
    _refuse_unless_staff(by)
    place = _check_meeting(meeting.call, starts_at, place)
    with transaction.atomic():
        refuse_if_meeting_frozen(meeting.pk)
        meeting.starts_at, meeting.place = starts_at, place
        meeting.save(update_fields=["starts_at", "place", "updated_at"])
    return meeting


def member_candidates(call: Call):
    """The dossiers a member may declare a link with: the call's submitted ones."""
    return (
        Candidature.objects.submitted()
        .filter(call=call)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def member_users():
    return User.objects.with_role(*MEMBER_ROLES).order_by("last_name", "first_name")


def save_member(
    meeting: CommitteeMeeting,
    *,
    by: User,
    member: CommitteeMember | None = None,
    name: str,
    organisation: str,
    role: str,
    seat: str,
    is_ddets: bool,
    user: User | None,
    interests: str,
    dossiers,
    nature: str,
) -> CommitteeMember:
    """Add a member present at ``meeting`` (or correct ``member``) with their declaration
    of interests: none, or the dossiers concerned and the nature of the link."""
    _refuse_unless_staff(by)
    if member is not None and member.meeting_id != meeting.pk:
        raise DomainError(_("Ce membre n'appartient pas à cette séance."))
    name, organisation, role = (name or "").strip(), (organisation or "").strip(), role.strip()
    nature = (nature or "").strip()
    dossiers = list(dossiers)
    if not (name and organisation and role):
        raise DomainError(_("Indiquez le nom, l'organisme et la fonction du membre."))
    if seat not in Seat.values:
        raise DomainError(_("Choisissez le rôle du membre dans la séance."))
    if interests == Interests.NONE and (dossiers or nature):
        raise DomainError(
            _("Sans lien d'intérêts déclaré, aucun dossier ni nature de lien n'est indiqué.")
        )
    if interests == Interests.DECLARED and not (dossiers and nature):
        raise DomainError(
            _("Un lien d'intérêts déclaré nomme les dossiers concernés et la nature du lien.")
        )
    if interests not in Interests.values:
        raise DomainError(_("Indiquez la déclaration d'intérêts du membre."))
    if any(dossier.call_id != meeting.call_id for dossier in dossiers):
        raise DomainError(_("Un dossier déclaré n'appartient pas à cet appel à projets."))
    if user is not None and not member_users().filter(pk=user.pk).exists():
        raise DomainError(
            _(
                "Seul un compte d'instructeur, d'évaluateur ou de la DDETS peut être lié à un membre."
            )
        )
    with transaction.atomic():
        refuse_if_meeting_frozen(meeting.pk)  # locks the meeting's row
        others = meeting.members.exclude(pk=member.pk if member else None)
        if seat != Seat.MEMBER and (holder := others.filter(seat=seat).first()):
            raise DomainError(
                _("La séance a déjà un %(seat)s : %(name)s.")
                % {"seat": Seat(seat).label.lower(), "name": holder.name}
            )
        if user is not None and others.filter(user=user).exists():
            raise DomainError(_("Ce compte est déjà lié à un membre de la séance."))
        member = member or CommitteeMember(meeting=meeting)
        member.name, member.organisation, member.role = name, organisation, role
        member.seat, member.is_ddets, member.user = seat, is_ddets, user
        member.interests, member.interest_nature = interests, nature
        member.save()
        member.interest_dossiers.set(dossiers)
    return member


def remove_member(member: CommitteeMember, *, by: User) -> None:
    _refuse_unless_staff(by)
    member.delete()  # refused once a record was frozen at the meeting


# --- The record ----------------------------------------------------------------------------


def held_meetings(call: Call):
    """The call's meetings that have taken place, the latest last."""
    return CommitteeMeeting.objects.filter(call=call, starts_at__lte=timezone.now()).order_by(
        "starts_at", "pk"
    )


def meeting_context(meeting: CommitteeMeeting) -> dict:
    """The meeting as the record prints it: members (with their declared dossiers), the
    chair and the secretary who sign, the rule and what was counted."""
    members = list(
        meeting.members.select_related("user").prefetch_related("interest_dossiers__organisation")
    )
    rule = quorum_rule_of(meeting.call)
    by_seat = {member.seat: member for member in members}
    return {
        "meeting": meeting,
        "meeting_date": format_datetime(meeting.starts_at),
        "members": members,
        "chair": by_seat.get(Seat.CHAIR),
        "secretary": by_seat.get(Seat.SECRETARY),
        "rule": rule,
        "present": len(members),
        "ddets_present": sum(member.is_ddets for member in members),
    }


def _snapshot(now, table, meeting_facts: dict) -> dict:
    members = meeting_facts["members"]
    rule = meeting_facts["rule"]
    return {
        "frozen_at": now.isoformat(),
        "columns": table.columns,
        "rows": [[str(cell) for cell in row] for row in table.rows],
        "money": {key: str(value) for key, value in table.money.items()},
        "meeting": {
            "id": meeting_facts["meeting"].pk,
            "starts_at": meeting_facts["meeting"].starts_at.isoformat(),
            "place": meeting_facts["meeting"].place,
            "members": [
                {
                    "name": m.name,
                    "organisation": m.organisation,
                    "role": m.role,
                    "seat": m.seat,
                    "is_ddets": m.is_ddets,
                    "interests": m.interests,
                    "dossiers": [str(d.organisation) for d in m.interest_dossiers.all()],
                    "nature": m.interest_nature,
                }
                for m in members
            ],
        },
        "quorum": {
            "min_members": rule.min_members,
            "ddets_required": rule.ddets_required,
            "interested_excluded": rule.interested_excluded,
            "present": meeting_facts["present"],
            "ddets_present": meeting_facts["ddets_present"],
        },
        "decisions": [
            {
                "dossier": dossier.organisation.name,
                "outcome": dossier.decision.outcome if dossier.decision else None,
                "amount_granted": str(dossier.decision.amount_granted)
                if dossier.decision and dossier.decision.amount_granted is not None
                else None,
                "fte_granted": str(dossier.decision.fte_granted)
                if dossier.decision and dossier.decision.fte_granted is not None
                else None,
                "reason": dossier.decision.reason if dossier.decision else "",
            }
            for dossier in table.dossiers
        ],
    }


def ranking_pdf_context(lot: Lot, *, when: dt.datetime, by: User, table=None) -> dict:
    """What the ranking's PDF shows: the table on two lines per dossier and the
    decisions, for the draft export and the record alike."""
    table = table or exports.ranking_table(lot)
    return {
        "call": lot.call,
        "lot": lot,
        "table": table,
        "layout": exports.pdf_layout(table),
        "frozen_at": format_datetime(when),
        "by": by,
    }


def freeze_committee(
    call: Call, lot: Lot, *, by: User, meeting: CommitteeMeeting | None = None
) -> CommitteeRecord:
    """Keep the ranking, scores and decisions of ``lot`` as the committee saw them at
    ``meeting`` (by default the latest one held), as a PDF and its SHA-256. Refused
    unless the meeting meets the call's quorum rule."""
    _refuse_unless_staff(by)
    if lot.call_id != call.pk:
        raise DomainError(_("Ce lot n'appartient pas à cet appel à projets."))
    with transaction.atomic():
        # Scores saved meanwhile land before the freeze, and none after (scoring closes).
        lock_scoring(call.pk)
        if meeting is None:
            meeting = held_meetings(call).last()
        refuse_unless_quorate(meeting, lot)  # locks the meeting's row: its members hold
        now = timezone.now()
        facts = meeting_context(meeting)
        context = ranking_pdf_context(lot, when=now, by=by)
        content = render_pdf("evaluation/pdf/committee.html", {**context, **facts})
        record = CommitteeRecord(
            call=call,
            lot=lot,
            meeting=meeting,
            snapshot=_snapshot(now, context["table"], facts),
            sha256=hashlib.sha256(content).hexdigest(),
            created_by=by,
            created_at=now,
        )
        record.pdf.save(
            f"PV-{call.reference}-{lot.pk}-{now:%Y%m%d-%H%M}.pdf", ContentFile(content), save=False
        )
        record.save()
    return record
