"""Celery app for TASK_BACKEND=celery: the same task functions, registered by dotted path."""

from __future__ import annotations

import os
from collections.abc import Callable

from celery import Celery
from celery.signals import worker_init
from django.utils.module_loading import import_string

from supportdesk.task_table import TASKS, periodic_tasks

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")

app = Celery("supportdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _task_runner(name: str) -> Callable[..., object]:
    # Imported at call time: Celery's Django fix-up has set Django up by then.
    def run(*args: object) -> object:
        return import_string(name)(*args)

    run.__name__ = name.rsplit(".", 1)[-1]
    return run


@worker_init.connect
def _prepare_worker(**_: object) -> None:
    """One compute thread per process, models loaded before the prefork pool forks."""
    import django

    django.setup()  # a no-op when Celery's Django fix-up has set Django up already
    from supportdesk.workers import worker_prepare

    worker_prepare()


for _name in TASKS:
    app.task(name=_name)(_task_runner(_name))


def beat_schedule() -> dict[str, dict]:
    """`celery beat`'s entries (or a worker's with -B): the enabled rows of the periodic table
    that django-q2's schedules come from too."""
    schedule = {}
    for periodic in periodic_tasks():
        if periodic.enabled:
            seconds = periodic.minutes * 60.0
            entry = {"task": periodic.task, "schedule": seconds}
            if periodic.expires:
                entry["options"] = {"expires": seconds}
            schedule[periodic.name] = entry
    return schedule


app.conf.beat_schedule = beat_schedule()
