"""Form fields as French users type and read them."""

from decimal import Decimal

from django import forms
from django.db import models
from django.utils.formats import number_format

from core.addresses import normalise_email


class FrenchDecimalField(forms.DecimalField):
    """A number as people type it in French: "24 500,00", "60 000 €", "33,5 %" or "0,5".
    The spaces that group thousands (ordinary, non-breaking or narrow) are dropped before
    Django parses it, which it does not do unless ``USE_THOUSAND_SEPARATOR`` is on; so is
    the unit written after the number (the field's label names it)."""

    UNITS = ("€", "%")

    def to_python(self, value):
        if isinstance(value, str):
            value = "".join(value.split())
            if value.endswith(self.UNITS):
                value = value[:-1]
            value = value.removeprefix("€")
            # Python reads "1_000" as 1000; a person who typed it meant something else.
            if "_" in value:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        value = super().to_python(value)
        # "-0" is zero: stored and shown without its sign.
        if value is not None and value.is_zero():
            value = abs(value)
        return value


def french_formfield(db_field, **kwargs):
    """``Meta.formfield_callback`` of model forms (and ``formfield_overrides`` of the
    admin): every decimal of a model is typed as French users type numbers."""
    if isinstance(db_field, models.DecimalField):
        kwargs.setdefault("form_class", FrenchDecimalField)
        kwargs.setdefault("localize", True)
    return db_field.formfield(**kwargs)


FRENCH_DECIMALS = {models.DecimalField: {"form_class": FrenchDecimalField, "localize": True}}


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


class AddressField(forms.EmailField):
    """An e-mail address, in its canonical form before it is validated and compared:
    ``ａｌｉｃｅ@orga.test`` is read as ``alice@orga.test`` (see ``core.addresses``)."""

    def to_python(self, value):
        return normalise_email(super().to_python(value))
