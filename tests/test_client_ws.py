"""`/client-ws` against a scripted OpenAI-compatible server: the exact protocol sequence."""

from __future__ import annotations

import base64
import io
import wave

import httpx

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

from .conftest import LLM_KEY, TTS_KEY

REPLY = "Hello there, nice to meet you. [joy] I am Kagura! How are you today?"


def types(messages: list[dict]) -> list[str]:
    return [m["type"] if m["type"] != "control" else f"control:{m['text']}" for m in messages]


async def test_connect_sequence(kagura: KaguraProcess) -> None:
    async with ProtocolClient(kagura.ws_url) as client:
        seen = await client.connect_sequence()
    assert types(seen) == [
        "group-update",
        "full-text",
        "set-model-and-conf",
        "control:start-mic",
    ]
    assert seen[1]["text"] == "Connection established"
    conf = seen[2]
    assert conf["conf_name"] == "Kagura" and conf["conf_uid"] == "kagura-default"
    assert conf["client_uid"].startswith("client_")
    assert conf["model_info"]["name"] == "haru"
    assert conf["model_info"]["url"].endswith(".model3.json")


async def test_full_turn_in_protocol_order(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=REPLY)
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Hi Kagura!")
    assert types(seen) == [
        "control:conversation-chain-start",
        "full-text",
        "audio",
        "audio",
        "audio",
        "audio",
        "backend-synth-complete",
        "force-new-message",
        "control:conversation-chain-end",
    ]
    assert seen[1]["text"] == "Thinking..."
    audio = [m for m in seen if m["type"] == "audio"]
    # Segments in order; the first is cut at the first clause boundary, then sentences.
    # Each later one brings the space before it, for frontends that append them as they come.
    assert [a["display_text"]["text"] for a in audio] == [
        "Hello there,",
        " nice to meet you.",
        " [joy] I am Kagura!",
        " How are you today?",
    ]
    for payload in audio:
        with wave.open(io.BytesIO(base64.b64decode(payload["audio"]))) as wav:
            assert wav.getnchannels() == 1 and wav.getsampwidth() == 2 and wav.getnframes() > 0
            duration_ms = 1000 * wav.getnframes() / wav.getframerate()
        assert abs(len(payload["volumes"]) - duration_ms / 20) <= 1
        assert max(payload["volumes"]) == 1.0 and min(payload["volumes"]) < 1.0
        assert payload["slice_length"] == 20 and payload["forwarded"] is False
        assert payload["display_text"]["name"] == "Kagura"
    # The LLM saw the user's text after a persona that lists the emotion tags.
    request = fake.chat_requests()[-1]
    assert request["stream"] is True
    assert (
        request["messages"][0]["role"] == "system" and "[joy]" in request["messages"][0]["content"]
    )
    assert request["messages"][-1] == {"role": "user", "content": "Hi Kagura!"}
    # Each engine sends its own key.
    by_path = {r.path: r.authorization for r in fake.requests}
    assert by_path == {
        "/v1/chat/completions": f"Bearer {LLM_KEY}",
        "/v1/audio/speech": f"Bearer {TTS_KEY}",
    }


async def test_emotion_tags_become_expressions_and_are_not_spoken(
    kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(
        reply="[joy] Wow, that is wonderful news! [sadness] But I will miss you."
    )
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("I am moving away.")
    audio = [m for m in seen if m["type"] == "audio"]
    emotion_map = {"joy": 1, "sadness": 3}  # haru's map in resources/model_dict.json
    # A segment without a tag carries no actions.
    assert [(a["actions"] or {}).get("expressions") for a in audio] == [
        [emotion_map["joy"]],
        None,
        [emotion_map["sadness"]],
    ]
    assert audio[0]["actions"]["motions"] == [{"group": "Use", "index": 1}]
    spoken = [r["input"] for r in fake.speech_requests()]
    assert spoken == ["Wow,", "that is wonderful news!", "But I will miss you."]
    assert all("[" not in text for text in spoken)


async def test_first_audio_carries_the_first_clause(
    kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    """The first clause is spoken on its own, however short, while the LLM writes on: a
    realistic time to first token and token rate, as a real server streams."""
    fake.script = LLMScript(reply="Hello there, nice to meet you.", ttft_s=0.2, tokens_per_s=50.0)
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Hi!")
    audio = [m for m in seen if m["type"] == "audio"]
    assert [a["display_text"]["text"] for a in audio] == ["Hello there,", " nice to meet you."]
    assert fake.speech_requests()[0]["input"] == "Hello there,"


async def test_a_repeated_sentence_is_spoken_once(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    """Small models loop; a sentence already said in the reply is neither spoken nor
    remembered."""
    fake.script = LLMScript(
        reply="I am Kagura, a virtual streamer. I love chatting with you! "
        "I am Kagura, a virtual streamer. [joy] I love chatting with you!"
    )
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Who are you?")
        await client.turn("Tell me more.")
    audio = [m for m in seen if m["type"] == "audio"]
    assert [a["display_text"]["text"] for a in audio] == [
        "I am Kagura,",
        " a virtual streamer.",
        " I love chatting with you!",
    ]
    assert [r["input"] for r in fake.speech_requests()][:3] == [
        "I am Kagura,",
        "a virtual streamer.",
        "I love chatting with you!",
    ]
    remembered = fake.chat_requests()[-1]["messages"][2]
    assert remembered == {
        "role": "assistant",
        "content": "I am Kagura, a virtual streamer. I love chatting with you!",
    }


async def test_memory_carries_the_conversation(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply="Nice to meet you, Alice. I like your name.")
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        await client.turn("My name is Alice.")
        await client.turn("What is my name?")
    messages = fake.chat_requests()[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == "Nice to meet you, Alice. I like your name."


async def test_sessions_are_private(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    """Two connections are two conversations: neither sees the other's turn or memory."""
    fake.script = LLMScript(reply="Hello, friend. Good to see you.")
    async with ProtocolClient(kagura.ws_url) as one, ProtocolClient(kagura.ws_url) as two:
        await one.connect_sequence()
        await two.connect_sequence()
        await one.turn("I am the first one.")
        await two.send({"type": "heartbeat"})
        assert await two.recv(5) == {"type": "heartbeat-ack"}
        await two.turn("I am the second one.")
    last = fake.chat_requests()[-1]["messages"]
    assert [m["content"] for m in last if m["role"] == "user"] == ["I am the second one."]


async def test_models_info_and_static_routes(kagura: KaguraProcess) -> None:
    async with httpx.AsyncClient(base_url=kagura.http_url) as http:
        info = (await http.get("/live2d-models/info")).json()
        missing = await http.get("/undefined/undefined.model3.json")
        root = await http.get("/?lang=zh")
        stage = await http.get("/stage")
    assert info["type"] == "live2d-models/info"
    assert info["count"] == len(info["characters"]) >= 2
    assert {c["name"] for c in info["characters"]} >= {"haru", "shizuku"}
    assert missing.status_code == 404  # the frontend asks for this before it knows the model
    # Without a frontend of the user's, / leads to the stage page, the query going along.
    assert root.status_code == 307 and root.headers["location"] == "/stage?lang=zh"
    assert stage.status_code == 200 and "Kagura" in stage.text


PIXEL = (  # a 1x1 PNG
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAj"
    "CB0C8AAAAASUVORK5CYII="
)


async def test_images_go_to_the_llm_with_the_new_input_only(
    kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="What a lovely picture.")
    image = {"source": "camera", "data": PIXEL, "mime_type": "image/png"}
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        await client.send({"type": "text-input", "text": "Look at this!", "images": [image]})
        await client.collect_turn()
        await client.turn("And now?")
    first, second = fake.chat_requests()[-2:]
    assert first["messages"][-1] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Look at this!"},
            {"type": "image_url", "image_url": {"url": PIXEL}},
        ],
    }
    # Memory keeps the words, not the picture.
    assert second["messages"][1] == {"role": "user", "content": "Look at this!"}
    assert all(isinstance(m["content"], str) for m in second["messages"])


async def test_page_security_headers(kagura: KaguraProcess) -> None:
    async with httpx.AsyncClient(base_url=kagura.http_url) as http:
        stage, overlay = await http.get("/stage"), await http.get("/overlay")
    for response in (stage, overlay):
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "script-src 'self'" in response.headers["content-security-policy"]
    # The console may not be framed by another site; the OBS overlay may be embedded.
    assert stage.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in stage.headers["content-security-policy"]
    assert "frame-ancestors" not in overlay.headers["content-security-policy"]
