"""From the command line to a run: the config, the settings, logging, the sound output."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from kagura.config import ConfigError, config_path, load_config
from kagura.logs import RedactSecrets

from .run import EXIT_USAGE, make_sink, run
from .settings import SettingError, load_settings
from .sinks import SoundError, output_devices

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"


def launch(
    *,
    config: Path | None,
    url: str | None,
    token: str | None,
    vts_url: str | None,
    device: str | None,
    audio_file: Path | None,
    list_devices: bool,
) -> int:
    """The exit code of one `kagura perform vts`."""
    if list_devices:
        return _list_devices()
    try:
        settings = load_config(config_path(config))
    except ConfigError as exc:
        return _usage(f"config\n{exc}")
    _configure_logging(settings.system.log_level)
    try:
        perform = load_settings(
            settings,
            url=url,
            token=token,
            vts_url=vts_url,
            device=device,
            audio_file=audio_file,
        )
        sink = make_sink(perform)
    except (SettingError, SoundError) as exc:
        return _usage(str(exc))
    where = f"the file {audio_file}" if audio_file is not None else "the sound output"
    logging.getLogger("kagura.perform").info(
        "performing the stage at %s on VTube Studio at %s; the voice goes to %s",
        perform.shown_url,
        perform.vts.url,
        where,
    )
    return run(perform, sink)


def _list_devices() -> int:
    try:
        devices = output_devices()
    except SoundError as exc:
        return _usage(str(exc))
    if not devices:
        typer.echo("No sound output found.")
    for index, name in devices:
        typer.echo(f"{index:>3}  {name}")
    return 0


def _usage(message: str) -> int:
    typer.echo(f"Error: {message}", err=True)
    return EXIT_USAGE


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    handler.addFilter(RedactSecrets())  # tokens never reach the log
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("kagura").setLevel(level.upper())
