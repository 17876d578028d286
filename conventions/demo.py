"""The follow-up indicators of the seed call, as the issue of the Service IVE lists them.

The targets are demonstration values: the Service IVE sets the real ones per call on the
page « Conventions » of the call's back-office.
"""

from decimal import Decimal

from conventions.models import Indicator

SEED_INDICATORS = [
    ("Réunions du réseau des facilitateurs co-animées", "réunions", Decimal("6")),
    ("Espace numérique de collaboration actif", "espace", Decimal("1")),
    (
        "Événements avec des donneurs d'ordre (bailleurs sociaux…)",
        "événements",
        Decimal("2"),
    ),
    ("Actions menées avec le secteur du handicap", "actions", Decimal("2")),
    ("Actions menées sur le territoire du Vercors", "actions", Decimal("3")),
    (
        "Contribution au bilan départemental des clauses sociales",
        "contribution",
        Decimal("1"),
    ),
]


def add_seed_indicators(call) -> None:
    if call.indicators.exists():
        return
    Indicator.objects.bulk_create(
        Indicator(call=call, position=position, label=label, unit=unit, target=target)
        for position, (label, unit, target) in enumerate(SEED_INDICATORS, start=1)
    )
