"""The Django admin of the kernel, for administrators only: accounts, roles, e-mails."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.accounts.services import invite_staff
from core.addresses import normalise_email
from core.models import OutgoingEmail, User


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
    list_display = ("email", "first_name", "last_name", "roles", "is_active", "email_verified_at")
    list_filter = ("groups", "is_active", "is_superuser")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)

    @admin.display(description=_("rôles"))
    def roles(self, obj):
        return ", ".join(group.name for group in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

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
