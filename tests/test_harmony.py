"""Chords, sonorities, cadences and lines, against cases worked out by hand."""

import numpy as np
import pytest
from conftest import make_roll

from bachgan.evaluation.harmony_profile import (
    _augmented_seconds,
    _oscillations,
    cadence,
    harmony_counts,
    harmony_profile,
    interval_histograms,
    opens_on_tonic,
)
from bachgan.roll import Notes, Roll
from bachgan.theory import (
    COMPLETE,
    CONSONANT,
    DISSONANT,
    Chord,
    identify_chord,
    pitch_class_set,
    root_motion,
    sonority_class,
)


def mask(*pitch_classes: int) -> int:
    return pitch_class_set(np.array(pitch_classes))


@pytest.mark.parametrize(
    ("pitches", "chord"),
    [
        ((60, 64, 67), Chord(0, "major")),
        ((52, 60, 67, 72), Chord(0, "major")),  # first inversion, root doubled
        ((57, 60, 64), Chord(9, "minor")),
        ((43, 59, 62, 65), Chord(7, "dominant seventh")),
        ((43, 59, 65, 67), Chord(7, "dominant seventh without fifth")),
        ((59, 62, 65), Chord(11, "diminished")),
        ((59, 62, 65, 69), Chord(11, "half-diminished seventh")),
        ((60, 64, 67, 71), Chord(0, "major seventh")),
        ((60, 63, 66, 69), Chord(None, "diminished seventh")),
        ((60, 64, 68), Chord(None, "augmented")),
        ((60, 62, 64), None),
        ((60, 64), None),
    ],
)
def test_chords_are_named_by_root_and_quality(pitches, chord):
    assert identify_chord(pitch_class_set(np.array(pitches))) == chord


@pytest.mark.parametrize(
    ("pitch_classes", "kind"),
    [
        ((0, 4, 7), COMPLETE),
        ((7, 11, 2, 5), COMPLETE),
        ((0, 4), CONSONANT),  # a third
        ((0, 7), CONSONANT),  # a fifth
        ((0, 9), CONSONANT),  # a sixth
        ((0,), CONSONANT),
        ((0, 2), DISSONANT),  # a second
        ((0, 6), DISSONANT),  # a tritone without its seventh chord
        ((2, 4, 7), DISSONANT),  # tones of two chords (or E minor seventh without its fifth)
        ((0, 2, 4, 7), DISSONANT),  # an added ninth
    ],
)
def test_sonority_classes(pitch_classes, kind):
    assert sonority_class(mask(*pitch_classes)) == kind


def test_silence_has_no_sonority_class():
    assert sonority_class(0) is None
    assert pitch_class_set(np.array([-1, -1])) == 0


@pytest.mark.parametrize(
    ("roots", "motion"),
    [
        ((0, 7), "fourth/fifth"),
        ((0, 5), "fourth/fifth"),
        ((0, 2), "second"),
        ((0, 11), "second"),
        ((0, 9), "third"),
        ((0, 4), "third"),
        ((0, 6), "tritone"),
        ((3, 3), "none"),
    ],
)
def test_root_motion(roots, motion):
    assert root_motion(*roots) == motion


def test_the_hand_made_phrase_counted_by_hand():
    """conftest's two bars: C-E at eighths 1-4, D-G at 5-6, D-E-G at 7-8, C major to the end;
    one held chord (bar 2), soprano 72 72 74 72, alto 72 67 67, tenor 64 62 64 64, bass 48
    43 48."""
    counts = harmony_counts(make_roll())
    assert counts["eighths"] == 16
    assert counts[f"eighths {COMPLETE}"] == 8
    assert counts[f"eighths {CONSONANT}"] == 6
    assert counts[f"eighths {DISSONANT}"] == 2
    assert counts["strong"] == 4 and counts[f"strong {DISSONANT}"] == 0
    assert counts["held chords"] == 1
    assert counts["root moves"] == 0
    assert [counts[f"repeats {v}"] for v in range(4)] == [1, 1, 1, 0]
    assert [counts[f"moves {v}"] for v in range(4)] == [3, 2, 3, 2]
    assert counts["bass changes"] == 2 and counts["bass steps"] == 0
    assert counts["value quarter"] == 4 and counts["value half"] == 6
    assert counts["value longer"] == 4 and counts["notes"] == 14
    profile = harmony_profile([make_roll()])
    assert profile["complete sonorities (share of eighths)"] == 0.5
    assert profile["dissonant sonorities (share of eighths)"] == 0.125
    assert profile["repeated notes, voice 1"] == pytest.approx(1 / 3)


def test_the_hand_made_phrase_ends_with_a_perfect_cadence():
    assert cadence(make_roll()) == {
        "root-position triad": True,
        "tonic": True,
        "bass falls a fifth": True,
    }


def test_a_piece_opens_on_the_tonic_when_its_first_full_chord_is_the_tonics():
    c_major_after = [(v, p, 8, 8) for v, p in enumerate((72, 67, 64, 48))]
    assert opens_on_tonic(make_roll([(v, p, 0, 8) for v, p in enumerate((72, 67, 64, 48))], 8))
    late_bass = [(0, 71, 0, 8), (1, 67, 0, 8), (2, 62, 0, 8), (3, 43, 4, 4)]  # first full: G
    ii65 = [(0, 72, 0, 8), (1, 69, 0, 8), (2, 65, 0, 8), (3, 50, 0, 8), (0, 72, 8, 8)]
    assert not opens_on_tonic(make_roll(late_bass + c_major_after, 16, key_fifths=0))
    assert not opens_on_tonic(make_roll(ii65 + c_major_after[1:], 16, key_fifths=0))
    assert not opens_on_tonic(make_roll([(0, 72, 0, 8)], 8))  # one voice: no chord at all


def test_an_ending_on_an_inverted_chord_is_not_root_position():
    notes = [(0, 72, 0, 8), (1, 67, 0, 8), (2, 60, 0, 8), (3, 52, 0, 8)]  # C major over E
    assert cadence(make_roll(notes, 8))["root-position triad"] is False


def test_root_motion_is_counted_between_different_chords():
    chords = [(60, 64, 67, 48), (59, 62, 67, 43), (60, 64, 69, 45)]  # C, G, A minor: V, up a step
    notes = [
        (voice, pitch, 8 * index, 8)
        for index, chord in enumerate(chords)
        for voice, pitch in enumerate(chord)
    ]
    counts = harmony_counts(make_roll(notes, 24))
    assert counts["root moves"] == 2
    assert counts["root fourth/fifth"] == 1 and counts["root second"] == 1


def test_oscillations_are_maximal_runs_of_six_alternating_notes():
    assert _oscillations(np.array([60, 62, 60, 62, 60, 62])) == 1
    assert _oscillations(np.array([60, 62, 60, 62, 60])) == 0
    assert _oscillations(np.array([60, 62, 60, 62, 60, 62, 60, 62])) == 1
    assert _oscillations(np.array([60, 62, 60, 62, 60, 62, 64, 62, 64, 62, 64])) == 2
    assert _oscillations(np.array([60, 60, 60, 60, 60, 60])) == 0


def test_augmented_seconds_in_a_minor_key():
    a_minor = 9
    assert _augmented_seconds(np.array([77, 80, 81]), a_minor) == 1  # F to G sharp
    assert _augmented_seconds(np.array([74, 77]), a_minor) == 0  # D to F: a minor third


def test_interval_histograms_count_each_voices_moves():
    notes = Notes.from_tuples([(0, 60, 0, 4), (0, 62, 4, 4), (0, 50, 8, 4)])
    roll = Roll.from_notes(notes, 1, 12)
    histogram = interval_histograms([roll])[0]
    assert histogram.sum() == 2
    assert histogram[12 + 2] == 1 and histogram[0] == 1  # +2, and -12 clipped to the end
