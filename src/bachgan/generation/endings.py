"""Where phrases close and how a piece ends: closing bars, fermatas, a held last chord."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import BachganError
from ..roll import Roll

__all__ = ["closing_bars", "fermata_steps", "hold_final_chord"]


def closing_bars(phrases: Sequence[int], n_bars: int, pickup_bar: bool = False) -> list[int]:
    """The bars (from 0) of a piece of ``n_bars`` bars where phrases close: ``phrases``
    (counted from 1, from the first full bar, which is bar 1 of the piece's ``n_bars`` when
    there is no ``pickup_bar`` before it) and the last bar."""
    first_full = int(pickup_bar)
    closes = {bar - 1 + first_full for bar in phrases}
    if any(bar < 1 for bar in phrases) or any(bar >= n_bars for bar in closes):
        raise BachganError(
            f"phrase ends {sorted(phrases)} are outside the piece's bars 1-{n_bars - first_full}"
        )
    return sorted(closes | {n_bars - 1})


def fermata_steps(roll: Roll, bars: Sequence[int]) -> tuple[int, ...]:
    """Where the fermata of each closing bar (from 0) stands: on the last chord that starts
    in that bar, the last step where most voices strike together, not a passing note of one
    voice after it (the bar's first step when nothing starts there)."""
    voices_struck = roll.onsets.any(axis=2).sum(axis=0)
    steps = []
    for bar in bars:
        first = bar * roll.steps_per_bar
        struck = voices_struck[first : first + roll.steps_per_bar]
        most = np.flatnonzero((struck == struck.max()) & (struck > 0))
        steps.append(first + int(most[-1]) if most.size else first)
    return tuple(steps)


def hold_final_chord(roll: Roll) -> Roll:
    """Replace the last bar by the chord sounding at its downbeat, held for the whole bar; a
    voice that rests on that downbeat holds the last note it sang before it."""
    start = roll.n_steps - roll.steps_per_bar
    if start < 0:
        return roll
    sounding, onsets = roll.sounding.copy(), roll.onsets.copy()
    chord = sounding[:, start].copy()
    for voice in np.flatnonzero(~chord.any(axis=1)):
        sung = np.flatnonzero(sounding[voice, :start].any(axis=1))
        if sung.size:
            chord[voice] = sounding[voice, sung[-1]]
    sounding[:, start:] = chord[:, None]
    onsets[:, start:] = False
    onsets[:, start] = chord
    return roll.with_arrays(sounding, onsets)
