"""Compare generated pieces with reference music: harmony, cadences and lines
(:mod:`bachgan.evaluation.harmony_profile`), the judges of :mod:`bachgan.evaluation.judges` beside
Bach against Bach and
shuffled-voice Bach, the ten summary metrics with the weak classifier on each alone, Fréchet
and pitch-class distances, and originality (:mod:`bachgan.evaluation.originality`).
:mod:`bachgan.evaluation.report` writes the result.

Both sides go through the same path: each piece is put in C major / A minor, its voices made
monophonic, and cut into non-overlapping windows of ``window_bars`` bars, so that pieces of
different lengths and keys are compared on equal terms; cadences are judged on whole pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..encoding import CHORALE_ENCODING, decode, encode
from ..errors import BachganError
from ..io.split import name_key
from ..roll import VOICE_NAMES, Roll, steps_per_bar
from .harmony_profile import cadence_profile, harmony_profile, interval_divergences
from .judges import judge, shuffled_voices
from .metrics import (
    FEATURES,
    classifier_accuracy,
    frechet_distance,
    jensen_shannon,
    piece_features,
    pitch_class_histogram,
)
from .originality import BarIndex, nearest_distances

#: Which judges ``bachgan evaluate --judges`` runs: ``fast`` leaves out the network.
JUDGE_SETS = {"fast": ("weak", "tree"), "all": ("weak", "tree", "cnn")}

__all__ = [
    "JUDGE_SETS",
    "Evaluation",
    "as_windows",
    "evaluate",
    "piece_groups",
    "whole_pieces",
]


def piece_groups(names: list[str]) -> list[str]:
    """A group per piece for the judges' cross-validation: versions of one chorale (the
    same name but for a suffix) share a group, so they stay on one side of every split."""
    return [name_key(name) for name in names]


def as_windows(
    rolls: list[Roll], window_bars: int = 4, meter: tuple[int, int] = (4, 4)
) -> list[Roll]:
    """Key-normalised, monophonic-voice windows of ``window_bars`` bars of the pieces in
    ``meter`` (the others are left out)."""
    return [window for _, window in _windows(rolls, window_bars, meter)]


def _windows(
    rolls: list[Roll], window_bars: int, meter: tuple[int, int] = (4, 4)
) -> list[tuple[int, Roll]]:
    """:func:`as_windows`, each with the index of the piece it was cut from."""
    encoding = CHORALE_ENCODING
    window = window_bars * steps_per_bar(meter, encoding.resolution)
    windows = []
    for index, roll in enumerate(rolls):
        if tuple(roll.time_signature) != tuple(meter) or roll.n_tracks != len(VOICE_NAMES):
            continue
        try:
            pitch, onset = encode(roll, encoding)
        except ValueError:
            continue
        for start in range(0, pitch.shape[1] - window + 1, window):
            piece = decode(
                pitch[:, start : start + window],
                onset[:, start : start + window],
                encoding,
                track_names=VOICE_NAMES,
                time_signature=meter,
            )
            if len(piece.notes()):
                windows.append((index, piece))
    return windows


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` found: ``numbers`` (the report, plain JSON values) and the
    windows and features its pictures are drawn from."""

    numbers: dict
    reference_windows: list[Roll]
    generated_windows: list[Roll]
    shuffled_windows: list[Roll]
    reference_features: np.ndarray
    generated_features: np.ndarray


def evaluate(
    generated: list[Roll],
    reference: list[Roll],
    training: list[Roll] | None = None,
    window_bars: int = 4,
    judges: tuple[str, ...] = JUDGE_SETS["all"],
    reference_groups: list[str] | None = None,
    meter: tuple[int, int] = (4, 4),
) -> Evaluation:
    """Every number of the report; see the module docstring. ``judges`` names the judges of
    :mod:`bachgan.evaluation.judges` to run; ``reference_groups`` (one per reference piece) keeps
    related
    pieces on one side of their cross-validation. Windows are cut from the pieces in
    ``meter`` on both sides."""
    generated_cut = _windows(generated, window_bars, meter)
    reference_cut = _windows(reference, window_bars, meter)
    generated_windows = [w for _, w in generated_cut]
    reference_windows = [w for _, w in reference_cut]
    if len(generated_windows) < 2 or len(reference_windows) < 2:
        raise BachganError(
            f"need at least two {window_bars}-bar windows in {meter[0]}/{meter[1]} on each side "
            f"(generated {len(generated_windows)}, reference {len(reference_windows)})"
        )
    gen = np.array([piece_features(r) for r in generated_windows])
    ref = np.array([piece_features(r) for r in reference_windows])
    scale = ref.std(axis=0) + 1e-6
    shuffled = shuffled_voices(reference_windows)
    numbers: dict = {
        "windows": {"generated": len(gen), "reference": len(ref), "bars": window_bars},
        "metrics": {
            name: {
                "reference": float(ref[:, k].mean()),
                "generated": float(gen[:, k].mean()),
                # What this metric alone gives away: the classifier on this one column.
                "classifier_alone": classifier_accuracy(ref[:, [k]], gen[:, [k]]),
            }
            for k, name in enumerate(FEATURES)
        },
        "classifier_accuracy": classifier_accuracy(ref, gen),
        "frechet_distance": frechet_distance(ref / scale, gen / scale),
        "pitch_class_js": jensen_shannon(
            _mean_histogram(reference_windows), _mean_histogram(generated_windows)
        ),
        "harmony": _sides(
            harmony_profile,
            reference=reference_windows,
            generated=generated_windows,
            shuffled=shuffled,
        ),
        "cadences": _sides(cadence_profile, reference=reference, generated=generated),
        "melodic_interval_js": dict(
            zip(
                VOICE_NAMES,
                interval_divergences(generated_windows, reference_windows),
                strict=False,
            )
        ),
    }
    reference_groups = [
        (reference_groups or list(range(len(reference))))[i] for i, _ in reference_cut
    ]
    generated_groups = [i for i, _ in generated_cut]
    numbers["judges"] = _judge_all(
        judges,
        reference_windows,
        reference_groups,
        generated_windows,
        generated_groups,
        shuffled,
        training,
        window_bars,
        meter,
    )
    if training is not None:
        numbers["originality"] = _originality(generated, reference, training)
    return Evaluation(numbers, reference_windows, generated_windows, shuffled, ref, gen)


def _sides(profile, **sides: list[Roll]) -> dict[str, dict[str, float]]:
    """``{metric: {side: value}}`` from ``profile`` applied to each side's rolls."""
    values = {side: profile(rolls) for side, rolls in sides.items()}
    metrics = next(iter(values.values()))
    return {metric: {side: values[side][metric] for side in sides} for metric in metrics}


def _judge_all(
    names: tuple[str, ...],
    reference: list[Roll],
    reference_groups: list[object],
    generated: list[Roll],
    generated_groups: list[object],
    shuffled: list[Roll],
    training: list[Roll] | None,
    window_bars: int,
    meter: tuple[int, int] = (4, 4),
) -> dict[str, dict[str, dict]]:
    """Each judge on: generated vs reference, Bach vs Bach (the floor: training windows, or
    half of the reference against the other half), shuffled-voice Bach vs reference."""
    floor_first, floor_second, first_groups, second_groups = _floor_sets(
        reference, reference_groups, training, window_bars, meter
    )
    comparisons = {
        "generated": (reference, generated, reference_groups, generated_groups),
        "bach vs bach": (floor_first, floor_second, first_groups, second_groups),
        "shuffled voices": (reference, shuffled, reference_groups, None),
    }
    result: dict[str, dict[str, dict]] = {}
    for name in names:
        result[name] = {}
        for label, (first, second, groups_a, groups_b) in comparisons.items():
            verdict = judge(name, first, second, groups_a, groups_b)
            result[name][label] = {"mean": verdict.mean, "sd": verdict.sd, "folds": verdict.folds}
    return result


def _floor_sets(
    reference: list[Roll],
    groups: list[object],
    training: list[Roll] | None,
    window_bars: int,
    meter: tuple[int, int] = (4, 4),
) -> tuple[list[Roll], list[Roll], list[object], list[object]]:
    if training is not None:
        cut = _windows(training, window_bars, meter)
        if len(cut) >= 2:
            return reference, [w for _, w in cut], groups, [("training", i) for i, _ in cut]
    halves = {g: k % 2 for k, g in enumerate(dict.fromkeys(groups))}
    first = [k for k, g in enumerate(groups) if halves[g] == 0]
    second = [k for k, g in enumerate(groups) if halves[g] == 1]
    return (
        [reference[k] for k in first],
        [reference[k] for k in second],
        [groups[k] for k in first],
        [groups[k] for k in second],
    )


def _pitch_arrays(windows: list[Roll]) -> np.ndarray:
    """Encoded pitch classes of equally long windows, ``(n, voices, steps)``."""
    arrays = [encode(w, CHORALE_ENCODING, normalize_key=False)[0] for w in windows]
    return np.stack(arrays) if arrays else np.zeros((0, 4, 0), dtype=np.int64)


def _mean_histogram(rolls: list[Roll]) -> np.ndarray:
    return np.mean([pitch_class_histogram(r) for r in rolls], axis=0) + 1e-12


def _originality(generated: list[Roll], reference: list[Roll], training: list[Roll]) -> dict:
    """Generated pieces whole; reference pieces cut to the generated pieces' length; copies
    looked for at any offset and in any key of the training pieces; nearest training windows
    compared over 4 bars."""
    index = BarIndex(whole_pieces(training))
    bars = min(r.n_bars for r in generated)
    gen = [index.check(r) for r in as_windows(generated, bars)]
    ref = [index.check(r) for r in as_windows(reference, bars)]
    training_windows = _pitch_arrays(as_windows(training, 4))
    nearest = nearest_distances(_pitch_arrays(as_windows(generated, 4)), training_windows)
    reference_nearest = nearest_distances(_pitch_arrays(as_windows(reference, 4)), training_windows)
    return {
        "generated_nearest_window_distance": _mean_or_none(nearest),
        "reference_nearest_window_distance": _mean_or_none(reference_nearest),
        "generated_copied_bar_fraction": float(np.mean([o.copied_bar_fraction for o in gen])),
        "generated_longest_copied_run": int(max(o.longest_copied_run for o in gen)),
        "generated_pieces_with_copied_run_over_2": int(sum(o.longest_copied_run > 2 for o in gen)),
        "reference_copied_bar_fraction": _mean_or_none([o.copied_bar_fraction for o in ref]),
        "generated_longest_copied_voice_run": int(max(o.longest_copied_voice_run for o in gen)),
        "reference_longest_copied_voice_run": int(max(o.longest_copied_voice_run for o in ref))
        if ref
        else None,
        "generated_pieces_with_copied_voice_run_over_2": int(
            sum(o.longest_copied_voice_run > 2 for o in gen)
        ),
    }


def whole_pieces(rolls: list[Roll]) -> list[Roll]:
    """Each four-voice piece as one key-normalised window of all its whole bars, voices made
    single lines (as :func:`as_windows` makes them)."""
    return [
        window
        for roll in rolls
        for window in as_windows(
            [roll], max(roll.n_steps // roll.steps_per_bar, 1), roll.time_signature
        )
    ]


def _mean_or_none(values) -> float | None:
    return float(np.mean(values)) if len(values) else None
