"""Reads for triage: supervisor escalations and the active model versions."""

from __future__ import annotations

from django.db.models import QuerySet

from triage.models import Escalation, ModelVersion

ESCALATION_PAGE = 50


def escalations_open() -> QuerySet[Escalation]:
    return (
        Escalation.objects.filter(acknowledged_at__isnull=True)
        .select_related("ticket__customer", "ticket__category", "raised_by")
        .order_by("-created_at")
    )


def escalations_open_count() -> int:
    return Escalation.objects.filter(acknowledged_at__isnull=True).count()


def active_model_versions() -> list[ModelVersion]:
    return list(ModelVersion.objects.filter(is_active=True).order_by("target"))
