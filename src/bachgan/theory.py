"""Music theory on pitch classes and voice lines, shared by the metrics and the judges.

Pitch classes are integers 0-11 (C = 0). A *sonority* is the set of pitch classes sounding at
one moment, all voices together. Its class is one of

* ``complete``: every tone of a triad (major, minor, diminished, augmented: root, third and
  fifth, nothing else) or of a seventh chord (dominant, minor, half-diminished, diminished,
  major seventh), or the dominant seventh without its fifth, the tone Bach leaves out of it
  most often (a minor seventh without its fifth is not counted: its three tones are as often
  a triad with a passing or suspended note);
* ``consonant``: an incomplete chord that is part of a major or minor triad (one or two
  pitch classes a third, a fifth, a sixth or an octave apart);
* ``dissonant``: anything else (a second, a seventh or a tritone without a seventh chord
  around it, or tones of two chords at once).

Numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = [
    "CHORD_SHAPES",
    "COMPLETE",
    "CONSONANT",
    "DISSONANT",
    "SONORITY_CLASSES",
    "Chord",
    "identify_chord",
    "pitch_class_set",
    "root_motion",
    "sonority_class",
]

COMPLETE, CONSONANT, DISSONANT = "complete", "consonant", "dissonant"
SONORITY_CLASSES = (COMPLETE, CONSONANT, DISSONANT)

#: Chord qualities by their intervals above the root. The fifthless seventh comes last, so a
#: set that is also a whole chord is named by that chord.
CHORD_SHAPES: dict[str, tuple[int, ...]] = {
    "major": (0, 4, 7),
    "minor": (0, 3, 7),
    "diminished": (0, 3, 6),
    "augmented": (0, 4, 8),
    "dominant seventh": (0, 4, 7, 10),
    "minor seventh": (0, 3, 7, 10),
    "half-diminished seventh": (0, 3, 6, 10),
    "diminished seventh": (0, 3, 6, 9),
    "major seventh": (0, 4, 7, 11),
    "dominant seventh without fifth": (0, 4, 10),
}
#: Qualities whose root cannot be told from the pitch classes (every inversion looks alike).
_SYMMETRIC = ("augmented", "diminished seventh")
_CONSONANT_TRIADS = ("major", "minor")


@dataclass(frozen=True)
class Chord:
    """A complete chord: its root pitch class (``None`` for a symmetric chord) and quality."""

    root: int | None
    quality: str

    @property
    def is_triad(self) -> bool:
        return len(CHORD_SHAPES[self.quality]) == 3 and "seventh" not in self.quality


def pitch_class_set(pitches: np.ndarray) -> int:
    """The pitch classes of MIDI ``pitches`` (negative entries, rests, are left out) as a
    12-bit mask: bit ``k`` set when pitch class ``k`` sounds."""
    mask = 0
    for pitch in np.asarray(pitches).ravel():
        if pitch >= 0:
            mask |= 1 << (int(pitch) % 12)
    return mask


def identify_chord(mask: int) -> Chord | None:
    """The complete chord whose pitch classes are exactly ``mask``, or ``None``."""
    return _chords().get(mask)


def sonority_class(mask: int) -> str | None:
    """:data:`COMPLETE`, :data:`CONSONANT` or :data:`DISSONANT` for a pitch-class mask;
    ``None`` for silence."""
    if mask == 0:
        return None
    if mask in _chords():
        return COMPLETE
    return CONSONANT if mask in _consonant_subsets() else DISSONANT


def root_motion(from_root: int, to_root: int) -> str:
    """How a chord root moves: ``"fourth/fifth"``, ``"second"``, ``"third"``, ``"tritone"``
    or ``"none"`` (the same root)."""
    step = (to_root - from_root) % 12
    if step == 0:
        return "none"
    if step in (5, 7):
        return "fourth/fifth"
    if step in (1, 2, 10, 11):
        return "second"
    return "tritone" if step == 6 else "third"


def _mask(pitch_classes: tuple[int, ...], root: int) -> int:
    return sum(1 << ((root + interval) % 12) for interval in set(pitch_classes))


@cache
def _chords() -> dict[int, Chord]:
    chords: dict[int, Chord] = {}
    for quality, shape in CHORD_SHAPES.items():
        for root in range(12):
            mask = _mask(shape, root)
            if mask not in chords:  # the first reading wins (symmetric chords: any root)
                chords[mask] = Chord(None if quality in _SYMMETRIC else root, quality)
    return chords


@cache
def _consonant_subsets() -> frozenset[int]:
    subsets = set()
    for quality in _CONSONANT_TRIADS:
        for root in range(12):
            tones = [(root + i) % 12 for i in CHORD_SHAPES[quality]]
            for keep in range(1, 8):
                subsets.add(sum(1 << t for k, t in enumerate(tones) if keep >> k & 1))
    return frozenset(subsets)
