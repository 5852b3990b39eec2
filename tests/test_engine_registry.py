"""The engine registries: config names equal the tables, bad names say what is valid, imports
stay lazy, and the shared base of in-process engines loads once in its own pool.

Nothing here loads a model.
"""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
import threading
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from kagura.config import ASRConfig, EndOfTurnConfig, LLMConfig, TTSConfig, VADConfig
from kagura.engines import asr, endpointing, llm, tts, vad
from kagura.engines.errors import EngineError
from kagura.engines.local import LocalModel
from kagura.engines.registry import Registry, UnknownProvider

# kind → (its config class, its registry, what every engine of the kind must provide)
KINDS: dict[str, tuple[type[BaseModel], Registry[Any], tuple[str, ...]]] = {
    "llm": (LLMConfig, llm.PROVIDERS, ("load", "stream", "aclose")),
    "tts": (TTSConfig, tts.PROVIDERS, ("load", "synthesize", "aclose", "runs_locally")),
    "asr": (ASRConfig, asr.PROVIDERS, ("load", "transcribe", "aclose")),
    "vad": (VADConfig, vad.PROVIDERS, ("probability",)),
    "turn": (EndOfTurnConfig, endpointing.PROVIDERS, ("load", "probability", "aclose")),
}


def _entries() -> list[tuple[str, str]]:
    return [(kind, name) for kind, (_, registry, _) in KINDS.items() for name in registry.names]


def _create(kind: str, config: Any) -> Any:
    creators = {
        "llm": llm.create,
        "tts": tts.create,
        "asr": asr.create,
        "vad": vad.create,
        "turn": endpointing.create,
    }
    return creators[kind](config)


# --- config and registries agree -----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_config_provider_names_are_the_registry_names(kind: str) -> None:
    config_class, registry, _ = KINDS[kind]
    allowed = typing.get_args(config_class.model_fields["provider"].annotation)
    assert allowed, f"{config_class.__name__}.provider is not a Literal"
    assert sorted(allowed) == list(registry.names)
    assert registry.kind == kind


def test_the_registries_list_the_documented_engines() -> None:
    # Guards the test above against both sides losing an engine together.
    assert llm.PROVIDERS.names == ("openai", "smollm2")
    assert tts.PROVIDERS.names == (
        "azure",
        "cosyvoice",
        "edge",
        "elevenlabs",
        "espeak",
        "fish_speech",
        "gpt_sovits",
        "openai",
        "piper",
    )
    assert asr.PROVIDERS.names == ("openai", "pocketsphinx", "whisper")
    assert vad.PROVIDERS.names == ("silero",)
    assert endpointing.PROVIDERS.names == ("silence", "smart_turn")


@pytest.mark.parametrize(("kind", "name"), _entries())
def test_every_entry_resolves_to_a_class_of_its_kind(kind: str, name: str) -> None:
    _, registry, members = KINDS[kind]
    engine_class = registry.resolve(name)
    assert inspect.isclass(engine_class), f"{registry.path(name)} is not a class"
    missing = [member for member in members if not hasattr(engine_class, member)]
    assert not missing, f"{engine_class.__name__} lacks {missing}"


# --- unknown names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("llm", "unknown llm provider 'foo'; choose one of: openai, smollm2 (llm.provider)"),
        (
            "tts",
            "unknown tts provider 'foo'; choose one of: azure, cosyvoice, edge, elevenlabs, "
            "espeak, fish_speech, gpt_sovits, openai, piper (tts.provider)",
        ),
        (
            "asr",
            "unknown asr provider 'foo'; choose one of: openai, pocketsphinx, whisper "
            "(asr.provider)",
        ),
        ("vad", "unknown vad provider 'foo'; choose one of: silero (vad.provider)"),
        ("turn", "unknown turn provider 'foo'; choose one of: silence, smart_turn (turn.provider)"),
    ],
)
def test_create_rejects_an_unknown_provider_naming_the_choices(kind: str, message: str) -> None:
    config_class, _, _ = KINDS[kind]
    # model_copy skips validation: the way a name the schema would reject reaches create().
    config = config_class().model_copy(update={"provider": "foo"})
    with pytest.raises(UnknownProvider) as raised:
        _create(kind, config)
    assert str(raised.value) == message
    assert isinstance(raised.value, ValueError)


def test_a_registry_rejects_a_malformed_path() -> None:
    with pytest.raises(ValueError) as raised:
        Registry("tts", {"piper": "kagura.engines.tts.piper"})
    assert str(raised.value) == (
        "tts provider 'piper': 'kagura.engines.tts.piper' is not 'module:Attribute'"
    )


def test_resolve_reports_an_entry_that_does_not_exist() -> None:
    registry: Registry[type] = Registry("tts", {"ghost": "kagura.engines.tts.piper:GhostTTS"})
    with pytest.raises(AttributeError, match="GhostTTS"):
        registry.resolve("ghost")


# --- laziness ------------------------------------------------------------------------------

_LAZY_PROBE = """
import sys
from kagura.config import TTSConfig
from kagura.engines import asr, endpointing, llm, tts, vad

def loaded():
    return sorted(m for m in sys.modules if m.rsplit(".", 1)[-1] in ENGINE_MODULES)

ENGINE_MODULES = {
    "openai_compat", "piper", "espeak", "smollm2", "whisper", "silero", "pocketsphinx",
    "smart_turn", "silence", "gpt_sovits", "cosyvoice", "fish_speech", "voice_server",
}
print(loaded())
tts.create(TTSConfig(provider="espeak"))
print(loaded())
"""


def test_only_the_chosen_engine_module_is_imported() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _LAZY_PROBE], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.splitlines()
    assert before == "[]"
    assert after == "['kagura.engines.tts.espeak']"


# --- create() builds the registered class ---------------------------------------------------


@pytest.mark.parametrize(("kind", "name"), [e for e in _entries() if e[0] != "vad"])
async def test_create_builds_the_registered_engine_without_loading_it(kind: str, name: str) -> None:
    config_class, registry, _ = KINDS[kind]
    engine = _create(kind, config_class(provider=name))
    try:
        assert type(engine) is registry.resolve(name)
        if isinstance(engine, LocalModel):
            assert engine._model is None  # building never loads; start-up does
    finally:
        await engine.aclose()


async def test_the_embedded_engines_keep_their_thread_pools() -> None:
    # piper synthesises tts.max_concurrency segments at once; llama.cpp and whisper one call.
    engines = [
        (tts.create(TTSConfig(provider="piper", max_concurrency=3)), 3, "kagura-tts"),
        (llm.create(LLMConfig(provider="smollm2")), 1, "kagura-llm"),
        (asr.create(ASRConfig(provider="whisper")), 1, "kagura-asr"),
    ]
    for engine, workers, prefix in engines:
        assert isinstance(engine, LocalModel)
        try:
            assert engine._executor._max_workers == workers
            thread = await engine._in_thread(threading.current_thread)
            assert thread.name.startswith(prefix)
        finally:
            await engine.aclose()


# --- LocalModel ----------------------------------------------------------------------------


class _Counted(LocalModel[str]):
    """Loads a string slowly enough for callers to race, failing the first `failures` times."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__(workers=2, thread_name_prefix="kagura-test")
        self.loads = 0
        self.load_threads: list[str] = []
        self._failures = failures

    def _load_blocking(self) -> str:
        self.loads += 1
        self.load_threads.append(threading.current_thread().name)
        threading.Event().wait(0.05)
        if self.loads <= self._failures:
            raise EngineError("model file missing")
        return f"model #{self.loads}"

    async def use(self) -> str:
        return await self._loaded()


async def test_local_model_loads_once_in_its_pool_however_many_callers_race() -> None:
    engine = _Counted()
    try:
        results = await asyncio.gather(engine.load(), *(engine.use() for _ in range(5)))
        assert results[1:] == ["model #1"] * 5
        assert engine.loads == 1
        assert engine.load_threads[0].startswith("kagura-test")
        assert engine.load_threads[0] != threading.current_thread().name
    finally:
        await engine.aclose()


async def test_local_model_retries_a_failed_load_on_next_use() -> None:
    engine = _Counted(failures=1)
    try:
        with pytest.raises(EngineError, match="model file missing"):
            await engine.load()
        assert await engine.use() == "model #2"
        assert engine.loads == 2
    finally:
        await engine.aclose()


async def test_local_model_refuses_work_after_aclose() -> None:
    engine = _Counted()
    await engine.load()
    await engine.aclose()
    with pytest.raises(RuntimeError, match="shutdown"):
        await engine._in_thread(str, 1)
