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


def plot_roll(roll: Roll, path: str | os.PathLike, title: str = "") -> Path:
    """Draw ``roll`` as a PNG: one colour per voice, bar lines, pitch names on the axis."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.patches import Patch, Rectangle

    notes = roll.notes()
    figure, axes = pyplot.subplots(figsize=(max(6.0, roll.n_steps / 10), 4.5), dpi=100)
    for track, pitch, start, duration in zip(
        notes.track, notes.pitch, notes.start, notes.duration, strict=True
    ):
        axes.add_patch(
            Rectangle(
                (start, pitch - 0.4), duration - 0.15, 0.8, color=_colour(int(track)), linewidth=0
            )
        )
    low = int(notes.pitch.min()) - 2 if len(notes) else 48
    high = int(notes.pitch.max()) + 2 if len(notes) else 84
    axes.set_xlim(0, roll.n_steps)
    axes.set_ylim(low, high)
    for bar in range(0, roll.n_steps + 1, roll.steps_per_bar):
        axes.axvline(bar, color="0.6", linewidth=0.8)
    ticks = [p for p in range(low, high + 1) if p % 12 in (0, 4, 7)]
    axes.set_yticks(ticks, [f"{_NOTE_NAMES[p % 12]}{p // 12 - 1}" for p in ticks])
    axes.set_xticks(
        range(0, roll.n_steps + 1, roll.steps_per_bar), [str(i + 1) for i in range(roll.n_bars + 1)]
    )
    axes.set_xlabel("bar")
    axes.grid(axis="y", color="0.92")
    handles = [Patch(color=_colour(t), label=name) for t, name in enumerate(roll.track_names)]
    axes.legend(handles=handles, loc="upper right", fontsize="small", ncols=len(handles))
    if title:
        axes.set_title(title)
    figure.tight_layout()
    with atomic_write(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot.close(figure)
    return Path(path)
