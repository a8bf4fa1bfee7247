"""Read and write Standard MIDI Files with symusic; quantize them onto the roll's grid.

symusic's C++ parser is fast but trusts its input: a truncated file or a chunk length past the
end of the file can corrupt its heap. :func:`check_midi_bytes` therefore validates the chunk
structure in Python first, and the corpus runs readers in worker processes.
"""

from __future__ import annotations

import os
import struct
from collections import Counter
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import symusic

from ..errors import BadMidiError, SkipFile
from ..limits import check_roll_size
from ..roll import (
    DEFAULT_PITCH_RANGE,
    Conversion,
    Notes,
    Roll,
    roll_from_notes,
    split_voices,
)
from .files import atomic_write

__all__ = [
    "MAX_MIDI_BYTES",
    "MAX_STEPS",
    "check_midi_bytes",
    "count_unended_notes",
    "read_midi",
    "read_midi_conversion",
    "to_score",
    "write_midi",
]

#: Larger files are skipped: a chorale is a few kB, a long symphony a few hundred.
MAX_MIDI_BYTES = 16 * 1024 * 1024
#: Longer pieces are skipped before allocating a roll (about 20 minutes at 100 bpm).
MAX_STEPS = 8_000 * 4
_TICKS_PER_STEP = 120
_VELOCITY = 80
#: The marker text that stands for a fermata (MIDI has none).
_FERMATA = "fermata"


def check_midi_bytes(data: bytes) -> None:
    """Raise :class:`BadMidiError` unless ``data`` has a sound Standard MIDI File structure.

    Checks the ``MThd`` header, format 0 or 1, a positive ticks-per-quarter division (SMPTE
    time is refused) and that every chunk lies inside the file.
    """
    if len(data) == 0:
        raise BadMidiError("empty file")
    if len(data) > MAX_MIDI_BYTES:
        raise BadMidiError(f"file larger than {MAX_MIDI_BYTES // 2**20} MB")
    if len(data) < 14 or data[:4] != b"MThd":
        raise BadMidiError("not a MIDI file (no MThd header)")
    header_length, midi_format, _, division = struct.unpack(">IHHH", data[4:14])
    if header_length < 6:
        raise BadMidiError("corrupt MIDI header")
    if midi_format == 2:
        raise BadMidiError("MIDI format 2 (sequential patterns) is not supported")
    if midi_format > 2:
        raise BadMidiError(f"unknown MIDI format {midi_format}")
    if division & 0x8000:
        raise BadMidiError("SMPTE time division is not supported")
    if division == 0:
        raise BadMidiError("ticks per quarter note is 0")
    _check_chunks(data, 8 + header_length)


def _check_chunks(data: bytes, offset: int) -> None:
    tracks = 0
    while offset < len(data):
        if offset + 8 > len(data):
            raise BadMidiError("truncated file (incomplete chunk header)")
        chunk_type = data[offset : offset + 4]
        (length,) = struct.unpack(">I", data[offset + 4 : offset + 8])
        if offset + 8 + length > len(data):
            raise BadMidiError("truncated file (chunk runs past the end)")
        tracks += chunk_type == b"MTrk"
        offset += 8 + length
    if tracks == 0:
        raise BadMidiError("no track chunks")


def read_midi(
    path: str | os.PathLike,
    resolution: int = 4,
    pitch_range: tuple[int, int] = DEFAULT_PITCH_RANGE,
    voices: int | None = None,
    max_bars: int | None = None,
) -> Roll:
    """Read a MIDI file into a :class:`Roll`; see :func:`read_midi_conversion`."""
    return read_midi_conversion(path, resolution, pitch_range, voices, max_bars).roll


def read_midi_conversion(
    path: str | os.PathLike,
    resolution: int = 4,
    pitch_range: tuple[int, int] = DEFAULT_PITCH_RANGE,
    voices: int | None = None,
    max_bars: int | None = None,
) -> Conversion:
    """Read a MIDI file, quantized to ``resolution`` steps per quarter note.

    Drum tracks are left out (and counted). Each other track with notes becomes a track of the
    roll, unless ``voices`` is given and the file has another number of tracks: then all notes
    are spread over ``voices`` tracks by pitch order (:func:`~bachgan.roll.split_voices`).
    Step 0 is the file's time 0, taken as a downbeat, as MIDI's time signatures define, unless
    the file opens with a pickup bar (:func:`_pickup`): then rests are put before it so that
    the first full bar starts on a bar line of the roll's meter.

    The file's tracks, notes and length are checked against :mod:`bachgan.limits` (and
    ``max_bars``) before any piano-roll is allocated, so a small hostile file cannot cost
    much memory.

    Raises
    ------
    SkipFile
        With the reason, when the file cannot be used.
    """
    data = _read_bytes(Path(path))
    score = _parse(data)
    melodic = [t for t in score.tracks if not t.is_drum and t.note_num() > 0]
    drum_notes = sum(t.note_num() for t in score.tracks if t.is_drum)
    if not melodic:
        raise SkipFile("drums only" if drum_notes else "no notes")
    meta = _score_meta(score, resolution)
    lead_in = 0
    pickup = _pickup(score, resolution)
    if pickup is not None:
        meta["time_signature"], lead_in = pickup
    n_tracks = len(melodic) if voices is None or len(melodic) == voices else voices
    _check_size(score, melodic, n_tracks, meta, pitch_range, max_bars)
    grid = score.resample(tpq=resolution, min_dur=1)
    grid_melodic = [t for t in grid.tracks if not t.is_drum and t.note_num() > 0]
    notes = _collect_notes(grid_melodic)
    names = tuple(t.name or f"Track {i + 1}" for i, t in enumerate(grid_melodic))
    programs = tuple(int(t.program) for t in grid_melodic)
    n_tracks = len(grid_melodic)
    if voices is not None and n_tracks != voices:
        notes, n_tracks, names, programs = split_voices(notes, voices), voices, (), ()
    roll, out_of_range = roll_from_notes(
        notes,
        n_tracks,
        pitch_range,
        lead_in_steps=lead_in,
        track_names=names,
        programs=programs,
        **meta,
    )
    if roll.n_steps == 0:
        raise SkipFile("no notes inside the pitch range")
    fermatas = {int(m.time) + lead_in for m in grid.markers if m.text.strip() == _FERMATA}
    roll = replace(roll, fermatas=tuple(sorted(s for s in fermatas if 0 <= s < roll.n_steps)))
    return Conversion(
        roll,
        notes_out_of_range=out_of_range,
        drum_notes=drum_notes,
        notes_merged=_coinciding_notes(notes, pitch_range),
        notes_unended=count_unended_notes(data),
    )


def _coinciding_notes(notes: Notes, pitch_range: tuple[int, int]) -> int:
    """Notes inside ``pitch_range`` that start with another of the same track and pitch, so
    that the roll holds them as one."""
    inside = (notes.pitch >= pitch_range[0]) & (notes.pitch <= pitch_range[1])
    keys = np.stack([notes.track, notes.pitch, notes.start], axis=1)[inside]
    return len(keys) - len(np.unique(keys, axis=0))


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise SkipFile("no such file")
    if path.is_dir():
        raise SkipFile("a folder, not a file")
    if not path.is_file():
        raise SkipFile("not a regular file")
    try:
        with open(path, "rb") as handle:  # a larger file is refused by its first bytes
            return handle.read(MAX_MIDI_BYTES + 1)
    except OSError as error:
        raise SkipFile(f"unreadable ({error.strerror or error})") from error


def _parse(data: bytes) -> symusic.Score:
    check_midi_bytes(data)
    try:
        score = symusic.Score.from_midi(data)
    except Exception as error:  # symusic raises RuntimeError, ValueError and others
        raise BadMidiError(f"MIDI parser error: {error}") from error
    _check_timing(score)
    return score


def _check_size(
    score: symusic.Score,
    melodic: list[symusic.core.TrackTick],
    n_tracks: int,
    meta: dict[str, object],
    pitch_range: tuple[int, int],
    max_bars: int | None,
) -> None:
    """Refuse, from the parsed score alone, a file whose roll would be too large."""
    resolution = int(meta["resolution"])
    end_steps = score.end() * resolution / score.ticks_per_quarter
    n_notes = sum(t.note_num() for t in melodic)
    signature = meta.get("time_signature", (4, 4))
    check_roll_size(n_tracks, n_notes, end_steps, signature, resolution, pitch_range, max_bars)


def count_unended_notes(data: bytes) -> int:
    """How many note-ons of a Standard MIDI File no note-off ends (per track, channel and
    pitch). Parsers drop such notes; the reader reports how many were lost."""
    header_length = struct.unpack(">I", data[4:8])[0]
    offset, unended = 8 + header_length, 0
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset + 4 : offset + 8])
        if data[offset : offset + 4] == b"MTrk":
            unended += _unended_in_track(data[offset + 8 : offset + 8 + length])
        offset += 8 + length
    return unended


def _unended_in_track(track: bytes) -> int:
    sounding: Counter = Counter()
    position, running = 0, 0
    while position < len(track):
        _, position = _variable_length(track, position)  # delta time
        if position >= len(track):
            break
        if track[position] >= 0xF0:  # meta or system exclusive: skipped, no running status
            position += 2 if track[position] == 0xFF else 1
            length, position = _variable_length(track, position)
            position += length
            continue
        if track[position] & 0x80:
            running, position = track[position], position + 1
        kind, data = running & 0xF0, track[position : position + 2]
        if kind in (0x80, 0x90) and len(data) == 2:
            key = (running & 0x0F, data[0])
            if kind == 0x90 and data[1] > 0:
                sounding[key] += 1
            elif sounding[key]:
                sounding[key] -= 1
        position += 1 if kind in (0xC0, 0xD0) else 2
    return sum(sounding.values())


def _variable_length(data: bytes, position: int) -> tuple[int, int]:
    """A MIDI variable-length quantity at ``position``: its value and the position after it."""
    value = 0
    while position < len(data):
        byte = data[position]
        value, position = (value << 7) | (byte & 0x7F), position + 1
        if not byte & 0x80:
            break
    return value, position


def _check_timing(score: symusic.Score) -> None:
    """Refuse files that parse "successfully" into nonsense: negative times, zero tempo, huge."""
    for tempo in score.tempos:
        if not np.isfinite(tempo.qpm) or tempo.qpm <= 0:
            raise BadMidiError("tempo of zero or not finite")
    for track in score.tracks:
        if track.note_num() and int(track.notes.numpy()["time"].min()) < 0:
            raise BadMidiError("negative note time (corrupt delta time)")
    end_steps = score.end() * 4 / max(score.ticks_per_quarter, 1)
    if end_steps > MAX_STEPS:
        raise SkipFile(f"longer than {MAX_STEPS // 16} bars of 4/4")


def _collect_notes(tracks: list[symusic.core.TrackTick]) -> Notes:
    parts = []
    for index, track in enumerate(tracks):
        array = track.notes.numpy()
        columns = (
            np.full(len(array["time"]), index),
            array["pitch"].astype(np.int64) & 0x7F,
            array["time"].astype(np.int64),
            np.maximum(array["duration"].astype(np.int64), 1),
        )
        parts.append(np.stack(columns, axis=1))
    stacked = np.concatenate(parts)
    return Notes(*(stacked[:, i].copy() for i in range(4)))


def _pickup(score: symusic.Score, resolution: int) -> tuple[tuple[int, int], int] | None:
    """A pickup bar as notation programs write one: the file opens with one bar of a short
    time signature (1/4) and the piece's own (4/4) follows. Returns the piece's time signature
    and the steps of rest that complete the pickup bar; ``None`` when there is no such bar."""
    signatures = score.time_signatures
    if len(signatures) < 2 or signatures[0].time != 0:
        return None
    first, metre = signatures[0], signatures[1]
    quarters = 4 / metre.denominator * metre.numerator
    pickup_quarters = metre.time / score.ticks_per_quarter
    first_bar = 4 / first.denominator * first.numerator
    missing = (quarters - pickup_quarters) * resolution
    if pickup_quarters != first_bar or not 0 < missing < quarters * resolution:
        return None
    if not float(missing).is_integer():
        return None
    return (int(metre.numerator), int(metre.denominator)), int(missing)


def _upbeat_signature(roll: Roll, steps: int) -> tuple[int, int]:
    """The time signature of a bar of ``steps`` steps: quarters (1/4, 2/4...) where they fit,
    else eighths or sixteenths."""
    for denominator in (4, 8, 16, 32):
        count = Fraction(steps * denominator, 4 * roll.resolution)
        if count.denominator == 1:
            return int(count), denominator
    raise ValueError(f"an upbeat of {steps} steps has no time signature")


def _score_meta(score: symusic.Score, resolution: int) -> dict[str, object]:
    meta: dict[str, object] = {"resolution": resolution}
    if len(score.time_signatures):
        signature = score.time_signatures[0]
        meta["time_signature"] = (int(signature.numerator), int(signature.denominator))
    if len(score.tempos):
        meta["tempo_bpm"] = round(float(score.tempos[0].qpm), 3)
    if len(score.key_signatures):
        key = score.key_signatures[0]
        meta["key_fifths"] = int(key.key)
        meta["key_mode"] = "minor" if key.tonality else "major"
    return meta


def write_midi(roll: Roll, path: str | os.PathLike) -> Path:
    """Write ``roll`` as a MIDI file: one named track per roll track, with its program,
    the roll's tempo, time signature and key. The file appears whole or not at all."""
    with atomic_write(path) as temporary:
        to_score(roll).dump_midi(str(temporary))
    return Path(path)


def to_score(roll: Roll) -> symusic.Score:
    """The roll as a symusic score (ticks: ``resolution * 120`` per quarter note). A roll
    with a ``lead_in`` opens with its upbeat: a first bar of a short time signature (1/4 for
    one beat of 4/4), then the roll's own, as notation programs write a pickup."""
    score = symusic.Score(roll.resolution * _TICKS_PER_STEP)
    score.tempos.append(symusic.Tempo(0, float(roll.tempo_bpm)))
    if roll.lead_in:
        upbeat = roll.steps_per_bar - roll.lead_in
        score.time_signatures.append(symusic.TimeSignature(0, *_upbeat_signature(roll, upbeat)))
        at = upbeat * _TICKS_PER_STEP
        score.time_signatures.append(symusic.TimeSignature(at, *roll.time_signature))
        roll = roll.slice_steps(roll.lead_in, roll.n_steps)
    else:
        score.time_signatures.append(symusic.TimeSignature(0, *roll.time_signature))
    if roll.key_fifths is not None:
        minor = 1 if roll.key_mode == "minor" else 0
        score.key_signatures.append(symusic.KeySignature(0, roll.key_fifths, minor))
    for step in roll.fermatas:  # MIDI has no fermata: a marker names it
        score.markers.append(symusic.TextMeta(int(step) * _TICKS_PER_STEP, _FERMATA))
    # A conductor track first, as notation programs write it: the tempo, time and key
    # signatures and the markers sit in it, so that every voice's track is read in the meter.
    score.tracks.append(symusic.Track(name="Conductor"))
    notes = roll.notes()
    for index, (name, program) in enumerate(zip(roll.track_names, roll.programs, strict=True)):
        track = symusic.Track(name=name, program=int(program), is_drum=False)
        mine = notes.select(notes.track == index)
        order = np.lexsort((mine.pitch, mine.start))
        for pitch, start, duration in zip(
            mine.pitch[order], mine.start[order], mine.duration[order], strict=True
        ):
            track.notes.append(
                symusic.Note(
                    int(start) * _TICKS_PER_STEP,
                    int(duration) * _TICKS_PER_STEP,
                    int(pitch),
                    _VELOCITY,
                )
            )
        score.tracks.append(track)
    return score
