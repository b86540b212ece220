"""Background tasks of the knowledge room. They take plain arguments and call services."""

from __future__ import annotations

from knowledge.services import translations_propose as translations_propose_service


def translations_propose(article_id: int, languages: list[str] | None = None) -> None:
    """An article was published (or an admin asked): propose its missing translations."""
    translations_propose_service(article_id=article_id, languages=languages)
