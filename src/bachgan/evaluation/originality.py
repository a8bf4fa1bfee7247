"""How original a generated piece is: which of its bars, and which of its voices' lines,
occur in the training data.

A bar of a generated piece counts as copied when the same music, all voices together, occurs
anywhere in a training piece: at any offset from the training piece's bar lines (every grid
step is tried) and in any key (pitches are taken relative to the lowest pitch of the span),
with the same rhythm (a note tied into the span counts as starting there). A voice counts as
copied over two bars when its line over those bars occurs, at any offset and in any key, in
any voice of the training data, whatever the other voices do. Numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..roll import Roll
from .metrics import voice_lines

__all__ = ["VOICE_SPAN_BARS", "BarIndex", "Originality", "nearest_distances", "span_keys"]

#: Bars of one voice that count as a copied line when found in the training data.
VOICE_SPAN_BARS = 2
_SILENT = np.iinfo(np.int64).max


def span_keys(lines: np.ndarray, onsets: np.ndarray, length: int, starts: np.ndarray) -> list:
    """A key per span of ``length`` steps starting at ``starts``: equal keys mean the same
    music up to transposition; ``None`` for a silent span. ``lines`` are ``(voices, steps)``
    MIDI pitches (-1 for a rest) and ``onsets`` ``(voices, steps)`` note starts."""
    if lines.shape[1] < length or starts.size == 0:
        return []
    spans = sliding_window_view(lines, length, axis=1)[:, starts]  # (voices, spans, length)
    starts_in = sliding_window_view(onsets, length, axis=1)[:, starts].copy()
    starts_in[..., 0] |= spans[..., 0] >= 0  # a note tied into the span starts there
    lowest = np.where(spans >= 0, spans, _SILENT).min(axis=(0, 2))
    relative = np.where(
        spans >= 0, spans - np.where(lowest == _SILENT, 0, lowest)[None, :, None], -1
    )
    rows = np.concatenate(
        [
            relative.transpose(1, 0, 2).reshape(len(starts), -1),
            starts_in.transpose(1, 0, 2).reshape(len(starts), -1),
        ],
        axis=1,
    ).astype(np.int8)
    return [
        None if low == _SILENT else hash(row.tobytes())
        for low, row in zip(lowest, rows, strict=True)
    ]


def _lines_and_onsets(roll: Roll) -> tuple[np.ndarray, np.ndarray]:
    return voice_lines(roll), roll.onsets.any(axis=2)


@dataclass(frozen=True)
class Originality:
    """Per-piece originality: the fraction of bars found in the training data, the longest
    run of consecutive copied bars, and the longest run of bars in which some voice sings a
    line found in the training data (over :data:`VOICE_SPAN_BARS` bars or more)."""

    copied_bar_fraction: float
    longest_copied_run: int
    longest_copied_voice_run: int = 0


class BarIndex:
    """Every one-bar span (all voices) and every two-bar span of each voice of a training set,
    at every offset, up to transposition."""

    def __init__(self, rolls: list[Roll]) -> None:
        self._bars: set[int] = set()
        self._voices: set[int] = set()
        for roll in rolls:
            lines, onsets = _lines_and_onsets(roll)
            bar = roll.steps_per_bar
            every = np.arange(max(roll.n_steps - bar + 1, 0))
            self._bars.update(k for k in span_keys(lines, onsets, bar, every) if k is not None)
            length = VOICE_SPAN_BARS * bar
            every = np.arange(max(roll.n_steps - length + 1, 0))
            for voice in range(roll.n_tracks):
                keys = span_keys(lines[voice : voice + 1], onsets[voice : voice + 1], length, every)
                self._voices.update(k for k in keys if k is not None)

    def __len__(self) -> int:
        return len(self._bars)

    def check(self, roll: Roll) -> Originality:
        lines, onsets = _lines_and_onsets(roll)
        bar = roll.steps_per_bar
        bar_starts = np.arange(0, roll.n_steps - bar + 1, bar)
        copied = [
            k is not None and k in self._bars for k in span_keys(lines, onsets, bar, bar_starts)
        ]
        fraction = sum(copied) / len(copied) if copied else 0.0
        return Originality(
            fraction, _longest_run(copied), self._longest_voice_run(roll, lines, onsets)
        )

    def _longest_voice_run(self, roll: Roll, lines: np.ndarray, onsets: np.ndarray) -> int:
        """Bars covered by the longest stretch of consecutive copied voice spans."""
        bar = roll.steps_per_bar
        starts = np.arange(0, roll.n_steps - VOICE_SPAN_BARS * bar + 1, bar)
        copied = np.zeros(len(starts), dtype=bool)
        for voice in range(roll.n_tracks):
            keys = span_keys(
                lines[voice : voice + 1], onsets[voice : voice + 1], VOICE_SPAN_BARS * bar, starts
            )
            copied |= np.array([k is not None and k in self._voices for k in keys], dtype=bool)
        run = _longest_run(copied.tolist())
        return run + VOICE_SPAN_BARS - 1 if run else 0


def _longest_run(flags: list[bool]) -> int:
    longest = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    return longest


def nearest_distances(generated: np.ndarray, training: np.ndarray, chunk: int = 64) -> np.ndarray:
    """For each generated window, the distance to the closest training window: the fraction of
    (voice, step) cells whose pitch differs. Windows are encoded pitch arrays of one shape,
    ``generated (n, voices, steps)`` and ``training (m, voices, steps)``; 0 means an exact copy.
    """
    flat_training = training.reshape(len(training), -1)
    nearest = []
    for start in range(0, len(generated), chunk):
        block = generated[start : start + chunk].reshape(-1, 1, flat_training.shape[1])
        nearest.append((block != flat_training[None]).mean(axis=2).min(axis=1))
    return np.concatenate(nearest) if nearest else np.zeros(0)
