from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from onthaal.audit.models import Action
from onthaal.audit.services import audit_record
from onthaal.staff.models import PasskeyCredential, Role, User
from onthaal.staff.services import operator_role_apply


class PasskeyInline(admin.TabularInline):
    """An operator's passkeys, to remove a lost one; registering is the operator's own."""

    model = PasskeyCredential
    extra = 0
    fields = ["name", "created_at", "last_used_at", "sign_count", "backed_up"]
    readonly_fields = fields
    verbose_name_plural = _("passkeys (verwijder een verloren passkey hier)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "pseudonym", "discipline", "role", "availability", "is_active"]
    list_filter = ["role", "discipline", "availability", "is_active"]
    search_fields = ["username", "pseudonym", "first_name", "last_name"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            _("Onthaal"),
            {"fields": ("pseudonym", "discipline", "role", "availability", "max_chats")},
        ),
        (_("Single sign-on"), {"fields": ("oidc_subject",)}),
    )
    inlines = [PasskeyInline]

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> Any:
        # A new account has no passkeys; its add form stays as Django's.
        return super().get_inline_instances(request, obj) if obj is not None else []

    add_fieldsets = (
        *(DjangoUserAdmin.add_fieldsets or ()),
        (_("Onthaal"), {"fields": ("pseudonym", "discipline", "role")}),
    )

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "role" and not request.user.is_superuser:
            # Only an administrator can make someone an administrator.
            kwargs["choices"] = [c for c in Role.choices if c[0] != Role.ADMINISTRATOR]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        operator_role_apply(user=obj)
        actor: User = request.user  # type: ignore[assignment]
        changed = sorted(f for f in form.changed_data if f != "password")
        audit_record(
            action=Action.ACCOUNT_CHANGED if change else Action.ACCOUNT_CREATED,
            actor=actor,
            target=f"user:{obj.pk}",
            fields=changed,
        )
        if change and "role" in form.changed_data:
            audit_record(
                action=Action.ROLE_CHANGED, actor=actor, target=f"user:{obj.pk}", role=obj.role
            )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A coordinator manages operators, not administrators' accounts.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Coordinators manage accounts but cannot hand out admin rights.
            readonly += ["is_superuser", "is_staff", "groups", "user_permissions"]
            # Whoever sets the subject decides who signs in to the account.
            readonly += ["oidc_subject"]
        return readonly
