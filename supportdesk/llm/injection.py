"""Screening for messages that address the AI instead of the support team.

The model never gets to act on such text anyway (ticket text travels as delimited data, the
answer must fit a schema, labels are checked and promises are checked), but a message that
tries is itself a signal: it is never sent to the model (supportdesk.llm.attempt), its triage and
its draft stay with the local engines, and a human reads it.
Patterns cover the supported languages and the usual chat-template markers.
"""

# Term lists read best one language per line, however long the line.
# ruff: noqa: E501

from __future__ import annotations

import re
import unicodedata

# fmt: off
_PATTERNS = (
    # English
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instructions?|prompts?|rules|guidelines|directives)\b",
    r"\b(?:previous|prior|above|earlier|system)\s+(?:instructions?|prompts?|messages?)\b.{0,30}\b(?:ignore|void|cancel+ed|no longer)",
    r"\bsystem\s*prompt\b", r"\bdeveloper\s+mode\b", r"\bjailbreak", r"\bDAN\b",
    r"\byou\s+are\s+(?:now|no\s+longer)\b", r"\bact\s+as\s+(?:an?\s+)?(?:admin|administrator|system|ai|assistant|manager|supervisor)",
    r"\bnew\s+instructions?\s*:", r"\bas\s+an?\s+(?:ai|language\s+model|assistant)\b.{0,40}\b(?:must|should|will)\b",
    r"\b(?:set|change|mark|classify|label|route|categori[sz]e|tag)\s+(?:this|the|my)?\s*(?:ticket|message|email|request|category|priority|urgency)?\s*(?:as|to|into)\s+[\"'“]?(?:urgent|vip|high|resolved|closed|positive|billing|refund|approved|supervisor)",
    r"\b(?:respond|reply|answer)\s+(?:only\s+)?with\b.{0,40}\b(?:json|refund|approved|yes)\b",
    r"\b(?:approve|authori[sz]e|issue|grant)\s+(?:a\s+|the\s+|my\s+|an?\s+)?(?:full\s+)?refund\s+(?:immediately\s+)?(?:without|automatically|now,?\s+(?:ai|bot|assistant))",
    # Spanish
    r"\b(?:ignora|ignore|olvida|olvide|omite|descarta)\w*\b.{0,40}\b(?:instrucciones|indicaciones|reglas|órdenes)\b",
    r"\b(?:ahora\s+eres|actúa\s+como|a\s+partir\s+de\s+ahora\s+eres)\b",
    # Portuguese
    r"\b(?:ignore|ignora|esqueça|esqueca|desconsidere)\w*\b.{0,40}\b(?:instruções|instrucoes|regras|orientações)\b",
    r"\b(?:agora\s+você\s+é|agora\s+voce\s+e|aja\s+como|finja\s+que)\b",
    # German
    r"\b(?:ignorier|vergiss|vergessen|missachte|übergehe)\w*\b.{0,40}\b(?:anweisungen|instruktionen|regeln|vorgaben|befehle)\b",
    r"\b(?:du\s+bist\s+(?:jetzt|nun|ab\s+sofort)|verhalte\s+dich\s+wie|handle\s+als)\b",
    # French
    r"\b(?:ignore|ignorez|oublie|oubliez|ne\s+tiens\s+pas\s+compte)\w*\b.{0,40}\b(?:instructions|consignes|règles|directives)\b",
    r"\b(?:tu\s+es\s+maintenant|vous\s+êtes\s+maintenant|agis\s+comme|agissez\s+comme|fais\s+comme\s+si)\b",
    # Japanese
    r"(?:指示|命令|ルール|プロンプト|設定).{0,12}(?:無視|忘れ|破棄|従わ)",
    r"(?:無視|忘れ).{0,10}(?:指示|命令|ルール|プロンプト)",
    r"システムプロンプト", r"あなたは(?:今|これから|今後)", r"(?:として|のように)(?:振る舞|ふるま)",
    r"(?:カテゴリ|分類|優先度|緊急度).{0,10}(?:に設定|に変更|にして)",
    # Chinese (Traditional and Simplified)
    r"(?:忽略|無視|无视|忘記|忘记|不要理會|不要理会|跳過|跳过).{0,12}(?:指示|指令|規則|规则|提示|設定|设定)",
    r"(?:系統|系统)(?:提示|指令)", r"你(?:現在|现在|從現在起|从现在起)(?:是|扮演)", r"扮演(?:一個|一个)?(?:管理員|管理员|系統|系统)",
    r"(?:把|將|将)(?:這|这|此)?(?:張|张|個|个)?(?:工單|工单|票|訊息|信息|消息)?.{0,6}(?:標記|标记|分類|分类|設為|设为|改為|改为)",
    # Chat-template and role markers that customers do not write
    r"<\|?(?:im_start|im_end|system|assistant|endoftext)\|?>", r"^\s*(?:system|assistant|developer)\s*:",
    r"\[/?(?:INST|SYS)\]", r"###\s*(?:system|instruction)",
)
# fmt: on
_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)


def find_injection(text: str) -> str:
    """The first passage that reads as instructions to the AI, or "" when none does."""
    folded = unicodedata.normalize("NFKC", text or "")
    match = _RE.search(folded)
    return match[0][:120] if match else ""
