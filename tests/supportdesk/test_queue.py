from __future__ import annotations

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from supportdesk.celery import beat_schedule
from supportdesk.queue import periodic_schedules_sync
from supportdesk.task_table import PeriodicTask

pytestmark = pytest.mark.django_db

IMAP = "imaps://u:p@mx.example/INBOX"


def _rows() -> dict[str, tuple[str, int]]:
    return {
        row.name: (row.func, row.minutes)
        for row in Schedule.objects.filter(schedule_type=Schedule.MINUTES, repeats=-1)
    }


def _beat() -> dict[str, tuple[str, int]]:
    return {
        name: (entry["task"], entry["schedule"] / 60) for name, entry in beat_schedule().items()
    }


def test_celery_beat_and_django_q2_run_the_same_tasks_at_the_same_intervals(settings):
    settings.TASK_BACKEND = "q2"
    settings.IMAP_URL, settings.IMAP_POLL_MINUTES = IMAP, 5

    call_command("migrate", verbosity=0)  # the rows are synced after every migrate

    assert (
        _rows()
        == _beat()
        == {
            "sla_check": ("triage.tasks.sla_check", 1),
            "assign_waiting": ("triage.tasks.assign_waiting", 1),
            "answers_refresh": ("triage.tasks.answers_refresh", 5),
            "metrics_sweep": ("feedback.tasks.metrics_sweep", 1),
            "attachment_sweep": ("supportdesk.tasks.attachment_sweep", 24 * 60),
            "satisfaction_refit": ("feedback.tasks.satisfaction_refit", 24 * 60),
            "threshold_suggestions": ("triage.tasks.threshold_suggestions_refresh", 10),
            "edit_suggestions": ("feedback.tasks.edit_suggestions_refresh", 10),
            "imap_poll": ("supportdesk.intake.imap.imap_poll_task", 5),
        }
    )


def test_switching_imap_off_removes_its_poll_from_both_schedules(settings):
    settings.TASK_BACKEND = "q2"
    settings.IMAP_URL = IMAP
    periodic_schedules_sync()
    assert "imap_poll" in _rows()

    settings.IMAP_URL = ""
    periodic_schedules_sync()

    assert not Schedule.objects.filter(func="supportdesk.intake.imap.imap_poll_task").exists()
    assert "imap_poll" not in beat_schedule()
    assert _rows() == _beat()


def test_a_poll_left_under_its_old_name_does_not_run_twice(settings):
    settings.TASK_BACKEND = "q2"
    settings.IMAP_URL = IMAP
    Schedule.objects.create(
        name="supportdesk.imap_poll",
        func="supportdesk.intake.imap.imap_poll_task",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
    )

    periodic_schedules_sync()

    assert list(
        Schedule.objects.filter(func="supportdesk.intake.imap.imap_poll_task").values_list(
            "name", flat=True
        )
    ) == ["imap_poll"]


def test_django_q2_keeps_no_rows_when_another_backend_runs_the_tasks(settings):
    settings.TASK_BACKEND = "q2"
    periodic_schedules_sync()
    assert _rows()

    settings.TASK_BACKEND = "celery"  # Celery beat runs the clock: a q2 row would run it twice
    assert periodic_schedules_sync() == []

    assert _rows() == {}


def test_a_periodic_task_must_be_a_known_task():
    with pytest.raises(ValueError, match="unknown task"):
        PeriodicTask(name="typo", task="triage.tasks.sla_chek", minutes=1)
