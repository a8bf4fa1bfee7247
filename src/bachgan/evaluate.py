"""Compare generated pieces with reference music: metrics, a two-sample classifier, Fréchet
distance, pitch-class distance, originality; a JSON + Markdown report with plots.

Both sides go through the same path: each piece is put in C major / A minor, its voices made
monophonic, and cut into non-overlapping windows of ``window_bars`` bars, so that pieces of
different lengths and keys are compared on equal terms. The classifier is also run on each
metric alone, which says what gives the generated pieces away.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .corpus import BACH, find_files, load_rolls, prepare
from .encoding import CHORALE_ENCODING, decode, encode
from .errors import BachganError
from .files import atomic_write, write_json
from .metrics import (
    FEATURES,
    classifier_accuracy,
    frechet_distance,
    jensen_shannon,
    piece_features,
    pitch_class_histogram,
)
from .originality import BarIndex, nearest_distances
from .roll import VOICE_NAMES, Roll

__all__ = ["as_windows", "evaluate", "load_music", "write_report"]


def load_music(source: str, split: str = "all") -> list[Roll]:
    """Rolls from ``"bach"`` (with ``split``), a data set ``.npz``, a folder or a MIDI file."""
    if source.endswith(".npz"):
        return load_rolls(source)[0]
    if source != BACH:
        find_files([source])  # a clear error for a missing path or an empty folder
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "music.npz"
        prepare([source], out, progress=False, split=split if source == BACH else "all")
        return load_rolls(out)[0]


def as_windows(rolls: list[Roll], window_bars: int = 4) -> list[Roll]:
    """Key-normalised, monophonic-voice windows of ``window_bars`` bars (4/4 pieces only)."""
    encoding = CHORALE_ENCODING
    window = window_bars * encoding.steps_per_bar
    windows = []
    for roll in rolls:
        if roll.steps_per_bar != encoding.steps_per_bar or roll.n_tracks != len(VOICE_NAMES):
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
            )
            if len(piece.notes()):
                windows.append(piece)
    return windows


def evaluate(
    generated: list[Roll],
    reference: list[Roll],
    training: list[Roll] | None = None,
    window_bars: int = 4,
) -> dict:
    """Every number of the report; see the module docstring."""
    generated_windows = as_windows(generated, window_bars)
    reference_windows = as_windows(reference, window_bars)
    if len(generated_windows) < 2 or len(reference_windows) < 2:
        raise BachganError(
            f"need at least two {window_bars}-bar windows in 4/4 on each side "
            f"(generated {len(generated_windows)}, reference {len(reference_windows)})"
        )
    gen = np.array([piece_features(r) for r in generated_windows])
    ref = np.array([piece_features(r) for r in reference_windows])
    scale = ref.std(axis=0) + 1e-6
    result: dict = {
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
    }
    if training is not None:
        result["originality"] = _originality(generated, reference, training)
    result["_plots"] = (reference_windows, generated_windows, ref, gen)
    return result


def _pitch_arrays(windows: list[Roll]) -> np.ndarray:
    """Encoded pitch classes of equally long windows, ``(n, voices, steps)``."""
    arrays = [encode(w, CHORALE_ENCODING, normalize_key=False)[0] for w in windows]
    return np.stack(arrays) if arrays else np.zeros((0, 4, 0), dtype=np.int64)


def _mean_histogram(rolls: list[Roll]) -> np.ndarray:
    return np.mean([pitch_class_histogram(r) for r in rolls], axis=0) + 1e-12


def _originality(generated: list[Roll], reference: list[Roll], training: list[Roll]) -> dict:
    """Generated pieces whole; reference pieces cut to the generated pieces' length; nearest
    training windows compared over 4 bars."""
    index = BarIndex(as_windows(training, 1))
    bars = min(r.n_bars for r in generated)
    gen = [index.check(r) for r in as_windows(generated, bars)]
    ref = [index.check(r) for r in as_windows(reference, bars)]
    training_windows = _pitch_arrays(as_windows(training, 4))
    nearest = nearest_distances(_pitch_arrays(as_windows(generated, 4)), training_windows)
    reference_nearest = nearest_distances(_pitch_arrays(as_windows(reference, 4)), training_windows)
    return {
        "generated_nearest_window_distance": float(nearest.mean()) if nearest.size else None,
        "reference_nearest_window_distance": float(reference_nearest.mean())
        if reference_nearest.size
        else None,
        "generated_copied_bar_fraction": float(np.mean([o.copied_bar_fraction for o in gen])),
        "generated_longest_copied_run": int(max(o.longest_copied_run for o in gen)),
        "generated_pieces_with_copied_run_over_2": int(sum(o.longest_copied_run > 2 for o in gen)),
        "reference_copied_bar_fraction": float(np.mean([o.copied_bar_fraction for o in ref]))
        if ref
        else None,
    }


# --------------------------------------------------------------------------- report
def write_report(result: dict, folder: str | os.PathLike) -> list[Path]:
    """``report.json``, ``report.md`` and ``report.png`` in ``folder``."""
    folder = Path(folder)
    numbers = {k: v for k, v in result.items() if not k.startswith("_")}
    written = [write_json(numbers, folder / "report.json")]
    written.append(_plot(result["_plots"], folder / "report.png"))
    with atomic_write(folder / "report.md") as temporary:
        temporary.write_text(summary_table(numbers) + "\n\n![plots](report.png)\n")
    written.append(folder / "report.md")
    return written


def summary_table(numbers: dict) -> str:
    """The report as a Markdown table."""
    windows = numbers["windows"]
    lines = [
        f"{windows['generated']} generated and {windows['reference']} reference windows of "
        f"{windows['bars']} bars\n",
        "| metric | reference | generated | classifier on this metric alone |",
        "|---|---|---|---|",
    ]
    for name, pair in numbers["metrics"].items():
        lines.append(
            f"| {name} | {pair['reference']:.3f} | {pair['generated']:.3f} | "
            f"{pair['classifier_alone']:.3f} |"
        )
    lines += [
        f"| two-sample classifier accuracy, all metrics (0.5 = indistinguishable) | | "
        f"{numbers['classifier_accuracy']:.3f} | |",
        f"| Fréchet distance of standardised features | | {numbers['frechet_distance']:.3f} | |",
        f"| pitch-class histogram Jensen-Shannon (bits) | | {numbers['pitch_class_js']:.4f} | |",
    ]
    if "originality" in numbers:
        o = numbers["originality"]
        reference_copied = o["reference_copied_bar_fraction"]
        lines += [
            f"| bars found in the training data | "
            f"{'' if reference_copied is None else f'{reference_copied:.3f}'} | "
            f"{o['generated_copied_bar_fraction']:.3f} | |",
            f"| longest run of copied bars | | {o['generated_longest_copied_run']} | |",
            f"| distance to the nearest training window (share of cells) | "
            f"{_number(o['reference_nearest_window_distance'])} | "
            f"{_number(o['generated_nearest_window_distance'])} | |",
        ]
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _plot(data, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    reference, generated, ref_features, gen_features = data
    figure, axes = pyplot.subplots(2, 3, figsize=(15, 8))
    sides = (("reference", reference, "0.4"), ("generated", generated, "tab:red"))
    for label, rolls, colour in sides:
        axes[0, 0].plot(_mean_histogram(rolls), marker="o", label=label, color=colour)
        durations = np.concatenate([r.notes().duration for r in rolls])
        axes[0, 1].hist(
            durations,
            bins=np.arange(1, 18) - 0.5,
            density=True,
            alpha=0.5,
            label=label,
            color=colour,
        )
        poly = np.concatenate([r.sounding.any(axis=0).sum(axis=1) for r in rolls])
        axes[0, 2].hist(
            poly, bins=np.arange(0, 7) - 0.5, density=True, alpha=0.5, label=label, color=colour
        )
    axes[0, 0].set(title="pitch classes (C = 0)", xticks=range(12))
    axes[0, 1].set(title="note durations (sixteenths)")
    axes[0, 2].set(title="sounding pitches per step")
    for voice in range(4):
        for offset, (_, rolls, colour) in zip((-0.15, 0.15), sides, strict=True):
            pitches = np.concatenate(
                [r.notes().select(r.notes().track == voice).pitch for r in rolls]
            )
            if pitches.size:
                axes[1, 0].boxplot(
                    pitches,
                    positions=[voice + offset],
                    widths=0.25,
                    patch_artist=True,
                    boxprops={"facecolor": colour},
                )
    axes[1, 0].set(title="pitch range per voice", xticks=range(4), xticklabels=VOICE_NAMES)
    names = list(FEATURES)
    picks = [names.index(n) for n in ("onsets_per_beat", "pitch_classes_per_bar", "polyphony")]
    axes[1, 1].boxplot([f[:, k] for k in picks for f in (ref_features, gen_features)])
    axes[1, 1].set(
        title="per-window metrics (R reference, G generated)",
        xticks=range(1, 7),
        xticklabels=["onsets/beat R", "G", "classes/bar R", "G", "polyphony R", "G"],
    )
    voice_leading = [
        names.index(n) for n in ("parallel_per_bar", "voice_crossing_rate", "large_leap_rate")
    ]
    x = np.arange(len(voice_leading))
    axes[1, 2].bar(
        x - 0.2, ref_features[:, voice_leading].mean(axis=0), 0.4, label="reference", color="0.4"
    )
    axes[1, 2].bar(
        x + 0.2,
        gen_features[:, voice_leading].mean(axis=0),
        0.4,
        label="generated",
        color="tab:red",
    )
    axes[1, 2].set(
        title="voice leading", xticks=x, xticklabels=["parallels/bar", "crossing", "leaps > octave"]
    )
    for axis in (axes[0, 0], axes[0, 1], axes[0, 2], axes[1, 2]):
        axis.legend()
    figure.tight_layout()
    with atomic_write(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot.close(figure)
    return path
