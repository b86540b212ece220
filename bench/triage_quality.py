"""Quality, speed and memory of the local triage engine on the dev/val splits in ../shared/data.

    .venv/bin/python bench/triage_quality.py [--embeddings on|off] [--only banking77,clinc,...]
                                             [--banking77-folds 5] [--threads 1]

`--only` keys: banking77, clinc, goemotions, polarity, feelings (the hand-made check of stated
and negated feelings and of demands for money not received), language, speed.

Sentence embeddings are cached in var/triage-bench/embeddings (each text embedded once, ever);
the first run on a fresh machine spends most of its time filling that cache, which is shown as
progress and not counted as training time.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage.engine import (  # noqa: E402
    TriageInput,
    detect_language,
    evaluate_category_model,
    load_emotion_examples,
    load_local_engine,
    predict_emotion,
    predict_emotions,
    save_model,
    set_active,
    train_category_model,
    train_emotion_model,
)
from triage.engine.embed import (  # noqa: E402
    EmbeddingCache,
    default_embedder,
    embeddings_enabled,
)
from triage.engine.emotion import SHIPPED_VECTORS, load_support_examples  # noqa: E402
from triage.engine.local import add_support_reading  # noqa: E402
from triage.engine.model import expected_calibration_error  # noqa: E402
from triage.engine.prepare_goemotions import iter_mapped_rows, read_label_names  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from pipeline import email_tickets  # noqa: E402

# The labelled data sets sit beside the checkout; TRIAGE_BENCH_DATA points elsewhere.
DATA = Path(os.environ.get("TRIAGE_BENCH_DATA", ROOT.parent / "shared" / "data"))
CHECKS = ROOT / "bench" / "data"
WORK = ROOT / "var" / "triage-bench"
POLARITY = {"angry": "negative", "anxious": "negative", "sad": "negative"}
LANGUAGES = ("en", "zh-Hant", "zh-Hans", "ja", "es", "de", "fr", "pt")


def show(name: str, value: float | str, unit: str = "", floor: str = "") -> None:
    text = f"{value:.4g}" if isinstance(value, float) else value
    print(f"  {name:<44} {text}{unit}{'   (floor ' + floor + ')' if floor else ''}", flush=True)


def progress(done: int, total: int) -> None:
    if done == total or done % 1024 == 0:
        print(f"    embedding new texts: {done}/{total}", flush=True)


def embed_all(cache: EmbeddingCache | None, texts: list[str]) -> None:
    if cache is not None:
        cache.embed(texts, progress=progress)  # one-time cost, not training time


def banking77(cache: EmbeddingCache | None) -> object:
    with (DATA / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    train, val = train_test_split(
        rows, test_size=0.1, stratify=[c for _, c in rows], random_state=0
    )
    embed_all(cache, [t for t, _ in rows])
    start = time.perf_counter()
    model = train_category_model(train, embeddings=cache)
    seconds = time.perf_counter() - start
    metrics = evaluate_category_model(model, val)
    print(f"Banking77 (90/10 stratified split of train.csv, seed 0; {len(val)} val rows)")
    show("accuracy (category null when out of scope)", 100 * metrics["accuracy"], " %", "94.0")
    show("top-1 accuracy before the out-of-scope floor", 100 * metrics["top1_accuracy"], " %")
    show("ECE", metrics["ece"])
    show("training time (9,002 rows)", seconds, " s", "120")
    return model


def banking77_folds(cache: EmbeddingCache | None, folds: int) -> None:
    """Mean accuracy over stratified folds of train.csv: steadier than one 1,001-row slice."""
    with (DATA / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    embed_all(cache, [t for t, _ in rows])
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    scores, top1 = [], []
    for train_rows, test_rows in splitter.split(rows, [c for _, c in rows]):
        model = train_category_model([rows[i] for i in train_rows], embeddings=cache)
        metrics = evaluate_category_model(model, [rows[i] for i in test_rows])
        scores.append(100 * metrics["accuracy"])
        top1.append(100 * metrics["top1_accuracy"])
    print(f"Banking77 ({folds}-fold cross-validation over train.csv, seed 0)")
    show("mean accuracy", float(np.mean(scores)), " %", "94.0")
    show("per fold", " ".join(f"{s:.1f}" for s in scores))
    show("mean top-1 accuracy before the out-of-scope floor", float(np.mean(top1)), " %")


def clinc(cache: EmbeddingCache | None) -> None:
    data = json.loads((DATA / "clinc150" / "train_val.json").read_text(encoding="utf-8"))
    train = [(t, c) for t, c in data["train"] + data["oos_train"]]
    val = [(t, c) for t, c in data["val"] + data["oos_val"]]
    embed_all(cache, [t for t, _ in train + val])
    start = time.perf_counter()
    model = train_category_model(train, oos_label="oos", embeddings=cache)
    seconds = time.perf_counter() - start
    predictions = model.predict_many([t for t, _ in val])
    in_scope = [(p, c) for p, (_, c) in zip(predictions, val, strict=True) if c != "oos"]
    oos = [p for p, (_, c) in zip(predictions, val, strict=True) if c == "oos"]
    accuracy = np.mean([not p.out_of_scope and p.label == c for p, c in in_scope])
    metrics = evaluate_category_model(model, val)
    print(f"CLINC150 (train + oos_train -> val + oos_val; threshold {model.oos_threshold})")
    show("in-scope accuracy", 100 * float(accuracy), " %", "94")
    show("out-of-scope recall", 100 * float(np.mean([p.out_of_scope for p in oos])), " %", "60")
    show("ECE", metrics["ece"])
    show("training time (15,100 rows)", seconds, " s")


def goemotions(cache: EmbeddingCache | None) -> object:
    rows = load_emotion_examples(ROOT / "triage" / "data" / "emotion_examples.tsv")
    names = read_label_names(DATA / "goemotions" / "labels.txt")
    dev = list(iter_mapped_rows(DATA / "goemotions" / "dev.tsv", names))
    if cache is not None and SHIPPED_VECTORS.is_file():
        cache.import_file(SHIPPED_VECTORS)
    embed_all(cache, [t for t, _ in dev])
    start = time.perf_counter()
    model = train_emotion_model(rows, embeddings=cache)  # as train_models does
    seconds = time.perf_counter() - start
    truth = np.asarray([e for _, e in dev])
    texts = [t for t, _ in dev]
    probabilities = model.probabilities(texts)
    predicted = model.pipeline.classes_[probabilities.argmax(axis=1)]
    offsets, model.offsets = model.offsets, None
    plain = model.pipeline.classes_[model.probabilities(texts).argmax(axis=1)]
    model.offsets = offsets
    print(f"GoEmotions dev -> 6 product emotions ({len(dev)} single-emotion rows)")
    show("macro-F1 (model)", float(f1_score(truth, predicted, average="macro")), "", "0.65")
    show("macro-F1 without decision offsets", float(f1_score(truth, plain, average="macro")))
    show("ECE", expected_calibration_error(probabilities, predicted == truth))
    show(f"training time ({len(rows)} rows)", seconds, " s")
    if cache is not None:
        metrics = add_support_reading(model, load_support_examples(), cache)
        product = [p.emotion for p in predict_emotions(model, texts, languages=["en"] * len(texts))]
        print("  support reading (gated with the base model: what the product uses)")
        show("  support messages, out-of-fold accuracy", 100 * metrics["support_accuracy"], " %")
        show("  support messages, out-of-fold macro-F1", metrics["support_macro_f1"])
        show("  intensity, out-of-fold mean error (0-1)", metrics["intensity_mae"])
        show(
            "  GoEmotions dev macro-F1, the product's gated reading",
            float(f1_score(truth, product, average="macro")),
        )
    return model


def polarity(model: object) -> None:
    with (CHECKS / "polarity_multilingual.tsv").open(encoding="utf-8") as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    rows = [r for r in lines[1:] if len(r) == 4]
    print("Polarity, 30 GoEmotions dev rows per language translated by hand for this bench")
    print("  (bench/data/polarity_multilingual.tsv; small: +-0.1 is noise)")
    for language in sorted({r[2] for r in rows}):
        picked = [r for r in rows if r[2] == language]
        truth = [r[1] for r in picked]
        emotions = [predict_emotion(model, r[3], language=language).emotion for r in picked]
        guessed = [
            POLARITY.get(e, e if e in ("positive", "neutral") else "neutral") for e in emotions
        ]
        show(f"{language} macro-F1", float(f1_score(truth, guessed, average="macro")), "", "0.60")


def stated_feelings(model: object) -> None:
    """Accuracy on the hand-made check of stated, negated and calm messages and of demands for
    money not received (bench/data/stated_feelings_check.tsv; never trained or tuned on)."""
    with (CHECKS / "stated_feelings_check.tsv").open(encoding="utf-8") as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    rows = [r for r in lines[1:] if len(r) == 4]
    read = predict_emotions(model, [r[3] for r in rows], languages=[r[0] for r in rows])
    right = [p.emotion in r[1].split("|") for p, r in zip(read, rows, strict=True)]
    print(f"Stated feelings (bench/data/stated_feelings_check.tsv, {len(rows)} rows, 8 languages)")
    show("accuracy", 100 * float(np.mean(right)), " %")
    for kind in dict.fromkeys(r[2] for r in rows):
        picked = [ok for ok, r in zip(right, rows, strict=True) if r[2] == kind]
        show(f"  {kind} ({len(picked)} rows)", 100 * float(np.mean(picked)), " %")
    for ok, r, p in zip(right, rows, read, strict=True):
        if not ok:
            print(f"    {r[0]:<7} {r[1]:<13} read {p.emotion:<9} {r[3][:60]}")


def language_rows(name: str) -> list[tuple[str, str]]:
    """(language, text) rows of a language check; "\\n" in a text is a line break."""
    with (CHECKS / name).open(encoding="utf-8") as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    return [(r[0], r[1].replace("\\n", "\n")) for r in lines[1:] if len(r) == 2]


def language_accuracy(rows: list[tuple[str, str]], candidates) -> float:
    right = [detect_language(text, candidates=candidates)[0] == lang for lang, text in rows]
    return 100 * float(np.mean(right))


def languages() -> None:
    rows = language_rows("language_check.tsv")
    candidates = sorted({r[0] for r in rows})
    print(f"Language of short support messages (bench/data/language_check.tsv, {len(rows)} rows)")
    # Italian, Dutch and Korean are candidates here: lingua's high-accuracy models decide.
    show(
        f"accuracy over {len(candidates)} languages",
        language_accuracy(rows, candidates),
        " %",
        "99",
    )
    # The default desk's languages: what a worker of the default installation runs.
    served = [r for r in rows if r[0] in LANGUAGES]
    show(
        f"accuracy over the {len(LANGUAGES)} default languages ({len(served)} rows)",
        language_accuracy(served, LANGUAGES),
        " %",
        "99",
    )
    hard = language_rows("language_check_hard.tsv")
    print(
        f"Language of harder support messages (bench/data/language_check_hard.tsv, {len(hard)} "
        "rows: very short, typos, product names, quoted English replies)"
    )
    show(
        f"accuracy over the {len(LANGUAGES)} default languages",
        language_accuracy(hard, LANGUAGES),
        " %",
        "97",
    )


def speed(models: Path) -> None:
    # Models loaded from disk, as the worker runs them: fresh embeddings, no training cache.
    engine = load_local_engine(models, languages=LANGUAGES)
    engine.warm_up()
    names = read_label_names(DATA / "goemotions" / "labels.txt")
    texts = [t for t, _ in iter_mapped_rows(DATA / "goemotions" / "train.tsv", names)][-700:]
    engine.analyse(TriageInput(text="warm up the embedder"))
    timings = []
    for text in texts[:200]:  # distinct texts: no cached vectors help
        start = time.perf_counter()
        engine.analyse(TriageInput(text=text))
        timings.append(1000 * (time.perf_counter() - start))
    start = time.perf_counter()
    engine.analyse_many([TriageInput(text=t) for t in texts[200:]])
    rate = 500 / (time.perf_counter() - start)
    # Customers' e-mails as they arrive: the first-pass bench's tickets with a sign-off and the
    # quoted earlier reply (~670 characters; see bench/pipeline.py).
    mails = [TriageInput(text=t["email_body"], subject=t["subject"]) for t in email_tickets(208)]
    mail_timings = []
    for inp in mails:
        start = time.perf_counter()
        engine.analyse(inp)
        mail_timings.append(1000 * (time.perf_counter() - start))
    cuts = statistics.quantiles(timings, n=20)
    mail_cuts = statistics.quantiles(mail_timings, n=20)
    # The encoder path's floors (50 ms, 50 msgs/s) replaced the n-gram path's (20 ms, 1,000/s).
    encoder = embeddings_enabled()
    threads = os.environ.get("OMP_NUM_THREADS", "all cores")
    print(f"Speed (2 cores shared with other work; in process; encoder threads: {threads})")
    show("one message p50 (Reddit comments, ~70 chars)", statistics.median(timings), " ms")
    show("one message p95 (Reddit comments, ~70 chars)", cuts[18], " ms", "50" if encoder else "20")
    chars = statistics.median(len(inp.text) for inp in mails)
    show(f"one e-mail p50 ({chars:.0f} chars with a quote)", statistics.median(mail_timings), " ms")
    show(f"one e-mail p95 ({chars:.0f} chars with a quote)", mail_cuts[18], " ms", "50")
    show("batch of 500 (analyse_many)", rate, " msgs/s", "50" if encoder else "1000")


def memory(category: object, emotion: object) -> Path:
    """Save both models; peak RSS of a fresh process at each loading stage. Returns the dir."""
    models = WORK / "models"
    for target, model in (("category", category), ("emotion", emotion)):
        set_active(models / target, save_model(model, models / target))
    probe = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path\n"
        # VmHWM, not ru_maxrss: the latter survives exec and reports this (large) parent.
        "def mb(): return int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
        " // 1024\n"
        "from triage.engine import load_local_engine, TriageInput; print('imports', mb())\n"
        f"e = load_local_engine(Path({str(models)!r}), languages={LANGUAGES!r})\n"
        "print('models loaded', mb())\n"
        "e.warm_up(); print('language detector', mb())\n"
        "e.analyse(TriageInput(text='Where is my card? I am worried.'))\n"
        "print('first message (embedder loaded)', mb())"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    print("Memory (peak RSS of a fresh process that loads the engine and triages one message)")
    for line in out.stdout.strip().splitlines():
        stage, value = line.rsplit(" ", 1)
        show(f"after {stage}", float(value), " MB", "400" if "first" in stage else "")
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings", choices=("on", "off"), default="on")
    parser.add_argument(
        "--only", default="banking77,clinc,goemotions,polarity,feelings,language,speed"
    )
    parser.add_argument(
        "--banking77-folds",
        type=int,
        default=0,
        metavar="K",
        help="also report K-fold cross-validated Banking77 accuracy (K trainings)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="the encoder's compute threads, as in a worker process (WORKER_THREADS)",
    )
    args = parser.parse_args()
    # Read by the encoder's OpenMP runtime when it is first loaded, below.
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    wanted = set(args.only.split(","))
    if args.embeddings == "off":
        os.environ["SUPPORTDESK_EMBEDDINGS"] = "off"
    embedder = default_embedder() if args.embeddings == "on" else None
    cache = EmbeddingCache.under(WORK, embedder) if embedder else None
    features = f"TF-IDF + {embedder.name}" if embedder else "TF-IDF only"
    print(f"Local triage engine, features: {features}")
    category = banking77(cache) if wanted & {"banking77", "speed"} else None
    if args.banking77_folds > 1:
        banking77_folds(cache, args.banking77_folds)
    if "clinc" in wanted:
        clinc(cache)
    emotion = (
        goemotions(cache) if wanted & {"goemotions", "polarity", "feelings", "speed"} else None
    )
    if "polarity" in wanted:
        polarity(emotion)
    if "feelings" in wanted:
        stated_feelings(emotion)
    if "language" in wanted:
        languages()
    if "speed" in wanted:
        speed(memory(category, emotion))


if __name__ == "__main__":
    main()
