"""Everything a person opens: MIDI, MusicXML, WAV and a piano-roll picture of one piece."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .audio import render_audio, write_wav
from .image import image_to_roll, read_png, write_png
from .midi import write_midi
from .musicxml import write_musicxml
from .plot import plot_roll
from .roll import Roll

__all__ = ["write_outputs", "write_seed_composition"]


def write_outputs(
    roll: Roll,
    folder: str | os.PathLike,
    name: str,
    audio: bool = True,
    soundfont: str | os.PathLike | None = None,
) -> list[Path]:
    """Write ``folder/name.mid``, ``.musicxml``, ``.png`` and (with ``audio``) ``.wav``;
    returns the paths.

    All or nothing: the audio is rendered before any file is written, and if one file
    cannot be written the others of the piece are removed again.
    """
    folder = Path(folder)
    samples = render_audio(roll, soundfont) if audio else None
    written: list[Path] = []
    try:
        written.append(write_midi(roll, folder / f"{name}.mid"))
        written.append(write_musicxml(roll, folder / f"{name}.musicxml"))
        written.append(plot_roll(roll, folder / f"{name}.png"))
        if samples is not None:
            written.append(write_wav(samples, folder / f"{name}.wav"))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written


def write_seed_composition(
    image: np.ndarray, folder: str | os.PathLike, name: str, tempo_bpm: float = 100.0
) -> list[Path]:
    """The seed article's outputs: ``name.png`` (the 106 x 106 image) and ``name.mid``, read
    back from that image as the article's image2midi does."""
    folder = Path(folder)
    png = write_png(image, folder / f"{name}.png")
    midi = write_midi(image_to_roll(read_png(png), tempo_bpm), folder / f"{name}.mid")
    return [png, midi]
