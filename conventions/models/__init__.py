from conventions.models.agreements import Convention, ConventionStatusChange, FundingTerms
from conventions.models.followup import (
    Indicator,
    IndicatorValue,
    ProgressReview,
    Report,
    ReportStatusChange,
    ReviewRemark,
)
from conventions.models.locks import ContentLocked, UnsoundDate, amendment_in_force
from conventions.models.money import (
    Amendment,
    AmendmentInstalment,
    AmendmentStatusChange,
    Payment,
    PaymentStatusChange,
)

__all__ = [
    "Amendment",
    "AmendmentInstalment",
    "AmendmentStatusChange",
    "ContentLocked",
    "Convention",
    "ConventionStatusChange",
    "FundingTerms",
    "Indicator",
    "IndicatorValue",
    "Payment",
    "PaymentStatusChange",
    "ProgressReview",
    "Report",
    "ReportStatusChange",
    "ReviewRemark",
    "UnsoundDate",
    "amendment_in_force",
]
