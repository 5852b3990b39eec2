"""What every `kagura live ...` command shares: its common options, the config and its
flags, and running the platforms it built until a signal or a fatal problem."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from kagura.config import ConfigError, KaguraConfig, config_path, load_config
from kagura.logs import RedactSecrets

from .platform import Fatal, LivePlatform
from .runner import EXIT_FATAL, Runner
from .settings import RunnerSettings, SettingError

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Config file (default: ./conf.yaml if it exists)."),
]
ProxyUrlOption = Annotated[
    str | None,
    typer.Option(
        "--proxy-url",
        help="The stage endpoint of `kagura serve` (live.proxy_url; default "
        "ws://127.0.0.1:12393/proxy-ws).",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="The platform token from `kagura tokens` (else live.token, "
        "KAGURA_PLATFORM_TOKEN, or derived from the config's admin token).",
    ),
]
CaFileOption = Annotated[
    Path | None,
    typer.Option("--ca-file", help="Extra CA certificate (PEM) to trust, e.g. a test one."),
]

Platforms = Callable[[], AbstractAsyncContextManager[list[LivePlatform]]]
S = TypeVar("S", bound=BaseModel)


def fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(EXIT_FATAL)


def load(path: Path | None) -> KaguraConfig:
    try:
        return load_config(config_path(path))
    except ConfigError as exc:
        raise fail(f"config\n{exc}") from None


def override(section: S, where: str, **flags: Any) -> S:
    """`section` with the flags that were given laid over it, validated. A path is given as
    text, as the config file writes it."""
    given = {
        name: str(value) if isinstance(value, Path) else value
        for name, value in flags.items()
        if value is not None
    }
    try:
        return type(section).model_validate({**section.model_dump(), **given})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join([where, *map(str, e['loc'][:1])])}: {e['msg']}" for e in exc.errors()
        )
        raise fail(problems) from None


def run_platforms(
    config: KaguraConfig, proxy_url: str | None, token: str | None, platforms: Platforms
) -> None:
    """Run `platforms` (an async context that builds and later closes them) until a
    signal or a fatal problem; exits with the runner's code."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    handler.addFilter(RedactSecrets())  # cookies and tokens never reach the log
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("kagura").setLevel(config.system.log_level.upper())
    try:
        settings = RunnerSettings.load(config, proxy_url=proxy_url, token=token)
    except SettingError as exc:
        raise fail(str(exc)) from None

    async def main() -> int:
        async with platforms() as built:
            return await Runner(built, settings).run()

    try:
        code = asyncio.run(main())
    except (Fatal, SettingError) as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


class Closable(Protocol):
    async def aclose(self) -> None: ...


C = TypeVar("C", bound=Closable)


def fixed(platforms: Callable[[], list[LivePlatform]]) -> Platforms:
    """Platforms with nothing to share or close beyond themselves."""

    @asynccontextmanager
    async def build() -> AsyncIterator[list[LivePlatform]]:
        yield platforms()

    return build


def secret(value: str, variable: str) -> str:
    """A secret from its setting, else from the environment variable `variable`."""
    return (value or os.environ.get(variable, "")).strip()


def sharing(client: Callable[[], C], platforms: Callable[[C], list[LivePlatform]]) -> Platforms:
    """Platforms that share one client (e.g. an HTTP API), closed after the last of them."""

    @asynccontextmanager
    async def build() -> AsyncIterator[list[LivePlatform]]:
        shared = client()
        try:
            yield platforms(shared)
        finally:
            await shared.aclose()

    return build
