from evaluation.models.grid import DEFAULT_LEVELS, ScoringGrid, SubCriterionFactor
from evaluation.models.reviews import (
    Admissibility,
    AdmissibilityChange,
    Assignment,
    CommitteeRecord,
    Consensus,
    Decision,
    Evaluation,
    EvaluationStatusChange,
    Justification,
    NotificationLetter,
    Opinion,
    Score,
)

__all__ = [
    "DEFAULT_LEVELS",
    "Admissibility",
    "AdmissibilityChange",
    "Assignment",
    "CommitteeRecord",
    "Consensus",
    "Decision",
    "Evaluation",
    "EvaluationStatusChange",
    "Justification",
    "NotificationLetter",
    "Opinion",
    "Score",
    "ScoringGrid",
    "SubCriterionFactor",
]
