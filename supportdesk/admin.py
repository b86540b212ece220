from django import forms
from django.contrib import admin

from supportdesk.models import (
    WEEKDAYS,
    ApiToken,
    AutomaticMail,
    BusinessHours,
    Category,
    Customer,
    Holiday,
    Message,
    Team,
    Ticket,
)


class WordListField(forms.CharField):
    """A list of words typed one per line or separated by commas."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [w.strip() for w in text.replace("\n", ",").split(",") if w.strip()]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "routine", "auto_send", "active"]
    list_editable = ["routine", "auto_send", "active"]
    prepopulated_fields = {"slug": ["name"]}


class TeamForm(forms.ModelForm):
    languages = WordListField(
        required=False, help_text="Language codes the team answers in, e.g. en, de. Empty: any."
    )

    class Meta:
        model = Team
        fields = ["name", "active", "strategy", "members", "categories", "languages"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamForm
    list_display = ["name", "active", "strategy", "languages"]
    list_editable = ["active", "strategy"]
    filter_horizontal = ["members", "categories"]


class BusinessHoursForm(forms.ModelForm):
    days = forms.MultipleChoiceField(
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        help_text="The team's working weekdays.",
    )

    class Meta:
        model = BusinessHours
        fields = ["name", "timezone", "days", "opens", "closes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["days"] = list(self.instance.days)

    def clean_days(self) -> str:
        return "".join(sorted(self.cleaned_data["days"]))


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    """An SLA policy that names a schedule counts only its hours (docs/routing.md)."""

    form = BusinessHoursForm
    list_display = ["name", "timezone", "weekdays", "opens", "closes"]
    inlines = [HolidayInline]

    @admin.display(description="Days")
    def weekdays(self, obj):
        names = dict(WEEKDAYS)
        return ", ".join(names[day][:3] for day in obj.days if day in names)


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
