"""A chat-completions client on the official `openai` SDK, for any OpenAI-compatible server
(OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio, llama.cpp server).

Plain Python, no ORM: callers pass a `ClientConfig` and get a `CallResult` or an `LLMError`,
and an `on_call` hook sees a `CallReport` for every call, successful or not, so the ledger
records tokens, cost and outcome even when the answer is unusable.

Retries are ours, not the SDK's: its own retry policy also retries 408 and 409, and we retry
only 429, 5xx and dropped connections, with capped jittered exponential waits that honour
`Retry-After`. A timeout is not retried: a server that hung once for the whole timeout is
likely to hang again, and the local engine answers instead.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from supportdesk.llm.schema import SchemaError, validate

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
BASE_DELAY = 0.5
MAX_DELAY = 8.0
# A server asking us to wait longer than this is treated as unavailable: a worker sleeping
# minutes for one ticket is worse than the local engine's answer now.
MAX_RETRY_AFTER = 20.0


@dataclass(frozen=True)
class ClientConfig:
    base_url: str = ""
    api_key: str = ""
    model: str = ""
    azure_endpoint: str = ""
    azure_api_version: str = ""
    azure_deployment: str = ""
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    price_input_per_million: float = 0.0
    price_output_per_million: float = 0.0

    @property
    def provider(self) -> str:
        if self.azure_endpoint:
            return "azure"
        return "openai-compatible" if self.base_url else ""

    @property
    def enabled(self) -> bool:
        return bool(self.provider and self.model_name)

    @property
    def model_name(self) -> str:
        return self.azure_deployment or self.model if self.azure_endpoint else self.model


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class CallReport:
    """One logical call (its retries included), whatever its outcome."""

    purpose: str
    model: str
    usage: Usage
    cost: float
    latency_ms: int
    attempts: int
    outcome: str  # "ok" or an LLMError.outcome
    error: str = ""


@dataclass(frozen=True)
class CallResult:
    data: dict[str, Any]
    report: CallReport


class LLMError(Exception):
    """The model gave no usable answer. `outcome` names why, for the ledger and the ticket."""

    outcome = "error"

    def __init__(self, message: str, *, report: CallReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class LLMTimeout(LLMError):
    outcome = "timeout"


class LLMUnavailable(LLMError):
    """5xx, 429 or no connection, still so after the retries."""

    outcome = "unavailable"


class LLMRejected(LLMError):
    """A 4xx other than 429: our request or key is wrong; retrying cannot help."""

    outcome = "rejected"


class LLMInvalidOutput(LLMError):
    """Not JSON, or JSON outside the schema (an invented label among others)."""

    outcome = "invalid_output"


class LLMOffSchema(LLMInvalidOutput):
    """Valid JSON with a value the schema does not allow, such as an invented category."""

    outcome = "off_schema"


class LLMBudgetExhausted(LLMError):
    outcome = "budget_exhausted"


class _Retryable(Exception):
    def __init__(self, error: LLMError, retry_after: float | None) -> None:
        self.error = error
        self.retry_after = retry_after


@dataclass
class LLMClient:
    config: ClientConfig
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    _sdk: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.config.enabled:
            raise ValueError("No LLM configured: set LLM_BASE_URL and LLM_MODEL (or Azure).")
        # Imported by the first client, not with this module: the SDK holds ~40 MB that a
        # process never calling a model (every worker of a desk without one) need not carry.
        import openai

        common = dict(
            api_key=self.config.api_key or "not-needed",  # local servers ignore the key
            timeout=self.config.timeout,
            max_retries=0,
        )
        if self.config.azure_endpoint:
            self._sdk = openai.AzureOpenAI(
                azure_endpoint=self.config.azure_endpoint,
                api_version=self.config.azure_api_version or None,
                azure_deployment=self.config.azure_deployment or None,
                **common,
            )
        else:
            self._sdk = openai.OpenAI(base_url=self.config.base_url, **common)

    def close(self) -> None:
        self._sdk.close()

    def chat_json(
        self,
        *,
        purpose: str,
        messages: Sequence[Mapping[str, str]],
        schema_name: str,
        schema: Mapping[str, Any],
        max_tokens: int = 1200,
        on_call: Callable[[CallReport], None] | None = None,
    ) -> CallResult:
        """One structured-output call: the answer must be JSON matching `schema`."""
        started = time.perf_counter()
        usage = Usage()
        attempts = 0
        try:
            while True:
                attempts += 1
                try:
                    completion = self._create(messages, schema_name, schema, max_tokens)
                    break
                except _Retryable as retry:
                    if attempts > self.config.max_retries:
                        raise retry.error from None
                    wait = self._wait(attempts, retry.retry_after)
                    if wait is None:
                        raise retry.error from None
                    self.sleep(wait)
            usage = _usage(completion)
            data = _parse(completion, schema)
        except LLMError as exc:
            exc.report = self._report(purpose, usage, started, attempts, exc.outcome, str(exc))
            if on_call:
                on_call(exc.report)
            raise
        report = self._report(purpose, usage, started, attempts, "ok")
        if on_call:
            on_call(report)
        return CallResult(data=data, report=report)

    def _create(self, messages, schema_name, schema, max_tokens):
        import openai  # loaded already: this client was built with it

        try:
            return self._sdk.chat.completions.create(
                model=self.config.model_name,
                messages=list(messages),
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": schema_name, "schema": dict(schema), "strict": True},
                },
                temperature=0,
                max_tokens=max_tokens,
                stream=False,
            )
        except openai.APITimeoutError as exc:
            raise LLMTimeout(f"No answer within {self.config.timeout:g} s") from exc
        except openai.APIConnectionError as exc:
            error = LLMUnavailable(f"Cannot reach the model server: {exc}")
            raise _Retryable(error, None) from exc
        except openai.APIStatusError as exc:
            status = exc.status_code
            detail = re.sub(r"^Error code: \d+ - ", "", str(exc.message))
            message = f"HTTP {status}: {_short(detail)}"
            if status == 429 or status >= 500:
                retry_after = _retry_after(exc.response.headers)
                raise _Retryable(LLMUnavailable(message), retry_after) from exc
            raise LLMRejected(message) from exc
        except (ValueError, TypeError, openai.APIError) as exc:
            # A 200 whose body is no chat completion (an HTML error page from a proxy, plain
            # text, truncated JSON): unusable like a 500, but retrying the same proxy is pointless.
            raise LLMInvalidOutput(f"The server's answer is not a chat completion: {exc}") from exc

    def _wait(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds before the next attempt; None when the server asks for too long a wait."""
        if retry_after is not None:
            return retry_after if retry_after <= MAX_RETRY_AFTER else None
        backoff = min(BASE_DELAY * 2 ** (attempt - 1), MAX_DELAY)
        return backoff * (0.5 + 0.5 * self.jitter())  # "equal jitter": never zero, never more

    def _report(self, purpose, usage, started, attempts, outcome, error="") -> CallReport:
        cost = (
            usage.prompt_tokens * self.config.price_input_per_million
            + usage.completion_tokens * self.config.price_output_per_million
        ) / 1_000_000
        return CallReport(
            purpose=purpose,
            model=self.config.model_name,
            usage=usage,
            cost=round(cost, 6),
            latency_ms=round((time.perf_counter() - started) * 1000),
            attempts=attempts,
            outcome=outcome,
            error=error[:500],
        )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue  # an HTTP date: fall back to our own backoff
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


def _usage(completion: Any) -> Usage:
    usage = getattr(completion, "usage", None)
    try:
        return Usage(
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        )
    except (TypeError, ValueError):  # a server that counts in words, or not at all
        return Usage()


def _parse(completion: Any, schema: Mapping[str, Any]) -> dict[str, Any]:
    # The SDK builds its objects leniently: a 200 with `{"choices": "x"}` or a bare list comes
    # back as whatever the JSON was, so each step checks the shape before trusting it.
    choices = getattr(completion, "choices", None)
    if not choices or not isinstance(choices, list):
        raise LLMInvalidOutput(f"The answer had no choices: {_short(completion)!r}")
    message = getattr(choices[0], "message", None)
    if message is None:
        raise LLMInvalidOutput("The answer's first choice had no message")
    if getattr(message, "refusal", None):
        raise LLMInvalidOutput(f"The model refused: {_short(message.refusal)}")
    content = getattr(message, "content", None) or ""
    if not isinstance(content, str):
        raise LLMInvalidOutput(f"The answer's content is not text: {_short(content)!r}")
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise LLMInvalidOutput(f"Not JSON: {exc.msg} in {_short(content)!r}") from None
    try:
        validate(data, schema)
    except SchemaError as exc:
        raise LLMOffSchema(f"Outside the schema: {exc}") from None
    return data


def _short(text: object, limit: int = 200) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


class ModelStep:
    """A pipeline step the language model answers (triage, a draft, a satisfaction estimate, a
    translation, an FAQ entry): the shared client, and the version its results are stored with
    (the model's name and the step's prompt version), so a changed prompt shows in the data."""

    name = "llm"
    prompt_version = ""

    def __init__(self, client: LLMClient) -> None:
        self.client = client

    @property
    def version(self) -> str:
        return f"{self.client.config.model_name}/{self.prompt_version}"
