"""A small hand-written emotion lexicon for the languages the English-trained model cannot read.

Cues are words or phrases a native speaker would read as clearly carrying the emotion on their
own; a hacked account or a fraudulent charge counts as a cause for worry. Topic words are not
cues: "refund" or 退款 says what the ticket is about, not how the
customer feels. Plain courtesy ("thanks", "gracias", 謝謝) is left out of `positive` because it
closes angry messages as often as happy ones. Negation ("no estoy enfadado") is not handled;
the cue still fires, which is why a lexicon result never claims more than 0.9 confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from .terms import TermList, compile_lists, fold, language_family

# fmt: off
_CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "angry": {
        "en": ("unacceptable", "ridiculous", "outrageous", "furious", "angry", "pissed", "fed up",
            "disgusting", "ripped off", "rip-off", "ripoff", "scam", "sick of", "fuming", "livid",
            "pathetic", "incompetent", "absurd", "wtf", "frustrat*"),
        "es": ("enfadad*", "enojad*", "furios*", "indignad*", "indignante", "inaceptable",
            "estafa*", "ridicul*", "pesim*", "verguenza", "vergonzoso", "harto", "harta", "mierda",
            "frustrad*", "cabread*", "absurdo"),
        "pt": ("irritad*", "furios*", "revoltad*", "indignad*", "inaceitavel", "absurdo",
            "ridicul*", "palhacada", "vergonha", "pessim*", "raiva", "lixo", "frustrad*",
            "cansado de", "cansada de"),
        "fr": ("furieux", "furieuse", "en colere", "inadmissible", "inacceptable", "scandal*",
            "honteux", "ridicule", "arnaque*", "marre", "enerve*", "agace*", "exaspere*",
            "frustre*", "lamentable"),
        "de": ("wutend", "sauer", "verargert", "unverschamt", "frechheit", "inakzeptabel",
            "skandal*", "lacherlich", "abzocke", "zumutung", "nase voll", "argerlich", "genervt",
            "frustriert", "katastrophal"),
        "ja": ("怒り", "怒って", "腹が立", "腹立たし", "ふざけ", "許せない", "最悪", "ひどい",
            "酷い", "頭にくる", "頭に来", "いい加減に", "納得できない", "ありえない", "あり得ない",
            "不愉快", "イライラ", "激怒"),
        "zh-Hant": ("生氣", "氣死", "太扯", "離譜", "不爽", "火大", "憤怒", "無法接受", "不能接受",
            "騙子", "搞什麼", "受夠", "太過分", "爛透", "誇張"),
        "zh-Hans": ("生气", "气死", "太扯", "离谱", "不爽", "火大", "愤怒", "无法接受", "不能接受",
            "骗子", "搞什么", "受够", "太过分", "烂透", "夸张"),
    },
    "anxious": {
        "en": ("hacked", "fraudulent", "unauthori*", "stolen", "phishing", "worried", "worrying",
            "anxious", "nervous", "scared", "afraid", "panic*", "desperate", "urgent*",
            "concerned"),
        "es": ("hackead*", "fraude", "robad*", "no autoriz*", "preocupad*", "me preocupa",
            "nervios*", "miedo", "ansios*", "urgente*", "asustad*", "angustiad*", "desesperad*"),
        "pt": ("hackead*", "fraude", "roubad*", "nao autoriz*", "preocupad*", "nervos*",
            "ansios*", "medo", "urgente*", "desesperad*", "aflit*", "assustad*"),
        "fr": ("pirate", "piratee", "fraude", "non autorise*", "inquiet*", "angoiss*", "stresse*",
            "peur", "urgent*", "nerveu*", "panique*"),
        "de": ("gehackt", "betrug", "gestohlen", "unbefugt*", "besorgt", "sorgen", "angst",
            "nervos", "dringend*", "beunruhigt", "panik"),
        "ja": ("不正アクセス", "乗っ取られ", "不正利用", "詐欺", "不安", "心配",
            "困っています", "困って", "怖い", "至急", "緊急", "焦って"),
        "zh-Hant": ("被盜", "盜刷", "詐騙", "盜用", "擔心", "著急", "焦慮", "緊急", "急用",
            "害怕", "不安", "怎麼辦", "緊張"),
        "zh-Hans": ("被盗", "盗刷", "诈骗", "盗用", "担心", "着急", "焦虑", "紧急", "急用",
            "害怕", "不安", "怎么办", "紧张"),
    },
    "sad": {
        "en": ("disappointed", "disappointing", "heartbroken", "let down", "upset", "unhappy",
            "sad", "devastated"),
        "es": ("decepcion*", "triste*", "desilusionad*", "lamentable", "disgustad*"),
        "pt": ("decepcion*", "decepcao", "triste*", "desapontad*", "chatead*"),
        "fr": ("decu", "decue", "decev*", "triste*", "navre*"),
        "de": ("enttauscht", "enttauschend", "traurig", "schade"),
        "ja": ("残念", "悲しい", "がっかり", "失望", "ショック"),
        "zh-Hant": ("失望", "難過", "傷心", "遺憾"),
        "zh-Hans": ("失望", "难过", "伤心", "遗憾"),
    },
    "confused": {
        "en": ("confused", "confusing", "don't understand", "do not understand",
            "doesn't make sense", "does not make sense", "no idea how", "not sure how",
            "don't know how", "do not know how", "unclear"),
        "es": ("confundid*", "confus*", "no entiendo", "no comprendo", "no se como",
            "no tiene sentido"),
        "pt": ("confus*", "nao entendo", "nao sei como", "nao faz sentido"),
        "fr": ("confus*", "ne comprends pas", "comprends pas", "ne sais pas comment", "aucune idee",
            "pas clair"),
        "de": ("verwirrt", "verwirrend", "verstehe nicht", "versteh nicht", "weiss nicht wie",
            "keine ahnung", "unklar"),
        "ja": ("わからない", "分からない", "わかりません", "分かりません", "意味が分から", "混乱"),
        "zh-Hant": ("不知道怎麼", "不知道如何", "不懂", "不明白", "看不懂", "搞不清楚", "困惑"),
        "zh-Hans": ("不知道怎么", "不知道如何", "不懂", "不明白", "看不懂", "搞不清楚", "困惑"),
    },
    "positive": {
        "en": ("thank you so much", "thanks so much", "much appreciated", "awesome", "excellent",
            "amazing", "wonderful", "love it", "great job", "perfect"),
        "es": ("muchas gracias", "excelente", "genial", "encantad*", "perfecto", "agradecid*",
            "maravillos*", "estupend*"),
        "pt": ("muito obrigad*", "excelente", "otimo", "perfeito", "adorei", "maravilhos*",
            "agradeco", "muito bom"),
        "fr": ("merci beaucoup", "excellent*", "genial*", "parfait*", "ravi", "ravie", "formidable",
            "super"),
        "de": ("vielen dank", "super", "toll", "prima", "perfekt", "ausgezeichnet", "grossartig",
            "zufrieden", "begeistert"),
        "ja": ("ありがとうございました", "助かりました", "嬉しい", "うれしい", "素晴らしい", "満足",
            "感謝"),
        "zh-Hant": ("非常感謝", "太感謝", "感激", "太好了", "滿意", "很棒", "開心"),
        "zh-Hans": ("非常感谢", "太感谢", "感激", "太好了", "满意", "很棒", "开心"),
    },
}
# fmt: on

# When cues of several emotions appear, the one with most cues wins; ties go to the emotion
# listed first, i.e. to the one an agent most needs to notice. Positive only counts when no
# negative cue is present ("thank you so much for nothing, this is ridiculous").
PRIORITY = ("angry", "anxious", "sad", "confused", "positive")
LEXICON: dict[str, dict[str, TermList]] = {
    emotion: compile_lists(by_language) for emotion, by_language in _CUES.items()
}
LEXICON_LANGUAGES = tuple(_CUES["angry"])


@dataclass(frozen=True)
class LexiconHit:
    emotion: str
    confidence: float
    cues: tuple[str, ...]


def _languages_to_check(language: str) -> tuple[str, ...]:
    family = language_family(language)
    if family.startswith("zh"):
        # The script guess can be wrong on short text and most cues differ only in script.
        return ("zh-Hant", "zh-Hans")
    return (family,)


def find_emotion_cues(text: str, language: str) -> LexiconHit | None:
    """The emotion the lexicon reads in `text`, or None when no cue is present."""
    folded = fold(text)
    found: dict[str, list[str]] = {}
    for emotion in PRIORITY:
        for lang in _languages_to_check(language):
            term_list = LEXICON[emotion].get(lang)
            if term_list is not None:
                found.setdefault(emotion, []).extend(term_list.find(folded))
    negative = [e for e in PRIORITY[:-1] if found.get(e)]
    candidates = negative or [e for e in PRIORITY if found.get(e)]
    if not candidates:
        return None
    best = max(candidates, key=lambda e: (len(found[e]), -PRIORITY.index(e)))
    cues = tuple(dict.fromkeys(found[best]))
    return LexiconHit(emotion=best, confidence=min(0.6 + 0.1 * (len(cues) - 1), 0.9), cues=cues)
