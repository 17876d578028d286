from core.models.mail import EmailStatus, OutgoingEmail
from core.models.mfa import SecondFactorEvent
from core.models.reminders import CalendarFeed, Reminder
from core.models.users import User

__all__ = ["CalendarFeed", "EmailStatus", "OutgoingEmail", "Reminder", "SecondFactorEvent", "User"]
