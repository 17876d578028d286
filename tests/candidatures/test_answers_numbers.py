"""Numbers and amounts of the funding-request form, typed and shown as in French."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from aap.models import Question, QuestionKind
from candidatures.answers import field_for


@pytest.fixture(autouse=True)
def french():
    with translation.override("fr"):
        yield


@pytest.mark.parametrize(
    "typed",
    ["24 500,00", "24\xa0500,00", "24\u202f500,00", "24500,00", " 24500 "],
)
def test_an_amount_with_grouped_thousands_is_accepted(typed):
    field = field_for(Question(pk=1, label="Montant", kind=QuestionKind.AMOUNT), lots=[])
    assert field.clean(typed) == Decimal("24500")


def test_a_stored_amount_is_shown_with_grouped_thousands_and_cents():
    field = field_for(Question(pk=1, label="Montant", kind=QuestionKind.AMOUNT), lots=[])
    assert field.widget.format_value(Decimal("24500.00")) == "24\xa0500,00"


def test_a_number_takes_a_decimal_comma():
    field = field_for(Question(pk=2, label="ETP", kind=QuestionKind.NUMBER), lots=[])
    assert field.clean("0,5") == Decimal("0.5")


def test_an_amount_that_is_not_a_number_is_still_refused():
    field = field_for(Question(pk=1, label="Montant", kind=QuestionKind.AMOUNT), lots=[])
    with pytest.raises(ValidationError, match="Saisissez un nombre"):
        field.clean("vingt mille")
