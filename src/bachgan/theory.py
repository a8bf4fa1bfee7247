"""Music theory on pitch classes, shared by the metrics, the judges, key normalisation, the
decoding and the model's losses: keys (Krumhansl-Schmuckler profiles, key signatures), scales,
chords.

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

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = [
    "CHORD_SHAPES",
    "COMPLETE",
    "CONSONANT",
    "DISSONANT",
    "HARMONIC_MINOR_SCALE",
    "KEY_NAMES",
    "MAJOR_SCALE",
    "SONORITY_CLASSES",
    "Chord",
    "identify_chord",
    "key_name",
    "key_of_histogram",
    "key_signature",
    "key_signature_of_histogram",
    "leaps_over_octave",
    "melody_key",
    "mode_in_signature",
    "parallel_perfect_moves",
    "parse_key",
    "parse_meter",
    "pitch_class_set",
    "pitch_class_weights",
    "root_motion",
    "scale_of_key",
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


_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
#: Every key's profile, standardised: rows 0-11 major on C..B, rows 12-23 minor.
_KEY_PROFILES = np.array(
    [
        (np.roll(profile, tonic) - profile.mean()) / profile.std()
        for profile in (_MAJOR_PROFILE, _MINOR_PROFILE)
        for tonic in range(12)
    ]
)
MAJOR_SCALE = np.array([0, 2, 4, 5, 7, 9, 11])
HARMONIC_MINOR_SCALE = np.array([0, 2, 3, 5, 7, 8, 11])


def key_of_histogram(histogram: np.ndarray) -> tuple[int, str]:
    """``(tonic, mode)`` whose Krumhansl-Schmuckler profile correlates best with a ``(12,)``
    pitch-class histogram (C major for an empty one or one without any correlation; the
    first of equally good keys, major before minor and lower tonics first)."""
    if not np.any(histogram) or np.ptp(histogram) == 0:
        return 0, "major"
    centred = (histogram - histogram.mean()) / histogram.std()
    scores = _KEY_PROFILES @ centred
    best = int(np.argmax(scores))
    return best % 12, ("major", "minor")[best // 12]


#: How firmly a melody's phrase-final notes point to a key, by scale degree (semitones above
#: the tonic): the tonic most, then the fifth and the third; other notes not at all.
_CADENCE_DEGREES = {"major": {0: 1.0, 7: 0.5, 4: 0.45}, "minor": {0: 1.0, 7: 0.5, 3: 0.45}}
#: The notes of a key a melody may use without leaving it: the major scale, or the minor with
#: both its sixths and sevenths (melodic and harmonic minor).
_MELODY_SCALES = {
    "major": MAJOR_SCALE,
    "minor": np.array([0, 2, 3, 5, 7, 8, 9, 10, 11]),
}
#: Weights of the four kinds of evidence in :func:`melody_key`.
_PROFILE_WEIGHT, _LAST_NOTE_WEIGHT, _PHRASE_END_WEIGHT, _OUTSIDE_WEIGHT = 1.0, 0.9, 0.5, 3.0


def melody_key(
    pitches: np.ndarray,
    starts: np.ndarray,
    durations: np.ndarray,
    phrase_ends: Sequence[int] = (),
) -> tuple[int, str]:
    """``(tonic, mode)`` of a melody, as a musician hears it: the key whose profile fits its
    duration-weighted pitch classes (Krumhansl-Schmuckler), in which its last note and the
    notes that end its phrases (those sounding at ``phrase_ends``, steps such as fermatas) are
    stable degrees (tonic, fifth, third) and few of its notes lie outside the scale.

    The profile alone hears a melody of a major key's tones as its relative minor or its
    dominant as often as not; a tune's ending settles it.
    """
    pitches, starts, durations = (
        np.asarray(a, dtype=np.int64) for a in (pitches, starts, durations)
    )
    if len(pitches) == 0:
        return 0, "major"
    classes = pitches % 12
    histogram = np.bincount(classes, weights=durations, minlength=12).astype(float)
    last = int(classes[np.lexsort((starts, starts + durations))[-1]])  # ends last
    ends = [int(classes[i]) for i in _notes_sounding_at(starts, durations, phrase_ends)]
    best, best_score = (0, "major"), -np.inf
    for index, profile in enumerate(_KEY_PROFILES):
        tonic, mode = index % 12, ("major", "minor")[index // 12]
        score = _key_score(histogram, profile, tonic, mode, last, ends)
        if score > best_score + 1e-9:
            best, best_score = (tonic, mode), score
    return best


def _key_score(
    histogram: np.ndarray, profile: np.ndarray, tonic: int, mode: str, last: int, ends: list[int]
) -> float:
    """How well one key explains a melody (:func:`melody_key`)."""
    spread = histogram.std()
    fit = profile @ ((histogram - histogram.mean()) / spread) / 12 if spread else 0.0
    stable = _CADENCE_DEGREES[mode]
    ending = stable.get((last - tonic) % 12, 0.0)
    phrases = np.mean([stable.get((end - tonic) % 12, 0.0) for end in ends]) if ends else 0.0
    inside = np.zeros(12, dtype=bool)
    inside[(tonic + _MELODY_SCALES[mode]) % 12] = True
    outside = histogram[~inside].sum() / histogram.sum()
    return (
        _PROFILE_WEIGHT * fit
        + _LAST_NOTE_WEIGHT * ending
        + _PHRASE_END_WEIGHT * phrases
        - _OUTSIDE_WEIGHT * outside
    )


def _notes_sounding_at(
    starts: np.ndarray, durations: np.ndarray, steps: Sequence[int]
) -> list[int]:
    """Indices of the notes that sound at each of ``steps`` (the one that started last)."""
    found = []
    for step in steps:
        sounding = np.flatnonzero((starts <= step) & (step < starts + durations))
        if len(sounding):
            found.append(int(sounding[np.argmax(starts[sounding])]))
    return found


def mode_in_signature(histogram: np.ndarray, fifths: int) -> str:
    """``"major"`` or ``"minor"``: which of the two keys of the key signature with ``fifths``
    (sharps positive, flats negative), its major key or its relative minor, a ``(12,)``
    pitch-class histogram correlates with better (Krumhansl-Schmuckler); major when tied or
    empty."""
    if not np.any(histogram):
        return "major"
    tonic = (7 * fifths) % 12
    major = np.corrcoef(histogram, np.roll(_MAJOR_PROFILE, tonic))[0, 1]
    minor = np.corrcoef(histogram, np.roll(_MINOR_PROFILE, (tonic + 9) % 12))[0, 1]
    return "minor" if np.isfinite(minor) and (not np.isfinite(major) or minor > major) else "major"


def scale_of_key(tonic: int, mode: str) -> np.ndarray:
    """The pitch classes :func:`in_key_ratio` counts as in the key: the major scale on
    ``tonic``, or its harmonic minor scale."""
    return (tonic + (MAJOR_SCALE if mode == "major" else HARMONIC_MINOR_SCALE)) % 12


def pitch_class_weights(weights: np.ndarray, lowest_pitch: int) -> np.ndarray:
    """``(12,)`` sums of ``weights`` (one per MIDI pitch from ``lowest_pitch`` up) by pitch
    class."""
    classes = (np.arange(len(weights)) + lowest_pitch) % 12
    return np.bincount(classes, weights=np.asarray(weights, dtype=float), minlength=12)


def key_signature_of_histogram(histogram: np.ndarray) -> int:
    """The key signature (sharps positive, flats negative, -6..5) whose major scale holds the
    most of a ``(12,)`` pitch-class histogram: the quick estimate that key normalisation uses
    for files without a key."""
    fits = [histogram[(MAJOR_SCALE + 7 * fifths) % 12].sum() for fifths in range(-6, 6)]
    return int(np.argmax(fits)) - 6


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


def parallel_perfect_moves(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """The one definition of parallel fifths and octaves that the metrics, the decoding and the
    model's loss share: between two consecutive steps, both voices sound at both steps, both
    change pitch, in the same direction, and the interval between them is a unison/octave or
    a fifth (modulo the octave) before and the same interval class after. A voice that rests
    in between breaks the motion. ``upper`` and ``lower`` are ``(T,)`` MIDI pitches per step,
    negative for silence; returns ``(T - 1,)`` bool."""
    sounding = (upper >= 0) & (lower >= 0)
    both = sounding[:-1] & sounding[1:]
    up_move, low_move = np.diff(upper), np.diff(lower)
    together = (up_move != 0) & (low_move != 0) & (np.sign(up_move) == np.sign(low_move))
    interval = (upper - lower) % 12
    perfect = (interval[:-1] == 0) | (interval[:-1] == 7)
    return both & together & perfect & (interval[:-1] == interval[1:])


def leaps_over_octave(line: np.ndarray) -> np.ndarray:
    """The one definition of a leap over an octave: between two consecutive steps, the voice
    sounds at both and its pitch moves by more than 12 semitones (a voice that rests in
    between breaks the line). ``line`` is ``(T,)`` MIDI pitches, negative for silence;
    returns ``(T - 1,)`` bool."""
    sounding = line >= 0
    return sounding[:-1] & sounding[1:] & (np.abs(np.diff(line)) > 12)


_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
#: The key signature (sharps positive, flats negative) of each major tonic, by name.
_MAJOR_FIFTHS = {
    "Cb": -7, "Gb": -6, "Db": -5, "Ab": -4, "Eb": -3, "Bb": -2, "F": -1, "C": 0,
    "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F#": 6, "C#": 7,
}  # fmt: skip


#: Every key :func:`parse_key` reads, as it is usually written: the major keys from seven flats
#: to seven sharps, then the minor keys.
KEY_NAMES = [f"{tonic} major" for tonic in _MAJOR_FIFTHS] + [
    f"{tonic} minor"
    for tonic in ("Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#")
]


def parse_key(text: str) -> tuple[int, str]:
    """``"D major"`` -> ``(2, "major")``, ``"F# minor"`` -> ``(3, "minor")``, ``"Bb"`` ->
    ``(-2, "major")``: the key signature (sharps positive) and the mode. Raises ValueError for
    anything else (a key with more than seven sharps or flats included)."""
    words = text.strip().split()
    if not 1 <= len(words) <= 2 or (len(words) == 2 and words[1].lower() not in ("major", "minor")):
        raise ValueError(f"a key looks like 'D major' or 'F# minor' (got {text!r})")
    tonic = words[0][:1].upper() + words[0][1:].replace("♯", "#").replace("♭", "b")
    mode = words[1].lower() if len(words) == 2 else "major"
    # A minor key has the signature of the major key a minor third above its tonic.
    relative = tonic if mode == "major" else _name_a_minor_third_up(tonic)
    if relative not in _MAJOR_FIFTHS:
        raise ValueError(f"no key signature for {text!r}; try its enharmonic spelling")
    return _MAJOR_FIFTHS[relative], mode


def key_signature(tonic: int, mode: str) -> int:
    """The key signature (sharps positive, -6..5, F sharp major as G flat) of the key on
    pitch class ``tonic`` in ``mode``: ``(2, "major")`` -> 2, ``(9, "minor")`` -> 0."""
    major_tonic = tonic if mode == "major" else (tonic + 3) % 12
    fifths = (7 * major_tonic) % 12  # 7 is its own inverse modulo 12
    return fifths - 12 if fifths > 5 else fifths


def key_name(fifths: int, mode: str) -> str:
    """``(2, "major")`` -> ``"D major"``, ``(-2, "minor")`` -> ``"G minor"``: the key of a
    signature, named as musicians spell it."""
    major = next(name for name, count in _MAJOR_FIFTHS.items() if count == fifths)
    return f"{major} major" if mode == "major" else f"{_minor_tonic(fifths)} minor"


def _minor_tonic(fifths: int) -> str:
    return next(
        name.split()[0]
        for name in KEY_NAMES
        if name.endswith("minor") and parse_key(name) == (fifths, "minor")
    )


def parse_meter(text: str) -> tuple[int, int]:
    """``"3/4"`` -> ``(3, 4)``: a time signature. Raises ValueError for anything else."""
    numerator, _, denominator = text.strip().partition("/")
    if not (_small_number(numerator) and _small_number(denominator)) or int(numerator) < 1:
        raise ValueError(f"a meter looks like 4/4 or 3/4 (got {text[:20]!r})")
    if int(denominator) not in (1, 2, 4, 8, 16, 32):
        raise ValueError(f"{text} has no note value on the bottom (2, 4, 8...)")
    return int(numerator), int(denominator)


def _small_number(text: str) -> bool:
    """Whether ``text`` is a whole number of one to three ASCII digits."""
    return 1 <= len(text) <= 3 and text.isascii() and text.isdecimal()


def _name_a_minor_third_up(tonic: str) -> str:
    """The spelling of the note a minor third above ``tonic`` (A -> C, F# -> A, Bb -> Db)."""
    if tonic[:1] not in _LETTERS or tonic[1:] not in ("", "#", "b"):
        return "?"
    letters = "CDEFGAB"
    letter = letters[(letters.index(tonic[0]) + 2) % 7]
    target = (_LETTERS[tonic[0]] + {"": 0, "#": 1, "b": -1}[tonic[1:]] + 3) % 12
    accidental = {0: "", 1: "#", -1: "b"}.get((target - _LETTERS[letter] + 6) % 12 - 6, "?")
    return letter + accidental
