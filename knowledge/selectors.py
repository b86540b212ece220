"""Reads of the knowledge base, including the in-process retrieval index."""

from __future__ import annotations

import threading

from django.db.models import Count, Max

from knowledge.models import Article
from knowledge.retrieval import ArticleDoc, KBIndex

_lock = threading.Lock()
_cached: tuple[tuple, KBIndex] | None = None


def kb_index() -> KBIndex:
    """The index over published articles, rebuilt only when an article changed."""
    global _cached
    published = Article.objects.filter(published=True)
    stamp = published.aggregate(n=Count("pk"), last=Max("updated_at"))
    key = (stamp["n"], stamp["last"])
    with _lock:
        if _cached is None or _cached[0] != key:
            docs = [
                ArticleDoc(
                    article_id=a.pk,
                    title=a.title,
                    body=a.body,
                    language=a.language,
                    source_id=a.translation_of_id,
                )
                for a in published.only("pk", "title", "body", "language", "translation_of_id")
            ]
            _cached = (key, KBIndex.build(docs))
        return _cached[1]
