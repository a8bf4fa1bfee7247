"""Checkpoint files: a plain dict of tensors and values, saved atomically with a checksum.

A checkpoint loads with ``torch.load(weights_only=True)``, so a file cannot run code. Its
``checksum`` (SHA-256 over every tensor's bytes and every other value) is checked on loading:
a damaged file is refused with one line instead of generating nonsense. Files written before
checksums existed still load.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import torch

from ..errors import BachganError
from .files import atomic_write

__all__ = [
    "BEST_NAME",
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_NAME",
    "checkpoint_digest",
    "export_model",
    "load_checkpoint",
    "remove_stale_temporaries",
    "save_checkpoint",
]

CHECKPOINT_NAME = "checkpoint.pt"
#: The checkpoint whose samples scored best on the music metrics during training.
BEST_NAME = "best.pt"
CHECKPOINT_FORMAT = "bachgan-checkpoint-1"
#: What generation needs of a training checkpoint (see :func:`export_model`).
_EXPORTED = (
    "format",
    "arch",
    "train_config",
    "step",
    "elapsed_seconds",
    "model_config",
    "encoding",
    "ema",
    "critic",
)


def checkpoint_digest(checkpoint: dict) -> str:
    """SHA-256 of a checkpoint's contents (its ``checksum`` entry left out)."""
    digest = hashlib.sha256()
    for name, value in _leaves({k: v for k, v in checkpoint.items() if k != "checksum"}):
        digest.update(name.encode())
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f"{tensor.dtype}{tuple(tensor.shape)}".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def _leaves(value: object, name: str = "") -> Iterator[tuple[str, object]]:
    """Every tensor and plain value inside nested dicts, lists and tuples, in a fixed order."""
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from _leaves(value[key], f"{name}/{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{name}/{index}")
    else:
        yield name, value


def save_checkpoint(checkpoint: dict, path: str | os.PathLike) -> Path:
    """Write ``checkpoint`` with its checksum, atomically; a failed write (a full disk) is a
    :class:`BachganError` naming the path, and leaves any earlier file in place."""
    stored = {**checkpoint, "checksum": checkpoint_digest(checkpoint)}
    try:
        with atomic_write(path) as temporary:
            torch.save(stored, temporary)
    except RuntimeError as error:  # torch's zip writer reports a failed write this way
        raise BachganError(f"cannot write {path} (is the disk full?)") from error
    return Path(path)


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """Read a checkpoint (a ``.pt`` file or a run folder holding one) safely.

    Raises :class:`BachganError` for a missing, damaged or foreign file.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise BachganError(f"no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise BachganError(
            f"{path} is not a readable checkpoint ({type(error).__name__})"
        ) from error
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise BachganError(f"{path} is not a bachgan checkpoint")
    stored = checkpoint.get("checksum")
    if stored is not None and stored != checkpoint_digest(checkpoint):
        raise BachganError(f"{path} is damaged (its checksum does not match its contents)")
    return checkpoint


def export_model(run: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write the part of a checkpoint that generation needs (EMA generator, critic for
    rejection sampling, configs): a few MB instead of the full training state. A run trained
    without its critic (``adversarial_weight`` 0) is exported without it: an untrained critic
    would choose among candidates at random."""
    checkpoint = load_checkpoint(run)
    missing = [key for key in _EXPORTED if key not in checkpoint]
    if missing:
        raise BachganError(f"{run} cannot be exported (missing {', '.join(missing)})")
    kept = [key for key in _EXPORTED if key != "critic" or _critic_trained(checkpoint)]
    return save_checkpoint({key: checkpoint[key] for key in kept}, out)


def _critic_trained(checkpoint: dict) -> bool:
    return checkpoint["train_config"].get("adversarial_weight", 1.0) > 0


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that a save killed half-way left in ``folder``
    (``.checkpoint.*.tmp.pt``, ``.best.*.tmp.pt``); returns them."""
    stale = [
        path
        for name in (CHECKPOINT_NAME, BEST_NAME)
        for path in Path(folder).glob(f".{Path(name).stem}.*.tmp.pt")
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
