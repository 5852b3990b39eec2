"""`kagura chat`: talk to the character from the terminal, as the streamer on the stage.

    kagura chat                         # the microphone; replies in the stage page
    kagura chat --typed                 # typed lines (or piped ones)
    kagura chat --wav a.wav b.wav       # one utterance per file, each answered in turn
    kagura chat --wav a.wav --out replies --no-browser

It talks to the `kagura serve` at `--url` (default: where this config's server listens),
or starts one itself when none answers there, and stops it on exit. This module is only
the command's options: what runs is imported when the command runs, so `kagura serve`
does not load the chat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def chat(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="With --wav: WAV files to say, one utterance each, in order."),
    ] = None,
    wav: Annotated[
        bool, typer.Option("--wav", help="Say the WAV files given instead of using the microphone.")
    ] = False,
    typed: Annotated[
        bool, typer.Option("--typed", help="Type instead of speaking: each line of stdin is said.")
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(
            help="The server: its stage ws://host:port/proxy-ws or its http://host:port "
            "(default: where `kagura serve` with this config listens)."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="The admin token (else system.auth_token, KAGURA_AUTH_TOKEN, or the token "
            "the server saved); `kagura tokens` prints it."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Config file (default: ./conf.yaml if it exists)."),
    ] = None,
    no_start: Annotated[
        bool, typer.Option("--no-start", help="Never start a server: fail if none answers.")
    ] = False,
    start_timeout: Annotated[
        float,
        typer.Option(help="Seconds a server started here may take to load.", min=1, max=3600),
    ] = 300.0,
    out: Annotated[
        Path | None, typer.Option(help="Write each reply to this folder as a WAV file.")
    ] = None,
    play: Annotated[
        bool | None,
        typer.Option(
            "--play/--no-play",
            help="Play replies on this machine's sound device (default: only when the stage "
            "page, which speaks them, was not opened).",
        ),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the stage page in a browser.")
    ] = False,
    speed: Annotated[
        float, typer.Option(help="With --wav: times real time to send the audio at.", min=1, max=50)
    ] = 1.0,
    reply_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for each reply.", min=1, max=3600)
    ] = 120.0,
) -> None:
    """Talk to the character from the terminal, as the streamer: by voice, WAV files or
    typing. Every reply is spoken on the stage pages and sent to the widgets."""
    from .run import Options, run

    options = Options(
        files=files or [],
        wav=wav,
        typed=typed,
        url=url,
        token=token,
        config=config,
        no_start=no_start,
        start_timeout=start_timeout,
        out=out,
        play=play,
        browser=not no_browser,
        speed=speed,
        reply_timeout=reply_timeout,
    )
    raise typer.Exit(run(options))
