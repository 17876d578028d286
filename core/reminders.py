"""The reminders engine: each app declares what is due, the sweep sends each reminder once.

An app registers *kinds* (``register``) in its ``AppConfig.ready``. A kind yields the
reminders due at a given instant (``Due``): who, about what, at which milestone. The sweep
keeps the ones not yet known, writes each as a ``Reminder`` and an outbox e-mail with the
same unique key, and queues the e-mails after commit. A second sweep, a duplicated task or
a worker killed mid-send sends nothing twice: the key is unique and an e-mail is claimed by
a conditional update before it is sent (``core.mail.deliver_email``); a mail server that is
down only delays it (the task retries, the outbox sweep queues it again).

Milestones are instants on a Paris clock (``milestone_at``): "7 days before the deadline"
is 8:00 in Paris seven days before, across daylight-saving changes; a milestone that would
fall at or after its event (the morning of a deadline at 7:00) is the day before. Only the
latest milestone reached is sent: a sweep that runs late does not send stale ones too.

A reminder is checked again when its e-mail is sent (``still_due``, called by
``core.mail.deliver_email``): one held back by a mail server outage is dropped if the
dossier was submitted meanwhile, or if a later milestone took its place.
"""

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dates import local_datetime
from core.links import absolute_url
from core.mail import EmailRenderer, dispatch_emails
from core.models import OutgoingEmail, Reminder, User
from core.roles import Role

logger = logging.getLogger(__name__)

MORNING = dt.time(8, 0)
BATCH = 1000


@dataclass(frozen=True)
class Setting:
    """An offset of a kind of reminder, set per call in the back-office (« Rappels »):
    days, several (« 7, 2, 0 ») or one, with the default each kind declares."""

    name: str
    label: str
    default: str
    help_text: str = ""
    many: bool = True


@dataclass(frozen=True)
class Due:
    """A reminder that should exist: ``kind``/``object_id``/``milestone`` and a recipient."""

    kind: str
    object_id: int | str
    milestone: str
    recipient_id: int
    recipient_email: str
    template: str
    context: dict = field(hash=False, compare=False)
    # What it is grouped under ("call:12") and how that reads (the call's reference).
    scope: str = ""
    scope_label: str = ""

    @property
    def key(self) -> str:
        return f"rappel:{self.kind}:{self.object_id}:{self.recipient_id}:{self.milestone}"


class ReminderKind:
    """One kind of reminder. Subclasses set ``name`` and ``label`` and implement ``due``."""

    name = ""
    label = ""
    # The offsets this kind reads, with their defaults (``Setting``).
    settings: tuple[Setting, ...] = ()

    def due(self, now: dt.datetime, only: int | str | None = None) -> Iterable[Due]:
        """The reminders due at ``now``; with ``only``, those about that one object (the
        object id of their keys), to check a reminder again when it is sent."""
        raise NotImplementedError

    def still_due(self, reminder, now: dt.datetime) -> bool:
        """Whether ``reminder`` would be sent now, as it is: its object still calls for
        it and its milestone is still the latest reached."""
        return any(
            due.key == reminder.key for due in self.due(now, only=object_id_of(reminder.key))
        )


def object_id_of(key: str) -> int | str:
    """The object id in a reminder's key (``Due.key``)."""
    object_id = key.split(":")[2]
    return int(object_id) if object_id.isdigit() else object_id


def only_this(queryset, only, field: str = "pk"):
    """``queryset`` narrowed to the object ``only`` when a reminder is checked again."""
    return queryset if only is None else queryset.filter(**{field: only})


def still_due(reminder, now: dt.datetime | None = None) -> bool:
    kind = _registry.get(reminder.kind)
    return kind is None or kind.still_due(reminder, now or timezone.now())


_registry: dict[str, ReminderKind] = {}


def register(kind: ReminderKind) -> ReminderKind:
    _registry[kind.name] = kind
    return kind


def kinds() -> list[ReminderKind]:
    return list(_registry.values())


def reminder_settings() -> list[Setting]:
    """Every offset the registered kinds read, in the order they were registered."""
    return [setting for kind in _registry.values() for setting in kind.settings]


def default_days(name: str) -> str:
    return next(setting.default for setting in reminder_settings() if setting.name == name)


def kind_label(name: str) -> str:
    kind = _registry.get(name)
    return str(kind.label) if kind else name


# --- Milestones ---------------------------------------------------------------------------------


def milestone_at(day: dt.date, time: dt.time = MORNING) -> dt.datetime:
    """The instant of ``time`` on ``day`` in Paris (the next valid hour on a DST gap)."""
    try:
        return local_datetime(day, time)
    except ValueError:
        return local_datetime(day, (dt.datetime.combine(day, time) + dt.timedelta(hours=1)).time())


def local_date(instant: dt.datetime) -> dt.date:
    return instant.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def milestone_before(event_at: dt.datetime, n: int) -> dt.datetime:
    """8:00 in Paris ``n`` days before the day of ``event_at``, or the day before that when
    it would not come before the event (the morning of a deadline at 7:00)."""
    event_day = local_date(event_at)
    instant = milestone_at(event_day - dt.timedelta(days=n))
    if instant >= event_at:
        instant = milestone_at(event_day - dt.timedelta(days=n + 1))
    return instant


def before(event_at: dt.datetime, days: Iterable[int], now: dt.datetime) -> str | None:
    """The latest "N days before ``event_at``" milestone reached at ``now``, as "J-N",
    while ``event_at`` is still to come; None otherwise."""
    if now >= event_at:
        return None
    reached = [(instant, -n) for n in days if (instant := milestone_before(event_at, n)) <= now]
    if not reached:
        return None
    # At the same instant (J-0 moved to the eve of a 7:00 deadline, and J-1), the nearest.
    _instant, minus_n = max(reached)
    return f"J-{-minus_n}"


def after(event_day: dt.date, days: Iterable[int], now: dt.datetime) -> str | None:
    """The latest "N days after ``event_day``" milestone reached at ``now``, as "J+N"."""
    reached = [n for n in days if milestone_at(event_day + dt.timedelta(days=n)) <= now]
    return f"J+{max(reached)}" if reached else None


def window_start(now: dt.datetime, longest_days: int) -> dt.datetime:
    """Events further than this are not due for any milestone yet (used to filter rows)."""
    return now + dt.timedelta(days=longest_days + 1)


# --- The sweep ------------------------------------------------------------------------------------


def chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@contextmanager
def plans_for_whole_results():
    """Kinds read their rows through server-side cursors (``.iterator()``), which
    PostgreSQL plans for their first tenth of rows (``cursor_tuple_fraction``): with an
    ``ORDER BY pk`` that can mean walking a whole index for a few hundred rows (a second,
    against 20 ms for the plan of the whole result). The sweep reads every row."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET cursor_tuple_fraction = 1.0")
    yield
    # Not after an error (the transaction may be aborted): the setting only changes plans.
    with connection.cursor() as cursor:
        cursor.execute("RESET cursor_tuple_fraction")


def _store(batch: list[Due]) -> list[int]:
    """Write the reminders of ``batch`` not yet known; return the new e-mails' ids."""
    by_key = {due.key: due for due in batch}
    known = set(Reminder.objects.filter(key__in=list(by_key)).values_list("key", flat=True))
    fresh = {key: due for key, due in by_key.items() if key not in known}
    if not fresh:
        return []
    rows, subjects = [], {}
    # Each template rendered once per shape of context, not once per e-mail.
    renderer = EmailRenderer()
    for key, due in fresh.items():
        subject, text, html = renderer.render(
            due.template, {"milestone": due.milestone, **due.context}
        )
        subjects[key] = subject
        rows.append(
            (key, due.template, [due.recipient_email], subject, text, html, due.recipient_id)
        )
    names = ("key", "template", "to", "subject", "body_text", "body_html", "user_id")
    emails = dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))
    with transaction.atomic():
        # A concurrent sweep may have written some of them: the unique keys decide, and
        # only the e-mails written here get their reminder.
        stored = insert_new(OutgoingEmail, emails, unique="key", returning=("key", "id"))
        reminders = {
            "key": [key for key, _pk in stored],
            "kind": [fresh[key].kind for key, _pk in stored],
            "milestone": [fresh[key].milestone for key, _pk in stored],
            "scope": [fresh[key].scope for key, _pk in stored],
            "scope_label": [fresh[key].scope_label for key, _pk in stored],
            "recipient_id": [fresh[key].recipient_id for key, _pk in stored],
            "subject": [subjects[key] for key, _pk in stored],
            "email_id": [pk for _key, pk in stored],
        }
        created = [
            email_id
            for (email_id,) in insert_new(
                Reminder, reminders, unique="key", returning=("email_id",)
            )
        ]
        transaction.on_commit(lambda: dispatch_emails(created))
    return created


def insert_new(model, rows: dict[str, list], *, unique: str, returning: tuple[str, ...]):
    """Insert many rows of ``model`` (``rows``: one list of values per field, by attribute
    name; the other fields take their defaults), skipping those whose ``unique`` field
    holds a value already written, even by a concurrent transaction; return ``returning``
    of the rows inserted. On PostgreSQL one statement (``INSERT … SELECT FROM unnest(one
    array per field) ON CONFLICT DO NOTHING RETURNING``): no model built per row, nothing
    read back. Elsewhere, through the ORM, in a transaction of its own."""
    if not rows[unique]:
        return []
    if connection.vendor != "postgresql":
        return _insert_new_with_models(model, rows, unique=unique, returning=returning)
    meta, quote = model._meta, connection.ops.quote_name
    fields = [one for one in meta.concrete_fields if not one.primary_key]
    given = [one for one in fields if one.attname in rows]
    others = [one for one in fields if one.attname not in rows]
    columns = ", ".join(quote(one.column) for one in given + others)
    arrays = ", ".join(f"%s::{one.db_type(connection)}[]" for one in given)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "
        f"SELECT {', '.join(['*'] + ['%s'] * len(others))} FROM unnest({arrays}) "
        f"ON CONFLICT ({quote(meta.get_field(unique).column)}) DO NOTHING "
        f"RETURNING {', '.join(quote(meta.get_field(name).column) for name in returning)}"
    )
    params = [other.get_db_prep_save(other.get_default(), connection) for other in others]
    for one in given:
        params.append([one.get_db_prep_save(value, connection) for value in rows[one.attname]])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _insert_new_with_models(model, rows, *, unique, returning):
    with transaction.atomic():
        values = rows[unique]
        existing = set(
            model.objects.filter(**{f"{unique}__in": values}).values_list(unique, flat=True)
        )
        new = [
            model(**dict(zip(rows, row, strict=True)))
            for row in zip(*rows.values(), strict=True)
            if row[list(rows).index(unique)] not in existing
        ]
        model.objects.bulk_create(new, ignore_conflicts=True)
        inserted = [getattr(instance, unique) for instance in new]
        return list(model.objects.filter(**{f"{unique}__in": inserted}).values_list(*returning))


def run_sweep(*, now: dt.datetime | None = None, batch_size: int = BATCH) -> int:
    """Create and queue every reminder due at ``now``; return how many are new."""
    now = now or timezone.now()
    created = 0
    with plans_for_whole_results():
        for kind in kinds():
            for batch in chunks(kind.due(now), batch_size):
                created += len(_store(batch))
    if created:
        logger.info("Reminder sweep at %s: %s new reminder(s)", now.isoformat(), created)
    return created


# --- The instructeurs' daily digest ----------------------------------------------------------------

DIGEST_TIME = dt.time(7, 0)
# Each app adds what needs an instructeur's action: ``source(now) -> [(count, label)]``.
_digest_sources: list = []


def register_digest_items(source) -> None:
    _digest_sources.append(source)


def digest_items(now: dt.datetime) -> list[str]:
    """What needs an instructeur's action this morning, in French; empty when nothing."""
    counts = [item for source in _digest_sources for item in source(now)]
    return [f"{count} {label}" for count, label in counts if count]


class DailyDigest(ReminderKind):
    """Each morning at 7:00 (Paris), one e-mail to each instructeur who wants it, with
    what every app reports as needing action; none when nothing does."""

    name = "daily_digest"
    label = _("Récapitulatif quotidien")

    def due(self, now, only=None):
        # One digest a day to each instructeur ("jour"): ``only`` narrows nothing.
        today = local_date(now)
        if now < milestone_at(today, DIGEST_TIME):
            return
        recipients = list(
            User.objects.with_role(Role.INSTRUCTEUR)
            .filter(wants_daily_digest=True)
            .values_list("pk", "email")
        )
        if not recipients:
            return
        items = digest_items(now)
        if not items:
            return
        for user_id, email in recipients:
            yield Due(
                self.name,
                "jour",
                today.isoformat(),
                user_id,
                email,
                "reminder_digest",
                {
                    "items": items,
                    "date": today,
                    "url": absolute_url("accounts:home"),
                    "settings_url": absolute_url("accounts:profile"),
                },
            )
