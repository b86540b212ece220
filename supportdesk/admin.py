from django.contrib import admin

from supportdesk.models import ApiToken, AutomaticMail, Customer, Message, Ticket


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "plan", "is_vip", "locale", "first_seen"]
    list_filter = ["is_vip", "plan"]
    list_editable = ["is_vip"]
    search_fields = ["email", "name"]
    show_full_result_count = False


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["direction", "body_text", "author_user", "delivery_status", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    show_change_link = False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-only: tickets change through the inbox, where every change is recorded."""

    list_display = [
        "id",
        "subject",
        "customer",
        "status",
        "urgency",
        "category",
        "emotion",
        "created_at",
    ]
    list_filter = ["status", "urgency", "channel", "needs_manual_triage", "is_escalated"]
    search_fields = ["subject", "customer__email"]
    list_select_related = ["customer", "category"]
    show_full_result_count = False
    inlines = [MessageInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "user", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # tokens are created with `manage.py create_api_token USERNAME`


@admin.register(AutomaticMail)
class AutomaticMailAdmin(admin.ModelAdmin):
    """Read-only: which acknowledgements went out, and why others were held back."""

    list_display = ["id", "ticket", "recipient", "kind", "status", "detail", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["recipient", "=ticket__id"]
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket", "in_reply_to"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
