"""`kagura perform ...`: the options only; what runs is imported when a command runs, so the
CLI (and `kagura serve`) starts without it.

    kagura perform vts                               # default sound output, VTS on :8001
    kagura perform vts --device "CABLE Input"        # the voice into a virtual cable
    kagura perform vts --audio-file voice.wav        # no sound device: write what is heard
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

perform_app = typer.Typer(
    help="Perform the character outside Kagura's pages: on the streamer's VTube Studio model.",
    no_args_is_help=True,
)


@perform_app.command("vts")
def vts(
    url: Annotated[
        str | None,
        typer.Option(
            help="The stage: ws://host:port/proxy-ws or the server's http://host:port "
            "(perform.stage_url; default: where `kagura serve` with this config listens)."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="The page token from `kagura tokens` (else perform.token, KAGURA_PAGE_TOKEN, "
            "or derived from the config's admin token)."
        ),
    ] = None,
    vts_url: Annotated[
        str | None,
        typer.Option("--vts-url", help="VTube Studio's plugin API (perform.vts.url)."),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            help="Sound output: its name, part of it, or its number (perform.device; default: "
            "the default output). See --list-devices."
        ),
    ] = None,
    audio_file: Annotated[
        Path | None,
        typer.Option(
            "--audio-file",
            help="Write the voice to this WAV file, in real time, instead of playing it.",
        ),
    ] = None,
    list_devices: Annotated[
        bool, typer.Option("--list-devices", help="List the sound outputs and exit.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Config file (default: ./conf.yaml if it exists)."),
    ] = None,
) -> None:
    """Perform on VTube Studio: join the stage as a page, play each reply on a sound output,
    fire the model's hotkeys for the character's emotions and move its mouth with the voice."""
    from .launch import launch

    raise typer.Exit(
        launch(
            config=config,
            url=url,
            token=token,
            vts_url=vts_url,
            device=device,
            audio_file=audio_file,
            list_devices=list_devices,
        )
    )
