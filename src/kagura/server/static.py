"""Static folders the user may not have created yet."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi.staticfiles import StaticFiles

# Backgrounds shipped in the package (the frontend's default one), as `StaticFiles` names them.
BACKGROUNDS = ("kagura.resources", "backgrounds")


class OptionalStaticFiles(StaticFiles):
    """A folder the user may not have created yet: missing means 404s, not a server error."""

    async def check_config(self) -> None:
        if self.directory is not None and Path(self.directory).is_dir():
            await super().check_config()


def packaged_backgrounds() -> list[Path]:
    """The backgrounds the package ships (served at /bg unless the user has their own)."""
    package, folder = BACKGROUNDS
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations))) / folder
    return sorted(root.iterdir()) if root.is_dir() else []
