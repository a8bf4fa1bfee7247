import wave
from dataclasses import replace

import numpy as np
import pytest
from conftest import make_roll, small_chorale_set
from PIL import Image

from bachgan.cli import main
from bachgan.config import TrainConfig
from bachgan.errors import BachganError
from bachgan.evaluation.metrics import parallel_per_bar, polyphony, voice_crossing_rate
from bachgan.generation.baselines import MuseGANBackend
from bachgan.generation.binarize import DecodingRules
from bachgan.generation.compose import generate
from bachgan.generation.harmonize import fit_line, harmonize, harmonize_with_fit, melody_mode
from bachgan.generation.loading import load_model, pretrained_names, pretrained_path
from bachgan.io.audio import write_wav
from bachgan.io.midi import read_midi, write_midi
from bachgan.roll import Notes, Roll
from bachgan.training.train import train

#: "Twinkle, twinkle" in G major, two bars of 4/4 plus a held final note: a folk tune the model
#: never saw.
FOLK_TUNE = [(0, p, i * 4, 4) for i, p in enumerate([67, 67, 74, 74, 76, 76, 74])] + [
    (0, 72, 32, 16)
]

#: "Ode to Joy" in C major, four bars of 4/4.
ODE_TO_JOY = [
    (0, p, i * 4, 4) for i, p in enumerate([64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64])
] + [(0, 64, 48, 6), (0, 62, 54, 2), (0, 62, 56, 8)]


def train_tiny(folder, **overrides):
    """A tiny chorale model trained for two steps on 12 chorales; its checkpoint's path."""
    data = small_chorale_set(folder, "bwv2", 12)
    settings = dict(arch="musegan", steps=2, batch_size=8, n_critic=1, model_size="tiny", threads=1)
    config = TrainConfig(data=str(data), out=str(folder / "run"), **{**settings, **overrides})
    return train(config, progress=False)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """The default preset: conditioned on the mode, taught the data's crossing rate."""
    return train_tiny(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def plain_model(tmp_path_factory):
    """Neither conditioned on the mode nor allowed to cross voices."""
    folder = tmp_path_factory.mktemp("plain")
    return train_tiny(folder, mode_conditioning=False, count_crossings=True)


def test_shipped_model_is_inside_the_package_and_small():
    path = pretrained_path()
    assert path.is_file() and path.stat().st_size < 8 * 2**20
    assert load_model().encoding.n_voices == 4


def test_a_shipped_model_loads_by_its_name_unless_a_file_has_that_name(tmp_path, monkeypatch):
    assert "chorales" in pretrained_names() and "musegan" in pretrained_names()
    assert isinstance(load_model("musegan").backend, MuseGANBackend)
    out = tmp_path / "songs"
    assert main(["generate", "--model", "musegan", "--no-audio", "--out", str(out)]) == 0
    assert len(list(out.glob("*.mid"))) == 1
    monkeypatch.chdir(tmp_path)
    (tmp_path / "musegan").write_bytes(b"not a model")
    with pytest.raises(BachganError, match="musegan"):
        load_model("musegan")


def test_generate_is_deterministic_and_four_voices():
    first = generate(n=2, bars=4, seed=3)
    again = generate(n=2, bars=4, seed=3)
    other = generate(n=2, bars=4, seed=4)
    assert [r.n_tracks for r in first] == [4, 4]
    assert first[0].track_names == ("Soprano", "Alto", "Tenor", "Bass")
    assert all(
        a.notes().to_tuples() == b.notes().to_tuples() for a, b in zip(first, again, strict=True)
    )
    assert first[0].notes().to_tuples() != other[0].notes().to_tuples()


def test_voice_leading_decoding_writes_the_same_music_with_fewer_parallels():
    model = load_model(pretrained_path("musegan"))
    argmax = generate(n=40, bars=4, seed=1, model=model, sampling="argmax", final_chord=False)
    joint = generate(n=40, bars=4, seed=1, model=model, final_chord=False)  # the default
    parallels = [np.mean([parallel_per_bar(r) for r in rolls]) for rolls in (argmax, joint)]
    assert parallels[1] < parallels[0] / 2
    # A model taught the data's rate of voice crossings is decoded with crossings free: the
    # decoding keeps the crossings the model writes, neither banning nor adding them.
    crossings = [np.mean([voice_crossing_rate(r) for r in rolls]) for rolls in (argmax, joint)]
    assert crossings[1] == pytest.approx(crossings[0], rel=0.5)
    # Most notes are the argmax's own: only where a fault is avoided, or a voice holds its
    # note instead of resting alone, does a voice change.
    pairs = zip(argmax, joint, strict=True)
    same = [(a.sounding == b.sounding).all(axis=2).mean() for a, b in pairs]  # voice-steps
    assert 0.95 < np.mean(same) < 1
    assert np.mean([polyphony(r) for r in joint]) > np.mean([polyphony(r) for r in argmax])


def test_a_model_taught_bachs_crossing_rate_keeps_its_crossings_when_decoded(
    tiny_model, plain_model
):
    crossing = load_model(tiny_model)
    assert crossing.rules.crossing_cost == 0
    assert crossing.rules.parallel_cost == load_model(plain_model).rules.parallel_cost > 0
    assert load_model(plain_model).rules == DecodingRules()


def test_final_chord_fills_a_voice_that_rests_on_the_last_downbeat():
    from bachgan.generation.endings import hold_final_chord

    roll = make_roll([(0, 72, 0, 16), (0, 74, 16, 16), (1, 65, 0, 20), (3, 48, 16, 16)], 32)
    ended = hold_final_chord(roll)
    assert ended.notes().to_tuples() == [
        (0, 72, 0, 16),
        (0, 74, 16, 16),
        (1, 65, 0, 16),
        (1, 65, 16, 16),
        (3, 48, 16, 16),
    ]


def test_long_pieces_have_the_asked_length_and_end_on_a_held_chord():
    (piece,) = generate(n=1, bars=16, seed=0)
    assert piece.n_steps == 16 * 16
    last_bar = piece.sounding[:, -16:]
    assert (last_bar == last_bar[:, :1]).all() and last_bar.any()
    assert (piece.onsets[:, -15:] == False).all()  # noqa: E712 - held, not repeated


def test_generate_command_writes_valid_midi_wav_png(tmp_path, capsys):
    assert (
        main(
            [
                "generate",
                "--out",
                str(tmp_path),
                "-n",
                "1",
                "--bars",
                "4",
                "--seed",
                "1",
                "--tempo",
                "90",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out.split()
    midi, musicxml, png, wav = (
        tmp_path / f"chorale_1.{s}" for s in ("mid", "musicxml", "png", "wav")
    )
    assert sorted(printed) == sorted(str(p) for p in (midi, musicxml, png, wav))
    roll = read_midi(midi)
    assert roll.track_names == ("Soprano", "Alto", "Tenor", "Bass") and roll.tempo_bpm == 90
    with Image.open(png) as image:
        assert image.size[0] > 300
    with wave.open(str(wav)) as audio:
        assert audio.getframerate() == 44100 and audio.getnchannels() == 1  # no stereo samples
        seconds = audio.getnframes() / 44100
        samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    assert seconds >= 4 * 4 * 60 / 90  # four bars of four beats at 90 bpm
    assert np.abs(samples).max() > 1000  # not silent


def test_a_mode_conditioned_model_writes_in_the_asked_mode_and_harmonizes(
    tmp_path, tiny_model, plain_model
):
    conditioned = load_model(tiny_model)
    assert 0 < conditioned.config.minor_share < 1  # the share of minor windows in the data
    major = generate(n=2, bars=2, model=conditioned, sampling="argmax", key_mode="major")
    minor = generate(n=2, bars=2, model=conditioned, sampling="argmax", key_mode="minor")
    assert major[0].notes().to_tuples() != minor[0].notes().to_tuples()
    melody = Roll.from_notes(Notes.from_tuples(ODE_TO_JOY), 1, 48, track_names=("Melody",))
    assert melody_mode(melody, 0) == "major"  # no mode in the file: C major's notes
    in_minor = replace(melody, key_fifths=0, key_mode="minor")  # as a file may say
    assert melody_mode(in_minor, 0) == "minor"
    harmonized = harmonize(in_minor, model=conditioned, steps=2)
    assert harmonized.n_tracks == 4
    assert (harmonized.key_fifths, harmonized.key_mode) == (0, "minor")
    with pytest.raises(BachganError, match="without --mode-conditioning"):
        generate(model=plain_model, key_mode="minor")
    out = tmp_path / "minor"
    args = ["generate", "--model", str(plain_model), "--mode", "minor", "--out", str(out)]
    assert main(args) == 2


def test_generate_errors(tmp_path, tiny_model, capsys):
    assert main(["generate", "--model", str(tmp_path / "nothing"), "--out", str(tmp_path)]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    assert main(["generate", "--model", str(tmp_path / "bad.pt"), "--out", str(tmp_path)]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err
    with pytest.raises(BachganError, match="pieces must be between 1 and 1000"):
        generate(n=0, model=tiny_model)
    assert generate(n=1, bars=2, model=tiny_model)[0].n_steps == 32


def test_harmonize_keeps_the_melody_and_adds_three_voices(tmp_path):
    melody = Roll.from_notes(
        Notes.from_tuples(FOLK_TUNE), 1, 48, track_names=("Melody",), programs=(0,)
    )
    path = write_midi(melody, tmp_path / "twinkle.mid")
    assert main(["harmonize", str(path), "--out", str(tmp_path), "--no-audio", "--seed", "0"]) == 0
    result = read_midi(tmp_path / "twinkle_harmonized_0.mid")
    assert result.n_tracks == 4
    soprano = result.notes().select(result.notes().track == 0)
    assert soprano.to_tuples() == sorted(FOLK_TUNE)
    for voice in (1, 2, 3):
        assert (result.notes().track == voice).sum() > 0
    # The other voices lie below the melody most of the time.
    lines = result.sounding.argmax(axis=2)
    both = result.sounding[:2].any(axis=2).all(axis=0)
    assert (lines[1] <= lines[0])[both].mean() > 0.8


@pytest.mark.slow
def test_harmonize_steers_the_lower_voices_away_from_parallels_against_the_melody():
    # An octave up, where the model's soprano sings (C5-G5): a melody stays in its octave.
    melody = Roll.from_notes(Notes.from_tuples(ODE_TO_JOY), 1, 64).transpose(12)
    model = load_model(pretrained_path("musegan"))  # the latent optimisation's model
    step_by_step = DecodingRules(parallel_cost=0, leap_cost=0, crossing_cost=0, key_cost=0)

    def harmonization(**options) -> Roll:
        return harmonize_with_fit(melody, model, **options).roll

    # Fitting the melody alone and decoding each step on its own leaves parallels ...
    plain = harmonization(rule_weight=0, rules=step_by_step)
    # ... that the rule term in the latent optimisation avoids; the decoding alone cannot
    # always (under a fixed melody a voice's likeliest pitches may offer no way out), ...
    term_only = harmonization(rules=step_by_step)
    decoding_only = harmonization(rule_weight=0)
    both = harmonization()
    assert parallel_per_bar(plain) > 0
    assert parallel_per_bar(term_only) < parallel_per_bar(plain)
    assert parallel_per_bar(decoding_only) <= parallel_per_bar(plain)
    assert parallel_per_bar(both) == 0
    assert voice_crossing_rate(both) <= voice_crossing_rate(plain)
    # ... while the melody stays as it was.
    assert both.notes().select(both.notes().track == 0).to_tuples() == sorted(
        (track, pitch + 12, start, length) for track, pitch, start, length in ODE_TO_JOY
    )


@pytest.mark.parametrize(
    ("moved", "centre", "shift"), [(0, 62.0, 0), (0, 86.0, 0), (-24, 70.0, 24), (-24, 62.0, 12)]
)
def test_a_melody_stays_where_it_is_unless_its_voice_cannot_sing_it_there(moved, centre, shift):
    # Twinkle's notes (67-76, average 72.2) fit the soprano range (MIDI 55-84) where they are,
    # so they stay whatever the model's centre. Two octaves down (43-52) they do not: of the
    # octaves that fit (up one: 55-64; up two: 67-76), the one nearest the centre is taken.
    melody = Roll.from_notes(Notes.from_tuples(FOLK_TUNE), 1, 48).transpose(moved)
    encoding = load_model().encoding
    low, high = (r + encoding.lowest_pitch for r in encoding.voice_ranges[0])
    assert (low, high) == (55, 84)
    assert fit_line(melody, 0, encoding, centre) == shift


def test_harmonize_bad_melodies(tmp_path, tiny_model):
    chord = make_roll([(0, 60, 0, 4), (0, 64, 0, 4)], n_steps=16)
    with pytest.raises(BachganError, match="chords"):
        harmonize(chord, tiny_model)
    silent = make_roll([], n_steps=16)
    with pytest.raises(BachganError, match="no notes"):
        harmonize(silent, tiny_model)
    wide = Roll.from_notes(Notes.from_tuples([(0, 30, 0, 4), (0, 100, 4, 4)]), 1, 16)
    with pytest.raises(BachganError, match="wider than the soprano range"):
        harmonize(wide, tiny_model)


def test_a_wav_has_two_channels_only_when_they_differ(tmp_path):
    time = np.linspace(0, 1, 4410, dtype=np.float32)
    tone = 0.5 * np.sin(2 * np.pi * 440 * time)
    for name, samples, channels in (
        ("same", np.stack([tone, tone], axis=1), 1),
        ("panned", np.stack([tone, 0.5 * tone], axis=1), 2),
    ):
        with wave.open(str(write_wav(samples, tmp_path / f"{name}.wav"))) as audio:
            assert audio.getnchannels() == channels
            pcm = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
        written = pcm.reshape(-1, channels) / 32767
        assert np.abs(written - samples[:, :channels]).max() < 1e-4


def test_a_fermata_stands_on_the_closing_chord_not_a_passing_note_after_it():
    from bachgan.generation.endings import fermata_steps

    chord = [(0, 72, 8, 8), (1, 67, 8, 8), (2, 64, 8, 8), (3, 48, 8, 4), (3, 50, 12, 4)]
    roll = make_roll(chord, n_steps=16)
    assert fermata_steps(roll, [0]) == (8,)  # not the bass's passing note on step 12
    assert fermata_steps(make_roll([], n_steps=16), [0]) == (0,)
