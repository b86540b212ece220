"""Worker tasks of the knowledge room: they take ids and plain arguments and call services."""

from __future__ import annotations

from knowledge import gaps, translations


def suggestion_refresh(suggestion_id: int) -> None:
    gaps.suggestion_refresh(suggestion_id=suggestion_id)


def translations_propose(article_id: int, languages: list[str] | None = None) -> None:
    """An article was published (or an admin asked): propose its missing translations."""
    translations.translations_propose(article_id=article_id, languages=languages)
