"""Agreements and their payments as XLSX workbooks (written by ``core.spreadsheets``,
whose cells never execute)."""

from django.utils.translation import gettext as _

from conventions.articles import filled
from conventions.models import Payment
from core import spreadsheets


def _workbook(title: str, columns: list[str], rows, *, money: set[str]) -> bytes:
    return spreadsheets.xlsx_bytes(
        [
            spreadsheets.Sheet(
                title=title,
                columns=columns,
                rows=rows,
                money=frozenset(i for i, column in enumerate(columns) if column in money),
            )
        ]
    )


def conventions_xlsx(conventions) -> bytes:
    """``conventions`` annotated by ``queries.with_money_and_flags``."""
    columns = [
        _("Numéro"),
        _("Année"),
        _("Appel à projets"),
        _("Lot"),
        _("Bénéficiaire"),
        _("SIRET"),
        _("Statut"),
        _("Signée le"),
        _("Début"),
        _("Fin"),
        _("Montant (€)"),
        _("ETP"),
        _("Échéancier (€)"),
        _("Versé (€)"),
        _("Reste à verser (€)"),
        _("Objet"),
    ]
    rows = (
        [
            c.number,
            c.year,
            c.call.reference,
            c.lot.name,
            c.beneficiary_name,
            c.beneficiary_siret,
            c.get_status_display(),
            c.signed_on,
            c.period_start,
            c.period_end,
            c.amount,
            c.fte,
            c.scheduled,
            c.paid,
            c.remaining,
            filled(c, "object"),
        ]
        for c in conventions
    )
    money = {_("Montant (€)"), _("Échéancier (€)"), _("Versé (€)"), _("Reste à verser (€)")}
    return _workbook(_("Conventions"), columns, rows, money=money)


def payments_xlsx(conventions) -> bytes:
    columns = [
        _("Convention"),
        _("Année"),
        _("Bénéficiaire"),
        _("Versement"),
        _("Échéance"),
        _("Montant (€)"),
        _("Condition"),
        _("Statut"),
        _("Demandé le"),
        _("Mandaté le"),
        _("Référence comptable"),
        _("Versé le"),
    ]
    payments = (
        Payment.objects.filter(convention__in=conventions)
        .select_related("convention")
        .order_by("convention__year", "convention__number", "due_on", "position")
    )
    rows = (
        [
            p.convention.number,
            p.convention.year,
            p.convention.beneficiary_name,
            p.label,
            p.due_on,
            p.amount,
            p.condition_label,
            p.get_status_display(),
            p.requested_on,
            p.ordered_on,
            p.accounting_reference,
            p.paid_on,
        ]
        for p in payments
    )
    return _workbook(_("Versements"), columns, rows, money={_("Montant (€)")})
