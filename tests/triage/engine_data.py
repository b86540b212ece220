"""Labelled toy data shared by the engine tests."""

from __future__ import annotations

from pathlib import Path

EMOTION_DATA = Path(__file__).resolve().parents[2] / "triage" / "data" / "emotion_examples.tsv"
TOY_TAXONOMY = {
    "billing": [
        "I was charged twice this month",
        "Why is my invoice higher than usual?",
        "Please refund the duplicate payment",
        "My credit card was billed after I cancelled",
        "Can I get a receipt for my last payment?",
        "The subscription fee went up without notice",
        "I need a copy of my invoice for accounting",
        "You took money from my account twice",
        "How do I update my payment card?",
        "I want a refund for this month's charge",
    ],
    "account": [
        "I can't log in to my account",
        "How do I reset my password?",
        "My account is locked after too many attempts",
        "I want to change the email address on my account",
        "The verification code never arrives",
        "How do I delete my account?",
        "I forgot my username",
        "Two-factor authentication is not working",
        "Please merge my two accounts",
        "I can't sign in with Google anymore",
    ],
    "shipping": [
        "Where is my package?",
        "My order hasn't arrived yet",
        "The tracking number doesn't work",
        "Can I change the delivery address?",
        "The parcel was delivered to the wrong house",
        "How long does shipping to Canada take?",
        "My order arrived damaged",
        "The courier says the package was lost",
        "Can you ship it faster?",
        "I received someone else's order",
    ],
    "other": [
        "What's the weather like in Paris tomorrow?",
        "Give me a recipe for banana bread",
        "Who won the football game last night?",
        "Tell me a joke about cats",
        "What is the capital of Australia?",
        "Recommend a good science fiction novel",
        "How tall is Mount Everest?",
        "Translate 'good morning' into Italian",
        "What time is sunset today?",
        "Write me a poem about autumn",
    ],
}


def toy_examples() -> list[tuple[str, str]]:
    return [(text, label) for label, texts in TOY_TAXONOMY.items() for text in texts]
