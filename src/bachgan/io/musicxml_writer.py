"""MusicXML written straight from a :class:`Roll`: one part per track, measures, ties, rests,
beams, fermatas, and pitches spelled in the key.

A part gets the clef its voice is sung in, the key and time signature (and the tempo, on the
first part); notes that cross a bar line, or last a value no single note has (five
sixteenths), become tied notes; gaps become rests; eighths and shorter are beamed by beat.
Notes that overlap inside one track go to extra voices of the part. Pitches are spelled as the
key reads them: its scale, raised degrees for leading notes (F sharp in C major, C sharp in D
minor), a lowered seventh in major and a lowered second in minor.

Writing the XML ourselves takes milliseconds where building and notating a music21 score takes
half a second, which is what the app waits for on every action. music21 reads these files back
(``bachgan.io.score_reader``), and the tests check that it finds the same notes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from ..roll import Notes, Roll
from .files import atomic_write

__all__ = ["musicxml_bytes", "spell", "write_musicxml"]

_LETTERS = "CDEFGAB"
_NATURAL_PITCH_CLASSES = (0, 2, 4, 5, 7, 9, 11)
#: For each semitone above the tonic: (scale degree, change from the key signature's note).
_MAJOR_SPELLINGS = (
    (0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (3, 0), (3, 1), (4, 0), (4, 1), (5, 0), (6, -1), (6, 0),
)  # fmt: skip
_MINOR_SPELLINGS = (
    (0, 0), (1, -1), (1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (4, 0), (5, 0), (5, 1), (6, 0), (6, 1),
)  # fmt: skip
_ACCIDENTALS = {-2: "flat-flat", -1: "flat", 0: "natural", 1: "sharp", 2: "double-sharp"}
#: The clef of each chorale voice, by name: (sign, line, octave change).
_CLEFS = {"Soprano": ("G", 2, 0), "Alto": ("G", 2, 0), "Tenor": ("G", 2, -1), "Bass": ("F", 4, 0)}
_TYPES = {
    Fraction(8): "breve",
    Fraction(4): "whole",
    Fraction(2): "half",
    Fraction(1): "quarter",
    Fraction(1, 2): "eighth",
    Fraction(1, 4): "16th",
    Fraction(1, 8): "32nd",
    Fraction(1, 16): "64th",
    Fraction(1, 32): "128th",
    Fraction(1, 64): "256th",
}
_HEADER = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
    b'"http://www.musicxml.org/dtds/partwise.dtd">\n'
)


def write_musicxml(roll: Roll, path: str | os.PathLike) -> Path:
    """Write ``roll`` as a MusicXML file (see the module docstring); the same roll gives the
    same bytes, and the file appears whole or not at all."""
    with atomic_write(path) as temporary:
        temporary.write_bytes(musicxml_bytes(roll))
    return Path(path)


def musicxml_bytes(roll: Roll) -> bytes:
    """The MusicXML document of ``roll``, as written by :func:`write_musicxml`."""
    score = ElementTree.Element("score-partwise", version="4.0")
    ElementTree.SubElement(ElementTree.SubElement(score, "work"), "work-title").text = "bachgan"
    encoding = ElementTree.SubElement(ElementTree.SubElement(score, "identification"), "encoding")
    ElementTree.SubElement(encoding, "software").text = "bachgan"
    part_list = ElementTree.SubElement(score, "part-list")
    notes = roll.notes()
    spelling = _Spelling(roll.key_fifths or 0, roll.key_mode or "major")
    for track in range(roll.n_tracks):
        _add_score_part(part_list, roll, track)
        mine = notes.select(notes.track == track)
        score.append(_Part(roll, track, mine, spelling).element())
    ElementTree.indent(score, space="  ")
    return _HEADER + ElementTree.tostring(score, encoding="unicode").encode() + b"\n"


def spell(pitch: int, key_fifths: int = 0, key_mode: str = "major") -> tuple[str, int, int]:
    """The letter, alteration (+1 sharp, -1 flat) and octave of MIDI ``pitch`` in the key of
    ``key_fifths`` sharps (flats when negative) in ``key_mode``: ``spell(61, -1, "minor")`` is
    ``("C", 1, 4)``, C sharp, the leading note of D minor."""
    return _Spelling(key_fifths, key_mode).spell(pitch)


class _Spelling:
    """How one key names each pitch class, and which alteration its signature gives each
    letter."""

    def __init__(self, key_fifths: int, key_mode: str) -> None:
        self.signature = [0] * 7
        for order in range(abs(key_fifths)):  # sharps F C G D A E B, flats the other way
            letter = (3 + 4 * order) % 7 if key_fifths > 0 else (6 + 3 * order) % 7
            self.signature[letter] = 1 if key_fifths > 0 else -1
        tonic_letter = (4 * key_fifths + (5 if key_mode == "minor" else 0)) % 7
        tonic = _NATURAL_PITCH_CLASSES[tonic_letter] + self.signature[tonic_letter]
        spellings = _MINOR_SPELLINGS if key_mode == "minor" else _MAJOR_SPELLINGS
        self.names: dict[int, tuple[int, int]] = {}
        for semitones, (degree, change) in enumerate(spellings):
            letter = (tonic_letter + degree) % 7
            self.names[(tonic + semitones) % 12] = (letter, self.signature[letter] + change)

    def spell(self, pitch: int) -> tuple[str, int, int]:
        letter, alter = self.names[pitch % 12]
        return _LETTERS[letter], alter, (pitch - alter) // 12 - 1


@dataclass(frozen=True)
class _Value:
    """A note value a score can show: its length in grid steps, type, dots and, on grids of
    three or five steps per beat, its tuplet ratio."""

    steps: int
    type: str
    dots: int = 0
    tuplet: tuple[int, int] | None = None

    @property
    def flags(self) -> int:
        """Beams it takes: 1 for an eighth, 2 for a sixteenth...; 0 from a quarter up."""
        names = list(_TYPES.values())
        return max(0, names.index(self.type) - names.index("quarter"))


def _note_values(resolution: int) -> list[_Value]:
    """The plain and dotted values that fit the grid of ``resolution`` steps per quarter, longest
    first, then (when the grid is not binary) the tuplet values of one, two, four... steps."""
    plain = []
    for quarters, name in _TYPES.items():
        for dots, factor in ((0, Fraction(1)), (1, Fraction(3, 2))):
            steps = quarters * factor * resolution
            if steps.denominator == 1:
                plain.append(_Value(int(steps), name, dots))
    plain.sort(key=lambda value: -value.steps)
    odd = resolution
    while odd % 2 == 0:
        odd //= 2
    if odd == 1:
        return plain
    normal = 1 << (odd.bit_length() - 1)  # three in the time of two, five in the time of four
    unit = Fraction(normal * resolution // odd) ** -1  # one step's written value, in quarters
    tuplets = [
        _Value(steps, _TYPES[steps * unit], 0, (odd, normal))
        for steps in (1 << k for k in range(odd.bit_length()))
        if steps < odd and steps * unit in _TYPES
    ]
    return plain + sorted(tuplets, key=lambda value: -value.steps)


@dataclass(frozen=True)
class _Event:
    """One written note, chord or rest of one voice: ``pitches`` empty for a rest; ``tied_in``
    and ``tied_out`` when it continues an earlier one or goes on in a later one."""

    start: int
    value: _Value
    pitches: tuple[int, ...] = ()
    tied_in: bool = False
    tied_out: bool = False
    fermata: bool = False


class _Part:
    """One track as a MusicXML ``<part>``."""

    def __init__(self, roll: Roll, track: int, notes: Notes, spelling: _Spelling) -> None:
        self.roll, self.track, self.spelling = roll, track, spelling
        self.bar = roll.steps_per_bar
        self.n_bars = max(roll.n_bars, 1)
        self.lead_in = roll.lead_in  # rests before an upbeat: a short first measure instead
        self.values = _note_values(roll.resolution)
        self.beat = _beam_group_steps(roll)
        self.voices = _voices(notes)

    def element(self) -> ElementTree.Element:
        part = ElementTree.Element("part", id=f"P{self.track + 1}")
        by_bar: list[list[list[_Event]]] = [[] for _ in range(self.n_bars)]  # bar, voice
        for voice in self.voices or [[]]:
            for bar in by_bar:
                bar.append([])
            for event in self._events(voice):
                by_bar[event.start // self.bar][-1].append(event)
        first = 0 if self.lead_in else 1  # an upbeat is measure 0, as notation programs number it
        for number, voices in enumerate(by_bar, start=first):
            measure = ElementTree.SubElement(part, "measure", number=str(number))
            if number == first:
                if self.lead_in:
                    measure.set("implicit", "yes")
                self._add_attributes(measure)
            length = self.bar - self.lead_in if number == first else self.bar
            self._add_bar(measure, voices, length)
        barline = ElementTree.SubElement(part[-1], "barline", location="right")
        ElementTree.SubElement(barline, "bar-style").text = "light-heavy"
        return part

    # ----------------------------------------------------------------- events
    def _events(self, chords: list[tuple[int, int, tuple[int, ...]]]) -> Iterator[_Event]:
        """The voice's chords and the rests between them, cut at bar lines and into values."""
        fermatas = set(self.roll.fermatas)
        time = self.lead_in
        for start, duration, pitches in [*chords, (self.n_bars * self.bar, 0, ())]:
            if start < self.lead_in:  # nothing sounds before an upbeat
                duration, start = max(0, start + duration - self.lead_in), self.lead_in
            if start > time:
                yield from self._cut(time, start - time, ())
            if duration:
                yield from self._cut(start, duration, pitches, start in fermatas)
            time = start + duration

    def _cut(
        self, start: int, duration: int, pitches: tuple[int, ...], fermata: bool = False
    ) -> Iterator[_Event]:
        end, time = start + duration, start
        while time < end:
            bar_end = (time // self.bar + 1) * self.bar
            length = min(end, bar_end) - time
            if not pitches and length == self.bar:  # a whole bar's rest
                yield _Event(time, _Value(self.bar, "whole"))
                time += length
                continue
            while length:
                value = next(v for v in self.values if v.steps <= length)
                sounding = bool(pitches)
                yield _Event(
                    time,
                    value,
                    pitches,
                    tied_in=sounding and time > start,
                    tied_out=sounding and time + value.steps < end,
                    fermata=fermata and time == start,
                )
                time += value.steps
                length -= value.steps

    # ----------------------------------------------------------------- writing
    def _add_attributes(self, measure: ElementTree.Element) -> None:
        roll = self.roll
        attributes = ElementTree.SubElement(measure, "attributes")
        ElementTree.SubElement(attributes, "divisions").text = str(roll.resolution)
        if roll.key_fifths is not None:
            key = ElementTree.SubElement(attributes, "key")
            ElementTree.SubElement(key, "fifths").text = str(roll.key_fifths)
            if roll.key_mode in ("major", "minor"):
                ElementTree.SubElement(key, "mode").text = roll.key_mode
        time = ElementTree.SubElement(attributes, "time")
        ElementTree.SubElement(time, "beats").text = str(roll.time_signature[0])
        ElementTree.SubElement(time, "beat-type").text = str(roll.time_signature[1])
        sign, line, octave_change = _clef(roll, self.track)
        clef = ElementTree.SubElement(attributes, "clef")
        ElementTree.SubElement(clef, "sign").text = sign
        ElementTree.SubElement(clef, "line").text = str(line)
        if octave_change:
            ElementTree.SubElement(clef, "clef-octave-change").text = str(octave_change)
        if self.track == 0:
            _add_tempo(measure, roll.tempo_bpm)

    def _add_bar(
        self, measure: ElementTree.Element, voices: list[list[_Event]], length: int
    ) -> None:
        in_effect: dict[tuple[str, int], int] = {}  # alterations written earlier in the bar
        for number, events in enumerate(voices, start=1):
            if number > 1:
                backup = ElementTree.SubElement(measure, "backup")
                ElementTree.SubElement(backup, "duration").text = str(length)
            beams = _beams(events, self.beat)
            for event in events:
                if number > 1 and not event.pitches:  # gaps in extra voices are skipped
                    forward = ElementTree.SubElement(measure, "forward")
                    ElementTree.SubElement(forward, "duration").text = str(event.value.steps)
                    ElementTree.SubElement(forward, "voice").text = str(number)
                    continue
                for index, pitch in enumerate(event.pitches or (None,)):
                    spelled = None if pitch is None else self.spelling.spell(pitch)
                    accidental = self._accidental(spelled, event.tied_in, in_effect)
                    note = ElementTree.SubElement(measure, "note")
                    if index:
                        ElementTree.SubElement(note, "chord")
                    whole_bar = event.value.steps == self.bar and pitch is None
                    _fill_note(note, event, spelled, number, accidental, whole_bar)
                    if not index:
                        _add_beams_and_notations(note, event, beams.get(event.start, []))

    def _accidental(
        self,
        spelled: tuple[str, int, int] | None,
        tied_in: bool,
        in_effect: dict[tuple[str, int], int],
    ) -> str | None:
        """The accidental to print, if the key and the bar so far do not already say the
        note's alteration (a note tied in from the bar before prints none)."""
        if spelled is None or tied_in:
            return None
        letter, alter, octave = spelled
        now = in_effect.get((letter, octave), self.spelling.signature[_LETTERS.index(letter)])
        if now == alter:
            return None
        in_effect[(letter, octave)] = alter
        return _ACCIDENTALS[alter]


def _fill_note(
    note: ElementTree.Element,
    event: _Event,
    spelled: tuple[str, int, int] | None,
    voice: int,
    accidental: str | None,
    whole_bar: bool,
) -> None:
    """The children of one ``<note>`` up to its beams, in the order MusicXML requires."""
    sub = ElementTree.SubElement
    if spelled is None:
        sub(note, "rest", {"measure": "yes"} if whole_bar else {})
    else:
        letter, alter, octave = spelled
        pitch = sub(note, "pitch")
        sub(pitch, "step").text = letter
        if alter:
            sub(pitch, "alter").text = str(alter)
        sub(pitch, "octave").text = str(octave)
    sub(note, "duration").text = str(event.value.steps)
    if event.tied_in:
        sub(note, "tie", type="stop")
    if event.tied_out:
        sub(note, "tie", type="start")
    sub(note, "voice").text = str(voice)
    if not whole_bar:
        sub(note, "type").text = event.value.type
        for _ in range(event.value.dots):
            sub(note, "dot")
    if accidental:
        sub(note, "accidental").text = accidental
    if event.value.tuplet:
        modification = sub(note, "time-modification")
        sub(modification, "actual-notes").text = str(event.value.tuplet[0])
        sub(modification, "normal-notes").text = str(event.value.tuplet[1])


def _add_beams_and_notations(
    note: ElementTree.Element, event: _Event, beams: list[tuple[int, str]]
) -> None:
    """The beams, ties and fermata of a chord's first note (or a lone note)."""
    sub = ElementTree.SubElement
    for level, kind in beams:
        sub(note, "beam", number=str(level)).text = kind
    if event.tied_in or event.tied_out or event.fermata:
        notations = sub(note, "notations")
        if event.tied_in:
            sub(notations, "tied", type="stop")
        if event.tied_out:
            sub(notations, "tied", type="start")
        if event.fermata:
            sub(notations, "fermata", type="upright")


def _voices(notes: Notes) -> list[list[tuple[int, int, tuple[int, ...]]]]:
    """The track's notes as chords (``(start, duration, pitches)``: notes that start and stop
    together) laid out in as few voices as no two overlapping chords share; a chorale voice
    is one."""
    chords: dict[tuple[int, int], list[int]] = {}
    for pitch, start, duration in zip(notes.pitch, notes.start, notes.duration, strict=True):
        chords.setdefault((int(start), int(duration)), []).append(int(pitch))
    voices: list[list[tuple[int, int, tuple[int, ...]]]] = []
    for (start, duration), pitches in sorted(chords.items(), key=lambda c: (c[0][0], -c[0][1])):
        chord = (start, duration, tuple(sorted(pitches, reverse=True)))
        free = next((v for v in voices if v[-1][0] + v[-1][1] <= start), None)
        if free is None:
            voices.append([chord])
        else:
            free.append(chord)
    return voices


def _beams(events: list[_Event], group_steps: int) -> dict[int, list[tuple[int, str]]]:
    """Beams by event start: runs of two or more notes of an eighth or shorter inside one beat
    (``group_steps``) are beamed; sixteenths inside them get a second beam, or a hook when
    alone."""
    beams: dict[int, list[tuple[int, str]]] = {}
    run: list[_Event] = []
    for event in [*events, None]:
        joins = (
            event is not None
            and event.pitches
            and event.value.flags
            and (not run or event.start // group_steps == run[0].start // group_steps)
        )
        if joins:
            run.append(event)
            continue
        if len(run) > 1:
            for level in range(1, max(e.value.flags for e in run) + 1):
                _beam_level(run, level, beams)
        run = [event] if event is not None and event.pitches and event.value.flags else []
    return beams


def _beam_level(run: list[_Event], level: int, beams: dict[int, list[tuple[int, str]]]) -> None:
    """Beam ``level`` for the notes of ``run`` that have that many flags."""
    index = 0
    while index < len(run):
        if run[index].value.flags < level:
            index += 1
            continue
        stop = index
        while stop + 1 < len(run) and run[stop + 1].value.flags >= level:
            stop += 1
        if stop == index:
            kinds = ["backward hook" if index == len(run) - 1 else "forward hook"]
        else:
            kinds = ["begin", *["continue"] * (stop - index - 1), "end"]
        for event, kind in zip(run[index : stop + 1], kinds, strict=True):
            beams.setdefault(event.start, []).append((level, kind))
        index = stop + 1


def _beam_group_steps(roll: Roll) -> int:
    """Steps beamed together: a dotted quarter in 6/8, 9/8 and 12/8, a quarter otherwise."""
    beats, unit = roll.time_signature
    if unit == 8 and beats % 3 == 0:
        return roll.resolution * 3 // 2
    return roll.resolution


def _clef(roll: Roll, track: int) -> tuple[str, int, int]:
    name = roll.track_names[track]
    if name in _CLEFS:
        return _CLEFS[name]
    sung = np.flatnonzero(roll.sounding[track].any(axis=0))
    middle = roll.lowest_pitch + (sung.mean() if sung.size else 60)
    return ("F", 4, 0) if middle < 57 else ("G", 2, 0)


def _add_score_part(part_list: ElementTree.Element, roll: Roll, track: int) -> None:
    sub = ElementTree.SubElement
    name = roll.track_names[track]
    part = sub(part_list, "score-part", id=f"P{track + 1}")
    sub(part, "part-name").text = name
    sub(part, "part-abbreviation").text = name[:1]
    instrument = sub(part, "score-instrument", id=f"P{track + 1}-I1")
    sub(instrument, "instrument-name").text = name
    midi = sub(part, "midi-instrument", id=f"P{track + 1}-I1")
    sub(midi, "midi-program").text = str(roll.programs[track] + 1)


def _add_tempo(measure: ElementTree.Element, tempo_bpm: float) -> None:
    sub = ElementTree.SubElement
    direction = sub(measure, "direction", placement="above")
    metronome = sub(sub(direction, "direction-type"), "metronome")
    sub(metronome, "beat-unit").text = "quarter"
    sub(metronome, "per-minute").text = str(round(tempo_bpm))
    sub(direction, "sound", tempo=f"{tempo_bpm:g}")
