"""From the generator's probabilities to music: :func:`binarize` chooses pitches and onsets
(each step's likeliest, a draw, or the rule-aware decoding) and :func:`decode_output` turns
them into rolls.

The rule-aware decoding finds the four voices' jointly most likely lines that avoid
part-writing faults.

Taking each voice's most likely pitch at each step on its own (``argmax``) ignores how the
voices move together, so two voices may slide in parallel fifths although a nearly as likely
choice would not. :func:`voice_leading_decode` instead keeps each voice's few most likely
pitches at each step and finds, by dynamic programming (Viterbi) over the joint choices, the
sequence that maximises the generator's log-probability minus a cost for every fault:

* a parallel perfect interval: two sounding voices both change pitch, in the same direction,
  from a unison, fifth or octave to the same interval class
  (:func:`bachgan.theory.parallel_perfect_moves`, the definition the metrics and the model's
  loss share);
* a melodic leap larger than an octave from one step to the next
  (:func:`bachgan.theory.leaps_over_octave`);
* optionally, a bass leap (more than a whole tone), for a bass that walks as Bach's does
  (``bass_leap_cost``, 0 by default);
* a crossing: a voice sounding above the voice written over it;
* a note outside the piece's key: the key whose Krumhansl-Schmuckler profile its expected
  pitch classes (the generator's probabilities summed over voices and steps) fit best, and
  its major or harmonic minor scale (:func:`bachgan.theory.scale_of_key`). Bach does write
  such notes (9 % of his), so this cost is small: it decides between nearly equally likely
  pitches, not against the generator.

:func:`hold_lone_rests` then lets a voice that would fall silent while the others sing hold
its note instead: the voices of a chorale rest together, at its pauses (Bach's voices rest
alone on 0.3 % of the steps where any voice sounds).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

from ..encoding import Encoding, decode
from ..models.musegan import GeneratorOutput
from ..roll import VOICE_NAMES, Roll
from ..theory import key_of_histogram, pitch_class_weights, scale_of_key

__all__ = [
    "BINARIZATIONS",
    "DEFAULT_BINARIZATION",
    "DEFAULT_RULES",
    "DecodingRules",
    "binarize",
    "decode_output",
    "hold_lone_rests",
    "voice_leading_decode",
]

#: ``argmax`` takes each step's most likely pitch (deterministic); ``sample`` draws it from the
#: softmax at a temperature; ``voice-leading`` takes the four voices' jointly most likely lines
#: that avoid parallels, leaps over an octave and, unless the model learned the data's rate of
#: them, crossings, preferring notes in the piece's key, with a voice holding its note where
#: it would rest alone (:mod:`bachgan.generation.binarize`).
#: Onsets are thresholded at 0.5, or drawn with ``sample``.
BINARIZATIONS = ("argmax", "sample", "voice-leading")
#: What :func:`generate`, ``bachgan generate`` and ``bachgan evaluate --model`` use.
DEFAULT_BINARIZATION = "voice-leading"


@dataclass(frozen=True)
class DecodingRules:
    """Costs of the faults, in nats of log-probability, and the pitches kept per voice."""

    parallel_cost: float = 10.0
    leap_cost: float = 10.0
    crossing_cost: float = 10.0
    key_cost: float = 1.0
    #: Cost of a bass leap (more than a whole tone) between consecutive choices.
    bass_leap_cost: float = 0.0
    candidates: int = 3
    #: Whether a voice's lone rests hold its previous note (:func:`hold_lone_rests`).
    hold_lone_rests: bool = True


#: The costs ``bachgan generate`` decodes with.
DEFAULT_RULES = DecodingRules()
#: Steps (pieces times steps per piece) whose transitions are computed at once: memory for
#: speed (about 1 MB per step).
_STEPS_PER_CHUNK = 256


def voice_leading_decode(
    log_probs: np.ndarray, lowest_pitch: int, rules: DecodingRules = DEFAULT_RULES
) -> np.ndarray:
    """Pitch class indices ``(B, V, T)`` from log-probabilities ``(B, V, T, C)`` (classes are
    pitches a semitone apart, ascending from MIDI ``lowest_pitch``, then the rest; voices are
    ordered highest first): per piece, the joint choice among each voice's
    ``rules.candidates`` most likely classes, once the key cost is taken off, that maximises
    total log-probability minus the fault costs."""
    rest = log_probs.shape[-1] - 1
    if rules.key_cost:
        log_probs = log_probs - rules.key_cost * _outside_key(log_probs, lowest_pitch)
    _, voices, steps, _ = log_probs.shape
    keep = min(rules.candidates, log_probs.shape[-1])
    top = np.argsort(-log_probs, axis=-1)[..., :keep].astype(np.int16)  # (B, V, T, K)
    combos = np.array(list(itertools.product(range(keep), repeat=voices)))  # (S, V)
    voice_index = np.arange(voices)
    # (B, T, S, V): every joint choice's classes and scores at every step.
    choices = top[:, voice_index, :, combos].transpose(2, 3, 0, 1)
    scores = np.take_along_axis(log_probs, top, axis=-1)[:, voice_index, :, combos]
    gain = scores.transpose(2, 3, 0, 1).sum(axis=-1) - rules.crossing_cost * _crossings(
        choices, rest
    )
    pieces_per_chunk = max(1, _STEPS_PER_CHUNK // steps)
    paths = [
        _best_path(gain[chunk], top[chunk], combos, rest, rules)
        for chunk in (
            slice(start, start + pieces_per_chunk)
            for start in range(0, len(gain), pieces_per_chunk)
        )
    ]
    path = np.concatenate(paths)  # (B, T)
    chosen = np.take_along_axis(choices, path[:, :, None, None], axis=2)[:, :, 0]  # (B, T, V)
    return chosen.transpose(0, 2, 1).astype(np.int64)


def hold_lone_rests(
    pitch: np.ndarray, onset: np.ndarray, rest: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(pitch, onset)``, both ``(B, V, T)``, with every step where a voice rests while
    another sounds given the voice's pitch at the step before, held (no onset); a voice that
    has not yet sung keeps its rest. The inputs are not changed."""
    pitch, onset = pitch.copy(), onset.copy()
    for step in range(1, pitch.shape[-1]):
        resting = pitch[..., step] == rest
        lone = resting & ~resting.all(axis=1, keepdims=True) & (pitch[..., step - 1] != rest)
        pitch[..., step] = np.where(lone, pitch[..., step - 1], pitch[..., step])
        onset[..., step] &= ~lone
    return pitch, onset


def _outside_key(log_probs: np.ndarray, lowest_pitch: int) -> np.ndarray:
    """``(B, 1, 1, C)``: 1 for the pitches outside each piece's most likely key, else 0 (the
    rest is never outside)."""
    classes = (np.arange(log_probs.shape[-1] - 1) + lowest_pitch) % 12
    expected = np.exp(log_probs[..., :-1]).sum(axis=(1, 2))  # (B, C - 1)
    outside = np.zeros((len(log_probs), 1, 1, log_probs.shape[-1]))
    for piece, weights in enumerate(expected):
        histogram = pitch_class_weights(weights, lowest_pitch)
        outside[piece, 0, 0, :-1] = ~np.isin(classes, scale_of_key(*key_of_histogram(histogram)))
    return outside


def _best_path(
    gain: np.ndarray, top: np.ndarray, combos: np.ndarray, rest: int, rules: DecodingRules
) -> np.ndarray:
    """Viterbi: ``(B, T)`` joint-choice indices maximising ``gain (B, T, S)`` minus the faults
    between consecutive steps; ``top (B, V, T, K)`` holds each voice's candidate classes and
    ``combos (S, V)`` which candidate each joint choice takes."""
    batch, steps, states = gain.shape
    costs = _transition_faults(top, combos, rest, rules)  # (B, T-1, S, S)
    best = gain[:, 0]
    backpointers = np.zeros((batch, steps, states), dtype=np.int64)
    for step in range(1, steps):
        total = best[:, :, None] - costs[:, step - 1]  # (B, S_before, S_after)
        backpointers[:, step] = total.argmax(axis=1)
        best = total.max(axis=1) + gain[:, step]
    state = best.argmax(axis=1)
    path = np.empty((batch, steps), dtype=np.int64)
    for step in range(steps - 1, -1, -1):
        path[:, step] = state
        state = backpointers[np.arange(batch), step, state]
    return path


def _crossings(choices: np.ndarray, rest: int) -> np.ndarray:
    """Per joint choice, adjacent voice pairs where the lower voice sounds above the upper."""
    upper, lower = choices[..., :-1], choices[..., 1:]
    return ((upper != rest) & (lower != rest) & (lower > upper)).sum(axis=-1)


def _transition_faults(
    top: np.ndarray, combos: np.ndarray, rest: int, rules: DecodingRules
) -> np.ndarray:
    """``(B, T-1, S, S)``: the cost of moving from each joint choice at one step to each at
    the next. Faults are counted on each voice's (leaps) or voice pair's (parallels)
    candidates, ``K x K`` or ``K^4`` per step, then spread over the joint choices."""
    before, after = top[:, :, :-1, :, None], top[:, :, 1:, None, :]  # (B, V, T-1, K, K)
    sounding = (before != rest) & (after != rest)
    motion = np.where(sounding, after - before, 0)  # (B, V, T-1, K_before, K_after)
    before_state, after_state = combos[:, None, :], combos[None, :, :]  # (S, 1, V), (1, S, V)
    leaps = np.abs(motion) > 12
    cost = rules.leap_cost * sum(
        leaps[:, voice][:, :, before_state[..., voice], after_state[..., voice]]
        for voice in range(top.shape[1])
    )
    if rules.bass_leap_cost:
        bass = top.shape[1] - 1
        skips = np.abs(motion[:, bass]) > 2
        cost = (
            cost
            + rules.bass_leap_cost * skips[:, :, before_state[..., bass], after_state[..., bass]]
        )
    for upper, lower in itertools.combinations(range(top.shape[1]), 2):
        parallels = _pair_parallels(
            top[:, upper], top[:, lower], motion[:, upper], motion[:, lower]
        )
        cost = (
            cost
            + rules.parallel_cost
            * parallels[
                :,
                :,
                before_state[..., upper],
                before_state[..., lower],
                after_state[..., upper],
                after_state[..., lower],
            ]
        )
    return cost


def _pair_parallels(
    upper: np.ndarray, lower: np.ndarray, upper_motion: np.ndarray, lower_motion: np.ndarray
) -> np.ndarray:
    """``(B, T-1, K, K, K, K)``, indexed by the upper and lower voice's candidate before, then
    after: whether the two move in parallel perfect intervals. ``upper`` and ``lower`` are
    ``(B, T, K)`` candidates, the motions ``(B, T-1, K_before, K_after)``."""
    interval_before = (upper[:, :-1, :, None] - lower[:, :-1, None, :]) % 12  # (B, T-1, K, K)
    interval_after = (upper[:, 1:, :, None] - lower[:, 1:, None, :]) % 12
    perfect_before = (interval_before == 0) | (interval_before == 7)
    same_interval = interval_before[..., None, None] == interval_after[:, :, None, None]
    up = upper_motion[:, :, :, None, :, None]  # (B, T-1, Ku, 1, Ku', 1)
    down = lower_motion[:, :, None, :, None, :]  # (B, T-1, 1, Kl, 1, Kl')
    together = (up != 0) & (down != 0) & (np.sign(up) == np.sign(down))
    return together & perfect_before[..., None, None] & same_interval


# --------------------------------------------------------------------------- generator output
def binarize(
    output: GeneratorOutput,
    lowest_pitch: int,
    sampling: str = "argmax",
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    rules: DecodingRules = DEFAULT_RULES,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pitch class indices ``(B, V, T)`` and onsets ``(B, V, T)`` (bool) from the logits,
    whose pitch classes start at MIDI ``lowest_pitch``."""
    if sampling == "argmax":
        return output.pitch_logits.argmax(dim=-1), output.onset_logits > 0
    if sampling == "voice-leading":
        log_probs = output.pitch_logits.log_softmax(-1).cpu().numpy()
        pitch = voice_leading_decode(log_probs, lowest_pitch, rules)
        onset = (output.onset_logits > 0).cpu().numpy()
        if rules.hold_lone_rests:
            pitch, onset = hold_lone_rests(pitch, onset, rest=log_probs.shape[-1] - 1)
        device = output.pitch_logits.device
        return torch.from_numpy(pitch).to(device), torch.from_numpy(onset).to(device)
    if sampling != "sample":
        raise ValueError(f"unknown sampling {sampling!r}; choose from {BINARIZATIONS}")
    logits = output.pitch_logits / temperature
    flat = torch.multinomial(logits.softmax(-1).flatten(0, 2).cpu(), 1, generator=generator)
    pitch = flat.view(logits.shape[:3]).to(logits.device)
    onset_probability = torch.sigmoid(output.onset_logits / temperature).cpu()
    onset = torch.bernoulli(onset_probability, generator=generator).bool().to(logits.device)
    return pitch, onset


def decode_output(
    output: GeneratorOutput,
    encoding: Encoding,
    sampling: str = "argmax",
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    rules: DecodingRules = DEFAULT_RULES,
    **meta: object,
) -> list[Roll]:
    """Binarize a batch of generator output and decode each piece into a four-voice roll."""
    pitch, onset = binarize(output, encoding.lowest_pitch, sampling, temperature, generator, rules)
    names = VOICE_NAMES if pitch.shape[1] == len(VOICE_NAMES) else ()
    return [
        decode(p.cpu().numpy(), o.cpu().numpy(), encoding, track_names=names, **meta)
        for p, o in zip(pitch, onset, strict=True)
    ]
