from dataclasses import replace

import numpy as np
import pytest

from bachgan.encoding import Encoding, decode
from bachgan.evaluation.metrics import large_leap_rate, parallel_per_bar, voice_crossing_rate
from bachgan.generation.binarize import DecodingRules, hold_lone_rests, voice_leading_decode

CLASSES = 37  # 36 pitches a semitone apart, then the rest
REST = CLASSES - 1
NO_RULES = DecodingRules(parallel_cost=0, leap_cost=0, crossing_cost=0, key_cost=0)
LOWEST = 40
ENCODING = Encoding(lowest_pitch=LOWEST, n_pitches=REST, voice_ranges=((0, REST - 1),) * 4)


def preferences(first: list[list[int]], second: list[list[int]], margin: float = 1.0):
    """``(1, V, T, C)`` log-probabilities: each voice's ``first`` class most likely at each
    step, its ``second`` class ``margin`` nats behind, everything else far behind."""
    logits = np.full((1, len(first), len(first[0]), CLASSES), -30.0)
    for voice, (best, runner_up) in enumerate(zip(first, second, strict=True)):
        for step, (a, b) in enumerate(zip(best, runner_up, strict=True)):
            logits[0, voice, step, b] = -margin
            logits[0, voice, step, a] = 0.0
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))


def as_roll(pitch: np.ndarray):
    return decode(pitch, np.zeros_like(pitch, dtype=bool), ENCODING)


# Soprano and bass move up from a fifth (classes 19 over 12) to a fifth (21 over 14): parallel
# fifths, unless the soprano sings its runner-up (23, a sixth over the bass) on the way.
PARALLEL_FIRST = [[19] * 4 + [21] * 4, [16] * 8, [14] * 8, [12] * 4 + [14] * 4]
PARALLEL_SECOND = [[19] * 4 + [23] * 4, [16] * 8, [14] * 8, [12] * 4 + [14] * 4]


def test_without_costs_it_is_each_steps_most_likely_class():
    log_probs = np.log(np.random.default_rng(0).dirichlet(np.ones(CLASSES), size=(2, 4, 16)))
    assert np.array_equal(
        voice_leading_decode(log_probs, LOWEST, NO_RULES), log_probs.argmax(axis=-1)
    )


def test_parallel_fifths_give_way_to_a_nearly_as_likely_line():
    log_probs = preferences(PARALLEL_FIRST, PARALLEL_SECOND)
    plain = voice_leading_decode(log_probs, LOWEST, NO_RULES)[0]
    ruled = voice_leading_decode(log_probs, LOWEST, DecodingRules(parallel_cost=10))[0]
    assert parallel_per_bar(as_roll(plain)) > 0
    assert parallel_per_bar(as_roll(ruled)) == 0
    assert np.array_equal(ruled[1:], plain[1:])


def test_a_fault_stays_when_the_alternative_is_much_less_likely_than_its_cost():
    log_probs = preferences(PARALLEL_FIRST, PARALLEL_SECOND, margin=10.0)
    ruled = voice_leading_decode(log_probs, LOWEST, DecodingRules(parallel_cost=3))[0]
    assert parallel_per_bar(as_roll(ruled)) > 0


def test_crossings_and_leaps_over_an_octave_are_avoided():
    # The alto sounds above the soprano at first; the bass then leaps up 14 semitones.
    first = [[20] * 8, [22] * 4 + [16] * 4, [12] * 8, [0] * 4 + [14] * 4]
    second = [[21] * 8, [18] * 4 + [17] * 4, [11] * 8, [1] * 4 + [7] * 4]
    log_probs = preferences(first, second)
    plain = as_roll(voice_leading_decode(log_probs, LOWEST, NO_RULES)[0])
    ruled = as_roll(voice_leading_decode(log_probs, LOWEST, DecodingRules(parallel_cost=0))[0])
    assert voice_crossing_rate(plain) > 0 and large_leap_rate(plain) > 0
    assert voice_crossing_rate(ruled) == 0 and large_leap_rate(ruled) == 0


@pytest.mark.parametrize("candidates", [1, 2])
def test_candidates_bound_the_choices(candidates):
    log_probs = np.log(np.random.default_rng(1).dirichlet(np.ones(CLASSES), size=(1, 4, 8)))
    decoded = voice_leading_decode(
        log_probs, LOWEST, DecodingRules(candidates=candidates, key_cost=0)
    )
    ranks = (log_probs > np.take_along_axis(log_probs, decoded[..., None], -1)).sum(-1)
    assert ranks.max() < candidates


def test_a_voice_resting_alone_holds_its_note_and_voices_rest_together():
    pitch = np.array(
        [
            [20, 20, 21, 21, REST, REST, 22],
            [16, REST, REST, 17, REST, 17, 17],  # rests alone twice, then with everyone
            [REST, REST, 12, 12, REST, 12, 12],  # has not sung yet: keeps its rest
        ]
    )[None]
    onset = np.zeros_like(pitch, dtype=bool)
    onset[0, :, 0] = onset[0, 1, 3] = onset[0, :, 5] = True
    onset[0, 1, 2] = True  # an onset the generator left on a rest
    held, held_onset = hold_lone_rests(pitch, onset, REST)
    assert held[0, 1].tolist() == [16, 16, 16, 17, REST, 17, 17]
    assert held[0, 2].tolist() == pitch[0, 2].tolist()
    # The soprano's lone rest at step 5 holds nothing: the step before it was a pause.
    assert held[0, 0].tolist() == pitch[0, 0].tolist()
    assert not held_onset[0, 1, 1:3].any() and held_onset[0, 1, 3]
    assert np.array_equal(held_onset[0, 0], onset[0, 0])
    assert pitch[0, 1, 1] == REST  # the input is left as it was


@pytest.mark.parametrize(("margin", "sung"), [(0.5, 67), (2.0, 66)])
def test_a_note_outside_the_key_gives_way_to_a_nearly_as_likely_one_in_it(margin, sung):
    # Four voices on the notes of C major (soprano E-F-G-A, alto C, tenor G, bass C); at the
    # last step the soprano prefers F sharp to G by ``margin`` nats, against a key cost of 1.
    soprano = [64, 65, 67, 69, 66]
    first = [[p - LOWEST for p in soprano], [60 - LOWEST] * 5, [55 - LOWEST] * 5, [48 - LOWEST] * 5]
    second = [[p - LOWEST for p in [62, 64, 65, 67, 67]], *first[1:]]
    log_probs = preferences(first, second, margin)
    decoded = voice_leading_decode(log_probs, LOWEST, replace(NO_RULES, key_cost=1.0))[0]
    assert decoded[0, -1] + LOWEST == sung
    assert np.array_equal(decoded[:, :-1], log_probs.argmax(axis=-1)[0, :, :-1])


def test_a_bass_leap_gives_way_to_a_nearly_as_likely_step_when_it_costs():
    # The bass would leap a fourth (12 -> 17); a step (12 -> 14) is 0.3 nats behind a step,
    # 1.2 over the four steps: less than the leap's cost of 2.
    first = [[19] * 8, [16] * 8, [14] * 8, [12] * 4 + [17] * 4]
    second = [[21] * 8, [17] * 8, [11] * 8, [13] * 4 + [14] * 4]
    log_probs = preferences(first, second, margin=0.3)
    free = voice_leading_decode(log_probs, LOWEST, NO_RULES)[0]
    walking = voice_leading_decode(log_probs, LOWEST, replace(NO_RULES, bass_leap_cost=2))[0]
    assert free[3].tolist() == [12] * 4 + [17] * 4
    assert walking[3].tolist() == [12] * 4 + [14] * 4
    assert np.array_equal(walking[:3], free[:3])


def faulty_pieces(count: int = 60) -> np.ndarray:
    """``(count, 4, 64)`` codes of random lines by steps and leaps, with rests: every
    voice-leading fault happens often, and across rests too."""
    rng = np.random.default_rng(3)
    moves = rng.choice([-14, -7, -5, -2, -1, 0, 0, 0, 1, 2, 5, 7, 14], size=(count, 4, 64))
    start = rng.integers(8, 28, size=(count, 4, 1))
    pitch = np.clip(start + np.cumsum(moves, axis=2), 0, REST - 1)
    rests = rng.random((count, 4, 64)) < 0.08
    return np.where(rests, REST, pitch)


def test_the_metrics_the_decoding_and_the_loss_count_the_same_faults():
    import torch
    from torch.nn import functional as F

    from bachgan.generation.binarize import _transition_faults
    from bachgan.models import MuseGANConfig, VoiceLeadingFaults

    pieces = faulty_pieces()
    rolls = [as_roll(piece) for piece in pieces]
    bars = pieces.shape[2] / 16
    sung = pieces != REST
    # The notes that follow another note directly: what large_leap_rate divides by.
    follows = ((pieces[..., 1:] != pieces[..., :-1]) & sung[..., 1:] & sung[..., :-1]).sum((1, 2))
    by_metrics = np.array(
        [
            parallel_per_bar(roll) * bars + large_leap_rate(roll) * notes
            for roll, notes in zip(rolls, follows, strict=True)
        ]
    )
    config = MuseGANConfig(
        n_classes=CLASSES, lowest_pitch=LOWEST, voice_ranges=ENCODING.voice_ranges
    )
    one_hot = F.one_hot(torch.from_numpy(pieces), CLASSES).float()
    by_loss = VoiceLeadingFaults(config)(one_hot).numpy() * bars
    rules = DecodingRules(parallel_cost=1, leap_cost=1, crossing_cost=0, key_cost=0)
    costs = _transition_faults(pieces[..., None], np.zeros((1, 4), int), REST, rules)
    by_decoding = costs.sum(axis=(1, 2, 3))
    assert by_metrics.sum() > 100
    np.testing.assert_allclose(by_loss, by_decoding, atol=1e-4)
    np.testing.assert_allclose(by_metrics, by_decoding, atol=1e-6)
