"""A faithful reimplementation of the seed article's music21 "midi2image", for comparison only.

It keeps the article's behaviour, including what we consider its faults: offsets taken from
``recurse()`` (relative to the measure, not the piece), only the first 100-column window per
instrument, a bare ``except`` around instrument partitioning, and the 106 x 106 resize.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

LOWEST, HIGHEST, WINDOW, RESOLUTION = 21, 127, 100, 0.25


def _get_notes(notes_to_parse) -> dict[str, list]:
    from music21 import chord, note

    durations, pitches, starts = [], [], []
    for element in notes_to_parse:
        if isinstance(element, note.Note):
            if element.isRest:
                continue
            starts.append(element.offset)
            pitches.append(element.pitch.midi)
            durations.append(element.duration.quarterLength)
        elif isinstance(element, chord.Chord):
            for chord_note in element.notes:
                starts.append(element.offset)
                durations.append(element.duration.quarterLength)
                pitches.append(chord_note.pitch.midi)
    return {"start": starts, "pitch": pitches, "dur": durations}


def seed_midi2image(midi_path: Path) -> dict[str, np.ndarray]:
    """The article's conversion: one (106, 100) uint8 matrix per instrument (first window)."""
    from music21 import converter, instrument

    song = converter.parse(str(midi_path))
    data = {}
    try:
        parts = instrument.partitionByInstrument(song)
        for index, part in enumerate(parts.parts):
            data[part.partName or f"instrument_{index}"] = _get_notes(part.recurse())
    except Exception:  # the article's bare except, kept on purpose
        data["instrument_0"] = _get_notes(song.flatten().notes)
    images = {}
    for name, values in data.items():
        matrix = np.zeros((HIGHEST - LOWEST, WINDOW), dtype=np.uint8)
        for pitch, duration, start in zip(
            values["pitch"], values["dur"], values["start"], strict=True
        ):
            begin, length = int(start / RESOLUTION), int(duration / RESOLUTION)
            if begin + length >= WINDOW:
                break
            matrix[pitch - LOWEST, begin : begin + length] = 255
        images[name] = matrix
    return images


def seed_resize(matrix: np.ndarray) -> np.ndarray:
    """The article's anti-aliased resize to 106 x 106."""
    return np.asarray(Image.fromarray(matrix).resize((106, 106), Image.LANCZOS))
