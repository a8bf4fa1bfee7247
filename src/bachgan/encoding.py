"""The model's view of a roll: each voice a sequence of pitch choices plus onsets (numpy only).

A four-voice roll becomes two arrays of shape ``(voices, steps)``:

* ``pitch``: the index of the sounding pitch above ``lowest_pitch``, or ``REST``;
* ``onset``: true where a note starts (a repeated pitch is a new onset).

A voice sings one note at a time by construction; where a source voice is divided (two notes at
once, rare in chorales) its highest note is kept. Pieces are normalised to C major / A minor
(transposed by the fewest semitones) so that the model learns one key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evaluation.metrics import out_of_range_rate
from .roll import Notes, Roll
from .theory import key_of_histogram, key_signature_of_histogram, pitch_class_weights

__all__ = [
    "CHORALE_ENCODING",
    "Encoding",
    "closing_bars",
    "decode",
    "encode",
    "estimate_key_fifths",
    "key_shift",
    "make_windows",
    "move_from_c",
    "window_keys",
    "window_spans",
]


@dataclass(frozen=True)
class Encoding:
    """The grid and pitch range a model works in.

    ``voice_ranges`` holds each voice's lowest and highest pitch index (inclusive) seen in the
    training data; the generator never leaves them.
    """

    lowest_pitch: int = 33
    n_pitches: int = 54
    steps_per_bar: int = 16
    resolution: int = 4
    voice_ranges: tuple[tuple[int, int], ...] = ((0, 53),) * 4

    @property
    def rest(self) -> int:
        """The class index that means "this voice is silent"."""
        return self.n_pitches

    @property
    def n_classes(self) -> int:
        return self.n_pitches + 1

    @property
    def n_voices(self) -> int:
        return len(self.voice_ranges)

    def to_dict(self) -> dict[str, object]:
        return {
            "lowest_pitch": self.lowest_pitch,
            "n_pitches": self.n_pitches,
            "steps_per_bar": self.steps_per_bar,
            "resolution": self.resolution,
            "voice_ranges": [list(r) for r in self.voice_ranges],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Encoding:
        return cls(
            lowest_pitch=int(data["lowest_pitch"]),
            n_pitches=int(data["n_pitches"]),
            steps_per_bar=int(data["steps_per_bar"]),
            resolution=int(data["resolution"]),
            voice_ranges=tuple((int(lo), int(hi)) for lo, hi in data["voice_ranges"]),
        )


#: The pitch grid of the chorale model: MIDI 28 (E1) to 87 (E♭6), wide enough for every voice
#: of every chorale after key normalisation.
CHORALE_ENCODING = Encoding(lowest_pitch=28, n_pitches=60)


def key_shift(fifths: int) -> int:
    """Semitones that move a key signature of ``fifths`` to C major / A minor, in -6..5."""
    shift = -((7 * fifths) % 12)
    return shift + 12 if shift < -6 else shift


def move_from_c(roll: Roll, fifths: int) -> Roll:
    """``roll``, written in C major / A minor, moved to the key signature of ``fifths``: up or
    down, whichever leaves fewer notes outside the voices' usual ranges
    (:data:`~bachgan.evaluation.metrics.USUAL_RANGES`), the shorter way when they tie. F sharp
    major is a
    tritone away either way: always up, it put 8 % of the notes out of the voices' ranges."""
    up = -key_shift(fifths)
    ways = (up, up - 12 if up > 0 else up + 12)
    moved = [roll.transpose(shift) for shift in ways]
    rates = [out_of_range_rate(piece) for piece in moved]
    best = min(range(2), key=lambda way: (rates[way], abs(ways[way]), ways[way]))
    return moved[best]


def estimate_key_fifths(roll: Roll) -> int:
    """The key signature whose major scale holds the most sounding steps (a quick estimate for
    files that carry no key; :func:`~bachgan.theory.key_signature_of_histogram`)."""
    weights = roll.sounding.sum(axis=(0, 1))
    return key_signature_of_histogram(pitch_class_weights(weights, roll.lowest_pitch))


def encode(roll: Roll, encoding: Encoding, normalize_key: bool = True) -> tuple[np.ndarray, ...]:
    """Encode ``roll`` as ``(pitch, onset)`` arrays of shape ``(voices, steps)``.

    Raises ValueError when a note falls outside the encoding's pitch range.
    """
    if normalize_key:
        fifths = roll.key_fifths if roll.key_fifths is not None else estimate_key_fifths(roll)
        roll = roll.transpose(key_shift(fifths))
    notes = roll.notes()
    index = notes.pitch - encoding.lowest_pitch
    if len(notes) and (index.min() < 0 or index.max() >= encoding.n_pitches):
        raise ValueError("a note lies outside the model's pitch range")
    pitch = np.full((roll.n_tracks, roll.n_steps), encoding.rest, dtype=np.int64)
    onset = np.zeros((roll.n_tracks, roll.n_steps), dtype=bool)
    # Paint lower notes first so the highest of simultaneous notes in a voice wins.
    for k in np.argsort(notes.pitch, kind="stable"):
        track, start, stop = notes.track[k], notes.start[k], notes.start[k] + notes.duration[k]
        pitch[track, start:stop] = index[k]
        onset[track, start] = True
    return pitch, _consistent_onsets(pitch, onset, encoding.rest)


def _consistent_onsets(pitch: np.ndarray, onset: np.ndarray, rest: int) -> np.ndarray:
    """Onsets wherever the pitch changes, none on rests."""
    changed = np.ones_like(onset)
    changed[:, 1:] = pitch[:, 1:] != pitch[:, :-1]
    return (onset | changed) & (pitch != rest)


def decode(
    pitch: np.ndarray,
    onset: np.ndarray,
    encoding: Encoding,
    track_names: tuple[str, ...] = (),
    **meta: object,
) -> Roll:
    """Turn ``(voices, steps)`` pitch and onset arrays back into a roll (full MIDI range)."""
    onset = _consistent_onsets(pitch, onset, encoding.rest)
    voice, start = np.nonzero(onset)
    order = np.lexsort((start, voice))
    voice, start = voice[order], start[order]
    sounding = pitch != encoding.rest
    duration = np.empty_like(start)
    for k in range(len(start)):
        stop = start[k] + 1
        row_sounding, row_onset = sounding[voice[k]], onset[voice[k]]
        while stop < pitch.shape[1] and row_sounding[stop] and not row_onset[stop]:
            stop += 1
        duration[k] = stop - start[k]
    notes = Notes(
        voice.astype(np.int64),
        pitch[voice, start].astype(np.int64) + encoding.lowest_pitch,
        start.astype(np.int64),
        duration.astype(np.int64),
    )
    return Roll.from_notes(
        notes,
        pitch.shape[0],
        pitch.shape[1],
        pitch_range=(0, 127),
        resolution=encoding.resolution,
        track_names=track_names,
        **meta,
    )


def make_windows(
    pieces: list[tuple[np.ndarray, np.ndarray]], steps_per_window: int, bar_steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut encoded pieces whose bars last ``bar_steps`` into windows: ``(pitch, onset)`` of
    shape ``(n, voices, steps)`` and ``ends`` ``(n,)``, true for a window that ends where its
    piece ends (the windows of :func:`window_spans`)."""
    spans = window_spans(pieces, steps_per_window, bar_steps)
    if not spans:
        empty = np.zeros((0, 0, steps_per_window), np.int64)
        return empty, empty.astype(bool), np.zeros(0, bool)
    pitches = [pieces[k][0][:, end - steps_per_window : end] for k, end in spans]
    onsets = [pieces[k][1][:, end - steps_per_window : end] for k, end in spans]
    ends = [end == pieces[k][0].shape[1] for k, end in spans]
    return np.stack(pitches), np.stack(onsets), np.array(ends)


def window_spans(
    pieces: list[tuple[np.ndarray, np.ndarray]], steps_per_window: int, bar_steps: int
) -> list[tuple[int, int]]:
    """``(piece, end step)`` of each window of ``steps_per_window`` steps cut from encoded
    pieces whose bars last ``bar_steps``.

    Every window ends on a bar line, one per bar line; where a window is not a whole number of
    bars (five 3/4 bars and a beat make a 4/4 window of four bars) it starts inside a bar, at
    position ``-steps_per_window % bar_steps``. Windows that are entirely silent in any voice
    are left out.
    """
    spans = []
    first_end = -(-steps_per_window // bar_steps) * bar_steps
    for index, (pitch, onset) in enumerate(pieces):
        for end in range(first_end, pitch.shape[1] + 1, bar_steps):
            if onset[:, end - steps_per_window : end].any(axis=1).all():
                spans.append((index, end))
    return spans


def closing_bars(roll: Roll) -> np.ndarray:
    """``(steps,)`` bool: true on every step of the bars where a phrase of ``roll`` closes
    (a bar that holds a fermata)."""
    closing = np.zeros(roll.n_steps, dtype=bool)
    for step in roll.fermatas:
        first = step // roll.steps_per_bar * roll.steps_per_bar
        closing[first : first + roll.steps_per_bar] = True
    return closing


def window_keys(pitch: np.ndarray, encoding: Encoding) -> np.ndarray:
    """``(n,)`` ints: the best-fitting key of each window of pitch codes ``(n, V, T)`` as
    ``tonic + 12 * minor``: 0 is C major, 21 is A minor."""
    indices = pitch.reshape(len(pitch), -1)
    keys = [
        key_of_histogram(pitch_class_weights(counts[:-1], encoding.lowest_pitch))
        for counts in (np.bincount(window, minlength=encoding.n_classes) for window in indices)
    ]
    return np.array([tonic + 12 * (mode == "minor") for tonic, mode in keys], dtype=np.int64)
