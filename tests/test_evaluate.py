import json

import numpy as np
import pytest
from conftest import small_chorale_set

from bachgan.cli import main
from bachgan.corpus import load_rolls
from bachgan.encoding import CHORALE_ENCODING, decode
from bachgan.errors import BachganError
from bachgan.evaluate import as_windows, evaluate
from bachgan.midi import write_midi
from bachgan.originality import BarIndex
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
    index = BarIndex(as_windows(rolls, 1))
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
    result = evaluate(rolls[::2], rolls[1::2])
    assert result["classifier_accuracy"] < 0.75
    for pair in result["metrics"].values():
        assert pair["reference"] == pytest.approx(pair["generated"], abs=0.5)


def test_random_music_is_easy_to_tell_apart(chorales):
    rolls, _ = load_rolls(chorales)
    rng = np.random.default_rng(1)
    result = evaluate([random_piece(rng) for _ in range(40)], rolls)
    assert result["classifier_accuracy"] > 0.9
    assert result["metrics"]["in_key_ratio"]["generated"] < 0.8
    # Random notes give themselves away by their key, not by their share of rests.
    assert result["metrics"]["in_key_ratio"]["classifier_alone"] > 0.9
    assert result["metrics"]["empty_beat_rate"]["classifier_alone"] < 0.75


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
            ]
        )
        == 0
    )
    assert "two-sample classifier accuracy" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["originality"]["generated_copied_bar_fraction"] == 1.0  # they are copies
    assert (out / "report.png").stat().st_size > 10_000
    assert "| metric | reference | generated |" in (out / "report.md").read_text()


def test_evaluate_needs_windows(tmp_path):
    with pytest.raises(BachganError, match="at least two"):
        evaluate([], [])
    assert main(["evaluate", "--out", str(tmp_path)]) == 2


def test_nearest_window_distance_counts_differing_cells():
    from bachgan.originality import nearest_distances

    training = np.zeros((3, 4, 64), dtype=np.int64)
    training[1] = 5
    copy = training[1:2].copy()
    near = copy.copy()
    near[0, 2, 10] = 7  # one cell of 256 differs
    distances = nearest_distances(np.concatenate([copy, near]), training)
    assert distances.tolist() == [0.0, 1 / 256]
