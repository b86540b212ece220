"""The three roles. Agents work the inbox; supervisors also handle escalations; admins run
the Django admin (FAQ approvals, KB, rules, customers)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import OuterRef, Q, Value
from django.db.models.functions import Concat

AGENT, SUPERVISOR, ADMIN = "agent", "supervisor", "admin"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    AGENT: ["supportdesk.work_inbox", "knowledge.view_article"],
    SUPERVISOR: ["supportdesk.work_inbox", "supportdesk.supervise", "knowledge.view_article"],
    ADMIN: [
        "supportdesk.work_inbox",
        "supportdesk.supervise",
        "supportdesk.view_ticket",
        "supportdesk.view_customer",
        "supportdesk.change_customer",
        "supportdesk.view_automaticmail",
        "knowledge.view_article",
        "knowledge.add_article",
        "knowledge.change_article",
        "knowledge.view_faqsuggestion",
        "knowledge.change_faqsuggestion",
        "supportdesk.view_category",
        "supportdesk.add_category",
        "supportdesk.change_category",
        "triage.view_labelledexample",
        "triage.view_modelversion",
        "triage.view_routingrule",
        "triage.add_routingrule",
        "triage.change_routingrule",
        "triage.delete_routingrule",
        "triage.view_routingdecision",
        "triage.view_routingsettings",
        "triage.add_routingsettings",
        "triage.change_routingsettings",
        "supportdesk.view_team",
        "supportdesk.add_team",
        "supportdesk.change_team",
        "supportdesk.delete_team",
        "triage.view_slapolicy",
        "triage.add_slapolicy",
        "triage.change_slapolicy",
        "supportdesk.view_businesshours",
        "supportdesk.add_businesshours",
        "supportdesk.change_businesshours",
        "supportdesk.view_holiday",
        "supportdesk.add_holiday",
        "supportdesk.change_holiday",
        "supportdesk.delete_holiday",
        "feedback.view_feedbackevent",
        # The drafts' changelist, where decisions are exported for evaluation and fine-tuning.
        "replies.view_draft",
        "feedback.view_rating",
        "replies.view_toneprofilesetting",
        "replies.add_toneprofilesetting",
        "replies.change_toneprofilesetting",
        "replies.view_macro",
        "replies.add_macro",
        "replies.change_macro",
        "replies.delete_macro",
        "replies.view_brandvoice",
        "replies.add_brandvoice",
        "replies.change_brandvoice",
        "llm.view_llmsettings",
        "llm.change_llmsettings",
        "llm.view_llmcall",
        # Sign-in lockouts: deleting an account's access attempts unlocks it.
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
    ],
}


def ensure_roles(**kwargs: object) -> None:
    """Create or refresh the role groups. Runs after every migrate; safe to repeat."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for name in names:
            app_label, codename = name.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.add(*perms)


class OneQueryPermissionsBackend(ModelBackend):
    """Django's model backend, reading a person's permissions with the person.

    ``ModelBackend`` loads the signed-in user, then on the first ``has_perm`` of the request
    asks once for the permissions given to the user and once for those of their groups; every
    page checks at least one (the inbox permission), so every page paid three queries. On
    PostgreSQL the permissions come as an array column of the user's own row; elsewhere in
    one query with both paths. Either way the set is cached on the user object for the rest of
    the request, as Django does, and is read again on the next request."""

    def get_user(self, user_id):
        if connection.vendor != "postgresql":
            return super().get_user(user_id)
        from django.contrib.postgres.expressions import ArraySubquery  # needs psycopg

        User = get_user_model()
        granted = (
            Permission.objects.filter(Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk")))
            .annotate(perm=Concat("content_type__app_label", Value("."), "codename"))
            .order_by()
            .values("perm")
        )
        user = User._default_manager.annotate(granted=ArraySubquery(granted)).filter(pk=user_id)
        user = user.first()
        if user is None or not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:  # a superuser holds every permission: read when asked
            user._perm_cache = set(user.granted)
        return user

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(
                    Q(user=user_obj) | Q(group__user=user_obj)
                ).distinct()
            rows = permissions.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in rows}
        return user_obj._perm_cache
