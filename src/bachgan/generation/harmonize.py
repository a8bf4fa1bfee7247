"""Write the other three voices around a given melody with the trained generator.

A conditional (``completion``) model completes the chorale whose soprano is the melody: one
pass of the generator and its revision rounds (:mod:`bachgan.generation.completion`).

For an unconditional (``musegan``) model the method is latent optimisation (GAN inversion):
a batch of latent points is optimised with Adam so that the generator's soprano matches the
melody (cross-entropy on its pitch logits) while its alto, tenor and bass, sounding under the
melody itself, avoid parallel perfect intervals, leaps over an octave and voice crossing; the
best candidate's lower voices are then decoded under the melody with the voice-leading
decoding (:mod:`bachgan.generation.binarize`), and the melody itself is written back unchanged.
Since
both generators are convolutional over time, melodies of any length work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.nn import functional as F

from ..encoding import Encoding, decode, encode, key_shift
from ..errors import BachganError
from ..evaluation.metrics import pitch_class_histogram
from ..limits import clamp_tempo
from ..models.musegan import Noise, VoiceLeadingFaults
from ..roll import VOICE_NAMES, Roll
from ..theory import key_signature, melody_key, mode_in_signature, parse_key
from .binarize import DEFAULT_RULES, DecodingRules, hold_lone_rests, voice_leading_decode
from .completion import NO_REVISIONS, Revisions, complete_chorale, compose_chorales
from .compose import (
    DEFAULT_REVISIONS,
    KEY_MODES,
    LoadedModel,
    fermata_steps,
    hold_final_chord,
    load_model,
    meter_bar_steps,
)

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
        closes = _closing_bars(phrases or (), line, lead_in, loaded)
    fifths, mode = melody_key_signature(line, melody.fermatas, key)
    shift = fit_line(line, key_shift(fifths), encoding, voice_centre(loaded, row), row)
    target_pitch, target_onset = _encode_line(line, shift, encoding)
    melody_codes = (target_pitch, target_onset)
    if loaded.completes:
        if progress is not None:
            progress(0.0)
        given = _Given(melody_codes, row, mode, line.steps_per_bar)
        pitch, onset = _complete_under(loaded, given, seed, revisions, closes)
        fit = 1.0
    else:
        noise = _optimise(loaded, target_pitch, seed, steps, candidates, rule_weight, progress)
        pitch, onset, fit = _decoded_under(loaded, noise, melody_codes, rules)
    meta = {"key_fifths": fifths, "key_mode": mode, "time_signature": line.time_signature}
    tempo = clamp_tempo(line.tempo_bpm)  # an absurd tempo marking is played within the limits
    roll = decode(pitch, onset, encoding, VOICE_NAMES, tempo_bpm=tempo, **meta)
    ends_held = _ends_on_held_note(target_pitch, line.steps_per_bar, encoding)
    roll = hold_final_chord(roll) if ends_held else roll
    if loaded.completes:
        roll = replace(roll, fermatas=own_fermatas or fermata_steps(roll, closes))
    back = key_shift(fifths)
    roll = _silent_before(roll.transpose(-back), line.lead_in + lead_in)
    return Harmonization(roll, fit, (shift - back) // 12)


def _decoded_under(
    loaded: LoadedModel, noise: Noise, melody_codes: tuple[np.ndarray, np.ndarray], rules
) -> tuple[np.ndarray, np.ndarray, float]:
    """The lower voices a musegan model writes from ``noise``, decoded under the melody, and
    the share of steps where its own soprano sang the melody."""
    with torch.no_grad():
        output = loaded.generator(noise)
    log_probs = output.pitch_logits.log_softmax(dim=-1)[0].numpy()
    fit = float((log_probs[0].argmax(axis=-1) == melody_codes[0]).mean())
    onset = (output.onset_logits > 0)[0].numpy()
    pitch, onset = _lower_voices_under(melody_codes, log_probs, onset, loaded.encoding, rules)
    return pitch, onset, fit


def _lower_voices_under(
    melody_codes: tuple[np.ndarray, np.ndarray],
    log_probs: np.ndarray,
    onset: np.ndarray,
    encoding: Encoding,
    rules: DecodingRules,
) -> tuple[np.ndarray, np.ndarray]:
    """``(V, T)`` pitch classes and onsets: the melody (its pitch classes and onsets) as the
    soprano and the lower voices decoded by
    :func:`~bachgan.generation.binarize.voice_leading_decode`
    beneath it, holding their notes where they would rest alone if ``rules`` say so."""
    melody, melody_onset = melody_codes
    fixed = log_probs.copy()
    fixed[0] = np.where(np.arange(fixed.shape[-1]) == melody[:, None], 0.0, -np.inf)
    pitch = voice_leading_decode(fixed[None], encoding.lowest_pitch, rules)[0]
    if rules.hold_lone_rests:
        held, onset = hold_lone_rests(pitch[None], onset[None], rest=fixed.shape[-1] - 1)
        pitch, onset = held[0], onset[0]
    pitch[0], onset[0] = melody, melody_onset
    return pitch, onset


def _closing_bars(
    phrases: Sequence[int], line: Roll, lead_in: int, loaded: LoadedModel
) -> list[int]:
    """The bars of the (padded) line where phrases close: ``phrases`` counted from the first
    downbeat, and the last bar."""
    if phrases and not loaded.completes:
        raise BachganError(f"{loaded.source} cannot place phrases: it is not a completion model")
    last = -(-line.n_steps // line.steps_per_bar) - 1
    first_full = 1 if lead_in else 0  # the pickup's bar comes before bar 1
    closes = {bar - 1 + first_full for bar in phrases}
    if any(not 0 <= bar <= last for bar in closes):
        raise BachganError(f"phrase ends {sorted(phrases)} are outside the melody's bars")
    return sorted(closes | {last})


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
    if voice != "soprano" and not loaded.completes:
        raise BachganError(f"{loaded.source} harmonizes sopranos only (not a completion model)")
    return names.index(voice)


@dataclass(frozen=True)
class _Given:
    """A melody as a completion model takes it: its codes ``(pitch, onset)``, the voice
    ``row`` it is sung by, its ``mode`` and its bar length in steps."""

    codes: tuple[np.ndarray, np.ndarray]
    row: int
    mode: str
    bar_steps: int


def _complete_under(
    loaded: LoadedModel, given: _Given, seed: int, revisions: Revisions, closes: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """``(V, T)`` codes: the ``given`` melody and the other voices completed by a completion
    model in the melody's mode and meter, closing phrases in the bars ``closes``."""
    (melody, melody_onset), row, mode = given.codes, given.row, given.mode
    voices, steps = loaded.config.n_voices, len(melody)
    pitch = torch.full((1, voices, steps), loaded.encoding.rest, dtype=torch.long)
    onset = torch.zeros(1, voices, steps)
    pitch[0, row] = torch.from_numpy(melody)
    onset[0, row] = torch.from_numpy(melody_onset).float()
    free = torch.ones(1, voices, steps)
    free[0, row] = 0
    modes = torch.tensor([KEY_MODES.index(mode)]) if loaded.config.modes else None
    rng = torch.Generator().manual_seed(seed)
    pitch, onset = complete_chorale(
        loaded.generator, pitch, onset, free, modes, revisions, rng, closes, given.bar_steps
    )
    return pitch[0].numpy(), onset[0].numpy()


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
    if loaded.completes:
        steps = loaded.config.bars * loaded.config.steps_per_bar
        mode = torch.zeros(windows, dtype=torch.long) if loaded.config.modes else None
        pitch, _ = compose_chorales(loaded.generator, windows, steps, mode, NO_REVISIONS, rng)
        sung = pitch[:, voice]
    else:
        noise = Noise.sample(loaded.config, windows, generator=rng)
        with torch.no_grad():
            sung = loaded.generator(noise).pitch_logits[:, voice].argmax(dim=-1)
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


def _optimise(
    loaded: LoadedModel,
    target: np.ndarray,
    seed: int,
    steps: int,
    candidates: int,
    rule_weight: float,
    progress: Callable[[float], None] | None = None,
) -> Noise:
    """The candidate latent point with the lowest final objective: the soprano's mean
    cross-entropy against ``target`` plus ``rule_weight`` times the faults per bar of the
    lower voices' pitch probabilities under the melody itself. A mode-conditioned model's
    candidates draw their modes as in training, so the best-fitting candidate's mode wins."""
    bars = len(target) // loaded.encoding.steps_per_bar
    generator = torch.Generator().manual_seed(seed)
    noise = Noise.sample(loaded.config, candidates, bars, generator=generator)
    variables = [t.requires_grad_(True) for t in noise.parameters()]
    optimiser = torch.optim.Adam(variables, lr=0.1)
    labels = torch.from_numpy(target)[None].expand(candidates, -1)
    melody = F.one_hot(labels, loaded.config.n_classes).float()[:, None]  # (K, 1, T, C)
    faults = VoiceLeadingFaults(loaded.config, crossings=True)
    loaded.generator.requires_grad_(False)
    for step in range(steps):
        if progress is not None:
            progress(step / steps)
        logits = loaded.generator(noise).pitch_logits  # (K, V, T, C)
        loss = F.cross_entropy(logits[:, 0].transpose(1, 2), labels, reduction="none").mean(1)
        if rule_weight:
            under_melody = torch.cat([melody, logits[:, 1:].softmax(dim=-1)], dim=1)
            loss = loss + rule_weight * faults(under_melody)
        prior = sum(t.square().flatten(1).mean(dim=1) for t in variables)  # stay near N(0, 1)
        optimiser.zero_grad()
        (loss + 0.01 * prior).sum().backward()
        optimiser.step()
    best = int(loss.argmin())
    return noise.pick(slice(best, best + 1))


def _ends_on_held_note(pitch: np.ndarray, bar_steps: int, encoding: Encoding) -> bool:
    last_bar = pitch[-bar_steps:]
    return bool((last_bar == last_bar[0]).all() and last_bar[0] != encoding.rest)
