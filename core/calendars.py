"""Private iCalendar feeds: the dates that concern each user.

Each app registers a *source* (``register_source``): a function of a user that returns
``Event``s (deadlines, evaluations due, progress reviews, reports, instalments). The feed
is served at a private address holding a random token, which the user may revoke.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as IcsEvent


@dataclass(frozen=True)
class Event:
    uid: str
    title: str
    start: dt.datetime | dt.date
    url: str = ""
    description: str = ""

    @property
    def has_time(self) -> bool:
        return isinstance(self.start, dt.datetime)


_sources: list[Callable] = []


def register_source(source: Callable[[object], Iterable[Event]]) -> None:
    if source not in _sources:
        _sources.append(source)


def events_for(user) -> list[Event]:
    events = [event for source in _sources for event in source(user)]
    return sorted(events, key=lambda event: (str(event.start), event.uid))


def to_ics(user) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Département de l'Isère//Appels à projets//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Appels à projets – Isère")
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = timezone.now()
    host = settings.SITE_URL.split("//", 1)[-1]
    for event in events_for(user):
        item = IcsEvent()
        item.add("uid", f"{event.uid}@{host}")
        item.add("dtstamp", stamp)
        item.add("summary", event.title)
        item.add("dtstart", event.start)
        if isinstance(event.start, dt.datetime):
            item.add("dtend", event.start + dt.timedelta(minutes=30))
        if event.url:
            item.add("url", event.url)
        if event.description:
            item.add("description", event.description)
        calendar.add_component(item)
    return calendar.to_ical()
