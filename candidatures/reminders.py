"""Reminders about dossiers: drafts before the deadline, paper copies not received,
pieces requested before their due date.

No reminder concerns a dossier whose fate is settled: the apps downstream declare which
(``settle_dossiers_when``: the evaluation app, those declared inadmissible or decided).
"""

import datetime as dt

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from aap.models import Call, RequiredDocument
from aap.reminder_settings import call_id_of, call_scope, days_by_call
from aap.states import CallStatus
from candidatures.models import Candidature, Membership, PieceRequest
from candidatures.states import CandidatureStatus
from core.dates import format_datetime
from core.links import absolute_url, absolute_urls
from core.models import User
from core.reminders import Due, ReminderKind, Setting, after, before, local_date, only_this
from core.roles import Role

# Querysets of dossier ids that no reminder may concern any more, declared downstream.
_settled_dossiers: list = []


def settle_dossiers_when(ids) -> None:
    """Declare a source of settled dossiers: a callable returning a queryset of
    ``Candidature`` ids (declared inadmissible, decided…)."""
    _settled_dossiers.append(ids)


def unsettled(queryset, field: str = "pk"):
    """``queryset`` without the dossiers (through ``field``) whose fate is settled."""
    for ids in _settled_dossiers:
        queryset = queryset.exclude(**{f"{field}__in": ids()})
    return queryset


def days_left(deadline: dt.datetime, now: dt.datetime) -> int:
    """Whole days left before ``deadline``, rounded down: a reminder never promises more
    time than there is (0: less than 24 hours)."""
    return max(0, (deadline - now) // dt.timedelta(days=1))


def _call_context(call) -> dict:
    return {
        "call_title": call.title,
        "call_reference": call.reference,
        "deadline": format_datetime(call.deadline),
    }


class DraftBeforeDeadline(ReminderKind):
    name = "draft_deadline"
    label = _("Dossier en brouillon avant la date limite")
    settings = (
        Setting(
            "draft_days",
            _("dossiers en brouillon : jours avant la date limite"),
            "7, 2, 0",
            _("0 : le matin du jour de la date limite."),
        ),
    )

    def due(self, now, only=None):
        calls = Call.objects.filter(
            status=CallStatus.PUBLISHED, deadline__gt=now, deadline__lte=now + dt.timedelta(days=60)
        )
        if only is not None:
            calls = calls.filter(candidatures__pk=only)
        days = days_by_call(calls.values("pk"))
        dossier_url = absolute_urls("candidatures:dossier")
        for call in calls:
            milestone = before(call.deadline, days[call.pk].of("draft_days"), now)
            if milestone is None:
                continue
            # The same for every dossier of the call: computed once.
            call_context = {**_call_context(call), "days_left": days_left(call.deadline, now)}
            scope = call_scope(call.pk)
            dossiers = unsettled(
                Candidature.objects.filter(call=call, status=CandidatureStatus.DRAFT)
            )
            members = (
                Membership.objects.filter(
                    organisation__candidatures__in=only_this(dossiers, only),
                    user__is_active=True,
                )
                .values_list(
                    "organisation__candidatures__pk", "user_id", "user__email", "organisation__name"
                )
                .order_by("pk")
            )
            for dossier_id, user_id, email, organisation in members.iterator(chunk_size=2000):
                yield Due(
                    kind=self.name,
                    object_id=dossier_id,
                    milestone=milestone,
                    recipient_id=user_id,
                    recipient_email=email,
                    template="reminder_draft_deadline",
                    scope=scope,
                    scope_label=call.reference,
                    context={
                        **call_context,
                        "organisation": organisation,
                        "url": dossier_url(dossier_id),
                    },
                )

    def still_due(self, reminder, now):
        """Also: the days left it announces still hold (it said « 2 jours » when it was
        written; a day of mail server outage later, it would promise too much)."""
        if not super().still_due(reminder, now):
            return False
        deadline = Call.objects.values_list("deadline", flat=True).get(
            pk=call_id_of(reminder.scope)
        )
        return days_left(deadline, reminder.created_at) == days_left(deadline, now)


class PaperCopyMissing(ReminderKind):
    name = "paper_copy_missing"
    label = _("Exemplaire papier non reçu après la date limite")
    settings = (
        Setting(
            "paper_copy_days",
            _("exemplaire papier non reçu : jours après la date limite"),
            "5",
            many=False,
        ),
    )

    def due(self, now, only=None):
        # The staff's message about a call has the object id "call-<pk>".
        for_call = int(only.removeprefix("call-")) if isinstance(only, str) else None
        calls = Call.objects.filter(
            paper_copy_required=True,
            deadline__lt=now,
            deadline__gte=now - dt.timedelta(days=90),
            status__in=[CallStatus.PUBLISHED, CallStatus.CLOSED, CallStatus.UNDER_REVIEW],
        )
        if for_call is not None:
            calls = calls.filter(pk=for_call)
        elif only is not None:
            calls = calls.filter(candidatures__pk=only)
        instructeurs = list(User.objects.with_role(Role.INSTRUCTEUR).values_list("pk", "email"))
        days = days_by_call(calls.values("pk"))
        dossier_url = absolute_urls("candidatures:dossier")
        for call in calls:
            milestone = after(local_date(call.deadline), days[call.pk].of("paper_copy_days"), now)
            if milestone is None:
                continue
            call_context, scope = _call_context(call), call_scope(call.pk)
            # Submitted and still in play: not withdrawn, declared inadmissible or decided.
            dossiers = unsettled(
                Candidature.objects.filter(
                    call=call, status=CandidatureStatus.SUBMITTED, paper_copy__isnull=True
                )
            )
            if for_call is None:
                dossiers = only_this(dossiers, only)
            missing = Membership.objects.filter(
                organisation__candidatures__in=dossiers, user__is_active=True
            ).values_list(
                "organisation__candidatures__pk", "user_id", "user__email", "organisation__name"
            )
            organisations = set()
            for dossier_id, user_id, email, organisation in missing.order_by("pk").iterator(
                chunk_size=2000
            ):
                organisations.add(organisation)
                yield Due(
                    self.name,
                    dossier_id,
                    milestone,
                    user_id,
                    email,
                    "reminder_paper_copy",
                    {
                        **call_context,
                        "organisation": organisation,
                        "for_staff": False,
                        "url": dossier_url(dossier_id),
                    },
                    scope,
                    call.reference,
                )
            if organisations:
                # Staff get one message per call, listing the organisations concerned.
                for user_id, email in instructeurs:
                    yield Due(
                        self.name,
                        f"call-{call.pk}",
                        milestone,
                        user_id,
                        email,
                        "reminder_paper_copy",
                        {
                            **call_context,
                            "organisations": sorted(organisations),
                            "for_staff": True,
                            "url": absolute_url("candidatures:staff_dossiers", pk=call.pk)
                            + "?paper_copy=no",
                        },
                        call_scope(call.pk),
                        call.reference,
                    )


class PiecesBeforeDue(ReminderKind):
    name = "pieces_due"
    label = _("Pièces demandées avant l'échéance")
    settings = (
        Setting("piece_request_days", _("pièces demandées : jours avant l'échéance"), "3, 1"),
    )

    def due(self, now, only=None):
        requests = (
            unsettled(
                only_this(
                    PieceRequest.objects.filter(
                        closed_at__isnull=True,
                        due_at__gt=now,
                        due_at__lte=now + dt.timedelta(days=31),
                    ),
                    only,
                ),
                "candidature",
            )
            # What the e-mail names, not the call's texts once per request.
            .select_related("candidature__call", "candidature__organisation")
            .only(
                "due_at",
                "candidature__call__title",
                "candidature__call__reference",
                "candidature__call__deadline",
                "candidature__organisation__name",
            )
            .prefetch_related(
                Prefetch("required_documents", queryset=RequiredDocument.objects.only("label")),
                Prefetch(
                    "candidature__organisation__memberships",
                    queryset=Membership.objects.filter(user__is_active=True)
                    .select_related("user")
                    .only("organisation_id", "user__email"),
                ),
            )
        )
        days = days_by_call(requests.values("candidature__call_id"))
        for piece_request in requests.iterator(chunk_size=500):
            candidature = piece_request.candidature
            call = candidature.call
            milestone = before(piece_request.due_at, days[call.pk].of("piece_request_days"), now)
            if milestone is None:
                continue
            context = {
                **_call_context(call),
                "organisation": candidature.organisation.name,
                "due": format_datetime(piece_request.due_at),
                "pieces": [doc.label for doc in piece_request.required_documents.all()],
                "url": absolute_url("candidatures:documents", pk=candidature.pk),
            }
            members = [
                (m.user_id, m.user.email) for m in candidature.organisation.memberships.all()
            ]
            for user_id, email in members:
                yield Due(
                    self.name,
                    piece_request.pk,
                    milestone,
                    user_id,
                    email,
                    "reminder_pieces",
                    context,
                    call_scope(call.pk),
                    call.reference,
                )


def digest_items(now) -> list[tuple[int, str]]:
    """For the instructeurs' daily digest: dossiers submitted since yesterday, requests
    for pieces due within three days."""
    return [
        (
            Candidature.objects.filter(submitted_at__gte=now - dt.timedelta(days=1)).count(),
            _("dossier(s) déposé(s) depuis hier"),
        ),
        (
            PieceRequest.objects.open_at(now)
            .filter(due_at__lte=now + dt.timedelta(days=3))
            .count(),
            _("demande(s) de pièces arrivant à échéance sous trois jours"),
        ),
    ]
