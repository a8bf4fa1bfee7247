"""The central representation: a bar-aligned, multi-track piano-roll with an onset channel.

A :class:`Roll` holds two boolean arrays of shape ``(tracks, steps, pitches)``:

* ``sounding[t, s, p]`` is true while track ``t`` sounds pitch ``lowest_pitch + p`` at step ``s``;
* ``onsets[t, s, p]`` is true where such a note starts.

The onset channel is what lets a repeated note be two notes instead of one long one. Step 0 is
a downbeat: readers pad a pickup (anacrusis) with rests so that every bar line falls on a
multiple of ``steps_per_bar``. This module is pure numpy: no torch, no file I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = [
    "DEFAULT_PITCH_RANGE",
    "LOSSES",
    "VOICE_NAMES",
    "VOICE_PROGRAMS",
    "Conversion",
    "Notes",
    "Roll",
    "roll_from_notes",
    "split_voices",
    "steps_per_bar",
]

#: Lowest and highest MIDI pitch (inclusive) of a roll unless told otherwise: the 88 piano keys.
DEFAULT_PITCH_RANGE = (21, 108)
#: The four chorale voices, highest first; a track's index is its voice.
VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
#: General MIDI programs per voice: Choir Aahs for the upper voices, Voice Oohs below.
VOICE_PROGRAMS = (52, 52, 53, 53)


@dataclass(frozen=True)
class Notes:
    """A flat list of notes as parallel integer arrays, all of shape ``(n_notes,)``.

    ``start`` and ``duration`` are in grid steps; ``pitch`` is a MIDI pitch; ``track`` an index.
    """

    track: np.ndarray
    pitch: np.ndarray
    start: np.ndarray
    duration: np.ndarray

    def __post_init__(self) -> None:
        sizes = {a.shape for a in (self.track, self.pitch, self.start, self.duration)}
        if len(sizes) != 1:
            raise ValueError("note arrays must have one common shape")

    def __len__(self) -> int:
        return int(self.track.shape[0])

    @classmethod
    def from_tuples(cls, notes: list[tuple[int, int, int, int]]) -> Notes:
        """Build from ``(track, pitch, start, duration)`` tuples."""
        array = np.asarray(notes, dtype=np.int64).reshape(-1, 4)
        return cls(*(array[:, i].copy() for i in range(4)))

    def to_tuples(self) -> list[tuple[int, int, int, int]]:
        """Sorted ``(track, pitch, start, duration)`` tuples, handy for comparisons."""
        rows = zip(self.track, self.pitch, self.start, self.duration, strict=True)
        return sorted((int(t), int(p), int(s), int(d)) for t, p, s, d in rows)

    def select(self, mask: np.ndarray) -> Notes:
        """The notes where ``mask`` is true."""
        return Notes(self.track[mask], self.pitch[mask], self.start[mask], self.duration[mask])


@dataclass(frozen=True)
class Roll:
    """A multi-track piano-roll on a fixed grid; see the module docstring.

    Parameters
    ----------
    sounding, onsets
        Boolean arrays of shape ``(tracks, steps, pitches)``; every onset is also sounding.
    lowest_pitch
        MIDI pitch of pitch index 0.
    resolution
        Grid steps per quarter note (4 = sixteenth notes).
    time_signature
        ``(numerator, denominator)``; bar lines fall every ``steps_per_bar`` steps from step 0.
    tempo_bpm
        Quarter notes per minute.
    track_names, programs
        One name and one General MIDI program (0-127) per track.
    key_fifths, key_mode
        Key signature as sharps (>0) or flats (<0) and ``"major"``/``"minor"`` when known.
    fermatas
        Steps where a fermata stands over the chord that starts there (phrase ends).
    lead_in
        Steps of rest at the start that only complete a short first bar: the piece opens with
        an upbeat of ``steps_per_bar - lead_in`` steps, and files are written with that short
        first bar (0: the piece starts on a downbeat).
    """

    sounding: np.ndarray
    onsets: np.ndarray
    lowest_pitch: int = DEFAULT_PITCH_RANGE[0]
    resolution: int = 4
    time_signature: tuple[int, int] = (4, 4)
    tempo_bpm: float = 100.0
    track_names: tuple[str, ...] = field(default=())
    programs: tuple[int, ...] = field(default=())
    key_fifths: int | None = None
    key_mode: str | None = None
    fermatas: tuple[int, ...] = field(default=())
    lead_in: int = 0

    def __post_init__(self) -> None:
        if self.sounding.ndim != 3 or self.sounding.shape != self.onsets.shape:
            raise ValueError("sounding and onsets must share a (tracks, steps, pitches) shape")
        if self.sounding.dtype != bool or self.onsets.dtype != bool:
            raise ValueError("sounding and onsets must be boolean arrays")
        if np.any(self.onsets & ~self.sounding):
            raise ValueError("every onset must also be sounding")
        if self.resolution < 1:
            raise ValueError("resolution must be at least one step per quarter note")
        if not (math.isfinite(self.tempo_bpm) and self.tempo_bpm > 0):
            raise ValueError(f"tempo must be above 0 quarter notes per minute ({self.tempo_bpm})")
        n_tracks = self.sounding.shape[0]
        if not self.track_names:
            object.__setattr__(self, "track_names", _default_names(n_tracks))
        if not self.programs:
            object.__setattr__(self, "programs", _default_programs(n_tracks))
        if len(self.track_names) != n_tracks or len(self.programs) != n_tracks:
            raise ValueError("need one track name and one program per track")
        if self.lead_in and not 0 < self.lead_in < min(self.steps_per_bar, self.n_steps + 1):
            raise ValueError(f"a lead-in of {self.lead_in} steps is not inside the first bar")

    # ----------------------------------------------------------------- shape and grid
    @property
    def n_tracks(self) -> int:
        return self.sounding.shape[0]

    @property
    def n_steps(self) -> int:
        return self.sounding.shape[1]

    @property
    def n_pitches(self) -> int:
        return self.sounding.shape[2]

    @property
    def pitch_range(self) -> tuple[int, int]:
        """Lowest and highest representable MIDI pitch, inclusive."""
        return self.lowest_pitch, self.lowest_pitch + self.n_pitches - 1

    @property
    def steps_per_bar(self) -> int:
        return steps_per_bar(self.time_signature, self.resolution)

    @property
    def n_bars(self) -> int:
        """Number of bars, counting a final partial bar."""
        return -(-self.n_steps // self.steps_per_bar)

    # ----------------------------------------------------------------- conversions
    @classmethod
    def from_notes(
        cls,
        notes: Notes,
        n_tracks: int,
        n_steps: int | None = None,
        pitch_range: tuple[int, int] = DEFAULT_PITCH_RANGE,
        **meta: object,
    ) -> Roll:
        """Draw ``notes`` on a new roll.

        Every note must lie inside ``pitch_range`` and have a duration of at least one step;
        ``n_steps`` defaults to the end of the last note. ``meta`` are the other fields.
        """
        lowest, highest = pitch_range
        if len(notes) and (notes.pitch.min() < lowest or notes.pitch.max() > highest):
            raise ValueError("a note lies outside the pitch range")
        if len(notes) and (notes.duration.min() < 1 or notes.start.min() < 0):
            raise ValueError("notes need a start >= 0 and a duration >= 1 step")
        end = int((notes.start + notes.duration).max()) if len(notes) else 0
        n_steps = end if n_steps is None else n_steps
        shape = (n_tracks, n_steps, highest - lowest + 1)
        onsets = np.zeros(shape, dtype=bool)
        keep = notes.start < n_steps
        notes = notes.select(keep)
        pitch_index = notes.pitch - lowest
        onsets[notes.track, notes.start, pitch_index] = True
        # Paint each note's span: a +1/-1 difference array summed over time, in place.
        spans = np.zeros((n_tracks, n_steps + 1, shape[2]), dtype=np.int32)
        np.add.at(spans, (notes.track, notes.start, pitch_index), 1)
        stop = np.minimum(notes.start + notes.duration, n_steps)
        np.add.at(spans, (notes.track, stop, pitch_index), -1)
        np.cumsum(spans, axis=1, out=spans)
        sounding = spans[:, :n_steps] > 0
        del spans
        return cls(sounding, onsets, lowest_pitch=lowest, **meta)

    def notes(self) -> Notes:
        """Every note of the roll, in grid steps.

        A note starts at an onset, or where a pitch begins to sound without one, and lasts
        until the pitch stops sounding or a new onset of the same pitch starts.
        """
        sounding = np.transpose(self.sounding, (0, 2, 1))  # (tracks, pitches, steps)
        onsets = np.transpose(self.onsets, (0, 2, 1))
        previous = np.zeros_like(sounding)
        previous[..., 1:] = sounding[..., :-1]
        starts = sounding & (onsets | ~previous)
        # A note ends at the first step after its start that does not continue it.
        continues = np.concatenate(
            [sounding & ~starts, np.zeros((*sounding.shape[:2], 1), dtype=bool)], axis=2
        )
        n_steps = continues.shape[2]
        break_index = np.where(continues, n_steps, np.arange(n_steps))
        next_break = np.minimum.accumulate(break_index[..., ::-1], axis=2)[..., ::-1]
        track, pitch_index, start = np.nonzero(starts)
        duration = next_break[track, pitch_index, start + 1] - start
        return Notes(
            track.astype(np.int64),
            (pitch_index + self.lowest_pitch).astype(np.int64),
            start.astype(np.int64),
            duration.astype(np.int64),
        )

    # ----------------------------------------------------------------- edits
    def meta(self) -> dict[str, object]:
        """Every field except the two arrays and the pitch offset, for building a sibling."""
        return {
            "resolution": self.resolution,
            "time_signature": self.time_signature,
            "tempo_bpm": self.tempo_bpm,
            "track_names": self.track_names,
            "programs": self.programs,
            "key_fifths": self.key_fifths,
            "key_mode": self.key_mode,
            "fermatas": self.fermatas,
            "lead_in": self.lead_in,
        }

    def with_arrays(self, sounding: np.ndarray, onsets: np.ndarray) -> Roll:
        """The same metadata over new arrays."""
        return replace(self, sounding=sounding, onsets=onsets)

    def slice_steps(self, start: int, stop: int) -> Roll:
        """Steps ``start:stop``; notes cut at ``start`` get an onset there."""
        sounding = self.sounding[:, start:stop].copy()
        onsets = self.onsets[:, start:stop].copy()
        if sounding.shape[1]:
            onsets[:, 0] |= sounding[:, 0]
        kept = tuple(step - start for step in self.fermatas if start <= step < stop)
        lead_in = self.lead_in if start == 0 and self.lead_in < stop else 0
        return replace(self, sounding=sounding, onsets=onsets, fermatas=kept, lead_in=lead_in)

    def transpose(self, semitones: int) -> Roll:
        """Shift every note by ``semitones``; raises ValueError if a note leaves the range."""
        if semitones == 0:
            return self
        used = np.flatnonzero(self.sounding.any(axis=(0, 1)))
        if used.size and (used[0] + semitones < 0 or used[-1] + semitones >= self.n_pitches):
            raise ValueError(f"transposing by {semitones} leaves the pitch range")
        return self.with_arrays(
            np.roll(self.sounding, semitones, axis=2), np.roll(self.onsets, semitones, axis=2)
        )


def steps_per_bar(time_signature: tuple[int, int], resolution: int) -> int:
    """Grid steps in one bar of ``time_signature`` at ``resolution`` steps per quarter."""
    numerator, denominator = time_signature
    steps = numerator * resolution * 4 / denominator
    if steps != int(steps) or steps < 1:
        raise ValueError(f"{numerator}/{denominator} does not fit a grid of {resolution}/quarter")
    return int(steps)


def split_voices(notes: Notes, n_voices: int) -> Notes:
    """Spread the notes of one polyphonic track over ``n_voices`` tracks by pitch order.

    A heuristic: at each onset, the new notes are ranked among all pitches sounding then (held
    notes included); the highest goes to voice 0 (soprano), the lowest to the last voice
    (bass), and those between are spread evenly over the inner voices. More simultaneous
    pitches than voices share voices.
    """
    if n_voices < 1:
        raise ValueError("need at least one voice")
    order = np.lexsort((-notes.pitch, notes.start))
    voice = np.zeros_like(notes.track)
    active: list[int] = []  # indices of notes still sounding
    position = 0
    while position < len(order):
        onset = notes.start[order[position]]
        group_end = position
        while group_end < len(order) and notes.start[order[group_end]] == onset:
            group_end += 1
        group = [int(i) for i in order[position:group_end]]
        active = [i for i in active if notes.start[i] + notes.duration[i] > onset] + group
        ranked = sorted(active, key=lambda i: -notes.pitch[i])
        last = max(len(ranked) - 1, 1)
        for rank, index in enumerate(ranked):
            if index in group:
                voice[index] = round(rank * (n_voices - 1) / last) if len(ranked) > 1 else 0
        position = group_end
    return Notes(voice, notes.pitch.copy(), notes.start.copy(), notes.duration.copy())


def _default_names(n_tracks: int) -> tuple[str, ...]:
    if n_tracks == len(VOICE_NAMES):
        return VOICE_NAMES
    return tuple(f"Track {i + 1}" for i in range(n_tracks))


def _default_programs(n_tracks: int) -> tuple[int, ...]:
    return VOICE_PROGRAMS if n_tracks == 4 else (0,) * n_tracks


#: What a reader may have to leave out of a file, in words, by :class:`Conversion` field.
LOSSES = {
    "notes_out_of_range": "notes outside the pitch range left out",
    "drum_notes": "drum notes left out",
    "notes_merged": "notes merged with another of the same pitch on the grid",
    "notes_unended": "notes without an end (no note-off) left out",
}


@dataclass(frozen=True)
class Conversion:
    """A roll read from a file plus what the reader had to leave out, for the skip report."""

    roll: Roll
    notes_out_of_range: int = 0
    drum_notes: int = 0
    #: Notes laid over another note of the same track and pitch by rounding to the grid.
    notes_merged: int = 0
    #: Note-ons that no note-off ended, which the parser dropped.
    notes_unended: int = 0

    def losses(self) -> dict[str, int]:
        """Each of :data:`LOSSES` that happened, in words, with its count."""
        return {words: getattr(self, name) for name, words in LOSSES.items() if getattr(self, name)}


def roll_from_notes(
    notes: Notes,
    n_tracks: int,
    pitch_range: tuple[int, int] = DEFAULT_PITCH_RANGE,
    lead_in_steps: int = 0,
    **meta: object,
) -> tuple[Roll, int]:
    """Draw ``notes`` on a bar-aligned roll, leaving out notes outside ``pitch_range``.

    ``lead_in_steps`` rests are put before the first note (a pickup's missing beats, the
    roll's ``lead_in``), and the roll is padded with rests to a whole number of bars. Returns
    the roll and how many notes fell outside the pitch range.
    """
    lowest, highest = pitch_range
    inside = (notes.pitch >= lowest) & (notes.pitch <= highest)
    kept = notes.select(inside)
    kept = Notes(kept.track, kept.pitch, kept.start + lead_in_steps, kept.duration)
    bar = steps_per_bar(meta.get("time_signature", (4, 4)), meta.get("resolution", 4))
    end = int((kept.start + kept.duration).max()) if len(kept) else 0
    n_steps = -(-end // bar) * bar
    if n_steps > lead_in_steps:  # the rests before a pickup, which files leave out
        meta["lead_in"] = lead_in_steps
    roll = Roll.from_notes(kept, n_tracks, n_steps, pitch_range, **meta)
    return roll, int((~inside).sum())
