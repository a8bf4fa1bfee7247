"""The browser app: the studio behind it, its HTTP API (gradio_client) and the page itself in a
real headless Chromium."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bachgan import studio as studio_module
from bachgan.errors import BachganError
from bachgan.generation.compose import generate
from bachgan.generation.loading import load_model
from bachgan.io.melodies import EXAMPLE_MELODIES, example_melody, parse_melody
from bachgan.io.midi import read_midi, write_midi
from bachgan.io.musicxml_writer import write_musicxml
from bachgan.io.pictures import NARROW
from bachgan.io.score_reader import read_score_conversion
from bachgan.limits import AppLimits
from bachgan.roll import Notes, Roll
from bachgan.studio import Studio

CHROMIUM = os.environ.get("BACHGAN_CHROMIUM", "/usr/bin/chromium")
#: The same pieces every time, so a test can compose a piece that is in its reference music.
REFERENCE_SEED = 7


TEST_LIMITS = AppLimits(max_bars=16, max_upload_bytes=20_000, max_melody_bars=16)


@pytest.fixture(scope="module")
def model():
    return load_model()


def small_reference(model):
    """A few pieces of the shipped model itself, seed 7 among them, as a studio's reference
    music (loading the Bach corpus would only make the tests slower)."""
    return lambda: (
        generate(1, 4, REFERENCE_SEED, model, final_chord=False)
        + generate(5, 4, REFERENCE_SEED + 1, model, final_chord=False)
    )


@pytest.fixture(scope="module")
def studio(tmp_path_factory, model) -> Studio:
    return Studio(
        model,
        reference=small_reference(model),
        workdir=tmp_path_factory.mktemp("studio"),
        limits=TEST_LIMITS,
    )


def disk_use(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def assert_playable(piece_files: tuple[str, str, str], tracks: int = 4) -> None:
    """The WAV has sound, the picture opens, the MIDI reads back with ``tracks`` voices."""
    wav, picture, midi = (Path(p) for p in piece_files)
    with wave.open(str(wav)) as audio:
        samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype=np.int16)
        assert audio.getframerate() == 44100
    assert np.abs(samples).max() > 1000
    with Image.open(picture) as image:
        assert image.size[0] > 100 and image.size[1] > 100
    roll = read_midi(midi)
    assert roll.n_tracks == tracks and len(roll.notes()) > 0


# --------------------------------------------------------------------------- the studio
def test_compose_writes_playable_piece_with_its_facts(studio):
    piece = studio.compose(seed=3, bars=6, tempo_bpm=100, candidates=2)
    assert_playable((piece.wav, piece.picture, piece.midi))
    assert piece.roll.n_bars == 6 and read_midi(piece.midi).tempo_bpm == pytest.approx(100)
    facts = {name: (value, bach) for name, value, bach in piece.facts}
    assert 0 <= float(facts["notes in the key"][0]) <= 1
    assert float(facts["voices sounding at once"][1]) > 1  # the reference's mean is shown
    complete, reference_complete = facts["eighths that sound a full triad or seventh chord"]
    assert 0 <= float(complete) <= 1 and 0 < float(reference_complete) <= 1


def test_a_piece_comes_with_its_score_its_seed_and_a_key_on_request(studio):
    piece = studio.compose(bars=4, key="Eb major")
    other = studio.compose(bars=4)
    assert piece.seed != other.seed and f"chorale_{piece.seed}" in piece.midi.name
    assert read_midi(piece.midi).key_fifths == -3
    assert read_score_conversion(piece.musicxml).roll.n_tracks == 4
    assert piece.score and all("<svg" in page.read_text()[:500] for page in piece.score)


def test_phrases_and_a_given_bass(studio):
    piece = studio.compose(seed=4, bars=4, phrases="2")
    assert [step // 16 for step in piece.roll.fermatas] == [1, 3]
    assert "<fermata" in piece.musicxml.read_text()
    bass = studio.harmonize(example="Frère Jacques", voice="bass", phrases="4")
    assert bass.roll.fermatas and "_harmonized_0" in bass.midi.name
    # The tune is the bass, note for note, and three voices sing above it.
    roll, tune = bass.roll, example_melody("Frère Jacques")
    given = roll.notes().select(roll.notes().track == 3)
    moved = int(given.pitch[0]) - int(tune.notes().pitch[0])
    assert moved % 12 == 0 and given.duration.tolist() == tune.notes().duration.tolist()
    assert (given.pitch - moved).tolist() == tune.notes().pitch.tolist()
    lowest = np.where(roll.sounding, np.arange(roll.n_pitches), roll.n_pitches).min(axis=2)
    bass_sounds = roll.sounding[3].any(axis=1)
    for voice in range(3):
        sings = roll.sounding[voice].any(axis=1) & bass_sounds
        assert sings.mean() >= 0.9 * bass_sounds.mean(), voice  # it sings with the bass
        assert (lowest[voice][sings] >= lowest[3][sings]).all(), voice  # and above it
    with pytest.raises(BachganError, match="phrases are N or bars"):
        studio.compose(seed=1, bars=4, phrases="two")


def test_three_four_pieces_are_composed_harmonized_and_regenerated(studio):
    assert studio.meters == ["4/4", "3/4"]
    piece = studio.compose(seed=6, bars=4, meter="3/4", phrases="2")
    assert piece.roll.time_signature == (3, 4) and piece.roll.n_steps == 48
    assert "<beats>3</beats>" in piece.musicxml.read_text()
    again = studio.regenerate(piece.midi, (2, 2), ["tenor"], seed=1)
    assert again.roll.time_signature == (3, 4)
    hymn = studio.harmonize(example="God Save the King (3/4)")
    assert hymn.roll.time_signature == (3, 4) and hymn.roll.n_bars == 14
    with pytest.raises(BachganError, match="not 5/4"):
        studio.compose(seed=1, bars=2, meter="5/4")


def test_regenerate_changes_only_the_chosen_bars_and_voices(studio):
    piece = studio.compose(seed=11, bars=6)
    again = studio.regenerate(piece.midi, (3, 4), ["alto", "bass"], seed=2)
    outside = [
        (track, pitch, start, length)
        for track, pitch, start, length in piece.roll.notes().to_tuples()
        if track in (0, 2) or start + length <= 32 or start >= 64
    ]
    assert set(outside) <= set(again.roll.notes().to_tuples())
    assert again.seed == 2 and "_regenerated_2" in again.midi.name
    with pytest.raises(BachganError, match="compose or harmonize a piece first"):
        studio.regenerate("/etc/hostname", (1, 1))
    with pytest.raises(BachganError, match="not inside the piece"):
        studio.regenerate(piece.midi, (5, 9))
    with pytest.raises(BachganError, match="tick at least one voice"):
        studio.regenerate(piece.midi, (3, 4), [])


def test_regenerate_keeps_the_pieces_fermatas(studio):
    piece = studio.compose(seed=3, bars=4, phrases="2")
    assert piece.roll.fermatas
    again = studio.regenerate(piece.midi, (1, 1), ["alto"], seed=1)
    assert again.roll.fermatas == piece.roll.fermatas
    assert read_score_conversion(again.musicxml).roll.fermatas == piece.roll.fermatas


def test_same_seed_same_piece(studio):
    first, second = studio.compose(seed=5, bars=4), studio.compose(seed=5, bars=4)
    assert first.midi != second.midi
    assert first.midi.read_bytes() == second.midi.read_bytes()


def test_a_request_computes_on_its_cores_in_its_own_thread(studio, monkeypatch):
    """The server's threads each set their cores (two model threads in a second thread are
    slow on two cores); the thread's own setting comes back afterwards."""
    seen = []
    real_generate = studio_module.generate

    def spying(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(studio_module, "generate", spying)
    after = []

    def request():
        torch.set_num_threads(2)
        studio.compose(seed=3, bars=2)
        after.append(torch.get_num_threads())

    worker = threading.Thread(target=request)
    worker.start()
    worker.join()
    assert seen == [studio.limits.threads_per_request] == [1]
    assert after == [2]


def test_warming_up_loads_the_reference_once_and_leaves_no_piece(model, tmp_path):
    loads = []
    music = small_reference(model)

    def reference():
        loads.append(1)
        return music()

    studio = Studio(model, reference, tmp_path / "studio", TEST_LIMITS)
    studio.warm_up()
    assert loads == [1] and not list((tmp_path / "studio").rglob("*.*"))
    studio.compose(seed=1, bars=1)
    assert loads == [1]


def test_originality_finds_a_piece_from_the_reference(studio):
    (copied,) = generate(1, 4, REFERENCE_SEED, studio.model, final_chord=False)
    rows = {name: value for name, value, _ in studio.facts(copied)}
    assert rows["bars found in Bach's chorales"] == "1.000"
    assert rows["longest run of copied bars"] == "4"
    fresh = {name: value for name, value, _ in studio.compose(seed=123, bars=4).facts}
    assert float(fresh["bars found in Bach's chorales"]) < 1


def test_pieces_and_uploads_stay_within_the_disk_budget(model, tmp_path):
    budget = 3_500_000  # a 2-bar piece at 30 bpm is about 1.5 MB, mostly audio
    limits = replace(TEST_LIMITS, disk_budget_bytes=budget)
    studio = Studio(model, small_reference(model), tmp_path / "studio", limits)
    upload = tmp_path / "studio" / "0123abcd" / "melody.mid"  # where Gradio puts uploads
    write_midi(example_melody(next(iter(EXAMPLE_MELODIES))), upload)
    pieces = [studio.compose(seed=s, bars=2, tempo_bpm=30) for s in range(4)]
    assert disk_use(tmp_path / "studio") <= budget
    assert pieces[-1].wav.exists() and not pieces[0].wav.exists()
    assert not upload.exists()  # the oldest folder went first
    studio.close()
    assert not (tmp_path / "studio").exists()


def test_pieces_older_than_the_age_limit_are_removed(model, tmp_path):
    limits = replace(TEST_LIMITS, max_age_seconds=0.5)
    studio = Studio(model, small_reference(model), tmp_path / "studio", limits)
    first = studio.compose(seed=1, bars=1)
    time.sleep(1)
    second = studio.compose(seed=2, bars=1)
    assert not first.midi.exists() and second.midi.exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"bars": 0}, "between 1 and 16 bars"),
        ({"bars": 17}, "between 1 and 16 bars"),
        ({"candidates": 99}, "candidates"),
        ({"tempo_bpm": 1000}, "tempo"),
    ],
)
def test_compose_refuses_settings_out_of_bounds(studio, settings, message):
    with pytest.raises(BachganError, match=message):
        studio.compose(**settings)


def test_harmonize_example_keeps_the_melody(studio):
    name = "Twinkle, Twinkle, Little Star"
    steps = []
    piece = studio.harmonize(example=name, progress=steps.append)
    melody = example_melody(name)
    soprano = piece.roll.sounding[0, : melody.n_steps]
    lowest = melody.lowest_pitch - piece.roll.lowest_pitch
    assert np.array_equal(soprano[:, lowest : lowest + melody.n_pitches], melody.sounding[0])
    assert piece.roll.n_tracks == 4 and steps and steps == sorted(steps)
    assert_playable((piece.wav, piece.picture, piece.midi))


def test_harmonize_upload(studio, tmp_path):
    melody = write_midi(parse_melody("C5/1 D5/1 E5/1 C5/1 G5/2 E5/2"), tmp_path / "tune.mid")
    piece = studio.harmonize(melody_file=melody)
    assert piece.midi.name == "tune_harmonized_0.mid"
    assert_playable((piece.wav, piece.picture, piece.midi))


def test_a_score_upload_ends_its_phrases_at_its_fermatas(studio, tmp_path):
    tune = replace(parse_melody("C5/1 D5/1 E5/2 G5/1 F5/1 E5/2 D5/1 E5/1 C5/2"), fermatas=(8, 24))
    score = write_musicxml(tune, tmp_path / "tune.musicxml")
    piece = studio.harmonize(melody_file=score)
    assert piece.roll.fermatas == (8, 24)
    soprano = piece.roll.notes().select(piece.roll.notes().track == 0)
    assert soprano.pitch.tolist() == tune.notes().pitch.tolist()
    assert soprano.duration.tolist() == tune.notes().duration.tolist()
    asked = studio.harmonize(melody_file=score, phrases="1")
    assert [step // 16 for step in asked.roll.fermatas] == [0, 1, 2]


def test_an_upload_at_a_crawling_tempo_is_played_within_the_apps_range(studio, tmp_path):
    crawling = replace(parse_melody("C5/1 D5/1 E5/1 C5/1"), tempo_bpm=3.58)
    piece = studio.harmonize(melody_file=write_midi(crawling, tmp_path / "slow.mid"))
    assert read_midi(piece.midi).tempo_bpm == studio.limits.tempo_range[0]
    assert piece.wav.stat().st_size < 2_000_000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a midi file at all", "cannot be used as a melody"),
        (b"MThd" + bytes(30_000), "accepted"),
    ],
)
def test_harmonize_refuses_bad_uploads(studio, tmp_path, content, message):
    upload = tmp_path / "upload.mid"
    upload.write_bytes(content)
    with pytest.raises(BachganError, match=message):
        studio.harmonize(melody_file=upload)


def test_harmonize_refuses_chords_and_long_melodies(studio, tmp_path):
    with pytest.raises(BachganError, match="chords"):
        chords = Roll.from_notes(Notes.from_tuples([(0, 60, 0, 16), (0, 64, 0, 16)]), 1)
        studio.harmonize(melody_file=write_midi(chords, tmp_path / "chords.mid"))
    long_tune = parse_melody("C5/4 " * 17)
    with pytest.raises(BachganError, match="17 bars"):
        studio.harmonize(melody_file=write_midi(long_tune, tmp_path / "long.mid"))
    with pytest.raises(BachganError, match="upload a MIDI file"):
        studio.harmonize()


def test_example_melodies_are_tunes_of_whole_bars_in_their_meter():
    bars = {}
    for name, (_, _, meter) in EXAMPLE_MELODIES.items():
        melody = example_melody(name)
        assert melody.time_signature == meter
        assert melody.sounding[0, -1].any()  # the last note ends with the last bar
        assert melody.sounding.sum(axis=2).max() == 1
        bars[name] = melody.n_bars
    assert bars["Ode to Joy (Beethoven)"] == 8 and bars["God Save the King (3/4)"] == 14
    with pytest.raises(ValueError, match="H4/1"):
        parse_melody("C4/1 H4/1")


def test_only_the_users_mistakes_are_shown_as_such():
    import gradio as gr

    from bachgan.app import _friendly

    def mistaken():
        raise BachganError("choose between 1 and 16 bars")

    def broken():
        raise ValueError("every onset must also be sounding")

    with pytest.raises(gr.Error, match="choose between 1 and 16 bars"):
        _friendly(mistaken)()
    with pytest.raises(gr.Error, match=r"Something went wrong \(ValueError\)"):
        _friendly(broken)()


@pytest.mark.parametrize("typed", ["³", "1²", "-1", "1.5", "9" * 5000])
def test_a_seed_box_with_odd_digits_is_a_message(typed):
    from bachgan.app import _seed

    with pytest.raises(BachganError, match="a seed is a whole number of 0 or more"):
        _seed(typed)


def test_model_summary_names_the_model(studio):
    summary = studio.model_summary()
    assert "chorales.pt" in summary and f"{studio.model.step} generator steps" in summary
    assert "parameters" in summary


# --------------------------------------------------------------------------- the server
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(studio):
    """The app served on a free local port for the tests of this module."""
    from bachgan.app import launch

    port = _free_port()
    app = launch(studio, port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def test_api_compose(server, studio):
    from gradio_client import Client

    client = Client(server, verbose=False)
    info, wav, midi, musicxml, score, picture, facts, narrow_picture = client.predict(
        "2", "D minor", "4/4", 4, 90, 1, "2", api_name="/compose"
    )
    assert_playable((wav, picture, midi))
    with Image.open(picture) as wide, Image.open(narrow_picture) as narrow:
        assert narrow.format == "PNG" and narrow.width <= wide.width
    assert Path(narrow_picture).read_bytes() != Path(picture).read_bytes()  # larger letters
    assert info.startswith("**Seed 2** · D minor · 4/4 · 4 bars") and "<svg" in score
    assert read_midi(midi).key_fifths == -1 and Path(musicxml).suffix == ".musicxml"
    seeds = {
        client.predict("", "A minor", "4/4", 2, 90, 1, "", api_name="/compose")[0] for _ in range(2)
    }
    assert len(seeds) == 2  # an empty seed box draws a new piece every time
    waltz = client.predict("3", "G major", "3/4", 4, 90, 1, "", api_name="/compose")[2]
    assert read_midi(waltz).time_signature == (3, 4) and read_midi(waltz).n_steps == 48
    # Gradio keeps its files in the studio's folder and serves the pieces from there: no
    # second copy of any piece on disk.
    assert os.environ["GRADIO_TEMP_DIR"] == str(studio.workdir)
    assert not [p for p in studio.workdir.rglob("*.wav") if "pieces" not in p.parts]
    labels = [row[0] for row in facts["data"]]
    assert labels[:2] == [
        "eighths that sound a full triad or seventh chord",
        "dissonant chords on beats 1 and 3",
    ]


def test_api_bad_upload_is_a_message_and_the_server_keeps_serving(server, studio, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    client = Client(server, verbose=False)
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(AppError, match="cannot be used as a melody"):
        client.predict(
            handle_file(str(junk)), "Frère Jacques", 0, "soprano", 0, "", api_name="/harmonize"
        )
    assert list(studio.workdir.rglob("junk.mid"))  # uploads land in the studio's folder
    huge = tmp_path / "huge.mid"
    huge.write_bytes(b"MThd" + bytes(30_000))
    with pytest.raises((AppError, ValueError), match="maximum file size"):
        client.predict(
            handle_file(str(huge)), "Frère Jacques", 0, "soprano", 0, "", api_name="/harmonize"
        )
    with pytest.raises(AppError, match="greater than maximum value 16"):
        client.predict("0", "A minor", "4/4", 40, 90, 1, "", api_name="/compose")
    _, wav, midi, _, _, picture, _, _ = client.predict(
        None, "Frère Jacques", 0, "bass", 0, "2", api_name="/harmonize"
    )
    assert_playable((wav, picture, midi))


def test_page_in_headless_chromium(server, tmp_path):
    """Open the page, press Compose, wait for the player and the picture, take a screenshot."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run tools/install-browser (or set BACHGAN_CHROMIUM)"
        )
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(server)
            expect(page.get_by_text("Four-voice chorales")).to_be_visible(timeout=30_000)
            page.locator("#compose-button").click()
            expect(page.locator("#compose-picture img")).to_be_visible(timeout=60_000)
            expect(
                page.locator("#compose-audio audio, #compose-audio .waveform-container")
            ).not_to_have_count(0)
            expect(page.locator("#compose-facts")).to_contain_text("notes in the key")
            expect(page.locator("#compose-score svg").first).to_be_visible()
            composed = page.locator("#compose-info").inner_text().strip()
            page.locator("#compose-regenerate").click()
            # Another seed, and nothing else (no progress or error text), before Undo.
            seed = composed.split()[1]
            other_seed = re.compile(
                rf"^\s*Seed (?!{seed}\b)\d+ · [A-G][#b]? m\w+ · 4/4 · \d+ bars\s*$"
            )
            expect(page.locator("#compose-info")).to_have_text(other_seed, timeout=60_000)
            page.locator("#compose-undo").click()
            expect(page.locator("#compose-info")).to_have_text(composed, timeout=30_000)
            # A refused request says why in a toast and marks the info line alone: the piece
            # before it stays unmarked.
            page.locator("#compose-first input").fill("99")
            page.locator("#compose-regenerate").click()
            expect(page.get_by_text("are not inside the piece")).to_be_visible(timeout=30_000)
            expect(page.locator("#compose-info").get_by_text("Error")).to_have_count(1)
            for shown in ("audio", "midi", "musicxml", "score", "picture", "facts"):
                expect(page.locator(f"#compose-{shown}").get_by_text("Error")).to_have_count(0)
            page.locator("#compose-first input").fill("1")
            screenshot = page.screenshot(path=str(tmp_path / "compose.png"), full_page=True)
            # The key's name is not cut, and the tempo slider says its maximum, 240.
            expect(page.locator("#compose-score .bachgan-narrow")).to_be_hidden()
            key_box = page.locator("#compose-key input")
            assert key_box.evaluate("box => box.scrollWidth <= box.clientWidth")
            expect(page.locator("#compose-tempo")).to_contain_text("240")
            page.set_viewport_size({"width": 390, "height": 844})  # a phone
            value = page.locator("#compose-facts td").nth(1)
            box = value.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 390 + 1
            # The score is laid out for a phone: its narrow pages, none wider than the screen.
            expect(page.locator("#compose-score .bachgan-wide")).to_be_hidden()
            narrow = page.locator("#compose-score .bachgan-narrow svg").first
            expect(narrow).to_be_visible()
            score_box = narrow.bounding_box()
            assert score_box["x"] >= 0 and score_box["x"] + score_box["width"] <= 390 + 1
            # The piano roll for a phone: four bars a row, its letters as large as the page's.
            expect(page.locator("#compose-picture")).to_be_hidden()
            roll = page.locator("#compose-narrow-picture img")
            expect(roll).to_be_visible()
            shown, drawn = roll.evaluate("img => [img.clientWidth, img.naturalWidth]")
            letters = NARROW.font_size * 100 / 72 * shown / drawn  # pixels on the phone
            assert shown <= 390 and letters >= 12, (shown, drawn)
            # Every row of the table shows, none hidden in a box that scrolls.
            last = page.locator("#compose-facts").get_by_text("longest run of copied bars")
            expect(last).to_be_visible()
            row, table = last.bounding_box(), page.locator("#compose-facts").bounding_box()
            assert row["y"] + row["height"] <= table["y"] + table["height"] + 1
            page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        finally:
            browser.close()
    assert len(screenshot) > 10_000


def test_the_app_stays_local_behind_a_proxy_and_with_gradio_share_set(studio, monkeypatch):
    import httpx

    from bachgan.app import launch

    monkeypatch.setenv("GRADIO_SHARE", "true")
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # nothing listens there
    port = _free_port()
    app = launch(studio, port=port, block=False)
    try:
        assert app.share is False and app.share_url is None
        assert httpx.get(f"http://127.0.0.1:{port}/", trust_env=False).status_code == 200
    finally:
        app.close()


def test_app_command_reports_a_busy_port_in_one_line(capsys):
    from bachgan.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_the_table_shows_what_a_musician_hears_beside_the_chords(studio):
    piece = studio.compose(seed=4, bars=4)
    rows = {label: (mine, bach) for label, mine, bach in piece.facts}
    for label in (
        "alto notes that strike the note before again",
        "tenor notes that strike the note before again",
        "bass moves by step (share of its moves)",
        "sixteenth notes (share of notes)",
        "eighth notes (share of notes)",
        "quarter notes (share of notes)",
    ):
        mine, bach = rows[label]
        assert 0 <= float(mine) <= 1 and 0 <= float(bach) <= 1, label
    one_chord = studio.compose(seed=4, bars=1)  # voices that never move: no repeated notes
    assert dict((label, mine) for label, mine, _ in one_chord.facts)[
        "alto notes that strike the note before again"
    ] in ("-", "0.000", "1.000")
