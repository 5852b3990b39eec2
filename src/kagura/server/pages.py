"""The web pages: the stage page at `/stage`, the OBS overlay at `/overlay`, the captions at
`/captions`, and their files.

The pages are plain HTML/JS/CSS in `kagura/web/`. The Live2D runtime and the sample models
come from npm (`kagura/web/node_modules`, installed by `scripts/setup.sh`, never committed:
Live2D's licence) and are served under stable paths, so the pages never name a package
folder:

- `/vendor/<file>`: the few JavaScript files the pages load (an allow-list, not the folder),
  among them three.js and three-vrm for VRM models: ES modules that the pages' import map
  names, laid out so their relative imports (`./three.core.js`, `../utils/...`) resolve;
- `/live2d-models/haru/...`, `/live2d-models/shizuku/...`: the sample models' folders (a
  file they lack is looked up in the user's models folder of the same name, so an
  Open-LLM-VTuber `shizuku` folder still works).

Without `node_modules` those paths answer 404 and the pages run without a model (subtitles,
audio and chat still work) and say why.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
NODE_MODULES = WEB_DIR / "node_modules"

# Script order matters: pixi, the Cubism 2 runtime, Cubism Core 5, then the plugin.
VENDOR_FILES = {
    "pixi.min.js": "pixi.js/dist/pixi.min.js",
    "live2d.min.js": "wl-live2d/dist/packages/live2dcubism2core.min.js",
    "live2dcubismcore.min.js": "wl-live2d/dist/packages/live2dcubism4core.min.js",
    "pixi-live2d-display.min.js": "pixi-live2d-display-lipsyncpatch/dist/index.min.js",
    # VRM: the import map's "three", "three/addons/" and "@pixiv/three-vrm", and what the
    # glTF loader imports.
    "three/three.module.js": "three/build/three.module.js",
    "three/three.core.js": "three/build/three.core.js",
    "three/loaders/GLTFLoader.js": "three/examples/jsm/loaders/GLTFLoader.js",
    "three/utils/BufferGeometryUtils.js": "three/examples/jsm/utils/BufferGeometryUtils.js",
    "three/utils/SkeletonUtils.js": "three/examples/jsm/utils/SkeletonUtils.js",
    "three-vrm.module.js": "@pixiv/three-vrm/lib/three-vrm.module.min.js",
}

# The sample models' runtime folders inside their npm packages, by the registry's names.
SAMPLE_MODELS = {
    "haru": "live2dcubismcore/characters/haru_greeter_pro_jp/runtime",
    "shizuku": "live2d-widget-model-shizuku/assets",
}

IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)


def import_map_sources() -> list[str]:
    """CSP sources that allow the pages' import maps, by their hashes. An import map is an
    inline script, and browsers take none from a separate file; hashing the pages' own
    lets exactly those through while every other inline script stays refused."""
    hashes = set()
    for html in sorted(WEB_DIR.glob("*.html")):
        for body in IMPORT_MAP.findall(html.read_text("utf-8")):
            digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
            hashes.add(f"'sha256-{digest}'")
    return sorted(hashes)


# Viewer text is escaped in the pages; the policy is a second fence: no inline scripts or
# handlers (but the import maps). `unsafe-eval` is for pixi's shader compiler, `blob:` for
# its image workers.
CSP = "; ".join(
    [
        "default-src 'self'",
        " ".join(["script-src 'self' 'unsafe-eval'", *import_map_sources()]),
        "style-src 'self' 'unsafe-inline'",
        "img-src * data: blob:",
        "media-src 'self' data: blob:",
        "connect-src * data: blob:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",  # a token in the page's URL never travels on
}
# The stage page drives the character (pause, presets, history): no other site may frame it
# and trick clicks onto it. The overlay and the widget stay embeddable.
CONSOLE_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": CSP + "; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}

STAGE_PATH = "/stage"
router = APIRouter()
assets = APIRouter()  # what every page loads, also served by the standalone widget app


def page(name: str, headers: dict[str, str] = PAGE_HEADERS) -> FileResponse:
    return FileResponse(WEB_DIR / name, media_type="text/html", headers=headers)


@router.get(STAGE_PATH, include_in_schema=False)
async def stage_page() -> FileResponse:
    """The stage page: model, subtitles, chat log, input and the admin panel."""
    return page("stage.html", CONSOLE_HEADERS)


@router.get("/overlay", include_in_schema=False)
async def overlay_page() -> FileResponse:
    """The OBS browser source: transparent, character and subtitles only."""
    return page("overlay.html")


@router.get("/captions", include_in_schema=False)
async def captions_page() -> FileResponse:
    """The captions as an OBS source of their own: transparent, styled from the query."""
    return page("captions.html")


@assets.get("/vendor/{name:path}", include_in_schema=False)
async def vendor_file(name: str) -> FileResponse:
    relative = VENDOR_FILES.get(name)
    path = NODE_MODULES / relative if relative else None
    if path is None or not path.is_file():
        raise HTTPException(404, f"{name} is not installed (run scripts/setup.sh)")
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


def install_pages(app: FastAPI, models_dir: Path) -> None:
    """Add the pages and their files. Call before the general `/live2d-models` mount, so the
    sample models' paths come first."""
    app.include_router(router)
    install_assets(app, models_dir)


def install_assets(app: FastAPI, models_dir: Path) -> None:
    """The scripts, styles and sample models the pages load (not the pages themselves)."""
    app.include_router(assets)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="web-static")
    for name, folder in SAMPLE_MODELS.items():
        path = NODE_MODULES / folder
        if path.is_dir():
            files = StaticFiles(directory=path)
            # A user model folder named like a sample model (Open-LLM-VTuber ships a
            # `shizuku`) still serves the files the sample lacks.
            files.all_directories.append(models_dir / name)
            app.mount(f"/live2d-models/{name}", files, name=f"model-{name}")
