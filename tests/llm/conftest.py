"""A loopback OpenAI-compatible server with the installation pointed at it."""

from __future__ import annotations

import re

import pytest

from tests.openai_server import CapturedRequest

PASSAGE_RE = re.compile(
    r"^\[1\] .*?\n(?P<text>.+?)(?:\n\n\[2\] |\n\nOur previous|\n\nThe customer)", re.S | re.M
)


def first_sentence_of_passage_1(request: CapturedRequest) -> str:
    text = PASSAGE_RE.search(request.user_text)["text"]
    return re.split(r"(?<=[.!?。])\s*", text.strip(), maxsplit=1)[0]


class HonestModel:
    """Answers like a well-behaved model: a label from the list, and a draft restating the
    first sentence of passage 1 that addresses the customer through their placeholders."""

    def __init__(self) -> None:
        self.category = "delivery"
        self.emotion = "neutral"

    def __call__(self, request: CapturedRequest):
        if request.schema_name == "triage":
            return {
                "language": "en", "language_confidence": 0.97,
                "category": self.category, "category_confidence": 0.92,
                "emotion": self.emotion, "emotion_confidence": 0.85,
            }  # fmt: skip
        if request.schema_name == "draft":
            names = re.findall(r"<NAME_\d+>", request.user_text)
            emails = re.findall(r"<EMAIL_\d+>", request.user_text)
            sentences = [
                {
                    "text": first_sentence_of_passage_1(request),
                    "source": "passage",
                    "passages": [1],
                },
            ]
            if names and emails:
                sentences.append({
                    "text": f"I have noted, {names[0]}, that updates should go to {emails[0]}.",
                    "source": "conversation", "passages": [],
                })  # fmt: skip
            return {"sentences": sentences}
        return {"ok": True}


@pytest.fixture
def llm(openai_server):
    """The loopback server with the installation pointed at it, answering as an honest model."""
    openai_server.model = HonestModel()
    return openai_server
