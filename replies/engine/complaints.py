"""Messages that report something gone wrong: a parcel late or missing, an item broken or
wrong, a complaint. Triage's topics (triage.engine.rules: money taken, something not working,
a hacked account, legal action) cover the rest; together they keep the welcome for new
customers out of a reply to a problem, whatever emotion triage read."""

from __future__ import annotations

import re
import unicodedata

_PROBLEM = re.compile(
    r"\b(?:has ?n[o']t|have ?n[o']t|did ?n[o']t|never|still not|not yet) (?:arrived|come|shown up)"
    r"|\b(?:late|delayed|missing|damaged|broken|faulty|wrong (?:item|size|colou?r|order))\b"
    r"|\bcomplain\w*|\bcomplaint\b"
    r"|\bno (?:ha|me ha) llegado\b|\bno (?:me )?lleg[oó]\b|\bretras\w*|\bdañad\w*|\broto\b|\brota\b"
    r"|\bequivocad\w*|\bqueja\b|\breclamaci[oó]n\b"
    r"|\bn[aã]o chegou\b|\batrasad\w*|\bdanificad\w*|\bquebrad\w*|\breclama[çc][aã]o\b"
    r"|\bpas (?:encore )?arriv[ée]e?s?\b|\ben retard\b|\bendommag\w*|\bcass[ée]e?s?\b"
    r"|\bplainte\b|\br[ée]clamation\b"
    r"|\bnicht (?:angekommen|geliefert)\b|\bversp[äa]tet\b|\bbesch[äa]digt\b|\bkaputt\b"
    r"|\bbeschwerde\b|\breklamation\b"
    r"|届いていません|届かない|まだ届|遅れ|遅延|破損|壊れ|間違った商品|苦情|クレーム"
    r"|[還还]沒(?:有)?到|[沒没](?:有)?收到|延遲|延迟|晚了|破損|破损|壞了|坏了|寄錯|寄错"
    r"|投訴|投诉|客訴|客诉"
)


def reports_problem(text: str) -> bool:
    """Whether `text` (the customer's words) reports a parcel late or missing, an item broken
    or wrong, or makes a complaint."""
    return bool(_PROBLEM.search(unicodedata.normalize("NFKC", text).lower()))
