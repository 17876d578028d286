"""When each reminder of a call goes out (the call's settings, or the defaults), and
under which scope its reminders are listed (``core.models.Reminder.scope``)."""

from collections import defaultdict

from aap.models import ReminderSettings


def settings_for(call):
    """The call's reminder settings, or the defaults when none were saved."""
    try:
        return call.reminder_settings
    except ReminderSettings.DoesNotExist:
        return ReminderSettings(call=call)


def settings_by_call(call_ids) -> dict:
    """The reminder settings of many calls in one query, the defaults for calls without
    any (``call_ids``: ids or a subquery). For kinds reading many rows of a few calls:
    joining each row to its call would fetch the call's texts once per row."""
    saved = ReminderSettings.objects.filter(call_id__in=call_ids)
    return defaultdict(ReminderSettings, {row.call_id: row for row in saved})


def days_of(value: str) -> list[int]:
    return ReminderSettings.days(value)


def call_scope(call_id: int) -> str:
    """The scope of a call's reminders: the back-office lists them on the call's page."""
    return f"call:{call_id}"


def call_id_of(scope: str) -> int:
    return int(scope.removeprefix("call:"))
