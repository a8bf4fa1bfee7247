"""Notated scores read with music21: MusicXML and the music21 corpus into a :class:`Roll`
(rolls are written as MusicXML by :mod:`bachgan.io.musicxml_writer`).

Scores know what MIDI files do not: where the pickup bar is, which part is which voice, and
the key and the fermatas. A pickup is padded with rests so that its downbeat falls on a bar
line.
"""

from __future__ import annotations

import os
from dataclasses import replace
from fractions import Fraction

import numpy as np

from ..errors import SkipFile
from ..limits import check_roll_size
from ..roll import (
    DEFAULT_PITCH_RANGE,
    VOICE_NAMES,
    Conversion,
    Notes,
    roll_from_notes,
)
from .score_bytes import ScoreData, parse_musicxml, read_score_data

__all__ = ["SCORE_SUFFIXES", "read_score_conversion"]

#: The suffixes of the scores this module reads: MusicXML, compressed MusicXML, Humdrum.
SCORE_SUFFIXES = (".mxl", ".musicxml", ".xml", ".krn")

_VOICE_INITIALS = tuple(name[0] for name in VOICE_NAMES)


def read_score_conversion(
    path: str | os.PathLike,
    resolution: int = 4,
    pitch_range: tuple[int, int] = DEFAULT_PITCH_RANGE,
    voices: int = 4,
    max_bars: int | None = None,
) -> Conversion:
    """Read a score whose parts are the voices, highest first (Soprano, Alto, Tenor, Bass).

    Ties are merged into single notes, chords inside a part give one note per pitch, grace
    notes are left out, and off-grid times are rounded to the nearest step. The file is
    checked against :mod:`bachgan.limits` (and ``max_bars``) before music21 reads it
    (:func:`~bachgan.io.score_bytes.read_score_data`) and its notes before any roll is drawn.

    Raises
    ------
    SkipFile
        When the score does not have ``voices`` parts, is too large or cannot be parsed.
    """
    max_measures = None if max_bars is None else max_bars + 1  # a pickup is a measure too
    score = _parse(read_score_data(path, max_measures))
    parts = list(getattr(score, "parts", []))
    if len(parts) != voices:
        counted = f"{len(parts)} part" + ("" if len(parts) == 1 else "s")
        raise SkipFile(f"{counted}, not {voices}")
    names = tuple((part.partName or "").strip() for part in parts)
    if voices == len(VOICE_NAMES) and tuple(n[:1].upper() for n in names) != _VOICE_INITIALS:
        raise SkipFile("parts are not Soprano, Alto, Tenor, Bass")
    time_signature = _time_signature(parts[0])
    meta: dict[str, object] = {
        "resolution": resolution,
        "time_signature": time_signature,
        "track_names": VOICE_NAMES if voices == len(VOICE_NAMES) else names,
        **_key(score),
        **_tempo(score),
    }
    notes = _notes(parts, resolution)
    lead_in = _lead_in_steps(parts[0], time_signature, resolution)
    end = lead_in + int((notes.start + notes.duration).max())
    check_roll_size(voices, len(notes), end, time_signature, resolution, pitch_range, max_bars)
    roll, out_of_range = roll_from_notes(notes, voices, pitch_range, lead_in, **meta)
    if roll.n_steps == 0:
        raise SkipFile("no notes inside the pitch range")
    fermatas = {step + lead_in for step in _fermata_steps(parts, resolution)}
    roll = replace(roll, fermatas=tuple(sorted(s for s in fermatas if s < roll.n_steps)))
    return Conversion(roll, notes_out_of_range=out_of_range)


def _parse(score: ScoreData):
    """The music21 score of checked bytes; music21 never sees the file, so it neither reads
    nor writes its pickle cache."""
    import music21  # imported here: it takes a second and only scores need it

    try:
        if score.format == "humdrum":
            return music21.converter.parseData(
                score.data.decode("utf-8", "replace"), format="humdrum"
            )
        root = parse_musicxml(score.data)
        if root.tag != "score-partwise":
            raise SkipFile(f"a <{root.tag}> document, not a partwise MusicXML score")
        importer = music21.musicxml.xmlToM21.MusicXMLImporter()
        importer.xmlRootToScore(root, importer.stream)
        return importer.stream
    except SkipFile:
        raise
    except Exception as error:  # music21 raises many types for unreadable scores
        raise SkipFile(f"music21 cannot parse it: {type(error).__name__}") from error


def _notes(parts: list, resolution: int) -> Notes:
    rows = []
    for voice, part in enumerate(parts):
        for element in _tied_notes(part):
            length = Fraction(element.quarterLength)
            if length == 0:
                continue
            start = round(Fraction(element.offset) * resolution)
            duration = max(1, round(length * resolution))
            rows.extend((voice, p.midi, start, duration) for p in element.pitches)
    if not rows:
        raise SkipFile("no notes")
    array = np.asarray(rows, dtype=np.int64)
    return Notes(*(array[:, i].copy() for i in range(4)))


def _fermata_steps(parts: list, resolution: int) -> set[int]:
    """The steps (before any pickup is padded) where a note of any part holds a fermata."""
    import music21

    return {
        round(Fraction(element.offset) * resolution)
        for part in parts
        for element in part.flatten().notes
        if any(isinstance(e, music21.expressions.Fermata) for e in element.expressions)
    }


def _tied_notes(part) -> list:
    """The notes and chords of ``part`` with tied notes merged, voice by voice (a tie is not
    broken by a note of another voice between its halves) and as written (matching pitches
    would part a D tied from a D natural)."""
    lines = [part]
    if any(measure.hasVoices() for measure in part.getElementsByClass("Measure")):
        lines = list(part.voicesToParts().parts)
    notes = []
    for line in lines:
        notes.extend(line.stripTies(matchByPitch=False).flatten().notes)
    return notes


def _time_signature(part) -> tuple[int, int]:
    signatures = list(part.recurse().getElementsByClass("TimeSignature"))
    if not signatures:
        return (4, 4)
    return (int(signatures[0].numerator), int(signatures[0].denominator))


def _lead_in_steps(part, time_signature: tuple[int, int], resolution: int) -> int:
    """Rests to put before a pickup bar so that the first full bar starts on a bar line."""
    measures = list(part.getElementsByClass("Measure"))
    if not measures:
        return 0
    first = measures[0]
    bar_quarters = Fraction(time_signature[0] * 4, time_signature[1])
    padding = Fraction(first.paddingLeft or 0)
    if padding == 0 and first.number == 0:
        padding = bar_quarters - Fraction(first.duration.quarterLength)
    return max(0, round(padding * resolution)) % round(bar_quarters * resolution)


def _tempo(score) -> dict[str, object]:
    """The first metronome marking's quarter notes per minute, when it is a sane tempo."""
    from ..limits import TEMPO_RANGE_BPM

    for mark in score.recurse().getElementsByClass("MetronomeMark"):
        try:
            bpm = float(mark.getQuarterBPM())
        except (TypeError, ValueError, ZeroDivisionError):
            return {}
        low, high = TEMPO_RANGE_BPM
        return {"tempo_bpm": round(bpm, 3)} if low <= bpm <= high else {}
    return {}


def _key(score) -> dict[str, object]:
    keys = list(score.recurse().getElementsByClass("KeySignature"))
    if not keys:
        return {}
    key = keys[0]
    mode = getattr(key, "mode", None)
    return {"key_fifths": int(key.sharps), "key_mode": mode if mode in ("major", "minor") else None}
