"""The agreements' parts of a copied call (``aap.copying``): the template of its
agreements (payment terms and articles) and its follow-up indicators with their targets."""

from aap.copying import fields_of
from conventions.models import FundingTerms, Indicator


def copy_convention_parts(source, copy, *, shift) -> None:
    terms = FundingTerms.objects.filter(call=source).first()
    if terms is not None:
        FundingTerms.objects.create(**fields_of(terms, exclude={"call"}), call=copy)
    for indicator in Indicator.objects.filter(call=source):
        Indicator.objects.create(**fields_of(indicator, exclude={"call"}), call=copy)
