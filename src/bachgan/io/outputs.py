"""Everything a person opens: MIDI, MusicXML, WAV and a piano-roll picture of one piece."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..roll import Roll
from .audio import render_audio, write_wav
from .files import atomic_file_set
from .images import image_to_roll, read_png, write_png
from .midi import to_score, write_midi
from .musicxml_writer import write_musicxml
from .pictures import plot_roll

__all__ = ["pieces_in_the_way", "write_outputs", "write_seed_composition"]


def write_outputs(
    roll: Roll,
    folder: str | os.PathLike,
    name: str,
    audio: bool = True,
    soundfont: str | os.PathLike | None = None,
) -> list[Path]:
    """Write ``folder/name.mid``, ``.musicxml``, ``.png`` and (with ``audio``) ``.wav``;
    returns the paths.

    All or nothing, even when the process is killed: the files are written into a hidden
    staging folder and appear together (:func:`~bachgan.io.files.atomic_file_set`).
    """
    folder = Path(folder)
    samples = render_audio(roll, soundfont) if audio else None
    with atomic_file_set(folder) as staging:
        written = [
            write_midi(roll, staging / f"{name}.mid"),
            write_musicxml(roll, staging / f"{name}.musicxml"),
            plot_roll(roll, staging / f"{name}.png"),
        ]
        if samples is not None:
            written.append(write_wav(samples, staging / f"{name}.wav"))
    return [folder / path.name for path in written]


def pieces_in_the_way(rolls: dict[str, Roll], folder: str | os.PathLike) -> list[Path]:
    """The MIDI files (or, without one, any file of the piece) in ``folder`` that hold
    another piece than ``rolls`` (name -> roll) would be written as; rewriting the same
    piece is not in the way."""
    folder = Path(folder)
    found = []
    for name, roll in rolls.items():
        midi = folder / f"{name}.mid"
        if midi.exists():
            if midi.read_bytes() != to_score(roll).dumps_midi():
                found.append(midi)
            continue
        found += [path for path in sorted(folder.glob(f"{name}.*")) if path.suffix in _SUFFIXES]
    return found


#: The suffixes of a piece's files.
_SUFFIXES = (".mid", ".musicxml", ".png", ".wav")


def write_seed_composition(
    image: np.ndarray, folder: str | os.PathLike, name: str, tempo_bpm: float = 100.0
) -> list[Path]:
    """The seed article's outputs: ``name.png`` (the 106 x 106 image) and ``name.mid``, read
    back from that image as the article's image2midi does."""
    folder = Path(folder)
    png = write_png(image, folder / f"{name}.png")
    midi = write_midi(image_to_roll(read_png(png), tempo_bpm), folder / f"{name}.mid")
    return [png, midi]
