"""Dates of dossiers in their members' calendars (and call deadlines for instructeurs)."""

from django.utils import timezone

from aap.models import Call
from aap.states import CallStatus
from candidatures.models import Candidature, PieceRequest
from candidatures.states import CandidatureStatus
from core import rules as core_rules
from core.calendars import Event
from core.links import absolute_url


def dossier_dates(user):
    now = timezone.now()
    if core_rules.is_instructeur(user):
        for call in Call.objects.filter(status=CallStatus.PUBLISHED, deadline__gte=now):
            yield Event(
                f"call-{call.pk}-deadline",
                f"Date limite : {call.title}",
                call.deadline,
                absolute_url("aap:backoffice_call", pk=call.pk),
            )
    dossiers = (
        Candidature.objects.of_member(user)
        .filter(status=CandidatureStatus.DRAFT, call__deadline__gte=now)
        .select_related("call")
    )
    for dossier in dossiers:
        yield Event(
            f"dossier-{dossier.pk}-deadline",
            f"Déposer le dossier : {dossier.call.title}",
            dossier.call.deadline,
            absolute_url("candidatures:dossier", pk=dossier.pk),
        )
    requests = (
        PieceRequest.objects.open_at(now)
        .filter(candidature__organisation__memberships__user=user)
        .select_related("candidature__call")
    )
    for piece_request in requests:
        yield Event(
            f"pieces-{piece_request.pk}",
            f"Pièces à fournir : {piece_request.candidature.call.title}",
            piece_request.due_at,
            absolute_url("candidatures:documents", pk=piece_request.candidature_id),
        )
