"""Which model file triage reads: the newest trained one in the model directory, else the shipped one."""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from functools import cache
from pathlib import Path

from gateway.triage.linear import LinearModel

log = logging.getLogger(__name__)

# Trained on the seed set's train split by scripts/train_shipped_models.py; data, not code.
SHIPPED_DIR = Path(__file__).with_name("models")
KINDS = ("category", "emergency")

_lock = threading.Lock()
_cache: dict[tuple[Path, float], LinearModel] = {}


def versions(directory: Path | None, kind: str) -> list[Path]:
    """Trained versions of `kind`, oldest first (the name carries a UTC time stamp, so names sort by age)."""
    if directory is None or not directory.is_dir():
        return []
    return sorted(directory.glob(f"{kind}-*.json.gz"))


@cache  # one Path per kind: load() runs for every mail, and a new Path (and its hash) costs more than the stat
def shipped_path(kind: str) -> Path:
    return SHIPPED_DIR / f"{kind}.json.gz"


def version_path(directory: Path, kind: str, now: datetime) -> Path:
    return directory / f"{kind}-{now:%Y%m%dT%H%M%S}Z.json.gz"


def load(kind: str, directory: Path | None) -> tuple[LinearModel, Path]:
    """The newest readable model of `kind` and its file; thread-safe, each file read once.

    An unreadable newest file is logged and skipped, so one bad training run never stops the intake.
    """
    for path in [*reversed(versions(directory, kind)), shipped_path(kind)]:
        try:
            key = (path, path.stat().st_mtime)
            with _lock:
                model = _cache.get(key)
                if model is None:
                    model = _cache[key] = LinearModel.load(path)
            return model, path
        except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
            log.warning("classifier model %s unreadable (%s); using the one before it", path, exc)
    raise FileNotFoundError(f"no {kind} model: {shipped_path(kind)} is missing; reinstall the package")
