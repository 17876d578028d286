"""Form fields as French users type and read them."""

from decimal import Decimal

from django import forms
from django.utils.formats import number_format


class FrenchDecimalField(forms.DecimalField):
    """A number as people type it in French: "24 500,00" or "0,5". The spaces that group
    thousands (ordinary, non-breaking or narrow) are dropped before Django parses it,
    which it does not do unless ``USE_THOUSAND_SEPARATOR`` is on."""

    def to_python(self, value):
        if isinstance(value, str):
            value = "".join(value.split())
        return super().to_python(value)


class AmountInput(forms.TextInput):
    """Shows a stored amount as "24 500,00", as it was typed."""

    def format_value(self, value):
        if isinstance(value, Decimal):
            return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
        return super().format_value(value)


class EurosField(FrenchDecimalField):
    """An amount as people type it: "24 500,00 €" as well as "24500"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        super().__init__(localize=True, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace("€", "")
        return super().to_python(value)
