import numpy as np
import pytest
from conftest import CHORALE_NOTES, make_roll

from bachgan.roll import Notes, Roll, roll_from_notes, split_voices


def test_notes_come_back_exactly_with_repeated_notes_and_unisons():
    roll = make_roll()
    assert roll.notes().to_tuples() == sorted(CHORALE_NOTES)


def test_repeated_note_is_two_notes_not_one():
    roll = make_roll([(0, 60, 0, 2), (0, 60, 2, 2)], n_steps=4)
    assert roll.sounding[0, :, 60 - roll.lowest_pitch].all()
    assert roll.onsets[0, [0, 2], 60 - roll.lowest_pitch].all()
    assert len(roll.notes()) == 2


def test_sounding_without_onset_still_counts_as_a_note():
    sounding = np.zeros((1, 4, 88), dtype=bool)
    sounding[0, 1:3, 39] = True
    roll = Roll(sounding, np.zeros_like(sounding))
    assert roll.notes().to_tuples() == [(0, 60, 1, 2)]


def test_onset_must_be_sounding():
    onsets = np.zeros((1, 4, 88), dtype=bool)
    onsets[0, 0, 0] = True
    with pytest.raises(ValueError):
        Roll(np.zeros_like(onsets), onsets)


def test_bars_follow_the_time_signature():
    roll = make_roll(n_steps=24, time_signature=(3, 4))
    assert roll.steps_per_bar == 12
    assert roll.n_bars == 2


def test_roll_from_notes_pads_pickup_and_counts_out_of_range():
    notes = Notes.from_tuples([(0, 60, 0, 4), (0, 10, 4, 4), (0, 62, 4, 12)])
    roll, out_of_range = roll_from_notes(notes, 1, lead_in_steps=12)
    assert out_of_range == 1
    assert roll.notes().to_tuples() == [(0, 60, 12, 4), (0, 62, 16, 12)]
    assert roll.n_steps == 32  # padded to whole bars of 16 steps


def test_transpose_and_range_check():
    roll = make_roll()
    up = roll.transpose(2)
    assert {p - 2 for p in up.notes().pitch} == set(roll.notes().pitch)
    with pytest.raises(ValueError):
        roll.transpose(60)


def test_slice_restarts_cut_notes():
    roll = make_roll([(0, 60, 0, 8)], n_steps=8).slice_steps(4, 8)
    assert roll.notes().to_tuples() == [(0, 60, 0, 4)]


def test_split_voices_by_pitch_order():
    chord = Notes.from_tuples([(0, 48, 0, 4), (0, 60, 0, 4), (0, 64, 0, 4), (0, 72, 0, 4)])
    voices = split_voices(chord, 4)
    by_pitch = dict(zip(voices.pitch.tolist(), voices.track.tolist(), strict=True))
    assert by_pitch == {72: 0, 64: 1, 60: 2, 48: 3}
    melody = split_voices(Notes.from_tuples([(0, 60, 0, 4)]), 4)
    assert melody.track.tolist() == [0]
