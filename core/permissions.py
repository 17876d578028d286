"""Views declare who may use them, or they do not run.

Every view of the platform derives from ``RuleMixin`` (class-based) or is wrapped by
``rule_required`` (function-based). Views that fetch an object fetch it from a
queryset already limited to what the user may see (others get 404), then the rule
decides on that object (insiders without the right get 403).
A test walks every URL pattern and fails on a view without a rule.
"""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.views.generic.detail import SingleObjectMixin

from core import rules


class RuleMixin:
    #: predicate ``rule(user, obj) -> bool``; ``obj`` is ``get_rule_object()``
    rule = None
    #: optional predicate ``role(user) -> bool`` checked before any object is fetched,
    #: so that a whole area (the back-office) answers 403 to other roles; a rule that
    #: reads only roles (``core.rules.role_predicate``) is that check by itself
    role = None
    #: whether anonymous visitors may use the view (the rule still applies)
    public = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # One check per predicate: a role that repeats the rule says nothing more.
        if cls.__dict__.get("role") is not None and cls.role is cls.rule:
            raise ImproperlyConfigured(f"{cls.__name__}: role and rule name the same predicate.")

    def get_rule_object(self):
        return None

    def dispatch(self, request, *args, **kwargs):
        rule = type(self).rule
        if rule is None:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no rule.")
        role = type(self).role
        if role is None and getattr(rule, "reads_only_roles", False):
            role = rule
        if role is not None and not role(request.user):
            raise PermissionDenied
        if rule is not role and not rule(request.user, self.get_rule_object()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ObjectRuleMixin(RuleMixin, SingleObjectMixin):
    """The rule is checked against the view's object, fetched once from ``get_queryset``
    (limited to what the user may see: others get 404)."""

    def get_object(self, queryset=None):
        if not hasattr(self, "_rule_object"):
            self._rule_object = super().get_object(queryset)
            # Views that are not DetailViews (forms, actions) share SingleObjectMixin's context.
            self.object = self._rule_object
        return self._rule_object

    def get_rule_object(self):
        return self.get_object()


class PublicMixin(RuleMixin):
    """Open to anonymous visitors (``LoginRequiredMiddleware`` lets them through)."""

    rule = staticmethod(rules.anyone)
    public = True

    @classmethod
    def as_view(cls, **initkwargs):
        return login_not_required(super().as_view(**initkwargs))


def rule_required(rule, *, public=False):
    """The function-view twin of ``RuleMixin``: ``@rule_required(rules.is_instructeur)``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not rule(request.user, None):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.rule = rule
        wrapped.public = public
        return login_not_required(wrapped) if public else wrapped

    return decorator
