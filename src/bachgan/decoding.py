"""Rule-aware decoding: the four voices' jointly most likely lines that avoid part-writing
faults (numpy only).

Taking each voice's most likely pitch at each step on its own (``argmax``) ignores how the
voices move together, so two voices may slide in parallel fifths although a nearly as likely
choice would not. :func:`voice_leading_decode` instead keeps each voice's few most likely
pitches at each step and finds, by dynamic programming (Viterbi) over the joint choices, the
sequence that maximises the generator's log-probability minus a cost for every fault:

* a parallel perfect interval: two sounding voices both change pitch, in the same direction,
  from a unison, fifth or octave to the same interval class (the definition of
  :func:`bachgan.metrics.parallel_per_bar`, between consecutive steps);
* a melodic leap larger than an octave from one step to the next;
* a crossing: a voice sounding above the voice written over it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_RULES", "DecodingRules", "voice_leading_decode"]


@dataclass(frozen=True)
class DecodingRules:
    """Costs of the faults, in nats of log-probability, and the pitches kept per voice."""

    parallel_cost: float = 3.0
    leap_cost: float = 3.0
    crossing_cost: float = 3.0
    candidates: int = 3


#: The costs ``bachgan generate`` decodes with.
DEFAULT_RULES = DecodingRules()


def voice_leading_decode(log_probs: np.ndarray, rules: DecodingRules = DEFAULT_RULES) -> np.ndarray:
    """Pitch class indices ``(B, V, T)`` from log-probabilities ``(B, V, T, C)`` (classes are
    pitches a semitone apart, ascending, then the rest; voices are ordered highest first): per
    piece, the joint choice among each voice's ``rules.candidates`` most likely classes that
    maximises total log-probability minus the fault costs."""
    rest = log_probs.shape[-1] - 1
    batch, voices, steps, _ = log_probs.shape
    keep = min(rules.candidates, log_probs.shape[-1])
    top = np.argsort(-log_probs, axis=-1)[..., :keep]  # (B, V, T, K)
    combos = np.array(list(itertools.product(range(keep), repeat=voices)))  # (S, V)
    voice_index = np.arange(voices)
    # (B, T, S, V): every joint choice's classes and scores at every step.
    choices = top[:, voice_index, :, combos].transpose(2, 3, 0, 1)
    scores = np.take_along_axis(log_probs, top, axis=-1)[:, voice_index, :, combos]
    gain = scores.transpose(2, 3, 0, 1).sum(axis=-1) - rules.crossing_cost * _crossings(
        choices, rest
    )
    best = gain[:, 0]
    backpointers = np.zeros((batch, steps, len(combos)), dtype=np.int64)
    for step in range(1, steps):
        cost = _transition_faults(choices[:, step - 1], choices[:, step], rest, rules)
        total = best[:, :, None] - cost  # (B, S_before, S_after)
        backpointers[:, step] = total.argmax(axis=1)
        best = total.max(axis=1) + gain[:, step]
    state = best.argmax(axis=1)
    path = np.empty((batch, steps), dtype=np.int64)
    for step in range(steps - 1, -1, -1):
        path[:, step] = state
        state = backpointers[np.arange(batch), step, state]
    chosen = np.take_along_axis(choices, path[:, :, None, None], axis=2)[:, :, 0]  # (B, T, V)
    return chosen.transpose(0, 2, 1)


def _crossings(choices: np.ndarray, rest: int) -> np.ndarray:
    """Per joint choice, adjacent voice pairs where the lower voice sounds above the upper."""
    upper, lower = choices[..., :-1], choices[..., 1:]
    return ((upper != rest) & (lower != rest) & (lower > upper)).sum(axis=-1)


def _transition_faults(
    before: np.ndarray, after: np.ndarray, rest: int, rules: DecodingRules
) -> np.ndarray:
    """Cost of moving from each joint choice ``before (B, S, V)`` to each ``after (B, S, V)``:
    ``(B, S, S)``."""
    a0, a1 = before[:, :, None, :], after[:, None, :, :]  # (B, S, 1, V), (B, 1, S, V)
    sounding = (a0 != rest) & (a1 != rest)
    motion = np.where(sounding, a1 - a0, 0)
    leaps = (np.abs(motion) > 12).sum(axis=-1)
    parallels = np.zeros(leaps.shape, dtype=np.int64)
    for upper, lower in itertools.combinations(range(before.shape[-1]), 2):
        interval_before = (a0[..., upper] - a0[..., lower]) % 12
        interval_after = (a1[..., upper] - a1[..., lower]) % 12
        moving = (motion[..., upper] != 0) & (motion[..., lower] != 0)
        together = np.sign(motion[..., upper]) == np.sign(motion[..., lower])
        perfect = ((interval_before == 0) | (interval_before == 7)) & (
            interval_before == interval_after
        )
        parallels += moving & together & perfect
    return rules.parallel_cost * parallels + rules.leap_cost * leaps
