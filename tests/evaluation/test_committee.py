"""The selection committee: a record (procès-verbal) is frozen only at a meeting that meets
the call's quorum, and once frozen it changes no more, nor does its meeting, its members,
their declarations of interests or the call's quorum rule: through the services, the
views and the model layer (a shell) alike. What is refused is written first."""

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.exceptions import DomainError
from evaluation import committee
from evaluation.committee import freeze_committee
from evaluation.models import (
    CommitteeFrozen,
    CommitteeMeeting,
    CommitteeMember,
    CommitteeRecord,
    Interests,
    QuorumNotReached,
    QuorumRule,
    Seat,
)
from tests.evaluation.conftest import admitted, score, submitted_dossier
from tests.evaluation.meetings import MEMBERS, quorate_meeting
from tests.factories import UserFactory, dossier_ready_call

pytestmark = pytest.mark.django_db

E1 = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}  # 81.25
E2 = {"A1": 3, "A2": 1, "B1": 2, "C1": 3, "C2": 2}  # 53.125


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Every test of this module stores its files in its own private folder."""


@pytest.fixture
def lot(graded_call):
    return graded_call.lots.first()


@pytest.fixture
def dossiers(graded_call, lot, instructeur, evaluators):
    alpha, beta = admitted(
        graded_call, ["EPCI Alpha", "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)
    score(beta, evaluators[0], by_instructeur=instructeur, points=E2)
    return alpha, beta


def member(meeting, by, name, *, seat=Seat.MEMBER, ddets=False, linked=(), nature=""):
    return committee.save_member(
        meeting,
        by=by,
        name=name,
        organisation="DDETS de l'Isère" if ddets else "Département de l'Isère",
        role="Membre du comité",
        seat=seat,
        is_ddets=ddets,
        user=None,
        interests=Interests.DECLARED if linked else Interests.NONE,
        dossiers=list(linked),
        nature=nature,
    )


def refusal(call, lot, by, meeting=None) -> QuorumNotReached:
    with pytest.raises(QuorumNotReached) as caught:
        freeze_committee(call, lot, by=by, meeting=meeting)
    assert not CommitteeRecord.objects.exists()
    return caught.value


# --- Freezing needs a meeting that meets the quorum -------------------------------------------


def test_freezing_without_a_meeting_is_refused(graded_call, lot, instructeur, dossiers):
    error = refusal(graded_call, lot, instructeur)
    assert error.message.startswith("Le procès-verbal ne peut pas être figé")
    assert any("Aucune séance du comité" in problem for problem in error.problems)


def test_too_few_members_present_is_refused(graded_call, lot, instructeur, dossiers):
    meeting = quorate_meeting(graded_call, by=instructeur, members=MEMBERS[:2])
    error = refusal(graded_call, lot, instructeur, meeting)
    assert "Quorum non atteint : 2 membres présents, 3 requis." in error.problems


def test_without_the_ddets_the_quorum_is_not_reached(graded_call, lot, instructeur, dossiers):
    meeting = quorate_meeting(graded_call, by=instructeur, members=MEMBERS[:2])
    member(meeting, instructeur, "Paul Présent")
    error = refusal(graded_call, lot, instructeur, meeting)
    assert error.problems == [
        "Quorum non atteint : la présence d'un représentant de la DDETS est requise."
    ]


def test_a_rule_without_the_ddets_needs_none(graded_call, lot, instructeur, dossiers):
    committee.update_quorum_rule(
        graded_call, by=instructeur, min_members=2, ddets_required=False, interested_excluded=True
    )
    meeting = quorate_meeting(graded_call, by=instructeur, members=MEMBERS[:2])
    record = freeze_committee(graded_call, lot, by=instructeur, meeting=meeting)
    assert record.snapshot["quorum"] == {
        "min_members": 2,
        "ddets_required": False,
        "interested_excluded": True,
        "present": 2,
        "ddets_present": 0,
    }


def test_a_record_needs_a_chair_and_a_secretary_to_sign_it(graded_call, lot, instructeur, dossiers):
    meeting = quorate_meeting(
        graded_call,
        by=instructeur,
        members=[(name, org, role, Seat.MEMBER, ddets) for name, org, role, _s, ddets in MEMBERS],
    )
    error = refusal(graded_call, lot, instructeur, meeting)
    assert any("Aucun président de séance" in problem for problem in error.problems)
    assert any("Aucun secrétaire de séance" in problem for problem in error.problems)


def test_a_meeting_yet_to_come_is_refused(graded_call, lot, instructeur, dossiers):
    meeting = quorate_meeting(
        graded_call, by=instructeur, starts_at=timezone.now() + dt.timedelta(days=2)
    )
    error = refusal(graded_call, lot, instructeur, meeting)
    assert any("n'a pas encore eu lieu" in problem for problem in error.problems)
    # By default, the latest meeting held: there is none.
    error = refusal(graded_call, lot, instructeur)
    assert any("Aucune séance du comité" in problem for problem in error.problems)


def test_a_member_linked_to_a_dossier_does_not_count_for_it(
    graded_call, lot, instructeur, dossiers
):
    alpha, _beta = dossiers
    meeting = quorate_meeting(graded_call, by=instructeur, members=MEMBERS[:2])
    member(meeting, instructeur, "Diane État", ddets=True, linked=[alpha], nature="Conjointe")
    error = refusal(graded_call, lot, instructeur, meeting)
    assert error.problems == [
        "Quorum non atteint pour le dossier EPCI Alpha : 2 membres présents sans lien "
        "d'intérêts avec lui, 3 requis.",
        "Quorum non atteint pour le dossier EPCI Alpha : aucun représentant de la DDETS "
        "présent sans lien d'intérêts avec lui.",
    ]
    # A rule that counts every member present lets it through.
    committee.update_quorum_rule(
        graded_call, by=instructeur, min_members=3, ddets_required=True, interested_excluded=False
    )
    assert freeze_committee(graded_call, lot, by=instructeur, meeting=meeting).pk


def test_a_meeting_of_another_call_is_refused(graded_call, lot, instructeur, dossiers, open_call):
    other = graded_call.lots.exclude(pk=lot.pk).get()
    meeting = quorate_meeting(graded_call, by=instructeur)
    with pytest.raises(DomainError, match="Ce lot n'appartient pas à cet appel"):
        freeze_committee(graded_call, open_call.lots.first(), by=instructeur, meeting=meeting)
    record = freeze_committee(graded_call, other, by=instructeur, meeting=meeting)
    assert record.meeting == meeting


def test_only_instructeurs_freeze_or_manage_the_committee(
    graded_call, lot, instructeur, ddets_reader, evaluator, dossiers
):
    meeting = quorate_meeting(graded_call, by=instructeur)
    for user in (ddets_reader, evaluator):
        with pytest.raises(PermissionDenied):
            freeze_committee(graded_call, lot, by=user, meeting=meeting)
        with pytest.raises(PermissionDenied):
            committee.create_meeting(graded_call, by=user, starts_at=timezone.now(), place="Ici")
        with pytest.raises(PermissionDenied):
            member(meeting, user, "Intrus")
        with pytest.raises(PermissionDenied):
            committee.update_quorum_rule(
                graded_call, by=user, min_members=1, ddets_required=False, interested_excluded=False
            )
    assert not CommitteeRecord.objects.exists()
    assert meeting.members.count() == 3 and not QuorumRule.objects.exists()


def test_the_view_refuses_with_the_reasons_in_french(
    graded_call, lot, instructeur, dossiers, client_for
):
    quorate_meeting(graded_call, by=instructeur, members=MEMBERS[:2])
    response = client_for(instructeur).post(
        reverse("evaluation:committee_record", args=[graded_call.pk, lot.pk]), follow=True
    )
    page = response.content.decode()
    assert "Le procès-verbal ne peut pas être figé" in page
    assert "Quorum non atteint : 2 membres présents, 3 requis." in page
    assert not CommitteeRecord.objects.exists()


def test_the_shell_cannot_create_a_record_without_a_quorate_meeting(
    graded_call, lot, instructeur, dossiers
):
    content = b"%PDF-1.4 faux"
    meeting = quorate_meeting(graded_call, by=instructeur, members=MEMBERS[:2])
    for where in (None, meeting):
        record = CommitteeRecord(
            call=graded_call,
            lot=lot,
            meeting=where,
            snapshot={},
            created_by=instructeur,
            sha256=hashlib.sha256(content).hexdigest(),
        )
        record.pdf.save("PV.pdf", ContentFile(content), save=False)
        with pytest.raises(QuorumNotReached):
            record.save()
    assert not CommitteeRecord.objects.exists()


# --- Meetings and members: what the services refuse -------------------------------------------


def test_a_meeting_is_held_after_the_deadline_somewhere(graded_call, instructeur, dossiers):
    with pytest.raises(Exception, match="après la date limite de dépôt"):
        committee.create_meeting(
            graded_call,
            by=instructeur,
            starts_at=graded_call.deadline - dt.timedelta(minutes=1),
            place="Grenoble",
        )
    with pytest.raises(Exception, match="Indiquez le lieu"):
        committee.create_meeting(graded_call, by=instructeur, starts_at=timezone.now(), place=" ")
    assert not CommitteeMeeting.objects.exists()


def test_a_declaration_names_its_dossiers_and_its_nature(graded_call, instructeur, dossiers):
    alpha, _beta = dossiers
    meeting = quorate_meeting(graded_call, by=instructeur)
    with pytest.raises(Exception, match="nomme les dossiers concernés et la nature"):
        committee.save_member(
            meeting,
            by=instructeur,
            name="Sans dossier",
            organisation="Org",
            role="Rôle",
            seat=Seat.MEMBER,
            is_ddets=False,
            user=None,
            interests=Interests.DECLARED,
            dossiers=[],
            nature="Élu",
        )
    with pytest.raises(Exception, match="nomme les dossiers concernés et la nature"):
        committee.save_member(
            meeting,
            by=instructeur,
            name="Sans nature",
            organisation="Org",
            role="Rôle",
            seat=Seat.MEMBER,
            is_ddets=False,
            user=None,
            interests=Interests.DECLARED,
            dossiers=[alpha],
            nature="",
        )
    with pytest.raises(Exception, match="aucun dossier ni nature"):
        committee.save_member(
            meeting,
            by=instructeur,
            name="Contradictoire",
            organisation="Org",
            role="Rôle",
            seat=Seat.MEMBER,
            is_ddets=False,
            user=None,
            interests=Interests.NONE,
            dossiers=[alpha],
            nature="",
        )
    foreign = submitted_dossier(dossier_ready_call(), "Ailleurs")
    with pytest.raises(Exception, match="n'appartient pas à cet appel"):
        member(meeting, instructeur, "Hors appel", linked=[foreign], nature="Élu")
    assert meeting.members.count() == 3


def test_one_chair_one_secretary_and_one_member_per_account(
    graded_call, instructeur, ddets_reader, candidate, dossiers
):
    meeting = quorate_meeting(graded_call, by=instructeur)
    with pytest.raises(Exception, match="La séance a déjà un président"):
        member(meeting, instructeur, "Second président", seat=Seat.CHAIR)
    with pytest.raises(Exception, match="La séance a déjà un secrétaire"):
        member(meeting, instructeur, "Second secrétaire", seat=Seat.SECRETARY)

    def linked_to(user):
        return committee.save_member(
            meeting,
            by=instructeur,
            name=user.get_full_name() or user.email,
            organisation="DDETS",
            role="Représentant",
            seat=Seat.MEMBER,
            is_ddets=True,
            user=user,
            interests=Interests.NONE,
            dossiers=[],
            nature="",
        )

    linked_to(ddets_reader)
    with pytest.raises(Exception, match="déjà lié à un membre"):
        linked_to(ddets_reader)
    with pytest.raises(Exception, match="Seul un compte d'instructeur"):
        linked_to(candidate)
    assert meeting.members.count() == 4
    # The database holds the seats too.
    with pytest.raises(IntegrityError), transaction.atomic():
        CommitteeMember.objects.create(
            meeting=meeting, name="X", organisation="Y", role="Z", seat=Seat.CHAIR, interests="none"
        )


# --- Once a record is frozen ------------------------------------------------------------------


@pytest.fixture
def frozen(graded_call, lot, instructeur, dossiers):
    alpha, _beta = dossiers
    meeting = quorate_meeting(graded_call, by=instructeur)
    linked = member(meeting, instructeur, "Laure Liée", linked=[alpha], nature="Élue de l'EPCI")
    record = freeze_committee(graded_call, lot, by=instructeur, meeting=meeting)
    return {"meeting": meeting, "record": record, "linked": linked}


def test_a_frozen_record_is_never_changed_nor_deleted(frozen):
    record = frozen["record"]
    record.snapshot = {"rows": []}
    with pytest.raises(CommitteeFrozen):
        record.save()
    with pytest.raises(CommitteeFrozen):
        record.delete()
    stored = CommitteeRecord.objects.get()
    assert stored.snapshot["rows"] and stored.sha256 == frozen["record"].sha256


def test_its_meeting_members_and_declarations_are_frozen_with_it(
    frozen, graded_call, instructeur, dossiers
):
    meeting, linked = frozen["meeting"], frozen["linked"]
    before = (
        list(CommitteeMeeting.objects.values_list("starts_at", "place")),
        list(CommitteeMember.objects.values_list("pk", "name", "interest_nature")),
        list(CommitteeMember.interest_dossiers.through.objects.values_list("pk", flat=True)),
    )
    # The services.
    with pytest.raises(CommitteeFrozen, match="ne change plus"):
        committee.update_meeting(meeting, by=instructeur, starts_at=timezone.now(), place="Autre")
    with pytest.raises(CommitteeFrozen):
        member(meeting, instructeur, "Arrivé en retard")
    with pytest.raises(CommitteeFrozen):
        committee.remove_member(linked, by=instructeur)
    # The model layer, as a shell would.
    meeting.place = "Autre salle"
    with pytest.raises(CommitteeFrozen):
        meeting.save()
    with pytest.raises(CommitteeFrozen):
        meeting.delete()
    linked.interest_nature = "Aucun, finalement"
    with pytest.raises(CommitteeFrozen):
        linked.save()
    with pytest.raises(CommitteeFrozen):
        linked.delete()
    # (Django changes a many-to-many inside the caller's transaction: a savepoint each.)
    with pytest.raises(CommitteeFrozen), transaction.atomic():
        linked.interest_dossiers.clear()
    with pytest.raises(CommitteeFrozen), transaction.atomic():
        linked.interest_dossiers.add(dossiers[1])
    after = (
        list(CommitteeMeeting.objects.values_list("starts_at", "place")),
        list(CommitteeMember.objects.values_list("pk", "name", "interest_nature")),
        list(CommitteeMember.interest_dossiers.through.objects.values_list("pk", flat=True)),
    )
    assert after == before


def test_the_quorum_rule_is_frozen_with_the_first_record(frozen, graded_call, instructeur):
    with pytest.raises(CommitteeFrozen, match="La règle de quorum ne change plus"):
        committee.update_quorum_rule(
            graded_call,
            by=instructeur,
            min_members=1,
            ddets_required=False,
            interested_excluded=False,
        )
    rule = QuorumRule(call=graded_call, min_members=1)
    with pytest.raises(CommitteeFrozen):
        rule.save()
    assert not QuorumRule.objects.exists()


def test_a_new_meeting_may_still_be_held_and_record_another_lot(
    frozen, graded_call, lot, instructeur
):
    other = graded_call.lots.exclude(pk=lot.pk).get()
    second = quorate_meeting(graded_call, by=instructeur, place="Salle 2")
    assert committee.held_meetings(graded_call).last() == second
    record = freeze_committee(graded_call, other, by=instructeur)
    assert record.meeting == second
    assert record.snapshot["meeting"]["place"] == "Salle 2"


def test_the_record_keeps_its_meeting_and_members_in_its_snapshot(frozen):
    snapshot = frozen["record"].snapshot
    members = snapshot["meeting"]["members"]
    assert [m["name"] for m in members] == [
        "Claire Présidente",
        "Samuel Secrétaire",
        "Diane État",
        "Laure Liée",
    ]
    assert members[3]["dossiers"] == ["EPCI Alpha"] and members[3]["nature"] == "Élue de l'EPCI"
    assert snapshot["quorum"]["present"] == 4 and snapshot["quorum"]["ddets_present"] == 1
    assert [d["dossier"] for d in snapshot["decisions"]] == ["EPCI Alpha", "GIP Bêta"]


def test_an_account_linked_to_a_member_must_be_staff(graded_call, instructeur, dossiers):
    meeting = quorate_meeting(graded_call, by=instructeur)
    evaluator = UserFactory(roles=["evaluateur"])
    linked = committee.save_member(
        meeting,
        by=instructeur,
        name="Éva Luatrice",
        organisation="Département",
        role="Évaluatrice",
        seat=Seat.MEMBER,
        is_ddets=False,
        user=evaluator,
        interests=Interests.NONE,
        dossiers=[],
        nature="",
    )
    assert linked.user == evaluator
    assert meeting.members.count() == 4
