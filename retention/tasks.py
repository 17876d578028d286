"""Thin Celery wrappers: the daily listing (draft bordereau and warnings) and the
elimination of a visa'd bordereau."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from retention import elimination, services, warnings
from retention.models import Bordereau


@shared_task(name="retention.list_due")
def list_due() -> dict:
    """Every day: the draft bordereau brought up to date, inactive accounts warned."""
    today = timezone.localdate()
    draft = services.prepare_draft(on=today)
    warned = warnings.warn_inactive_accounts(on=today)
    return {"bordereau": draft.pk if draft else None, "warned": warned}


@shared_task(
    name="retention.eliminate_bordereau",
    # A database that restarts: the items not yet done are done by the retry.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=5,
)
def eliminate_bordereau(*, bordereau_id: int) -> str | None:
    """Runs only for a bordereau whose visa is recorded and whose elimination was launched;
    otherwise it refuses (``EliminationRefused``) and deletes nothing."""
    if not Bordereau.objects.filter(pk=bordereau_id).exists():
        return None
    return elimination.execute_elimination(bordereau_id).status
