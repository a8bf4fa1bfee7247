import json
import os
from pathlib import Path

import pytest
from conftest import CHORALE_NOTES, make_roll, raw_midi

from bachgan.cli import main
from bachgan.errors import BachganError
from bachgan.io.corpus import Settings, load_rolls, prepare, skip_report_path
from bachgan.io.midi import write_midi
from bachgan.io.musicxml_writer import write_musicxml
from bachgan.roll import VOICE_NAMES


@pytest.fixture
def messy_folder(tmp_path):
    """A folder of good files beside every kind of bad one a user's collection holds."""
    folder = tmp_path / "music"
    (folder / "sub").mkdir(parents=True)
    write_midi(make_roll(), folder / "good.mid")
    write_midi(make_roll([(0, 60, 0, 16), (3, 40, 0, 16)], 16), folder / "sub" / "OTHER.MIDI")
    (folder / "copy.mid").write_bytes((folder / "good.mid").read_bytes())
    (folder / "empty.mid").write_bytes(b"")
    (folder / "truncated.mid").write_bytes((folder / "good.mid").read_bytes()[:40])
    (folder / "random.mid").write_bytes(os.urandom(300))
    (folder / "text.mid").write_text("this is not music\n")
    (folder / "nonotes.mid").write_bytes(raw_midi(b"\x00\xff\x51\x03\x07\xa1\x20"))
    (folder / "drums.mid").write_bytes(raw_midi(b"\x00\x99\x24\x50\x60\x89\x24\x00"))
    (folder / "tpq0.mid").write_bytes(raw_midi(division=0))
    (folder / "score.xml").write_text("<score-partwise></score-partwise>")
    (folder / "notes.txt").write_text("liner notes")
    (folder / "dir.mid").mkdir()
    return folder


def test_prepare_keeps_good_files_and_reports_every_bad_one(messy_folder, tmp_path):
    out = tmp_path / "out" / "data.npz"
    report = prepare([str(messy_folder)], out, progress=False)
    assert len(report.kept) == 2
    reasons = dict(report.skipped)
    folder = str(messy_folder)
    assert reasons[f"{folder}/good.mid"] == f"duplicate of {folder}/copy.mid"
    assert reasons[f"{folder}/empty.mid"] == "empty file"
    assert "truncated" in reasons[f"{folder}/truncated.mid"]
    assert "not a MIDI file" in reasons[f"{folder}/random.mid"]
    assert "not a MIDI file" in reasons[f"{folder}/text.mid"]
    assert reasons[f"{folder}/nonotes.mid"] == "no notes"
    assert reasons[f"{folder}/drums.mid"] == "drums only"
    assert "ticks per quarter note is 0" in reasons[f"{folder}/tpq0.mid"]
    assert "music21" in reasons[f"{folder}/score.xml"] or "parts" in reasons[f"{folder}/score.xml"]
    assert "not a MIDI or MusicXML" in reasons[f"{folder}/notes.txt"]
    assert "a folder, not a file" in reasons[f"{folder}/dir.mid"]
    assert len(report.kept) + len(report.skipped) == 13
    saved = json.loads(skip_report_path(out).read_text())
    assert saved["kept"] == 2 and saved["skipped_count"] == 11
    rolls, names = load_rolls(out)
    assert [r.n_tracks for r in rolls] == [4, 4]
    assert rolls[names.index(f"{folder}/copy.mid")].notes().to_tuples() == sorted(CHORALE_NOTES)


def test_second_prepare_comes_from_the_cache(messy_folder, tmp_path):
    prepare([str(messy_folder)], tmp_path / "a.npz", progress=False)
    again = prepare([str(messy_folder)], tmp_path / "b.npz", progress=False)
    assert again.cached == 13
    assert load_rolls(tmp_path / "b.npz")[1] == load_rolls(tmp_path / "a.npz")[1]


def test_settings_change_the_cache_key(messy_folder, tmp_path):
    prepare([str(messy_folder)], tmp_path / "a.npz", progress=False)
    again = prepare([str(messy_folder)], tmp_path / "b.npz", Settings(resolution=2), progress=False)
    assert again.cached == 0


def test_unreadable_file_is_skipped(messy_folder, tmp_path, monkeypatch):
    import bachgan.io.corpus as corpus

    real_digest = corpus._digest
    monkeypatch.setattr(
        corpus, "_digest", lambda p: None if p.name == "good.mid" else real_digest(p)
    )
    report = prepare([str(messy_folder)], tmp_path / "a.npz", progress=False)
    assert "unreadable" in dict(report.skipped)[f"{messy_folder}/good.mid"]


def test_run_level_errors(tmp_path):
    with pytest.raises(BachganError, match="no such file"):
        prepare([str(tmp_path / "missing")], tmp_path / "a.npz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BachganError, match="no MIDI"):
        prepare([str(tmp_path / "empty")], tmp_path / "a.npz")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.mid").write_bytes(b"junk")
    with pytest.raises(BachganError, match="no usable music"):
        prepare([str(tmp_path / "bad")], tmp_path / "a.npz", progress=False)


def test_cli_prepare_errors_are_one_line_exit_2(tmp_path, capsys, chorale_midi):
    assert main(["prepare", str(tmp_path / "missing"), "--out", str(tmp_path / "a.npz")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("bachgan: error: no such file") and error.count("\n") == 1
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    out = blocker / "data.npz"
    assert main(["prepare", str(chorale_midi), "--out", str(out)]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_cli_prepare_writes_data_and_report(tmp_path, capsys, chorale_midi):
    out = tmp_path / "data.npz"
    assert main(["prepare", str(chorale_midi), "--out", str(out), "--workers", "1"]) == 0
    assert "kept 1 files" in capsys.readouterr().out
    assert out.exists() and skip_report_path(out).exists()


def test_bach_chorales_keep_four_voices_and_pickups():
    from bachgan.io.corpus import bach_chorale_paths, convert_file

    chorale = next(p for p in bach_chorale_paths() if p.name == "bwv104.6.mxl")
    roll = convert_file(chorale, Settings()).roll
    assert roll.track_names == ("Soprano", "Alto", "Tenor", "Bass")
    first = int(roll.notes().start.min())
    assert (
        first > 0 and (first + 4) % roll.steps_per_bar == 0
    )  # a one-beat pickup, padded to the bar
    assert roll.n_steps % roll.steps_per_bar == 0


def test_a_scores_fermatas_survive_the_data_set_and_the_cache(tmp_path):
    folder = tmp_path / "scores"
    folder.mkdir()
    chorale = make_roll(track_names=VOICE_NAMES, fermatas=(16,))
    write_musicxml(chorale, folder / "chorale.musicxml")
    write_midi(make_roll(), folder / "plain.mid")
    for name in ("fresh.npz", "cached.npz"):
        prepare([str(folder)], tmp_path / name, cache_dir=tmp_path / "cache", progress=False)
        rolls, names = load_rolls(tmp_path / name)
        fermatas = {Path(n).name: r.fermatas for r, n in zip(rolls, names, strict=True)}
        assert fermatas == {"chorale.musicxml": (16,), "plain.mid": ()}


def test_the_report_says_which_meters_and_chords_a_model_will_meet(tmp_path):
    from conftest import CHORALE_NOTES, make_roll

    from bachgan.io.corpus import prepare
    from bachgan.io.midi import write_midi

    folder = tmp_path / "mine"
    folder.mkdir()
    write_midi(make_roll(time_signature=(2, 4)), folder / "two.mid")
    write_midi(make_roll(time_signature=(2, 4), tempo_bpm=90.0), folder / "two_again.mid")
    chord = [*CHORALE_NOTES, (1, 60, 0, 8)]  # the alto sings C4 and C5 at once
    write_midi(make_roll(chord), folder / "chord.mid")
    report = prepare([str(folder)], tmp_path / "data.npz", workers=1, progress=False)
    assert report.meters == {"2/4": 2, "4/4": 1} and report.pieces_with_chords == 1
    summary = report.summary()
    assert "meters of the kept pieces: 2/4: 2, 4/4: 1" in summary
    assert "pieces in which a voice sounds two notes at once: 1" in summary
