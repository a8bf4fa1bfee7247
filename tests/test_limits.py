"""Hostile and odd input at every entry point: bounded memory and disk, one-line errors with
exit code 2, nothing half written, no worker left behind."""

from __future__ import annotations

import importlib
import inspect
import math
import os
import pkgutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_roll, raw_midi, small_chorale_set
from PIL import Image

import bachgan
from bachgan.cli import main
from bachgan.errors import BachganError, SkipFile
from bachgan.generation.harmonize import melody_line
from bachgan.generation.loading import pretrained_path
from bachgan.io.checkpoint import load_checkpoint, save_checkpoint
from bachgan.io.corpus import prepare
from bachgan.io.midi import read_midi, read_midi_conversion, write_midi
from bachgan.io.outputs import write_outputs
from bachgan.limits import MAX_ROLL_CELLS, MAX_TRACKS
from bachgan.roll import Notes, Roll

MB = 2**20
#: One quarter note of middle C.
QUARTER = b"\x00\x90\x3c\x50\x60\x80\x3c\x00"


def note_at(bar: int) -> bytes:
    """A middle-C quarter note that starts ``bar`` bars of 4/4 after the previous event."""
    return _delta(bar * 4 * 96) + b"\x90\x3c\x50\x60\x80\x3c\x00"


def _delta(ticks: int) -> bytes:
    out = [ticks & 0x7F]
    while ticks > 0x7F:
        ticks >>= 7
        out.insert(0, (ticks & 0x7F) | 0x80)
    return bytes(out)


def many_notes(count: int) -> bytes:
    """``count`` notes, 48 per quarter note, cycling over two octaves."""
    return b"".join(
        bytes([0, 0x90, 48 + i % 24, 0x50, 0x02, 0x80, 48 + i % 24, 0]) for i in range(count)
    )


def run_capped(setup: str, action: str, extra_bytes: int = 500 * MB) -> subprocess.CompletedProcess:
    """Run ``action`` in a fresh Python whose address space may grow by at most
    ``extra_bytes`` beyond what ``setup`` (the imports) took."""
    code = textwrap.dedent(
        f"""
        import resource, sys
        {setup}
        def size():
            with open("/proc/self/status") as status:
                line = next(x for x in status if x.startswith("VmSize:"))
            return int(line.split()[1]) * 1024
        limit = size() + {extra_bytes}
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        {action}
        """
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def run_cli(*argv: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    """``bachgan ARGV`` in a fresh process; with ``file_size_limit`` no file it writes may
    grow beyond that many bytes (as on a full disk, writes then fail)."""
    prelude = ""
    if file_size_limit is not None:
        prelude = (
            "import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({file_size_limit}, {file_size_limit})); "
        )
    code = prelude + f"import sys; from bachgan.cli import main; sys.exit(main({list(argv)!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    """Exit code 2 and, after any progress bar, one line that says what went wrong."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("bachgan: error: "), result.stderr
    for word in words:
        assert word in last


@pytest.fixture(scope="module")
def chorales(tmp_path_factory) -> Path:
    return small_chorale_set(tmp_path_factory.mktemp("limits"), "bwv2", 4)


# --------------------------------------------------------------------------- memory
def test_ten_thousand_tracks_are_refused_before_any_roll_is_made(tmp_path):
    hostile = tmp_path / "tracks.mid"
    hostile.write_bytes(raw_midi(note_at(16), midi_format=1, tracks=10_000))
    assert hostile.stat().st_size < 250_000
    result = run_capped(
        "from bachgan.io.midi import read_midi_conversion",
        f"read_midi_conversion({str(hostile)!r}, max_bars=32)",
    )
    assert "SkipFile: 10000 tracks with notes (at most 64)" in result.stderr
    assert "MemoryError" not in result.stderr
    cli = run_capped(
        "import bachgan.cli, bachgan.io.images", _cli_action("midi2image", hostile, "o")
    )
    assert_one_line_error(cli, "10000 tracks")


def test_the_largest_file_within_the_limits_reads_in_under_500_mb(tmp_path):
    """Every track as long as the cell budget allows: the worst an accepted file can cost."""
    bars = MAX_ROLL_CELLS // (MAX_TRACKS * 16 * 88)
    largest = tmp_path / "largest.mid"
    largest.write_bytes(raw_midi(note_at(bars - 1), midi_format=1, tracks=MAX_TRACKS))
    result = run_capped(
        "from bachgan.io.midi import read_midi",
        f"roll = read_midi({str(largest)!r}); print(roll.sounding.shape)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"({MAX_TRACKS}, {bars * 16}, 88)"
    too_long = tmp_path / "too_long.mid"
    too_long.write_bytes(raw_midi(note_at(bars + 1), midi_format=1, tracks=MAX_TRACKS))
    with pytest.raises(SkipFile, match="too large for a piano-roll"):
        read_midi(too_long)


def test_an_upload_longer_than_the_apps_limit_is_refused_from_the_header(tmp_path):
    long_melody = tmp_path / "long.mid"
    long_melody.write_bytes(raw_midi(QUARTER + note_at(40)))
    with pytest.raises(SkipFile, match=r"41 bars \(at most 32\)"):
        read_midi_conversion(long_melody, max_bars=32)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--bars", "10000"], "bars must be between 1 and 256"),
        (["-n", "1000000000"], "pieces must be between 1 and 1000"),
        (["--candidates", "1000000000"], "candidates must be between 1 and 64"),
        (["--tempo", "0"], "tempo 0 is outside 20-320"),
        (["--tempo", "-80"], "tempo -80 is outside"),
        (["--tempo", "nan"], "tempo nan is outside"),
        (["--sampling", "sample", "--temperature", "0"], "temperature must be a number above 0"),
    ],
)
def test_generate_refuses_requests_beyond_the_limits(option, message, tmp_path, capsys):
    assert main(["generate", "--out", str(tmp_path), *option]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"bachgan: error: {message}") and error.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_a_piece_too_long_to_render_leaves_no_file_behind(tmp_path):
    crawling = make_roll(tempo_bpm=0.01)  # two bars in 800 minutes
    with pytest.raises(BachganError, match="audio is rendered for up to 60"):
        write_outputs(crawling, tmp_path, "crawl")
    assert not list(tmp_path.iterdir())  # neither the MIDI nor the picture without the WAV


# --------------------------------------------------------------------------- disk
def test_a_full_disk_in_generate_is_one_line_and_leaves_no_part_of_the_piece(tmp_path):
    result = run_cli("generate", "--seed", "0", "--out", str(tmp_path), file_size_limit=300_000)
    assert_one_line_error(result, "cannot write", "chorale_0.wav", "File too large")
    assert not list(tmp_path.iterdir())


def test_a_full_disk_in_prepare_is_one_line(tmp_path):
    write_midi(make_roll(), tmp_path / "music" / "phrase.mid")
    out = tmp_path / "data.npz"
    result = run_cli("prepare", str(tmp_path / "music"), "--out", str(out), file_size_limit=500)
    assert_one_line_error(result, "cannot write", "File too large")
    assert not out.exists()


def test_a_full_disk_in_train_is_one_line(chorales, tmp_path):
    run = tmp_path / "run"
    argv = ("train", "--data", str(chorales), "--out", str(run), "--steps", "1")
    result = run_cli(*argv, "--model-size", "tiny", "--batch-size", "4", file_size_limit=50_000)
    assert_one_line_error(result, "cannot write", "checkpoint.pt", "is the disk full?")
    assert not (run / "checkpoint.pt").exists()


def test_a_truncated_data_set_is_one_line_for_train_and_evaluate(chorales, tmp_path, capsys):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(chorales.read_bytes()[: chorales.stat().st_size // 2])
    assert main(["train", "--data", str(truncated), "--out", str(tmp_path / "run")]) == 2
    assert "is not a readable bachgan data set" in capsys.readouterr().err
    assert main(["evaluate", str(truncated), "--out", str(tmp_path / "report")]) == 2
    assert "is not a readable bachgan data set" in capsys.readouterr().err


def test_a_truncated_cache_entry_is_a_miss_and_is_rewritten(chorale_midi, tmp_path):
    cache = tmp_path / "cache"
    prepare([str(chorale_midi)], tmp_path / "a.npz", cache_dir=cache, progress=False)
    (entry,) = cache.rglob("*.npz")
    entry.write_bytes(entry.read_bytes()[:100])
    report = prepare([str(chorale_midi)], tmp_path / "b.npz", cache_dir=cache, progress=False)
    assert report.kept and report.cached == 0
    report = prepare([str(chorale_midi)], tmp_path / "c.npz", cache_dir=cache, progress=False)
    assert report.cached == 1


# --------------------------------------------------------------------------- workers
def _children(pid: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
def test_prepare_workers_die_with_the_command(stop, tmp_path):
    folder = tmp_path / "slow"
    folder.mkdir()
    for index in range(16):  # about a second each
        (folder / f"dense_{index}.mid").write_bytes(raw_midi(many_notes(90_000)))
    out = tmp_path / "data.npz"
    command = [sys.executable, "-m", "bachgan", "prepare", str(folder), "--out", str(out)]
    parent = subprocess.Popen(
        [*command, "--workers", "2", "--no-cache"], stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while len(workers := _children(parent.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers) >= 2
    parent.send_signal(stop)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(workers)
    assert not out.exists()
    if stop == signal.SIGTERM:
        assert parent.returncode == 130
        assert parent.stderr.read().strip().endswith("bachgan: interrupted")


# --------------------------------------------------------------------------- images
def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_image2midi_refuses_huge_images_and_bad_tempos(tmp_path, capsys):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header_only(50_000_000, 106))
    wide = tmp_path / "wide.png"
    Image.new("L", (200_000, 106)).save(wide)
    good = tmp_path / "good.png"
    Image.new("L", (100, 106)).save(good)
    for image, words in ((bomb, "cannot read image"), (wide, "at most 16000 are read")):
        assert main(["image2midi", str(image), str(tmp_path / "x.mid")]) == 2
        assert words in capsys.readouterr().err
    for tempo in ("0", "nan", "-5"):
        assert main(["image2midi", str(good), str(tmp_path / "x.mid"), "--tempo", tempo]) == 2
        assert "is outside 20-320" in capsys.readouterr().err
    assert not (tmp_path / "x.mid").exists()


def test_app_refuses_a_port_out_of_range(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["app", "--port", "99999"])
    assert exit_info.value.code == 2
    assert "99999 is not a port number" in capsys.readouterr().err


# --------------------------------------------------------------------------- checkpoints
def _crafted(tmp_path: Path, name: str, change) -> Path:
    """The shipped checkpoint with ``change`` applied, saved with a valid checksum (as a
    deliberately crafted file would be)."""
    checkpoint = load_checkpoint(pretrained_path())
    change(checkpoint)
    return save_checkpoint(checkpoint, tmp_path / f"{name}.pt")


CRAFTED = {
    "no voices": lambda c: c["model_config"].update(n_voices=0),
    "missing weights": lambda c: c.pop("ema"),
    "config of the wrong type": lambda c: c.update(model_config="four voices"),
    "ranges of the wrong type": lambda c: c["encoding"].update(voice_ranges=5),
    "negative lowest pitch": lambda c: c["encoding"].update(lowest_pitch=-500),
    "seed arch with musegan weights": lambda c: c.update(arch="seed"),
    "seed arch with a bad config": lambda c: c.update(arch="seed", model_config={"latent": "x"}),
}


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_checkpoints_are_one_line_errors(name, tmp_path, capsys):
    crafted = _crafted(tmp_path, name.replace(" ", "_"), CRAFTED[name])
    out = tmp_path / "out"
    assert main(["generate", "--model", str(crafted), "--out", str(out), "--no-audio"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("bachgan: error: ") and "\n" not in error
    assert not out.exists()


def test_a_damaged_checkpoint_is_refused_by_its_checksum(tmp_path, capsys):
    data = bytearray(pretrained_path().read_bytes())
    middle = len(data) * 3 // 5
    data[middle : middle + 2000] = bytes(b ^ 0xFF for b in data[middle : middle + 2000])
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(data)
    with pytest.raises(BachganError, match="damaged"):
        load_checkpoint(damaged)
    assert main(["generate", "--model", str(damaged), "--out", str(tmp_path / "o")]) == 2
    assert "its checksum does not match" in capsys.readouterr().err


def test_checkpoints_without_a_checksum_still_load(tmp_path):
    checkpoint = load_checkpoint(pretrained_path())
    del checkpoint["checksum"]
    torch.save(checkpoint, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")["step"] == checkpoint["step"]


def test_a_killed_save_leaves_no_temporary_after_the_next_start(chorales, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    stale = run / ".checkpoint.k1ll3d.tmp.pt"
    stale.write_bytes(b"half a checkpoint")
    argv = ["train", "--data", str(chorales), "--out", str(run), "--steps", "1"]
    assert main([*argv, "--model-size", "tiny", "--batch-size", "4"]) == 0
    assert not stale.exists() and (run / "checkpoint.pt").exists()


# --------------------------------------------------------------------------- API
def test_no_public_name_is_shadowed_by_a_submodule():
    for module in pkgutil.walk_packages(bachgan.__path__, "bachgan."):
        if module.name != "bachgan.__main__":
            importlib.import_module(module.name)
    for name in bachgan.__all__:
        assert not inspect.ismodule(getattr(bachgan, name)), name
    melody = Roll.from_notes(Notes.from_tuples([(0, 72, 0, 16)]), 1, 16)
    for _ in range(2):  # the function both times, not the module after the first call
        with pytest.raises(BachganError, match="no checkpoint"):
            bachgan.harmonize(melody, model=str(pretrained_path().parent / "missing.pt"))


# --------------------------------------------------------------------------- quiet losses
def test_unended_and_merged_notes_are_counted_in_the_skip_report(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    unended = b"\x00\x90\x40\x50" + QUARTER  # an E that no note-off ends, and a C
    (folder / "unended.mid").write_bytes(raw_midi(unended, midi_format=1, tracks=4))
    write_midi(make_roll(), folder / "good.mid")
    report = prepare([str(folder)], tmp_path / "data.npz", progress=False)
    assert report.notes_unended == 4
    assert "notes without an end (no note-off) left out: 4" in report.summary()


def test_a_file_with_200000_notes_is_skipped_with_its_reason(tmp_path):
    dense = tmp_path / "dense.mid"
    dense.write_bytes(raw_midi(many_notes(200_000)))
    with pytest.raises(SkipFile, match=r"200000 notes \(at most 100000\)"):
        read_midi_conversion(dense, voices=4)


def test_notes_merged_on_the_grid_are_counted(tmp_path):
    twice = b"\x00\x90\x3c\x50\x00\x90\x3c\x50\x60\x80\x3c\x00\x00\x80\x3c\x00"
    path = tmp_path / "twice.mid"
    path.write_bytes(raw_midi(twice))
    assert read_midi_conversion(path).notes_merged == 1


def test_a_melody_that_the_grid_turns_into_chords_is_reported_as_such(tmp_path):
    # Two notes a 32nd apart fall on one sixteenth.
    fast = b"\x00\x90\x3c\x50\x06\x80\x3c\x00\x00\x90\x3e\x50\x5a\x80\x3e\x00"
    path = tmp_path / "fast.mid"
    path.write_bytes(raw_midi(QUARTER + fast))
    with pytest.raises(BachganError, match=r"at once on 1 sixteenths, first in bar 1, beat 2"):
        melody_line(read_midi(path))


def test_notes_left_out_of_a_users_file_are_counted_in_a_message(tmp_path, capsys):
    low = raw_midi(QUARTER + b"\x00\x90\x0a\x50\x60\x80\x0a\x00")  # pitch 10, below A0
    path = tmp_path / "low.mid"
    path.write_bytes(low)
    assert main(["midi2image", str(path), str(tmp_path / "images")]) == 0
    assert "1 notes outside the pitch range left out" in capsys.readouterr().err


def test_odd_tempo_markings_are_played_within_the_limits():
    from bachgan.limits import clamp_tempo

    assert clamp_tempo(3.58) == 20 and clamp_tempo(1000) == 320 and clamp_tempo(90) == 90
    assert clamp_tempo(math.nan) == 100
    with pytest.raises(ValueError, match="tempo must be above 0"):
        Roll(np.zeros((1, 4, 88), bool), np.zeros((1, 4, 88), bool), tempo_bpm=0.0)


def _cli_action(*argv: object) -> str:
    words = [str(word) for word in argv]
    return f"from bachgan.cli import main; sys.exit(main({words!r}))"


if os.name != "posix":  # RLIMIT_AS, RLIMIT_FSIZE and /proc are what these tests measure with
    pytest.skip("POSIX only", allow_module_level=True)
