"""One run of `kagura chat`: check the options, find or start the server, open the page
once, then converse until the inputs end, Ctrl-C, or the connection ends."""

from __future__ import annotations

import asyncio
import os
import sys
import webbrowser
from dataclasses import dataclass
from pathlib import Path

from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from kagura.auth import Role
from kagura.config import ConfigError, KaguraConfig, config_path, load_config
from kagura.link import CHAT, OPEN_TIMEOUT_S, connect, refusal_of_status, with_query

from .inputs import Timing, listen, say_files, type_lines
from .screen import Screen
from .server import LocalServer, ServerError, probe
from .session import ChatError, StageChat, refused
from .sound import Microphone, Player, ReplyFiles, SoundError, utterance_frames
from .target import Target, TargetError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C


@dataclass(frozen=True)
class Options:
    """The command line, as given."""

    files: list[Path]
    wav: bool
    typed: bool
    url: str | None
    token: str | None
    config: Path | None
    no_start: bool
    start_timeout: float
    out: Path | None
    play: bool | None
    browser: bool
    speed: float
    reply_timeout: float


def run(options: Options) -> int:
    """The exit code: 0, `EXIT_FAILED`, `EXIT_USAGE` or `EXIT_INTERRUPTED`."""
    screen = Screen()
    try:
        plan = _plan(options)
    except UsageError as exc:
        screen.problem(str(exc))
        return EXIT_USAGE
    chat_run = Run(plan, screen)
    code = EXIT_FAILED
    try:
        code = asyncio.run(chat_run.main())
    except KeyboardInterrupt:
        screen.idle()
        screen.note("Stopped.")
        code = EXIT_INTERRUPTED
    finally:
        chat_run.stop_server(keep_log=code not in (0, EXIT_INTERRUPTED))
    return code


class UsageError(Exception):
    """Options that cannot work together, or a file or config that cannot be used."""


@dataclass(frozen=True)
class Plan:
    """What one run does, decided (and checked) before anything connects."""

    target: Target
    config_path: Path | None
    files: list[tuple[Path, list[bytes]]]
    typed: bool
    start: bool
    start_timeout_s: float
    out: Path | None
    play: bool | None  # None: play here unless the stage page was opened
    browser: bool
    timing: Timing


def _plan(options: Options) -> Plan:
    files, wav, typed, config = options.files, options.wav, options.typed, options.config
    if files and not wav:
        raise UsageError("to say WAV files, pass --wav: kagura chat --wav a.wav b.wav")
    if wav and not files:
        raise UsageError("--wav needs the WAV files to say: kagura chat --wav a.wav b.wav")
    if wav and typed:
        raise UsageError("--wav and --typed: choose one")
    config = config_path(config)
    try:
        settings: KaguraConfig = load_config(config)
        target = Target.resolve(settings, options.url, options.token)
        utterances = [(path, utterance_frames(path)) for path in files]
    except ConfigError as exc:
        raise UsageError(f"config\n{exc}") from None
    except (TargetError, SoundError) as exc:
        raise UsageError(str(exc)) from None
    heard_timeout = settings.voice.turn.silence_timeout_ms / 1000 + settings.asr.timeout_s
    return Plan(
        target=target,
        config_path=config.resolve() if config is not None else None,
        files=utterances,
        typed=typed,
        start=not options.no_start,
        start_timeout_s=options.start_timeout,
        out=options.out,
        play=options.play,
        browser=options.browser,
        timing=Timing(options.speed, heard_timeout, options.reply_timeout),
    )


class Run:
    """One chat, from finding the server to the last reply; `server` is the one it started."""

    def __init__(self, plan: Plan, screen: Screen) -> None:
        self.plan = plan
        self.screen = screen
        self.server: LocalServer | None = None

    async def main(self) -> int:
        plan, screen = self.plan, self.screen
        try:
            microphone = None if plan.files or plan.typed else _microphone()
            files = ReplyFiles(plan.out) if plan.out is not None else None
            await self._find_server()
            opened = plan.browser and _open_page(plan.target, screen)
            player = _player(plan.play, opened, files is not None, screen)
            return await _converse(plan, screen, microphone, player, files)
        except (ServerError, SoundError, ChatError) as exc:
            screen.idle()
            screen.problem(str(exc))
            return EXIT_FAILED

    async def _find_server(self) -> None:
        """Make sure a server answers at the target, starting one if allowed."""
        plan, screen, target = self.plan, self.screen, self.plan.target
        screen.progress(f"looking for the server at {target.base_url}…")
        why = await probe(target)
        if why is None:
            screen.idle()
            return
        if not plan.start:
            raise ServerError(
                f"no Kagura server answers at {target.health_url} ({why}); start one with "
                "`kagura serve`, pass the right --url, or leave out --no-start to let the "
                "chat start one"
            )
        if not target.local:
            raise ServerError(
                f"no Kagura server answers at {target.health_url} ({why}), and the chat "
                "starts servers only on this machine: start `kagura serve` there, or check --url"
            )
        self.server = LocalServer(target, plan.config_path)
        self.server.start()
        screen.note(f"Started `kagura serve` on {target.base_url} (log: {self.server.log_path})")
        await self.server.ready(plan.start_timeout_s, screen.progress)
        screen.idle()

    def stop_server(self, keep_log: bool) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        self.screen.note("Stopping the server this chat started…")
        server.stop()
        if keep_log:
            self.screen.note(f"Its log: {server.log_path}")
        else:
            server.discard_log()


def _microphone() -> Microphone:
    try:
        return Microphone()
    except SoundError as exc:
        raise SoundError(f"{exc}; type with --typed, or say WAV files with --wav") from None


def _open_page(target: Target, screen: Screen) -> bool:
    """Open the stage page once, if this machine can show one."""
    graphical = sys.platform in ("darwin", "win32") or any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY")
    )
    opened = False
    if graphical:
        try:
            opened = webbrowser.open(target.page_url())
        except webbrowser.Error:
            opened = False
    page = f"{target.base_url}/stage"
    if opened:
        screen.note(f"Opened the stage page: {page}")
    else:
        hint = " (add ?token= with the page token from `kagura tokens`)" if target.token else ""
        screen.note(f"Open the stage page to see the character: {page}{hint}")
    return opened


def _player(play: bool | None, page_opened: bool, writing: bool, screen: Screen) -> Player | None:
    if play is False or (play is None and page_opened):
        if page_opened:
            screen.note("Replies play in the stage page (--play to play them here as well).")
        return None
    try:
        return Player()
    except SoundError as exc:
        if play:
            raise
        where = "written to --out" if writing else "not played here (--out DIR writes them)"
        screen.note(f"{exc}; replies are {where}.")
        return None


async def _converse(
    plan: Plan,
    screen: Screen,
    microphone: Microphone | None,
    player: Player | None,
    files: ReplyFiles | None,
) -> int:
    target = plan.target
    screen.progress(f"connecting to {target.shown}…")
    url = with_query(target.stage_url, "role", Role.ADMIN)
    try:
        ws = await connect(url, token=target.token, client=CHAT)
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
        refusal = refusal_of_status(exc) if isinstance(exc, InvalidStatus) else None
        if refusal is not None:
            raise ChatError(refused(target.shown, refusal)) from None
        raise ChatError(f"cannot connect to {target.shown}: {exc}") from None
    chat = StageChat(ws, screen, shown_url=target.shown, player=player, files=files)
    reader = asyncio.create_task(chat.run())
    driver: asyncio.Task[int] | None = None
    try:
        await chat.accepted(OPEN_TIMEOUT_S)
        screen.idle()
        driver = asyncio.create_task(_drive(plan, chat, screen, microphone))
        await asyncio.wait([driver, reader], return_when=asyncio.FIRST_COMPLETED)
        if not driver.done():  # the connection ended first: nothing more can be said
            raise chat.lost()
        failed = driver.result()
    finally:
        if driver is not None and not driver.done():
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)
        if microphone is not None:
            microphone.close()
        await chat.aclose()
        await ws.close()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    if failed:
        screen.problem(f"{failed} input(s) got no reply")
    return EXIT_FAILED if failed else 0


async def _drive(plan: Plan, chat: StageChat, screen: Screen, microphone: Microphone | None) -> int:
    """Say what this run says; returns how many inputs went unanswered."""
    if plan.files:
        return await say_files(chat, screen, plan.files, plan.timing)
    if plan.typed:
        return await type_lines(chat, screen, plan.timing)
    assert microphone is not None
    return await listen(chat, screen, microphone)
