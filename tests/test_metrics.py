"""Every metric against a case computed by hand."""

import numpy as np
import pytest
from conftest import make_roll

from bachgan import theory
from bachgan.evaluation import metrics


def roll_of(notes, n_steps=16):
    return make_roll(notes, n_steps=n_steps)


def test_empty_beat_rate_counts_silent_quarters_not_sounding_ones():
    # Sound in beats 1, 2 and 3 of a 4/4 bar: 1 of 4 beats is empty (not 3 of 4).
    roll = roll_of([(0, 60, 0, 4), (0, 62, 4, 1), (1, 55, 9, 1)])
    assert metrics.empty_beat_rate(roll) == 0.25


def test_pitch_classes_per_bar_uses_pitch_classes_not_adjacent_pitches():
    # C4, C5 and E4 in bar 1 (2 classes: C, E); D4 alone in bar 2; bar 3 silent.
    roll = roll_of([(0, 60, 0, 4), (0, 72, 4, 4), (1, 64, 0, 8), (0, 62, 16, 4)], n_steps=48)
    assert metrics.pitch_classes_per_bar(roll) == pytest.approx((2 + 1) / 2)


def test_qualified_note_rate_on_the_sixteenth_grid():
    roll = roll_of([(0, 60, 0, 1), (0, 62, 1, 2), (0, 64, 3, 4), (1, 48, 0, 1)])
    assert metrics.qualified_note_rate(roll) == 0.5  # 2 of 4 notes last an eighth or more


def test_qualified_note_rate_accepts_boolean_input_rolls():
    roll = roll_of([(0, 60, 0, 2)])
    assert roll.sounding.dtype == bool
    assert metrics.qualified_note_rate(roll) == 1.0


def test_polyphony_counts_distinct_pitches_where_something_sounds():
    # Steps 0-1: C and E (2); steps 2-3: C only (1); a unison between voices counts once.
    roll = roll_of([(0, 64, 0, 2), (1, 60, 0, 4), (2, 60, 0, 4)])
    assert metrics.polyphony(roll) == 1.5


def test_onsets_per_beat():
    roll = roll_of([(0, 60, 0, 2), (0, 60, 2, 2), (1, 55, 0, 4)])  # 3 notes in 4 beats
    assert metrics.onsets_per_beat(roll) == 0.75


def test_in_key_ratio_and_best_key():
    c_major = [(0, p, i * 2, 2) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])]
    roll = roll_of([*c_major, (1, 61, 0, 1)])  # one C sharp among nine notes
    assert metrics.best_key(roll) == (0, "major")
    assert metrics.in_key_ratio(roll) == pytest.approx(8 / 9)


def test_mode_in_signature_chooses_between_a_major_key_and_its_relative_minor():
    # One flat: F major, or D minor. The F major scale, tonic and fifth twice as long ...
    f_major = np.zeros(12)
    f_major[[5, 7, 9, 10, 0, 2, 4]] = 1
    f_major[[5, 0]] = 2
    assert theory.mode_in_signature(f_major, -1) == "major"
    # ... and D harmonic minor (its C sharp), tonic and fifth twice as long.
    d_minor = np.zeros(12)
    d_minor[[2, 4, 5, 7, 9, 10, 1]] = 1
    d_minor[[2, 9]] = 2
    assert theory.mode_in_signature(d_minor, -1) == "minor"
    assert theory.mode_in_signature(np.zeros(12), 3) == "major"


def test_parallel_fifths_and_octaves_are_found():
    # Soprano G4 -> A4 over tenor C4 -> D4: a parallel fifth. Alto holds: no parallel with it.
    # Bass C3 -> D3: parallel octave with the tenor, parallel 12th (= fifth) with the soprano.
    roll = roll_of(
        [
            (0, 67, 0, 8),
            (0, 69, 8, 8),
            (1, 64, 0, 16),
            (2, 60, 0, 8),
            (2, 62, 8, 8),
            (3, 48, 0, 8),
            (3, 50, 8, 8),
        ]
    )
    assert metrics.parallel_per_bar(roll) == 3.0


def test_contrary_motion_to_a_fifth_is_not_parallel():
    # Soprano G4 -> A4 up, bass C4 -> D3 down: a fifth to a twelfth, in contrary motion.
    roll = roll_of([(0, 67, 0, 8), (0, 69, 8, 8), (3, 60, 0, 8), (3, 50, 8, 8)])
    assert metrics.parallel_per_bar(roll) == 0.0
    # The same fifths with the bass going up as well (C4 -> D4) are parallel.
    similar = roll_of([(0, 67, 0, 8), (0, 69, 8, 8), (3, 60, 0, 8), (3, 62, 8, 8)])
    assert metrics.parallel_per_bar(similar) == 1.0


def test_a_voice_that_repeats_its_note_under_a_fifth_makes_no_parallel():
    roll = roll_of([(0, 67, 0, 8), (0, 69, 8, 8), (3, 50, 0, 8), (3, 50, 8, 8)])
    assert metrics.parallel_per_bar(roll) == 0.0  # the bass repeats D: it does not move


def test_voice_crossing_rate():
    # Alto above soprano for 4 of 16 steps where both sound.
    roll = roll_of([(0, 67, 0, 16), (1, 64, 0, 12), (1, 69, 12, 4)])
    assert metrics.voice_crossing_rate(roll) == 0.25


def test_large_leaps():
    roll = roll_of([(0, 60, 0, 4), (0, 74, 4, 4), (0, 72, 8, 4), (1, 55, 0, 4), (1, 55, 4, 4)])
    assert metrics.large_leap_rate(roll) == pytest.approx(1 / 3)


def test_out_of_range_rate():
    roll = roll_of([(0, 90, 0, 4), (0, 72, 4, 4), (3, 48, 0, 8), (3, 30, 8, 8)])
    assert metrics.out_of_range_rate(roll) == 0.5


def test_jensen_shannon_bounds():
    p = np.array([1.0, 0, 0])
    assert metrics.jensen_shannon(p, p) == 0
    assert metrics.jensen_shannon(p, np.array([0, 1.0, 0])) == pytest.approx(1.0)


def test_frechet_distance_of_shifted_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 2))
    assert metrics.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    assert metrics.frechet_distance(a, a + np.array([3.0, 4.0])) == pytest.approx(25, rel=1e-6)


def test_classifier_accuracy_separates_only_different_sets():
    rng = np.random.default_rng(0)
    same = metrics.classifier_accuracy(rng.normal(size=(200, 3)), rng.normal(size=(200, 3)))
    apart = metrics.classifier_accuracy(rng.normal(size=(200, 3)), rng.normal(3, 1, (200, 3)))
    assert 0.35 < same < 0.65
    assert apart > 0.95
