"""Two-sample judges that hear harmony: how often can a classifier tell two sets of windows
apart? 0.5 means never, 1.0 always.

* ``tree``: gradient-boosted trees (scikit-learn) on about 800 features of each window:
  every voice's melodic intervals and interval pairs, the vertical interval of every voice
  pair at each eighth, sonority classes, chord qualities, root motion, the bass's place in the
  chord, where in the bar each voice starts notes, note values and the summary metrics.
* ``cnn``: a small convolutional network (torch) over the key-normalised piano-roll of each
  window, every voice's pitch and onsets as channels, trained with random transposition by up
  to three semitones.
* ``weak``: the logistic regression on the ten summary metrics of :mod:`bachgan.evaluation.metrics`.

Cross-validation keeps every group (a piece, or related pieces) on one side of each split, the
classes are balanced by subsampling, and each fold's balanced accuracy is reported: mean and
standard deviation over folds. :func:`shuffled_voices` and :func:`random_notes` make the
baselines and calibration sets.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..roll import Notes, Roll
from ..theory import CHORD_SHAPES, SONORITY_CLASSES, identify_chord, root_motion, sonority_class
from .harmony_profile import NOTE_VALUES, ROOT_MOTIONS, note_value, sonorities
from .metrics import piece_features, voice_lines

__all__ = [
    "JUDGES",
    "MOST_PER_SIDE",
    "Verdict",
    "judge",
    "judge_features",
    "random_notes",
    "shuffled_voices",
]

#: Windows per side that a judge sees at most (more cost time and change little).
MOST_PER_SIDE = 400
_INTERVAL_CLIP = 5  # interval pairs: intervals clipped to a fourth either way
_PAIR_BINS = 14  # 12 interval classes, crossed, a voice silent


@dataclass(frozen=True)
class Verdict:
    """A judge's balanced accuracy per fold, with its mean and standard deviation."""

    folds: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.folds))

    @property
    def sd(self) -> float:
        return float(np.std(self.folds))

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.sd:.3f}"


# --------------------------------------------------------------------------- features
def judge_features(window: Roll) -> np.ndarray:
    """The tree judge's features of one four-voice window (a fixed-length vector)."""
    lines = voice_lines(window)
    notes = window.notes()
    parts = [
        _interval_features(window, notes),
        _vertical_features(lines, window),
        _chord_features(window, lines),
        _rhythm_features(window, notes),
        piece_features(window),
    ]
    return np.concatenate(parts).astype(np.float32)


def _interval_features(window: Roll, notes) -> np.ndarray:
    features = []
    clip = _INTERVAL_CLIP
    for voice in range(window.n_tracks):
        mine = notes.select(notes.track == voice)
        pitches = mine.pitch[np.argsort(mine.start, kind="stable")]
        intervals = np.diff(pitches)
        single = np.bincount(np.clip(intervals, -12, 12) + 12, minlength=25)
        clipped = np.clip(intervals, -clip, clip) + clip
        pairs = np.bincount(
            clipped[:-1] * (2 * clip + 1) + clipped[1:], minlength=(2 * clip + 1) ** 2
        )
        features += [single / max(intervals.size, 1), pairs / max(intervals.size - 1, 1)]
    return np.concatenate(features)


def _vertical_features(lines: np.ndarray, window: Roll) -> np.ndarray:
    eighths = lines[:, :: max(window.resolution // 2, 1)]
    features = []
    for upper, lower in itertools.combinations(range(lines.shape[0]), 2):
        a, b = eighths[upper], eighths[lower]
        bins = np.where((a < 0) | (b < 0), 13, np.where(a < b, 12, (a - b) % 12))
        features.append(np.bincount(bins, minlength=_PAIR_BINS) / max(bins.size, 1))
    return np.concatenate(features)


def _chord_features(window: Roll, lines: np.ndarray) -> np.ndarray:
    masks, strong = sonorities(window)
    kinds = [sonority_class(int(m)) for m in masks]
    chords = [
        identify_chord(int(m)) if k == "complete" else None
        for m, k in zip(masks, kinds, strict=True)
    ]
    sounding = max(sum(k is not None for k in kinds), 1)
    strong_count = max(sum(k is not None for k, s in zip(kinds, strong, strict=True) if s), 1)
    classes = [sum(k == c for k in kinds) / sounding for c in SONORITY_CLASSES]
    on_strong = [
        sum(k == c for k, s in zip(kinds, strong, strict=True) if s) / strong_count
        for c in SONORITY_CLASSES
    ]
    qualities = [
        sum(c is not None and c.quality == q for c in chords) / sounding for q in CHORD_SHAPES
    ]
    roots = [c.root for c in chords if c is not None and c.root is not None]
    moves = [root_motion(a, b) for a, b in itertools.pairwise(roots) if a != b]
    motions = [moves.count(m) / max(len(moves), 1) for m in ROOT_MOTIONS]
    bass = lines[-1, :: max(window.resolution // 2, 1)]
    positions = [0, 0, 0]  # the bass on the root, the third, elsewhere
    for chord, pitch in zip(chords, bass, strict=True):
        if chord is not None and chord.root is not None and pitch >= 0:
            step = (pitch - chord.root) % 12
            positions[0 if step == 0 else 1 if step in (3, 4) else 2] += 1
    return np.array(classes + on_strong + qualities + motions + [p / sounding for p in positions])


def _rhythm_features(window: Roll, notes) -> np.ndarray:
    bar = window.steps_per_bar
    features = []
    for voice in range(window.n_tracks):
        mine = notes.select(notes.track == voice)
        where = np.bincount(mine.start % bar, minlength=bar) / max(window.n_bars, 1)
        values = [note_value(int(d), window.resolution) for d in mine.duration]
        shares = [values.count(v) / max(len(values), 1) for v in NOTE_VALUES]
        features += [where, np.array(shares)]
    return np.concatenate(features)


# --------------------------------------------------------------------------- baselines
def shuffled_voices(windows: list[Roll], seed: int = 0) -> list[Roll]:
    """Windows whose voices each come from a window drawn at random for that voice (an
    independent permutation per voice): real lines, chance harmony, the baseline a harmony
    judge must tell from Bach easily."""
    rng = np.random.default_rng(seed)
    n = len(windows)
    picks = [rng.permutation(n) for _ in range(windows[0].n_tracks)] if n else []
    shuffled = []
    for i in range(n):
        sources = [windows[order[i]] for order in picks]
        sounding = np.stack([s.sounding[v] for v, s in enumerate(sources)])
        onsets = np.stack([s.onsets[v] for v, s in enumerate(sources)])
        shuffled.append(windows[i].with_arrays(sounding, onsets))
    return shuffled


def random_notes(windows: list[Roll], seed: int = 0) -> list[Roll]:
    """Windows with each window's rhythm and each voice's range, but random pitches."""
    rng = np.random.default_rng(seed)
    out = []
    for window in windows:
        notes = window.notes()
        pitch = notes.pitch.copy()
        for voice in range(window.n_tracks):
            mine = notes.track == voice
            if mine.any():
                low, high = notes.pitch[mine].min(), notes.pitch[mine].max()
                pitch[mine] = rng.integers(low - 3, high + 4, size=int(mine.sum()))
        pitch = np.clip(pitch, window.lowest_pitch, window.pitch_range[1])
        moved = Notes(notes.track, pitch, notes.start, notes.duration)
        out.append(
            Roll.from_notes(
                moved, window.n_tracks, window.n_steps, window.pitch_range, **window.meta()
            )
        )
    return out


# --------------------------------------------------------------------------- judging
def judge(
    name: str,
    first: list[Roll],
    second: list[Roll],
    first_groups: list[object] | None = None,
    second_groups: list[object] | None = None,
    folds: int = 5,
    seed: int = 0,
    most: int = MOST_PER_SIDE,
) -> Verdict:
    """How well judge ``name`` tells ``first`` from ``second`` (windows of one length), by
    grouped cross-validation; each window is its own group unless groups are given. Both
    sides are subsampled to the smaller one's size, and to at most ``most`` windows."""
    rng = np.random.default_rng(seed)
    first_groups = first_groups or [("a", i) for i in range(len(first))]
    second_groups = second_groups or [("b", i) for i in range(len(second))]
    n = min(len(first), len(second), most)
    keep_first = np.sort(rng.permutation(len(first))[:n])
    keep_second = np.sort(rng.permutation(len(second))[:n])
    windows = [first[i] for i in keep_first] + [second[i] for i in keep_second]
    groups = [("a", first_groups[i]) for i in keep_first]
    groups += [("b", second_groups[i]) for i in keep_second]
    labels = np.r_[np.ones(n), np.zeros(n)]
    fit_and_score = JUDGES[name]
    data = fit_and_score.prepare(windows)
    scores = []
    for test in _group_folds(groups, folds, rng):
        train = np.setdiff1d(np.arange(2 * n), test)
        predicted = fit_and_score.run(data, labels, train, test, seed)
        scores.append(_balanced_accuracy(labels[test], predicted))
    return Verdict(tuple(scores))


def _group_folds(groups: list[object], folds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Test indices of each fold: whole groups, sizes balanced (largest groups first)."""
    members: dict[object, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    order = sorted(members.values(), key=lambda m: (-len(m), rng.random()))
    buckets: list[list[int]] = [[] for _ in range(folds)]
    for indices in order:
        min(buckets, key=len).extend(indices)
    return [np.array(sorted(b)) for b in buckets if b]


def _balanced_accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    recalls = [float((predicted[truth == c] == c).mean()) for c in (0, 1) if (truth == c).any()]
    return float(np.mean(recalls))


@dataclass(frozen=True)
class _Judge:
    prepare: Callable[[list[Roll]], np.ndarray]
    run: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


def _tree(data: np.ndarray, labels: np.ndarray, train, test, seed: int) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier

    varying = data[train].std(axis=0) > 0  # constant features only cost binning time
    boosted = HistGradientBoostingClassifier(
        max_iter=60, learning_rate=0.2, early_stopping=False, random_state=seed
    )
    boosted.fit(data[train][:, varying], labels[train])
    return boosted.predict(data[test][:, varying])


def _weak(data: np.ndarray, labels: np.ndarray, train, test, seed: int) -> np.ndarray:
    from .metrics import fit_logistic

    mean, std = data[train].mean(axis=0), data[train].std(axis=0) + 1e-9
    weights = fit_logistic((data[train] - mean) / std, labels[train])
    scores = np.c_[(data[test] - mean) / std, np.ones(len(test))] @ weights
    return (scores > 0).astype(float)


def _cnn(data: np.ndarray, labels: np.ndarray, train, test, seed: int) -> np.ndarray:
    from .judge_cnn import fit_predict

    return fit_predict(data, labels, train, test, seed)


def _rolls_as_codes(windows: list[Roll]) -> np.ndarray:
    from .judge_cnn import piano_roll_codes

    return piano_roll_codes(windows)


JUDGES: dict[str, _Judge] = {
    "weak": _Judge(lambda ws: np.array([piece_features(w) for w in ws]), _weak),
    "tree": _Judge(lambda ws: np.array([judge_features(w) for w in ws]), _tree),
    "cnn": _Judge(_rolls_as_codes, _cnn),
}
