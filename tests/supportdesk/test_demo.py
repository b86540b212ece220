"""The demo company loads in one command, with what its models learn from."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from knowledge.models import Article
from triage.engine.embed import EmbeddingCache, default_embedder
from triage.models import OUT_OF_SCOPE_LABEL, LabelledExample
from triage.training import answers_from_articles

pytestmark = pytest.mark.django_db


def test_the_demo_brings_realistic_examples_and_their_vectors(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_TICKETS", "0")
    settings.MODELS_DIR = tmp_path / "models"

    call_command("load_demo", verbosity=0)

    realistic = LabelledExample.objects.filter(source=LabelledExample.Source.REALISTIC)
    assert realistic.filter(target="category", label=OUT_OF_SCOPE_LABEL).exists()
    assert realistic.filter(target="answer", label=OUT_OF_SCOPE_LABEL).exists()
    # Answer labels name the demo's own (source) articles.
    answers = set(realistic.filter(target="answer").values_list("label", flat=True))
    sources = {
        str(pk) for pk in Article.objects.filter(translation_of=None).values_list("pk", flat=True)
    }
    assert answers - {OUT_OF_SCOPE_LABEL} == sources
    # Every text the first training run embeds is already in the cache: no minutes of CPU.
    texts = [
        *LabelledExample.objects.filter(target__in=["category", "answer"]).values_list(
            "text", flat=True
        ),
        *(text for text, _ in answers_from_articles()),
    ]
    cache = EmbeddingCache.under(settings.MODELS_DIR, default_embedder(force=True))
    assert cache.cached_mask(texts).all()


def test_loading_the_demo_twice_adds_nothing(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_TICKETS", "0")
    settings.MODELS_DIR = tmp_path / "models"
    call_command("load_demo", verbosity=0)
    counts = (LabelledExample.objects.count(), Article.objects.count())

    call_command("load_demo", verbosity=0)

    assert (LabelledExample.objects.count(), Article.objects.count()) == counts
