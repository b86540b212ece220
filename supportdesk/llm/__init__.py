"""The LLM engine's plumbing: the OpenAI-SDK client, redaction, injection screening (plain
Python), and as a Django app the per-installation settings and the per-call ledger."""
