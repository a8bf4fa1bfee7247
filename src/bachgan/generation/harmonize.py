"""Write the other voices around a given melody (or bass) with a loaded model.

The melody is put on the model's grid and in C major / A minor, in the octave where the
model's voice sings; its key is the one its file names or the one it is heard in
(:func:`~bachgan.theory.melody_key`); its phrases close at its fermatas or where asked. The
model's backend writes the voices (:mod:`bachgan.generation.completion_backend` completes the
chorale around the melody; :mod:`bachgan.generation.baselines` searches the latent space of
the unconditional baseline), and the result is moved back to the melody's key with the
melody itself unchanged. Melodies of any length work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..encoding import Encoding, decode, encode, key_shift
from ..errors import BachganError
from ..evaluation.metrics import pitch_class_histogram
from ..limits import clamp_tempo
from ..roll import VOICE_NAMES, Roll
from ..theory import key_signature, melody_key, mode_in_signature, parse_key
from .backend import DEFAULT_REVISIONS, KEY_MODES, HarmonyRequest, LoadedModel, meter_bar_steps
from .binarize import DEFAULT_RULES, DecodingRules
from .completion import Revisions
from .endings import closing_bars
from .loading import load_model

__all__ = [
    "RULE_WEIGHT",
    "Harmonization",
    "harmonize",
    "harmonize_with_fit",
    "melody_key_signature",
    "melody_line",
    "melody_mode",
]

#: Weight of the lower voices' part-writing faults (per bar) against the soprano's
#: cross-entropy (per step) in the latent optimisation.
RULE_WEIGHT = 0.1


def melody_line(roll: Roll) -> Roll:
    """The melody to harmonize: the only track, or the first track of a multi-track roll.

    Raises :class:`BachganError` if it has no notes or holds chords.
    """
    track = roll.sounding[:1]
    if not track.any():
        raise BachganError("the melody has no notes")
    crowded = np.flatnonzero(track[0].sum(axis=1) > 1)
    if crowded.size:
        bar, step = divmod(int(crowded[0]), roll.steps_per_bar)
        raise BachganError(
            f"the melody sounds two or more notes at once on {crowded.size} sixteenths, first "
            f"in bar {bar + 1}, beat {step // roll.resolution + 1} (chords, or notes that "
            "overlap or fall within a sixteenth of each other); give one line, one note at a "
            "time"
        )
    return Roll(
        track,
        roll.onsets[:1],
        roll.lowest_pitch,
        roll.resolution,
        roll.time_signature,
        roll.tempo_bpm,
        ("Soprano",),
        (roll.programs[0],),
        roll.key_fifths,
        roll.key_mode,
        lead_in=roll.lead_in,
    )


@dataclass(frozen=True)
class Harmonization:
    """A harmonized melody, how closely the generator's own soprano followed the melody
    (fraction of steps) before the melody was written back, and by how many octaves the
    melody was moved to lie where its voice sings (0 when it already did), so that every
    voice stays inside its range."""

    roll: Roll
    soprano_fit: float
    octaves_moved: int = 0

    def moved_note(self, voice: str) -> str:
        """What the listener is told when the melody was moved (empty when it was not)."""
        if not self.octaves_moved:
            return ""
        count = (
            "an octave" if abs(self.octaves_moved) == 1 else f"{abs(self.octaves_moved)} octaves"
        )
        way = "higher" if self.octaves_moved > 0 else "lower"
        return f"the melody is sung {count} {way}, where the {voice} sings"


def harmonize(
    melody: Roll,
    model: LoadedModel | str | None = None,
    seed: int = 0,
    steps: int = 150,
    candidates: int = 8,
    voice: str = "soprano",
    revisions: Revisions = DEFAULT_REVISIONS,
    pickup_beats: float = 0,
    phrases: Sequence[int] | None = (),
    key: str | None = None,
) -> Roll:
    """Harmonize ``melody`` (see :func:`melody_line`) in four voices; the melody is the
    ``voice`` (soprano, or with a completion model any voice: a given bass gets soprano, alto
    and tenor above it), unchanged, in its own key, which the result carries (its key
    signature and :func:`melody_mode`). A melody that starts with a pickup of
    ``pickup_beats`` beats before its first downbeat is harmonized with its bars where they
    belong. A completion model closes a phrase, marked with a fermata, in each bar of
    ``phrases`` (counted from the first downbeat, from 1) and at the end; with ``phrases``
    ``None``, where the melody's own fermatas stand (a score's), which the result keeps."""
    return harmonize_with_fit(
        melody,
        model,
        seed,
        steps,
        candidates,
        voice=voice,
        revisions=revisions,
        pickup_beats=pickup_beats,
        phrases=phrases,
        key=key,
    ).roll


def harmonize_with_fit(
    melody: Roll,
    model: LoadedModel | str | None = None,
    seed: int = 0,
    steps: int = 150,
    candidates: int = 8,
    progress: Callable[[float], None] | None = None,
    rule_weight: float = RULE_WEIGHT,
    rules: DecodingRules = DEFAULT_RULES,
    revisions: Revisions = DEFAULT_REVISIONS,
    voice: str = "soprano",
    pickup_beats: float = 0,
    phrases: Sequence[int] | None = (),
    key: str | None = None,
) -> Harmonization:
    """:func:`harmonize`, also reporting how well the generator's soprano fitted the melody.

    A ``completion`` model writes the other voices given the melody as ``voice``, in one pass
    and ``revisions`` (its fit is 1). A ``musegan`` model finds them by latent optimisation:
    ``steps`` of Adam on ``candidates`` latent points, ``progress`` called with the fraction
    done, ``rule_weight`` weighing the lower voices' part-writing faults under the melody (0:
    fit the melody only) and ``rules`` the costs with which the lower voices are then decoded
    (all 0: each step's most likely pitch). ``key`` (``"D major"``) overrides the key the
    melody's file names or the one it is heard in (:func:`melody_key_signature`)."""
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    row = _voice_row(voice, loaded)
    line = melody_line(melody)
    encoding = loaded.encoding
    if line.resolution != encoding.resolution:
        raise BachganError(f"the melody's grid is not {encoding.resolution} steps per quarter")
    meter_bar_steps(loaded, line.time_signature)
    line, lead_in = _with_bar_lines(line, pickup_beats)
    own_fermatas = tuple(step + lead_in for step in melody.fermatas) if phrases is None else ()
    if own_fermatas:
        last = line.n_bars - 1
        closes = sorted({step // line.steps_per_bar for step in own_fermatas} | {last})
    else:
        if phrases:
            loaded.require("phrases")
        n_bars = -(-line.n_steps // line.steps_per_bar)
        closes = closing_bars(phrases or (), n_bars, pickup_bar=lead_in > 0)
    fifths, mode = melody_key_signature(line, melody.fermatas, key)
    shift = fit_line(line, key_shift(fifths), encoding, voice_centre(loaded, row), row)
    target_pitch, target_onset = _encode_line(line, shift, encoding)
    request = HarmonyRequest(
        (target_pitch, target_onset),
        row,
        mode,
        line.steps_per_bar,
        closes,
        seed,
        revisions,
        steps,
        candidates,
        rule_weight,
        rules,
        progress,
    )
    pitch, onset, fit = loaded.backend.harmonize(loaded, request)
    meta = {"key_fifths": fifths, "key_mode": mode, "time_signature": line.time_signature}
    tempo = clamp_tempo(line.tempo_bpm)  # an absurd tempo marking is played within the limits
    roll = decode(pitch, onset, encoding, VOICE_NAMES, tempo_bpm=tempo, **meta)
    ends_held = _ends_on_held_note(target_pitch, line.steps_per_bar, encoding)
    roll = loaded.backend.hold_close(roll) if ends_held else roll
    if own_fermatas:  # the melody's own, whatever the model
        roll = replace(roll, fermatas=own_fermatas)
    else:
        roll = loaded.backend.mark_phrases(roll, closes)
    back = key_shift(fifths)
    roll = _silent_before(roll.transpose(-back), line.lead_in + lead_in)
    return Harmonization(roll, fit, (shift - back) // 12)


def _with_bar_lines(line: Roll, pickup_beats: float) -> tuple[Roll, int]:
    """``line`` with rests before it, so that after a pickup of ``pickup_beats`` its first
    downbeat falls on a bar line, and how many steps of rest were put before it."""
    beats_per_bar = line.steps_per_bar // line.resolution
    pickup = pickup_beats * line.resolution
    if not (0 <= pickup_beats < beats_per_bar and float(pickup).is_integer()):
        raise BachganError(
            f"a pickup is 0 to {beats_per_bar - 1} beats before the first downbeat, in "
            f"sixteenths (got {pickup_beats})"
        )
    lead_in = (line.steps_per_bar - int(pickup)) % line.steps_per_bar
    if not lead_in:
        return line, 0
    pad = np.zeros((1, lead_in, line.n_pitches), bool)
    sounding = np.concatenate([pad, line.sounding], axis=1)
    onsets = np.concatenate([pad, line.onsets], axis=1)
    return line.with_arrays(sounding, onsets), lead_in


def _silent_before(roll: Roll, lead_in: int) -> Roll:
    """``roll`` with nothing sounding in its first ``lead_in`` steps, which only complete the
    bar of an upbeat (its ``lead_in``: files open with the upbeat itself)."""
    if not lead_in:
        return roll
    if lead_in >= roll.steps_per_bar:  # an upbeat asked for a melody that has one already
        return roll.slice_steps(lead_in, roll.n_steps)
    sounding, onsets = roll.sounding.copy(), roll.onsets.copy()
    sounding[:, :lead_in] = onsets[:, :lead_in] = False
    onsets[:, lead_in] |= sounding[:, lead_in]
    return replace(roll, sounding=sounding, onsets=onsets, lead_in=lead_in)


def _voice_row(voice: str, loaded: LoadedModel) -> int:
    """The index of the voice a melody is given as; only a completion model takes a melody
    in a voice other than the soprano."""
    names = [name.lower() for name in VOICE_NAMES]
    if voice not in names:
        raise BachganError(f"unknown voice {voice!r}; choose from {', '.join(names)}")
    if voice != "soprano":
        loaded.require("lower voices")
    return names.index(voice)


def fit_line(line: Roll, shift: int, encoding: Encoding, centre: float, voice: int = 0) -> int:
    """The transposition into C major / A minor, ``shift``, when it puts the melody inside the
    model's range for ``voice`` (0: the soprano); otherwise ``shift`` give or take the octaves
    that do, with the melody's average pitch nearest ``centre`` (where the model's voice
    usually sings)."""
    used = np.flatnonzero(line.sounding.any(axis=(0, 1))) + line.lowest_pitch
    average = np.nonzero(line.sounding[0])[1].mean() + line.lowest_pitch  # over sounding steps
    low, high = (r + encoding.lowest_pitch for r in encoding.voice_ranges[voice])
    fitting = [
        shift + octave
        for octave in (0, 12, -12, 24, -24, 36, -36)
        if used.min() + shift + octave >= low and used.max() + shift + octave <= high
    ]
    if shift in fitting:
        return shift
    if fitting:
        return min(fitting, key=lambda candidate: abs(average + candidate - centre))
    raise BachganError(
        f"the melody spans MIDI {used.min()}-{used.max()}, wider than the "
        f"{VOICE_NAMES[voice].lower()} range the model knows ({low - shift}-{high - shift} "
        "in this key)"
    )


def voice_centre(loaded: LoadedModel, voice: int = 0, windows: int = 64) -> float:
    """The average MIDI pitch of the model's ``voice`` (0: the soprano) over ``windows`` fixed
    samples (of one pass, for a completion model); worked out once per loaded model."""
    if voice not in loaded.voice_centres:
        loaded.voice_centres[voice] = _sung_centre(loaded, voice, windows)
    return loaded.voice_centres[voice]


def _sung_centre(loaded: LoadedModel, voice: int, windows: int) -> float:
    rng = torch.Generator().manual_seed(0)
    sung = loaded.backend.sung_pitches(loaded, voice, windows, rng)
    sounding = sung[sung != loaded.encoding.rest]
    return float(sounding.float().mean()) + loaded.encoding.lowest_pitch


def melody_key_signature(
    line: Roll, phrase_ends: Sequence[int] = (), key: str | None = None
) -> tuple[int, str]:
    """``(fifths, mode)`` a one-voice ``line`` is harmonized in: ``key`` when given (``"D
    major"``), else the key signature its file names (with :func:`melody_mode`), else the key
    it is heard in, from its notes, its last note and the notes at ``phrase_ends`` (steps,
    such as a score's fermatas; :func:`~bachgan.theory.melody_key`)."""
    if key is not None:
        try:
            return parse_key(key)
        except ValueError as error:
            raise BachganError(str(error)) from None
    if line.key_fifths is not None:
        return line.key_fifths, melody_mode(line, line.key_fifths)
    notes = line.notes()
    tonic, mode = melody_key(notes.pitch, notes.start, notes.duration, phrase_ends)
    return key_signature(tonic, mode), mode


def melody_mode(line: Roll, fifths: int) -> str:
    """The melody's mode, for the harmonization's key signature: the one its file names, else
    the key of the signature with ``fifths``, major or relative minor, that its pitch classes
    fit better."""
    if line.key_mode in KEY_MODES:
        return line.key_mode
    return mode_in_signature(pitch_class_histogram(line), fifths)


def _encode_line(line: Roll, shift: int, encoding: Encoding) -> tuple[np.ndarray, np.ndarray]:
    """The melody as the model's soprano: pitch classes and onsets, ``(steps,)`` each."""
    shifted = replace(line, lowest_pitch=line.lowest_pitch + shift)
    pitch, onset = encode(shifted, encoding, normalize_key=False)
    return pitch[0], onset[0]


def _ends_on_held_note(pitch: np.ndarray, bar_steps: int, encoding: Encoding) -> bool:
    last_bar = pitch[-bar_steps:]
    return bool((last_bar == last_bar[0]).all() and last_bar[0] != encoding.rest)
