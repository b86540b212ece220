class CoreDatabaseRouter:
    """Everything but the channel layer's tables lives in the default database."""

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool | None:
        if app_label == "channels_lite":
            return None
        return db == "default"
