"""The elimination of a visa'd bordereau: files deleted from storage, personal data
anonymised, and a trace kept.

Refused without the archives' visa, whatever calls it (the task, a shell). Each item is
eliminated in its own transaction, and its files are deleted once that transaction has
committed: a run cut short leaves the items not yet done for the next run, and never a
row pointing to a file already gone. What public accounts require stays: the dossier, its
amounts requested, granted and paid, the organisation's name and SIRET, the decisions,
the dates, the committee's records, and the trace of the elimination itself."""

import logging

from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aap.models.form import KINDS_WITH_LENGTH
from archives.models import CallArchive
from candidatures.models import (
    Candidature,
    Invitation,
    Membership,
    Message,
    Organisation,
    PaperCopy,
    Reading,
    Receipt,
)
from core.accounts import mfa
from core.elimination import EliminationRefused, eliminating
from core.models import EmailStatus, OutgoingEmail, User
from core.roles import Role
from retention.models import Bordereau, BordereauItem
from retention.queries import cutoff, dossier_files, file_fields, stored_size
from retention.services import WORKFLOW
from retention.states import DOSSIER_CATEGORIES, BordereauAction, BordereauStatus, Category

logger = logging.getLogger(__name__)

ELIMINATED = "[éliminé]"


def refuse_without_visa(bordereau: Bordereau) -> None:
    if not bordereau.has_visa or bordereau.status != BordereauStatus.ELIMINATING:
        raise EliminationRefused(
            _(
                "Le bordereau %(number)s n'a pas le visa des archives (ou son élimination "
                "n'est pas lancée) : rien n'est supprimé."
            )
            % {"number": bordereau.number or "—"}
        )


def execute_elimination(bordereau_id: int) -> Bordereau:
    """Eliminate every item of the bordereau not yet eliminated, then close it with its
    trace. Raises ``EliminationRefused`` without a visa."""
    refuse_without_visa(Bordereau.objects.get(pk=bordereau_id))
    with transaction.atomic():
        bordereau = Bordereau.objects.select_for_update().get(pk=bordereau_id)
        refuse_without_visa(bordereau)
        _drop_call_archives(bordereau)
    pending = BordereauItem.objects.filter(bordereau_id=bordereau_id, eliminated_at__isnull=True)
    for item_id in pending.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            bordereau = Bordereau.objects.select_for_update().get(pk=bordereau_id)
            refuse_without_visa(bordereau)
            item = BordereauItem.objects.select_for_update().get(pk=item_id)
            if item.eliminated_at is None:
                eliminate_item(item)
    with transaction.atomic():
        bordereau = Bordereau.objects.select_for_update().get(pk=bordereau_id)
        if bordereau.status != BordereauStatus.ELIMINATING:
            return bordereau  # another run closed it
        return WORKFLOW.apply(
            bordereau,
            BordereauAction.COMPLETE,
            updates={
                "eliminated_at": timezone.now(),
                "trace": {**bordereau.trace, **trace_of(bordereau)},
            },
        )


def _drop_call_archives(bordereau: Bordereau) -> None:
    """A call's archive (``archives``: a ZIP of its dossiers) holds copies of the files to
    eliminate: the stored ZIPs of the calls concerned go too, after commit; their rows stay,
    with their size and SHA-256. Counted in the trace under ``call_archives``."""
    calls = bordereau.items.filter(category__in=DOSSIER_CATEGORIES).values("candidature__call")
    archives = CallArchive.objects.filter(call__in=calls).exclude(file="")
    names = list(archives.values_list("file", flat=True))
    volume = sum(stored_size(default_storage, name) for name in names)
    archives.update(file="")
    done = bordereau.trace.get("call_archives", {"files": 0, "bytes": 0})
    trace = {
        **bordereau.trace,
        "call_archives": {"files": done["files"] + len(names), "bytes": done["bytes"] + volume},
    }
    Bordereau.objects.filter(pk=bordereau.pk).update(trace=trace)
    transaction.on_commit(lambda: _delete_files(names))


def trace_of(bordereau: Bordereau) -> dict:
    """Per category: items listed, items eliminated, files and bytes deleted."""
    trace = {}
    for item in bordereau.items.all():
        row = trace.setdefault(
            item.category, {"listed": 0, "eliminated": 0, "kept": 0, "files": 0, "bytes": 0}
        )
        row["listed"] += 1
        if item.eliminated_at is None:
            row["kept"] += 1
        else:
            row["eliminated"] += 1
            row["files"] += item.files_deleted
            row["bytes"] += item.bytes_deleted
    return trace


def eliminate_item(item: BordereauItem) -> None:
    files, volume = 0, 0
    if item.category in DOSSIER_CATEGORIES:
        files, volume = eliminate_dossier(item.candidature)
    elif item.category == Category.INACTIVE_ACCOUNT:
        if not _still_inactive(item.account, item):
            logger.info("Account %s logged in since it was listed: kept", item.account_id)
            return
        anonymise_account(item.account)
    elif item.category == Category.READING_LOG:
        Reading.objects.filter(pk=item.reading_id).delete()
    elif item.category == Category.OUTBOX:
        OutgoingEmail.objects.filter(pk=item.email_id).exclude(
            status__in=[EmailStatus.PENDING, EmailStatus.SENDING]
        ).delete()
    item.eliminated_at = timezone.now()
    item.files_deleted, item.bytes_deleted = files, volume
    item.save(update_fields=["eliminated_at", "files_deleted", "bytes_deleted"])


def _still_inactive(user: User, item: BordereauItem) -> bool:
    """An account that logged in after it was listed is in use again: it is kept."""
    if not user.is_active:
        return True  # already anonymised with a dossier: nothing more to keep
    activity = user.last_login or user.date_joined
    return timezone.localdate(activity) <= item.started_on


# --- A dossier ---------------------------------------------------------------------------------


def eliminate_dossier(candidature: Candidature) -> tuple[int, int]:
    """Delete every file of the dossier and anonymise its personal data, through the
    models' own narrow path (``core.elimination.eliminating``); return the files deleted
    and their bytes."""
    stored = dossier_files([candidature.pk]).get(candidature.pk, [])
    with eliminating(candidature.pk):
        for document in candidature.documents.all():
            document.delete()
        for answer in candidature.answers.select_related("question"):
            if answer.question.kind in KINDS_WITH_LENGTH and answer.value not in (None, ""):
                answer.value = ELIMINATED
                answer.save(update_fields=["value", "updated_at"])
        for receipt in Receipt.objects.filter(candidature=candidature):
            manifest = receipt.manifest
            for document in manifest.get("documents", []):
                document["name"] = ELIMINATED
            Receipt.objects.filter(pk=receipt.pk).update(pdf="", manifest=manifest)
        for letter in candidature.notification_letters.all():
            letter.pdf, letter.opening, letter.closing = "", "", ""
            letter.save(update_fields=["pdf", "opening", "closing"])
        for convention in candidature.conventions.all():
            convention.document, convention.signed_scan = "", ""
            convention.signed_scan_name = ""
            convention.representative_name = ELIMINATED
            convention.save(
                update_fields=["document", "signed_scan", "signed_scan_name", "representative_name"]
            )
            for amendment in convention.amendments.all():
                amendment.document, amendment.signed_scan = "", ""
                amendment.signed_scan_name = ""
                amendment.save(update_fields=["document", "signed_scan", "signed_scan_name"])
            for report in convention.reports.all():
                report.file, report.file_name = "", ""
                report.save(update_fields=["file", "file_name"])
            # Who attended the progress reviews; their minutes stay, as the agreement's record.
            convention.reviews.update(participants=ELIMINATED)
        Message.objects.filter(candidature=candidature).update(
            body=ELIMINATED, **_cleared_files(Message)
        )
        PaperCopy.objects.filter(candidature=candidature).update(note="")
        Reading.objects.filter(candidature=candidature).delete()
        _anonymise_organisation(candidature)
    names = [name for name, _size in stored]
    transaction.on_commit(lambda: _delete_files(names))
    return len(stored), sum(size for _name, size in stored)


def _cleared_files(model) -> dict:
    """Every file field of ``model`` emptied, with the original name kept beside it
    (``<field>_name``), which may name a person."""
    cleared = {}
    for name in file_fields(model):
        cleared[name] = ""
        if any(field.name == f"{name}_name" for field in model._meta.concrete_fields):
            cleared[f"{name}_name"] = ""
    return cleared


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _anonymise_organisation(candidature: Candidature) -> None:
    """Once none of its dossiers is kept, the organisation keeps its name, SIRET and
    address (a legal person's), not its representative's identity; its members' accounts
    go too when nothing else needs them."""
    organisation = candidature.organisation
    eliminated = BordereauItem.objects.filter(
        candidature__organisation=organisation, eliminated_at__isnull=False
    ).values("candidature_id")
    kept = (
        Candidature.objects.filter(organisation=organisation)
        .exclude(pk=candidature.pk)
        .exclude(pk__in=eliminated)
    )
    if kept.exists():
        return
    Organisation.objects.filter(pk=organisation.pk).update(
        legal_representative_name=ELIMINATED,
        legal_representative_role="",
        legal_representative_email="",
    )
    Invitation.objects.filter(organisation=organisation).delete()
    members = User.objects.filter(memberships__organisation=organisation)
    for user in members:
        if not _account_needed(user, leaving=organisation):
            anonymise_account(user)


def _account_needed(user: User, *, leaving: Organisation) -> bool:
    """Staff, a member of another organisation, or someone who logged in within the
    inactive-account period keeps the account."""
    if user.is_staff or user.is_superuser or user.has_role(Role.INSTRUCTEUR):
        return True
    if any(user.has_role(role) for role in (Role.EVALUATEUR, Role.LECTEUR_DDETS)):
        return True
    if Membership.objects.filter(user=user).exclude(organisation=leaving).exists():
        return True
    activity = user.last_login or user.date_joined
    return activity >= cutoff(Category.INACTIVE_ACCOUNT, timezone.localdate())


def anonymise_account(user: User) -> None:
    """The account can no longer log in and names nobody: its row stays for the acts
    that name it (who submitted, who was notified)."""
    address = user.email
    User.objects.filter(pk=user.pk).update(
        email=f"compte-{user.pk}@elimine.invalid",
        first_name="",
        last_name="",
        phone="",
        job_title="",
        is_active=False,
        email_verified_at=None,
        password=make_password(None),
    )
    Membership.objects.filter(user=user).delete()
    Invitation.objects.filter(email__iexact=address).delete()
    mfa.forget_devices(user)  # its second factor (TOTP secret, recovery codes)
    # The messages sent to the account: they hold its address and name.
    OutgoingEmail.objects.filter(user=user).exclude(
        status__in=[EmailStatus.PENDING, EmailStatus.SENDING]
    ).delete()
