from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from feedback.aggregates import register_sqlite_median

        connection_created.connect(register_sqlite_median, dispatch_uid="sqlite-median")
