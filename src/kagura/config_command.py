"""`kagura config`: write a config (with the model server and the voice a user runs,
checked), check one, and import an Open-LLM-VTuber setup."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kagura.config import DEFAULT_CONFIG, ConfigError, KaguraConfig, config_path, load_config

config_app = typer.Typer(help="Create and check the config file.", no_args_is_help=True)
err = Console(stderr=True)


def load_or_exit(path: Path | None) -> KaguraConfig:
    try:
        return load_config(config_path(path))
    except ConfigError as exc:
        err.print(f"[bold red]Config error[/]\n{exc}", highlight=False)
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
    tts: Annotated[
        str | None,
        typer.Option(
            help="Speak with a voice you use: gpt_sovits, cosyvoice, fish_speech, edge, "
            "elevenlabs, azure, openai, piper or espeak (checked: it must say a sentence)."
        ),
    ] = None,
    tts_url: Annotated[
        str | None, typer.Option(help="Where that voice's server or service is, if not usual.")
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
    if tts is not None:
        settings, voice_problem = _with_voice(settings, tts, tts_url)
        problem = "; ".join(p for p in (problem, voice_problem) if p)
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


def _with_voice(
    settings: KaguraConfig, provider: str, url: str | None
) -> tuple[KaguraConfig, str]:
    """`settings` speaking with `provider` (at `url`), and what keeps it from speaking."""
    import asyncio

    from pydantic import ValidationError

    from kagura.engines.tts.check import URL_SETTING, try_voice

    data = settings.model_dump()
    data["tts"]["provider"] = provider
    if url is not None:
        if provider not in URL_SETTING:
            return settings, f"--tts-url: {provider} is not a server (it runs inside Kagura)"
        data["tts"][provider][URL_SETTING[provider]] = url
    try:
        updated = KaguraConfig.model_validate(data)
    except ValidationError as exc:
        return settings, f"--tts {provider}: {exc.errors()[0]['msg']}"
    seconds, problem = asyncio.run(try_voice(updated.tts))
    if not problem:
        err.print(f"{provider} speaks ({seconds:.1f} s for a short sentence)", highlight=False)
    return updated, problem and f"{problem}; then `kagura config check`"


@config_app.command("check")
def config_check(
    path: Annotated[Path, typer.Argument(help="The config file.")] = DEFAULT_CONFIG,
) -> None:
    """Validate a config file; name every bad field and the file."""
    from kagura.server.frontend import FrontendError, frontend_folder

    settings = load_or_exit(path)
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
