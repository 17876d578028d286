"""Inactive accounts are told before they are due: once per period of inactivity, and a
login cancels the warning (and, by moving ``last_login``, the deletion)."""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from core.dates import format_datetime
from core.links import absolute_url
from core.mail import queue_email
from retention.models import AccountWarning
from retention.queries import cutoff, inactive_accounts, local_day, period
from retention.states import Category

TEMPLATE = "retention_account_warning"


def warn_inactive_accounts(*, on: dt.date) -> int:
    """Warn every account due within ``RETENTION_ACCOUNT_WARNING_DAYS`` of ``on`` (or
    already due) that was not warned for this inactivity; return how many were warned."""
    ahead = on + dt.timedelta(days=settings.RETENTION_ACCOUNT_WARNING_DAYS)
    accounts = inactive_accounts(before=cutoff(Category.INACTIVE_ACCOUNT, ahead))
    warned = AccountWarning.objects.filter(user__in=accounts).values_list(
        "user_id", "inactive_since"
    )
    already = set(warned)
    count = 0
    for user in accounts:
        if (user.pk, user.inactive_since) in already:
            continue
        if warn(user, inactive_since=user.inactive_since):
            count += 1
    return count


def warn(user, *, inactive_since: dt.datetime) -> bool:
    """Store the warning and queue its e-mail in one transaction; False if it existed."""
    due_on = local_day(inactive_since) + period(Category.INACTIVE_ACCOUNT)
    try:
        with transaction.atomic():
            warning = AccountWarning.objects.create(
                user=user, inactive_since=inactive_since, due_on=due_on
            )
            warning.email = queue_email(
                to=user.email,
                template=TEMPLATE,
                context={
                    "email": user.email,
                    "inactive_since": format_datetime(inactive_since),
                    "due_on": date_format(due_on, "DATE_FORMAT"),
                    "login_url": absolute_url("accounts:login"),
                },
                key=f"retention-warning-{user.pk}-{inactive_since.timestamp():.0f}",
                user=user,
            )
            warning.save(update_fields=["email"])
    except IntegrityError:
        return False  # another run warned this account for this inactivity
    return True


def cancel_on_login(sender, request, user, **kwargs):
    """``user_logged_in``: the account is in use again, its warnings no longer hold."""
    AccountWarning.objects.filter(user=user, cancelled_at__isnull=True).update(
        cancelled_at=timezone.now()
    )
