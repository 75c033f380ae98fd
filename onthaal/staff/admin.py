from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from onthaal.staff.models import User


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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Coordinators manage accounts but cannot hand out admin rights.
            readonly += ["is_superuser", "is_staff", "groups", "user_permissions"]
        return readonly
