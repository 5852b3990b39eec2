"""The `kagura` command: serve, tokens, the widget channel; `config` and `live` are
sub-commands of their own."""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.logging import RichHandler

from kagura.chat.command import chat
from kagura.config import KaguraConfig
from kagura.config_command import config_app, err, load_or_exit
from kagura.demo.command import demo
from kagura.live.cli import live_app
from kagura.logs import RedactSecrets
from kagura.perform.command import perform_app

if TYPE_CHECKING:
    from kagura.server.transport import Limits

app = typer.Typer(help="Kagura: an AI VTuber server.", no_args_is_help=True)
app.add_typer(config_app, name="config")
widget_app = typer.Typer(help="The widget channel: replies pushed to Live2D widget pages.")
app.add_typer(widget_app, name="widget", no_args_is_help=True)
app.add_typer(live_app, name="live")
live_app.command("demo")(demo)  # not in kagura.live: it runs a fake platform (kagura.testing)
app.command()(chat)
app.add_typer(perform_app, name="perform")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Config file (default: ./conf.yaml if it exists)."),
]


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

    settings = load_or_exit(config)
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

    auth = AuthSettings.load(load_or_exit(config))
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

    settings = load_or_exit(config)
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
