"""Notices that treat every candidate of a call alike (equal treatment).

When a published call's deadline moves later (a postponement, or a closed call reopened)
or a new answer to a question is published, everyone who holds a dossier on the call,
draft or submitted, is told by e-mail, once each. Who holds a dossier is known above
``aap``: ``candidatures`` registers the provider in its ``AppConfig.ready``.

Each recipient gets an outbox row of its own whose key names the event and the address,
so that a second run, or the same deadline saved twice, sends nothing new.
"""

import hashlib
from collections.abc import Callable, Iterable

from django.conf import settings

from aap.models import Call, CallQuestion
from core.addresses import normalise_email
from core.dates import format_datetime
from core.mail import queue_email
from core.models import User

# ``provider(call)`` -> the addresses of everyone concerned by the call's notices.
ConcernedProvider = Callable[[Call], Iterable[str]]

_providers: list[ConcernedProvider] = []


def register_concerned(provider: ConcernedProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def concerned_addresses(call: Call) -> list[str]:
    """Every address concerned by ``call``, each once, in its canonical form."""
    found = {normalise_email(address) for provider in _providers for address in provider(call)}
    found.discard("")
    return sorted(found)


def _address_key(address: str) -> str:
    # A digest keeps the key short whatever the address's length (the key holds 200).
    return hashlib.sha256(address.encode()).hexdigest()[:20]


def accounts_by_address(addresses) -> dict[str, User]:
    """The account behind each address, set on its e-mail so that the account's
    elimination takes the e-mails sent to it (``retention``)."""
    return {user.email: user for user in User.objects.filter(email__in=list(addresses))}


def _call_url(call: Call) -> str:
    return f"{settings.SITE_URL}{call.get_absolute_url()}"


def notify_deadline_postponed(call: Call) -> int:
    """Tell everyone concerned the call's new deadline; returns how many were queued.
    Called inside the transaction that moved the deadline."""
    stamp = call.deadline.strftime("%Y%m%dT%H%M%S")
    context = {"call": call, "deadline": format_datetime(call.deadline), "url": _call_url(call)}
    addresses = concerned_addresses(call)
    accounts = accounts_by_address(addresses)
    queued = 0
    for address in addresses:
        queue_email(
            to=address,
            template="call_postponed",
            context=context,
            key=f"call-postponed-{call.pk}-{stamp}-{_address_key(address)}",
            user=accounts.get(address),
        )
        queued += 1
    return queued


def notify_answer_published(question: CallQuestion) -> int:
    """Tell everyone concerned that an answer is published; the asker is told apart
    (``question_answered``). Returns how many were queued."""
    call = question.call
    asker = normalise_email(question.asked_by.email) if question.asked_by_id else None
    context = {
        "call": call,
        "question": question,
        "deadline": format_datetime(call.deadline),
        "url": f"{_call_url(call)}#questions",
    }
    addresses = [address for address in concerned_addresses(call) if address != asker]
    accounts = accounts_by_address(addresses)
    queued = 0
    for address in addresses:
        queue_email(
            to=address,
            template="call_answer_published",
            context=context,
            key=f"answer-published-{question.pk}-{_address_key(address)}",
            user=accounts.get(address),
        )
        queued += 1
    return queued
