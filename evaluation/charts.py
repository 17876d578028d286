"""Data for the charts (drawn by Chart.js from our static files, each with a table
that says the same for screen readers and print)."""

import json
from decimal import Decimal

from evaluation.exports import round_score


def _number(value):
    rounded = round_score(value)
    return None if rounded is None else float(rounded)


def radar(criterion_scores) -> dict:
    """A dossier's criteria: each score as a share of the criterion's weight (0 to 100 %)."""
    labels, shares = [], []
    for criterion, value in criterion_scores:
        labels.append(criterion.title)
        shares.append(None if value is None else _number(Decimal(value) * 100 / criterion.weight))
    return {
        "json": json.dumps({"labels": labels, "values": shares, "max": 100}),
        "rows": list(zip(labels, shares, strict=True)),
    }


def distribution(dossiers, *, bucket: int = 10) -> dict:
    """How many dossiers of a lot fall in each band of ten points of their total."""
    counts = [0] * (100 // bucket)
    for dossier in dossiers:
        if dossier.final_total is None:
            continue
        index = min(int(Decimal(dossier.final_total) // bucket), len(counts) - 1)
        counts[index] += 1
    labels = [f"{start}–{start + bucket}" for start in range(0, 100, bucket)]
    return {
        "json": json.dumps({"labels": labels, "values": counts}),
        "rows": list(zip(labels, counts, strict=True)),
    }
