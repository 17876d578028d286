"""Programmes managed in the back-office: saved, and deleted only while no call uses one
(the database refuses it too: ``Call.programme`` is ``PROTECT``)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aap import rules
from aap.models import Programme
from core.exceptions import DomainError
from core.models import User


def with_calls(queryset=None):
    """Programmes with ``call_count`` and the years of their calls, in one query."""
    queryset = Programme.objects.all() if queryset is None else queryset
    return queryset.annotate(
        call_count=Count("calls"),
        first_call_year=Min("calls__year"),
        last_call_year=Max("calls__year"),
    )


def delete_refusal(programme: Programme) -> str:
    """Why ``programme`` may not be deleted, or ""."""
    count = programme.calls.count()
    if count:
        return ngettext(
            "Ce programme est utilisé par %(n)d appel à projets : il ne peut pas être supprimé.",
            "Ce programme est utilisé par %(n)d appels à projets : il ne peut pas être supprimé.",
            count,
        ) % {"n": count}
    return ""


def years_refusal(programme: Programme) -> str:
    """Why the programme's years may not be saved, or "": they keep its calls' years."""
    if programme.pk is None:
        return ""
    years = programme.calls.aggregate(first=Min("year"), last=Max("year"))
    if years["first"] is None:
        return ""
    if programme.start_year > years["first"] or programme.end_year < years["last"]:
        return (
            _(
                "Les appels à projets de ce programme vont de %(first)d à %(last)d : "
                "ses années doivent les couvrir."
            )
            % years
        )
    return ""


def save_programme(programme: Programme, *, by: User) -> Programme:
    if not rules.can_manage_programmes(by):
        raise PermissionDenied
    with transaction.atomic():
        if programme.pk is not None:
            # A call created meanwhile is counted: the programme's row is locked first.
            Programme.objects.select_for_update().filter(pk=programme.pk).first()
        if refusal := years_refusal(programme):
            raise DomainError(refusal)
        programme.save()
    return programme


def delete_programme(programme: Programme, *, by: User) -> None:
    if not rules.can_manage_programmes(by):
        raise PermissionDenied
    with transaction.atomic():
        Programme.objects.select_for_update().filter(pk=programme.pk).first()
        if refusal := delete_refusal(programme):
            raise DomainError(refusal)
        programme.delete()
