from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from onthaal.audit.models import Action
from onthaal.audit.services import audit_record
from onthaal.staff.models import Role, User
from onthaal.staff.services import operator_role_apply


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "pseudonym", "discipline", "role", "availability", "is_active"]
    list_filter = ["role", "discipline", "availability", "is_active"]
    search_fields = ["username", "pseudonym", "first_name", "last_name"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Onthaal"), {"fields": ("pseudonym", "discipline", "role", "availability")}),
    )
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
        return readonly
