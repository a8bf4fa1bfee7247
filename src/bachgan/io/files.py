"""Writing files safely: every output appears whole or not at all."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import BachganError

__all__ = ["atomic_file_set", "atomic_write", "write_json"]


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is synced and renamed to ``path``.

    The temporary name keeps ``path``'s suffix, so writers that choose a format by extension
    work. An error inside the block leaves ``path`` untouched. A folder that cannot be made or
    written, or a write that fails (a full disk), raises :class:`BachganError`.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}"
        )
    except OSError as error:
        raise BachganError(f"cannot write {path}: {error.strerror or error}") from error
    os.close(handle)
    try:
        os.chmod(temporary, 0o666 & ~_umask())
        yield Path(temporary)
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except OSError as error:  # a full disk, a file too large, a folder gone
        raise BachganError(f"cannot write {path}: {error.strerror or error}") from error
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


#: Hidden folders in which a set of files is written before it appears.
_STAGING_PREFIX, _STAGING_SUFFIX = ".bachgan-", ".partial"
#: Held (locked) while a set is written; its absence after this many seconds means debris.
_LOCK, _COMPLETE, _GRACE_SECONDS = ".lock", ".complete", 60.0


@contextmanager
def atomic_file_set(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield a hidden staging folder inside ``folder``; the files written there appear in
    ``folder`` together when the block ends, or none of them does.

    A process killed while it writes (even by SIGKILL) leaves only its staging folder, which
    the next set written to ``folder`` removes, or completes when every file was already
    written (:func:`remove_stale_staging`). A write that fails raises :class:`BachganError`.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(folder)
        staging = Path(tempfile.mkdtemp(dir=folder, prefix=_STAGING_PREFIX, suffix=_STAGING_SUFFIX))
    except OSError as error:
        raise BachganError(f"cannot write in {folder}: {error.strerror or error}") from error
    try:
        with open(staging / _LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield staging
            _sync_files(staging)
            (staging / _COMPLETE).touch()
            _move_files(staging, folder)
    except OSError as error:
        raise BachganError(f"cannot write in {folder}: {error.strerror or error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_stale_staging(folder: str | os.PathLike) -> list[Path]:
    """Remove the staging folders in ``folder`` that no living process writes: a set whose
    files were all written is moved into place first. Returns the folders removed."""
    removed = []
    for staging in Path(folder).glob(f"{_STAGING_PREFIX}*{_STAGING_SUFFIX}"):
        try:
            if _abandoned(staging):
                if (staging / _COMPLETE).exists():
                    _move_files(staging, Path(folder))
                shutil.rmtree(staging, ignore_errors=True)
                removed.append(staging)
        except OSError:
            continue  # removed meanwhile by another process, or not ours to touch
    return removed


def _abandoned(staging: Path) -> bool:
    """Whether no process holds ``staging``'s lock (a folder without one is abandoned once
    it is older than a process needs to take it)."""
    try:
        lock = open(staging / _LOCK)  # noqa: SIM115 (closed below, lock and all)
    except FileNotFoundError:
        return time.time() - staging.stat().st_mtime > _GRACE_SECONDS
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def _sync_files(staging: Path) -> None:
    for path in staging.iterdir():
        if path.name not in (_LOCK, _COMPLETE) and path.is_file():
            with open(path, "rb+") as written:
                os.fsync(written.fileno())


def _move_files(staging: Path, folder: Path) -> None:
    for path in sorted(staging.iterdir()):
        if path.name not in (_LOCK, _COMPLETE) and path.is_file():
            os.replace(path, folder / path.name)


def write_json(data: object, path: str | os.PathLike) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_write(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2) + "\n")
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
