"""Harmony, cadence and line metrics of four-voice pieces: what a musician hears first.

Definitions (voices are tracks, soprano first, bass last; a roll's voices are single lines):

* sonorities are read at every eighth note (see :mod:`bachgan.theory` for their classes);
  ``strong`` ones on beats 1 and 3 of a 4/4 bar (the downbeat, and the half bar when the
  metre has an even number of beats);
* a ``held chord`` is a moment where all four voices strike together and none moves for at
  least a half note: where a phrase closes;
* ``root motion``: between successive different complete chords with a root, at eighths;
* a voice's melodic intervals join its consecutive notes (rests are skipped); a ``repeat`` is
  an interval of 0; an ``oscillation`` is a maximal run of at least six notes alternating
  between two pitches (a-b-a-b-a-b); an ``augmented second`` is a leap between the sixth and
  the raised seventh degree of a minor key;
* ``bass step share``: among bass intervals that change pitch, those of one or two semitones;
* cadences, per piece: the last sounding chord is a ``root-position triad`` (major or minor,
  the bass on its root), it is the ``tonic`` of the piece's key (:func:`tonic_of`), and the
  bass ``falls a fifth`` (or rises a fourth) into it from its last other note; and openings:
  the first chord in which all four voices sound is the tonic's (:func:`opens_on_tonic`).

Numpy only, no torch. Counts are summed over pieces before shares are taken.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np

from ..roll import Roll
from ..theory import (
    COMPLETE,
    CONSONANT,
    DISSONANT,
    identify_chord,
    mode_in_signature,
    pitch_class_set,
    root_motion,
    sonority_class,
)
from .metrics import best_key, jensen_shannon, pitch_class_histogram, voice_lines

__all__ = [
    "INTERVAL_BINS",
    "NOTE_VALUES",
    "ROOT_MOTIONS",
    "cadence",
    "cadence_profile",
    "harmony_counts",
    "harmony_profile",
    "interval_divergences",
    "interval_histograms",
    "melodic_intervals",
    "note_value",
    "sonorities",
    "tonic_of",
]

#: Melodic intervals counted one by one, in semitones; larger ones share the end bins.
INTERVAL_BINS = np.arange(-12, 13)
NOTE_VALUES = (
    "sixteenth",
    "eighth",
    "dotted eighth",
    "quarter",
    "dotted quarter",
    "half",
    "longer",
    "other",
)
ROOT_MOTIONS = ("fourth/fifth", "second", "third", "tritone")
_QUARTERS = {0.25: 0, 0.5: 1, 0.75: 2, 1.0: 3, 1.5: 4, 2.0: 5}
_OSCILLATION_NOTES = 6


def sonorities(roll: Roll) -> tuple[np.ndarray, np.ndarray]:
    """Pitch-class masks at every eighth note and whether each eighth is a strong beat."""
    lines = voice_lines(roll)
    eighth = max(roll.resolution // 2, 1)
    steps = np.arange(0, roll.n_steps, eighth)
    masks = np.array([pitch_class_set(lines[:, t]) for t in steps], dtype=np.int64)
    bar, beat = roll.steps_per_bar, roll.resolution
    in_bar = steps % bar
    beats = roll.time_signature[0]
    strong = (in_bar == 0) | ((beats % 2 == 0) & (in_bar == (beats // 2) * beat))
    return masks, strong


def melodic_intervals(roll: Roll, voice: int) -> np.ndarray:
    """The intervals in semitones between consecutive notes of one voice (rests skipped)."""
    notes = roll.notes()
    mine = notes.select(notes.track == voice)
    return np.diff(mine.pitch[np.argsort(mine.start, kind="stable")])


def note_value(steps: int, resolution: int) -> str:
    """The name of a note's value among :data:`NOTE_VALUES`."""
    quarters = steps / resolution
    if quarters > 2:
        return "longer"
    index = _QUARTERS.get(quarters)
    return "other" if index is None else NOTE_VALUES[index]


def harmony_counts(roll: Roll) -> Counter:
    """The raw counts behind :func:`harmony_profile` for one piece or window."""
    counts: Counter = Counter(windows=1)
    _count_sonorities(roll, counts)
    _count_held_chords(roll, counts)
    _count_lines(roll, counts)
    return counts


def _count_sonorities(roll: Roll, counts: Counter) -> None:
    masks, strong = sonorities(roll)
    previous_root = None
    for mask, is_strong in zip(masks, strong, strict=True):
        kind = sonority_class(int(mask))
        if kind is None:
            continue
        counts["eighths"] += 1
        counts[f"eighths {kind}"] += 1
        if is_strong:
            counts["strong"] += 1
            counts[f"strong {kind}"] += 1
        chord = identify_chord(int(mask)) if kind == COMPLETE else None
        if chord is not None and chord.root is not None:
            if previous_root is not None and chord.root != previous_root:
                counts["root moves"] += 1
                counts[f"root {root_motion(previous_root, chord.root)}"] += 1
            previous_root = chord.root


def _count_held_chords(roll: Roll, counts: Counter) -> None:
    if roll.n_tracks < 2:
        return
    lines = voice_lines(roll)
    struck = roll.onsets.any(axis=2).all(axis=0) & (lines >= 0).all(axis=0)
    half = 2 * roll.resolution
    for start in np.flatnonzero(struck):
        span = lines[:, start : start + half]
        fresh = roll.onsets[:, start + 1 : start + half].any()
        if span.shape[1] == half and (span == span[:, :1]).all() and not fresh:
            counts["held chords"] += 1


def _count_lines(roll: Roll, counts: Counter) -> None:
    notes = roll.notes()
    tonic, mode = best_key(roll)
    for voice in range(roll.n_tracks):
        mine = notes.select(notes.track == voice)
        order = np.argsort(mine.start, kind="stable")
        pitches = mine.pitch[order]
        intervals = np.diff(pitches)
        counts[f"moves {voice}"] += intervals.size
        counts[f"repeats {voice}"] += int((intervals == 0).sum())
        counts["tritone leaps"] += int((np.abs(intervals) == 6).sum())
        counts["oscillations"] += _oscillations(pitches)
        if mode == "minor":
            counts["augmented seconds"] += _augmented_seconds(pitches, tonic)
        for duration in mine.duration:
            counts[f"value {note_value(int(duration), roll.resolution)}"] += 1
        counts["notes"] += len(mine)
    bass = melodic_intervals(roll, roll.n_tracks - 1)
    changes = bass[bass != 0]
    counts["bass changes"] += changes.size
    counts["bass steps"] += int((np.abs(changes) <= 2).sum())
    counts["bass leaps 8-12"] += int(((np.abs(changes) >= 8) & (np.abs(changes) <= 12)).sum())


def _oscillations(pitches: np.ndarray) -> int:
    """Maximal runs of at least six notes that alternate between two pitches."""
    runs, length = 0, 1
    for index in range(1, len(pitches)):
        alternating = pitches[index] != pitches[index - 1] and (
            length == 1 or pitches[index] == pitches[index - 2]
        )
        if alternating:
            length += 1
        else:
            runs += length >= _OSCILLATION_NOTES
            length = 2 if pitches[index] != pitches[index - 1] else 1
    return runs + (length >= _OSCILLATION_NOTES)


def _augmented_seconds(pitches: np.ndarray, tonic: int) -> int:
    sixth, seventh = (tonic + 8) % 12, (tonic + 11) % 12
    pairs = itertools.pairwise(pitches)
    return sum(
        abs(int(b) - int(a)) == 3 and {int(a) % 12, int(b) % 12} == {sixth, seventh}
        for a, b in pairs
    )


def harmony_profile(rolls: list[Roll]) -> dict[str, float]:
    """Shares and rates over ``rolls`` (usually windows of equal length): sonority classes at
    eighths and on strong beats, held chords, root motion, repeats, oscillations, leaps, note
    values and the bass's steps."""
    counts: Counter = sum((harmony_counts(r) for r in rolls), Counter())
    windows = max(counts["windows"], 1)
    profile = {
        f"{kind} sonorities (share of eighths)": _share(counts, f"eighths {kind}", "eighths")
        for kind in (COMPLETE, CONSONANT, DISSONANT)
    }
    profile["dissonant sonorities on beats 1 and 3"] = _share(
        counts, f"strong {DISSONANT}", "strong"
    )
    profile["held chords per window"] = counts["held chords"] / windows
    for motion in ROOT_MOTIONS:
        profile[f"root motion by {motion}"] = _share(counts, f"root {motion}", "root moves")
    voices = sorted(int(k.split()[1]) for k in counts if k.startswith("moves "))
    for voice in voices:
        profile[f"repeated notes, voice {voice + 1}"] = _share(
            counts, f"repeats {voice}", f"moves {voice}"
        )
    for name in ("oscillations", "tritone leaps", "augmented seconds"):
        profile[f"{name} per window"] = counts[name] / windows
    profile["bass moves by step"] = _share(counts, "bass steps", "bass changes")
    profile["bass leaps of 8-12 semitones"] = _share(counts, "bass leaps 8-12", "bass changes")
    for value in NOTE_VALUES:
        profile[f"{value} notes"] = _share(counts, f"value {value}", "notes")
    return profile


def _share(counts: Counter, part: str, whole: str) -> float:
    return counts[part] / counts[whole] if counts[whole] else 0.0


def interval_histograms(rolls: list[Roll]) -> np.ndarray:
    """``(voices, len(INTERVAL_BINS))`` counts of each voice's melodic intervals, clipped to
    an octave either way."""
    n_voices = max((r.n_tracks for r in rolls), default=0)
    histograms = np.zeros((n_voices, INTERVAL_BINS.size))
    for roll in rolls:
        for voice in range(roll.n_tracks):
            clipped = np.clip(melodic_intervals(roll, voice), -12, 12) + 12
            histograms[voice] += np.bincount(clipped, minlength=INTERVAL_BINS.size)
    return histograms


def interval_divergences(generated: list[Roll], reference: list[Roll]) -> list[float]:
    """Per voice, the Jensen-Shannon divergence (bits) of the two sides' melodic intervals."""
    ours, theirs = interval_histograms(generated), interval_histograms(reference)
    return [jensen_shannon(a + 1e-9, b + 1e-9) for a, b in zip(ours, theirs, strict=False)]


def cadence(roll: Roll) -> dict[str, bool]:
    """How a whole piece ends (see the module docstring)."""
    lines = voice_lines(roll)
    sounding = np.flatnonzero((lines >= 0).any(axis=0))
    ending = {"root-position triad": False, "tonic": False, "bass falls a fifth": False}
    if sounding.size == 0:
        return ending
    last = lines[:, sounding[-1]]
    chord = identify_chord(pitch_class_set(last))
    bass = last[-1]
    if chord is not None and chord.quality in ("major", "minor") and bass >= 0:
        ending["root-position triad"] = bool(bass % 12 == chord.root)
        ending["tonic"] = bool(chord.root == tonic_of(roll))
    bass_notes = roll.notes().select(roll.notes().track == roll.n_tracks - 1)
    pitches = bass_notes.pitch[np.argsort(bass_notes.start, kind="stable")]
    earlier = np.flatnonzero(pitches != bass) if bass >= 0 else np.zeros(0, dtype=int)
    if earlier.size:
        ending["bass falls a fifth"] = bool((int(bass) - int(pitches[earlier[-1]])) % 12 == 5)
    return ending


def opens_on_tonic(roll: Roll) -> bool:
    """Whether the first chord that all the voices sing is a chord of the piece's tonic
    (:func:`tonic_of`), in any position; a piece whose voices never sound together opens on
    nothing."""
    lines = voice_lines(roll)
    together = np.flatnonzero((lines >= 0).all(axis=0))
    if together.size == 0:
        return False
    chord = identify_chord(pitch_class_set(lines[:, together[0]]))
    return chord is not None and chord.root == tonic_of(roll)


def tonic_of(roll: Roll) -> int:
    """The tonic pitch class of a piece: with a key signature, its major key or its relative
    minor, whichever the notes fit better (:func:`~bachgan.theory.mode_in_signature`);
    without one, the Krumhansl-Schmuckler key of all its notes."""
    if roll.key_fifths is None:
        return best_key(roll)[0]
    minor = mode_in_signature(pitch_class_histogram(roll), roll.key_fifths) == "minor"
    return (7 * roll.key_fifths + (9 if minor else 0)) % 12


def cadence_profile(rolls: list[Roll]) -> dict[str, float]:
    """The share of pieces ending each way of :func:`cadence`, on a root-position tonic
    triad, and opening on the tonic (:func:`opens_on_tonic`)."""
    endings = [cadence(r) for r in rolls]
    if not endings:
        return {}
    shares = {name: float(np.mean([e[name] for e in endings])) for name in endings[0]}
    shares["root-position tonic triad"] = float(
        np.mean([e["root-position triad"] and e["tonic"] for e in endings])
    )
    shares["opens on the tonic"] = float(np.mean([opens_on_tonic(r) for r in rolls]))
    return shares
