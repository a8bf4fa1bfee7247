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
