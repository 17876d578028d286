"""Numbers as French users type them, on every form: "1_000" is not a number, "-0" is 0."""

import importlib
from decimal import Decimal

import pytest
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import translation

from core.forms import EurosField, FrenchDecimalField

APPS = ("aap", "candidatures", "evaluation", "conventions", "core")


@pytest.fixture(autouse=True)
def french():
    with translation.override("fr"):
        yield


@pytest.mark.parametrize("typed", ["1_000", "1_000,00", "24_500", "_5"])
@pytest.mark.parametrize("field", [FrenchDecimalField(localize=True), EurosField()])
def test_an_underscore_is_not_a_digit_separator(field, typed):
    with pytest.raises(ValidationError, match="Saisissez un nombre"):
        field.clean(typed)


@pytest.mark.parametrize("typed", ["-0", "-0,00", "- 0", "-0 €", "−0"])
def test_minus_zero_is_stored_as_zero(typed):
    field = EurosField()
    try:
        value = field.clean(typed)
    except ValidationError:
        # "−" (the minus sign, not the hyphen) is not a number: refused, not stored.
        assert typed == "−0"
        return
    assert value == 0
    assert not value.is_signed()
    assert str(value) in {"0", "0.00"}


def test_grouped_amounts_still_read():
    assert EurosField().clean("24 500,00 €") == Decimal("24500.00")


def _project_form_classes():
    for app in APPS:
        try:
            importlib.import_module(f"{app}.forms")
        except ModuleNotFoundError:
            continue
    seen, todo = set(), [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return [cls for cls in seen if cls.__module__.split(".")[0] in APPS]


def test_every_decimal_field_of_our_forms_is_read_the_french_way():
    classes = _project_form_classes()
    assert len(classes) > 20
    plain = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in classes
        for name, field in getattr(cls, "base_fields", {}).items()
        if isinstance(field, forms.DecimalField) and not isinstance(field, FrenchDecimalField)
    ]
    assert plain == []


def test_the_admin_reads_decimals_the_french_way(rf, admin_user):
    from aap.models import Call, Lot

    inline = next(
        inline
        for inline in admin.site._registry[Call].inlines
        if inline.model is Lot  # the lots' budgets and FTE
    )(Call, admin.site)
    field = inline.formfield_for_dbfield(Lot._meta.get_field("budget"), request=rf.get("/"))
    assert isinstance(field, FrenchDecimalField)
