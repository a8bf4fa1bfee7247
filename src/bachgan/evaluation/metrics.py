"""Music metrics for four-voice pieces, written and tested here (numpy only).

Definitions (a "step" is one grid step; a "beat" one quarter note; voices are tracks,
highest first):

* ``empty_beat_rate``: fraction of beats in which nothing sounds.
* ``pitch_classes_per_bar``: distinct pitch classes sounding in a bar, averaged over bars
  that sound.
* ``qualified_note_rate``: fraction of notes at least an eighth note long (two steps on the
  sixteenth grid; every note on that grid is at least a sixteenth, so that bound says nothing).
* ``polyphony``: distinct pitches sounding, averaged over steps where anything sounds.
* ``onsets_per_beat``: note starts, all voices together, per beat.
* ``in_key_ratio``: fraction of notes in the scale of the best-fitting key (Krumhansl-Schmuckler
  profiles correlated with the duration-weighted pitch-class histogram; major scale for major
  keys, harmonic minor for minor keys).
* ``parallel_per_bar``: parallel perfect fifths and octaves (unisons included) between any two
  voices, per bar: from one onset step to the next at which either voice of the pair moves,
  both sound before and after, both move in the same direction, and they form the same perfect
  interval (modulo the octave) before and after.
* ``voice_crossing_rate``: among steps where two adjacent voices both sound, the fraction where
  the lower voice is above the higher one.
* ``large_leap_rate``: fraction of melodic intervals (consecutive notes of one voice) larger
  than an octave.
* ``out_of_range_rate``: fraction of notes outside the voice's usual choral range.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..roll import Roll
from ..theory import (
    key_of_histogram,
    leaps_over_octave,
    parallel_perfect_moves,
    pitch_class_weights,
    scale_of_key,
)

__all__ = [
    "FEATURES",
    "USUAL_RANGES",
    "best_key",
    "classifier_accuracy",
    "empty_beat_rate",
    "fit_logistic",
    "frechet_distance",
    "in_key_ratio",
    "jensen_shannon",
    "large_leap_rate",
    "onsets_per_beat",
    "out_of_range_rate",
    "parallel_per_bar",
    "piece_features",
    "pitch_class_histogram",
    "pitch_classes_per_bar",
    "polyphony",
    "qualified_note_rate",
    "voice_crossing_rate",
    "voice_lines",
]

#: Usual ranges (MIDI pitch, inclusive) of soprano, alto, tenor and bass.
USUAL_RANGES = ((60, 81), (53, 74), (48, 69), (40, 64))


def _pitches(roll: Roll) -> np.ndarray:
    return np.arange(roll.n_pitches) + roll.lowest_pitch


def empty_beat_rate(roll: Roll) -> float:
    beat = roll.resolution
    n_beats = roll.n_steps // beat
    if n_beats == 0:
        return 0.0
    active = roll.sounding.any(axis=(0, 2))[: n_beats * beat].reshape(n_beats, beat).any(axis=1)
    return float(1 - active.mean())


def pitch_classes_per_bar(roll: Roll) -> float:
    bar = roll.steps_per_bar
    n_bars = roll.n_steps // bar
    used = roll.sounding.any(axis=0)[: n_bars * bar].reshape(n_bars, bar, -1).any(axis=1)
    classes = np.zeros((n_bars, 12), dtype=bool)
    for index, pitch_class in enumerate(_pitches(roll) % 12):
        classes[:, pitch_class] |= used[:, index]
    counts = classes.sum(axis=1)
    return float(counts[counts > 0].mean()) if (counts > 0).any() else 0.0


def qualified_note_rate(roll: Roll, min_steps: int | None = None) -> float:
    notes = roll.notes()
    if not len(notes):
        return 0.0
    min_steps = roll.resolution // 2 if min_steps is None else min_steps
    return float((notes.duration >= min_steps).mean())


def polyphony(roll: Roll) -> float:
    count = roll.sounding.any(axis=0).sum(axis=1)
    return float(count[count > 0].mean()) if (count > 0).any() else 0.0


def onsets_per_beat(roll: Roll) -> float:
    beats = roll.n_steps / roll.resolution
    return float(len(roll.notes()) / beats) if beats else 0.0


def pitch_class_histogram(roll: Roll) -> np.ndarray:
    """Duration-weighted pitch-class distribution, ``(12,)``, summing to 1 (or all zeros)."""
    histogram = pitch_class_weights(roll.sounding.sum(axis=(0, 1)), roll.lowest_pitch)
    total = histogram.sum()
    return histogram / total if total else histogram


def best_key(roll: Roll) -> tuple[int, str]:
    """``(tonic pitch class, "major" | "minor")`` with the highest Krumhansl-Schmuckler
    correlation."""
    return key_of_histogram(pitch_class_histogram(roll))


def in_key_ratio(roll: Roll) -> float:
    notes = roll.notes()
    if not len(notes):
        return 0.0
    return float(np.isin(notes.pitch % 12, scale_of_key(*best_key(roll))).mean())


def voice_lines(roll: Roll) -> np.ndarray:
    """``(voices, steps)`` sounding MIDI pitch per voice (highest if several), -1 for silence."""
    lines = np.full((roll.n_tracks, roll.n_steps), -1, dtype=np.int64)
    for track in range(roll.n_tracks):
        steps, indices = np.nonzero(roll.sounding[track])
        lines[track, steps] = indices + roll.lowest_pitch  # ascending: the highest is kept
    return lines


def parallel_per_bar(roll: Roll) -> float:
    """Parallel fifths and octaves (:func:`bachgan.theory.parallel_perfect_moves`) between
    every pair of voices, per bar."""
    lines = voice_lines(roll)
    count = sum(
        int(parallel_perfect_moves(lines[upper], lines[lower]).sum())
        for upper, lower in itertools.combinations(range(roll.n_tracks), 2)
    )
    return count / max(roll.n_steps / roll.steps_per_bar, 1)


def voice_crossing_rate(roll: Roll) -> float:
    lines = voice_lines(roll)
    both = (lines[:-1] >= 0) & (lines[1:] >= 0)
    if not both.any():
        return 0.0
    return float((lines[1:] > lines[:-1])[both].mean())


def large_leap_rate(roll: Roll) -> float:
    """Of the notes that follow another note of their voice directly, the share that leaps
    over an octave (:func:`bachgan.theory.leaps_over_octave`)."""
    lines = voice_lines(roll)
    onsets = roll.onsets.any(axis=2)
    follows = (lines[:, :-1] >= 0) & (lines[:, 1:] >= 0) & onsets[:, 1:]
    leaps = sum(int(leaps_over_octave(line).sum()) for line in lines)
    total = int(follows.sum())
    return leaps / total if total else 0.0


def out_of_range_rate(roll: Roll) -> float:
    notes = roll.notes()
    if not len(notes) or roll.n_tracks != len(USUAL_RANGES):
        return 0.0
    low = np.array([r[0] for r in USUAL_RANGES])[notes.track]
    high = np.array([r[1] for r in USUAL_RANGES])[notes.track]
    return float(((notes.pitch < low) | (notes.pitch > high)).mean())


#: The per-piece features, in the order of :func:`piece_features`.
FEATURES = {
    "empty_beat_rate": empty_beat_rate,
    "pitch_classes_per_bar": pitch_classes_per_bar,
    "qualified_note_rate": qualified_note_rate,
    "polyphony": polyphony,
    "onsets_per_beat": onsets_per_beat,
    "in_key_ratio": in_key_ratio,
    "parallel_per_bar": parallel_per_bar,
    "voice_crossing_rate": voice_crossing_rate,
    "large_leap_rate": large_leap_rate,
    "out_of_range_rate": out_of_range_rate,
}


def piece_features(roll: Roll) -> np.ndarray:
    """Every metric of :data:`FEATURES` for one piece, ``(len(FEATURES),)``."""
    return np.array([metric(roll) for metric in FEATURES.values()])


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (0 = same distribution, 1 = disjoint)."""
    p = p / p.sum()
    q = q / q.sum()
    middle = (p + q) / 2

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        mask = a > 0
        return float((a[mask] * np.log2(a[mask] / b[mask])).sum())

    return (kl(p, middle) + kl(q, middle)) / 2


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature rows ``a (n, d)`` and ``b (m, d)``."""
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    # tr(sqrt(A B)) for covariance matrices: the eigenvalues of A B are real and >= 0.
    trace_root = np.sqrt(np.clip(np.linalg.eigvals(cov_a @ cov_b).real, 0, None)).sum()
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b) - 2 * trace_root)


def classifier_accuracy(
    reference: np.ndarray, generated: np.ndarray, folds: int = 5, seed: int = 0
) -> float:
    """Cross-validated accuracy of a logistic regression telling ``reference`` rows from
    ``generated`` rows (classes balanced by subsampling). 0.5 means indistinguishable."""
    rng = np.random.default_rng(seed)
    n = min(len(reference), len(generated))
    x = np.concatenate(
        [
            reference[rng.permutation(len(reference))[:n]],
            generated[rng.permutation(len(generated))[:n]],
        ]
    )
    y = np.r_[np.ones(n), np.zeros(n)]
    order = rng.permutation(2 * n)
    x, y = x[order], y[order]
    correct = 0
    for fold in np.array_split(np.arange(2 * n), folds):
        train = np.setdiff1d(np.arange(2 * n), fold)
        mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-9
        weights = fit_logistic((x[train] - mean) / std, y[train])
        scores = np.c_[(x[fold] - mean) / std, np.ones(len(fold))] @ weights
        correct += int(((scores > 0) == (y[fold] == 1)).sum())
    return correct / (2 * n)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 500) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; weights with bias last."""
    design = np.c_[x, np.ones(len(x))]
    weights = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ weights))
        gradient = design.T @ (p - y) + l2 * weights
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + l2 * np.eye(len(weights))
        update = np.linalg.solve(hessian, gradient)
        weights -= update
        if np.abs(update).max() < 1e-8:
            break
    return weights
