"""A few well-known public-domain melodies to harmonize, written as text and drawn as rolls.

A melody is a string of notes such as ``"F#4/1 G4/1 A4/2 R/1"``: a pitch name with its octave
(or ``R`` for a rest), then its length in quarter notes. Numpy only.
"""

from __future__ import annotations

import re

import numpy as np

from ..roll import Notes, Roll, roll_from_notes

__all__ = ["EXAMPLE_MELODIES", "example_melody", "parse_melody"]

#: Name -> (melody text, tempo in quarter notes per minute, time signature).
EXAMPLE_MELODIES: dict[str, tuple[str, float, tuple[int, int]]] = {
    "Ode to Joy (Beethoven)": (
        "F#4/1 F#4/1 G4/1 A4/1 A4/1 G4/1 F#4/1 E4/1 D4/1 D4/1 E4/1 F#4/1 F#4/1.5 E4/0.5 E4/2 "
        "F#4/1 F#4/1 G4/1 A4/1 A4/1 G4/1 F#4/1 E4/1 D4/1 D4/1 E4/1 F#4/1 E4/1.5 D4/0.5 D4/2",
        96.0,
        (4, 4),
    ),
    "Twinkle, Twinkle, Little Star": (
        "C5/1 C5/1 G5/1 G5/1 A5/1 A5/1 G5/2 F5/1 F5/1 E5/1 E5/1 D5/1 D5/1 C5/2 "
        "G5/1 G5/1 F5/1 F5/1 E5/1 E5/1 D5/2 G5/1 G5/1 F5/1 F5/1 E5/1 E5/1 D5/2 "
        "C5/1 C5/1 G5/1 G5/1 A5/1 A5/1 G5/2 F5/1 F5/1 E5/1 E5/1 D5/1 D5/1 C5/2",
        90.0,
        (4, 4),
    ),
    "Frère Jacques": (
        "G4/1 A4/1 B4/1 G4/1 G4/1 A4/1 B4/1 G4/1 B4/1 C5/1 D5/2 B4/1 C5/1 D5/2 "
        "D5/0.5 E5/0.5 D5/0.5 C5/0.5 B4/1 G4/1 D5/0.5 E5/0.5 D5/0.5 C5/0.5 B4/1 G4/1 "
        "G4/1 D4/1 G4/2 G4/1 D4/1 G4/2",
        100.0,
        (4, 4),
    ),
    "God Save the King (3/4)": (
        "G4/1 G4/1 A4/1 F#4/1.5 G4/0.5 A4/1 B4/1 B4/1 C5/1 B4/1.5 A4/0.5 G4/1 "
        "A4/1 G4/1 F#4/1 G4/3 D5/1 D5/1 D5/1 D5/1.5 C5/0.5 B4/1 C5/1 C5/1 C5/1 "
        "C5/1.5 B4/0.5 A4/1 B4/1 C5/0.5 B4/0.5 A4/0.5 G4/0.5 B4/1.5 C5/0.5 D5/1 "
        "E5/0.5 C5/0.5 B4/1 A4/1 G4/3",
        80.0,
        (3, 4),
    ),
}

_NOTE = re.compile(
    r"^(?:(?P<rest>R)|(?P<letter>[A-G])(?P<accidental>[#b]?)(?P<octave>-?\d))/"
    r"(?P<length>\d+(?:\.\d+)?)$"
)
_LETTER_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def parse_melody(
    text: str,
    tempo_bpm: float = 90.0,
    resolution: int = 4,
    time_signature: tuple[int, int] = (4, 4),
) -> Roll:
    """A one-track roll of the melody ``text`` (see the module docstring) in
    ``time_signature``, its first note on a downbeat, ``resolution`` steps per quarter note.
    Raises ``ValueError`` for a token it cannot read or a length that is not a whole number
    of steps."""
    pitches, starts, durations = [], [], []
    time = 0
    for token in text.split():
        match = _NOTE.match(token)
        steps = float(match["length"]) * resolution if match else 0.0
        if not match or steps != int(steps) or steps <= 0:
            raise ValueError(f"cannot read the note {token!r}")
        if not match["rest"]:
            pitches.append(_midi_pitch(match["letter"], match["accidental"], int(match["octave"])))
            starts.append(time)
            durations.append(int(steps))
        time += int(steps)
    notes = Notes(
        np.zeros(len(pitches), dtype=np.int64),
        np.array(pitches, dtype=np.int64),
        np.array(starts, dtype=np.int64),
        np.array(durations, dtype=np.int64),
    )
    roll, _ = roll_from_notes(
        notes,
        1,
        resolution=resolution,
        tempo_bpm=tempo_bpm,
        track_names=("Melody",),
        time_signature=time_signature,
    )
    return roll


def example_melody(name: str) -> Roll:
    """One of :data:`EXAMPLE_MELODIES` as a roll."""
    text, tempo, time_signature = EXAMPLE_MELODIES[name]
    return parse_melody(text, tempo, time_signature=time_signature)


def _midi_pitch(letter: str, accidental: str, octave: int) -> int:
    shift = {"#": 1, "b": -1}.get(accidental, 0)
    return 12 * (octave + 1) + _LETTER_PITCH[letter] + shift
