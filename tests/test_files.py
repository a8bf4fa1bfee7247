"""A piece's files appear together or not at all, even when the process is killed, and an
earlier piece is never replaced by another one unasked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import make_roll

from bachgan.cli import main
from bachgan.io.files import atomic_file_set, remove_stale_staging
from bachgan.io.outputs import pieces_in_the_way, write_outputs


def killed_while_writing(folder: Path, complete: bool) -> subprocess.CompletedProcess:
    """A process that writes two files of a set into ``folder`` and is killed (SIGKILL)
    before the set appears, or (``complete``) while the finished set is moved into place."""
    code = f"""
        import os, signal
        from pathlib import Path
        import bachgan.io.files as files
        if {complete}:
            files._move_files = lambda staging, folder: os.kill(os.getpid(), signal.SIGKILL)
        with files.atomic_file_set({str(folder)!r}) as staging:
            (staging / "piece.mid").write_bytes(b"midi")
            (staging / "piece.musicxml").write_bytes(b"score")
            if not {complete}:
                os.kill(os.getpid(), signal.SIGKILL)
        """
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True)


def visible(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_a_set_killed_before_it_was_written_leaves_nothing_after_the_next_write(tmp_path):
    assert killed_while_writing(tmp_path, complete=False).returncode == -9
    assert [p.suffix for p in tmp_path.iterdir()] == [".partial"]  # what the kill left
    with atomic_file_set(tmp_path) as staging:
        (staging / "next.mid").write_bytes(b"next")
    assert visible(tmp_path) == ["next.mid"]


def test_a_set_killed_after_it_was_written_is_completed_by_the_next_write(tmp_path):
    assert killed_while_writing(tmp_path, complete=True).returncode == -9
    assert not (tmp_path / "piece.mid").exists()
    assert len(remove_stale_staging(tmp_path)) == 1
    assert visible(tmp_path) == ["piece.mid", "piece.musicxml"]


def test_a_set_being_written_by_a_living_process_is_left_alone(tmp_path):
    with atomic_file_set(tmp_path) as staging:
        (staging / "mine.mid").write_bytes(b"mine")
        assert remove_stale_staging(tmp_path) == []
        assert staging.exists()
    assert visible(tmp_path) == ["mine.mid"]


def test_a_failed_set_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_file_set(tmp_path) as staging:
        (staging / "half.mid").write_bytes(b"half")
        raise RuntimeError("the next file could not be made")
    assert visible(tmp_path) == []


def test_write_outputs_writes_the_whole_piece_and_nothing_else(tmp_path):
    written = write_outputs(make_roll(), tmp_path, "piece", audio=False)
    assert visible(tmp_path) == ["piece.mid", "piece.musicxml", "piece.png"]
    assert [p.name for p in written] == ["piece.mid", "piece.musicxml", "piece.png"]


def test_only_another_piece_under_the_same_name_is_in_the_way(tmp_path):
    roll = make_roll()
    write_outputs(roll, tmp_path, "piece", audio=False)
    assert pieces_in_the_way({"piece": roll}, tmp_path) == []
    other = make_roll(n_steps=32, tempo_bpm=60.0)
    assert pieces_in_the_way({"piece": other}, tmp_path) == [tmp_path / "piece.mid"]
    (tmp_path / "piece.mid").unlink()
    assert pieces_in_the_way({"piece": roll}, tmp_path) == [
        tmp_path / "piece.musicxml",
        tmp_path / "piece.png",
    ]


@pytest.mark.slow
def test_generate_refuses_to_replace_another_piece_unless_told(tmp_path, capsys):
    out = ["--out", str(tmp_path), "--seed", "5", "--no-audio", "--revisions", "0"]
    assert main(["generate", "--bars", "2", *out]) == 0
    first = (tmp_path / "chorale_5.mid").read_bytes()
    assert main(["generate", "--bars", "2", *out]) == 0  # the same piece again
    capsys.readouterr()
    assert main(["generate", "--bars", "3", *out]) == 2
    error = capsys.readouterr().err
    assert "chorale_5.mid already holds another piece" in error and "--overwrite" in error
    assert (tmp_path / "chorale_5.mid").read_bytes() == first
    assert main(["generate", "--bars", "3", "--overwrite", *out]) == 0
    assert (tmp_path / "chorale_5.mid").read_bytes() != first
