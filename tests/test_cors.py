"""CORS on the public files (models, backgrounds, avatars, the pages' scripts): loopback
pages, the server's own, `system.allowed_origins` and `system.cors_origins` may load them from
another origin; nobody else; `*` opens the files and never the WebSocket endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kagura.config import ConfigError, load_config
from kagura.testing.fake_openai import FakeOpenAI
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient

from .conftest import fake_engines
from .test_stage_auth import refusal

FRONTEND = "http://frontend.example:18000"  # a copy of a frontend hosted elsewhere
DESKTOP = ["null", "file://", "app://olv-desktop"]  # desktop apps: file:// pages, app://
EVIL = "https://evil.example"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def public_folders(workdir: Path) -> dict[str, str]:
    (workdir / "bg").mkdir()
    (workdir / "bg" / "room.png").write_bytes(PNG)
    (workdir / "faces").mkdir()
    (workdir / "faces" / "mira.png").write_bytes(PNG)
    return {"backgrounds_dir": str(workdir / "bg"), "avatars_dir": str(workdir / "faces")}


@pytest.fixture(scope="module")
def server(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KaguraProcess]:
    workdir = tmp_path_factory.mktemp("cors")
    system = {**public_folders(workdir), "allowed_origins": [FRONTEND, *DESKTOP]}
    with KaguraProcess(workdir, fake_engines(fake, system=system)) as running:
        yield running


@pytest.fixture(scope="module")
def open_files(
    fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KaguraProcess]:
    workdir = tmp_path_factory.mktemp("cors-any")
    system = {**public_folders(workdir), "cors_origins": ["*"]}
    with KaguraProcess(workdir, fake_engines(fake, system=system)) as running:
        yield running


def public_paths(server: KaguraProcess) -> list[str]:
    info = httpx.get(f"{server.http_url}/live2d-models/info", timeout=5).json()
    haru = next(c["model_path"] for c in info["characters"] if c["name"] == "haru")
    return [
        "/live2d-models/info",
        haru,  # a sample model's file
        "/bg/room.png",
        "/avatars/mira.png",
        "/static/model-view.js",  # a module script: loaded in CORS mode
        "/vendor/pixi.min.js",
    ]


def get(server: KaguraProcess, path: str, origin: str) -> httpx.Response:
    return httpx.get(f"{server.http_url}{path}", headers={"Origin": origin}, timeout=5)


def test_loopback_and_listed_origins_may_load_the_public_files(server: KaguraProcess) -> None:
    origins = [
        "http://127.0.0.1:18000",  # the frontend's own dev server on this machine
        "http://localhost:3000",
        "http://[::1]:5173",
        server.http_url,  # the server's own pages
        FRONTEND,
        *DESKTOP,
    ]
    for path in public_paths(server):
        for origin in origins:
            response = get(server, path, origin)
            assert response.status_code == 200, (path, origin)
            assert response.headers.get("access-control-allow-origin") == origin, (path, origin)
            assert "Origin" in response.headers["vary"]


def test_other_origins_are_refused(server: KaguraProcess) -> None:
    for path in public_paths(server):
        response = get(server, path, EVIL)
        assert "access-control-allow-origin" not in response.headers, path
        assert "Origin" in response.headers["vary"]  # caches keep the answers apart
    preflight = httpx.options(
        f"{server.http_url}/bg/room.png",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "GET"},
        timeout=5,
    )
    assert preflight.status_code == 403 and "system.cors_origins" in preflight.text


def test_preflight_allows_reading_only(server: KaguraProcess) -> None:
    ask = {
        "Origin": FRONTEND,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "range",
        "Access-Control-Request-Private-Network": "true",
    }
    url = f"{server.http_url}/live2d-models/info"
    answer = httpx.options(url, headers=ask, timeout=5)
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == FRONTEND
    assert answer.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert answer.headers["access-control-allow-headers"] == "range"
    assert answer.headers["access-control-allow-private-network"] == "true"
    writing = httpx.options(url, headers={**ask, "Access-Control-Request-Method": "PUT"})
    assert writing.status_code == 405


def test_pages_and_controls_get_no_cors_header(server: KaguraProcess) -> None:
    for path in ("/stage", "/overlay", "/health", "/stage/stats"):
        response = get(server, path, FRONTEND)
        assert "access-control-allow-origin" not in response.headers, path


async def test_listed_origins_may_connect_others_may_not(server: KaguraProcess) -> None:
    for origin in [FRONTEND, *DESKTOP]:
        async with StageClient(server, None, path="/client-ws", headers={"Origin": origin}) as c:
            assert (await c.connect_sequence())[-1]["text"] == "start-mic"
    evil = StageClient(server, None, path="/client-ws", headers={"Origin": EVIL})
    assert await refusal(evil) == (4403, f"origin {EVIL!r} not allowed")


async def test_any_origin_opens_the_files_never_the_websocket(open_files: KaguraProcess) -> None:
    for path in public_paths(open_files):
        response = get(open_files, path, EVIL)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*", path
    stats = get(open_files, "/stage/stats", EVIL)
    assert "access-control-allow-origin" not in stats.headers
    for path in ("/client-ws", "/proxy-ws"):
        refused = StageClient(open_files, None, path=path, headers={"Origin": EVIL})
        assert await refusal(refused) == (4403, f"origin {EVIL!r} not allowed")


def test_an_origin_that_is_not_one_is_named(tmp_path: Path) -> None:
    conf = tmp_path / "conf.yaml"
    conf.write_text(
        "system:\n  allowed_origins: ['http://ok.example']\n  cors_origins: ['frontend.example']\n",
        "utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_config(conf)
    (line,) = error.value.problems
    assert "conf.yaml: system.cors_origins" in line
    assert "'frontend.example' is not a browser origin" in line
