"""Every amount and decimal field of every form reads numbers as French users type them:
« 60 000 », « 60 000,50 », « 60 000 € » (ordinary, non-breaking or narrow spaces)."""

import ast
import importlib
from decimal import Decimal
from pathlib import Path

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from core.forms import FrenchDecimalField
from tests.factories import CallFactory
from tests.test_layers import LAYERS, modules_of

BASE_DIR = Path(__file__).resolve().parents[2]
APPS = [app for app in LAYERS if app != "demo"]
TYPED = {
    "60 000": Decimal("60000"),
    "60 000,50": Decimal("60000.50"),
    "60 000 €": Decimal("60000"),
    "60 000,50 €": Decimal("60000.50"),
    "60\u00a0000,50\u00a0€": Decimal("60000.50"),  # non-breaking space, as Word writes it
    "60\u202f000": Decimal("60000"),  # narrow non-breaking space, as the platform prints it
    "60000€": Decimal("60000"),
    "0,5": Decimal("0.5"),
    "33,5 %": Decimal("33.5"),
}


def _import_every_module():
    for app in APPS:
        for path in modules_of(app):
            if "management" in path.parts:
                continue
            name = ".".join(path.relative_to(BASE_DIR).with_suffix("").parts)
            importlib.import_module(name.removesuffix(".__init__"))


def _form_classes():
    _import_every_module()
    seen, todo = set(), [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return sorted(
        (cls for cls in seen if cls.__module__.split(".")[0] in APPS),
        key=lambda cls: f"{cls.__module__}.{cls.__name__}",
    )


def _decimal_fields():
    return [
        pytest.param(field, id=f"{cls.__module__}.{cls.__name__}.{name}")
        for cls in _form_classes()
        for name, field in getattr(cls, "base_fields", {}).items()
        if isinstance(field, forms.DecimalField)
    ]


@pytest.mark.parametrize("field", _decimal_fields())
def test_every_decimal_field_of_every_form_reads_french_numbers(field):
    assert isinstance(field, FrenchDecimalField)
    with translation.override("fr"):
        read = {typed: field.to_python(typed) for typed in TYPED}
    assert read == TYPED


def test_fields_made_when_a_form_is_built_are_french_too():
    """Fields added in ``__init__`` (per criterion, per lot, per indicator, per question)
    are not in ``base_fields``: no module but the kernel builds a plain decimal field."""
    plain = []
    for app in APPS:
        for path in modules_of(app):
            if path == BASE_DIR / "core" / "forms.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
                if name in ("DecimalField", "FloatField") and owner != "models":
                    plain.append(f"{path.relative_to(BASE_DIR)}:{node.lineno}")
    # Database expressions (output_field of annotations) are not form fields.
    plain = [place for place in plain if "queries.py" not in place]
    assert plain == []


def test_a_lot_budget_typed_with_spaces_and_euros_is_saved(client_for, instructeur, db):
    from aap.states import CallStatus

    call = CallFactory(status=CallStatus.DRAFT)
    data = {
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-position": "1",
        "items-0-name": "Nord Isère",
        "items-0-fte": "0,5",
        "items-0-budget": "60 000,50 €",
    }
    response = client_for(instructeur).post(reverse("aap:backoffice_lots", args=[call.pk]), data)
    assert response.status_code == 302
    assert list(call.lots.values_list("budget", "fte")) == [(Decimal("60000.50"), Decimal("0.5"))]
