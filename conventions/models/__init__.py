from conventions.models.agreements import (
    Amendment,
    Convention,
    ConventionStatusChange,
    FundingTerms,
    Indicator,
    IndicatorValue,
    Payment,
    PaymentStatusChange,
    ProgressReview,
    Report,
    ReviewRemark,
)

__all__ = [
    "Amendment",
    "Convention",
    "ConventionStatusChange",
    "FundingTerms",
    "Indicator",
    "IndicatorValue",
    "Payment",
    "PaymentStatusChange",
    "ProgressReview",
    "Report",
    "ReviewRemark",
]
