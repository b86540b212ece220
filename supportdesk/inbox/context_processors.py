from __future__ import annotations

from django.http import HttpRequest

from triage.selectors import escalations_open_count


def navigation(request: HttpRequest) -> dict[str, object]:
    """The supervisor badge count, for users who may see it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("supportdesk.supervise"):
        return {}
    return {"escalation_count": escalations_open_count(), "can_supervise": True}
