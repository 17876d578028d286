"""The bordereau d'élimination from its draft to the archives' visa and the elimination.

Every move goes through ``core.workflow`` (row lock, allowed moves, history); only an
administrator acts on a bordereau. Nothing here deletes anything: the elimination itself
is ``retention.elimination``, run by a task, and refuses a bordereau without a visa."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from core.workflow import Workflow
from retention import rules
from retention.models import Bordereau, BordereauItem, BordereauStatusChange
from retention.queries import due
from retention.states import (
    BORDEREAU_TRANSITIONS,
    BordereauAction,
    BordereauStatus,
)

WORKFLOW = Workflow(
    transitions=BORDEREAU_TRANSITIONS,
    statuses=BordereauStatus,
    actions=BordereauAction,
    history_model=BordereauStatusChange,
    history_field="bordereau",
)


class NotAnAdministrator(DomainError):
    """Only an administrator acts on a bordereau d'élimination."""


def _refuse_unless_administrator(user) -> None:
    if user is None or not rules.is_administrator(user):
        raise NotAnAdministrator(
            _("Seul un administrateur de la plateforme agit sur un bordereau d'élimination.")
        )


def prepare_draft(*, on: dt.date) -> Bordereau | None:
    """The draft bordereau, created or brought up to date with what is due on ``on``;
    None when nothing is due and no draft exists. A bordereau already sent never changes."""
    with transaction.atomic():
        draft = Bordereau.objects.select_for_update().filter(status=BordereauStatus.DRAFT).first()
        items = due(on=on)
        if draft is None:
            if not items:
                return None
            try:
                with transaction.atomic():
                    draft = Bordereau.objects.create(listed_on=on)
            except IntegrityError:  # another run made it meanwhile
                draft = Bordereau.objects.select_for_update().get(status=BordereauStatus.DRAFT)
        draft.items.all().delete()
        BordereauItem.objects.bulk_create(
            BordereauItem(
                bordereau=draft,
                category=item.category,
                call=item.call,
                candidature=item.candidature,
                account=item.account,
                reading=item.reading,
                email=item.email,
                label=item.label[:300],
                started_on=item.started_on,
                due_on=item.due_on,
                file_count=item.file_count,
                volume=item.volume,
            )
            for item in items
        )
        draft.listed_on = on
        draft.updated_at = timezone.now()
        draft.save(update_fields=["listed_on", "updated_at"])
    return draft


def generate_draft(*, by, on: dt.date | None = None) -> Bordereau | None:
    """« Générer » on the staff page: the same as the daily task, by an administrator."""
    _refuse_unless_administrator(by)
    return prepare_draft(on=on or timezone.localdate())


def _next_number(year: int) -> str:
    prefix = f"BE-{year}-"
    taken = Bordereau.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{taken + 1:03d}"


def send_to_archives(bordereau: Bordereau, *, by) -> Bordereau:
    """Freeze the list and give it its number: it leaves for the archives' visa."""
    _refuse_unless_administrator(by)

    def check(row):
        if not row.items.exists():
            raise DomainError(_("Ce bordereau ne liste rien : il n'y a rien à envoyer."))

    now = timezone.now()
    with transaction.atomic():
        # One numbering at a time: the table's lock orders concurrent sendings.
        list(Bordereau.objects.select_for_update().filter(number__isnull=False).values("pk"))
        return WORKFLOW.apply(
            bordereau,
            BordereauAction.SEND,
            by=by,
            check=check,
            updates={
                "number": _next_number(timezone.localdate(now).year),
                "sent_at": now,
                "sent_by": by,
                "updated_at": now,
            },
        )


def record_visa(
    bordereau: Bordereau,
    *,
    by,
    visa_date: dt.date,
    reference: str,
    signatory_name: str,
    signatory_title: str,
) -> Bordereau:
    """The archives' visa, as the signed bordereau came back: only then may anything of
    it be eliminated."""
    _refuse_unless_administrator(by)
    reference, signatory_name = reference.strip(), signatory_name.strip()
    if not reference or not signatory_name or visa_date is None:
        raise DomainError(
            _("Le visa se recopie tel qu'il est signé : sa date, sa référence et son signataire.")
        )

    def check(row):
        if visa_date > timezone.localdate():
            raise DomainError(_("La date du visa ne peut pas être dans le futur."))
        if visa_date < timezone.localdate(row.sent_at):
            raise DomainError(
                _("La date du visa précède l'envoi du bordereau aux archives : vérifiez-la.")
            )

    return WORKFLOW.apply(
        bordereau,
        BordereauAction.APPROVE,
        by=by,
        check=check,
        note=reference,
        updates={
            "visa_date": visa_date,
            "visa_reference": reference,
            "visa_signatory_name": signatory_name,
            "visa_signatory_title": signatory_title.strip(),
            "visa_recorded_by": by,
            "visa_recorded_at": timezone.now(),
            "updated_at": timezone.now(),
        },
    )


def refuse_visa(bordereau: Bordereau, *, by, reason: str) -> Bordereau:
    """The archives refused: nothing of the bordereau is eliminated, and its items are
    no longer listed as due until an administrator lists them again."""
    _refuse_unless_administrator(by)
    if not reason.strip():
        raise DomainError(_("Indiquez le motif du refus de visa donné par les archives."))
    return WORKFLOW.apply(
        bordereau,
        BordereauAction.REFUSE,
        by=by,
        note=reason.strip(),
        updates={"refusal_reason": reason.strip(), "updated_at": timezone.now()},
    )


def relist(bordereau: Bordereau, *, by) -> Bordereau:
    """After a refusal, the items become due again: the next draft lists them."""
    _refuse_unless_administrator(by)
    # One conditional update: a second click lists nothing twice.
    updated = Bordereau.objects.filter(
        pk=bordereau.pk, status=BordereauStatus.REFUSED, relisted_at__isnull=True
    ).update(relisted_at=timezone.now(), updated_at=timezone.now())
    if updated != 1:
        raise DomainError(_("Seuls les éléments d'un bordereau refusé se remettent en liste."))
    BordereauStatusChange.objects.create(
        bordereau=bordereau,
        action=BordereauAction.RELIST,
        from_status=BordereauStatus.REFUSED,
        to_status=BordereauStatus.REFUSED,
        by=by,
    )
    bordereau.refresh_from_db()
    return bordereau


def launch_elimination(bordereau: Bordereau, *, by) -> Bordereau:
    """The administrator starts the elimination of a visa'd bordereau; a task runs it
    after commit."""
    from retention.tasks import eliminate_bordereau  # the task module imports this one

    _refuse_unless_administrator(by)

    def check(row):
        if not row.has_visa:
            raise DomainError(_("Sans visa des archives, rien n'est éliminé."))

    row = WORKFLOW.apply(bordereau, BordereauAction.ELIMINATE, by=by, check=check)
    transaction.on_commit(lambda: eliminate_bordereau.delay(bordereau_id=row.pk))
    return row
