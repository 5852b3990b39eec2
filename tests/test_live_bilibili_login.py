"""`kagura live bilibili login` and the cookie refresh, as real processes against the fake
Bilibili's passport (TLS, real endpoints and codes).

The QR code advances only when the test moves it (scanned, confirmed, expired), so every
message the command must print is seen while its state holds. The login file is then read
by a real `kagura live bilibili`, whose danmaku auth shows whether it logged in.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from kagura.config import deep_merge
from kagura.live.bilibili import login_file
from kagura.testing.fake_bilibili import UID, FakeBilibili
from kagura.testing.fake_bilibili import messages as m
from kagura.testing.fake_bilibili.passport import COOKIE_REFRESH, Session
from kagura.testing.proxy_recorder import ProxyRecorder
from tests.support.live import LiveClient
from tests.support.wait import until

from .live_helpers import bilibili_client, connected, received

pytestmark = pytest.mark.live


def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "client" / "data"  # where `bilibili_client` keeps its data


def saved_login(tmp_path: Path) -> Path:
    return data_dir(tmp_path) / "bilibili-login.json"


def login_client(tmp_path: Path, bili: FakeBilibili, *flags: str) -> LiveClient:
    """`kagura live bilibili login` against the fake, sharing the reader's data_dir."""
    args = ["bilibili", "login", "--passport-api", bili.api_url, "--web-api", bili.api_url]
    args += ["--ca-file", str(bili.ca_file), *flags]
    live = {"bilibili": {"login_poll_s": 0.05}}
    return LiveClient(tmp_path / "login", args, live, system={"data_dir": str(data_dir(tmp_path))})


def reader_live(bili: FakeBilibili, **bilibili: Any) -> dict[str, Any]:
    """The reader's settings: no sessdata (so the login file is used), the passport and the
    refresh key of the fake."""
    section = {"sessdata": "", "passport_api": bili.api_url}
    section["refresh_key"] = bili.passport.public_key_b64
    return {"bilibili": deep_merge(section, bilibili)}


def secrets_of(session: Session) -> list[str]:
    return [session.sessdata, session.bili_jct, session.refresh_token]


def write_login(path: Path, session: Session) -> None:
    """A login file as `login` leaves it, written by hand (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"cookies": session.cookies(), "refresh_token": session.refresh_token}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(body, out)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_scanned_then_confirmed_saves_the_cookies_privately_and_the_reader_logs_in(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    with login_client(tmp_path, bili) as login:
        await until(lambda: "Not scanned yet" in login.log(), 20, "the waiting message")
        assert "█" in login.log()  # the QR code itself
        bili.read(lambda: bili.passport.advance("scanned"))
        await until(lambda: "confirm the login on your phone" in login.log(), 10, "scanned")
        assert not saved_login(tmp_path).exists()
        bili.read(lambda: bili.passport.advance("confirmed"))
        assert login.wait(30) == 0, login.log()
    [session] = bili.read(lambda: list(bili.passport.sessions.values()))
    path = saved_login(tmp_path)
    assert mode(path) == 0o600
    saved = json.loads(path.read_text())
    assert saved["refresh_token"] == session.refresh_token
    assert saved["cookies"]["SESSDATA"] == session.sessdata
    assert saved["cookies"]["bili_jct"] == session.bili_jct
    assert saved["cookies"]["DedeUserID"] == str(UID)
    output = login.log()
    assert f"Logged in to Bilibili as tester (uid {UID})" in output
    assert str(path) in output and "delete that file to log out" in output
    assert not any(secret in output for secret in secrets_of(session))

    with bilibili_client(tmp_path, bili, recorder, live=reader_live(bili)) as client:
        await connected(bili)
        [auth] = bili.read(lambda: list(bili.danmaku.auths))
        assert auth["uid"] == UID  # logged in with the saved cookies: names not masked
        bili.push(m.danmaku("hello", 42, "Alice"))
        [message] = await received(recorder, 1)
        assert message["source"]["user"]["name"] == "Alice"
        assert client.stop() == 0
    log = client.log()
    assert f"logged in to Bilibili as uid {UID}" in log
    assert not any(secret in log for secret in secrets_of(session))


async def test_an_expired_code_is_a_clear_error_and_saves_nothing(
    tmp_path: Path, bili: FakeBilibili
) -> None:
    with login_client(tmp_path, bili) as login:
        await until(lambda: "Not scanned yet" in login.log(), 20, "the waiting message")
        bili.read(lambda: bili.passport.advance("expired"))
        assert login.wait(30) == 2
    output = login.log()
    assert "QR code expired" in output and "login` again" in output
    assert "nothing saved" in output
    assert not saved_login(tmp_path).exists()


async def test_an_unreachable_passport_names_the_url(tmp_path: Path, bili: FakeBilibili) -> None:
    with login_client(tmp_path, bili, "--passport-api", "https://127.0.0.1:9") as login:
        assert login.wait(30) == 2
    output = login.log()
    assert "https://127.0.0.1:9/x/passport-login/web/qrcode/generate" in output
    assert "cannot reach it" in output
    assert not saved_login(tmp_path).exists()


async def test_cookies_due_for_refresh_are_refreshed_saved_and_used(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    old = bili.read(lambda: bili.passport.issue(needs_refresh=True))
    path = saved_login(tmp_path)
    write_login(path, old)
    with bilibili_client(tmp_path, bili, recorder, live=reader_live(bili)) as client:
        await until(
            lambda: bili.read(lambda: list(bili.passport.confirmed)) == [old.refresh_token],
            20,
            "the old refresh token confirmed",
        )
        await connected(bili)
        [fresh] = bili.read(lambda: list(bili.passport.sessions.values()))  # the old retired
        assert fresh.sessdata != old.sessdata
        saved = json.loads(path.read_text())
        assert saved["cookies"]["SESSDATA"] == fresh.sessdata
        assert saved["cookies"]["bili_jct"] == fresh.bili_jct
        assert saved["refresh_token"] == fresh.refresh_token
        assert mode(path) == 0o600
        # The running client holds the new cookies: a new login check (forced by new WBI
        # keys on the next session) still finds it logged in, though the old ones are gone.
        bili.read(bili.web.rotate_wbi)
        bili.cut(m.danmaku("lost with the connection", 1, "X"))
        await connected(bili, connects=2)
        assert bili.read(lambda: bili.web.calls["/x/web-interface/nav"]) == 2
        auths = bili.read(lambda: list(bili.danmaku.auths))
        assert auths[-1]["uid"] == UID
        bili.push(m.danmaku("after the refresh", 2, "Bob"))
        [message] = await received(recorder, 1)
        assert message["text"] == "after the refresh"
        assert client.stop() == 0
    log = client.log()
    assert "Bilibili cookies refreshed" in log
    assert not any(secret in log for secret in secrets_of(old) + secrets_of(fresh))


async def test_a_refused_refresh_warns_once_and_chat_flows_with_the_old_cookies(
    tmp_path: Path, bili: FakeBilibili, recorder: ProxyRecorder
) -> None:
    old = bili.read(lambda: bili.passport.issue(needs_refresh=True))
    bili.read(lambda: bili.passport.refuse.__setitem__(COOKIE_REFRESH, 86095))
    write_login(saved_login(tmp_path), old)
    before = saved_login(tmp_path).read_text()
    live = reader_live(bili, refresh_every_h=0.0005)  # retries every second or two
    with bilibili_client(tmp_path, bili, recorder, live=live) as client:
        await connected(bili)
        bili.push(m.danmaku("still here", 1, "Alice"))
        [message] = await received(recorder, 1)
        assert message["text"] == "still here"
        await until(
            lambda: bili.read(lambda: bili.passport.calls.get(COOKIE_REFRESH, 0)) >= 3,
            20,
            "three refresh attempts",
        )
        [auth] = bili.read(lambda: list(bili.danmaku.auths))
        assert auth["uid"] == UID  # the old cookies still log in
        assert client.stop() == 0
    log = client.log()
    assert log.count("refreshing the Bilibili login failed") == 1, log
    assert "86095" in log and "the current cookies stay in use" in log
    assert saved_login(tmp_path).read_text() == before
    assert not any(secret in log for secret in secrets_of(old))


# -- the file itself ------------------------------------------------------------------


def test_the_login_file_is_private_from_the_first_byte_whatever_the_umask(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deep" / "bilibili-login.json"
    login = login_file.Login({"SESSDATA": "s", "bili_jct": "j"}, "r")
    previous = os.umask(0)
    try:
        login_file.write(path, login)
        login_file.write(path, login.with_cookies({"SESSDATA": "t"}, "r2"))  # replaced
    finally:
        os.umask(previous)
    assert mode(path) == 0o600
    assert login_file.read(path) == login_file.Login({"SESSDATA": "t", "bili_jct": "j"}, "r2")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_a_broken_login_file_is_named_without_its_content(tmp_path: Path) -> None:
    path = tmp_path / "bilibili-login.json"
    path.write_text('{"cookies": "SESSDATA=leak"}')
    with pytest.raises(login_file.LoginFileError) as caught:
        login_file.read(path)
    assert str(path) in str(caught.value) and "leak" not in str(caught.value)
