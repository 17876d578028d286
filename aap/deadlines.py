"""The deadline rule, in one place.

"Au plus tard le 17 septembre 2024 à 17h00": a dossier received during the second
17:00:00 (Paris) is on time, one received at 17:00:01 is late. Instants are compared
in UTC, so the rule holds across daylight-saving changes.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

from core.dates import to_the_second


def is_on_time(deadline: dt.datetime, received_at: dt.datetime) -> bool:
    """Whether something received at ``received_at`` meets ``deadline``."""
    return to_the_second(received_at) <= deadline


def paper_copy_on_time(
    deadline: dt.datetime,
    *,
    rule: str,
    method: str,
    postmarked_on: dt.date | None = None,
    received_on: dt.date | None = None,
    received_at: dt.datetime | None = None,
) -> bool | None:
    """Whether a paper copy meets the deadline under the call's rule; None if unknown.

    By registered mail with "cachet de la Poste faisant foi", the postmark's date counts:
    on or before the deadline's date (Paris). Under the reception rule, the day it was
    received counts. Handed over against a receipt, the hour counts, as for the
    electronic copy.
    """
    local_deadline = deadline.astimezone(ZoneInfo(settings.TIME_ZONE))
    if method == "hand":
        if received_at is not None:
            return is_on_time(deadline, received_at)
        return None if received_on is None else received_on <= local_deadline.date()
    if rule == "postmark":
        return None if postmarked_on is None else postmarked_on <= local_deadline.date()
    return None if received_on is None else received_on <= local_deadline.date()
