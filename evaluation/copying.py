"""The evaluation's parts of a copied call (``aap.copying``): the scoring grid, its due
date moved with the call's, and the committee's quorum rule."""

from aap.copying import fields_of
from evaluation.models import QuorumRule, ScoringGrid


def copy_evaluation_parts(source, copy, *, shift) -> None:
    grid = ScoringGrid.objects.filter(call=source).first()
    if grid is not None:
        values = fields_of(grid, exclude={"call"})
        values["due_at"] = shift(grid.due_at) if shift and grid.due_at else None
        ScoringGrid.objects.create(**values, call=copy)
    rule = QuorumRule.objects.filter(call=source).first()
    if rule is not None:
        QuorumRule.objects.create(
            **fields_of(rule, exclude={"call", "updated_by", "updated_at"}), call=copy
        )
