"""Static folders the user may not have created yet."""

from __future__ import annotations

from pathlib import Path

from fastapi.staticfiles import StaticFiles


class OptionalStaticFiles(StaticFiles):
    """A folder the user may not have created yet: missing means 404s, not a server error."""

    async def check_config(self) -> None:
        if self.directory is not None and Path(self.directory).is_dir():
            await super().check_config()
