"""The demo data: the seed call loaded faithfully, a demonstration copy, one account per role."""

import datetime as dt
import io
import re
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from aap.models import Call, CallStatusChange, Criterion, Lot, RequiredDocument, SubCriterion
from aap.states import CallStatus
from candidatures.models import (
    Answer,
    Candidature,
    CandidatureStatusChange,
    Document,
    Organisation,
    PaperCopy,
    Receipt,
)
from candidatures.services import completeness
from core.models import OutgoingEmail, User
from demo import seed
from demo.dates import CallDates
from demo.loader import load_demo
from evaluation.models import (
    Admissibility,
    Assignment,
    Decision,
    Evaluation,
    EvaluationStatusChange,
    Opinion,
    Score,
)
from evaluation.states import AdmissibilityOutcome, ConflictStatus, EvaluationStatus
from evaluation.templatetags.evaluation_tags import score

# The published text, committed beside the demo (demo/source/README.md says whence).
SEED_FILE = Path(settings.BASE_DIR) / "demo" / "source" / "000_100a8835a1135cc9.txt"


def _normalise(text: str) -> str:
    return " ".join(text.replace("**", "").split())


# The demo is loaded on a fixed day (its copies' dates are relative to the loading), and
# the clock runs on from there.
LOADED_AT = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def loaded(db):
    with time_machine.travel(LOADED_AT, tick=True):
        yield load_demo(with_accounts=True)


def _plain(text: str) -> str:
    """Capitals without accents, as the published call prints its headings."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).upper()


def test_every_paragraph_of_the_seed_is_on_the_call(loaded):
    call = Call.objects.get(reference=seed.REFERENCE)
    stored = _normalise(
        " ".join(
            [
                call.context,
                call.objectives,
                call.actions_intro,
                call.actions_note,
                call.selection_intro,
                call.eligibility,
                call.partnership_terms,
                call.funding_terms,
                call.dossier_contents,
                call.submission_terms,
                call.paper_mail_address,
                call.hand_delivery_address,
                call.contact_details,
                call.contact_email,
                call.authority,
            ]
            + [action.label for action in call.expected_actions.all()]
        )
    )
    # Sections 1 to 5 of the seed, paragraph by paragraph, minus headings and the lists
    # that the platform shows from structured data (criteria, lots, calendar).
    text = SEED_FILE.read_text(encoding="utf-8")
    body = text[text.index("Cet appel à projets s'inscrit") :]
    skipped = re.compile(
        r"^(\d\. |- \*\*|Formalisation|Financements apportés|Calendrier|Constitution du dossier"
        r"|Dépôt des dossiers|- 31 juillet|- 17 septembre|- Démarrage|\s*- (Sensibilité|Politique"
        r"|Compétences|Capacité|Moyens|Environnement|Partenariats)|Les candidatures déposées"
        r"|Autorité|Direction des|Service Insertion|L'exemplaire électronique|Pour toute question"
        r"|Le dossier pourra|L'exemplaire papier est|Département de l'Isère$|Madame|7 rue|38022|Cité"
        r"|1er étage|17-19|38000)"
    )
    missing = [
        line
        for line in (raw.strip() for raw in body.splitlines())
        if line and not skipped.match(line) and _normalise(line.lstrip("- ")) not in stored
    ]
    assert missing == []


def test_the_seed_call_names_its_programme_with_its_years(loaded, client):
    call = Call.objects.get(reference=seed.REFERENCE)
    heading = next(
        line.strip()
        for line in SEED_FILE.read_text(encoding="utf-8").splitlines()
        if line.startswith("PROGRAMME")
    )
    assert heading == "PROGRAMME DEPARTEMENTAL D'INSERTION VERS L'EMPLOI (PDI-E) 2023-2027"
    assert _plain(call.programme.title) == heading
    page = client.get(call.get_absolute_url()).content.decode()
    assert escape(call.programme.title) in page


def test_the_seed_call_keeps_its_2024_dates_word_for_word(loaded):
    call = Call.objects.get(reference=seed.REFERENCE)
    assert call.year == 2024
    assert "au plus tard le 17 septembre 2024 à 17h00 (date de clôture" in call.submission_terms
    assert call.partnership_terms.startswith("Le démarrage de l'action est prévu à l'automne 2024.")
    assert call.start_expected == "Démarrage à envisager au plus tôt à l'automne 2024"
    names = [d.template_name for d in call.required_documents.exclude(template="")]
    assert names == [
        "Dossier de demande de financement - AAP 2024 FCS.docx",
        "Budgets prévisionnels - AAP 2024 FCS.xlsx",
        "Attestation d'engagement - AAP 2024 FCS.docx",
    ]


def _docx_text(document) -> str:
    with document.template.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as z:
        return re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode())


def _assert_names_its_own_dates(call, client):
    dates = CallDates(call.deadline)
    deadline_text = f"au plus tard le {dates.deadline_text}"
    assert dates.year != 2024 and call.year == dates.year
    assert deadline_text in call.submission_terms
    assert call.start_expected == f"Démarrage à envisager au plus tôt {dates.start_text}"
    assert call.partnership_terms.startswith(
        f"Le démarrage de l'action est prévu {dates.start_text}."
    )
    start_question = call.form_questions.get(label="Date de démarrage envisagée")
    assert (
        start_question.help_text == f"Le démarrage est à envisager au plus tôt {dates.start_text}."
    )
    funding_request = call.required_documents.filter(label=seed.FUNDING_REQUEST_LABEL).first()
    if call.funding_request_generated:
        # The open copy makes the dossier de demande from the answers: no DOCX to send.
        assert funding_request is None
        annex = ""
    else:
        assert (
            funding_request.template_name
            == f"Dossier de demande de financement - AAP {dates.year} FCS.docx"
        )
        annex = _docx_text(funding_request)
        assert f"Dossier à compléter et à retourner {deadline_text}," in annex
        assert f"Appel à projets {dates.year} – Co-animation" in annex
    page = client.get(call.get_absolute_url()).content.decode()
    assert deadline_text in page
    # Nothing names the 2024 calendar any more, in the texts or on the page.
    texts = " ".join(
        str(value) for value in Call.objects.filter(pk=call.pk).values().get().values()
    )
    for stale in ("17 septembre 2024", "automne 2024", "Appel à projets 2024"):
        assert stale not in texts and stale not in annex and stale not in page


def test_every_demo_copy_names_its_own_dates(loaded, client):
    copies = Call.objects.filter(is_demo=True).order_by("reference")
    assert [call.reference for call in copies] == [
        seed.DEMO_REFERENCE,
        seed.CONVENTION_REFERENCE,
        seed.REVIEW_REFERENCE,
    ]
    open_copy = copies[0]
    assert CallDates(open_copy.deadline).deadline_text == "6 janvier 2027 à 17h00"
    assert CallDates(open_copy.deadline).start_text == "à l'hiver 2026-2027"
    for call in copies:
        _assert_names_its_own_dates(call, client)


def test_the_season_of_the_start_follows_the_deadline():
    paris = ZoneInfo("Europe/Paris")
    starts = {
        month: CallDates(dt.datetime(2027, month, 17, 17, 0, tzinfo=paris)).start_text
        for month in range(1, 13)
    }
    assert starts == {
        1: "à l'hiver 2026-2027",
        2: "au printemps 2027",
        3: "au printemps 2027",
        4: "au printemps 2027",
        5: "à l'été 2027",
        6: "à l'été 2027",
        7: "à l'été 2027",
        8: "à l'automne 2027",
        9: "à l'automne 2027",
        10: "à l'automne 2027",
        11: "à l'hiver 2027-2028",
        12: "à l'hiver 2027-2028",
    }


def test_the_seed_call_is_closed_with_its_structure(loaded):
    call = Call.objects.get(reference=seed.REFERENCE)
    assert call.status == CallStatus.CLOSED
    assert call.programme.short_name == "PDI-E"
    assert [(lot.name, str(lot.fte)) for lot in call.lots.all()] == [
        ("Nord Isère", "0.50"),
        ("Sud Isère", "0.50"),
    ]
    criteria = list(call.criteria.prefetch_related("subcriteria"))
    assert [c.title for c in criteria] == [spec["title"] for spec in seed.CRITERIA]
    assert sum(c.weight for c in criteria) == 100
    assert [len(c.subcriteria.all()) for c in criteria] == [2, 2, 3]
    assert call.expected_actions.count() == 8
    documents = list(call.required_documents.all())
    assert len(documents) == 4
    assert all(document.mandatory for document in documents)
    assert [d.multiple for d in documents] == [False, True, False, True]
    assert [bool(d.template) for d in documents] == [True, True, True, False]
    assert call.paper_copy_required and call.hand_delivery_allowed
    assert call.priority_kinds == ["epci", "gip"]
    assert list(call.status_changes.values_list("to_status", flat=True)) == ["published", "closed"]


def test_the_templates_are_real_office_files(loaded):
    import magic

    call = Call.objects.get(reference=seed.REFERENCE)
    kinds = {}
    for document in call.required_documents.exclude(template=""):
        with document.template.open("rb") as handle:
            kinds[document.template_name.rsplit(".", 1)[1]] = magic.from_buffer(
                handle.read(), mime=True
            )
    assert kinds == {
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


def test_the_demo_copy_is_open_for_thirty_days(loaded):
    demo = Call.objects.get(reference=seed.DEMO_REFERENCE)
    assert demo.is_demo
    assert demo.is_open()
    local = timezone.localtime(demo.deadline)
    assert (local.hour, local.minute) == (17, 0)
    assert local.date() == timezone.localdate() + dt.timedelta(days=30)


def test_one_account_per_role(loaded):
    roles = {
        user.email: (sorted(user.role_names), user.is_superuser)
        for user in User.objects.filter(email__in=[spec["email"] for spec in seed.ACCOUNTS])
    }
    assert roles == {
        "admin@demo.example": ([], True),
        "instructeur@demo.example": (["evaluateur", "instructeur"], False),
        "evaluateur@demo.example": (["evaluateur"], False),
        "ddets@demo.example": (["lecteur DDETS"], False),
        "candidat@demo.example": (["candidat"], False),
    }
    assert User.objects.get(email="candidat@demo.example").check_password(seed.DEMO_PASSWORD)
    # The members of the other fictional organisations cannot log in.
    others = User.objects.exclude(email__in=roles)
    assert sorted(others.values_list("email", flat=True)) == [
        "porteur.bievre-valloire@demo.example",
        "porteur.clauses-territoires@demo.example",
        "porteur.gip-nord-dauphine@demo.example",
        "porteur.hauts-plateaux@demo.example",
        "porteur.trieves-sud@demo.example",
    ]
    assert not any(user.has_usable_password() for user in others)


def _counts():
    return [
        model.objects.count()
        for model in (
            Call,
            Lot,
            Criterion,
            SubCriterion,
            RequiredDocument,
            CallStatusChange,
            User,
            Organisation,
            Candidature,
            CandidatureStatusChange,
            Document,
            Answer,
            Receipt,
            PaperCopy,
            Admissibility,
            Assignment,
            Evaluation,
            EvaluationStatusChange,
            Score,
            OutgoingEmail,
        )
    ]


def test_running_it_twice_changes_nothing(loaded):
    before = _counts()
    deadline = Call.objects.get(reference=seed.DEMO_REFERENCE).deadline
    report = load_demo(with_accounts=True)
    assert report.created == []
    assert _counts() == before
    # Four in the call in instruction, three in the one whose agreements are running.
    assert Candidature.objects.count() == 7
    assert Call.objects.get(reference=seed.DEMO_REFERENCE).deadline == deadline


def test_an_expired_demo_is_reopened_for_thirty_more_days(loaded, client):
    later = timezone.now() + dt.timedelta(days=45)
    with time_machine.travel(later, tick=False):
        load_demo(with_accounts=False)
        demo = Call.objects.get(reference=seed.DEMO_REFERENCE)
        assert demo.is_open()
        assert timezone.localtime(demo.deadline).date() == timezone.localdate() + dt.timedelta(
            days=30
        )
        # Its texts and annexes name the new deadline, 20 February 2027.
        assert CallDates(demo.deadline).deadline_text == "20 février 2027 à 17h00"
        _assert_names_its_own_dates(demo, client)
    assert list(demo.status_changes.values_list("action", flat=True)) == [
        "publish",
        "close",
        "reopen",
    ]


def test_demo_accounts_need_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo")
    call_command("load_demo", no_accounts=True)
    assert not User.objects.exists()


# --- The copy in instruction ----------------------------------------------------------------


def _review_call():
    return Call.objects.get(reference=seed.REVIEW_REFERENCE)


def test_the_copy_in_instruction_is_under_review_since_a_deadline_ten_days_ago(loaded):
    call = _review_call()
    assert call.is_demo
    assert call.status == CallStatus.UNDER_REVIEW
    assert call.title.endswith(" (démonstration, en instruction)")
    local = timezone.localtime(call.deadline)
    assert (local.date(), local.hour, local.minute) == (
        timezone.localdate() - dt.timedelta(days=10),
        17,
        0,
    )
    history = list(call.status_changes.values_list("action", "to_status", "at"))
    assert [(action, to) for action, to, _at in history] == [
        ("publish", "published"),
        ("close", "closed"),
        ("start_review", "under_review"),
    ]
    assert history[1][2] == call.deadline
    # Built as the demo copy is.
    demo = Call.objects.get(reference=seed.DEMO_REFERENCE)
    for related in ("lots", "criteria", "form_questions", "indicators"):
        assert list(getattr(call, related).values_list("pk", flat=True)) != []
        assert getattr(call, related).count() == getattr(demo, related).count(), related
    # The open copy alone makes the dossier de demande from the answers.
    assert demo.funding_request_generated and not call.funding_request_generated
    assert call.required_documents.count() == demo.required_documents.count() + 1
    assert list(SubCriterion.objects.filter(criterion__call=call).values_list("title")) == list(
        SubCriterion.objects.filter(criterion__call=demo).values_list("title")
    )


def test_its_fictional_dossiers_were_submitted_on_time_with_consecutive_receipts(loaded):
    from stdnum.fr import siret

    call = _review_call()
    dossiers = list(
        Candidature.objects.filter(call=call).select_related("organisation").order_by("pk")
    )
    assert len(dossiers) == 4
    assert all(dossier.status == "submitted" for dossier in dossiers)
    names = [dossier.organisation.name for dossier in dossiers]
    assert all(re.search(r"\bfictif|\bfictive", name) for name in names), names
    assert all(name.endswith(" (démonstration)") for name in names), names
    assert all(siret.is_valid(dossier.organisation.siret) for dossier in dossiers)
    assert sorted(Lot.objects.filter(candidatures__in=dossiers).values_list("name", flat=True)) == [
        "Nord Isère",
        "Nord Isère",
        "Sud Isère",
        "Sud Isère",
    ]
    candidate = User.objects.get(email="candidat@demo.example")
    assert Candidature.objects.of_member(candidate).filter(call=call).count() == 1
    # The answer to "Montant sollicité" is the amount the ranking sets against the lot.
    assert sorted(dossier.requested_amount for dossier in dossiers) == [
        Decimal("19500"),
        Decimal("22000"),
        Decimal("23800"),
        Decimal("24500"),
    ]

    receipts = list(Receipt.objects.filter(call=call).order_by("sequence"))
    assert [r.number for r in receipts] == [
        f"{seed.REVIEW_REFERENCE}-{n:04d}" for n in (1, 2, 3, 4)
    ]
    times = [r.submitted_at for r in receipts]
    assert times == sorted(times) and times[-1] < call.deadline
    for receipt in receipts:
        dossier = receipt.candidature
        assert receipt.superseded_at is None
        assert dossier.submitted_at == receipt.submitted_at
        assert completeness(dossier) == []
        assert receipt.manifest["call"]["deadline"] == call.deadline.isoformat()
        assert sorted(d["sha256"] for d in receipt.manifest["documents"]) == sorted(
            dossier.documents.values_list("sha256", flat=True)
        )
        assert all(d.uploaded_at < dossier.submitted_at for d in dossier.documents.all())
        assert list(dossier.status_changes.values_list("action", "at")) == [
            ("submit", dossier.submitted_at)
        ]


def test_three_dossiers_are_admissible_and_one_inadmissible_with_its_reason(loaded):
    admissibility = {
        a.candidature.organisation.name: a
        for a in Admissibility.objects.filter(candidature__call=_review_call()).select_related(
            "candidature__organisation", "decided_by"
        )
    }
    outcomes = sorted(a.outcome for a in admissibility.values())
    assert outcomes == ["admissible", "admissible", "admissible", "inadmissible"]
    (refused,) = [a for a in admissibility.values() if a.outcome == "inadmissible"]
    assert "exemplaire papier" in refused.reason
    assert {c["code"]: c["ok"] for c in refused.checks}["paper_received"] is False
    assert {a.decided_by.email for a in admissibility.values()} == {"instructeur@demo.example"}
    for admitted in admissibility.values():
        if admitted.outcome == AdmissibilityOutcome.ADMISSIBLE:
            assert all(check["ok"] for check in admitted.checks), admitted.checks


def test_the_instructeur_has_scored_and_the_evaluator_has_work_to_do(loaded):
    call = _review_call()
    assert call.scoring_locked_at is not None
    due = timezone.localtime(call.scoring_grid.due_at)
    assert (due.hour, due.minute) == (17, 0)
    assert 13 <= (due.date() - timezone.localdate()).days <= 14
    assignments = Assignment.objects.filter(candidature__call=call).select_related("evaluator")
    by_evaluator = {}
    for assignment in assignments:
        by_evaluator.setdefault(assignment.evaluator.email, []).append(assignment)
        assert assignment.candidature.admissibility.outcome == AdmissibilityOutcome.ADMISSIBLE
    assert sorted((email, len(rows)) for email, rows in by_evaluator.items()) == [
        ("evaluateur@demo.example", 3),
        ("instructeur@demo.example", 3),
    ]
    assert {a.conflict for a in by_evaluator["instructeur@demo.example"]} == {ConflictStatus.NONE}
    # The demo evaluator has one declaration of interests to make, then scores to give.
    assert sorted(a.conflict for a in by_evaluator["evaluateur@demo.example"]) == [
        ConflictStatus.NONE,
        ConflictStatus.NONE,
        ConflictStatus.UNDECLARED,
    ]
    for assignment in by_evaluator["instructeur@demo.example"]:
        evaluation = assignment.evaluation
        assert evaluation.status == EvaluationStatus.SUBMITTED
        assert 0 < evaluation.total <= 100
        assert evaluation.scores.count() == 7
        assert evaluation.justifications.exclude(text="").count() == 3
    assert not Evaluation.objects.filter(
        assignment__evaluator__email="evaluateur@demo.example", assignment__candidature__call=call
    ).exists()
    assert not Opinion.objects.filter(candidature__call=call).exists()
    assert not Decision.objects.filter(candidature__call=call).exists()


def test_the_demo_evaluator_finds_its_evaluations_to_do(loaded, client):
    client.force_login(User.objects.get(email="evaluateur@demo.example"))
    response = client.get("/evaluations/")
    assert response.status_code == 200
    page = response.content.decode()
    admitted = Candidature.objects.filter(
        call=_review_call(), admissibility__outcome=AdmissibilityOutcome.ADMISSIBLE
    )
    for dossier in admitted:
        assert dossier.organisation.name in page
    assert page.count("À évaluer") == 2
    assert page.count("Déclaration d'intérêts à faire") == 1
    assert "Association fictive Clauses et Territoires" not in page
    mine = Assignment.objects.filter(evaluator__email="evaluateur@demo.example")
    declared = mine.filter(conflict=ConflictStatus.NONE).first()
    assert client.get(f"/evaluations/{declared.pk}/").status_code == 200
    # Before its declaration, the dossier is not shown: the declaration page asks for it.
    pending = mine.get(conflict=ConflictStatus.UNDECLARED)
    response = client.get(f"/evaluations/{pending.pk}/")
    assert response.status_code == 302
    assert response["Location"] == reverse("evaluation:declare", args=[pending.pk])


def test_the_ddets_reads_each_lot_ranking_with_the_instructeur_totals(loaded, client):
    call = _review_call()
    client.force_login(User.objects.get(email="ddets@demo.example"))
    for lot in call.lots.all():
        response = client.get(f"/gestion/appels/{call.pk}/classement/{lot.pk}/")
        assert response.status_code == 200
        page = response.content.decode()
        evaluations = Evaluation.objects.filter(
            assignment__candidature__lots=lot,
            assignment__evaluator__email="instructeur@demo.example",
        ).select_related("assignment__candidature__organisation")
        assert evaluations.count() == 2 if lot.name == "Nord Isère" else 1
        for evaluation in evaluations:
            assert evaluation.assignment.candidature.organisation.name in page
            assert score(evaluation.total) in page


def test_without_accounts_there_is_no_demo_dossier(db):
    call_command("load_demo", no_accounts=True)
    assert not Candidature.objects.exists()
    assert not Call.objects.filter(reference=seed.REVIEW_REFERENCE).exists()
    assert Call.objects.filter(reference=seed.DEMO_REFERENCE).exists()


def test_the_command_reports_the_dossiers_once(db, capsys):
    call_command("load_demo", allow_without_debug=True)
    first = capsys.readouterr().out
    assert f"Créé : {seed.REVIEW_REFERENCE}-0004 : dossier déposé de " in first
    assert "3 dossiers recevables, 1 irrecevable" in first
    call_command("load_demo", allow_without_debug=True)
    assert "rien à faire" in capsys.readouterr().out
    assert Receipt.objects.filter(call__reference=seed.REVIEW_REFERENCE).count() == 4
    assert Receipt.objects.filter(call__reference=seed.CONVENTION_REFERENCE).count() == 3
