from django.contrib import admin

from onthaal.chat.models import Conversation


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Read-only overview for coordinators. Transcripts are not shown here."""

    list_display = ["id", "status", "end_reason", "audience", "operator", "queued_at", "rating"]
    list_filter = ["status", "end_reason", "audience", "device_class"]
    exclude = ["token_hash"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
