from django.contrib import admin

from onthaal.registration.models import Domain, Registration, Result, Topic


class TopicInline(admin.TabularInline):
    model = Topic
    extra = 0
    fields = ["name", "position", "is_active"]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "position", "is_active"]
    list_editable = ["position", "is_active"]
    inlines = [TopicInline]

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Retire instead of delete: earlier years' reports still count it.
        return False


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "position", "is_active"]
    list_filter = ["domain", "is_active"]
    list_editable = ["position", "is_active"]

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Result)
class ResultAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "position", "is_active"]
    list_editable = ["position", "is_active"]

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["conversation", "operator", "prank_suspected", "created_at"]
    list_filter = ["prank_suspected"]
    readonly_fields = ["conversation", "operator", "created_at", "updated_at"]
    filter_horizontal = ["topics", "results"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
