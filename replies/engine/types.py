"""Data that goes into and comes out of a drafting engine. Plain Python, no ORM."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.retrieval import Passage  # drafts are grounded in what retrieval returns


@dataclass(frozen=True)
class DraftInput:
    question: str  # the customer's latest message (new text only)
    subject: str
    language: str  # language to write in (BCP 47)
    customer_name: str
    customer_tier: str  # "new" | "paying" | "vip" | "free"
    emotion: str
    passages: tuple[Passage, ...]  # best first; empty when nothing matched
    previous_replies: tuple[str, ...] = ()  # earlier outbound texts in this ticket
    brand_name: str = "SupportDesk"
    # An agent's "regenerate" requests, each one of INSTRUCTIONS; empty for the usual draft.
    instructions: tuple[str, ...] = ()
    formal: bool = False  # the brand voice asks for the formal register by default
    # The customer only thanked us (replies.engine.thanks): acknowledge it, answer nothing.
    only_thanks: bool = False
    # The customer reports something that went wrong (a charge, a fault, a complaint): the
    # welcome for new customers does not belong in the reply.
    complaint: bool = False
    # When the customer asks more than one thing (replies.engine.questions): the best passage
    # for each further question the knowledge base answers from another article, and how many
    # further questions it does not answer (a colleague follows up on those).
    other_answers: tuple[Passage, ...] = ()
    unanswered: int = 0


# What an agent can ask of a regenerated draft.
INSTRUCTIONS = {
    "shorter": "Shorter",
    "formal": "More formal",
    "steps": "Add steps",
}


@dataclass(frozen=True)
class Citation:
    article_id: int
    title: str
    language: str
    score: float


@dataclass(frozen=True)
class DraftResult:
    text: str
    language: str
    citations: tuple[Citation, ...]
    grounded: bool  # False when no passage was good enough: a human must answer
    needs_translation: bool  # the cited article is not in the customer's language
    confidence: float
    engine: str
    engine_version: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    # Unbacked commitments found by replies.engine.promises (PromiseFlag.as_dict() each).
    promise_flags: tuple[dict, ...] = field(default_factory=tuple)
