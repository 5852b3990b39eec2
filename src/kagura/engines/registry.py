"""Which engine a provider name builds: one table per kind, as data, imported only when chosen.

Each kind's package (`kagura.engines.tts`, ...) holds a `PROVIDERS` registry mapping the names
allowed by its config's `provider` field to `"module:Class"` paths. Adding a TTS engine is one
module, one line in `kagura.engines.tts.PROVIDERS`, and its config class (a settings section
plus the name in `TTSConfig.provider`); a test keeps the config's names and the table equal.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Generic, TypeVar, cast

T = TypeVar("T")

# "package.module:Attribute", the notation of entry points and `uvicorn app:app`.
_SEPARATOR = ":"


class UnknownProvider(ValueError):
    """A provider name that no engine is registered for; the message lists the valid ones.

    The config schema already rejects such names, so this means the config was built without
    validation or the schema and the registry disagree: a programming error, reported plainly.
    """


class Registry(Generic[T]):
    """Provider name → what builds that engine (usually its class), imported on first use.

    Paths are strings rather than classes so that choosing one engine never imports the
    others: an unused engine costs nothing, not even the import of its module.
    """

    def __init__(self, kind: str, providers: Mapping[str, str]) -> None:
        for name, path in providers.items():
            module, _, attribute = path.partition(_SEPARATOR)
            if not module or not attribute:
                raise ValueError(f"{kind} provider {name!r}: {path!r} is not 'module:Attribute'")
        self.kind = kind
        self._providers = dict(providers)

    @property
    def names(self) -> tuple[str, ...]:
        """The registered provider names, sorted, as an error message lists them."""
        return tuple(sorted(self._providers))

    def path(self, name: str) -> str:
        """The `"module:Attribute"` path registered for `name`."""
        try:
            return self._providers[name]
        except KeyError:
            raise UnknownProvider(
                f"unknown {self.kind} provider {name!r}; "
                f"choose one of: {', '.join(self.names)} ({self.kind}.provider)"
            ) from None

    def resolve(self, name: str) -> T:
        """Import and return what `name` is registered to; `UnknownProvider` if nothing is."""
        module, _, attribute = self.path(name).partition(_SEPARATOR)
        # The registry's type parameter is a promise about these paths that mypy cannot
        # check; tests/test_engine_registry.py resolves every entry instead.
        return cast(T, getattr(importlib.import_module(module), attribute))
