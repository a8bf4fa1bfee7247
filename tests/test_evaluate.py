import json

import numpy as np
import pytest
from conftest import small_chorale_set

from bachgan.cli import main
from bachgan.encoding import CHORALE_ENCODING, decode
from bachgan.errors import BachganError
from bachgan.evaluation.evaluate import as_windows, evaluate, whole_pieces
from bachgan.evaluation.judges import judge, random_notes, shuffled_voices
from bachgan.evaluation.originality import BarIndex
from bachgan.io.corpus import load_rolls
from bachgan.io.midi import read_midi, write_midi
from bachgan.roll import VOICE_NAMES


@pytest.fixture(scope="module")
def chorales(tmp_path_factory):
    return small_chorale_set(tmp_path_factory.mktemp("eval"), "bwv3", 24)


def random_piece(rng, bars=4):
    encoding = CHORALE_ENCODING
    steps = bars * encoding.steps_per_bar
    pitch = np.stack(
        [
            rng.integers(low, high + 1, steps)
            for low, high in ((40, 50), (35, 45), (30, 40), (15, 30))
        ]
    )
    return decode(pitch, rng.random((4, steps)) < 0.3, encoding, track_names=VOICE_NAMES)


def test_stitched_training_bars_are_flagged_and_fresh_music_is_not(chorales):
    rolls, _ = load_rolls(chorales)
    windows = as_windows(rolls, 4)
    index = BarIndex(whole_pieces(rolls))
    a, b = windows[0], windows[5]
    stitched = a.with_arrays(
        np.concatenate([a.sounding[:, :32], b.sounding[:, 32:]], axis=1),
        np.concatenate([a.onsets[:, :32], b.onsets[:, 32:]], axis=1),
    )
    copied = index.check(stitched)
    assert copied.copied_bar_fraction == 1.0 and copied.longest_copied_run == 4
    transposed = index.check(stitched.transpose(3))
    assert transposed.copied_bar_fraction == 1.0
    fresh = index.check(random_piece(np.random.default_rng(0)))
    assert fresh.copied_bar_fraction == 0.0 and fresh.longest_copied_run == 0


def test_bach_against_bach_is_hard_to_tell_apart(chorales):
    rolls, _ = load_rolls(chorales)
    result = evaluate(rolls[::2], rolls[1::2], judges=())
    assert result.numbers["classifier_accuracy"] < 0.75
    for pair in result.numbers["metrics"].values():
        assert pair["reference"] == pytest.approx(pair["generated"], abs=0.5)


def test_random_music_is_easy_to_tell_apart(chorales):
    rolls, _ = load_rolls(chorales)
    rng = np.random.default_rng(1)
    result = evaluate([random_piece(rng) for _ in range(40)], rolls, judges=())
    assert result.numbers["classifier_accuracy"] > 0.9
    assert result.numbers["metrics"]["in_key_ratio"]["generated"] < 0.8
    # Random notes give themselves away by their key, not by their share of rests.
    assert result.numbers["metrics"]["in_key_ratio"]["classifier_alone"] > 0.9
    assert result.numbers["metrics"]["empty_beat_rate"]["classifier_alone"] < 0.75


def test_evaluate_command_writes_the_report(chorales, tmp_path, capsys):
    rolls, _ = load_rolls(chorales)
    for index, roll in enumerate(rolls[:6]):
        write_midi(roll, tmp_path / "generated" / f"{index}.mid")
    out = tmp_path / "report"
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "generated"),
                "--reference",
                str(chorales),
                "--training",
                str(chorales),
                "--out",
                str(out),
                "--judges",
                "fast",
            ]
        )
        == 0
    )
    assert "the weak judge" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["originality"]["generated_copied_bar_fraction"] == 1.0  # they are copies
    assert set(report["judges"]) == {"weak", "tree"}
    assert set(report["judges"]["tree"]) == {"generated", "bach vs bach", "shuffled voices"}
    assert (out / "report.png").stat().st_size > 10_000
    markdown = (out / "report.md").read_text()
    for table in ("| judge |", "| harmony and lines |", "| how pieces end", "| summary metric |"):
        assert table in markdown


def test_evaluate_needs_windows(tmp_path):
    with pytest.raises(BachganError, match="at least two"):
        evaluate([], [])
    assert main(["evaluate", "--out", str(tmp_path)]) == 2


def test_nearest_window_distance_counts_differing_cells():
    from bachgan.evaluation.originality import nearest_distances

    training = np.zeros((3, 4, 64), dtype=np.int64)
    training[1] = 5
    copy = training[1:2].copy()
    near = copy.copy()
    near[0, 2, 10] = 7  # one cell of 256 differs
    distances = nearest_distances(np.concatenate([copy, near]), training)
    assert distances.tolist() == [0.0, 1 / 256]


@pytest.fixture(scope="module")
def index_and_pieces(chorales):
    rolls, _ = load_rolls(chorales)
    pieces = whole_pieces(rolls)
    return BarIndex(pieces), pieces


@pytest.mark.parametrize("shift", [0, 4, 2, 1])  # on the bar line, a beat, an eighth, a 16th
@pytest.mark.parametrize("semitones", [0, 3, -5])
def test_copies_are_found_at_any_offset_and_in_any_key(index_and_pieces, shift, semitones):
    index, pieces = index_and_pieces
    piece = pieces[2]
    copy = piece.slice_steps(shift, shift + 64).transpose(semitones)
    found = index.check(copy)
    assert found.copied_bar_fraction == 1.0 and found.longest_copied_run == 4


@pytest.mark.parametrize("semitones", [0, 3, -5])  # in its own key and in two others
def test_a_copied_voice_under_new_voices_is_found(index_and_pieces, semitones):
    index, pieces = index_and_pieces
    original = pieces[3].slice_steps(4, 4 + 64).transpose(semitones)  # off the bar line too
    fresh = random_piece(np.random.default_rng(5))
    sounding = np.concatenate([original.sounding[:1], fresh.sounding[1:]])
    onsets = np.concatenate([original.onsets[:1], fresh.onsets[1:]])
    found = index.check(original.with_arrays(sounding, onsets))
    assert found.copied_bar_fraction == 0.0
    assert found.longest_copied_voice_run == 4
    assert index.check(fresh).longest_copied_voice_run == 0


def test_bach_read_from_midi_with_a_pickup_is_found_whole(index_and_pieces, chorales, tmp_path):
    """A MIDI file starts at the pickup, so every bar line of the file falls mid-bar."""
    _, pieces = index_and_pieces
    index = BarIndex(pieces)
    rolls, _ = load_rolls(chorales)
    # One-beat pickups: the reader padded three beats of rests before them.
    pickups = [r for r in rolls if not r.sounding[:, :12].any() and r.sounding[:, 12].any()]
    assert pickups
    for roll in pickups[:3]:
        as_read = read_midi(write_midi(roll.slice_steps(12, roll.n_steps), tmp_path / "p.mid"))
        window = as_windows([as_read], 4)[0]
        assert index.check(window).copied_bar_fraction == 1.0


@pytest.fixture(scope="module")
def chorale_windows(chorales):
    rolls, names = load_rolls(chorales)
    cut = [(i, w) for i, r in enumerate(rolls) for w in as_windows([r], 4)]
    return [w for _, w in cut], [names[i] for i, _ in cut]


def test_the_tree_judge_hears_bach_as_bach_and_shuffled_voices_as_fakes(chorale_windows):
    windows, groups = chorale_windows
    side = {g: k % 2 for k, g in enumerate(sorted(set(groups)))}  # whole pieces on each side
    first = [w for w, g in zip(windows, groups, strict=True) if side[g]]
    second = [w for w, g in zip(windows, groups, strict=True) if not side[g]]
    assert judge("tree", first, second).mean < 0.7
    assert judge("tree", windows, shuffled_voices(windows), groups).mean > 0.85
    assert judge("tree", windows, random_notes(windows), groups).mean > 0.9


@pytest.mark.slow
def test_the_network_judge_hears_bach_as_bach_and_random_notes_as_fakes(chorale_windows):
    windows, groups = chorale_windows
    half = len(windows) // 2
    assert judge("cnn", windows[:half], windows[half:], groups[:half], groups[half:]).mean < 0.7
    assert judge("cnn", windows, random_notes(windows), groups).mean > 0.85
