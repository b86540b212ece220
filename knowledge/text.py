"""Text analysis for KB retrieval: a multilingual tokeniser, light stemming, passages.

Plain Python, no index: ``knowledge.retrieval`` builds and searches the index from these terms.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator

import opencc

# Paragraphs smaller than this (latin words + CJK characters) are merged with the next one,
# so a heading or a one-line remark does not become a passage of its own.
MIN_PASSAGE_SIZE = 25

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HIRAGANA = "\u3041-\u3096\u309d-\u309f"
_KATAKANA = "\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
_TOKEN_RE = re.compile(
    rf"(?P<han>[{_HAN}]+)|(?P<hira>[{_HIRAGANA}]+)|(?P<kata>[{_KATAKANA}]+)"
    rf"|(?P<word>[^\W_{_HAN}{_HIRAGANA}{_KATAKANA}]+)"
)
_KANA_ONLY_RE = re.compile(f"[{_HIRAGANA}{_KATAKANA}]+")
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
# Function words carry no topic. A large KB gives them a low idf anyway, but a small or young
# one does not, and then "in"/"en" alone can lift an off-topic question over the threshold.
# Compared after accents are stripped, before stemming.
_STOPWORDS_BY_LANGUAGE = {
    "en": "a about am an and any are as at be been but by can could did do does for from had has"
    " have hello hi how i if im in is it its me my no not of on or our please so thank thanks"
    " that the there this to us was we what when where which who why will with would you your",
    "es": "al algo como con cual de del el en es esta estoy hay hola la las le lo los me mi mis"
    " muy ni o para pero por porque que se si sin su sus te tengo tu tus un una y ya yo gracias",
    "fr": "au avec bonjour ce de des du elle en est et il je la le les ma mais merci mon ne nous"
    " ou par pas pour que qui sur un une votre vous",
    "de": "aber auch bei danke das dass den der die du ein eine hallo ich ist mit nicht oder sie"
    " und von zu",
    "pt": "ao as com da do e em eu meu minha na no nos o obrigado ola os ou um uma voce",
}
_STOPWORDS = frozenset(w for words in _STOPWORDS_BY_LANGUAGE.values() for w in words.split())
# Spanish endings stripped by _stem, longest first: plural, gender, regular verb persons.
_ES_SUFFIXES = ("ieron", "aron", "aste", "iste", "amos", "emos", "imos", "es", "as", "os", "ar")
_ES_SUFFIXES += ("er", "ir", "a", "e", "o")
# Single CJK characters that are grammar, not topic; their bigrams are kept.
_CJK_STOP_CHARS = frozenset("的了是在我你您他她們们嗎吗呢吧啊和與与及也都就很請请")
# How-to cues (en, es, ja, zh). "How long/much/many ..." asks for a fact, not for steps.
_HOW_TO_RE = re.compile(
    r"\bhow\b(?! (?:long|much|many|often|soon|far|old)\b)|\bsteps?\b|\bc[oó]mo\b|\bpasos\b"
    r"|方法|どうすれば|どうやって|手順|やり方|怎麼|怎么|如何|怎樣|怎样|步驟|步骤"
)
_STEP_LINE_RE = re.compile(r"^\s*\d{1,2}\s*[.)．、]", re.MULTILINE)
# The customer has already done their part ("I returned it", "ya lo devolví", 已經退貨), or is
# still waiting for the result of it: the steps they followed are not the answer.
_DONE_RE = re.compile(
    r"\b(?:i(?:'ve| have)?|already) (?:returned|sent (?:it|them|the \w+) back|posted|mailed"
    r"|dropped off|followed|tried)\b|\b(?:sent|brought|took) (?:it|them) back\b"
    r"|\bstill (?:waiting|no refund|nothing|(?:have|has)(?:n't| not) (?:received|got|gotten|seen)"
    r"|(?:not|never) (?:received|refunded))\b"
    r"|\bya (?:l[oae]s? )?(?:devolv[ií]|envi[eé]|mand[eé]|regres[eé]|intent[eé]|segu[ií])\b"
    r"|\bdevolv[ií]\b|\b(?:todav[ií]a|a[uú]n) no (?:me )?(?:llega|ha llegado|veo|he recibido"
    r"|recibo) (?:el|mi) (?:reembolso|dinero)"
    r"|\bj[aá] (?:o |a )?(?:devolvi|enviei|mandei|tentei|segui)\b|\bdevolvi\b"
    r"|\bainda n[aã]o (?:recebi|caiu|vi) (?:o )?(?:reembolso|estorno|dinheiro)"
    r"|\bd[ée]j[aà] (?:renvoy|retourn|essay)|\bj'ai (?:renvoy|retourn)"
    r"|\btoujours pas (?:re[çc]u|[ée]t[ée] rembours)|\btoujours rien\b"
    r"|\bzur[üu]ckgeschickt\b|\bzur[üu]ckgesendet\b|\bretourniert\b"
    r"|\b(?:bereits|schon) (?:\w+ ){0,3}versucht\b"
    r"|\bimmer noch (?:nicht|kein)\w* (?:\w+ ){0,3}(?:erhalten|bekommen|erstattet|zur[üu]ck)"
    r"|返品しました|返品済|返送しました|送り返し|(?:すでに|既に|もう).{0,10}(?:返品|返送|試し)"
    r"|まだ.{0,12}(?:返金|入金)"
    r"|已[經经]?(?:把.{0,8})?(?:退[貨货]|寄回|送回|試|试|照著|照着)"
    r"|[還还]沒(?:有)?(?:收到|退款|到[帳账]|入[帳账])"
)
# The customer asks when, or where their thing is: a passage saying how long it takes answers.
_WHEN_RE = re.compile(
    r"\bwhen\b|\bhow long\b|\bwhere(?:'s| is| are)\b|\bcu[aá]ndo\b|\bcu[aá]nto tarda|\bd[oó]nde\b"
    r"|\bquando\b|\bquanto tempo\b|\bcad[eê]\b|\bquand\b|\bcombien de temps\b|\bo[uù] (?:est|en)\b"
    r"|\bwann\b|\bwie lange\b|\bwo (?:ist|bleibt)\b"
    r"|いつ|どのくらい|どれくらい|何日|什麼時候|什么时候|多久|何時|何时|哪裡|哪里|去哪"
)
# A duration ("2 business days", "5–10 días hábiles", "2 個工作天", "3 営業日").
_DURATION_RE = re.compile(
    r"\d+\s*(?:[–-]\s*\d+\s*)?(?:business |working )?(?:days?|hours?|weeks?|minutes?"
    r"|d[ií]as|jours?|(?:Werk)?tagen?|Stunden|semanas?|horas?|個|个|工作|天|日|小時|小时|時間|週間"
    r"|営業日|分)",
    re.IGNORECASE,
)


def language_key(tag: str) -> str:
    """Reduce a BCP 47 tag to what matters for matching text: the language, and for Chinese
    the script, because Traditional and Simplified characters do not match each other."""
    parts = tag.replace("_", "-").strip().lower().split("-")
    if parts[0] == "zh":
        return "zh-hans" if {"hans", "cn", "sg", "my"} & set(parts) else "zh-hant"
    return parts[0]


# Traditional and Simplified Chinese are one language in two scripts: an article in one answers
# a customer writing in the other once its characters are converted (OpenCC's phrase-aware
# tables: 「設定」→「设定」, 「账户」→「帳戶」). Built on first use; conversion is thread-safe.
SIBLING_SCRIPT = {"zh-hans": "zh-hant", "zh-hant": "zh-hans"}
_CONVERSIONS = {"zh-hans": "t2s.json", "zh-hant": "s2twp.json"}  # to that script
_converters: dict[str, opencc.OpenCC] = {}
_converters_lock = threading.Lock()


def to_script(text: str, language: str) -> str:
    """`text` written in the script of `language` (a Chinese tag); other text is unchanged."""
    target = language_key(language)
    if target not in _CONVERSIONS:
        return text
    with _converters_lock:
        converter = _converters.get(target)
        if converter is None:
            converter = _converters[target] = opencc.OpenCC(_CONVERSIONS[target])
    return converter.convert(text)


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _stem(word: str, lang: str) -> str:
    """Light, predictable suffix stripping: enough to match plurals (and English -ed/-ing,
    Spanish gender and verb persons) without the surprises of a full stemmer on product
    names."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if lang == "es":
        # Number, gender and the person endings of regular verbs: articles say "olvidaste"
        # (you forgot) where customers write "olvidé" (I forgot); both become "olvid".
        for suffix in _ES_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                return word[: -len(suffix)]
        return word[:-1] if word.endswith("s") and word[-2] in "aeiou" else word
    if lang != "en":
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    # "charge"/"charged" and "invoice"/"invoices" meet at "charg"/"invoic".
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    # "cancelled"/"cancel", "billing"/"bill" meet once a doubled final consonant is undone.
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeious":
        word = word[:-1]
    return word


def _cjk_grams(run: str, *, unigrams: bool) -> list[str]:
    grams = [run[i : i + 2] for i in range(len(run) - 1)]
    return list(run) + grams if unigrams else grams


def script_runs(text: str, language: str) -> Iterator[tuple[str, str, list[str]]]:
    """(script, run, terms) for each word or single-script CJK run of ``text``."""
    lang = language_key(language) if language else ""
    for match in _TOKEN_RE.finditer(unicodedata.normalize("NFKC", text).lower()):
        kind, run = match.lastgroup or "", match.group()
        if kind == "word":
            word = _strip_accents(run)
            if (len(word) > 1 or word.isdigit()) and word not in _STOPWORDS:
                yield kind, run, [_stem(word, lang)]
        else:
            grams = _cjk_grams(run, unigrams=kind != "hira")
            yield kind, run, [g for g in grams if g not in _CJK_STOP_CHARS]


def tokenize(text: str, language: str = "") -> list[str]:
    """Lowercased, NFKC-normalised terms. Latin words lose accents and inflections; CJK
    runs become overlapping character bigrams plus unigrams so text without spaces matches.
    Runs are cut where the script changes (Han/Hiragana/Katakana) to avoid bigrams that
    straddle a word and its particle; lone hiragana characters are particles and are dropped."""
    return [term for _, _, terms in script_runs(text, language) for term in terms]


def asks_how(text: str) -> bool:
    """Whether the question asks how to do something (so numbered steps answer it best)."""
    return bool(_HOW_TO_RE.search(unicodedata.normalize("NFKC", text).lower()))


def says_done(text: str) -> bool:
    """Whether the customer says they already did it, or are still waiting for its result
    ("I returned it two weeks ago", "ya lo devolví", 已經退貨了): the steps are done."""
    return bool(_DONE_RE.search(unicodedata.normalize("NFKC", text).lower()))


def asks_when(text: str) -> bool:
    """Whether the question asks when, how long, or where something is."""
    return bool(_WHEN_RE.search(unicodedata.normalize("NFKC", text).lower()))


def states_duration(text: str) -> bool:
    """Whether the passage says how long something takes."""
    return bool(_DURATION_RE.search(unicodedata.normalize("NFKC", text)))


def has_steps(text: str) -> bool:
    """Whether the passage gives numbered steps (two or more numbered lines)."""
    return len(_STEP_LINE_RE.findall(text)) >= 2


def term_weight(term: str) -> float:
    """Query-term weight (BM25's qtf slot). Single CJK characters are ambiguous and kana-only
    grams are mostly grammar (particles, verb endings), so they count less than words and
    Han/katakana bigrams; kana bigrams still help an all-kana question find its article."""
    if _KANA_ONLY_RE.fullmatch(term):
        return 0.25
    if len(term) == 1 and not term.isascii():
        return 0.5
    return 1.0


def _content_size(text: str) -> int:
    """Latin words plus CJK characters: a length that means the same in every script."""
    return sum(1 if m.lastgroup == "word" else len(m.group()) for m in _TOKEN_RE.finditer(text))


def split_passages(body: str) -> list[str]:
    """Paragraphs, with small ones (headings, "Steps:" lines, one-line remarks) merged into
    their neighbour so every passage can answer something on its own."""
    passages: list[str] = []
    pending = ""
    for paragraph in _PARAGRAPH_RE.split(body.strip()):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        pending = f"{pending}\n\n{paragraph}" if pending else paragraph
        if _content_size(pending) >= MIN_PASSAGE_SIZE and not pending.endswith((":", "：")):
            passages.append(pending)
            pending = ""
    if pending and passages:
        passages[-1] = f"{passages[-1]}\n\n{pending}"
    elif pending:
        passages.append(pending)
    return passages
