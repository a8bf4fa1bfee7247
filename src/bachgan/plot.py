"""Pictures of rolls: a coloured piano-roll PNG (matplotlib) and an RGB array for TensorBoard."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .files import atomic_write
from .roll import Roll

__all__ = ["VOICE_COLOURS", "plot_roll", "roll_rgb"]

#: One colour per voice (soprano red, alto orange, tenor green, bass blue), RGB in 0..1.
VOICE_COLOURS = np.array(
    [[0.84, 0.15, 0.16], [1.0, 0.5, 0.05], [0.17, 0.63, 0.17], [0.12, 0.47, 0.71]]
)
_NOTE_NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")


def _colour(track: int) -> np.ndarray:
    return VOICE_COLOURS[track % len(VOICE_COLOURS)]


def roll_rgb(roll: Roll) -> np.ndarray:
    """``(3, pitches, steps)`` float image of the used pitch span, highest pitch on top."""
    used = np.flatnonzero(roll.sounding.any(axis=(0, 1)))
    low, high = (used[0], used[-1]) if used.size else (0, roll.n_pitches - 1)
    image = np.ones((3, high - low + 1, roll.n_steps))
    for track in range(roll.n_tracks):
        cells = roll.sounding[track, :, low : high + 1].T[::-1]
        image[:, cells] = _colour(track)[:, None]
    return image


#: Space around and between the rows of a piano-roll picture, in inches.
_MARGINS = {"left": 0.45, "right": 0.2, "top": 0.4, "bottom": 0.45, "between": 0.5}

#: Bars per row of a piano-roll picture: longer pieces wrap, as a score does, so that 16 bars
#: stay readable at page width.
BARS_PER_ROW = 8


def plot_roll(roll: Roll, path: str | os.PathLike, title: str = "") -> Path:
    """Draw ``roll`` as a PNG: one colour per voice, bar lines, pitch names on the axis, rows
    of :data:`BARS_PER_ROW` bars, the voices' legend above the middle of the first row (a
    viewer puts its label on the left and its buttons on the right), ``title`` on the right."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.patches import Patch

    rows = max(1, -(-roll.n_bars // BARS_PER_ROW))
    bars_shown = min(max(roll.n_bars, 1), BARS_PER_ROW)
    width, height = max(6.0, bars_shown * 1.6), 0.6 + 3.2 * rows
    figure, axes = pyplot.subplots(rows, 1, figsize=(width, height), dpi=100, squeeze=False)
    # Margins in inches, for the pitch names, the legend and the bar numbers: as tight as
    # matplotlib's tight_layout, which took a third of the drawing time.
    row_height = (height - _MARGINS["top"] - _MARGINS["bottom"]) / rows
    figure.subplots_adjust(
        left=_MARGINS["left"] / width,
        right=1 - _MARGINS["right"] / width,
        top=1 - _MARGINS["top"] / height,
        bottom=_MARGINS["bottom"] / height,
        hspace=_MARGINS["between"] / (row_height - _MARGINS["between"]),
    )
    notes = roll.notes()
    low = int(notes.pitch.min()) - 2 if len(notes) else 48
    high = int(notes.pitch.max()) + 2 if len(notes) else 84
    for row, row_axes in enumerate(axes[:, 0]):
        first_bar = row * BARS_PER_ROW
        _draw_row(row_axes, roll, notes, first_bar, (low, high))
    handles = [Patch(color=_colour(t), label=name) for t, name in enumerate(roll.track_names)]
    axes[0, 0].legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        fontsize="small",
        ncols=len(handles),
        frameon=False,
    )
    if title:
        axes[0, 0].set_title(title, loc="right")
    with atomic_write(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot.close(figure)
    return Path(path)


def _draw_row(axes, roll: Roll, notes, first_bar: int, pitches: tuple[int, int]) -> None:
    """Bars ``first_bar`` to ``first_bar + BARS_PER_ROW`` of ``roll`` on ``axes``."""
    from matplotlib.collections import PolyCollection

    start_step = first_bar * roll.steps_per_bar
    stop_step = start_step + BARS_PER_ROW * roll.steps_per_bar
    shown = (notes.start + notes.duration > start_step) & (notes.start < stop_step)
    left, right = notes.start[shown], notes.start[shown] + notes.duration[shown] - 0.15
    bottom, top = notes.pitch[shown] - 0.4, notes.pitch[shown] + 0.4
    corners = np.stack(
        [
            np.stack(pair, axis=1)
            for pair in ((left, bottom), (right, bottom), (right, top), (left, top))
        ],
        axis=1,
    )  # one rectangle per note, drawn as one collection
    colours = [_colour(int(track)) for track in notes.track[shown]]
    axes.add_collection(PolyCollection(corners, facecolors=colours, linewidths=0))
    low, high = pitches
    axes.set_xlim(start_step, start_step + min(roll.n_steps, stop_step - start_step))
    axes.set_ylim(low, high)
    last_step = min(roll.n_steps, stop_step)
    for bar in range(start_step, last_step + 1, roll.steps_per_bar):
        axes.axvline(bar, color="0.6", linewidth=0.8)
    for step in roll.fermatas:
        if start_step <= step < stop_step:
            axes.text(step + 0.5, high - 0.6, r"$\frown$", ha="center", va="top", fontsize=16)
            axes.plot(step + 0.5, high - 1.6, marker=".", color="black")  # a fermata
    ticks = [p for p in range(low, high + 1) if p % 12 in (0, 4, 7)]
    axes.set_yticks(ticks, [f"{_NOTE_NAMES[p % 12]}{p // 12 - 1}" for p in ticks])
    bar_starts = range(start_step, last_step + 1, roll.steps_per_bar)
    axes.set_xticks(bar_starts, [str(step // roll.steps_per_bar + 1) for step in bar_starts])
    axes.set_xlabel("bar")
    axes.grid(axis="y", color="0.92")
    axes.set_axisbelow(True)  # the grid behind the notes
