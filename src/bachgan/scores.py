"""Notated scores with music21: read MusicXML and the music21 corpus into a :class:`Roll`, and
write a roll as MusicXML.

Scores know what MIDI files do not: where the pickup bar is, which part is which voice, and
the key. A pickup is padded with rests so that its downbeat falls on a bar line. Written
scores have one part per voice with its clef, the key and time signature, and pitches spelled
with the key's sharps or flats.
"""

from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import SkipFile
from .files import atomic_write
from .roll import DEFAULT_PITCH_RANGE, VOICE_NAMES, Conversion, Notes, Roll, roll_from_notes

__all__ = ["read_score_conversion", "write_musicxml"]

_VOICE_INITIALS = tuple(name[0] for name in VOICE_NAMES)


def read_score_conversion(
    path: str | os.PathLike,
    resolution: int = 4,
    pitch_range: tuple[int, int] = DEFAULT_PITCH_RANGE,
    voices: int = 4,
) -> Conversion:
    """Read a score whose parts are the voices, highest first (Soprano, Alto, Tenor, Bass).

    Ties are merged into single notes, chords inside a part give one note per pitch, grace
    notes are left out, and off-grid times are rounded to the nearest step.

    Raises
    ------
    SkipFile
        When the score does not have ``voices`` parts or cannot be parsed.
    """
    import music21  # imported here: it takes a second and only scores need it

    try:
        score = music21.converter.parse(str(path))
    except Exception as error:  # music21 raises many types for unreadable scores
        raise SkipFile(f"music21 cannot parse it: {type(error).__name__}") from error
    parts = list(getattr(score, "parts", []))
    if len(parts) != voices:
        raise SkipFile(f"{len(parts)} parts, not {voices} voices")
    names = tuple((part.partName or "").strip() for part in parts)
    if voices == len(VOICE_NAMES) and tuple(n[:1].upper() for n in names) != _VOICE_INITIALS:
        raise SkipFile("parts are not Soprano, Alto, Tenor, Bass")
    time_signature = _time_signature(parts[0])
    meta: dict[str, object] = {
        "resolution": resolution,
        "time_signature": time_signature,
        "track_names": VOICE_NAMES if voices == len(VOICE_NAMES) else names,
        **_key(score),
    }
    notes = _notes(parts, resolution)
    lead_in = _lead_in_steps(parts[0], time_signature, resolution)
    roll, out_of_range = roll_from_notes(notes, voices, pitch_range, lead_in, **meta)
    if roll.n_steps == 0:
        raise SkipFile("no notes inside the pitch range")
    return Conversion(roll, notes_out_of_range=out_of_range)


def _notes(parts: list, resolution: int) -> Notes:
    rows = []
    for voice, part in enumerate(parts):
        for element in part.stripTies().flatten().notes:
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


def _key(score) -> dict[str, object]:
    keys = list(score.recurse().getElementsByClass("KeySignature"))
    if not keys:
        return {}
    key = keys[0]
    mode = getattr(key, "mode", None)
    return {"key_fifths": int(key.sharps), "key_mode": mode if mode in ("major", "minor") else None}


#: The clef of each chorale voice, by name.
_CLEFS = {"Soprano": "treble", "Alto": "treble", "Tenor": "treble8vb", "Bass": "bass"}
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "D-", "D", "E-", "E", "F", "G-", "G", "A-", "A", "B-", "B")


def write_musicxml(roll: Roll, path: str | os.PathLike) -> Path:
    """Write ``roll`` as MusicXML: one part per track (named, with a clef that suits its
    range), its key and time signature and tempo; notes tied over bar lines. The file appears
    whole or not at all."""
    import music21

    score = music21.stream.Score()
    score.insert(0, music21.metadata.Metadata(title="bachgan"))
    for track in range(roll.n_tracks):
        score.append(_part(roll, track))
    xml = music21.musicxml.m21ToXml.GeneralObjectExporter(score).parse()
    xml = re.sub(rb"\s*<encoding-date>[^<]*</encoding-date>", b"", xml)  # same roll, same bytes
    with atomic_write(path) as temporary:
        temporary.write_bytes(xml)
    return Path(path)


def _part(roll: Roll, track: int):
    import music21

    name = roll.track_names[track] if track < len(roll.track_names) else f"Voice {track + 1}"
    part = music21.stream.Part()
    part.partName, part.partAbbreviation = name, name[:1]
    singer = music21.instrument.Vocalist()
    singer.instrumentId, singer.partId = f"I{track + 1}", f"P{track + 1}"
    part.insert(0, singer)
    part.insert(0, _clef(name, roll, track))
    if roll.key_fifths is not None:
        part.insert(0, music21.key.KeySignature(roll.key_fifths))
    part.insert(0, music21.meter.TimeSignature("{}/{}".format(*roll.time_signature)))
    if track == 0:
        part.insert(0, music21.tempo.MetronomeMark(number=round(roll.tempo_bpm)))
    names = _FLAT_NAMES if (roll.key_fifths or 0) < 0 else _SHARP_NAMES
    notes = roll.notes()
    mine = notes.select(notes.track == track)
    fermatas = set(roll.fermatas)
    for pitch, start, duration in zip(mine.pitch, mine.start, mine.duration, strict=True):
        note = music21.note.Note(f"{names[pitch % 12]}{pitch // 12 - 1}")
        note.quarterLength = Fraction(int(duration), roll.resolution)
        if int(start) in fermatas:
            note.expressions.append(music21.expressions.Fermata())
        part.insert(Fraction(int(start), roll.resolution), note)
    end = Fraction(roll.n_steps, roll.resolution)
    part.makeRests(fillGaps=True, inPlace=True, refStreamOrTimeRange=[0, end])
    part.makeNotation(inPlace=True)
    part.id = f"P{track + 1}"  # fixed ids: the same roll, the same bytes
    return part


def _clef(name: str, roll: Roll, track: int):
    import music21

    if name in _CLEFS:
        return music21.clef.clefFromString(_CLEFS[name])
    sung = np.flatnonzero(roll.sounding[track].any(axis=0))
    middle = roll.lowest_pitch + (sung.mean() if sung.size else 60)
    return music21.clef.BassClef() if middle < 57 else music21.clef.TrebleClef()
