"""The evaluation report: ``report.json`` (every number), ``report.md`` (the tables) and
``report.png`` (the pictures), from an :class:`~bachgan.evaluation.evaluate.Evaluation`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..io.files import atomic_write, write_json
from ..roll import VOICE_NAMES, Roll
from .evaluate import Evaluation
from .harmony_profile import INTERVAL_BINS, interval_histograms
from .metrics import FEATURES, pitch_class_histogram

__all__ = ["summary_table", "write_report"]

_SIDES = (("reference", "0.4"), ("generated", "tab:red"), ("shuffled", "tab:blue"))
_JUDGE_NAMES = {
    "weak": "weak: logistic regression on the ten summary metrics",
    "tree": "tree: gradient-boosted trees on harmony, line and rhythm features",
    "cnn": "cnn: convolutional network on the piano roll",
}


def write_report(evaluation: Evaluation, folder: str | os.PathLike) -> list[Path]:
    """``report.json``, ``report.md`` and ``report.png`` in ``folder``."""
    folder = Path(folder)
    written = [write_json(evaluation.numbers, folder / "report.json")]
    written.append(_plot(evaluation, folder / "report.png"))
    with atomic_write(folder / "report.md") as temporary:
        temporary.write_text(summary_table(evaluation.numbers) + "\n\n![plots](report.png)\n")
    written.append(folder / "report.md")
    return written


def summary_table(numbers: dict) -> str:
    """The report as Markdown: judges, harmony, cadences, lines, summary metrics,
    originality."""
    windows = numbers["windows"]
    sections = [
        f"{windows['generated']} generated and {windows['reference']} reference windows of "
        f"{windows['bars']} bars",
        _judges_table(numbers.get("judges", {})),
        _harmony_table(numbers.get("harmony", {})),
        _cadence_table(numbers.get("cadences", {})),
        _interval_table(numbers.get("melodic_interval_js", {})),
        _metrics_table(numbers),
    ]
    if "originality" in numbers:
        sections.append(_originality_table(numbers["originality"]))
    return "\n\n".join(s for s in sections if s)


def _judges_table(judges: dict) -> str:
    if not judges:
        return ""
    lines = [
        "How often each judge tells the sets apart (balanced accuracy, mean ± sd over folds "
        "grouped by piece; 0.5 = never, 1.0 = always):",
        "",
        "| judge | generated vs reference | Bach vs Bach (floor) | shuffled-voice Bach |",
        "|---|---|---|---|",
    ]
    for name, rows in judges.items():
        cells = [f"{rows[k]['mean']:.3f} ± {rows[k]['sd']:.3f}" for k in rows]
        lines.append(f"| {_JUDGE_NAMES.get(name, name)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _harmony_table(harmony: dict) -> str:
    if not harmony:
        return ""
    lines = [
        "| harmony and lines | reference | generated | shuffled-voice Bach |",
        "|---|---|---|---|",
    ]
    for name, sides in harmony.items():
        lines.append(
            f"| {name} | {sides['reference']:.3f} | {sides['generated']:.3f} | "
            f"{sides['shuffled']:.3f} |"
        )
    return "\n".join(lines)


def _cadence_table(cadences: dict) -> str:
    if not cadences:
        return ""
    lines = ["| how pieces end (share of pieces) | reference | generated |", "|---|---|---|"]
    lines += [
        f"| final chord: {name} | {sides['reference']:.3f} | {sides['generated']:.3f} |"
        for name, sides in cadences.items()
    ]
    return "\n".join(lines)


def _interval_table(divergences: dict) -> str:
    if not divergences:
        return ""
    header = "| melodic intervals: Jensen-Shannon divergence from the reference (bits) | "
    return (
        header
        + " | ".join(divergences)
        + " |\n|---|"
        + "---|" * len(divergences)
        + "\n| | "
        + " | ".join(f"{v:.4f}" for v in divergences.values())
        + " |"
    )


def _metrics_table(numbers: dict) -> str:
    lines = [
        "| summary metric | reference | generated | weak judge on this metric alone |",
        "|---|---|---|---|",
    ]
    for name, pair in numbers["metrics"].items():
        lines.append(
            f"| {name} | {pair['reference']:.3f} | {pair['generated']:.3f} | "
            f"{pair['classifier_alone']:.3f} |"
        )
    lines += [
        f"| two-sample classifier accuracy, all metrics (the weak judge; 0.5 = "
        f"indistinguishable) | | {numbers['classifier_accuracy']:.3f} | |",
        f"| Fréchet distance of standardised features | | {numbers['frechet_distance']:.3f} | |",
        f"| pitch-class histogram Jensen-Shannon (bits) | | {numbers['pitch_class_js']:.4f} | |",
    ]
    return "\n".join(lines)


def _originality_table(o: dict) -> str:
    lines = ["| originality | reference | generated |", "|---|---|---|"]
    lines += [
        f"| bars found in the training data (any offset, any key) | "
        f"{_number(o['reference_copied_bar_fraction'])} | "
        f"{o['generated_copied_bar_fraction']:.3f} |",
        f"| longest run of copied bars | | {o['generated_longest_copied_run']} |",
        f"| distance to the nearest training window (share of cells) | "
        f"{_number(o['reference_nearest_window_distance'])} | "
        f"{_number(o['generated_nearest_window_distance'])} |",
    ]
    if "generated_longest_copied_voice_run" in o:
        lines.append(
            f"| longest run of bars in which a voice's line is copied | "
            f"{o.get('reference_longest_copied_voice_run', '')} | "
            f"{o['generated_longest_copied_voice_run']} |"
        )
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


# --------------------------------------------------------------------------- pictures
def _plot(evaluation: Evaluation, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(3, 4, figsize=(20, 12))
    windows = {
        "reference": evaluation.reference_windows,
        "generated": evaluation.generated_windows,
        "shuffled": evaluation.shuffled_windows,
    }
    _plot_distributions(axes[0], windows)
    _plot_harmony(axes[1], evaluation)
    _plot_intervals(axes[2], windows)
    figure.tight_layout()
    with atomic_write(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot.close(figure)
    return path


def _plot_distributions(row, windows: dict[str, list[Roll]]) -> None:
    for label, colour in _SIDES[:2]:
        rolls = windows[label]
        row[0].plot(
            np.mean([pitch_class_histogram(r) for r in rolls], axis=0),
            marker="o",
            label=label,
            color=colour,
        )
        durations = np.concatenate([r.notes().duration for r in rolls])
        row[1].hist(
            durations,
            bins=np.arange(1, 18) - 0.5,
            density=True,
            alpha=0.5,
            label=label,
            color=colour,
        )
        for voice in range(4):
            notes = [r.notes() for r in rolls]
            pitches = np.concatenate([n.select(n.track == voice).pitch for n in notes])
            if pitches.size:
                offset = -0.15 if label == "reference" else 0.15
                row[2].boxplot(
                    pitches,
                    positions=[voice + offset],
                    widths=0.25,
                    patch_artist=True,
                    boxprops={"facecolor": colour},
                )
    row[0].set(title="pitch classes (C = 0)", xticks=range(12))
    row[1].set(title="note durations (sixteenths)")
    row[2].set(title="pitch range per voice", xticks=range(4), xticklabels=VOICE_NAMES)
    for axis in row[:2]:
        axis.legend()
    _plot_voice_leading(row[3], windows)


def _plot_voice_leading(axis, windows: dict[str, list[Roll]]) -> None:
    from .metrics import piece_features

    names = list(FEATURES)
    picks = [names.index(n) for n in ("parallel_per_bar", "voice_crossing_rate")]
    x = np.arange(len(picks))
    for offset, (label, colour) in zip((-0.2, 0.2), _SIDES[:2], strict=True):
        values = np.array([piece_features(r) for r in windows[label]])[:, picks].mean(axis=0)
        axis.bar(x + offset, values, 0.4, label=label, color=colour)
    axis.set(title="voice leading", xticks=x, xticklabels=["parallels/bar", "crossing"])
    axis.legend()


def _plot_harmony(row, evaluation: Evaluation) -> None:
    numbers = evaluation.numbers
    harmony, cadences = numbers["harmony"], numbers["cadences"]
    groups = {
        "sonorities at eighths": [k for k in harmony if k.endswith("(share of eighths)")],
        "beats and phrases": [
            "dissonant sonorities on beats 1 and 3",
            "held chords per window",
            "bass moves by step",
            "bass leaps of 8-12 semitones",
        ],
        "lines (per window)": [
            "oscillations per window",
            "tritone leaps per window",
            "augmented seconds per window",
        ],
    }
    for axis, (title, keys) in zip(row[:3], groups.items(), strict=True):
        x = np.arange(len(keys))
        for offset, (label, colour) in zip((-0.27, 0, 0.27), _SIDES, strict=True):
            axis.bar(x + offset, [harmony[k][label] for k in keys], 0.27, label=label, color=colour)
        axis.set(title=title, xticks=x)
        axis.set_xticklabels([k.split(" (")[0] for k in keys], rotation=20, ha="right")
        axis.legend()
    keys = list(cadences)
    x = np.arange(len(keys))
    for offset, (label, colour) in zip((-0.2, 0.2), _SIDES[:2], strict=True):
        axis = row[3]
        axis.bar(x + offset, [cadences[k][label] for k in keys], 0.4, label=label, color=colour)
    row[3].set(title="how pieces end (share of pieces)", xticks=x, ylim=(0, 1))
    row[3].set_xticklabels(keys, rotation=20, ha="right")
    row[3].legend()


def _plot_intervals(row, windows: dict[str, list[Roll]]) -> None:
    histograms = {label: interval_histograms(windows[label]) for label, _ in _SIDES[:2]}
    for voice, axis in enumerate(row):
        for label, colour in _SIDES[:2]:
            counts = histograms[label][voice]
            axis.plot(
                INTERVAL_BINS, counts / max(counts.sum(), 1), marker=".", label=label, color=colour
            )
        axis.set(title=f"{VOICE_NAMES[voice]}: melodic intervals (semitones)")
        axis.legend()
