"""Language detection restricted to the languages an installation serves.

Lingua decides among the candidates; two things it cannot know are settled by script:
any kana means Japanese (Japanese text is often mostly kanji), and Chinese is split into
zh-Hant / zh-Hans by counting characters that exist in only one of the two scripts.

A message written mostly in a script none of the candidates is written in (Hangul, Cyrillic,
Arabic, …) is not forced onto a candidate: it is named (Korean, Russian, …) so that triage can
say the desk does not support it and hand it to a person, instead of answering in English.

The rest is read by two models whose opinions are multiplied. Lingua in its low-accuracy mode
(trigrams only, ~15 MB) knows every language but misreads short texts ("Where is my order?"
as German); the shipped n-gram model of support messages (`supportdesk.language_ngrams`,
~7 MB) reads short texts well but knows only the languages the project ships messages in.
Its say shrinks with the square root of the evidence it found, so that on long texts, where
lingua is reliable, lingua's general knowledge counts more. An installation serving a language the
n-gram model does not know uses lingua's high-accuracy mode instead, as before (about 30 MB
more per Latin-script language in every process that detects languages).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import numpy as np
from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from supportdesk.language_ngrams import base_language, ngram_model

# Text with fewer letters than this (after cleaning) is not worth asking a detector about.
MIN_LETTERS = 3
FALLBACK_CONFIDENCE = 0.1

_NOISE = re.compile(
    r"https?://\S+|www\.\S+"  # URLs
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses (before @mentions)
    r"|[@#]\w+",  # @mentions and #hashtags (\w matches CJK too)
    re.UNICODE,
)
# Hiragana and katakana letters; U+30FB (middle dot) and U+30FC (prolonged sound mark) also
# appear in Chinese text, so they are excluded.
_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u31f0-\u31ff\uff66-\uff9d]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Common characters that exist in only one script, in (traditional, simplified) pairs. Pairs
# whose simplified form is also ordinary traditional text (后, 里, 只, 台, 系, 松, 干, 面 …) are
# deliberately left out: they would count as evidence for both.
_PAIRS = (
    "們们 個个 這这 來来 時时 會会 說说 對对 為为 國国 學学 過过 還还 麼么 點点 發发 開开 關关 "
    "問问 題题 見见 現现 帳账 號号 費费 錢钱 買买 賣卖 單单 訂订 續续 動动 戶户 換换 貨货 運运 "
    "務务 話话 請请 謝谢 讓让 錯错 認认 證证 碼码 網网 頁页 線线 機机 電电 腦脑 體体 應应 該该 "
    "經经 實实 從从 與与 寫写 幫帮 無无 東东 車车 長长 門门 間间 聯联 傳传 樣样 進进 處处 員员 "
    "氣气 難难 歡欢 壞坏 變变 總总 嗎吗 給给 雖虽 當当 帶带 產产 頭头 價价 讀读 專专 業业 訊讯 "
    "設设 計计 記记 際际 輸输 選选 邊边 錄录 隨随 雙双 離离 須须 顧顾 類类 顯显 風风 飛飞 馬马 "
    "驗验 齊齐 龍龙 卻却 幣币 銀银 轉转 額额 價价 筆笔 歸归 寄寄 簡简 繁繁 視视 聽听 覺觉 誤误 "
    "沒没 郵邮 閃闪 啟启 權权 態态 掃扫 儲储 條条 結结 層层 區区 圖图 標标 僅仅 優优 惡恶 勞劳 "
    "隱隐 護护 鍵键"
)
TRADITIONAL_ONLY = frozenset(pair[0] for pair in _PAIRS.split() if pair[0] != pair[1])
SIMPLIFIED_ONLY = frozenset(pair[1] for pair in _PAIRS.split() if pair[0] != pair[1])

# Scripts of languages an installation may not serve: (regex, BCP 47 code, English name).
OTHER_SCRIPTS = (
    (re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"), "ko", "Korean"),
    (re.compile(r"[\u0400-\u04ff]"), "ru", "Russian"),
    (re.compile(r"[\u0600-\u06ff\u0750-\u077f]"), "ar", "Arabic"),
    (re.compile(r"[\u0590-\u05ff]"), "he", "Hebrew"),
    (re.compile(r"[\u0e00-\u0e7f]"), "th", "Thai"),
    (re.compile(r"[\u0900-\u097f]"), "hi", "Hindi"),
    (re.compile(r"[\u0370-\u03ff]"), "el", "Greek"),
)
NAMES = {code: name for _, code, name in OTHER_SCRIPTS} | {
    "en": "English", "zh": "Chinese", "ja": "Japanese", "es": "Spanish", "de": "German",
    "fr": "French", "pt": "Portuguese", "it": "Italian", "nl": "Dutch",
}  # fmt: skip


def language_name(code: str) -> str:
    """English name of a BCP 47 code's language ("ko" -> "Korean"); the code if unknown."""
    return NAMES.get(code.split("-")[0].lower(), code)


def is_supported(code: str, candidates: Sequence[str]) -> bool:
    return _iso(code) in {_iso(c) for c in candidates}


def _other_script(text: str, letters: int, by_iso: dict) -> tuple[str, float] | None:
    """The language of a script no candidate is written in, when most letters are in it."""
    for pattern, code, _ in OTHER_SCRIPTS:
        share = len(pattern.findall(text)) / letters if letters else 0.0
        if share >= 0.5 and _iso(code) not in by_iso:
            return code, round(min(share, 0.99), 4)
    return None


_detectors: dict[tuple[tuple[IsoCode639_1, ...], bool], LanguageDetector] = {}
_detectors_lock = threading.Lock()


def clean_for_detection(text: str) -> str:
    """Drop tokens that carry no language (URLs, addresses, mentions, hashtags)."""
    return " ".join(_NOISE.sub(" ", text).split())


def _iso(code: str) -> IsoCode639_1 | None:
    primary = code.split("-")[0].lower()
    return getattr(IsoCode639_1, primary.upper(), None)


def _detector(isos: tuple[IsoCode639_1, ...], *, low_accuracy: bool) -> LanguageDetector:
    """One detector per candidate set and mode: building one is slow, using one is
    thread-safe."""
    with _detectors_lock:
        detector = _detectors.get((isos, low_accuracy))
        if detector is None:
            builder = LanguageDetectorBuilder.from_iso_codes_639_1(*isos)
            if low_accuracy:
                builder = builder.with_low_accuracy_mode()
            detector = builder.build()
            _detectors[(isos, low_accuracy)] = detector
        return detector


def _lingua_and_ngrams(
    text: str, by_iso: dict[IsoCode639_1, str]
) -> list[tuple[IsoCode639_1, float]] | None:
    """Candidates and their probabilities, best first, from lingua's low-accuracy mode times
    the n-gram model; None when the n-gram model does not know every candidate."""
    model = ngram_model()
    isos = sorted(by_iso, key=lambda iso: iso.name)
    languages = [base_language(iso.name) for iso in isos]
    if model is None or not set(languages) <= set(model.languages):
        return None
    values = _detector(tuple(isos), low_accuracy=True).compute_language_confidence_values(text)
    lingua = {value.language.iso_code_639_1: value.value for value in values}
    likelihoods, found = model.log_likelihoods(text, languages)
    if not lingua and not found:
        return []  # neither model recognises anything in it: the caller falls back
    # A language lingua rules out (probability 0) stays possible: its trigrams are not all.
    scores = np.log(np.array([lingua.get(iso, 0.0) for iso in isos]) + 1e-6)
    if found:
        scores += likelihoods / np.sqrt(found)
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    return sorted(zip(isos, probabilities.tolist(), strict=True), key=lambda p: -p[1])


def _lingua(text: str, by_iso: dict[IsoCode639_1, str]) -> list[tuple[IsoCode639_1, float]]:
    """Candidates and lingua's (high-accuracy) confidence, best first."""
    detector = _detector(tuple(sorted(by_iso, key=lambda iso: iso.name)), low_accuracy=False)
    values = detector.compute_language_confidence_values(text)
    return [(value.language.iso_code_639_1, float(value.value)) for value in values]


def chinese_script(text: str, candidates: Sequence[str]) -> tuple[str, float]:
    """zh-Hant or zh-Hans (whichever the candidates offer) and how clear the evidence is."""
    chinese = [c for c in candidates if c.split("-")[0].lower() == "zh"]
    hant = next((c for c in chinese if "hant" in c.lower() or c in ("zh-TW", "zh-HK")), None)
    hans = next((c for c in chinese if "hans" in c.lower() or c in ("zh-CN", "zh-SG")), None)
    traditional = sum(ch in TRADITIONAL_ONLY for ch in text)
    simplified = sum(ch in SIMPLIFIED_ONLY for ch in text)
    if traditional == simplified:
        # No evidence either way: the installation's first Chinese variant, with less certainty.
        return (chinese[0] if chinese else "zh"), 0.6
    share = max(traditional, simplified) / (traditional + simplified)
    wanted = hant if traditional > simplified else hans
    return (wanted or (chinese[0] if chinese else "zh")), share


def detect_language(text: str, *, candidates: Sequence[str], hint: str = "") -> tuple[str, float]:
    """Best candidate (BCP 47 code, as given) for `text` and a confidence in [0, 1].

    `hint` (e.g. the customer's locale) is used only when the text itself is too short to say.
    """
    if not candidates:
        raise ValueError("at least one candidate language is required")
    by_iso: dict[IsoCode639_1, str] = {}
    for code in candidates:
        iso = _iso(code)
        if iso is not None and iso not in by_iso:
            by_iso[iso] = code
    fallback = next((c for c in candidates if hint and _iso(c) == _iso(hint)), candidates[0])
    cleaned = clean_for_detection(text)
    letters = sum(ch.isalpha() for ch in cleaned)
    has_zh = IsoCode639_1.ZH in by_iso
    if _KANA.search(cleaned) and IsoCode639_1.JA in by_iso:
        return by_iso[IsoCode639_1.JA], 0.95
    han = len(_HAN.findall(cleaned))
    if han and has_zh and han >= letters / 2:
        # Han-only text (no kana) is Chinese; script counting, not lingua, picks the variant.
        return chinese_script(cleaned, candidates)
    if letters < MIN_LETTERS or not by_iso:
        return fallback, FALLBACK_CONFIDENCE
    other = _other_script(cleaned, letters, by_iso)
    if other is not None:
        return other
    ranked = _lingua_and_ngrams(cleaned, by_iso)
    if ranked is None:
        ranked = _lingua(cleaned, by_iso)
    if not ranked or ranked[0][1] <= 0:
        return fallback, FALLBACK_CONFIDENCE
    iso, confidence = ranked[0]
    if iso == IsoCode639_1.ZH:
        code, share = chinese_script(cleaned, candidates)
        return code, confidence * share
    return by_iso[iso], confidence


def warm_up(candidates: Sequence[str]) -> None:
    """Load the language models now rather than on the first customer message (~1 s)."""
    for sample in ("Hello, I need help with my account.", "Hola, necesito ayuda con mi cuenta."):
        detect_language(sample, candidates=candidates)
