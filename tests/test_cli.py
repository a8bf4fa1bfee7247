import subprocess
import sys

import pytest

from bachgan.cli import main

COMMANDS = (
    "prepare",
    "train",
    "generate",
    "harmonize",
    "regenerate",
    "evaluate",
    "export",
    "midi2image",
    "image2midi",
    "app",
)


def test_every_command_is_listed_and_explained(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    listing = capsys.readouterr().out
    for command in COMMANDS:
        assert command in listing
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "usage: bachgan " + command in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "commands" in capsys.readouterr().out


def test_console_entry_point_runs_as_module():
    result = subprocess.run(
        [sys.executable, "-m", "bachgan", "prepare", "/no/such/folder"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "bachgan: error: no such file or folder: /no/such/folder"


# --------------------------------------------------------------------------- odd requests
@pytest.fixture(scope="module")
def piece(tmp_path_factory):
    """A four-bar chorale written by the shipped model, as a user would regenerate it."""
    folder = tmp_path_factory.mktemp("piece")
    assert main(["generate", "--bars", "4", "--seed", "1", "--no-audio", "--out", str(folder)]) == 0
    return folder / "chorale_1.mid"


def one_line_error(capsys) -> str:
    """The one line a failed command printed, after checking it is one line."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bachgan: error: "), captured.err
    return lines[0]


@pytest.mark.parametrize("meter", ["³/4", "4/³", "9" * 5000 + "/4", "3/" + "4" * 5000])
def test_odd_meters_are_one_line(meter, capsys, tmp_path):
    assert main(["generate", "--meter", meter, "--out", str(tmp_path), "--no-audio"]) == 2
    assert "a meter looks like 4/4 or 3/4" in one_line_error(capsys)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--region", "3-"], "first and last, both given"),
        (["--region", "-4"], "first and last, both given"),
        (["--region", "³"], "bars must look like 3-4"),
        (["--region", "1-2", "--voices", "alto,alto"], "voice alto given more than once"),
        (["--region", "1-2", "--voices", ""], "unknown voice (none)"),
    ],
)
def test_odd_regions_are_one_line(options, message, piece, capsys, tmp_path):
    out = ["--out", str(tmp_path), "--no-audio"]
    assert main(["regenerate", str(piece), *options, *out]) == 2
    assert message in one_line_error(capsys)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["gone.mid", "gone.musicxml", "gone.mxl"])
def test_a_missing_file_is_said_to_be_missing(name, capsys, tmp_path):
    assert main(["harmonize", str(tmp_path / name), "--out", str(tmp_path)]) == 2
    assert one_line_error(capsys).endswith(f"{name}: no such file")


def test_a_score_with_zero_divisions_is_one_line_and_music21_says_nothing(tmp_path):
    from test_hostile_scores import melody

    score = tmp_path / "zero.musicxml"
    score.write_bytes(melody(divisions=0))
    command = (
        f"import sys; from bachgan.cli import main; sys.exit(main(['harmonize', {str(score)!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", command], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"bachgan: error: cannot read {score}: divisions of 0 per quarter note (must be above 0)"
    ]


def help_of(command: str, capsys) -> str:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_help_describes_the_shipped_model_and_the_options_there_are(capsys):
    from bachgan.config import PRESETS

    assert "NAME.musicxml" in help_of("generate", capsys)
    evaluate = help_of("evaluate", capsys)
    assert "gradient-boosted trees" in evaluate and "random forest" not in evaluate
    assert "--temperature" not in evaluate and "count-crossings" not in evaluate
    train = help_of("train", capsys)
    assert all(preset.stem in train for preset in PRESETS.glob("*.json"))
    assert "chorales (the default, --arch completion)" in train


def test_sampling_that_the_shipped_model_ignores_is_said_to_be_ignored(capsys, tmp_path):
    out = ["--out", str(tmp_path), "--no-audio", "--bars", "1", "--revisions", "0"]
    assert main(["generate", "--sampling", "argmax", "--seed", "1", *out]) == 0
    assert "--sampling argmax is for the musegan baseline" in capsys.readouterr().err
    for sampling in ([], ["--sampling", "sample", "--temperature", "0.5"]):
        assert main(["generate", "--seed", "2", *sampling, "--overwrite", *out]) == 0
        assert "baseline" not in capsys.readouterr().err


def test_a_pieces_name_is_enough_to_make_it_again_alone(tmp_path):
    out = ["--no-audio", "--bars", "2", "--revisions", "0"]
    assert (
        main(["generate", "-n", "3", "--seed", "21", "--out", str(tmp_path / "three"), *out]) == 0
    )
    assert main(["generate", "--seed", "22", "--out", str(tmp_path / "one"), *out]) == 0
    assert sorted(p.name for p in (tmp_path / "three").glob("*.mid")) == [
        "chorale_21.mid",
        "chorale_22.mid",
        "chorale_23.mid",
    ]
    alone = (tmp_path / "one" / "chorale_22.mid").read_bytes()
    assert (tmp_path / "three" / "chorale_22.mid").read_bytes() == alone
    assert (tmp_path / "three" / "chorale_21.mid").read_bytes() != alone
