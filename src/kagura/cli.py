"""The `kagura` command: serve, and manage the config file."""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from kagura.chat.command import chat
from kagura.config import (
    DEFAULT_CONFIG,
    ConfigError,
    KaguraConfig,
    config_path,
    load_config,
)
from kagura.demo.command import demo
from kagura.live.cli import live_app
from kagura.logs import RedactSecrets
from kagura.perform.command import perform_app

if TYPE_CHECKING:
    from kagura.server.transport import Limits

app = typer.Typer(help="Kagura: an AI VTuber server.", no_args_is_help=True)
config_app = typer.Typer(help="Create and check the config file.", no_args_is_help=True)
app.add_typer(config_app, name="config")
widget_app = typer.Typer(help="The widget channel: replies pushed to Live2D widget pages.")
app.add_typer(widget_app, name="widget", no_args_is_help=True)
app.add_typer(live_app, name="live")
live_app.command("demo")(demo)  # not in kagura.live: it runs a fake platform (kagura.testing)
app.command()(chat)
app.add_typer(perform_app, name="perform")

err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Config file (default: ./conf.yaml if it exists)."),
]


def _load(path: Path | None) -> KaguraConfig:
    try:
        return load_config(config_path(path))
    except ConfigError as exc:
        err.print(f"[bold red]Config error[/]\n{exc}", highlight=False)
        raise typer.Exit(2) from None


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Bind address (system.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (system.port).")] = None,
    frontend_dir: Annotated[
        Path | None,
        typer.Option(
            help="Serve this prebuilt web frontend at / (system.frontend_dir), e.g. "
            "Open-LLM-VTuber's frontend folder; Kagura's stage page stays at /stage."
        ),
    ] = None,
) -> None:
    """Run the server: the pages, /client-ws, /proxy-ws and the engines."""
    import uvicorn

    from kagura.server.app import create_app
    from kagura.server.frontend import FrontendError
    from kagura.server.transport import protocols

    settings = _load(config)
    overrides = {
        "host": host,
        "port": port,
        "frontend_dir": str(frontend_dir.resolve()) if frontend_dir is not None else None,
    }
    if any(value is not None for value in overrides.values()):
        system = settings.system.model_copy(
            update={k: v for k, v in overrides.items() if v is not None}
        )
        settings = settings.model_copy(update={"system": system})
    _configure_logging(settings.system.log_level)
    try:
        server_app = create_app(settings)
    except FrontendError as exc:
        err.print(f"[bold red]Refusing to start[/]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    base = f"http://{settings.system.host}:{settings.system.port}"
    err.print(f"Kagura on [bold]{base}[/] (stage page {base}/stage, overlay {base}/overlay)")
    if settings.system.frontend_dir:
        err.print(f"Frontend from {settings.resolve_path(settings.system.frontend_dir)} at /")
    if settings.llm.provider == "smollm2":
        err.print(
            "The embedded LLM is a tiny English-only demo model: it proves the pipeline "
            "offline, but a stream needs a real model (7B class). See the line below, or "
            "`kagura config init --llm ollama`.",
            highlight=False,
        )
        threading.Thread(target=_point_out_model_servers, daemon=True).start()
    http_protocol, ws_protocol = protocols(limits(settings))
    uvicorn.run(
        server_app,
        http=http_protocol,
        ws=ws_protocol,
        host=settings.system.host,
        port=settings.system.port,
        log_level="info" if settings.system.log_level == "debug" else settings.system.log_level,
        log_config=None,
        ws_max_size=settings.system.max_frame_bytes,
        # Audio frames are base64 WAV, which deflate barely shrinks but which costs several
        # milliseconds per frame on the event loop: time to first audio matters more.
        ws_per_message_deflate=False,
        ws_ping_interval=20,
        ws_ping_timeout=20,
    )


def limits(settings: KaguraConfig) -> Limits:
    """The connection limits of `system` (`kagura.server.transport.Limits`)."""
    from kagura.server.transport import Limits

    system = settings.system
    return Limits(
        handshake_timeout_s=system.handshake_timeout_s,
        stalled_send_timeout_s=system.stalled_send_timeout_s,
        max_per_address=system.max_connections_per_address,
    )


def _point_out_model_servers() -> None:
    """A model server running on this machine, pointed out once (never switched to)."""
    from kagura.engines.llm.servers import running_locally

    for server, models in running_locally():
        shown = f" with {len(models)} model(s), e.g. {models[0]}" if models else ""
        err.print(
            f"{server.label} is running at {server.base_url}{shown}: to answer with it, stop "
            f"Kagura and run `kagura config init --llm {server.name} --force`",
            highlight=False,
        )
        return


def _configure_logging(level: str) -> None:
    """`system.log_level` is for Kagura's own loggers; libraries stay at warnings. Uvicorn
    logs through the same handler (it is started without a logging config of its own)."""
    handler = RichHandler(console=err, show_path=False, rich_tracebacks=True)
    handler.addFilter(RedactSecrets())
    logging.basicConfig(
        level=logging.WARNING, format="%(message)s", datefmt="[%X]", handlers=[handler]
    )
    logging.getLogger("kagura").setLevel(level.upper())


@app.command()
def tokens(
    config: ConfigOption = None,
    platform: Annotated[
        list[str] | None,
        typer.Option(help="Also print a platform token that may speak for this platform only."),
    ] = None,
) -> None:
    """Print the admin, page and platform tokens (stage page, OBS overlay, chat clients)."""
    from kagura.auth import AuthSettings, Role, platform_token, role_token

    auth = AuthSettings.load(_load(config))
    if not auth.token:  # the command's answer, so on stdout like the tokens
        print(
            "No token: this server listens on loopback and trusts local clients. Set "
            "system.auth_token (or KAGURA_AUTH_TOKEN) to require one."
        )
        return
    for role in Role:
        print(f"{role.value:<9} {role_token(auth.token, role)}")
    for name in platform or []:
        try:
            print(f"{'platform':<9} {platform_token(auth.token, name)}")
        except ValueError as exc:
            err.print(str(exc))
            raise typer.Exit(2) from None


@config_app.command("init")
def config_init(
    path: Annotated[Path, typer.Argument(help="Where to write it.")] = DEFAULT_CONFIG,
    lang: Annotated[str, typer.Option(help="Comment language: en or zh.")] = "en",
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    llm: Annotated[
        str | None,
        typer.Option(
            help="Use a model server you run: ollama, lmstudio, llamacpp, vllm or openai "
            "(checked: it must answer and have the model)."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="The model to ask for (default: the server's first).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="The server's API address, if not its usual one.")
    ] = None,
) -> None:
    """Write a commented config with every setting at its default (and your model server)."""
    from kagura.config.render import default_config, render_yaml
    from kagura.engines.llm.servers import KNOWN

    if lang not in ("en", "zh"):
        err.print("--lang must be 'en' or 'zh'")
        raise typer.Exit(2)
    if llm is not None and llm not in KNOWN:
        err.print(f"--llm must be one of: {', '.join(KNOWN)}")
        raise typer.Exit(2)
    if path.exists() and not force:
        err.print(f"{path} exists; pass --force to overwrite it")
        raise typer.Exit(1)
    settings = default_config("zh" if lang == "zh" else "en")
    problem = ""
    if llm is not None:
        settings, problem = _with_model_server(settings, llm, model, base_url)
    path.write_text(render_yaml(settings, "zh" if lang == "zh" else "en"), encoding="utf-8")
    err.print(f"wrote {path}")
    if problem:
        err.print(f"[bold yellow]Not ready yet[/]: {problem}", highlight=False)
        raise typer.Exit(1)


def _with_model_server(
    settings: KaguraConfig, name: str, model: str | None, base_url: str | None
) -> tuple[KaguraConfig, str]:
    """`settings` using the model server `name` (checked), and what is wrong with it ("")."""
    from kagura.engines.llm.servers import KNOWN, ServerProblem, list_models

    server = KNOWN[name]
    url = base_url or server.base_url
    problem = ""
    try:
        models = list_models(url, settings.llm.openai.api_key if server.needs_key else "")
    except ServerProblem as exc:
        models, problem = [], f"{exc}: {server.how_to_start}; then `kagura config check`"
    chosen = model or (models[0] if models else settings.llm.openai.model)
    if models and chosen not in models:
        problem = (
            f"{server.label} at {url} has no model {chosen!r}; it has: {', '.join(models[:20])} "
            "(pass one with --model)"
        )
    elif models:
        err.print(f"{server.label} at {url} answers; using {chosen!r}", highlight=False)
    data = settings.model_dump()
    data["llm"]["provider"] = "openai"
    data["llm"]["openai"].update(base_url=url, model=chosen)
    return KaguraConfig.model_validate(data), problem


@config_app.command("check")
def config_check(
    path: Annotated[Path, typer.Argument(help="The config file.")] = DEFAULT_CONFIG,
) -> None:
    """Validate a config file; name every bad field and the file."""
    from kagura.server.frontend import FrontendError, frontend_folder

    settings = _load(path)
    try:
        frontend_folder(settings)
    except FrontendError as exc:
        err.print(f"[bold red]Config error[/]\n{path}: {exc}", highlight=False)
        raise typer.Exit(2) from None
    err.print(
        f"{path}: OK (character {settings.character.conf_name!r}, LLM {settings.llm.provider}, "
        f"TTS {settings.tts.provider}, ASR {settings.asr.provider})"
    )


@config_app.command("import-olv")
def config_import_olv(
    source: Annotated[Path, typer.Argument(help="An Open-LLM-VTuber folder, or its conf.yaml.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The Kagura config to write.")
    ] = DEFAULT_CONFIG,
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Import an Open-LLM-VTuber setup: character, presets, models, LLM, TTS, ASR.

    Writes the config and one preset per character file (in characters/ beside it); the
    models, backgrounds, avatars and built frontend are used where they are."""
    from rich.markup import escape
    from rich.table import Table

    from kagura.olv import OlvImportError, plan_import, write_import

    try:
        plan = plan_import(source, output)
        written = write_import(plan, force=force)
    except OlvImportError as exc:
        err.print(f"[bold red]Cannot import[/]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    table = Table(title=f"Imported from {plan.source}", show_lines=True, expand=True)
    for column, share in (("part", 2), ("Open-LLM-VTuber", 3), ("Kagura", 5)):
        table.add_column(column, overflow="fold", ratio=share)
    for line in plan.lines:
        result = escape(line.result) if line.carried else f"[yellow]{escape(line.result)}[/]"
        note = f"\n[dim]{escape(line.note)}[/]" if line.note else ""
        table.add_row(escape(line.part), escape(line.source), result + note)
    Console(highlight=False).print(table)
    for path in written:
        err.print(f"wrote {path}")
    left = sum(not line.carried for line in plan.lines)
    if left:
        err.print(f"{left} part(s) not carried over as they were: see the notes (also in the file)")
    err.print(f"Next: kagura config check {output} && kagura serve -c {output}")


@widget_app.command("serve")
def widget_serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Bind address (widget.host).")] = None,
    port: Annotated[int | None, typer.Option(help="WebSocket port (widget.port).")] = None,
    http_port: Annotated[
        int | None, typer.Option(help="Also serve the widget page at /widget on this port.")
    ] = None,
) -> None:
    """Run the standalone widget server (and, with --http-port, the widget page)."""
    import asyncio

    from kagura.widget.access import WidgetAuthError

    settings = _load(config)
    _configure_logging(settings.system.log_level)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_widget_main(settings, host, port, http_port))
    except WidgetAuthError as exc:
        err.print(f"[bold red]Refusing to start[/]: {exc}", highlight=False)
        raise typer.Exit(2) from None


async def _widget_main(
    settings: KaguraConfig, host: str | None, port: int | None, http_port: int | None
) -> None:
    """Everything on one loop: the hub, its listener and the optional page server."""
    import asyncio

    import uvicorn

    from kagura.server.transport import protocols
    from kagura.server.widget_ws import create_widget_app
    from kagura.widget import WidgetServer, install_server

    http_protocol, ws_protocol = protocols(limits(settings))

    server = WidgetServer.from_config(settings, host=host, port=port)
    await server.start_here()
    install_server(server)
    err.print(f"Widget channel on [bold]{server.url}[/]")
    try:
        if http_port is None:
            await asyncio.Event().wait()  # until Ctrl-C
        else:
            err.print(f"Widget page on [bold]http://{server.host}:{http_port}/widget[/]")
            web = uvicorn.Server(
                uvicorn.Config(
                    create_widget_app(settings, server),
                    host=server.host,
                    port=http_port,
                    http=http_protocol,
                    ws=ws_protocol,
                    log_level="warning",
                    ws_per_message_deflate=False,
                )
            )
            await web.serve()
    finally:
        install_server(None)
        await server.astop()


def main() -> None:  # pragma: no cover - `python -m kagura`
    app(prog_name="kagura")


if __name__ == "__main__":  # pragma: no cover
    main()
