"""Training windows from a prepared data set, as torch tensors.

Pieces are encoded per voice (:mod:`bachgan.encoding`), normalised to C major / A minor by
default, and cut into bar-aligned windows. Pieces whose meter does not fit the model's bar
or whose notes leave the pitch range are skipped and counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch

from .corpus import load_rolls
from .encoding import Encoding, encode, make_windows
from .errors import BachganError
from .theory import key_of_histogram, pitch_class_weights

__all__ = ["WindowSet", "load_windows", "transpose_batch", "window_modes"]


@dataclass
class WindowSet:
    """Windows of shape ``(n, voices, steps)``: pitch class indices and onsets (0/1), and
    ``ends`` ``(n,)``: whether each window ends its piece."""

    pitch: torch.Tensor
    onset: torch.Tensor
    encoding: Encoding
    ends: torch.Tensor
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.pitch.shape[0])


def load_windows(
    path: str | os.PathLike,
    bars: int = 4,
    normalize_key: bool = True,
    transpose_range: int = 0,
    hop_bars: int = 1,
    base: Encoding | None = None,
) -> WindowSet:
    """Load ``path`` (from ``bachgan prepare``) as training windows of ``bars`` bars.

    ``transpose_range`` widens each voice's range by that many semitones, so that random
    transposition during training stays inside it.
    """
    base = base or Encoding()
    rolls, _ = load_rolls(path)
    stats = {"pieces": len(rolls), "skipped_meter": 0, "skipped_range": 0}
    pieces = []
    for roll in rolls:
        if roll.steps_per_bar != base.steps_per_bar or roll.resolution != base.resolution:
            stats["skipped_meter"] += 1
            continue
        if roll.n_tracks != base.n_voices:
            raise BachganError(f"{path} has {roll.n_tracks} voices; the model needs 4")
        try:
            pieces.append(encode(roll, base, normalize_key))
        except ValueError:
            stats["skipped_range"] += 1
    steps, hop = bars * base.steps_per_bar, hop_bars * base.steps_per_bar
    pitch, onset, ends = make_windows(pieces, steps, hop)
    stats["pieces_used"] = len(pieces)
    stats["windows"] = int(pitch.shape[0])
    if pitch.shape[0] == 0:
        raise BachganError(f"{path} holds no {bars}-bar window in 4/4 that fits the model")
    encoding = Encoding(
        lowest_pitch=base.lowest_pitch,
        n_pitches=base.n_pitches,
        steps_per_bar=base.steps_per_bar,
        resolution=base.resolution,
        voice_ranges=_voice_ranges(pitch, base, transpose_range),
    )
    return WindowSet(
        torch.from_numpy(pitch),
        torch.from_numpy(onset).float(),
        encoding,
        torch.from_numpy(ends),
        stats,
    )


def _voice_ranges(pitch: np.ndarray, base: Encoding, margin: int) -> tuple[tuple[int, int], ...]:
    ranges = []
    for voice in range(pitch.shape[1]):
        sung = pitch[:, voice][pitch[:, voice] != base.rest]
        low, high = int(sung.min()) - margin, int(sung.max()) + margin
        ranges.append((max(low, 0), min(high, base.n_pitches - 1)))
    return tuple(ranges)


def transpose_batch(
    pitch: torch.Tensor, encoding: Encoding, max_semitones: int, generator: torch.Generator
) -> torch.Tensor:
    """Shift each window by a random number of semitones in ``[-max, max]`` where every voice
    stays inside its range; windows that would leave it are left as they are."""
    if max_semitones == 0:
        return pitch
    shifts = torch.randint(
        -max_semitones, max_semitones + 1, (pitch.shape[0], 1, 1), generator=generator
    )
    sounding = pitch != encoding.rest
    moved = torch.where(sounding, pitch + shifts, pitch)
    low = torch.tensor([r[0] for r in encoding.voice_ranges])[None, :, None]
    high = torch.tensor([r[1] for r in encoding.voice_ranges])[None, :, None]
    fits = ((moved >= low) & (moved <= high) | ~sounding).all(dim=2).all(dim=1)
    return torch.where(fits[:, None, None], moved, pitch)


def window_modes(pitch: torch.Tensor, encoding: Encoding) -> torch.Tensor:
    """``(n,)`` long: 1 where a window's best-fitting key is minor, 0 where major (the
    Krumhansl-Schmuckler estimate of :func:`bachgan.metrics.best_key`, over the pitch
    classes of its sounding steps)."""
    indices = pitch.numpy().reshape(len(pitch), -1)
    modes = [
        key_of_histogram(pitch_class_weights(counts[:-1], encoding.lowest_pitch))[1] == "minor"
        for counts in (np.bincount(window, minlength=encoding.n_classes) for window in indices)
    ]
    return torch.tensor(modes, dtype=torch.long)
