from django.apps import AppConfig


class LLMConfig(AppConfig):
    name = "supportdesk.llm"
    label = "llm"
    verbose_name = "Language model"
    default_auto_field = "django.db.models.BigAutoField"
