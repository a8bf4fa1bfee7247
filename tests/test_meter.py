"""Meters: 4/4 and 3/4 windows in training, a model that knows both, and composing,
harmonizing and regenerating in 3/4; pickups read from a MIDI file's bar lines."""

import numpy as np
import pytest
import symusic
import torch
from conftest import TINY_COMPLETION, tiny_config

from bachgan.cli import main
from bachgan.encoding import CHORALE_ENCODING, make_windows
from bachgan.errors import BachganError
from bachgan.generation.compose import generate
from bachgan.generation.harmonize import harmonize
from bachgan.generation.loading import load_model
from bachgan.generation.regenerate import regenerate
from bachgan.io.melodies import example_melody, parse_melody
from bachgan.io.midi import read_midi, to_score, write_midi
from bachgan.models.conditional import CompletionGenerator, ending_steps
from bachgan.models.musegan import bar_positions
from bachgan.theory import parse_meter
from bachgan.training.train import train
from bachgan.training.windows import load_windows


@pytest.fixture(scope="module")
def model(chorales, tmp_path_factory):
    """A tiny completion model trained for a few steps on 4/4 and 3/4 windows."""
    out = tmp_path_factory.mktemp("run")
    return load_model(train(tiny_config(chorales, out, arch="completion"), progress=False))


def test_three_four_windows_end_on_bar_lines_and_know_where_their_bars_start():
    pitch = np.zeros((4, 8 * 12), np.int64)
    onset = np.ones((4, 8 * 12), bool)
    windows, _, ends = make_windows([(pitch, onset)], 64, 12)
    # 64 steps are five 3/4 bars and a beat: windows end on bar lines 6, 7 and 8.
    assert len(windows) == 3 and ends.tolist() == [False, False, True]
    positions = bar_positions(64, torch.tensor([[12]]), torch.tensor([[-64 % 12]]))[0]
    assert positions[:6].tolist() == [8, 9, 10, 11, 0, 1]
    assert positions[-1] == 11  # the window's last step ends a bar
    four_four, _, _ = make_windows([(pitch[:, :80], onset[:, :80])], 64, 16)
    assert len(four_four) == 2


def test_training_data_mix_meters_in_windows_of_one_length(chorales):
    both = load_windows(chorales, base=CHORALE_ENCODING, meters=((4, 4), (3, 4)))
    only_four = load_windows(chorales, base=CHORALE_ENCODING)
    assert both.meters == (4, 3)
    assert both.pitch.shape[2] == only_four.pitch.shape[2] == 64
    three = both.bar_steps == 12
    assert 0 < three.sum() == len(both) - len(only_four)
    assert set(both.phase[three].tolist()) == {8} and set(both.phase[~three].tolist()) == {0}
    assert only_four.stats["skipped_meter"] == both.stats["skipped_meter"] + 1
    ending = ending_steps(torch.tensor([True, True]), 64, torch.tensor([16, 12]))
    assert ending.sum(dim=1).tolist() == [16, 12]


def test_the_generator_hears_the_meter_and_keeps_four_four_as_before():
    torch.manual_seed(0)
    generator = CompletionGenerator(TINY_COMPLETION).eval()
    shape = (1, 4, 48)
    given = torch.zeros(*shape, TINY_COMPLETION.n_classes)
    args = (given, torch.zeros(shape), torch.ones(shape), generator.noise(1, 48))
    mode = torch.zeros(1, dtype=torch.long)
    default = generator(*args, mode).pitch_logits
    four = generator(*args, mode, positions=bar_positions(48, 16)).pitch_logits
    three = generator(*args, mode, positions=bar_positions(48, 12)).pitch_logits
    assert torch.equal(default, four)
    assert not torch.allclose(four, three)


def test_a_model_trained_on_both_meters_composes_in_three_four(model, tmp_path):
    assert model.config.meters == (4, 3)
    (piece,) = generate(1, bars=4, seed=1, model=model, meter="3/4", phrases=[2])
    assert piece.time_signature == (3, 4) and piece.n_steps == 4 * 12
    assert [step // 12 for step in piece.fermatas] == [1, 3]
    last_bar = piece.onsets[:, 36:].any(axis=(0, 2))
    assert last_bar.tolist() == [True] + [False] * 11  # the final chord holds the bar
    path = write_midi(piece, tmp_path / "waltz.mid")
    assert read_midi(path).time_signature == (3, 4)
    again = generate(1, bars=4, seed=1, model=model, meter=(3, 4), phrases=[2])[0]
    assert np.array_equal(again.sounding, piece.sounding)
    (chosen,) = generate(1, bars=2, seed=1, model=model, meter="3/4", candidates=3)
    assert chosen.n_steps == 24  # the critic hears 3/4 bars too


@pytest.mark.parametrize(
    ("meter", "message"),
    [("5/4", "writes in 4/4 and 3/4, not 5/4"), ("3/8", "not 3/8"), ("waltz", "looks like")],
)
def test_an_unknown_meter_is_a_one_line_error(model, tmp_path, capsys, meter, message):
    with pytest.raises(BachganError, match=message):
        generate(1, bars=2, model=model, meter=meter)
    args = ["generate", "--model", model.source, "--meter", meter, "--no-audio"]
    assert main([*args, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_four_four_model_refuses_three_four(chorales, tmp_path):
    run = train(
        tiny_config(chorales, tmp_path, arch="completion", steps=1, meters=["4/4"]),
        progress=False,
    )
    four_only = load_model(run)
    assert four_only.meters == (4,)
    with pytest.raises(BachganError, match="writes in 4/4, not 3/4"):
        generate(1, bars=2, model=four_only, meter="3/4")
    with pytest.raises(BachganError, match="writes in 4/4, not 3/4"):
        harmonize(example_melody("God Save the King (3/4)"), four_only)


def test_a_three_four_melody_is_harmonized_in_three_four(model):
    tune = example_melody("God Save the King (3/4)")
    result = harmonize(tune, model, seed=2)
    assert result.time_signature == (3, 4) and result.n_steps == tune.n_steps
    soprano = result.notes().select(result.notes().track == 0)
    assert soprano.to_tuples() == sorted(tune.notes().to_tuples())
    assert result.fermatas and result.fermatas[-1] >= tune.n_steps - 12


def test_regenerating_a_three_four_piece_keeps_everything_outside_the_region(model):
    (piece,) = generate(1, bars=4, seed=3, model=model, meter="3/4")
    new = regenerate(piece, (2, 3), ["alto"], seed=9, model=model)
    assert new.time_signature == (3, 4)
    outside = np.ones(piece.n_steps, bool)
    outside[12:36] = False
    assert np.array_equal(new.sounding[:, outside], piece.sounding[:, outside])
    assert np.array_equal(new.sounding[[0, 2, 3]], piece.sounding[[0, 2, 3]])


def test_regenerate_moves_the_piece_to_a_key_in_its_mode(model):
    (piece,) = generate(1, bars=2, seed=4, model=model, key="C major")
    moved = regenerate(piece, (2, 2), seed=1, model=model, key="D major")
    assert (moved.key_fifths, moved.key_mode) == (2, "major")
    first_bar = moved.notes().select(moved.notes().start < 16)
    assert sorted(first_bar.pitch) == sorted(
        piece.notes().select(piece.notes().start < 16).pitch + 2
    )
    with pytest.raises(BachganError, match="the piece is in major"):
        regenerate(piece, (2, 2), model=model, key="B minor")


def write_with_pickup_bar(roll, path, pickup_quarters: int):
    """``roll`` as a MIDI file that opens with a pickup bar of ``pickup_quarters`` beats
    (a time signature of that many quarters, then the roll's own), as notation programs
    write one."""
    score = to_score(roll)
    numerator, denominator = roll.time_signature
    ticks = score.ticks_per_quarter
    score.time_signatures = [
        symusic.TimeSignature(0, pickup_quarters, 4),
        symusic.TimeSignature(pickup_quarters * ticks, numerator, denominator),
    ]
    score.dump_midi(str(path))
    return path


def test_a_pickup_bar_in_the_file_puts_the_first_downbeat_on_a_bar_line(tmp_path):
    # One beat of upbeat (G), then a 4/4 bar whose downbeat is C.
    tune = parse_melody("G4/1 C5/2 D5/2 E5/4")
    path = write_with_pickup_bar(tune, tmp_path / "upbeat.mid", 1)
    read = read_midi(path)
    assert read.time_signature == (4, 4)
    starts = sorted(read.notes().start.tolist())
    assert starts == [12, 16, 24, 32]  # the downbeat C on the bar line, step 16
    waltz = parse_melody("D4/1 G4/2 B4/1 A4/3", time_signature=(3, 4))
    read = read_midi(write_with_pickup_bar(waltz, tmp_path / "waltz.mid", 1))
    assert read.time_signature == (3, 4) and sorted(read.notes().start.tolist()) == [8, 12, 20, 24]
    plain = read_midi(write_midi(tune, tmp_path / "plain.mid"))
    assert sorted(plain.notes().start.tolist()) == [0, 4, 12, 20]


def test_meters_are_read_from_text():
    assert parse_meter("3/4") == (3, 4) and parse_meter(" 6/8 ") == (6, 8)
    for text in ("3", "3/5", "0/4", "three/4"):
        with pytest.raises(ValueError):
            parse_meter(text)


def test_evaluation_windows_are_cut_from_the_pieces_in_one_meter(chorales):
    from bachgan.evaluation.evaluate import as_windows, whole_pieces
    from bachgan.io.corpus import load_rolls

    rolls, _ = load_rolls(chorales)
    waltzes = as_windows(rolls, 4, (3, 4))
    assert waltzes and all(w.n_steps == 48 and w.time_signature == (3, 4) for w in waltzes)
    in_four = as_windows(rolls, 4)
    assert in_four and all(w.n_steps == 64 and w.time_signature == (4, 4) for w in in_four)
    assert len(whole_pieces(rolls)) == len(rolls)  # every piece, in its own meter


def test_a_melody_in_five_eight_is_refused_in_one_line(model, tmp_path, capsys):
    tune = write_midi(
        parse_melody("C5/1 D5/1 E5/0.5 C5/1 G5/1 E5/0.5", time_signature=(5, 8)),
        tmp_path / "five.mid",
    )
    args = ["harmonize", str(tune), "--model", model.source, "--out", str(tmp_path / "out")]
    assert main(args) == 2
    assert "writes in 4/4 and 3/4, not 5/8" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
