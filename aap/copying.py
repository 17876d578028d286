"""« Dupliquer » : next year's call made from this year's, as a draft to review.

The copy takes the call's texts, lots, criteria and sub-criteria, expected actions,
documents with their templates, form questions and reminder settings; the apps above
add their own parts of the call (the scoring grid and quorum rule, the agreements'
template and indicators) through ``register_copier``. Nothing of the dossiers is copied.
Dates move by a chosen number of months, on a Paris clock, or are asked for again; the
copy is a draft with a checklist of what to review (``copy_checklist``).
"""

import datetime as dt
import re
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from aap import rules
from aap.deadlines import is_on_time
from aap.models import (
    Call,
    Criterion,
    ExpectedAction,
    Lot,
    Question,
    ReminderSetting,
    RequiredDocument,
    SubCriterion,
)
from aap.placeholders import TEXT_FIELDS
from aap.states import CallStatus
from core.dates import NonexistentLocalTime, format_datetime, shift_months
from core.exceptions import DomainError
from core.models import User

Shift = Callable[[dt.datetime], dt.datetime] | None
# A copier of an app above: copies its parts of ``source`` onto ``copy``; ``shift`` moves a
# date of the source to the copy's calendar, or is None when the dates were asked again.
Copier = Callable[..., None]

_copiers: list[Copier] = []


def register_copier(copier: Copier) -> None:
    if copier not in _copiers:
        _copiers.append(copier)


# The call's own fields that a copy does not take: its identity, status and history.
NOT_COPIED = {
    "id",
    "title",
    "reference",
    "slug",
    "year",
    "opens_at",
    "deadline",
    "status",
    "published_at",
    "scoring_locked_at",
    "is_demo",
    "created_at",
    "updated_at",
    "copied_from",
    "copied_by",
    "abandon_reason",
    "abandoned_at",
}


def fields_of(instance, *, exclude=()) -> dict:
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if not field.primary_key and field.name not in exclude and field.attname not in exclude
    }


def _next_reference(source: Call, months: int | None) -> str:
    """AAP-2024-FCS → AAP-2025-FCS for a shift of twelve months."""
    years = round((months or 0) / 12)
    text = source.reference
    if years and str(source.year) in text:
        return text.replace(str(source.year), str(source.year + years))
    return f"{text}-COPIE"


def copy_defaults(source: Call, *, months: int = 12) -> dict:
    """The form's proposals: the title and reference of next year's call."""
    years = round(months / 12)
    title = source.title
    if years and str(source.year) in title:
        title = title.replace(str(source.year), str(source.year + years))
    return {"title": title, "reference": _next_reference(source, months), "months": months}


def _dates(source: Call, months, opens_at, deadline):
    if months is not None:
        if months < 1 or months > 60:
            raise DomainError(_("Décalez les dates de 1 à 60 mois."))
        try:
            return (
                shift_months(source.opens_at, months),
                shift_months(source.deadline, months),
                lambda when: shift_months(when, months),
            )
        except NonexistentLocalTime:
            raise DomainError(
                _(
                    "Décalées de %(months)s mois, les dates tomberaient dans l'heure sautée "
                    "au passage à l'heure d'été : indiquez-les vous-même."
                )
                % {"months": months}
            ) from None
    if opens_at is None or deadline is None:
        raise DomainError(
            _("Indiquez la date de lancement et la date limite du nouvel appel à projets.")
        )
    return opens_at, deadline, None


def _slug_for(reference: str) -> str:
    base = slugify(reference)[:70] or "appel"
    slug, number = base, 2
    while Call.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


def copy_call(
    source: Call,
    *,
    by: User,
    title: str,
    reference: str,
    months: int | None = None,
    opens_at: dt.datetime | None = None,
    deadline: dt.datetime | None = None,
) -> Call:
    """A draft made from ``source``: its dates moved by ``months`` (on a Paris clock), or
    ``opens_at`` and ``deadline`` given again. Refused to whoever may not manage calls,
    without a title or with a reference already used."""
    if not rules.can_manage_call(by):
        raise PermissionDenied
    title, reference = title.strip(), reference.strip()
    if not title or not reference:
        raise DomainError(_("Indiquez l'intitulé et la référence du nouvel appel à projets."))
    new_opens_at, new_deadline, shift = _dates(source, months, opens_at, deadline)
    if new_deadline <= new_opens_at:
        raise DomainError(_("La date limite doit suivre la date de lancement."))
    with transaction.atomic():
        if Call.objects.select_for_update().filter(reference=reference).exists():
            raise DomainError(
                _("La référence « %(reference)s » est déjà celle d'un appel à projets.")
                % {"reference": reference}
            )
        copy = Call.objects.create(
            **fields_of(source, exclude=NOT_COPIED),
            title=title,
            reference=reference,
            slug=_slug_for(reference),
            year=timezone.localtime(new_deadline).year,
            opens_at=new_opens_at,
            deadline=new_deadline,
            status=CallStatus.DRAFT,
            copied_from=source,
            copied_by=by,
        )
        _copy_parts(source, copy)
        for copier in _copiers:
            copier(source, copy, shift=shift)
    return copy


def _copy_parts(source: Call, copy: Call) -> None:
    for model in (Lot, ExpectedAction):
        for part in model.objects.filter(call=source):
            model.objects.create(**fields_of(part, exclude={"call"}), call=copy)
    for criterion in Criterion.objects.filter(call=source).prefetch_related("subcriteria"):
        new = Criterion.objects.create(**fields_of(criterion, exclude={"call"}), call=copy)
        for sub in criterion.subcriteria.all():
            SubCriterion.objects.create(**fields_of(sub, exclude={"criterion"}), criterion=new)
    for document in RequiredDocument.objects.filter(call=source):
        new = RequiredDocument(**fields_of(document, exclude={"call", "template"}), call=copy)
        if document.template:
            # A file of its own: the copy's template is edited or eliminated on its own.
            with document.template.open("rb") as stored:
                new.template.save(document.template_name or "modele", ContentFile(stored.read()))
        new.save()
    for question in Question.objects.filter(call=source):
        Question.objects.create(**fields_of(question, exclude={"call"}), call=copy)
    for setting in ReminderSetting.objects.filter(call=source):
        ReminderSetting.objects.create(**fields_of(setting, exclude={"call"}), call=copy)


# --- What to review ---------------------------------------------------------------------------

_YEAR = re.compile(r"\b(19|20)\d{2}\b")


def copy_checklist(call: Call, *, when=None) -> list[str]:
    """What staff review on a copied draft, in French: the dates, the texts that still
    name a year of the source, the budgets, the templates. Empty for a call that is no
    copy or is no longer a draft."""
    source = call.copied_from
    if source is None or call.status != CallStatus.DRAFT:
        return []
    when = when or timezone.now()
    items = [
        _("Dates : lancement le %(opens)s, date limite le %(deadline)s.")
        % {
            "opens": date_format(timezone.localtime(call.opens_at), "DATE_FORMAT"),
            "deadline": format_datetime(call.deadline),
        }
    ]
    if not is_on_time(call.deadline, when):
        items.append(_("La date limite est déjà passée : reportez-la avant de publier."))
    years = {str(year) for year in range(source.year - 1, source.year + 1)} - {str(call.year)}
    for name in TEXT_FIELDS:
        found = sorted({match.group(0) for match in _YEAR.finditer(getattr(call, name) or "")})
        stale = [year for year in found if year in years]
        if stale:
            items.append(
                _("Le texte « %(field)s » mentionne encore %(years)s.")
                % {
                    "field": Call._meta.get_field(name).verbose_name,
                    "years": ", ".join(stale),
                }
            )
    items += [
        _("Lots : vérifiez les ETP et les budgets."),
        _("Pièces à fournir : vérifiez les modèles à télécharger (millésime, dates)."),
        _("Formulaire : relisez les questions et leur ordre."),
        _("Lettres et conventions : vérifiez le signataire et le modèle des conventions."),
    ]
    return items
