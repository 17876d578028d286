"""The demo data: the seed call loaded faithfully, a demonstration copy, one account per role."""

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from aap.demo import seed
from aap.demo.loader import load_demo
from aap.models import Call, CallStatusChange, Criterion, Lot, RequiredDocument, SubCriterion, User
from aap.states import CallStatus

SEED_FILE = Path(settings.BASE_DIR).parent / "shared" / "seed" / "000_100a8835a1135cc9.txt"


def _normalise(text: str) -> str:
    return " ".join(text.replace("**", "").split())


@pytest.fixture
def loaded(db):
    return load_demo(with_accounts=True)


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
        for user in User.objects.prefetch_related("groups")
    }
    assert roles == {
        "admin@demo.example": ([], True),
        "instructeur@demo.example": (["instructeur"], False),
        "evaluateur@demo.example": (["evaluateur"], False),
        "ddets@demo.example": (["lecteur DDETS"], False),
        "candidat@demo.example": (["candidat"], False),
    }
    assert User.objects.get(email="candidat@demo.example").check_password(seed.DEMO_PASSWORD)


def _counts():
    return [
        model.objects.count()
        for model in (Call, Lot, Criterion, SubCriterion, RequiredDocument, CallStatusChange, User)
    ]


def test_running_it_twice_changes_nothing(loaded):
    before = _counts()
    deadline = Call.objects.get(reference=seed.DEMO_REFERENCE).deadline
    report = load_demo(with_accounts=True)
    assert report.created == []
    assert _counts() == before
    assert Call.objects.get(reference=seed.DEMO_REFERENCE).deadline == deadline


def test_an_expired_demo_is_reopened_for_thirty_more_days(loaded):
    later = timezone.now() + dt.timedelta(days=45)
    with time_machine.travel(later, tick=False):
        load_demo(with_accounts=False)
        demo = Call.objects.get(reference=seed.DEMO_REFERENCE)
        assert demo.is_open()
        assert timezone.localtime(demo.deadline).date() == timezone.localdate() + dt.timedelta(
            days=30
        )
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
