"""Who reaches what in the evaluation: every URL of ``evaluation/urls.py``, GET and POST,
with every persona, over two calls whose dossiers, scores, opinions, decisions, committee
record and letters could leak.

Instructeurs run the evaluation; the DDETS reads rankings, exports, a dossier's
evaluations and committee records, and writes nothing but its opinion; an evaluator
reaches only their own assignments (another's → 404), once they declared no conflict;
candidates reach only their own letter (another organisation's → 404); anonymous
visitors are sent to log in. Each request runs in a savepoint rolled back afterwards, so
that every one of them meets the same world; a refused one must change nothing and show
no dossier's name or score.
"""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aap.models import Call, Criterion, SubCriterion
from candidatures import services as dossier_services
from candidatures.models import Candidature, Document, Reading
from core.models import OutgoingEmail
from evaluation import committee, services
from evaluation.models import (
    Admissibility,
    AdmissibilityChange,
    AdmissibilityRectification,
    Assignment,
    CommitteeMeeting,
    CommitteeMember,
    CommitteeRecord,
    Consensus,
    ConsensusRevision,
    Decision,
    DecisionRectification,
    DecisionRevision,
    Evaluation,
    EvaluationStatusChange,
    Justification,
    NotificationLetter,
    Opinion,
    OpinionRevision,
    QuorumRule,
    Score,
    ScoringGrid,
    SubCriterionFactor,
)
from evaluation.states import ConflictStatus, EvaluationStatus, LetterStatus
from evaluation.urls import urlpatterns as evaluation_patterns
from tests.candidatures.conftest import PDF, fill
from tests.evaluation.conftest import close, score
from tests.evaluation.meetings import quorate_meeting
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

LOGIN = "login"  # redirected to the login page
DECLARE = "declare"  # redirected to the declaration of interests of the assignment
PERSONAS = [
    "anonymous",
    "candidate",
    "other_candidate",
    "instructeur",
    "evaluator",
    "other_evaluator",
    "ddets_reader",
]
REFUSALS = {LOGIN, DECLARE, 403, 404, 405}

E_ALPHA = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}  # 30 + 26.25 + 25 = 81.25
E_BETA = {"A1": 3, "A2": 1, "B1": 2, "C1": 3, "C2": 2}  # 20 + 17.5 + 15.625 = 53.125
SECRETS = [
    "Communauté Alpha secrète",
    "GIP Bêta confidentiel",
    "Association Gamma irrecevable",
    "Régie Epsilon discrète",
    "Mission Delta réservée",
    "81,25",
    "81.25",
    "53,13",
    "53.13",
    "53,125",
    "53.125",
    "62,5",
    "Ancien salarié de la structure",
    "Avis confidentiel de la DDETS",
    "Harmonisation confidentielle",
    "Refus motivé confidentiel",
    "Pièce manquante confidentielle",
    "Lien confidentiel du membre",
]


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Every test of this module stores its files in its own private folder."""


@pytest.fixture
def other_evaluator(db):
    return UserFactory(email="ophelie@isere.test", roles=["evaluateur"])


def submitted(call, name, member, lot):
    """A complete dossier of ``member``'s new organisation, submitted on time."""
    organisation = OrganisationFactory(name=name, members=[member])
    dossier = Candidature.objects.create(call=call, organisation=organisation, created_by=member)
    fill(dossier, member)
    dossier.lots.set([lot])
    dossier_services.submit_candidature(
        dossier,
        by=member,
        received_at=timezone.now() - dt.timedelta(minutes=5),
        certified=True,
    )
    return dossier


@pytest.fixture
def world(
    graded_call,
    candidate,
    other_candidate,
    instructeur,
    evaluator,
    other_evaluator,
    ddets_reader,
):
    """Call 1 (under review, grid locked): alpha (the candidate's), beta (the other
    candidate's) and epsilon admissible, gamma inadmissible. The evaluator submitted alpha,
    keeps a draft on epsilon and declared a conflict on beta; the other evaluator submitted
    beta. Call 2: delta, which the evaluator has not declared on yet and the other
    evaluator keeps a draft of. A consensus on epsilon, the DDETS's opinion on alpha,
    decisions on lot 1, a committee record of lot 2, letters for alpha and beta."""
    call, lot = graded_call, graded_call.lots.first()
    alpha = submitted(call, "Communauté Alpha secrète", candidate, lot)
    beta = submitted(call, "GIP Bêta confidentiel", other_candidate, lot)
    gamma = submitted(call, "Association Gamma irrecevable", UserFactory(roles=["candidat"]), lot)
    epsilon = submitted(call, "Régie Epsilon discrète", UserFactory(roles=["candidat"]), lot)
    call2 = dossier_ready_call()
    lot2 = call2.lots.first()
    delta = submitted(call2, "Mission Delta réservée", UserFactory(roles=["candidat"]), lot2)
    close(call)
    close(call2)
    for dossier in (alpha, beta, epsilon, gamma, delta):
        dossier.refresh_from_db()
        services.decide_admissibility(
            dossier,
            by=instructeur,
            admissible=dossier != gamma,
            reason="Pièce manquante confidentielle" if dossier == gamma else "",
        )

    e_alpha = score(alpha, evaluator, by_instructeur=instructeur, points=E_ALPHA)
    e_beta = score(beta, other_evaluator, by_instructeur=instructeur, points=E_BETA)
    e_epsilon = score(
        epsilon, evaluator, by_instructeur=instructeur, points={"A1": 1}, submit=False
    )
    conflict = services.assign(beta, evaluator, by=instructeur)
    services.declare_conflict(
        conflict, by=evaluator, has_conflict=True, note="Ancien salarié de la structure"
    )
    undeclared = services.assign(delta, evaluator, by=instructeur)
    their_draft = services.assign(delta, other_evaluator, by=instructeur)
    services.declare_conflict(their_draft, by=other_evaluator, has_conflict=False)
    services.save_evaluation(
        their_draft,
        by=other_evaluator,
        scores={sub.pk: 2 for sub in SubCriterion.objects.filter(criterion__call=call2)},
        justifications={},
        comment="Brouillon de la Mission Delta réservée",
    )

    services.set_consensus(
        epsilon, by=instructeur, total=Decimal("62.5"), reason="Harmonisation confidentielle"
    )
    services.record_opinion(
        alpha, by=ddets_reader, kind="favourable", comment="Avis confidentiel de la DDETS"
    )
    services.record_decision(
        alpha,
        lot,
        by=instructeur,
        outcome="selected",
        amount_granted=Decimal("20000"),
        fte_granted=Decimal("0.5"),
    )
    services.record_decision(
        beta, lot, by=instructeur, outcome="not_selected", reason="Refus motivé confidentiel"
    )
    services.record_decision(epsilon, lot, by=instructeur, outcome="waiting_list")
    # On the call's other lot: a record frozen on lot 1 would close the scoring of its
    # dossiers, and the matrix still scores, assigns and harmonises them. It is frozen at
    # a first meeting, which no longer changes; a second one is still open.
    frozen_meeting = quorate_meeting(call, by=instructeur, place="Salle frappée du sceau")
    record = CommitteeRecord(
        call=call,
        lot=call.lots.exclude(pk=lot.pk).get(),
        meeting=frozen_meeting,
        snapshot={"rows": [["1", alpha.organisation.name]]},
        created_by=instructeur,
        sha256=hashlib.sha256(b"%PDF-1.4 Communaute Alpha secrete 81,25").hexdigest(),
    )
    record.pdf.save("PV.pdf", ContentFile(b"%PDF-1.4 Communaute Alpha secrete 81,25"), save=False)
    record.save()
    open_meeting = quorate_meeting(call, by=instructeur)
    committee.save_member(
        open_meeting,
        by=instructeur,
        name="Laure Liée",
        organisation="Maison de l'emploi",
        role="Directrice",
        seat="member",
        is_ddets=False,
        user=None,
        interests="declared",
        dossiers=[beta],
        nature="Lien confidentiel du membre",
    )
    letters = {}
    for dossier in (alpha, beta):
        # Sent letters (their dossiers' decisions are notified, hence frozen).
        letter = NotificationLetter(
            candidature=dossier,
            created_by=instructeur,
            sent_by=instructeur,
            status=LetterStatus.SENT,
            queued_at=timezone.now(),
            sent_at=timezone.now(),
        )
        letter.pdf.save(
            f"Notification-{dossier.pk}.pdf",
            ContentFile(f"%PDF-1.4 {dossier.organisation.name}".encode()),
            save=False,
        )
        letter.save()
        letters[dossier] = letter
    Reading.objects.all().delete()  # only the matrix's own readings count below
    return {
        "call": call,
        "call2": call2,
        "lot": lot,
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "epsilon": epsilon,
        "delta": delta,
        "mine_submitted": e_alpha.assignment,
        "mine_draft": e_epsilon.assignment,
        "mine_conflict": conflict,
        "mine_undeclared": undeclared,
        "theirs_submitted": e_beta.assignment,
        "theirs_draft": their_draft,
        "evaluation_alpha": e_alpha,
        "record": record,
        "frozen_meeting": frozen_meeting,
        "open_meeting": open_meeting,
        "letters": letters,
        "documents": {d: Document.objects.get(candidature=d) for d in (alpha, beta, delta)},
        "users": {
            "anonymous": None,
            "candidate": candidate,
            "other_candidate": other_candidate,
            "instructeur": instructeur,
            "evaluator": evaluator,
            "other_evaluator": other_evaluator,
            "ddets_reader": ddets_reader,
        },
    }


# --- The matrix ------------------------------------------------------------------------------


def only(**allowed):
    """Everyone refused (anonymous sent to log in, the others 403) except ``allowed``."""
    return {"anonymous": LOGIN, **dict.fromkeys(PERSONAS[1:], 403), **allowed}


def readers(status):
    """Instructeurs and the DDETS."""
    return only(instructeur=status, ddets_reader=status)


def mine(status):
    """An assignment of the evaluator: the other evaluator does not find it."""
    return only(evaluator=status, other_evaluator=404)


def theirs(status):
    """An assignment of the other evaluator: the evaluator does not find it."""
    return only(other_evaluator=status, evaluator=404)


def letter_of(owner, status):
    """A letter: its organisation's members and the staff who read; nobody else finds it."""
    expected = {**dict.fromkeys(PERSONAS, 404), "anonymous": LOGIN}
    if owner is not None:
        expected.update({owner: status, "instructeur": status, "ddets_reader": status})
    return expected


def matrix(w):
    """(URL name, args, {persona: GET status}, POST data, {persona: POST status})."""
    call, lot = w["call"].pk, w["lot"].pk
    alpha, beta, gamma, epsilon = (w[k].pk for k in ("alpha", "beta", "gamma", "epsilon"))
    docs = {dossier.pk: document.pk for dossier, document in w["documents"].items()}
    grid = {
        "scale_max": "4",
        "levels": "Nul\nFaible\nMoyen\nBon\nExcellent",
        "evaluators_per_dossier": "3",
        "disagreement_threshold": "20",
        **{f"weight_{c.pk}": str(c.weight) for c in Criterion.objects.filter(call=w["call"])},
    }
    scores = {
        **{f"score_{s.pk}": "2" for s in SubCriterion.objects.all()},
        **{f"justification_{c.pk}": "Motivé" for c in Criterion.objects.all()},
        "comment": "Modifié",
        "save": "1",
    }
    a = {key: w[key].pk for key in w if key.startswith(("mine_", "theirs_"))}
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    quorum = {"min_members": "2", "ddets_required": "on"}
    meeting = {"day": tomorrow.isoformat(), "time": "14:00", "place": "Salle du conseil"}
    member = {
        "name": "Marc Membre",
        "organisation": "Pôle emploi",
        "role": "Directeur",
        "seat": "member",
        "interests": "none",
    }
    readmission = {
        "reason": "Recours gracieux",
        f"outcome_{lot}": "selected",
        f"amount_granted_{lot}": "1000",
        f"fte_granted_{lot}": "0,1",
    }
    open_member = w["open_meeting"].members.get(seat="secretary").pk
    frozen_member = w["frozen_meeting"].members.get(seat="secretary").pk
    return [
        ("admissibility", [call], only(instructeur=200), {}, only(instructeur=405)),
        (
            "admissibility_decide",
            [gamma],
            only(instructeur=200),
            {"outcome": "inadmissible", "reason": "Un autre motif"},
            only(instructeur=302),
        ),
        # Gamma's inadmissibility is not notified: the rectification is refused (400),
        # the page says to use the ordinary form; nobody else reaches it.
        (
            "admissibility_rectify",
            [gamma],
            only(instructeur=200),
            readmission,
            only(instructeur=400),
        ),
        (
            "admissibility_rectify_preview",
            [gamma],
            only(instructeur=200),
            readmission,
            only(instructeur=400),
        ),
        ("grid", [call], only(instructeur=200), grid, only(instructeur=302)),
        (
            "assignments",
            [call],
            only(instructeur=200),
            {"candidature": epsilon, "evaluator": w["users"]["other_evaluator"].pk},
            only(instructeur=302),
        ),
        ("rankings", [], readers(200), {}, readers(405)),
        ("ranking", [call, lot], readers(200), {}, readers(405)),
        ("ranking_export", [call, lot, "csv"], readers(200), {}, readers(405)),
        ("ranking_export", [call, lot, "xlsx"], readers(200), {}, readers(405)),
        ("ranking_export", [call, lot, "pdf"], readers(200), {}, readers(405)),
        ("ranking_export", [call, lot, "doc"], readers(404), {}, readers(405)),
        # The lot of one call through the address of another: never found.
        ("ranking", [w["call2"].pk, lot], readers(404), {}, readers(405)),
        ("committee_record", [call, lot], only(instructeur=200), {}, only(instructeur=302)),
        ("committee_record_download", [w["record"].pk], readers(200), {}, readers(405)),
        # Lot 1 has no frozen record: the notification is refused and changes nothing.
        ("notify", [call], only(instructeur=200), {}, only(instructeur=400)),
        ("dossier", [alpha], readers(200), {}, readers(405)),
        (
            "consensus",
            [alpha],
            only(instructeur=405),
            {"total": "70", "reason": "Réunion du comité"},
            only(instructeur=302),
        ),
        # The DDETS's own write; instructeurs do not give the State's opinion.
        (
            "opinion",
            [alpha],
            only(ddets_reader=405),
            {"kind": "reserved", "comment": "Revu"},
            only(ddets_reader=302),
        ),
        (
            "decision",
            [epsilon, lot],
            only(instructeur=405),
            {f"lot{lot}-outcome": "not_selected", f"lot{lot}-reason": "Motif du comité"},
            only(instructeur=302),
        ),
        # Alpha's letter is sent: its decision is frozen (409), a rectification changes it.
        (
            "decision",
            [alpha, lot],
            only(instructeur=405),
            {f"lot{lot}-outcome": "waiting_list"},
            only(instructeur=409),
        ),
        (
            "rectify",
            [alpha, lot],
            only(instructeur=405),
            {f"lot{lot}-outcome": "waiting_list", f"lot{lot}-reason": "Recours gracieux"},
            only(instructeur=302),
        ),
        # The letter a rectification would send: read, never written.
        (
            "rectify_preview",
            [alpha, lot],
            only(instructeur=405),
            {f"lot{lot}-outcome": "waiting_list", f"lot{lot}-reason": "Recours gracieux"},
            only(instructeur=200),
        ),
        # Letters before they leave: the call's terms, a dossier's paragraphs and preview.
        (
            "letter_terms",
            [call],
            only(instructeur=200),
            {"letter_signatory_name": "Jeanne Martin"},
            only(instructeur=302),
        ),
        (
            "letter_draft",
            [epsilon],
            only(instructeur=200),
            {"opening": "Paragraphe propre", "closing": ""},
            only(instructeur=302),
        ),
        # Alpha's letter left: its paragraphs no longer change.
        (
            "letter_draft",
            [alpha],
            only(instructeur=200),
            {"opening": "Après coup", "closing": ""},
            only(instructeur=400),
        ),
        ("letter_preview", [beta, "html"], only(instructeur=200), {}, only(instructeur=405)),
        ("letter_preview", [beta, "pdf"], only(instructeur=200), {}, only(instructeur=405)),
        ("letter_preview", [beta, "doc"], only(instructeur=404), {}, only(instructeur=405)),
        (
            "reopen",
            [w["evaluation_alpha"].pk],
            only(instructeur=405),
            {"note": "Erreur de saisie"},
            only(instructeur=302),
        ),
        (
            "my_evaluations",
            [],
            only(evaluator=200, other_evaluator=200),
            {},
            only(evaluator=405, other_evaluator=405),
        ),
        ("declare", [a["mine_undeclared"]], mine(200), {"has_conflict": "no"}, mine(302)),
        # Declared once: a second declaration is refused (400) and changes nothing.
        ("declare", [a["mine_conflict"]], mine(200), {"has_conflict": "no"}, mine(400)),
        ("declare", [a["theirs_draft"]], theirs(200), {"has_conflict": "yes"}, theirs(400)),
        ("score", [a["mine_draft"]], mine(200), scores, mine(302)),
        # Submitted: the evaluator reads it; a change is refused (409) until reopened.
        ("score", [a["mine_submitted"]], mine(200), scores, mine(409)),
        ("score", [a["mine_undeclared"]], mine(DECLARE), scores, mine(DECLARE)),
        ("score", [a["mine_conflict"]], mine(403), scores, mine(403)),
        ("score", [a["theirs_submitted"]], theirs(200), scores, theirs(409)),
        ("score", [a["theirs_draft"]], theirs(200), scores, theirs(302)),
        ("evaluator_download", [a["mine_submitted"], docs[alpha]], mine(200), {}, mine(405)),
        # Another dossier's file through one's own assignment: never found.
        ("evaluator_download", [a["mine_submitted"], docs[beta]], mine(404), {}, mine(405)),
        ("evaluator_download", [a["mine_conflict"], docs[beta]], mine(403), {}, mine(403)),
        (
            "evaluator_download",
            [a["mine_undeclared"], docs[w["delta"].pk]],
            mine(403),
            {},
            mine(403),
        ),
        ("evaluator_download", [a["theirs_submitted"], docs[beta]], theirs(200), {}, theirs(405)),
        ("letter", [alpha], letter_of("candidate", 200), {}, letter_of("candidate", 405)),
        (
            "letter",
            [beta],
            letter_of("other_candidate", 200),
            {},
            letter_of("other_candidate", 405),
        ),
        ("letter", [epsilon], letter_of(None, 200), {}, letter_of(None, 405)),
        (
            "letter_file",
            [alpha, w["letters"][w["alpha"]].pk],
            letter_of("candidate", 200),
            {},
            letter_of("candidate", 405),
        ),
        # A letter through another dossier's address: never found.
        (
            "letter_file",
            [beta, w["letters"][w["alpha"]].pk],
            letter_of(None, 200),
            {},
            letter_of(None, 405),
        ),
        # The selection committee: the DDETS reads it, instructeurs manage it. Call 1's
        # quorum rule froze with its record (400); call 2 has none yet.
        ("committee", [call], readers(200), quorum, only(instructeur=400)),
        ("committee", [w["call2"].pk], readers(200), quorum, only(instructeur=302)),
        ("meeting_create", [call], only(instructeur=200), meeting, only(instructeur=302)),
        ("meeting", [w["open_meeting"].pk], readers(200), meeting, only(instructeur=302)),
        # A record was frozen at this one: it refuses every change (400, 409).
        ("meeting", [w["frozen_meeting"].pk], readers(200), meeting, only(instructeur=400)),
        (
            "member_create",
            [w["open_meeting"].pk],
            only(instructeur=200),
            member,
            only(instructeur=302),
        ),
        (
            "member_create",
            [w["frozen_meeting"].pk],
            only(instructeur=200),
            member,
            only(instructeur=400),
        ),
        ("member", [open_member], only(instructeur=200), member, only(instructeur=302)),
        ("member", [frozen_member], only(instructeur=200), member, only(instructeur=400)),
        ("member_delete", [open_member], only(instructeur=405), {}, only(instructeur=302)),
        ("member_delete", [frozen_member], only(instructeur=405), {}, only(instructeur=409)),
    ]


# --- What the database holds -------------------------------------------------------------------


def snapshot():
    return {
        "calls": sorted(Call.objects.values_list("pk", "status", "scoring_locked_at")),
        "weights": sorted(Criterion.objects.values_list("pk", "weight")),
        "grids": sorted(
            ScoringGrid.objects.values_list(
                "pk", "scale_max", "levels", "due_at", "evaluators_per_dossier"
            )
        ),
        "factors": sorted(SubCriterionFactor.objects.values_list("pk", "factor")),
        "admissibility": sorted(
            Admissibility.objects.values_list("candidature", "outcome", "reason", "decided_at")
        ),
        "admissibility_changes": AdmissibilityChange.objects.count(),
        "assignments": sorted(
            Assignment.objects.values_list(
                "pk", "candidature", "evaluator", "conflict", "conflict_note", "declared_at"
            )
        ),
        "evaluations": sorted(
            Evaluation.objects.values_list(
                "pk", "status", "total", "overall_comment", "submitted_at", "updated_at"
            )
        ),
        "scores": sorted(Score.objects.values_list("pk", "evaluation", "subcriterion", "value")),
        "justifications": sorted(Justification.objects.values_list("pk", "text")),
        "status_changes": EvaluationStatusChange.objects.count(),
        "consensus": sorted(Consensus.objects.values_list("candidature", "total", "reason")),
        "opinions": sorted(Opinion.objects.values_list("pk", "kind", "comment", "updated_at")),
        "decisions": sorted(
            Decision.objects.values_list(
                "pk", "lot", "outcome", "amount_granted", "fte_granted", "reason", "decided_at"
            )
        ),
        "committee_records": sorted(CommitteeRecord.objects.values_list("pk", "pdf")),
        "quorum_rules": sorted(QuorumRule.objects.values_list("call", "min_members")),
        "meetings": sorted(CommitteeMeeting.objects.values_list("pk", "starts_at", "place")),
        "members": sorted(
            CommitteeMember.objects.values_list(
                "pk", "name", "seat", "interests", "interest_nature", "interest_dossiers"
            )
        ),
        "letters": sorted(
            NotificationLetter.objects.values_list("pk", "pdf", "sent_at", "status", "opening")
        ),
        "letter_terms": sorted(Call.objects.values_list("pk", "letter_signatory_name")),
        "rectifications": DecisionRectification.objects.count(),
        "admissibility_rectifications": AdmissibilityRectification.objects.count(),
        "revisions": (
            DecisionRevision.objects.count(),
            ConsensusRevision.objects.count(),
            OpinionRevision.objects.count(),
        ),
        "readings": Reading.objects.count(),
        "emails": OutgoingEmail.objects.count(),
    }


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def attempt(client, method, url, data):
    """The response, its body and the database before and after, then undo the request."""
    with transaction.atomic():
        before = snapshot()
        response = client.get(url) if method == "GET" else client.post(url, data)
        body = body_of(response)
        after = snapshot()
        transaction.set_rollback(True)
    return response, body, before, after


def answered(response, expected, url_args) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(
            reverse("accounts:login")
        )
    if expected == DECLARE:
        return response.status_code == 302 and response["Location"] == reverse(
            "evaluation:declare", args=url_args[:1]
        )
    if expected == 302:
        return response.status_code == 302 and not response["Location"].startswith(
            reverse("accounts:login")
        )
    return response.status_code == expected


def run_matrix(world, client_for, persona, method):
    client = client_for(world["users"][persona])
    failures = []
    for name, args, get_expected, data, post_expected in matrix(world):
        expected = (get_expected if method == "GET" else post_expected)[persona]
        url = reverse(f"evaluation:{name}", args=args)
        response, body, before, after = attempt(client, method, url, data)
        where = f"{persona} {method} {url}"
        if not answered(response, expected, args):
            failures.append(f"{where}: {response.status_code}, expected {expected}")
            continue
        if method == "POST" and expected == 302:
            # An accepted write: the refusals elsewhere are the rule's, not a dead URL's.
            if after == before:
                failures.append(f"{where}: accepted but changed nothing")
            continue
        if method == "GET" and expected == 200:
            continue
        if after != before:
            changed = sorted(key for key in before if before[key] != after[key])
            failures.append(f"{where}: refused ({expected}) but changed {changed}")
        if expected in REFUSALS:
            shown = [secret for secret in SECRETS if secret.encode() in body]
            if shown:
                failures.append(f"{where}: refused ({expected}) but shows {shown}")
    return failures


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_persona_gets_what_it_should_on_every_get(world, client_for, persona):
    assert run_matrix(world, client_for, persona, "GET") == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_persona_gets_what_it_should_on_every_post(world, client_for, persona):
    assert run_matrix(world, client_for, persona, "POST") == []


# --- The matrix itself -------------------------------------------------------------------------


def test_every_evaluation_url_is_in_the_matrix_for_every_persona(world):
    names = {pattern.name for pattern in evaluation_patterns}
    rows = matrix(world)
    assert {name for name, *_rest in rows} == names
    for name, _args, get_expected, _data, post_expected in rows:
        assert set(get_expected) == set(PERSONAS), name
        assert set(post_expected) == set(PERSONAS), name


def test_the_ddets_reader_writes_nothing_but_its_opinion(world):
    """Every POST of the matrix answers 403, 404 or 405 to the DDETS, except the opinion."""
    for name, _args, _get, _data, post_expected in matrix(world):
        if name != "opinion":
            assert post_expected["ddets_reader"] in (403, 404, 405), name


def test_evaluators_and_candidates_never_read_rankings_or_dossier_evaluations(world):
    reading = {"rankings", "ranking", "ranking_export", "committee_record_download", "dossier"}
    for name, _args, get_expected, _data, _post in matrix(world):
        if name in reading:
            for persona in ("candidate", "other_candidate", "evaluator", "other_evaluator"):
                assert get_expected[persona] == 403, (name, persona)


# --- What the allowed see, what the refused do not -------------------------------------------


def test_the_evaluator_reads_only_their_own_assignments(world, client_for):
    page = (
        client_for(world["users"]["evaluator"])
        .get(reverse("evaluation:my_evaluations"))
        .content.decode()
    )
    for key in ("alpha", "epsilon", "beta", "delta"):
        assert world[key].organisation.name in page, key
    theirs_page = (
        client_for(world["users"]["other_evaluator"])
        .get(reverse("evaluation:my_evaluations"))
        .content.decode()
    )
    assert world["beta"].organisation.name in theirs_page
    assert world["alpha"].organisation.name not in theirs_page
    assert world["epsilon"].organisation.name not in theirs_page


def test_declaring_no_conflict_opens_the_scoring_and_a_conflict_closes_it(world, client_for):
    client = client_for(world["users"]["evaluator"])
    undeclared = world["mine_undeclared"]
    score_url = reverse("evaluation:score", args=[undeclared.pk])
    assert client.get(score_url)["Location"] == reverse("evaluation:declare", args=[undeclared.pk])
    assert not Evaluation.objects.filter(assignment=undeclared).exists()
    response = client.post(
        reverse("evaluation:declare", args=[undeclared.pk]), {"has_conflict": "no"}
    )
    assert response["Location"] == score_url
    undeclared.refresh_from_db()
    assert undeclared.conflict == ConflictStatus.NONE
    assert world["delta"].organisation.name in client.get(score_url).content.decode()
    conflict = world["mine_conflict"]
    response = client.get(reverse("evaluation:score", args=[conflict.pk]))
    assert response.status_code == 403
    assert world["beta"].organisation.name not in response.content.decode()


def test_the_ddets_reader_reads_the_ranking_without_the_instructeurs_forms(world, client_for):
    client = client_for(world["users"]["ddets_reader"])
    call, lot = world["call"], world["lot"]
    page = client.get(reverse("evaluation:ranking", args=[call.pk, lot.pk])).content.decode()
    assert world["alpha"].organisation.name in page and "81,25" in page
    assert reverse("evaluation:committee_record", args=[call.pk, lot.pk]) not in page
    page = client.get(reverse("evaluation:dossier", args=[world["alpha"].pk])).content.decode()
    assert reverse("evaluation:opinion", args=[world["alpha"].pk]) in page
    assert reverse("evaluation:consensus", args=[world["alpha"].pk]) not in page
    assert reverse("evaluation:reopen", args=[world["evaluation_alpha"].pk]) not in page
    assert reverse("evaluation:decision", args=[world["alpha"].pk, lot.pk]) not in page
    assert list(Reading.objects.values_list("what", flat=True)) == ["évaluations"]


def test_a_candidate_downloads_only_their_own_letter(world, client_for):
    client = client_for(world["users"]["candidate"])
    response = client.get(reverse("evaluation:letter", args=[world["alpha"].pk]))
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body_of(response) == f"%PDF-1.4 {world['alpha'].organisation.name}".encode()
    response = client.get(reverse("evaluation:letter", args=[world["beta"].pk]))
    assert response.status_code == 404
    assert world["beta"].organisation.name.encode() not in response.content


def test_the_evaluator_downloads_the_dossier_file_as_an_attachment(world, client_for):
    assignment, document = world["mine_submitted"], world["documents"][world["alpha"]]
    response = client_for(world["users"]["evaluator"]).get(
        reverse("evaluation:evaluator_download", args=[assignment.pk, document.pk])
    )
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body_of(response) == PDF


def test_the_world_holds_what_could_leak(world):
    """The matrix runs over drafts and submitted evaluations of two evaluators, a
    conflict, a consensus, an opinion, decisions, a committee record and letters."""
    statuses = sorted(Evaluation.objects.values_list("status", flat=True))
    assert statuses == sorted([EvaluationStatus.SUBMITTED] * 2 + [EvaluationStatus.DRAFT] * 2)
    assert Assignment.objects.filter(conflict=ConflictStatus.CONFLICT).count() == 1
    assert set(Assignment.objects.values_list("evaluator", flat=True)) == {
        world["users"]["evaluator"].pk,
        world["users"]["other_evaluator"].pk,
    }
    assert world["gamma"].admissibility.outcome == "inadmissible"
    assert Decision.objects.count() == 3 and Opinion.objects.count() == 1
    assert CommitteeRecord.objects.count() == 1 and NotificationLetter.objects.count() == 2
    assert world["evaluation_alpha"].total == Decimal("81.25")
