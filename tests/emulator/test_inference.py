"""Asking models as OpenAI answers: server-sent events for `stream: true` (read by the official
SDK), a string system_fingerprint, each model served by its one endpoint, and max_tokens."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from reconciler.emulator.inference import BASE_REPLY

from .test_models import trained_model
from .test_sdk import sdk

CHAT = "gpt-4o-mini-2024-07-18"
LEGACY = "babbage-002"
HELLO = [{"role": "user", "content": "hello"}]


def test_the_sdk_streams_a_chat_answer_chunk_by_chunk(emulator_server: Any) -> None:
    client = sdk(emulator_server.base_url)
    chunks = list(client.chat.completions.create(
        model=CHAT, messages=HELLO, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == BASE_REPLY
    assert len(chunks) > 3  # one per token, not one body
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert all(isinstance(c.system_fingerprint, str) for c in chunks)
    assert len({c.id for c in chunks}) == 1


def test_the_sdk_streams_a_completion(emulator_server: Any) -> None:
    client = sdk(emulator_server.base_url)
    chunks = list(client.completions.create(model=LEGACY, prompt="hi ->", stream=True,
                                            max_tokens=3))
    assert len(chunks) == 3
    assert "".join(c.choices[0].text for c in chunks) == " ".join(BASE_REPLY.split()[:3])
    assert chunks[-1].choices[0].finish_reason == "length"


def test_the_stream_is_server_sent_events_ending_in_done(emulator_http: httpx.Client) -> None:
    answer = emulator_http.post("/chat/completions",
                                json={"model": CHAT, "messages": HELLO, "stream": True})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    blocks = answer.text.split("\n\n")
    assert blocks[-2:] == ["data: [DONE]", ""]
    assert all(b.startswith("data: {") for b in blocks[:-2])


def test_system_fingerprint_is_a_string(emulator_http: httpx.Client) -> None:
    chat = emulator_http.post("/chat/completions", json={"model": CHAT, "messages": HELLO})
    text = emulator_http.post("/completions", json={"model": LEGACY, "prompt": "hi"})
    assert isinstance(chat.json()["system_fingerprint"], str)
    assert isinstance(text.json()["system_fingerprint"], str)


@pytest.mark.parametrize(("path", "body", "words"), [
    ("/chat/completions", {"model": LEGACY, "messages": HELLO},
     "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
     "Did you mean to use v1/completions?"),
    ("/completions", {"model": CHAT, "prompt": "hi"},
     "This is a chat model and not supported in the v1/completions endpoint. "
     "Did you mean to use v1/chat/completions?"),
])
def test_each_model_is_served_by_its_own_endpoint_only(
    emulator_http: httpx.Client, path: str, body: dict[str, Any], words: str
) -> None:
    answer = emulator_http.post(path, json=body)
    assert answer.status_code == 404
    assert answer.json() == {"error": {"message": words, "type": "invalid_request_error",
                                       "param": "model", "code": None}}


def test_fine_tunes_follow_their_base_to_its_endpoint(
    emulator_http: httpx.Client, fake_clock: Any, chat_dataset: Any, tmp_path: Any
) -> None:
    chat_model = trained_model(emulator_http, fake_clock, chat_dataset)
    refused = emulator_http.post("/completions", json={"model": chat_model, "prompt": "hi"})
    assert refused.status_code == 404 and refused.json()["error"]["param"] == "model"


def test_the_sdk_sees_a_wrong_endpoint_as_not_found(emulator_server: Any) -> None:
    client = sdk(emulator_server.base_url, retries=0)
    with pytest.raises(openai.NotFoundError, match="not a chat model"):
        client.chat.completions.create(model=LEGACY, messages=HELLO)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_cuts_the_chat_answer(emulator_http: httpx.Client, name: str) -> None:
    answer = emulator_http.post("/chat/completions",
                                json={"model": CHAT, "messages": HELLO, name: 4}).json()
    choice = answer["choices"][0]
    assert choice["message"]["content"] == "This is a reply"
    assert choice["finish_reason"] == "length"
    assert answer["usage"]["completion_tokens"] == 4


def test_an_answer_within_max_tokens_stops_normally(emulator_http: httpx.Client) -> None:
    answer = emulator_http.post("/completions",
                                json={"model": LEGACY, "prompt": "x", "max_tokens": 500}).json()
    assert answer["choices"][0]["text"] == BASE_REPLY
    assert answer["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("bad", [0, -1, "5", 2.5, True])
def test_a_bad_max_tokens_is_refused(emulator_http: httpx.Client, bad: Any) -> None:
    answer = emulator_http.post("/chat/completions",
                                json={"model": CHAT, "messages": HELLO, "max_tokens": bad})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "max_tokens"
