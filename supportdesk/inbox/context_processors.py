from __future__ import annotations

import functools

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from triage.selectors import escalations_open_count

# What static/js/desk.js says, in the page's language (base.html puts it in a JSON block).
# "%(…)s" parts are filled in by the script.
DESK_STRINGS = {
    "sessionEnded": _("Your session ended — %(sign_in)s. Live updates have stopped."),
    "signInAgain": _("sign in again"),
    "noAccess": _("Your account no longer has access to this page. Live updates have stopped."),
    "dueIn": _("due in %(time)s"),
    "overdue": _("overdue %(time)s"),
    "hoursMinutes": _("%(hours)s h %(minutes)s min"),
    "minutes": _("%(minutes)s min"),
    "forbidden": _("You are not allowed to do that. Ask a supervisor if you need to."),
    "gone": _("That item no longer exists. Reload the page to see the current state."),
    "conflict": _("Someone else acted on this first. Reload the page to see what changed."),
    "tooLarge": _("That is too large to send."),
    "tooMany": _("Too many requests just now. Wait a moment and try again."),
    "serverError": _(
        "The server could not do that (error %(status)s). Your text is still here; try again, "
        "or reload the page to see the ticket's current state."
    ),
    "failed": _("That did not work (error %(status)s)."),
    "offline": _(
        "The desk cannot reach the server. Check your connection and try again; your text is "
        "still here."
    ),
    "panelChanged": _("This reply panel changed while you were writing."),
    "showNewState": _("Show the new state (keeps your text)"),
    "selected": _("%(count)s selected"),
    "selectHint": _("Select tickets (x) to act on several at once"),
}


def navigation(request: HttpRequest) -> dict[str, object]:
    """The strings of the page's script; the supervisor badge count, for users who may see it."""
    context: dict[str, object] = {"desk_strings": DESK_STRINGS}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("supportdesk.supervise"):
        return context
    # Counted when the page shows the badge, once: a page that read the count already (the
    # ticket page does, with the ticket) puts its own in the context, and this one is not run.
    count = functools.cache(escalations_open_count)
    return {**context, "escalation_count": count, "can_supervise": True}
