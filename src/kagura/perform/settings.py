"""What one `kagura perform vts` run uses, from the flags laid over the config's `perform`.

The stage: `--url`, else `perform.stage_url`, else where `kagura serve` with this config
listens. The page token: `--token`, `perform.token`, `KAGURA_PAGE_TOKEN`, else the page
token derived from the admin token this machine knows (the one `kagura tokens` prints);
none for a loopback server that asks for none. A page token can only watch and acknowledge:
it is all the performer needs, and all a leaked token could do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from kagura.auth import Role, known_admin_token, role_token
from kagura.config import KaguraConfig, VTSConfig
from kagura.link import StageUrlError, safe_url, served_stage_url, stage_address

from .vts import VTSSettings

PAGE_TOKEN_ENV = "KAGURA_PAGE_TOKEN"
TOKEN_FILE = "vts-token"


class SettingError(ValueError):
    """A flag or setting the performer cannot use; the text names it."""


@dataclass(frozen=True)
class PerformSettings:
    stage_url: str  # ws(s)://host:port/proxy-ws, without a query
    token: str  # the page token, "" for none
    device: str
    audio_file: Path | None
    vts: VTSSettings
    mouth_parameter: str
    mouth_rate_hz: float
    smile: dict[str, float]
    reset_after_turn: bool

    @property
    def shown_url(self) -> str:
        """The stage URL fit for a log line (never a token)."""
        return safe_url(self.stage_url)


def load_settings(
    config: KaguraConfig,
    *,
    url: str | None = None,
    token: str | None = None,
    vts_url: str | None = None,
    device: str | None = None,
    audio_file: Path | None = None,
) -> PerformSettings:
    perform = config.perform
    try:
        vts = VTSConfig.model_validate(
            {**perform.vts.model_dump(), "url": vts_url or perform.vts.url}
        )
    except ValidationError as exc:
        problem = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise SettingError(f"--vts-url: {problem}") from None
    token_file = config.resolve_path(
        vts.token_file or str(Path(config.system.data_dir) / TOKEN_FILE)
    )
    return PerformSettings(
        stage_url=stage_url(url or perform.stage_url or served_stage_url(config)),
        token=page_token(config, token),
        device=perform.device if device is None else device,
        audio_file=audio_file,
        vts=VTSSettings(
            url=vts.url,
            token_file=token_file,
            plugin_name=vts.plugin_name,
            plugin_developer=vts.plugin_developer,
            hotkeys=dict(vts.hotkeys),
            request_timeout_s=vts.request_timeout_s,
            approval_timeout_s=vts.approval_timeout_s,
            backoff_initial_s=perform.backoff_initial_s,
            backoff_max_s=perform.backoff_max_s,
        ),
        mouth_parameter=vts.mouth_parameter,
        mouth_rate_hz=vts.mouth_rate_hz,
        smile=dict(vts.smile),
        reset_after_turn=vts.reset_after_turn,
    )


def stage_url(given: str) -> str:
    """The stage's ws(s)://host:port/proxy-ws from a stage URL or the server's http(s) base."""
    try:
        return stage_address(given)[0]
    except StageUrlError as exc:
        raise SettingError(str(exc)) from None


def page_token(config: KaguraConfig, flag: str | None) -> str:
    for candidate in (flag, config.perform.token, os.environ.get(PAGE_TOKEN_ENV)):
        if candidate:
            return candidate.strip()
    admin = known_admin_token(config)
    return role_token(admin, Role.PAGE) if admin else ""
