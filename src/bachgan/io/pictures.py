"""Pictures of rolls: a coloured piano-roll PNG (matplotlib) and an RGB array for TensorBoard."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..roll import Roll
from .files import atomic_write

__all__ = ["NARROW", "VOICE_COLOURS", "WIDE", "RollLayout", "plot_roll", "roll_rgb"]

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


#: Space around and between the rows of a piano-roll picture, in inches at a 10-point font.
_MARGINS = {"left": 0.45, "right": 0.2, "top": 0.4, "bottom": 0.45, "between": 0.5}


@dataclass(frozen=True)
class RollLayout:
    """How a piano-roll picture is laid out: ``bars_per_row`` (longer pieces wrap, as a score
    does), at least ``min_width`` inches wide (1.6 inches a bar), text at ``font_size``
    points (margins grow with it), the pitch classes named on the axis (0 is C) and the
    legend's columns."""

    bars_per_row: int = 8
    min_width: float = 6.0
    font_size: float = 10.0
    named_pitches: tuple[int, ...] = (0, 4, 7)
    legend_columns: int = 4

    def margins(self, voices: int) -> dict[str, float]:
        """Space around and between the rows, in inches, for a legend of ``voices``."""
        scale = self.font_size / 10
        margins = {side: inches * scale for side, inches in _MARGINS.items()}
        margins["top"] *= -(-max(voices, 1) // self.legend_columns)
        return margins


#: For a laptop's page: eight bars a row, 12.8 inches (1280 pixels) wide.
WIDE = RollLayout()
#: For a phone's: four bars a row, with letters still legible when the picture is shrunk
#: to a phone's 360-400 pixels.
NARROW = RollLayout(bars_per_row=4, font_size=20, named_pitches=(0, 7), legend_columns=2)


def plot_roll(
    roll: Roll, path: str | os.PathLike, title: str = "", layout: RollLayout = WIDE
) -> Path:
    """Draw ``roll`` as a PNG: one colour per voice, bar lines, pitch names on the axis, rows
    of ``layout.bars_per_row`` bars, the voices' legend above the middle of the first row (a
    viewer puts its label on the left and its buttons on the right), ``title`` on the right."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.patches import Patch

    with pyplot.rc_context({"font.size": layout.font_size}):
        figure, axes = _figure(pyplot, roll, layout)
        notes = roll.notes()
        low = int(notes.pitch.min()) - 2 if len(notes) else 48
        high = int(notes.pitch.max()) + 2 if len(notes) else 84
        for row, row_axes in enumerate(axes[:, 0]):
            _draw_row(row_axes, roll, notes, row * layout.bars_per_row, (low, high), layout)
        names = enumerate(roll.track_names)
        handles = [Patch(color=_colour(t), label=name) for t, name in names]
        axes[0, 0].legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            fontsize="small",
            ncols=min(len(handles), layout.legend_columns),
            frameon=False,
        )
        if title:
            axes[0, 0].set_title(title, loc="right")
        with atomic_write(path) as temporary:
            figure.savefig(temporary, format="png")
    pyplot.close(figure)
    return Path(path)


def _figure(pyplot, roll: Roll, layout: RollLayout):
    """An empty figure with one row of axes for every ``layout.bars_per_row`` bars, margins
    set in inches for the pitch names, the legend and the bar numbers (as tight as
    matplotlib's tight_layout, which took a third of the drawing time)."""
    rows = max(1, -(-roll.n_bars // layout.bars_per_row))
    bars_shown = min(max(roll.n_bars, 1), layout.bars_per_row)
    width, height = max(layout.min_width, bars_shown * 1.6), 0.6 + 3.2 * rows
    figure, axes = pyplot.subplots(rows, 1, figsize=(width, height), dpi=100, squeeze=False)
    margins = layout.margins(roll.n_tracks)
    row_height = (height - margins["top"] - margins["bottom"]) / rows
    figure.subplots_adjust(
        left=margins["left"] / width,
        right=1 - margins["right"] / width,
        top=1 - margins["top"] / height,
        bottom=margins["bottom"] / height,
        hspace=margins["between"] / (row_height - margins["between"]),
    )
    return figure, axes


def _draw_row(
    axes, roll: Roll, notes, first_bar: int, pitches: tuple[int, int], layout: RollLayout
) -> None:
    """Bars ``first_bar`` to ``first_bar + layout.bars_per_row`` of ``roll`` on ``axes``."""
    from matplotlib.collections import PolyCollection

    start_step = first_bar * roll.steps_per_bar
    stop_step = start_step + layout.bars_per_row * roll.steps_per_bar
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
            axes.text(
                step + 0.5,
                high - 0.6,
                r"$\frown$",
                ha="center",
                va="top",
                fontsize=1.6 * layout.font_size,
            )
            axes.plot(step + 0.5, high - 1.6, marker=".", color="black")  # a fermata
    ticks = [p for p in range(low, high + 1) if p % 12 in layout.named_pitches]
    axes.set_yticks(ticks, [f"{_NOTE_NAMES[p % 12]}{p // 12 - 1}" for p in ticks])
    bar_starts = range(start_step, last_step + 1, roll.steps_per_bar)
    axes.set_xticks(bar_starts, [str(step // roll.steps_per_bar + 1) for step in bar_starts])
    axes.set_xlabel("bar")
    axes.grid(axis="y", color="0.92")
    axes.set_axisbelow(True)  # the grid behind the notes
