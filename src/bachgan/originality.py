"""How original a generated piece is: which of its bars occur in the training data.

A bar is compared with all voices together and transposition-invariantly: its fingerprint is
each voice's pitches relative to the lowest pitch of the bar, with the onsets, so a bar copied
in another key is still a copy. Numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .roll import Roll

__all__ = ["BarIndex", "Originality", "bar_fingerprints", "nearest_distances"]


def bar_fingerprints(roll: Roll) -> list[bytes | None]:
    """One fingerprint per whole bar; ``None`` for a silent bar (never counted as a copy)."""
    bar = roll.steps_per_bar
    prints: list[bytes | None] = []
    for start in range(0, roll.n_steps - bar + 1, bar):
        sounding = roll.sounding[:, start : start + bar]
        onsets = roll.onsets[:, start : start + bar].copy()
        onsets[:, 0] |= sounding[:, 0]  # a note tied into the bar counts as starting there
        used = np.flatnonzero(sounding.any(axis=(0, 1)))
        if used.size == 0:
            prints.append(None)
            continue
        window = slice(used[0] + roll.lowest_pitch, used[-1] + roll.lowest_pitch + 1)
        pitches = np.arange(roll.n_pitches) + roll.lowest_pitch
        keep = (pitches >= window.start) & (pitches < window.stop)
        cells = np.stack([sounding[..., keep], onsets[..., keep]])
        prints.append(np.packbits(cells).tobytes() + bytes([int(keep.sum())]))
    return prints


@dataclass(frozen=True)
class Originality:
    """Per-piece originality: the fraction of bars found in the training data and the longest
    run of consecutive copied bars."""

    copied_bar_fraction: float
    longest_copied_run: int


class BarIndex:
    """The set of bar fingerprints of a training set."""

    def __init__(self, rolls: list[Roll]) -> None:
        self._bars = {p for roll in rolls for p in bar_fingerprints(roll) if p is not None}

    def __len__(self) -> int:
        return len(self._bars)

    def check(self, roll: Roll) -> Originality:
        copied = [p is not None and p in self._bars for p in bar_fingerprints(roll)]
        longest = run = 0
        for is_copy in copied:
            run = run + 1 if is_copy else 0
            longest = max(longest, run)
        fraction = sum(copied) / len(copied) if copied else 0.0
        return Originality(fraction, longest)


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
