"""What every OpenAI-compatible engine shares: building the client and explaining failures.

Ollama, LM Studio, vLLM, llama.cpp server, DeepSeek and OpenAI all speak this API, so one
client covers them. Its errors are translated once, here, into messages that name the URL
that failed and the setting to check.
"""

from __future__ import annotations

import openai
from openai import RequestOptions

from kagura.clipping import one_line

MAX_DETAIL_CHARS = 200  # of a server's error message, in ours

# What the SDK's typed methods pass to `post()`. We call `post()` ourselves on the hot path:
# the typed methods first walk every request body to transform it, which costs about 3 ms per
# request (measured with py-spy), all of it before the first token and the first audio.
BEARER: RequestOptions = {"security": {"bearer_auth": True}}


def make_client(base_url: str, api_key: str, timeout_s: float) -> openai.AsyncOpenAI:
    """A client without retries: a turn has its own deadlines and retrying hides outages."""
    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key=api_key or "not-needed",
        timeout=timeout_s,
        max_retries=0,
    )


def explain(exc: Exception, *, what: str, base_url: str, setting: str) -> str:
    """One line for the user: which server failed, how, and what to check."""
    if isinstance(exc, openai.APITimeoutError):
        return f"{what} server at {base_url} did not answer in time; is it overloaded? ({setting})"
    if isinstance(exc, openai.APIConnectionError):
        return (
            f"cannot reach the {what} server at {base_url}: is it running? "
            f"Check {setting} in your config"
        )
    if isinstance(exc, openai.APIStatusError):
        detail = one_line(exc.message, MAX_DETAIL_CHARS)
        return f"{what} server at {base_url} answered HTTP {exc.status_code}: {detail} ({setting})"
    detail = one_line(str(exc), MAX_DETAIL_CHARS)
    return f"{what} server at {base_url} failed: {type(exc).__name__}: {detail}"


