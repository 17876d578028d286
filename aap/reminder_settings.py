"""When each reminder of a call goes out: the call's own offsets, or the defaults its kind
declares; and under which scope a call's reminders are listed (``Reminder.scope``)."""

from collections import defaultdict

from aap.models import ReminderSetting
from core.reminders import default_days


class CallDays:
    """The offsets of one call: ``days.of("draft_days")`` → [7, 2, 0]."""

    def __init__(self, saved: dict[str, str] | None = None):
        self.saved = saved or {}

    def of(self, name: str) -> list[int]:
        return ReminderSetting.parse(self.saved.get(name) or default_days(name))


def days_for(call) -> CallDays:
    """The offsets of ``call`` (a call or its id)."""
    call_id = getattr(call, "pk", call)
    return CallDays(
        dict(ReminderSetting.objects.filter(call_id=call_id).values_list("name", "days"))
    )


def days_by_call(call_ids) -> dict:
    """The offsets of many calls in one query, the defaults for calls without any
    (``call_ids``: ids or a subquery). For kinds reading many rows of a few calls: joining
    each row to its call would fetch the call's texts once per row."""
    saved: dict[int, dict[str, str]] = defaultdict(dict)
    for call_id, name, days in ReminderSetting.objects.filter(call_id__in=call_ids).values_list(
        "call_id", "name", "days"
    ):
        saved[call_id][name] = days
    return defaultdict(CallDays, {call_id: CallDays(values) for call_id, values in saved.items()})


def call_scope(call_id: int) -> str:
    """The scope of a call's reminders: the back-office lists them on the call's page."""
    return f"call:{call_id}"


def call_id_of(scope: str) -> int:
    return int(scope.removeprefix("call:"))
