"""The seed's routing rules, as plain Python: triage labels in, an action and reasons out.

1. VIP, angry or high urgency → alert a supervisor.
2. Complex (not a routine category), out of scope, low confidence, repeat contact or an
   engine that asks for a human → a human agent.
3. Otherwise (routine category, calm customer) → auto-reply candidate (one-click approve).
"""

from __future__ import annotations

from dataclasses import dataclass

CALM_EMOTIONS = frozenset({"neutral", "positive", "confused"})
# Below this, "angry" is a guess: the ticket still goes to a human, but no supervisor is paged.
ANGRY_ALERT_CONFIDENCE = 0.5


@dataclass(frozen=True)
class RouteInput:
    category: str
    category_confidence: float
    category_is_routine: bool
    out_of_scope: bool
    emotion: str
    emotion_confidence: float
    urgency: str
    needs_human: bool
    vip: bool
    recent_contacts: int


@dataclass(frozen=True)
class Route:
    action: str  # "auto_reply" | "human" | "supervisor"
    reasons: tuple[str, ...]


def decide_route(inp: RouteInput, *, low_confidence: float) -> Route:
    alerts = []
    if inp.vip:
        alerts.append("VIP customer")
    if inp.emotion == "angry" and inp.emotion_confidence >= ANGRY_ALERT_CONFIDENCE:
        alerts.append(f"Angry customer ({inp.emotion_confidence:.0%} confidence)")
    if inp.urgency == "high":
        alerts.append("High urgency")
    if alerts:
        return Route("supervisor", tuple(alerts))

    human = []
    if inp.out_of_scope or not inp.category:
        human.append("Question fits no known category")
    elif not inp.category_is_routine:
        human.append(f"'{inp.category}' is not a routine category")
    if inp.category and inp.category_confidence < low_confidence:
        human.append(f"Low category confidence ({inp.category_confidence:.0%})")
    if inp.recent_contacts:
        human.append(f"Repeat contact: {inp.recent_contacts} earlier ticket(s) recently")
    if inp.emotion not in CALM_EMOTIONS:
        human.append(f"Customer seems {inp.emotion}")
    if inp.needs_human and not human:
        human.append("Triage asked for a human")
    if human:
        return Route("human", tuple(human))
    return Route(
        "auto_reply",
        (
            f"Routine category '{inp.category}' ({inp.category_confidence:.0%} confidence)",
            f"Calm customer ({inp.emotion})",
        ),
    )
