"""Reminders about dossiers: drafts before the deadline, paper copies not received,
pieces requested before their due date."""

import datetime as dt

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from aap.links import absolute_url
from aap.models import Call, RequiredDocument, User
from aap.reminders import (
    Due,
    ReminderKind,
    after,
    before,
    days_of,
    local_date,
    settings_by_call,
    settings_for,
)
from aap.roles import Role
from aap.states import CallStatus
from candidatures.models import Membership, PieceRequest
from candidatures.receipts import format_datetime
from candidatures.states import CandidatureStatus


def _call_context(call) -> dict:
    return {
        "call_title": call.title,
        "call_reference": call.reference,
        "deadline": format_datetime(call.deadline),
    }


class DraftBeforeDeadline(ReminderKind):
    name = "draft_deadline"
    label = _("Dossier en brouillon avant la date limite")

    def due(self, now):
        calls = Call.objects.filter(
            status=CallStatus.PUBLISHED, deadline__gt=now, deadline__lte=now + dt.timedelta(days=60)
        ).select_related("reminder_settings")
        for call in calls:
            milestone = before(call.deadline, days_of(settings_for(call).draft_days), now)
            if milestone is None:
                continue
            members = (
                Membership.objects.filter(
                    organisation__candidatures__call=call,
                    organisation__candidatures__status=CandidatureStatus.DRAFT,
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
                    call_id=call.pk,
                    context={
                        **_call_context(call),
                        "organisation": organisation,
                        "days_left": int(milestone[2:]),
                        "url": absolute_url("candidatures:dossier", pk=dossier_id),
                    },
                )


class PaperCopyMissing(ReminderKind):
    name = "paper_copy_missing"
    label = _("Exemplaire papier non reçu après la date limite")

    def due(self, now):
        calls = Call.objects.filter(
            paper_copy_required=True,
            deadline__lt=now,
            deadline__gte=now - dt.timedelta(days=90),
            status__in=[CallStatus.PUBLISHED, CallStatus.CLOSED, CallStatus.UNDER_REVIEW],
        ).select_related("reminder_settings")
        instructeurs = list(User.objects.with_role(Role.INSTRUCTEUR).values_list("pk", "email"))
        for call in calls:
            milestone = after(local_date(call.deadline), [settings_for(call).paper_copy_days], now)
            if milestone is None:
                continue
            missing = Membership.objects.filter(
                organisation__candidatures__call=call,
                organisation__candidatures__status=CandidatureStatus.SUBMITTED,
                organisation__candidatures__paper_copy__isnull=True,
                user__is_active=True,
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
                        **_call_context(call),
                        "organisation": organisation,
                        "for_staff": False,
                        "url": absolute_url("candidatures:dossier", pk=dossier_id),
                    },
                    call.pk,
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
                            **_call_context(call),
                            "organisations": sorted(organisations),
                            "for_staff": True,
                            "url": absolute_url("candidatures:staff_dossiers", pk=call.pk)
                            + "?paper_copy=no",
                        },
                        call.pk,
                    )


class PiecesBeforeDue(ReminderKind):
    name = "pieces_due"
    label = _("Pièces demandées avant l'échéance")

    def due(self, now):
        requests = (
            PieceRequest.objects.filter(
                closed_at__isnull=True, due_at__gt=now, due_at__lte=now + dt.timedelta(days=31)
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
        settings = settings_by_call(requests.values("candidature__call_id"))
        for piece_request in requests.iterator(chunk_size=500):
            candidature = piece_request.candidature
            call = candidature.call
            milestone = before(
                piece_request.due_at, days_of(settings[call.pk].piece_request_days), now
            )
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
                    call.pk,
                )
