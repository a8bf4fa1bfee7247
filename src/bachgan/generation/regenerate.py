"""Rewrite a region of a four-voice piece with a completion model; everything else stays.

The piece is put in C major / A minor as the model knows it, the chosen bars of the chosen
voices are masked and completed given the rest (:mod:`bachgan.generation.completion`), and the
result is
moved back to the piece's key. Every note that lies wholly outside the region is kept note for
note; notes that cross into the region end (or start) at its edge, and the region's notes start
fresh at its first step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..encoding import decode, encode, estimate_key_fifths, key_shift, move_from_c
from ..errors import BachganError
from ..roll import VOICE_NAMES, Roll
from ..theory import parse_key
from .backend import DEFAULT_REVISIONS, KEY_MODES, LoadedModel, meter_bar_steps
from .completion import Revisions
from .harmonize import melody_mode
from .loading import load_model
from .requests import parse_voices

__all__ = ["DEFAULT_NOVELTY", "MAX_NOVELTY", "regenerate"]

#: What keeping a region's old pitch costs, in nats, in every pass that rewrites it: enough
#: that "regenerate" rewrites most of the region (the model given the same surroundings would
#: otherwise write much the same lines again), not so much that it writes unlikely ones.
DEFAULT_NOVELTY = 2.0
#: Past this every old pitch is as good as forbidden.
MAX_NOVELTY = 20.0


def regenerate(
    roll: Roll,
    bars: tuple[int, int],
    voices: Sequence[str] | None = None,
    seed: int = 0,
    model: LoadedModel | str | None = None,
    revisions: Revisions = DEFAULT_REVISIONS,
    key: str | None = None,
    novelty: float = DEFAULT_NOVELTY,
) -> Roll:
    """``roll`` with bars ``bars`` (first and last, counted from 1, inclusive) of ``voices``
    (names from :data:`~bachgan.roll.VOICE_NAMES`, lower case; all four by default) written
    anew by a completion model. The same ``seed`` gives the same notes. With ``key`` (``"D
    major"``, in the piece's mode) the whole result is moved to that key, whose signature it
    carries. ``novelty`` is what keeping an old pitch of the region costs (nats; 0 lets the
    model write the same lines again where it likes them best)."""
    if not 0 <= novelty <= MAX_NOVELTY:
        raise BachganError(f"novelty must be from 0 to {MAX_NOVELTY:g} nats (got {novelty})")
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    loaded.require("regions")
    _check_piece(roll, loaded)
    first, last = _check_bars(bars, roll.n_bars)
    rows = [VOICE_NAMES.index(v.capitalize()) for v in parse_voices(voices)]
    fifths = roll.key_fifths if roll.key_fifths is not None else estimate_key_fifths(roll)
    mode_name = melody_mode(roll, fifths)
    target = _target_key(key, fifths, mode_name)
    shift = key_shift(fifths)
    pitch, onset = _codes(roll, shift, loaded)
    span = slice((first - 1) * roll.steps_per_bar, last * roll.steps_per_bar)
    free = torch.zeros(1, *pitch.shape)
    free[0, rows, span] = 1
    mode = torch.tensor([KEY_MODES.index(mode_name)]) if loaded.config.modes else None
    completed, completed_onset = loaded.backend.complete(
        loaded,
        torch.from_numpy(pitch)[None],
        torch.from_numpy(onset)[None].float(),
        free,
        mode,
        revisions,
        torch.Generator().manual_seed(seed),
        bar_steps=roll.steps_per_bar,
        novelty=novelty,
    )
    pitch, onset = completed[0].numpy(), completed_onset[0].numpy()
    onset[rows, span.start] |= pitch[rows, span.start] != loaded.encoding.rest  # fresh notes
    meta = {k: v for k, v in roll.meta().items() if k != "resolution"}
    if key is not None:
        meta.update(key_fifths=target, key_mode=mode_name)
    new = decode(pitch, onset, loaded.encoding, **meta)
    return new.transpose(-shift) if key is None else move_from_c(new, target)


def _target_key(key: str | None, fifths: int, mode: str) -> int:
    """The key signature the result is written in: ``key``'s (which must be in the piece's
    ``mode``: moving a piece cannot change its mode), or the piece's own ``fifths``."""
    if key is None:
        return fifths
    try:
        target, target_mode = parse_key(key)
    except ValueError as error:
        raise BachganError(str(error)) from None
    if target_mode != mode:
        raise BachganError(
            f"the piece is in {mode}; --key moves it to another {mode} key (got {key})"
        )
    return target


def _check_piece(roll: Roll, loaded: LoadedModel) -> None:
    encoding = loaded.encoding
    if roll.n_tracks != encoding.n_voices:
        raise BachganError(f"the piece has {roll.n_tracks} voices; regenerating needs four")
    if roll.resolution != encoding.resolution:
        raise BachganError(f"the piece's grid is not {encoding.resolution} steps per quarter")
    meter_bar_steps(loaded, roll.time_signature)


def _check_bars(bars: tuple[int, int], n_bars: int) -> tuple[int, int]:
    first, last = (int(b) for b in bars)
    if not 1 <= first <= last <= n_bars:
        raise BachganError(
            f"bars {first}-{last} are not inside the piece (bars 1-{n_bars}, first <= last)"
        )
    return first, last


def _codes(roll: Roll, shift: int, loaded: LoadedModel) -> tuple[np.ndarray, np.ndarray]:
    """The piece as the model's codes in C major / A minor; a piece those codes cannot hold
    exactly (a voice singing two notes at once, notes outside the model's range) is refused,
    since the notes outside the region could not be kept."""
    try:
        moved = roll.transpose(shift)
        pitch, onset = encode(moved, loaded.encoding, normalize_key=False)
    except ValueError:
        raise BachganError("the piece has notes outside the model's pitch range") from None
    back = decode(pitch, onset, loaded.encoding)
    if sorted(back.notes().to_tuples()) != sorted(moved.notes().to_tuples()):
        raise BachganError(
            "a voice of the piece sounds two notes at once; regenerating needs four voices "
            "that each sing one note at a time"
        )
    return pitch, onset
