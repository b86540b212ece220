"""Urgency and hand-off decisions as explicit, explainable rules.

Every signal that moves a decision adds a plain-English reason, so an agent can see why a
ticket jumped the queue and an admin can tell which rule to change. Term lists are checked in
all languages at once: customers mix languages ("my refund 還沒到") and the terms are specific
enough not to collide across languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from .terms import TermList, fold
from .types import CustomerContext

# fmt: off
_TOPICS: dict[str, tuple[str, ...]] = {
    "money": (
        "charged", "charge me", "overcharged", "double charged", "refund*", "money back",
        "billed", "debited", "payment taken",
        "cobrado*", "cobraron", "cobro*", "reembols*", "devolucion", "dinero",
        "cobrança", "cobranca", "estorno", "dinheiro", "debitad*",
        "debite*", "preleve*", "rembours*", "argent", "facture deux fois",
        "abgebucht", "belastet", "erstattung", "ruckerstattung", "geld zuruck",
        "請求され", "引き落とされ", "返金", "二重請求", "課金され",
        "扣款", "被扣", "扣了", "退款", "退費", "收費", "錢", "钱", "退费", "收费",
    ),
    "outage": (
        "outage", "is down", "not working", "doesn't work", "does not work", "can't log in",
        "cannot log in", "can't login", "cannot login", "unable to log in", "locked out",
        "no funciona", "caido", "caida", "no puedo entrar", "no puedo iniciar sesion",
        "nao funciona", "fora do ar", "nao consigo entrar", "nao consigo acessar",
        "ne fonctionne pas", "ne marche pas", "en panne", "impossible de me connecter",
        "funktioniert nicht", "ausgefallen", "kann mich nicht anmelden", "nicht einloggen",
        "ログインできない", "ログインできません", "繋がらない", "つながらない", "使えない",
        "動かない", "障害",
        "無法登入", "登入不了", "無法使用", "當機", "壞了",
        "无法登录", "登录不了", "无法使用", "宕机", "坏了",
    ),
    "security": (
        "hacked", "fraud*", "unauthori*", "stolen", "phishing", "someone accessed",
        "identity theft", "compromised",
        "hackead*", "robad*", "no autoriz*", "suplantacion",
        "roubad*", "invadid*", "nao autoriz*",
        "pirate*", "non autorise*", "vole", "volee", "usurpation",
        "gehackt", "betrug*", "nicht autorisiert", "gestohlen", "unbefugt*",
        "不正アクセス", "乗っ取", "詐欺", "盗まれ", "ハッキング",
        "盜用", "被盜", "詐騙", "駭客", "盗用", "被盗", "诈骗", "黑客", "盜刷", "盗刷",
    ),
    "legal": (
        "lawyer", "attorney", "legal action", "sue you", "lawsuit", "chargeback",
        "small claims", "consumer protection",
        "abogad*", "demandar*", "demanda judicial", "denunciar*", "contracargo",
        "advogad*", "processar", "procon", "acao judicial",
        "avocat*", "poursuite*", "porter plainte", "en justice",
        "anwalt", "rechtsanwalt", "klage*", "verbraucherschutz", "ruckbuchung",
        "弁護士", "訴え", "訴訟", "消費者センター", "チャージバック",
        "律師", "律师", "起訴", "起诉", "提告", "消保官", "消基會", "消协",
    ),
}
# fmt: on
TOPICS: dict[str, TermList] = {topic: TermList(terms) for topic, terms in _TOPICS.items()}
TOPIC_REASONS = {
    "money": "Mentions money being charged or refunded",
    "outage": "Reports something not working or being unable to log in",
    "security": "Mentions security, fraud or a hacked account",
    "legal": "Mentions legal action or a chargeback",
}


@dataclass(frozen=True)
class RulesConfig:
    """Thresholds an installation may tune; defaults suit a small B2C desk."""

    repeat_window_days: int = 7
    repeat_contacts: int = 2  # other tickets in the window that make this a repeat contact
    angry_confidence: float = 0.5  # angry tone raises urgency from here
    # A human takes over when the anger is this strong (0-1), however sure the reading is.
    angry_handoff_intensity: float = 0.7
    anxious_confidence: float = 0.5
    min_category_confidence: float = 0.5
    high_score: int = 4
    medium_score: int = 2


@dataclass(frozen=True)
class Signals:
    """Everything the rules look at besides the customer, gathered by the engine."""

    text: str
    emotion: str
    emotion_confidence: float
    category: str
    category_confidence: float
    out_of_scope: bool
    emotion_intensity: float = 0.0


def intensity_word(intensity: float) -> str:
    """How an emotion's intensity reads to people: mild, clear or strong."""
    if intensity >= 0.7:
        return "strong"
    return "clear" if intensity >= 0.45 else "mild"


@dataclass(frozen=True)
class Decision:
    urgency: str
    urgency_reasons: tuple[str, ...]
    needs_human: bool
    needs_human_reasons: tuple[str, ...]


def find_topics(text: str) -> list[str]:
    folded = fold(text)
    return [topic for topic, terms in TOPICS.items() if terms.find(folded)]


def decide(
    signals: Signals, customer: CustomerContext, config: RulesConfig = RulesConfig()
) -> Decision:
    """Urgency by points (each reason lists its rule), hand-off by any single trigger.

    Security and legal mentions alone make a ticket high urgency and send it to a human.
    """
    topics = find_topics(signals.text)
    score = 0
    urgency_reasons: list[str] = []
    human_reasons: list[str] = []

    def add(points: int, reason: str) -> None:
        nonlocal score
        score += points
        urgency_reasons.append(reason)

    recent = customer.recent_contacts
    if customer.vip:
        add(2, "Customer is VIP")
    elif customer.plan == "enterprise":
        add(1, "Customer is on the enterprise plan")
    for topic in ("security", "legal"):
        if topic in topics:
            add(config.high_score, TOPIC_REASONS[topic])
            human_reasons.append(TOPIC_REASONS[topic])
    for topic in ("money", "outage"):
        if topic in topics:
            add(2, TOPIC_REASONS[topic])
    strength = intensity_word(signals.emotion_intensity)
    if signals.emotion == "angry" and signals.emotion_confidence >= config.angry_confidence:
        add(2, f"Angry tone ({strength})")
        if signals.emotion_intensity >= config.angry_handoff_intensity:
            human_reasons.append(f"Angry tone ({strength})")
    elif signals.emotion == "anxious" and signals.emotion_confidence >= config.anxious_confidence:
        add(1, f"Anxious tone ({strength})")
    if recent >= config.repeat_contacts:
        repeat = f"Repeat contact: {recent + 1} tickets in {config.repeat_window_days} days"
        add(1, repeat)
        human_reasons.append(repeat)

    if signals.out_of_scope:
        human_reasons.append("Out of scope")
    elif signals.category_confidence < config.min_category_confidence:
        human_reasons.append(f"Low category confidence ({signals.category_confidence:.2f})")

    if score >= config.high_score:
        urgency = "high"
    elif score >= config.medium_score:
        urgency = "medium"
    else:
        urgency = "low"
        if not urgency_reasons:
            urgency_reasons.append("No urgency signals")
    return Decision(urgency, tuple(urgency_reasons), bool(human_reasons), tuple(human_reasons))
