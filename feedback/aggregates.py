"""A median aggregate for both databases the desk runs on.

PostgreSQL has it as an ordered-set aggregate (percentile_cont); SQLite, the embedded default,
gets the same function registered on each connection (`register_sqlite_median`)."""

from __future__ import annotations

import statistics

from django.db.models import Aggregate, FloatField


class Median(Aggregate):
    """The median of a numeric column over the group; NULLs are left out, as SQL does."""

    function = "MEDIAN"
    name = "Median"
    output_field = FloatField()
    allow_distinct = False

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="percentile_cont(0.5) WITHIN GROUP (ORDER BY %(expressions)s)",
            **extra_context,
        )


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def register_sqlite_median(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: SQLite learns MEDIAN(x)."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("MEDIAN", 1, _SqliteMedian)
