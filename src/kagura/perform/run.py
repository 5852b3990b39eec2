"""One run of `kagura perform vts`: the sink, the stage page, VTube Studio and the tick that
joins them, until Ctrl-C, SIGTERM, the stage refusing the page, or the sound output failing.

Three connections or devices, three lives: the stage is reconnected with a backoff (a
refusal, a wrong token, ends the run: retrying cannot help); VTube Studio is reconnected on
its own and may be missing for good without stopping anything; the sound output failing
ends the run, as there is nothing left to perform.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from websockets.asyncio.client import ClientConnection

from kagura.backoff import Backoff
from kagura.link import PERFORM, Refusal, connect, keep_connected, with_query

from .animate import Animator
from .player import Player
from .settings import PerformSettings
from .sinks import DeviceSink, FileSink, Sink, SoundError
from .stage import StagePage
from .vts import VTubeStudio

log = logging.getLogger(__name__)

EXIT_FAILED = 1
EXIT_USAGE = 2
STABLE_S = 10.0  # a stage connection that lived this long starts the backoff over


def make_sink(settings: PerformSettings) -> Sink:
    """The sink the flags ask for; `SoundError` (a usage problem) if it cannot be had."""
    if settings.audio_file is not None:
        return FileSink(settings.audio_file)
    return DeviceSink(settings.device)


def run(settings: PerformSettings, sink: Sink) -> int:
    """Perform until stopped; the exit code."""
    try:
        return asyncio.run(_main(settings, sink))
    except KeyboardInterrupt:
        return 0
    finally:
        sink.close()


async def _main(settings: PerformSettings, sink: Sink) -> int:
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C only
        loop.add_signal_handler(signal.SIGTERM, main.cancel)
    player = Player()
    try:
        sink.start(player)
    except SoundError as exc:
        log.error("%s", exc)
        return EXIT_FAILED
    vts = VTubeStudio(settings.vts)
    page = StagePage(player, vts, shown_url=settings.shown_url, reset=settings.reset_after_turn)
    animator = Animator(
        player,
        vts,
        rate_hz=settings.mouth_rate_hz,
        mouth_parameter=settings.mouth_parameter,
        smile=settings.smile,
        holding=lambda: page.holding,
    )
    tasks = {
        "stage": asyncio.create_task(_stage(settings, page)),
        "sound": asyncio.create_task(sink.run()),
        "vts": asyncio.create_task(vts.run()),
        "animate": asyncio.create_task(animator.run()),
    }
    try:
        essential = [tasks["stage"], tasks["sound"], tasks["animate"]]
        done, _ = await asyncio.wait(essential, return_when=asyncio.FIRST_COMPLETED)
        return _ending(done.pop())
    except asyncio.CancelledError:
        log.info("stopped")
        return 0
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)


def _ending(task: asyncio.Task[None]) -> int:
    """What an essential task's end means for the run."""
    exc = task.exception()
    if isinstance(exc, Refusal):
        log.error(
            "the stage refused the performer: %s; pass the page token with --token "
            "(`kagura tokens` prints it) or set KAGURA_PAGE_TOKEN",
            exc.explained(),
        )
    elif isinstance(exc, SoundError):
        log.error("%s", exc)
    elif exc is not None:
        log.error("the performer failed", exc_info=exc)
    return EXIT_FAILED


async def _stage(settings: PerformSettings, page: StagePage) -> None:
    """Stay on the stage as a page, reconnecting with a backoff, until refused."""
    url = with_query(settings.stage_url, "role", "page")
    vts = settings.vts
    backoff = Backoff(vts.backoff_initial_s, vts.backoff_max_s, stable_s=STABLE_S)
    told = False

    def retrying(problem: str, delay: float) -> None:
        nonlocal told
        level = logging.DEBUG if told else logging.WARNING
        told = True
        log.log(
            level,
            "the stage at %s is not reachable (%s); trying again in %.1f s",
            settings.shown_url,
            problem,
            delay,
        )

    async def serve(ws: ClientConnection) -> None:
        nonlocal told
        told = False
        await page.serve(ws)

    await keep_connected(
        lambda: connect(url, token=settings.token, client=PERFORM), serve, backoff, retrying
    )
