"""Data for the charts of agreements (drawn by Chart.js from our static files, each with
a table beside it that says the same for screen readers and print)."""

import json
from decimal import Decimal

from django.utils.translation import gettext as _


def _number(value):
    return None if value is None else float(Decimal(value).quantize(Decimal("0.01")))


def money(rows: list[dict]) -> dict:
    """Committed, paid and remaining per row of ``totals_by`` (each with a ``label``)."""
    return {
        "json": json.dumps(
            {
                "labels": [str(row["label"]) for row in rows],
                "series": [
                    {"label": _("Engagé"), "values": [_number(r["committed"]) for r in rows]},
                    {"label": _("Versé"), "values": [_number(r["paid"]) for r in rows]},
                    {
                        "label": _("Reste à verser"),
                        "values": [_number(r["remaining"]) for r in rows],
                    },
                ],
            }
        ),
        "rows": rows,
    }


def indicator(item: dict) -> dict:
    """One indicator of ``queries.indicator_series``: quarter by quarter of the agreement,
    the running result (the sum, or the last value of a level) against the annual target."""
    indicator_ = item["indicator"]
    quarters = [_("T%(n)s") % {"n": period} for period in range(1, len(item["values"]) + 1)]
    return {
        **item,
        "json": json.dumps(
            {
                "labels": quarters,
                "values": [_number(value) for value in item["cumulated"]],
                "target": _number(indicator_.target),
                "valueLabel": _("Niveau atteint") if indicator_.is_level else _("Cumul réalisé"),
                "targetLabel": _("Cible annuelle"),
            }
        ),
        "rows": list(zip(quarters, item["values"], item["cumulated"], strict=True)),
    }
