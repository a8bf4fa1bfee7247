"""Everything a person opens: MIDI, WAV and a piano-roll picture of one piece."""

from __future__ import annotations

import os
from pathlib import Path

from .audio import render_wav
from .midi import write_midi
from .plot import plot_roll
from .roll import Roll

__all__ = ["write_outputs"]


def write_outputs(
    roll: Roll,
    folder: str | os.PathLike,
    name: str,
    audio: bool = True,
    soundfont: str | os.PathLike | None = None,
) -> list[Path]:
    """Write ``folder/name.mid``, ``.png`` and (with ``audio``) ``.wav``; returns the paths."""
    folder = Path(folder)
    written = [write_midi(roll, folder / f"{name}.mid"), plot_roll(roll, folder / f"{name}.png")]
    if audio:
        written.append(render_wav(roll, folder / f"{name}.wav", soundfont))
    return written
