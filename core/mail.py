"""The outbox: every e-mail of the platform is a row first, then a Celery task.

``queue_email`` renders the message and stores it inside the caller's transaction;
after commit it hands the id to Celery. If the broker is down or hangs, the request
still succeeds (the row waits) and ``requeue_pending_emails`` sends it later.
``deliver_email`` claims the row with a conditional update, so a duplicated task or
a second sweep never sends a message twice.

Delivery is **at least once**, not exactly once: a worker that dies, or a database that
restarts, after the mail server accepted a message but before the row is marked sent
leaves a claim that nobody finishes. When its lease runs out the sweep sends the message
again, so that nothing is lost. The copy carries the same ``Message-ID`` (derived from the
row), so mail clients and servers recognise it as the same message.
"""

import contextlib
import datetime as dt
import functools
import logging
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal
from email.utils import parseaddr
from typing import NamedTuple

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.html import conditional_escape

from core.addresses import normalise_email
from core.models import EmailStatus, OutgoingEmail

logger = logging.getLogger(__name__)


def claim_lease() -> timedelta:
    """A claim not renewed for this long is taken as lost with its worker (a worker
    renews its claims while it sends: ``_holding_claim``)."""
    return timedelta(seconds=settings.EMAIL_STALE_CLAIM_SECONDS)


def pending_grace() -> timedelta:
    """A pending message this old was not picked up after commit: the broker was away."""
    return timedelta(seconds=settings.EMAIL_PENDING_GRACE_SECONDS)


def message_id(email: OutgoingEmail) -> str:
    """The same for every copy of a row's message: a copy sent again after a crash is
    recognisable as the same message."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{email.created_at:%Y%m%d%H%M%S%f}.{email.pk}.outbox@{domain}>"


def render_email(template: str, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML of ``templates/emails/<template>/``."""
    return _subject_line(_render_parts(template, context))


def _render_parts(template: str, context: dict) -> tuple[str, str, str]:
    context = {"site_url": settings.SITE_URL, **context}
    # Subjects and text bodies are plain text: rendered without HTML escaping.
    subject = render_to_string(f"emails/{template}/subject.txt", context, using="text")
    text = render_to_string(f"emails/{template}/body.txt", context, using="text")
    html = render_to_string(f"emails/{template}/body.html", context)
    return subject, text, html


def _subject_line(parts: tuple[str, str, str]) -> tuple[str, str, str]:
    subject, text, html = parts
    return settings.EMAIL_SUBJECT_PREFIX + " ".join(subject.split()), text, html


# Markers put in place of texts (``EmailRenderer``): characters of the private use area,
# which no text holds, around the text's number and a ``&``, which shows whether the
# marker was escaped (``&amp;``). The rough one begins with a small letter and holds what
# filters change (capitals, ``&``, ``<``, quotes, spaces, a new line), and is longer than
# the texts it stands for, so that a truncation would show.
_SIMPLE = "\ue000{}&\ue001"
_MARKER = re.compile("\ue000(\\d+)&(amp;)?\ue001")
_ROUGH = "a&<\"' \nZ\ue002{}\ue003" + "x" * 400
_UNSHAPED = re.compile(r"{%\s*(?:(?:el)?if\b[^%]*(?:==|!=|<|>|\bin\b)|include\b)")
_EXTENDS = re.compile(r"{%\s*extends\s+[\"']([^\"']+)[\"']")
_PLAIN = (str, int, float, bool, type(None), Decimal, dt.date, dt.time)


def _sources(name: str, using: str | None = None) -> list[str]:
    source = get_template(name, using=using).template.source
    parent = _EXTENDS.search(source)
    return [source, *(_sources(parent.group(1), using) if parent else [])]


@functools.cache
def _texts_are_only_shown(template: str) -> bool:
    """Whether no condition of ``template``'s files compares a value (only its truth)."""
    sources = [
        *_sources(f"emails/{template}/subject.txt", "text"),
        *_sources(f"emails/{template}/body.txt", "text"),
        *_sources(f"emails/{template}/body.html"),
    ]
    return not any(_UNSHAPED.search(source) for source in sources)


def _plain(value) -> bool:
    """Whether ``value`` compares and prints by its content (a key of a shape)."""
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_plain(key) and _plain(item) for key, item in value.items())
    return isinstance(value, _PLAIN)


def _fill(parts: tuple[str, str, str], texts: list[str]) -> tuple[str, str, str]:
    """``parts`` with each marker replaced by its text, escaped where the marker was."""

    def text(match):
        value = texts[int(match.group(1))]
        return conditional_escape(value) if match.group(2) else value

    return tuple(_MARKER.sub(text, part) for part in parts)


class EmailRenderer:
    """``render_email`` for many e-mails (a batch of reminders), each exactly as if it was
    rendered alone, but each template rendered once per *shape* rather than once per
    e-mail: the shape is the context without its texts (non-empty strings: names,
    numbers of agreements, addresses), whose values only show in the message.

    The first e-mail of a shape is rendered alone. At the second, the shape is rendered
    with markers in place of its texts, plain ones and rough ones (``_ROUGH``). It is
    trusted only if putting the rough markers, or the first e-mail's texts, in place of
    the plain ones gives the same messages as rendering them: a text that goes through
    a filter, a truncation or a tag shows the difference, and the shape's e-mails are
    then rendered alone. So are those of templates whose conditions compare a value
    (``==``, ``in``…: a marker does not compare as its text would; only truth is the
    same, an empty text being part of the shape), and those with a text longer than
    the rough marker, or a value that is not plain data."""

    def __init__(self):
        self.shapes: dict[tuple, object] = {}
        self.last = None

    def render(self, template: str, context: dict) -> tuple[str, str, str]:
        # The same message to several recipients (an agreement's staff) comes in a row.
        if self.last and self.last[:2] == (template, context):
            return self.last[2]
        rendered = self._render(template, context)
        self.last = (template, context, rendered)
        return rendered

    def _render(self, template: str, context: dict) -> tuple[str, str, str]:
        texts = {name: value for name, value in context.items() if type(value) is str and value}
        others = sorted((name, value) for name, value in context.items() if name not in texts)
        if (
            not texts
            or not _plain(others)
            or max(map(len, texts.values())) >= len(_ROUGH)
            or not _texts_are_only_shown(template)
        ):
            return render_email(template, context)
        shape = (template, repr(others), tuple(texts))
        known = self.shapes.get(shape)
        if known is None:
            parts = _render_parts(template, context)
            self.shapes[shape] = _First(list(texts.values()), parts)
            return _subject_line(parts)
        if isinstance(known, _First):
            known = self.shapes[shape] = _frame(template, context, list(texts), known)
        if known is _ALONE:
            return render_email(template, context)
        return _subject_line(_fill(known, list(texts.values())))


class _First(NamedTuple):
    """The first e-mail of a shape, rendered alone: what its frame must give back."""

    texts: list[str]
    parts: tuple[str, str, str]


_ALONE = object()


def _frame(template: str, context: dict, names: list[str], first: _First):
    """A shape rendered with plain markers, or ``_ALONE`` if it is not to be trusted."""
    simple = {name: _SIMPLE.format(index) for index, name in enumerate(names)}
    rough = [_ROUGH.format(index) for index in range(len(names))]
    try:
        frame = _render_parts(template, {**context, **simple})
        trusted = _fill(frame, first.texts) == first.parts and _fill(frame, rough) == (
            _render_parts(template, {**context, **dict(zip(names, rough, strict=True))})
        )
    except Exception:  # a marker a tag cannot take (an address, a number): render alone
        return _ALONE
    return frame if trusted else _ALONE


def queue_email(
    *,
    to,
    template: str,
    context: dict,
    key: str | None = None,
    user=None,
    attachments=(),
) -> OutgoingEmail | None:
    """Store an e-mail and send it after the current transaction commits.

    With a ``key`` already used, nothing new is stored and the first row is returned.
    With no recipient, nothing is stored and None is returned.
    """
    # Sent to the canonical form of each address: the one accounts are unique on.
    recipients = sorted(
        {normalise_email(address) for address in ([to] if isinstance(to, str) else to)}
    )
    if not recipients:
        return None
    if key is not None and (existing := OutgoingEmail.objects.filter(key=key).first()):
        return existing
    subject, text, html = render_email(template, context)
    try:
        with transaction.atomic():
            email = OutgoingEmail.objects.create(
                key=key,
                template=template,
                to=recipients,
                subject=subject,
                body_text=text,
                body_html=html,
                user=user,
                attachments=list(attachments),
            )
    except IntegrityError:
        # Another transaction stored the same key between our read and our write.
        return OutgoingEmail.objects.get(key=key)
    transaction.on_commit(lambda: dispatch_email(email.pk))
    return email


# After a failed publication this process leaves the broker alone for a while: a broker
# that hangs costs one request the publishing timeout, not every request.
_broker_paused_until = 0.0


def publishing_connection():
    """A broker connection that gives up after ``EMAIL_PUBLISH_TIMEOUT`` seconds, to
    connect or to answer, with no retry: a request never waits longer than that for a
    broker that hangs (the worker and beat keep the patient defaults)."""
    from config.celery import app  # config imports the apps

    timeout = settings.EMAIL_PUBLISH_TIMEOUT
    return app.connection_for_write(
        transport_options={
            **app.conf.broker_transport_options,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "max_retries": 0,
        },
        connect_timeout=timeout,
    )


def dispatch_email(email_id: int, *, while_paused: bool = False) -> bool:
    """Hand the message to Celery, within ``EMAIL_PUBLISH_TIMEOUT``; on a broker failure
    leave it for the sweep (``requeue_pending_emails``, which tries ``while_paused``)."""
    return dispatch_emails([email_id], while_paused=while_paused) == 1


def dispatch_emails(email_ids, *, while_paused: bool = False) -> int:
    """Hand messages to Celery in one publication, as ``dispatch_email`` does one: several
    go as one task (``send_emails``) that queues one ``send_email`` per message from the
    worker, so that each keeps its own claim and retries, and a sweep writing thousands
    of e-mails publishes once per batch, not once per e-mail. Returns how many were
    handed: all of them, or none on a broker failure (they wait for the sweep)."""
    global _broker_paused_until
    from core.tasks import send_email, send_emails

    email_ids = list(email_ids)
    if not email_ids or (not while_paused and time.monotonic() < _broker_paused_until):
        return 0
    if len(email_ids) == 1:
        task, kwargs = send_email, {"email_id": email_ids[0]}
    else:
        task, kwargs = send_emails, {"email_ids": email_ids}
    try:
        with publishing_connection() as connection:
            task.apply_async(kwargs=kwargs, connection=connection, retry=False)
    except Exception:  # any broker error: the rows stay pending, nothing is lost
        _broker_paused_until = time.monotonic() + settings.EMAIL_PUBLISH_PAUSE_SECONDS
        logger.warning(
            "Broker unavailable, %s e-mail(s) left for the sweep (%s…)",
            len(email_ids),
            email_ids[0],
            exc_info=True,
        )
        return 0
    return len(email_ids)


def queue_each(email_ids) -> int:
    """The worker's side of ``dispatch_emails``: one ``send_email`` task per message, on
    one connection (the worker's patient defaults: it waits for the broker, a request
    does not). A worker lost midway leaves the rest pending, for the sweep."""
    from config.celery import app
    from core.tasks import send_email

    with app.producer_or_acquire() as producer:
        for email_id in email_ids:
            send_email.apply_async(kwargs={"email_id": email_id}, producer=producer)
    return len(email_ids)


def deliver_email(email_id: int) -> bool:
    """Send one stored e-mail if nobody else has; return whether this call sent it.

    On a mail-server error the row goes back to pending and the error propagates, so
    that the task retries with backoff.
    """
    claimed = OutgoingEmail.objects.filter(pk=email_id, status=EmailStatus.PENDING).update(
        status=EmailStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if claimed != 1:
        return False
    email = OutgoingEmail.objects.get(pk=email_id)
    if not _still_true(email):
        OutgoingEmail.objects.filter(pk=email_id).update(
            status=EmailStatus.DROPPED, last_error="Rappel devenu sans objet au moment de l'envoi."
        )
        return False
    try:
        with _holding_claim(email_id):
            build_message(email).send()
    except Exception as error:
        OutgoingEmail.objects.filter(pk=email_id, status=EmailStatus.SENDING).update(
            status=EmailStatus.PENDING, last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    OutgoingEmail.objects.filter(pk=email_id).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def _still_true(email: OutgoingEmail) -> bool:
    """A reminder is checked again when it leaves: held back by a mail server outage, it
    may no longer be true (the dossier was submitted, a later milestone took its place)."""
    from core.models import Reminder
    from core.reminders import still_due  # the reminders engine queues through this module

    reminder = Reminder.objects.filter(email_id=email.pk).first()
    return reminder is None or still_due(reminder)


@contextlib.contextmanager
def _holding_claim(email_id: int):
    """Renew the claim every third of its lease while the message is rendered and sent,
    so that a short lease never takes a slow but living worker for a dead one."""
    stop = threading.Event()

    def renew():
        try:
            while not stop.wait(claim_lease().total_seconds() / 3):
                OutgoingEmail.objects.filter(pk=email_id, status=EmailStatus.SENDING).update(
                    claimed_at=timezone.now()
                )
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=renew, name=f"claim-{email_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def build_message(email: OutgoingEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=email.to,
        headers={"Message-ID": message_id(email)},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    for attachment in email.attachments:
        message.attach(attachment["name"], attachment_content(attachment), attachment["mimetype"])
    return message


# Documents rendered when a message is sent (a receipt's PDF), by name: a stored message
# names its renderer, never a path to code. Apps register theirs in ``AppConfig.ready``.
_renderers: dict = {}


def register_renderer(name: str, render) -> None:
    """``render(*args) -> bytes`` renders the attachments whose ``render`` is ``name``."""
    _renderers[name] = render


def attachment_content(attachment: dict) -> bytes:
    """A stored file (``path``), or a document rendered when the message is sent
    (``render``: a registered renderer's name, with ``args``), such as a receipt."""
    if "render" in attachment:
        render = _renderers.get(attachment["render"])
        if render is None:
            raise LookupError(f"No renderer registered as {attachment['render']!r}")
        return render(*attachment.get("args", []))
    with default_storage.open(attachment["path"], "rb") as handle:
        return handle.read()


def requeue_pending_emails(*, now=None) -> int:
    """Queue again messages the broker never received and claims lost with a worker."""
    now = now or timezone.now()
    OutgoingEmail.objects.filter(
        status=EmailStatus.SENDING, claimed_at__lt=now - claim_lease()
    ).update(status=EmailStatus.PENDING)
    # Taken back just now, or never handed to the broker: both go out.
    waiting = OutgoingEmail.objects.filter(
        Q(created_at__lt=now - pending_grace()) | Q(claimed_at__lt=now - claim_lease()),
        status=EmailStatus.PENDING,
    ).values_list("pk", flat=True)
    queued = 0
    for email_id in waiting.iterator(chunk_size=500):
        if not dispatch_email(email_id, while_paused=True):
            break  # the broker is still away; the next sweep tries again
        queued += 1
    return queued
