"""The funding-request form of a call, built from its questions, and its answers.

Answers are stored as JSON: text as a string, numbers and amounts as decimal strings
("12500.00"), dates as ISO strings, yes/no as a boolean, choices as a list of strings,
lots as a list of lot ids.
"""

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aap.models import Question, QuestionKind
from core.forms import AmountInput, FrenchDecimalField
from core.text import markdown_subset

YES_NO_CHOICES = [
    ("", gettext_lazy("— Choisir —")),
    ("yes", gettext_lazy("Oui")),
    ("no", gettext_lazy("Non")),
]


def answer_is_empty(value) -> bool:
    return value is None or value == "" or value == []


def field_for(question: Question, lots) -> forms.Field:
    """The form field of one question, with its label, help and limits."""
    common = {
        "label": question.label,
        "required": False,
        # Staff-written: a Markdown subset through the sanitiser, never raw HTML.
        "help_text": markdown_subset(question.help_text),
    }
    kind = question.kind
    if kind == QuestionKind.SHORT_TEXT:
        return forms.CharField(max_length=question.max_length or 250, **common)
    if kind == QuestionKind.LONG_TEXT:
        attrs = {"rows": 6}
        if question.max_length:
            attrs["maxlength"] = question.max_length
        return forms.CharField(
            max_length=question.max_length, widget=forms.Textarea(attrs=attrs), **common
        )
    if kind == QuestionKind.NUMBER:
        return FrenchDecimalField(max_digits=12, decimal_places=2, localize=True, **common)
    if kind == QuestionKind.AMOUNT:
        field = FrenchDecimalField(
            max_digits=12,
            decimal_places=2,
            min_value=0,
            localize=True,
            widget=AmountInput,
            **common,
        )
        field.widget.attrs["inputmode"] = "decimal"
        return field
    if kind == QuestionKind.DATE:
        from aap.forms import DateInput

        return forms.DateField(widget=DateInput(), **common)
    if kind == QuestionKind.YES_NO:
        return forms.ChoiceField(choices=YES_NO_CHOICES, **common)
    if kind == QuestionKind.CHOICE:
        choices = [("", _("— Choisir —"))] + [(c, c) for c in question.choice_list]
        return forms.ChoiceField(choices=choices, **common)
    if kind == QuestionKind.CHOICES:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in question.choice_list],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    if kind == QuestionKind.LOTS:
        return forms.MultipleChoiceField(
            choices=[(str(lot.pk), f"{lot.name}") for lot in lots],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    raise ValueError(f"Unknown question kind {kind}")


def to_json(question: Question, value):
    """The form's cleaned value as stored in ``Answer.value``."""
    if answer_is_empty(value):
        return None
    kind = question.kind
    if kind == QuestionKind.AMOUNT:
        return f"{value:.2f}"
    if kind == QuestionKind.NUMBER:
        return str(value)
    if kind == QuestionKind.DATE:
        return value.isoformat()
    if kind == QuestionKind.YES_NO:
        return value == "yes"
    if kind == QuestionKind.LOTS:
        return sorted(int(pk) for pk in value)
    if kind == QuestionKind.CHOICES:
        return list(value)
    return value.strip() if isinstance(value, str) else value


def to_initial(question: Question, value):
    """The stored value as the form shows it."""
    if value is None:
        return None
    kind = question.kind
    if kind in (QuestionKind.NUMBER, QuestionKind.AMOUNT):
        return Decimal(value)
    if kind == QuestionKind.DATE:
        return dt.date.fromisoformat(value)
    if kind == QuestionKind.YES_NO:
        return "yes" if value else "no"
    if kind == QuestionKind.LOTS:
        return [str(pk) for pk in value]
    return value


def euros(value) -> str:
    """ "24 500,00 €"."""
    return f"{number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)} €"


def read_answers(candidature) -> list[tuple[Question, object, str]]:
    """Every question of the dossier's call in the form's order, with its stored value
    and the answer as people read it (what the dossier pages and the dossier de demande
    show; the call's questions, lots and the answers are read prefetched when they are)."""
    lots_by_id = {lot.pk: lot.name for lot in candidature.call.lots.all()}
    answers = {answer.question_id: answer.value for answer in candidature.answers.all()}
    return [
        (
            question,
            answers.get(question.pk),
            display(question, answers.get(question.pk), lots_by_id),
        )
        for question in candidature.call.form_questions.all()
    ]


def by_section(items, section_of) -> list[tuple[str, list]]:
    """``items`` grouped under the form's sections, in order (a section named again
    further down starts a new group, as the form shows it)."""
    sections: list[tuple[str, list]] = []
    for item in items:
        section = section_of(item)
        if sections and sections[-1][0] == section:
            sections[-1][1].append(item)
        else:
            sections.append((section, [item]))
    return sections


def display(question: Question, value, lots_by_id=None) -> str:
    """The answer as people read it, in French."""
    if answer_is_empty(value):
        return ""
    kind = question.kind
    if kind == QuestionKind.AMOUNT:
        return euros(value)
    if kind == QuestionKind.NUMBER:
        return number_format(Decimal(value), use_l10n=True)
    if kind == QuestionKind.DATE:
        return date_format(dt.date.fromisoformat(value), "DATE_FORMAT")
    if kind == QuestionKind.YES_NO:
        return _("Oui") if value else _("Non")
    if kind == QuestionKind.LOTS:
        lots_by_id = lots_by_id or {}
        return ", ".join(str(lots_by_id.get(pk, pk)) for pk in value)
    if kind == QuestionKind.CHOICES:
        return ", ".join(value)
    return str(value)


class AnswersForm(forms.Form):
    """Every question of the call, grouped by section. Saving a draft accepts gaps: what
    is required is checked by the completeness panel and again at submission."""

    def __init__(self, *args, questions, lots, answers, chosen_lot_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        self.asks_lots = any(q.kind == QuestionKind.LOTS for q in self.questions)
        if lots and not self.asks_lots:
            # A call with lots always asks which ones, even without a question for it.
            self.fields["lots"] = forms.MultipleChoiceField(
                label=_("Lot(s) sollicité(s)"),
                choices=[(str(lot.pk), lot.name) for lot in lots],
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )
            self.initial["lots"] = [str(pk) for pk in chosen_lot_ids]
        for question in self.questions:
            name = f"q{question.pk}"
            self.fields[name] = field_for(question, lots)
            self.fields[name].question = question
            if question.pk in answers:
                self.initial[name] = to_initial(question, answers[question.pk])

    def sections(self):
        """[(section title, [bound fields])] in the order of the questions."""
        grouped = []
        for question in self.questions:
            field = self[f"q{question.pk}"]
            if grouped and grouped[-1][0] == question.section:
                grouped[-1][1].append(field)
            else:
                grouped.append((question.section, [field]))
        return grouped

    def values(self) -> dict:
        return {
            question.pk: to_json(question, self.cleaned_data.get(f"q{question.pk}"))
            for question in self.questions
        }

    def lot_ids(self) -> list[int] | None:
        """The lots chosen, when the lots field stands apart from the questions."""
        if "lots" not in self.fields:
            return None
        return [int(pk) for pk in self.cleaned_data.get("lots", [])]
