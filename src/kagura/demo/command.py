"""The `kagura live demo` command. The fake room and its viewers are imported only when it
runs: the CLI starts without them, and this import is the one way from the product to
`kagura.testing` (the import-linter contract names it)."""

from __future__ import annotations

from typing import Annotated

import typer

from kagura.live.cli import ConfigOption, ProxyUrlOption, TokenOption, fail, load
from kagura.live.settings import RunnerSettings, SettingError

DEFAULT_PACE_S = 4.0  # mean seconds between events: lively, yet each reply can be heard
MIN_PACE_S, MAX_PACE_S = 0.1, 60.0


def demo(
    proxy_url: ProxyUrlOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
    pace: Annotated[
        float,
        typer.Option(
            help="Mean seconds between the viewers' events.", min=MIN_PACE_S, max=MAX_PACE_S
        ),
    ] = DEFAULT_PACE_S,
) -> None:
    """Try a platform client without an account: a fake room with scripted viewers.

    A local fake Bilibili room, read by a real `kagura live bilibili` that feeds the stage of
    `kagura serve`: start the server first, then watch its stage page."""
    settings = load(config)
    try:
        runner = RunnerSettings.load(settings, proxy_url=proxy_url, token=token)
    except SettingError as exc:
        raise fail(str(exc)) from None
    from .run import run_demo

    raise typer.Exit(run_demo(settings, runner, pace))
