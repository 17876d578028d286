"""The one engine that moves a status: lock, check, save, write history, then side effects.

Each app declares its table of moves in ``states.py`` and wraps ``Workflow.apply`` in a
service; the wrappers add their own checks (readiness, deadlines) before calling it.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db import models, transaction
from django.utils.translation import gettext as _

from core.exceptions import TransitionNotAllowed


@dataclass(frozen=True)
class Workflow:
    """A table of moves, and the model that keeps their history.

    ``history_model`` has the fields ``action``, ``from_status``, ``to_status``, ``by``,
    ``note`` and a foreign key named ``history_field`` to the moved object.
    """

    transitions: Mapping[tuple[str, str], str]
    statuses: type[models.TextChoices]
    actions: type[models.TextChoices]
    history_model: type[models.Model]
    history_field: str
    status_field: str = "status"

    def allowed_actions(self, status: str) -> list[str]:
        return [action for (source, action) in self.transitions if source == status]

    def target(self, status: str, action: str) -> str:
        try:
            return self.transitions[(status, action)]
        except KeyError:
            raise TransitionNotAllowed(
                _("L'action « %(action)s » n'est pas possible quand le statut est « %(status)s ».")
                % {
                    "action": self._label(self.actions, action),
                    "status": self._label(self.statuses, status),
                }
            ) from None

    def apply(
        self,
        obj: models.Model,
        action: str,
        *,
        by=None,
        note: str = "",
        updates: Mapping[str, object] | None = None,
        check: Callable[[models.Model], None] | None = None,
    ) -> models.Model:
        """Move ``obj`` by ``action`` inside a transaction and return the locked, saved row.

        ``check`` runs on the locked row before the move (it raises to refuse); the history
        row records ``by`` (None when the platform acts by itself) and ``note``.
        ``obj`` itself is refreshed so that callers holding it see the new status.
        """
        with transaction.atomic():
            row = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
            from_status = getattr(row, self.status_field)
            to_status = self.target(from_status, action)
            if check is not None:
                check(row)
            setattr(row, self.status_field, to_status)
            fields = [self.status_field]
            for name, value in (updates or {}).items():
                setattr(row, name, value)
                fields.append(name)
            if any(field.name == "updated_at" for field in row._meta.fields):
                fields.append("updated_at")
            row.save(update_fields=fields)
            self.history_model.objects.create(
                **{self.history_field: row},
                action=action,
                from_status=from_status,
                to_status=to_status,
                by=by,
                note=note,
            )
        for name in fields:
            setattr(obj, name, getattr(row, name))
        return row

    @staticmethod
    def _label(choices: type[models.TextChoices], value: str) -> str:
        try:
            return str(choices(value).label)
        except ValueError:
            return value
