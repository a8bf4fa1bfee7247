"""Scores as hostile input: music21's pickle cache is never used, memory stays bounded for
MusicXML and .mxl files of any claimed size, and threads read one file side by side."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import pytest
from test_limits import run_capped

from bachgan.errors import SkipFile
from bachgan.io.score_reader import read_score_conversion
from bachgan.io.user_music import read_user_music
from bachgan.limits import MAX_SCORE_BYTES

MB = 2**20


def part(name: str, index: int, measures: str) -> tuple[str, str]:
    """A part-list entry and a part of ``measures`` (MusicXML text)."""
    entry = f'<score-part id="P{index}"><part-name>{name}</part-name></score-part>'
    return entry, f'<part id="P{index}">{measures}</part>'


def score_xml(*parts: tuple[str, str], doctype: str = "") -> bytes:
    """A partwise MusicXML document of ``parts``."""
    entries = "".join(entry for entry, _ in parts)
    bodies = "".join(body for _, body in parts)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<score-partwise version="4.0">'
        f"<part-list>{entries}</part-list>{bodies}</score-partwise>"
    ).encode()


def note(step: str = "C", octave: int = 5, duration: int = 1, kind: str = "quarter") -> str:
    return (
        f"<note><pitch><step>{step}</step><octave>{octave}</octave></pitch>"
        f"<duration>{duration}</duration><type>{kind}</type></note>"
    )


def measure(number: int, body: str, first: bool = False, divisions: int = 1) -> str:
    attributes = (
        f"<attributes><divisions>{divisions}</divisions><key><fifths>0</fifths></key>"
        "<time><beats>4</beats><beat-type>4</beat-type></time></attributes>"
        if first
        else ""
    )
    return f'<measure number="{number}">{attributes}{body}</measure>'


def melody(bars: int = 2, extra: str = "", divisions: int = 1) -> bytes:
    """A one-part melody of ``bars`` bars of four quarter notes (``extra`` ends bar 1)."""
    measures = "".join(
        measure(i + 1, note() * 4 + (extra if i == 0 else ""), i == 0, divisions)
        for i in range(bars)
    )
    return score_xml(part("Melody", 1, measures))


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- the pickle cache
def run_isolated(code: str, scratch: Path) -> subprocess.CompletedProcess:
    """``code`` in a fresh Python whose temporary folder (music21's scratch) is ``scratch``."""
    environment = {**os.environ, "TMPDIR": str(scratch)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
    )


@pytest.mark.parametrize("payload", ["code", "truncated"])
def test_a_pickle_planted_for_a_scores_path_is_never_loaded(payload, tmp_path):
    score = write(tmp_path / "melody.musicxml", melody())
    marker = tmp_path / "pickle-ran"
    cut = 9 if payload == "truncated" else None  # a pickle cut short by a kill
    result = run_isolated(
        f"""
        import os, pathlib, pickle, time, zlib
        from music21 import converter

        class Planted:
            def __reduce__(self):
                return (pathlib.Path.touch, (pathlib.Path({str(marker)!r}),))

        planted = converter.PickleFilter({str(score)!r}).status()[2]
        planted.parent.mkdir(parents=True, exist_ok=True)
        planted.write_bytes(zlib.compress(pickle.dumps(Planted()))[:{cut}])
        later = time.time() + 3600
        os.utime(planted, (later, later))

        from bachgan.io.score_reader import read_score_conversion
        roll = read_score_conversion({str(score)!r}, voices=1).roll
        print(roll.n_bars, sorted(os.listdir(planted.parent)) == [planted.name])
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert result.stdout.split() == ["2", "True"]  # read from the file; no pickle written


def test_a_score_replaced_by_one_with_an_older_time_is_read_afresh(tmp_path):
    path = write(tmp_path / "melody.musicxml", melody())
    assert read_score_conversion(path, voices=1).roll.n_tracks == 1
    voices = [part(name, i + 1, measure(1, note() * 4, True)) for i, name in enumerate("SAT")]
    write(path, score_xml(*voices))
    os.utime(path, (1_000_000, 1_000_000))
    with pytest.raises(SkipFile, match="3 parts, not 1"):
        read_score_conversion(path, voices=1)


def test_eight_threads_read_one_new_score_at_once(tmp_path):
    path = write(tmp_path / "melody.musicxml", melody(bars=8))
    results: list[object] = []

    def read() -> None:
        try:
            results.append(read_score_conversion(path, voices=1).roll.n_bars)
        except Exception as error:  # collected: a failure in a thread must fail the test
            results.append(error)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [8] * 8


# --------------------------------------------------------------------------- memory
def capped_read(
    path: Path, max_bars: int | None = 256, extra_bytes: int = 500 * MB
) -> subprocess.CompletedProcess:
    """Read ``path`` as a user's melody in a Python that may grow by ``extra_bytes`` at most."""
    return run_capped(
        "from pathlib import Path; from bachgan.io.user_music import read_user_music",
        f"read_user_music(Path({str(path)!r}), max_bars={max_bars})",
        extra_bytes,
    )


def assert_refused(result: subprocess.CompletedProcess, reason: str) -> None:
    assert "MemoryError" not in result.stderr
    assert f"SkipFile: {reason}" in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize(
    "extra",
    [note(duration=10**9, kind="whole"), "<forward><duration>1000000000</duration></forward>"],
    ids=["note", "forward"],
)
def test_a_billion_quarter_notes_in_two_kilobytes_are_refused_before_any_roll(extra, tmp_path):
    path = write(tmp_path / "long.musicxml", melody(extra=extra))
    assert path.stat().st_size < 2048
    assert_refused(capped_read(path), "a note or rest of 1e+09 quarter notes (at most 8000)")


def test_a_quarter_of_a_million_bars_is_refused_before_music21_reads_them(tmp_path):
    measures = measure(1, note(), True) + "<measure/>" * 250_002
    path = write(tmp_path / "bars.musicxml", score_xml(part("Melody", 1, measures)))
    assert_refused(capped_read(path), "250003 measures in a part (at most 257)")
    assert_refused(capped_read(path, max_bars=None), "250003 measures in a part (at most 2000)")


def test_a_long_note_sequence_is_refused_from_its_notes_before_any_roll(tmp_path):
    long_notes = note(duration=7999 * 4, kind="whole") * 300
    path = write(
        tmp_path / "long.musicxml", score_xml(part("Melody", 1, measure(1, long_notes, True, 4)))
    )
    assert_refused(capped_read(path, max_bars=None), "too large for a piano-roll")
    assert_refused(capped_read(path), "599925 bars (at most 256)")


def test_a_score_above_the_size_cap_is_refused_before_parsing(tmp_path):
    body = "".join(measure(i + 1, note() * 4, i == 0) for i in range(10_000))
    path = write(tmp_path / "large.musicxml", score_xml(part("Melody", 1, body)))
    assert path.stat().st_size > MAX_SCORE_BYTES
    with pytest.raises(SkipFile, match=r"MB \(scores up to 4.0 MB\)"):
        read_user_music(path, max_bars=256)


def zip_bomb(path: Path, inflated: int, declared: int | None = None) -> Path:
    """An .mxl whose score inflates to ``inflated`` bytes; with ``declared`` its headers
    claim that size instead."""
    head = melody()
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("score.musicxml", "w", force_zip64=True) as member,
    ):
        member.write(head[: head.index(b"<part-list>")] + b"<!--")
        for _ in range(inflated // MB):
            member.write(b" " * MB)
        member.write(b"-->" + head[head.index(b"<part-list>") :])
    if declared is not None:
        data = bytearray(path.read_bytes())
        for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            start = data.index(signature)
            data[start + offset : start + offset + 4] = declared.to_bytes(4, "little")
        path.write_bytes(bytes(data))
    return path


def test_an_mxl_zip_bomb_is_refused_in_under_100_mb(tmp_path):
    bomb = zip_bomb(tmp_path / "bomb.mxl", 400 * MB)
    assert bomb.stat().st_size < 1_000_000
    result = capped_read(bomb, max_bars=32, extra_bytes=100 * MB)
    assert_refused(result, "inflates to more than 4.0 MB (a zip bomb?)")


def test_an_mxl_that_lies_about_its_size_is_refused_while_it_inflates(tmp_path):
    bomb = zip_bomb(tmp_path / "liar.mxl", 64 * MB, declared=1000)
    result = capped_read(bomb, max_bars=32, extra_bytes=100 * MB)
    assert_refused(result, "not a readable .mxl archive")


def test_an_mxl_within_the_caps_is_read_through_its_container(tmp_path):
    path = tmp_path / "melody.mxl"
    container = (
        b'<?xml version="1.0"?><container><rootfiles>'
        b'<rootfile full-path="music/melody.musicxml"/></rootfiles></container>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("aaa.xml", score_xml())  # not the root file
        archive.writestr("music/melody.musicxml", melody(bars=3))
    assert read_user_music(path, max_bars=32).roll.n_bars == 3


# --------------------------------------------------------------------------- XML itself
ENTITIES = {
    "xxe": '<!DOCTYPE score-partwise [<!ENTITY secret SYSTEM "file:///etc/hostname">]>',
    "laughs": '<!DOCTYPE score-partwise [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
}


@pytest.mark.parametrize("kind", sorted(ENTITIES))
def test_entity_declarations_are_refused_and_nothing_is_read(kind, tmp_path):
    used = "&secret;" if kind == "xxe" else "&b;"
    data = score_xml(part(used, 1, measure(1, note() * 4, True)), doctype=ENTITIES[kind])
    with pytest.raises(SkipFile, match="declares XML entities"):
        read_user_music(write(tmp_path / f"{kind}.musicxml", data), max_bars=32)


def test_an_external_dtd_is_never_fetched(tmp_path):
    doctype = '<!DOCTYPE score-partwise SYSTEM "http://127.0.0.1:9/partwise.dtd">'
    data = melody().replace(b"<score-partwise", doctype.encode() + b"<score-partwise", 1)
    path = write(tmp_path / "dtd.musicxml", data)
    assert read_user_music(path, max_bars=32).roll.n_bars == 2


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (melody(divisions=0), "divisions of 0 per quarter note (must be above 0)"),
        (melody(extra="<forward><duration>-4</duration></forward>"), "is not a length"),
        (melody(extra="<forward><duration>x</duration></forward>"), "is not a number"),
        (b"<score-partwise><part", "not well-formed XML"),
        (b"<score-timewise/>", "not a partwise MusicXML score"),
    ],
    ids=["divisions", "negative", "text", "broken", "timewise"],
)
def test_malformed_scores_are_refused_with_their_reason(data, reason, tmp_path):
    with pytest.raises(SkipFile, match=re.escape(reason)):
        read_user_music(write(tmp_path / "odd.musicxml", data), max_bars=32)


def test_a_missing_score_is_said_to_be_missing(tmp_path):
    for name in ("gone.musicxml", "gone.mxl", "gone.mid"):
        with pytest.raises(SkipFile, match=r"^no such file$"):
            read_user_music(tmp_path / name, max_bars=32)


def test_a_scores_sane_tempo_marking_is_kept_and_an_odd_one_ignored(tmp_path):
    def with_tempo(bpm: str) -> Path:
        marking = f'<direction><sound tempo="{bpm}"/></direction>'
        body = measure(1, marking + note() * 4, True)
        return write(tmp_path / f"t{bpm}.musicxml", score_xml(part("Melody", 1, body)))

    assert read_user_music(with_tempo("66"), max_bars=32).roll.tempo_bpm == 66
    assert read_user_music(with_tempo("5000"), max_bars=32).roll.tempo_bpm == 100
