"""The Django admin of the kernel, for administrators only: accounts, roles, e-mails."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts import mfa
from core.accounts.services import invite_staff
from core.addresses import normalise_email
from core.models import OutgoingEmail, SecondFactorEvent, User

# A second factor changes only through core.accounts.mfa, which writes its history: the
# devices' own admin pages (secrets, codes) are not offered.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class LowercaseEmailMixin:
    def clean_email(self):
        # User.save() stores the normalised address: check uniqueness on that value, or a
        # known address typed in another form passes the form and fails in the database.
        return normalise_email(self.cleaned_data["email"])


class StaffCreationForm(LowercaseEmailMixin, forms.ModelForm):
    """Staff accounts are created here, never by sign-up: the person gets an e-mail
    with a link to choose a password."""

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "job_title", "phone", "groups"]


class UserChangeForm(LowercaseEmailMixin, BaseUserChangeForm):
    pass


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = StaffCreationForm
    add_fieldsets = (
        (None, {"fields": ("email", "first_name", "last_name", "job_title", "phone", "groups")}),
    )
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name", "job_title", "phone")}),
        (_("Rôles"), {"fields": ("groups", "is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("email_verified_at", "last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = (
        "email",
        "first_name",
        "last_name",
        "roles",
        "is_active",
        "email_verified_at",
        "second_factor",
    )
    actions = ["reset_second_factor"]
    list_filter = ("groups", "is_active", "is_superuser")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)

    @admin.display(description=_("rôles"))
    def roles(self, obj):
        return ", ".join(group.name for group in obj.groups.all())

    @admin.display(description=_("double authentification"), boolean=True)
    def second_factor(self, obj):
        return obj.has_totp

    def get_queryset(self, request):
        enrolled = TOTPDevice.objects.filter(user=models.OuterRef("pk"), confirmed=True)
        return (
            super()
            .get_queryset(request)
            .prefetch_related("groups")
            .annotate(has_totp=models.Exists(enrolled))
        )

    @admin.action(description=_("Réinitialiser la double authentification"))
    def reset_second_factor(self, request, queryset):
        done = []
        for user in queryset:
            try:
                mfa.reset_second_factor(user, by=request.user)
            except PermissionDenied:
                self.message_user(
                    request,
                    _("Seul un administrateur réinitialise une double authentification."),
                    messages.ERROR,
                )
                return
            except mfa.SecondFactorError as error:
                self.message_user(request, error.message, messages.WARNING)
            else:
                done.append(user.email)
        if done:
            self.message_user(
                request,
                _(
                    "Double authentification réinitialisée, et la personne prévenue par "
                    "courriel : %(emails)s."
                )
                % {"emails": ", ".join(done)},
                messages.SUCCESS,
            )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("reset_second_factor", None)
        return actions

    def save_model(self, request, obj, form, change):
        if not change:
            obj.set_unusable_password()
            # An administrator vouches for the address; the invitation proves it anyway.
            obj.email_verified_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            invite_staff(form.instance)
            messages.info(
                request,
                _("Une invitation à choisir un mot de passe a été envoyée à %(email)s.")
                % {"email": form.instance.email},
            )


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    list_display = ("subject", "to", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("subject", "to")
    readonly_fields = [field.name for field in OutgoingEmail._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(SecondFactorEvent)
class SecondFactorEventAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "action_label", "by")
    list_filter = ("action",)
    search_fields = ("user__email", "by__email")
    readonly_fields = [field.name for field in SecondFactorEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
