"""Training windows from a prepared data set, as torch tensors.

Pieces are encoded per voice (:mod:`bachgan.encoding`), normalised to C major / A minor by
default, and cut into windows that end on bar lines. All windows have the same length (so that
one batch can mix meters) and know their bar length and where their first bar line falls.
Pieces in a meter the model is not trained on, or whose notes leave the pitch range, are
skipped and counted.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..config import LEARNABLE_METERS
from ..encoding import Encoding, closing_bars, encode, make_windows, window_keys, window_spans
from ..errors import BachganError
from ..io.corpus import load_rolls
from ..models.musegan import bar_positions

__all__ = ["WindowSet", "load_windows", "transpose_batch", "transposed_batch", "window_modes"]


@dataclass
class WindowSet:
    """Windows of shape ``(n, voices, steps)``: pitch class indices and onsets (0/1);
    ``ends`` ``(n,)``: whether each window ends its piece; ``bar_steps`` ``(n,)``: the length
    of its bars (16 in 4/4, 12 in 3/4); ``phase`` ``(n,)``: the position in its bar of its
    first step."""

    pitch: torch.Tensor
    onset: torch.Tensor
    encoding: Encoding
    ends: torch.Tensor
    bar_steps: torch.Tensor
    phase: torch.Tensor
    #: ``(n, steps)``: 1 on the steps of the bars where a phrase closes (a fermata's bar).
    closes: torch.Tensor
    #: ``(n,)``: whether each window begins where its piece begins.
    starts: torch.Tensor
    #: Each voice's lowest and highest pitch code in the windows, before any widening.
    sung_ranges: tuple[tuple[int, int], ...]
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.pitch.shape[0])

    def positions(self, indices: torch.Tensor) -> torch.Tensor:
        """``(B, T)``: the position in its bar of every step of the windows ``indices``."""
        steps = self.pitch.shape[2]
        return bar_positions(steps, self.bar_steps[indices, None], self.phase[indices, None])

    @property
    def meters(self) -> tuple[int, ...]:
        """The meters present, as beats per bar, the most frequent first."""
        bars, counts = torch.unique(self.bar_steps, return_counts=True)
        order = counts.argsort(descending=True)
        return tuple(int(bars[k]) // self.encoding.resolution for k in order)


def _no_windows(path, bars: int, meters, rolls: list) -> str:
    """Why a data set gave no training window, and what to do about it."""
    asked = ", ".join(f"{n}/{d}" for n, d in meters)
    found = Counter(f"{n}/{d}" for n, d in (roll.time_signature for roll in rolls))
    present = ", ".join(f"{meter} ({count})" for meter, count in found.most_common())
    learnable = [meter for meter in found if meter in LEARNABLE_METERS]
    hint = f"; train --meters {','.join(learnable)} learns those" if learnable else ""
    return (
        f"{path} holds no {bars}-bar window in {asked} that fits the model: its pieces are in "
        f"{present}{hint}"
    )


def load_windows(
    path: str | os.PathLike,
    bars: int = 4,
    normalize_key: bool = True,
    transpose_range: int = 0,
    base: Encoding | None = None,
    meters: Sequence[tuple[int, int]] = ((4, 4),),
) -> WindowSet:
    """Load ``path`` (from ``bachgan prepare``) as training windows as long as ``bars`` bars
    of the base encoding's meter (4/4), from the pieces in one of ``meters``.

    ``transpose_range`` widens each voice's range by that many semitones, so that random
    transposition during training stays inside it.
    """
    base = base or Encoding()
    rolls, _ = load_rolls(path)
    stats = {"pieces": len(rolls), "skipped_meter": 0, "skipped_range": 0}
    by_bar: dict[int, list] = {}
    for roll in rolls:
        if roll.time_signature not in meters or roll.resolution != base.resolution:
            stats["skipped_meter"] += 1
            continue
        if roll.n_tracks != base.n_voices:
            raise BachganError(f"{path} has {roll.n_tracks} voices; the model needs 4")
        try:
            codes = encode(roll, base, normalize_key)
            by_bar.setdefault(roll.steps_per_bar, []).append((*codes, closing_bars(roll)))
        except ValueError:
            stats["skipped_range"] += 1
    steps = bars * base.steps_per_bar
    cut = {bar: _windows(by_bar[bar], steps, bar) for bar in sorted(by_bar, reverse=True)}
    cut = {bar: arrays for bar, arrays in cut.items() if len(arrays[0])}
    stats["pieces_used"] = sum(len(pieces) for pieces in by_bar.values())
    stats["windows"] = sum(len(arrays[0]) for arrays in cut.values())
    if not cut:
        raise BachganError(_no_windows(path, bars, meters, rolls))
    pitch = np.concatenate([arrays[0] for arrays in cut.values()])
    bar_steps = np.concatenate([np.full(len(arrays[0]), bar) for bar, arrays in cut.items()])
    encoding = Encoding(
        lowest_pitch=base.lowest_pitch,
        n_pitches=base.n_pitches,
        steps_per_bar=base.steps_per_bar,
        resolution=base.resolution,
        voice_ranges=_voice_ranges(pitch, base, transpose_range),
    )
    return WindowSet(
        torch.from_numpy(pitch),
        torch.from_numpy(np.concatenate([arrays[1] for arrays in cut.values()])).float(),
        encoding,
        torch.from_numpy(np.concatenate([arrays[2] for arrays in cut.values()])),
        torch.from_numpy(bar_steps),
        torch.from_numpy(-steps % bar_steps),
        torch.from_numpy(np.concatenate([arrays[3] for arrays in cut.values()])).float(),
        torch.from_numpy(np.concatenate([arrays[4] for arrays in cut.values()])),
        _voice_ranges(pitch, base, 0),
        stats,
    )


def _windows(
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]], steps: int, bar_steps: int
) -> tuple[np.ndarray, ...]:
    """The windows of ``(pitch, onset, closing bars)`` pieces: :func:`make_windows`'s
    ``(pitch, onset, ends)``, the closing bars of each window ``(n, steps)`` and whether it
    starts its piece ``(n,)``."""
    pitch, onset, ends = make_windows([piece[:2] for piece in pieces], steps, bar_steps)
    spans = window_spans([piece[:2] for piece in pieces], steps, bar_steps)
    closes = [pieces[k][2][end - steps : end] for k, end in spans]
    closes = np.array(closes, dtype=bool).reshape(len(spans), steps)
    return pitch, onset, ends, closes, np.array([end == steps for _, end in spans], dtype=bool)


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
    return transposed_batch(pitch, encoding, max_semitones, generator)[0]


def transposed_batch(
    pitch: torch.Tensor, encoding: Encoding, max_semitones: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`transpose_batch` and the shift each window got ``(n,)`` (0 where it was left)."""
    if max_semitones == 0:
        return pitch, torch.zeros(len(pitch), dtype=torch.long)
    shifts = torch.randint(
        -max_semitones, max_semitones + 1, (pitch.shape[0], 1, 1), generator=generator
    )
    sounding = pitch != encoding.rest
    moved = torch.where(sounding, pitch + shifts, pitch)
    low = torch.tensor([r[0] for r in encoding.voice_ranges])[None, :, None]
    high = torch.tensor([r[1] for r in encoding.voice_ranges])[None, :, None]
    fits = ((moved >= low) & (moved <= high) | ~sounding).all(dim=2).all(dim=1)
    return torch.where(fits[:, None, None], moved, pitch), torch.where(fits, shifts[:, 0, 0], 0)


def window_modes(pitch: torch.Tensor, encoding: Encoding) -> torch.Tensor:
    """``(n,)`` long: 1 where a window's best-fitting key is minor, 0 where major (the
    Krumhansl-Schmuckler estimate of :func:`bachgan.evaluation.metrics.best_key`, over the pitch
    classes of its sounding steps)."""
    return torch.from_numpy(window_keys(pitch.numpy(), encoding)) // 12
