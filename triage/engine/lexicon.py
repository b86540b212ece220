"""A small hand-written emotion lexicon for the languages the English-trained model cannot read.

Cues are words or phrases a native speaker would read as clearly carrying the emotion on their
own; a hacked account or a fraudulent charge counts as a cause for worry. Topic words are not
cues: "refund" or 退款 says what the ticket is about, not how the
customer feels. Plain courtesy ("thanks", "gracias", 謝謝) is left out of `positive` because it
closes angry messages as often as happy ones.

Some cues name a feeling the customer states ("I'm worried", "je suis inquiète", 心配です,
我很擔心): `STATED` lists them, and a hit made of them says so (`LexiconHit.stated`), since a
customer who says how they feel is read that way over a model's guess.

A stated feeling after a negation in the same clause does not count: "not worried", "no estoy
preocupado", "je ne suis pas inquiète", "nicht sauer", 不擔心 / 别担心 (a negation among the
three characters before the cue) and 心配していません / 心配はありません (Japanese negates after
the word). Only that simple case is handled ("I wouldn't say I'm not worried" is not), which
is one reason a lexicon result never claims more than 0.9 confidence. Other cues are not
checked for negation: "can't believe how ridiculous" or "isn't this a scam?" are still angry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .terms import TermList, compile_lists, fold, language_family

# fmt: off
_CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "angry": {
        "en": ("unacceptable", "ridiculous", "outrageous", "furious", "angry", "pissed", "fed up",
            "disgusting", "ripped off", "rip-off", "ripoff", "scam", "sick of", "fuming", "livid",
            "pathetic", "incompetent", "absurd", "wtf", "frustrat*", "annoyed", "irritated"),
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
            "concerned", "stressed"),
        "es": ("hackead*", "fraude", "robad*", "no autoriz*", "preocupad*", "me preocupa",
            "nervios*", "miedo", "ansios*", "urgente*", "asustad*", "angustiad*", "desesperad*",
            "inquiet*"),
        "pt": ("hackead*", "fraude", "roubad*", "nao autoriz*", "preocupad*", "nervos*",
            "ansios*", "medo", "urgente*", "desesperad*", "aflit*", "assustad*", "inquiet*"),
        "fr": ("pirate", "piratee", "fraude", "non autorise*", "inquiet*", "angoiss*", "stresse*",
            "peur", "urgent*", "nerveu*", "panique*"),
        "de": ("gehackt", "betrug", "gestohlen", "unbefugt*", "besorgt", "angst", "nervos",
            "dringend*", "beunruhigt", "panik", "gestresst", "mir sorgen", "mir grosse sorgen",
            "mir ernsthaft sorgen", "uns sorgen", "uns grosse sorgen", "sorge mich"),
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

# The cues that name a feeling the customer states (each is also in `_CUES`): "I'm worried",
# "estoy harta", 心配です. Situations ("hacked", "fraude"), verdicts ("unacceptable", 最悪) and
# urgency ("urgent", 至急) are cues but not stated feelings.
# fmt: off
_STATED: dict[str, dict[str, tuple[str, ...]]] = {
    "angry": {
        "en": ("furious", "angry", "pissed", "fed up", "sick of", "fuming", "livid", "frustrat*",
            "annoyed", "irritated"),
        "es": ("enfadad*", "enojad*", "furios*", "indignad*", "harto", "harta", "frustrad*",
            "cabread*"),
        "pt": ("irritad*", "furios*", "revoltad*", "indignad*", "frustrad*", "cansado de",
            "cansada de", "raiva"),
        "fr": ("furieux", "furieuse", "en colere", "marre", "enerve*", "agace*", "exaspere*",
            "frustre*"),
        "de": ("wutend", "sauer", "verargert", "nase voll", "genervt", "frustriert"),
        "ja": ("怒って", "腹が立", "頭にくる", "頭に来", "イライラ", "激怒"),
        "zh-Hant": ("生氣", "氣死", "不爽", "火大", "憤怒", "受夠"),
        "zh-Hans": ("生气", "气死", "不爽", "火大", "愤怒", "受够"),
    },
    "anxious": {
        "en": ("worried", "anxious", "nervous", "scared", "afraid", "panic*", "desperate",
            "concerned", "stressed"),
        "es": ("preocupad*", "me preocupa", "nervios*", "miedo", "ansios*", "asustad*",
            "angustiad*", "desesperad*", "inquiet*"),
        "pt": ("preocupad*", "nervos*", "ansios*", "medo", "desesperad*", "aflit*", "assustad*",
            "inquiet*"),
        "fr": ("inquiet*", "angoiss*", "stresse*", "peur", "nerveu*", "panique*"),
        "de": ("besorgt", "angst", "nervos", "beunruhigt", "panik", "gestresst", "mir sorgen",
            "mir grosse sorgen", "mir ernsthaft sorgen", "uns sorgen", "uns grosse sorgen",
            "sorge mich"),
        "ja": ("不安", "心配", "怖い", "焦って"),
        "zh-Hant": ("擔心", "著急", "焦慮", "害怕", "不安", "緊張"),
        "zh-Hans": ("担心", "着急", "焦虑", "害怕", "不安", "紧张"),
    },
    "sad": {
        "en": ("disappointed", "heartbroken", "let down", "upset", "unhappy", "sad",
            "devastated"),
        "es": ("decepcion*", "triste*", "desilusionad*", "disgustad*"),
        "pt": ("decepcion*", "triste*", "desapontad*", "chatead*"),
        "fr": ("decu", "decue", "triste*"),
        "de": ("enttauscht", "traurig"),
        "ja": ("残念", "悲しい", "がっかり", "失望"),
        "zh-Hant": ("失望", "難過", "傷心"),
        "zh-Hans": ("失望", "难过", "伤心"),
    },
}
# Words that negate a cue that follows them in the same clause (Latin scripts, folded), within
# NEGATION_WORDS words before it; a clause ends at punctuation or at "and"/"but" and their
# equivalents ("I'm not sure, and I'm worried" states worry; "still no news so I'm worried" too).
_NEGATIONS: dict[str, tuple[str, ...]] = {
    "en": ("not", "no", "never", "nothing"),  # and every "-n't"
    "es": ("no", "nunca", "ni", "tampoco", "nada"),
    "pt": ("nao", "nunca", "nem", "tampouco", "nada"),
    "fr": ("ne", "pas", "jamais", "aucun", "aucune"),  # and "n'"
    "de": ("nicht", "kein", "keine", "keinen", "nie", "niemals", "gar nicht"),
}
# fmt: on
NEGATION_WORDS = 3
_CLAUSE_END = re.compile(
    r"[,.;:!?¿¡()\n]|\b(?:and|but|so|because|since|y|pero|porque|pues|e|mas|pois|et|mais|"
    r"car|parce|und|aber|sondern|weil|denn)\b"
)
_NEGATORS = {
    language: re.compile(
        r"(?<!\w)(?:"
        + "|".join(re.escape(w) for w in words)
        + r")(?!\w)"
        + ("|\\w+n't" if language == "en" else "")
        + ("|(?<!\\w)n'" if language == "fr" else "")
    )
    for language, words in _NEGATIONS.items()
}
# Chinese negates before the word (不擔心, 沒有很生氣, 别担心), Japanese after it (心配していません,
# 心配はしていません, 不安はない, 怒ってない, 残念ではありません).
_ZH_NEGATION = re.compile(r"[不沒没別别無无未]")
ZH_NEGATION_CHARACTERS = 3
_JA_NEGATION = re.compile(
    r"(?:[はもがで]|では|じゃ)?(?:して|って|て)?(?:い|お|おり|あり|ござい|いり|し)?"
    r"(?:ない|ません|なく|ず)"
)

# When cues of several emotions appear, the one with most cues wins; ties go to the emotion
# listed first, i.e. to the one an agent most needs to notice. Positive only counts when no
# negative cue is present ("thank you so much for nothing, this is ridiculous").
PRIORITY = ("angry", "anxious", "sad", "confused", "positive")
LEXICON: dict[str, dict[str, TermList]] = {
    emotion: compile_lists(by_language) for emotion, by_language in _CUES.items()
}
LEXICON_LANGUAGES = tuple(_CUES["angry"])
STATED: dict[str, dict[str, frozenset[str]]] = {
    emotion: {language: frozenset(terms) for language, terms in by_language.items()}
    for emotion, by_language in _STATED.items()
}


@dataclass(frozen=True)
class LexiconHit:
    emotion: str
    confidence: float
    cues: tuple[str, ...]
    # Some of `cues` name a feeling the customer states ("I'm worried"), not only its cause.
    stated: bool = False
    # Every emotion with a cue in the text (the winner's included), e.g. to tell whether a
    # model's reading has any support in the words.
    emotions: frozenset[str] = field(default_factory=frozenset)


def _languages_to_check(language: str) -> tuple[str, ...]:
    family = language_family(language)
    if family.startswith("zh"):
        # The script guess can be wrong on short text and most cues differ only in script.
        return ("zh-Hant", "zh-Hans")
    return (family,)


def negated(folded: str, start: int, end: int, language: str) -> bool:
    """Whether the cue at `folded[start:end]` is negated in its clause (see the module)."""
    family = language_family(language)
    if family.startswith("zh"):
        before = re.split(
            r"[，,。！？!?、；;\s]", folded[max(0, start - ZH_NEGATION_CHARACTERS) : start]
        )
        return bool(_ZH_NEGATION.search(before[-1]))
    if family == "ja":
        return bool(_JA_NEGATION.match(folded, end))
    negator = _NEGATORS.get(family)
    if negator is None:
        return False
    clause = _CLAUSE_END.split(folded[:start])[-1]
    words = clause.split()[-NEGATION_WORDS:]
    return bool(negator.search(" ".join(words)))


def negated_feelings(text: str, language: str) -> frozenset[str]:
    """The emotions whose stated feeling `text` negates ("I'm not worried": anxious)."""
    folded = fold(text)
    out = set()
    for emotion, by_language in STATED.items():
        for lang in _languages_to_check(language):
            terms = by_language.get(lang, frozenset())
            term_list = LEXICON[emotion].get(lang)
            if term_list is None:
                continue
            if any(
                term in terms and negated(folded, start, end, lang)
                for term, start, end in term_list.spans(folded)
            ):
                out.add(emotion)
    return frozenset(out)


def find_emotion_cues(text: str, language: str) -> LexiconHit | None:
    """The emotion the lexicon reads in `text`, or None when no cue is present."""
    folded = fold(text)
    found: dict[str, list[str]] = {}
    for emotion in PRIORITY:
        for lang in _languages_to_check(language):
            term_list = LEXICON[emotion].get(lang)
            if term_list is None:
                continue
            stated = STATED.get(emotion, {}).get(lang, frozenset())
            kept = [
                term
                for term, start, end in term_list.spans(folded)
                if term not in stated or not negated(folded, start, end, lang)
            ]
            found.setdefault(emotion, []).extend(dict.fromkeys(kept))
    negative = [e for e in PRIORITY[:-1] if found.get(e)]
    candidates = negative or [e for e in PRIORITY if found.get(e)]
    if not candidates:
        return None
    best = max(candidates, key=lambda e: (len(found[e]), -PRIORITY.index(e)))
    cues = tuple(dict.fromkeys(found[best]))
    stated_terms = STATED.get(best, {})
    stated = any(
        cue in stated_terms.get(lang, ()) for cue in cues for lang in _languages_to_check(language)
    )
    return LexiconHit(
        emotion=best,
        confidence=min(0.6 + 0.1 * (len(cues) - 1), 0.9),
        cues=cues,
        stated=stated,
        emotions=frozenset(e for e in PRIORITY if found.get(e)),
    )
