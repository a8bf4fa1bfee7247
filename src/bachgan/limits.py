"""What one request may ask for: the caps that keep memory, time and disk bounded.

The README's "Limits" section states these numbers. The command line, the Python API and the
browser app check them here, so that a request beyond them is a one-line
:class:`~bachgan.errors.BachganError` before any large allocation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import BachganError, SkipFile
from .roll import steps_per_bar

__all__ = [
    "APP_LIMITS",
    "MAX_AUDIO_SECONDS",
    "MAX_BARS",
    "MAX_CANDIDATES",
    "MAX_IMAGE_COLUMNS",
    "MAX_NOTES",
    "MAX_PIECES",
    "MAX_REVISIONS",
    "MAX_ROLL_CELLS",
    "MAX_SCORE_BYTES",
    "MAX_SCORE_MEASURES",
    "MAX_SCORE_QUARTERS",
    "MAX_TRACKS",
    "TEMPO_RANGE_BPM",
    "AppLimits",
    "check_count",
    "check_roll_size",
    "check_temperature",
    "check_tempo",
    "clamp_tempo",
]

#: Quarter notes per minute that pieces are written and played at.
TEMPO_RANGE_BPM = (20.0, 320.0)
#: Bars of one generated piece (about 13 minutes at 80 bpm).
MAX_BARS = 256
#: Pieces of one ``generate`` call.
MAX_PIECES = 1000
#: Samples the critic chooses each piece from.
MAX_CANDIDATES = 64
#: Revision rounds of a completion model per piece.
MAX_REVISIONS = 1000
#: Tracks of a MIDI file read track by track (a file read into a fixed number of voices may
#: have more: its notes are spread over the voices).
MAX_TRACKS = 64
#: Notes of one MIDI file (a chorale has about 300, a long symphony tens of thousands).
MAX_NOTES = 100_000
#: Cells (tracks x steps x pitches) of one piano-roll read from a file: a roll is built with
#: about 6 bytes per cell, so this keeps one file under 200 MB.
MAX_ROLL_CELLS = 2**25
#: Bytes of one MusicXML or Humdrum score, and what an .mxl archive may inflate to (256 bars
#: of four voices as bachgan writes them are about 1 MB).
MAX_SCORE_BYTES = 4 * 2**20
#: Measures of one part of a score (as long as the longest MIDI file read: 2000 bars of 4/4).
MAX_SCORE_MEASURES = 2000
#: Quarter notes of one note, rest or forward of a score.
MAX_SCORE_QUARTERS = 8000
#: Columns of a seed image (one per sixteenth note: 250 bars of 4/4).
MAX_IMAGE_COLUMNS = 16_000
#: Length of one rendered WAV file (an hour is about 635 MB of 44.1 kHz stereo, 318 MB mono).
MAX_AUDIO_SECONDS = 3600.0


@dataclass(frozen=True)
class AppLimits:
    """What one request to the browser app may ask for: tighter than the command line's caps,
    so that no visitor can tie the server up."""

    max_bars: int = 32
    max_candidates: int = 8
    tempo_range: tuple[float, float] = (30.0, 240.0)
    max_upload_bytes: int = 1_000_000
    max_melody_bars: int = 32
    #: Bytes of pieces and uploads kept on disk (the largest piece, 32 bars at 30 bpm, is
    #: about 23 MB); beyond it, and after ``max_age_seconds``, the oldest are deleted.
    disk_budget_bytes: int = 500_000_000
    max_age_seconds: float = 3600.0
    #: Cores one request computes on; the app serves two requests at a time.
    threads_per_request: int = 1


#: The browser app's caps.
APP_LIMITS = AppLimits()


def check_tempo(bpm: float, tempo_range: tuple[float, float] = TEMPO_RANGE_BPM) -> float:
    """``bpm`` as a float, or :class:`BachganError` outside ``tempo_range``."""
    low, high = tempo_range
    if not (math.isfinite(bpm) and low <= bpm <= high):
        raise BachganError(f"tempo {bpm:g} is outside {low:g}-{high:g} quarter notes per minute")
    return float(bpm)


def check_count(what: str, value: int, high: int, low: int = 1) -> int:
    """``value`` as an int, or :class:`BachganError` outside ``low..high``."""
    if not low <= value <= high:
        raise BachganError(f"{what} must be between {low} and {high} (got {value})")
    return int(value)


def check_temperature(temperature: float) -> float:
    """A sampling temperature: finite and above 0."""
    if not (math.isfinite(temperature) and temperature > 0):
        raise BachganError(f"temperature must be a number above 0 (got {temperature:g})")
    return float(temperature)


def clamp_tempo(bpm: float, tempo_range: tuple[float, float] = TEMPO_RANGE_BPM) -> float:
    """``bpm`` moved into ``tempo_range`` (a file's odd tempo marking); 100 if not finite."""
    low, high = tempo_range
    return min(max(float(bpm), low), high) if math.isfinite(bpm) else 100.0


def check_roll_size(
    n_tracks: int,
    n_notes: int,
    end_steps: float,
    time_signature: tuple[int, int],
    resolution: int,
    pitch_range: tuple[int, int],
    max_bars: int | None = None,
) -> None:
    """Refuse, with :class:`SkipFile`, a file whose piano-roll would exceed the caps: checked
    on the parsed notes (``end_steps``: where the last one ends, in grid steps), before any
    roll is allocated."""
    if n_tracks > MAX_TRACKS:
        raise SkipFile(f"{n_tracks} tracks with notes (at most {MAX_TRACKS})")
    if n_notes > MAX_NOTES:
        raise SkipFile(f"{n_notes} notes (at most {MAX_NOTES})")
    try:
        bar = steps_per_bar(time_signature, resolution)
    except ValueError as error:
        numerator, denominator = time_signature
        raise SkipFile(f"time signature {numerator}/{denominator} off the grid") from error
    n_bars = math.ceil(end_steps / bar)
    if max_bars is not None and n_bars > max_bars:
        raise SkipFile(f"{n_bars} bars (at most {max_bars})")
    n_pitches = pitch_range[1] - pitch_range[0] + 1
    if n_tracks * n_bars * bar * n_pitches > MAX_ROLL_CELLS:
        raise SkipFile(f"too large for a piano-roll ({n_tracks} tracks x {n_bars} bars)")
