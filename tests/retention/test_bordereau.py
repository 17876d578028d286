"""The bordereau d'élimination: its workflow (draft, sent and frozen with a number, visa,
elimination, trace), only by an administrator; its PDF and CSV read back with every column;
the daily task that keeps the draft up to date; its beat entry."""

import csv
import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from core.exceptions import DomainError
from retention import documents, services
from retention.models import Bordereau, BordereauFrozen, BordereauItem
from retention.services import NotAnAdministrator
from retention.states import BordereauStatus, Category
from retention.tasks import list_due
from tests.pdf import pdf_text
from tests.retention.conftest import at_noon, years_after
from tests.retention.small import ORGANISATION, small_world

pytestmark = pytest.mark.django_db

DAY = years_after(5)  # the draft, the account and the e-mail are all due


@pytest.fixture
def small():
    return small_world()


def visa(bordereau, by, **changes):
    values = {
        "visa_date": timezone.localdate(),
        "reference": "AD38-2031-042",
        "signatory_name": "Hélène Archiviste",
        "signatory_title": "Directrice des archives départementales",
        **changes,
    }
    return services.record_visa(bordereau, by=by, **values)


def test_the_bordereau_walks_from_draft_to_done_and_its_list_freezes_once_sent(
    small, admin_user, client, django_capture_on_commit_callbacks
):
    with at_noon(DAY):
        draft = services.prepare_draft(on=DAY)
        assert sorted(draft.items.values_list("category", flat=True)) == [
            Category.INACTIVE_ACCOUNT,
            Category.NOT_SELECTED,
            Category.OUTBOX,
        ]
        # Prepared again: the same draft, brought up to date, never a second one.
        assert services.prepare_draft(on=DAY).pk == draft.pk
        assert Bordereau.objects.count() == 1 and draft.items.count() == 3
        sent = services.send_to_archives(draft, by=admin_user)
        assert (sent.status, sent.number) == (BordereauStatus.SENT, "BE-2031-001")
        # Its list holds, whichever path writes.
        item = sent.items.first()
        item.label = "Autre chose"
        with pytest.raises(BordereauFrozen):
            item.save()
        with pytest.raises(BordereauFrozen):
            item.delete()
        with pytest.raises(BordereauFrozen):
            BordereauItem.objects.create(
                bordereau=sent,
                category=Category.OUTBOX,
                label="Ajout",
                started_on=DAY,
                due_on=DAY,
            )
        # Everything due is held by the bordereau: no new draft.
        assert services.prepare_draft(on=DAY) is None
        for bad, message in [
            ({"visa_date": DAY + dt.timedelta(days=1)}, "futur"),
            ({"visa_date": DAY - dt.timedelta(days=1)}, "précède l'envoi"),
            ({"reference": "  "}, "référence"),
        ]:
            with pytest.raises(DomainError, match=message):
                visa(sent, admin_user, **bad)
        approved = visa(sent, admin_user)
        assert approved.status == BordereauStatus.APPROVED
        approved.visa_reference = "AUTRE"
        with pytest.raises(BordereauFrozen):
            approved.save()
        with django_capture_on_commit_callbacks(execute=True):
            services.launch_elimination(approved, by=admin_user)
    done = Bordereau.objects.get(pk=draft.pk)
    assert done.status == BordereauStatus.DONE
    # The message's attached CV is gone with its name, as the upload is.
    message = small["message"]
    assert not default_storage.exists(message.attachment.name)
    message.refresh_from_db()
    assert (message.attachment.name, message.attachment_name, message.body) == (
        "",
        "",
        "[éliminé]",
    )
    assert list(done.status_changes.values_list("action", flat=True)) == [
        "send",
        "approve",
        "eliminate",
        "complete",
    ]
    assert done.trace[Category.NOT_SELECTED]["eliminated"] == 1
    assert done.trace[Category.NOT_SELECTED]["files"] == 2  # the upload and the CV
    # The page shows the trace: when, under which visa, what per category.
    with at_noon(DAY):
        client.force_login(admin_user)
        page = client.get(reverse("retention:bordereau", args=[done.pk])).content.decode()
    assert "Trace de l&#x27;élimination" in page or "Trace de l'élimination" in page
    assert "AD38-2031-042" in page and "Hélène Archiviste" in page
    assert "Dossiers non retenus, irrecevables ou jamais déposés" in page


def test_only_an_administrator_acts_on_a_bordereau(small, admin_user, instructeur):
    with at_noon(DAY):
        with pytest.raises(NotAnAdministrator):
            services.generate_draft(by=instructeur)
        draft = services.generate_draft(by=admin_user)
        with pytest.raises(NotAnAdministrator):
            services.send_to_archives(draft, by=instructeur)
        sent = services.send_to_archives(draft, by=admin_user)
        with pytest.raises(NotAnAdministrator):
            visa(sent, instructeur)
        with pytest.raises(NotAnAdministrator):
            services.refuse_visa(sent, by=instructeur, reason="Non.")
        approved = visa(sent, admin_user)
        with pytest.raises(NotAnAdministrator):
            services.launch_elimination(approved, by=instructeur)
    approved.refresh_from_db()
    assert approved.status == BordereauStatus.APPROVED


def test_the_pdf_reads_back_the_authority_the_list_the_legal_basis_and_the_visa_block(
    small, admin_user
):
    with at_noon(DAY):
        draft = services.prepare_draft(on=DAY)
        sent = services.send_to_archives(draft, by=admin_user)
        text = pdf_text(documents.bordereau_pdf(sent), order="raw")
    for expected in [
        settings.AUTHORITY_NAME,
        settings.LEGAL_SERVICE,
        "Bordereau d'élimination d'archives publiques n° BE-2031-001",
        small["call"].reference,
        ORGANISATION,
        "Dossiers non retenus, irrecevables ou jamais déposés",
        "Comptes inactifs",
        "Courriels envoyés",
        f"Compte n° {small['member'].pk}",
        "6 décembre 2026",  # the periods' start
        "5 décembre 2031",  # the not-selected dossier's end: 5 × 365 days later
        "Instruction DAF/DPACI/RES/2009/018",
        "RGPD, art. 5-1-e",
        "Code du patrimoine, articles L. 212-2 et R. 212-14",
        "Visa du directeur des archives départementales",
        "Date du visa",
        "Nom et qualité du signataire",
        "Signature et cachet",
    ]:
        assert expected in text, expected
    assert small["member"].email not in text  # a bordereau names no one
    with at_noon(DAY):
        approved = visa(sent, admin_user)
        text = pdf_text(documents.bordereau_pdf(approved), order="raw")
    assert (
        "Visa accordé le 5 décembre 2031, référence AD38-2031-042, par Hélène Archiviste, "
        "Directrice des archives départementales"
    ) in text


def test_the_csv_reads_back_every_column_of_every_item(small, admin_user, client):
    with at_noon(DAY):
        draft = services.prepare_draft(on=DAY)
        client.force_login(admin_user)
        response = client.get(reverse("retention:bordereau_document", args=[draft.pk, "csv"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == documents.columns()
    by_category = {row[2]: row for row in rows[1:]}
    assert len(rows) == 4
    dossier = by_category["Dossiers non retenus, irrecevables ou jamais déposés"]
    document = small["dossier"].documents.get()
    assert dossier[0] == small["call"].reference
    # A name that a spreadsheet would run as a formula is written as text.
    assert dossier[1].startswith("'" + ORGANISATION)
    attachment = small["message"].attachment
    volume = document.size + attachment.size  # the upload and the message's attached CV
    assert dossier[3:7] == ["2026-12-06", "2031-12-05", "2", str(volume)]
    assert dossier[7].startswith("Instruction DAF/DPACI/RES/2009/018")
    assert dossier[8:] == ["", "0", "0"]  # not eliminated yet
    account = by_category["Comptes inactifs"]
    assert account[1] == f"Compte n° {small['member'].pk}"
    assert account[3:5] == ["2026-12-06", "2029-12-05"]
    email = by_category["Courriels envoyés"]
    assert int(email[6]) > 0  # the message's own bytes


def test_the_daily_task_keeps_one_draft_up_to_date(small):
    with at_noon(years_after(1)):
        first = list_due()
    assert first["bordereau"] is not None
    draft = Bordereau.objects.get(pk=first["bordereau"])
    assert list(draft.items.values_list("category", flat=True)) == [Category.OUTBOX]
    with at_noon(DAY):
        again = list_due()
        list_due()
    assert again["bordereau"] == draft.pk
    assert Bordereau.objects.count() == 1
    assert draft.items.count() == 3
    draft.refresh_from_db()
    assert draft.listed_on == DAY


def test_the_daily_entry_expires_before_the_next_run():
    entry = settings.CELERY_BEAT_SCHEDULE["retention-list-due"]
    assert entry["task"] == "retention.list_due"
    assert 0 < entry["options"]["expires"] < entry["schedule"]


def test_an_account_that_logs_in_after_it_was_listed_is_kept_by_the_elimination(
    small, admin_user, client, django_capture_on_commit_callbacks
):
    member = small["member"]
    with at_noon(DAY):
        draft = services.prepare_draft(on=DAY)
        draft.items.exclude(account=member).delete()
        sent = services.send_to_archives(draft, by=admin_user)
        approved = visa(sent, admin_user)
        client.force_login(member)  # the account is in use again
        with django_capture_on_commit_callbacks(execute=True):
            services.launch_elimination(approved, by=admin_user)
    member.refresh_from_db()
    assert member.is_active and member.email == small["member"].email
    done = Bordereau.objects.get(pk=draft.pk)
    assert done.status == BordereauStatus.DONE
    assert done.trace[Category.INACTIVE_ACCOUNT] == {
        "listed": 1,
        "eliminated": 0,
        "kept": 1,
        "files": 0,
        "bytes": 0,
    }
