"""The conditional chorale model: masks, completion that keeps what is given, training,
composing and harmonizing with it."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import TINY_COMPLETION, make_roll, tiny_config
from torch.nn import functional as F

from bachgan.cli import main
from bachgan.config import TrainConfig
from bachgan.encoding import key_shift, make_windows
from bachgan.errors import BachganError
from bachgan.evaluation.metrics import parallel_per_bar
from bachgan.generation.completion import (
    NO_REVISIONS,
    Revisions,
    complete_chorale,
    compose_chorales,
)
from bachgan.generation.completion_backend import CompletionBackend
from bachgan.generation.compose import generate
from bachgan.generation.harmonize import harmonize, harmonize_with_fit
from bachgan.generation.loading import load_model
from bachgan.generation.regenerate import regenerate
from bachgan.generation.requests import parse_phrases, parse_voices
from bachgan.io.checkpoint import load_checkpoint
from bachgan.io.melodies import EXAMPLE_MELODIES, example_melody
from bachgan.io.midi import read_midi, write_midi
from bachgan.io.musicxml_writer import write_musicxml
from bachgan.io.score_reader import read_score_conversion
from bachgan.models.conditional import (
    MASK_KINDS,
    CompletionGenerator,
    complete,
    completion_critic,
    critic_extra,
    ending_steps,
    random_masks,
)
from bachgan.roll import VOICE_NAMES, Roll
from bachgan.training.train import train


@pytest.fixture(scope="module")
def trained(chorales, tmp_path_factory):
    """A tiny completion model trained for a few steps."""
    out = tmp_path_factory.mktemp("run")
    return train(tiny(chorales, out), progress=False)


@pytest.fixture(scope="module")
def unconditional(chorales, tmp_path_factory):
    """A tiny musegan model, which completes nothing."""
    out = tmp_path_factory.mktemp("musegan")
    return load_model(train(tiny(chorales, out, arch="musegan", steps=1), progress=False))


def tiny(data, out, **overrides) -> TrainConfig:
    return tiny_config(data, out, **{"arch": "completion", **overrides})


def test_every_mask_kind_is_drawn_and_the_harmonize_kind_gives_the_soprano():
    masks = random_masks(400, 4, 64, 4, torch.Generator().manual_seed(0))
    assert set(masks.unique().tolist()) == {0.0, 1.0}
    share = masks.mean(dim=(1, 2))
    assert (share == 1).any() and (share < 1).any()
    given_soprano_only = (masks[:, 0] == 0).all(dim=1) & (masks[:, 1:] == 1).flatten(1).all(dim=1)
    assert given_soprano_only.float().mean() > MASK_KINDS["harmonize"] / 2
    # Every mask changes only on eighth-note boundaries.
    changes = (masks[:, :, 1:] != masks[:, :, :-1]).nonzero()[:, 2] + 1
    assert (changes % 2 == 0).all()


def test_completion_passes_given_cells_through_unchanged():
    generator = CompletionGenerator(TINY_COMPLETION)
    rng = torch.Generator().manual_seed(1)
    pitch = torch.randint(0, TINY_COMPLETION.n_classes, (3, 4, 48), generator=rng)
    given = F.one_hot(pitch, TINY_COMPLETION.n_classes).float()
    onset = torch.ones(3, 4, 48)
    mask = random_masks(3, 4, 48, 4, rng)
    mode = torch.zeros(3, dtype=torch.long)
    output = generator(given, onset, mask, generator.noise(3, 48, rng), mode)
    completed, _ = complete(output, given, onset, mask)
    kept = mask == 0
    assert torch.equal(completed.argmax(-1)[kept], pitch[kept])
    assert output.pitch_logits.shape == (3, 4, 48, TINY_COMPLETION.n_classes)
    ending = ending_steps(torch.tensor([True, False, True]), 48, 16)
    score = completion_critic(TINY_COMPLETION)(completed, onset, mode, critic_extra(mask, ending))
    assert score.shape == (3,)


def test_the_ending_marks_the_last_bar_of_pieces_that_end():
    ending = ending_steps(torch.tensor([True, False]), 40, 16)
    assert ending[0].tolist() == [0.0] * 24 + [1.0] * 16
    assert ending[1].sum() == 0


def test_windows_know_whether_they_end_their_piece():
    pitch = np.zeros((4, 6 * 16), np.int64)
    onset = np.ones((4, 6 * 16), bool)
    _, _, ends = make_windows([(pitch, onset), (pitch[:, :64], onset[:, :64])], 64, 16)
    assert ends.tolist() == [False, False, True, True]


def test_the_generator_ignores_what_is_under_the_mask():
    generator = CompletionGenerator(TINY_COMPLETION).eval()
    rng = torch.Generator().manual_seed(2)
    mask = torch.ones(1, 4, 32)
    noise = generator.noise(1, 32, rng)
    mode = torch.zeros(1, dtype=torch.long)
    classes = TINY_COMPLETION.n_classes
    outputs = [
        generator(F.one_hot(torch.full((1, 4, 32), p), classes).float(), o, mask, noise, mode)
        for p, o in ((3, torch.zeros(1, 4, 32)), (40, torch.ones(1, 4, 32)))
    ]
    assert torch.equal(outputs[0].pitch_logits, outputs[1].pitch_logits)


def test_complete_chorale_keeps_the_given_voice_and_is_reproducible():
    generator = CompletionGenerator(TINY_COMPLETION).eval()
    melody = torch.arange(64) % 20 + 30
    pitch = torch.full((2, 4, 64), TINY_COMPLETION.n_classes - 1)
    pitch[:, 0] = melody
    onset = torch.zeros(2, 4, 64)
    onset[:, 0, ::4] = 1
    free = torch.ones(2, 4, 64)
    free[:, 0] = 0
    mode = torch.tensor([0, 1])
    runs = [
        complete_chorale(generator, pitch, onset, free, mode, Revisions(rounds=4), seeded(5))
        for _ in range(2)
    ]
    (first_pitch, first_onset), (second_pitch, second_onset) = runs
    assert torch.equal(first_pitch, second_pitch) and torch.equal(first_onset, second_onset)
    assert torch.equal(first_pitch[:, 0], pitch[:, 0])
    assert torch.equal(first_onset[:, 0], onset[:, 0] > 0)
    assert (first_pitch[:, 1:] != TINY_COMPLETION.n_classes - 1).any()


def test_revision_shares_fall_from_first_to_last():
    assert Revisions(rounds=5, first_share=0.5, last_share=0.1).shares() == pytest.approx(
        [0.5, 0.4, 0.3, 0.2, 0.1]
    )
    assert Revisions(rounds=1).shares() == [0.1]
    assert NO_REVISIONS.shares() == []


def test_composing_writes_every_voice_within_its_range():
    generator = CompletionGenerator(TINY_COMPLETION).eval()
    pitch, onset = compose_chorales(
        generator, 2, 80, torch.zeros(2).long(), NO_REVISIONS, seeded(0)
    )
    assert pitch.shape == (2, 4, 80) and onset.dtype == torch.bool
    for voice, (low, high) in enumerate(TINY_COMPLETION.voice_ranges):
        sung = pitch[:, voice][pitch[:, voice] != TINY_COMPLETION.n_classes - 1]
        assert ((sung >= low) & (sung <= high)).all()


def test_a_trained_completion_model_composes_and_harmonizes(trained):
    checkpoint = torch.load(trained, weights_only=True)
    assert checkpoint["arch"] == "completion"
    model = load_model(trained)
    assert isinstance(model.backend, CompletionBackend)
    pieces = generate(2, bars=3, seed=4, model=model, candidates=2)
    assert [p.n_tracks for p in pieces] == [4, 4] and pieces[0].n_steps == 48
    again = generate(2, bars=3, seed=4, model=model, candidates=2)
    assert all(np.array_equal(a.sounding, b.sounding) for a, b in zip(pieces, again, strict=True))
    melody = example_melody("Ode to Joy (Beethoven)")
    harmonized = harmonize(melody, model)
    assert harmonized.n_tracks == 4
    soprano, line = harmonized.notes(), melody.notes()
    sung = soprano.track == 0
    assert np.array_equal(soprano.pitch[sung], line.pitch)
    assert np.array_equal(soprano.start[sung], line.start)
    assert np.array_equal(soprano.duration[sung], line.duration)  # kept as long as written


def test_completion_training_resumes_exactly(chorales, tmp_path):
    train(tiny(chorales, tmp_path / "resumed"), progress=False)
    train(tiny(chorales, tmp_path / "resumed", steps=6), resume=True, progress=False)
    train(tiny(chorales, tmp_path / "straight", steps=6), progress=False)
    resumed = load_checkpoint(tmp_path / "resumed")
    straight = load_checkpoint(tmp_path / "straight")
    for part in ("ema", "critic"):
        for name, tensor in straight[part].items():
            assert torch.equal(tensor, resumed[part][name]), name


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "settings",
    [{"rounds": -1}, {"rounds": 5000}, {"first_share": 0.05}, {"temperature": float("nan")}],
)
def test_impossible_revisions_are_one_line_errors(settings):
    with pytest.raises(BachganError):
        Revisions(**settings)


def test_generate_asks_the_completion_model_for_revision_rounds(trained, tmp_path, capsys):
    args = ["generate", "--model", str(trained), "--bars", "2", "--no-audio", "--out"]
    assert main([*args, str(tmp_path), "--revisions", "0"]) == 0
    assert main([*args, str(tmp_path), "--revisions", "5000"]) == 2
    assert "revision rounds must be between 0 and 1000" in capsys.readouterr().err


def notes_outside(roll, first_step: int, stop_step: int, voices: list[int]) -> set:
    """Notes of ``roll`` that lie wholly outside steps ``first_step:stop_step`` of ``voices``
    (every note of the other voices)."""
    return {
        note
        for note in roll.notes().to_tuples()
        if note[0] not in voices or note[2] + note[3] <= first_step or note[2] >= stop_step
    }


@pytest.mark.parametrize("voices", [None, ["alto", "tenor"], "bass"])
def test_regenerate_rewrites_only_the_region(trained, voices):
    model = load_model(trained)
    (piece,) = generate(1, bars=5, seed=8, model=model)
    piece = piece.transpose(2)  # in D major: the region is written in the piece's key
    piece = replace(piece, key_fifths=2)
    new = regenerate(piece, (3, 4), voices, seed=1, model=model)
    rows = [VOICE_NAMES.index(v.capitalize()) for v in parse_voices(voices)]
    assert notes_outside(new, 32, 64, rows) == notes_outside(piece, 32, 64, rows)
    assert new.key_fifths == 2 and new.n_steps == piece.n_steps
    again = regenerate(piece, (3, 4), voices, seed=1, model=model)
    assert again.notes().to_tuples() == new.notes().to_tuples()


def test_regenerate_from_the_command_line(trained, tmp_path, capsys):
    model = load_model(trained)
    (piece,) = generate(1, bars=4, seed=3, model=model)
    path = write_midi(piece, tmp_path / "piece.mid")
    args = ["regenerate", str(path), "--model", str(trained), "--no-audio", "--out"]
    region = ["--region", "2-3", "--voices", "alto", "--seed", "0"]
    assert main([*args, str(tmp_path / "out"), *region]) == 0
    written = (tmp_path / "out" / "piece_regenerated_0.mid").read_bytes()
    # The earlier spelling, --bars, still works, with a note.
    assert main([*args, str(tmp_path / "old"), "--bars", *region[1:]]) == 0
    assert "--bars is now --region" in capsys.readouterr().err
    assert (tmp_path / "old" / "piece_regenerated_0.mid").read_bytes() == written
    for bad, message in (
        (["--region", "4-9"], "bars 4-9 are not inside the piece (bars 1-4"),
        (["--region", "x"], "bars must look like 3-4"),
        (["--region", "1", "--voices", "viola"], "unknown voice viola"),
        (["--region", "1", "--novelty", "-2"], "novelty must be from 0 to 20"),
        (["--voices", "alto"], "say which bars to rewrite: --region"),
        (["--region", "1", "--bars", "2"], "give --region only"),
    ):
        assert main([*args, str(tmp_path / "bad"), *bad]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_a_musicxml_score_is_regenerated_like_a_midi_file(trained, tmp_path):
    (piece,) = generate(1, bars=4, seed=3, model=load_model(trained))
    score = write_musicxml(piece, tmp_path / "piece.musicxml")
    args = ["regenerate", str(score), "--model", str(trained), "--no-audio", "--region", "2"]
    assert main([*args, "--voices", "alto", "--seed", "0", "--out", str(tmp_path / "out")]) == 0
    new = read_midi(tmp_path / "out" / "piece_regenerated_0.mid")

    def outside_the_region(roll):  # every voice but the alto, and the alto outside bar 2
        notes = roll.notes().to_tuples()
        return [n for n in notes if n[0] != 1 or n[2] + n[3] <= 16 or n[2] >= 32]

    assert outside_the_region(new) == outside_the_region(piece)


def test_regenerate_refuses_what_it_cannot_keep_exactly(trained, unconditional):
    model = load_model(trained)
    (piece,) = generate(1, bars=2, seed=3, model=model)
    sounding = piece.sounding.copy()
    low_c = 48 - piece.lowest_pitch
    sounding[1, 0:4, low_c] = True  # the alto sings a second note at once
    onsets = piece.onsets.copy()
    onsets[1, 0, low_c] = True
    with pytest.raises(BachganError, match="two notes at once"):
        regenerate(piece.with_arrays(sounding, onsets), (1, 1), model=model)
    with pytest.raises(BachganError, match="not a completion model"):
        regenerate(piece, (1, 1), model=unconditional)
    for novelty in (-1.0, float("nan"), 1e9):
        with pytest.raises(BachganError, match="novelty must be from 0"):
            regenerate(piece, (1, 1), model=model, novelty=novelty)


def test_a_given_bass_gets_three_voices_above_it(trained, unconditional, tmp_path):
    model = load_model(trained)
    bass = example_melody("Ode to Joy (Beethoven)").transpose(-19)  # E3 down to A2-ish
    harmonized = harmonize(bass, model, voice="bass")
    notes = harmonized.notes()
    given = notes.track == 3
    assert np.array_equal(notes.pitch[given], bass.notes().pitch)
    low, high = (r + model.encoding.lowest_pitch for r in model.encoding.voice_ranges[3])
    assert low <= notes.pitch[given].min() and notes.pitch[given].max() <= high
    path = write_midi(bass, tmp_path / "bass.mid")
    args = ["harmonize", str(path), "--model", str(trained), "--no-audio", "--out", str(tmp_path)]
    assert main([*args, "--voice", "bass"]) == 0
    with pytest.raises(BachganError, match="harmonizes sopranos only"):
        harmonize(bass, unconditional, voice="bass")


def test_a_low_melody_is_sung_octaves_up_and_every_voice_stays_in_its_range(trained):
    model = load_model(trained)
    low_tune = example_melody("Ode to Joy (Beethoven)").transpose(-12)  # D3-A3
    result = harmonize_with_fit(low_tune, model)
    assert result.octaves_moved >= 1
    notes = result.roll.notes()
    soprano = notes.track == 0
    octaves = 12 * result.octaves_moved
    assert np.array_equal(notes.pitch[soprano], low_tune.notes().pitch + octaves)
    assert np.array_equal(notes.duration[soprano], low_tune.notes().duration)
    in_c = notes.pitch + key_shift(result.roll.key_fifths)
    for voice, (low, high) in enumerate(model.encoding.voice_ranges):
        sung = in_c[notes.track == voice] - model.encoding.lowest_pitch
        assert low <= sung.min() and sung.max() <= high, voice


def test_generate_in_a_key_and_with_a_new_seed_each_run(trained, tmp_path, capsys):
    model = load_model(trained)
    (in_c,) = generate(1, bars=2, seed=5, model=model, key_mode="minor")
    (in_f_sharp,) = generate(1, bars=2, seed=5, model=model, key="F# minor")
    assert (in_f_sharp.key_fifths, in_f_sharp.key_mode) == (3, "minor")
    assert (in_c.key_fifths, in_c.key_mode) == (0, "minor")
    # A minor down a minor third, or up a major sixth (whichever suits the voices' ranges)
    moved = set((in_f_sharp.notes().pitch - in_c.notes().pitch).tolist())
    assert moved in ({-3}, {9})
    with pytest.raises(BachganError, match="looks like 'D major'"):
        generate(1, model=model, key="D dorian")
    args = ["generate", "--model", str(trained), "--bars", "1", "--no-audio", "--out"]
    seeds = set()
    for _ in range(2):
        assert main([*args, str(tmp_path)]) == 0
        seeds.add(capsys.readouterr().err.split("seed ")[1].split()[0])
    assert len(seeds) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"chorale_{seed}.{ext}" for seed in seeds for ext in ("mid", "musicxml", "png")
    )


def test_a_melody_with_a_pickup_is_harmonized_with_its_bar_lines_where_they_belong(
    trained, tmp_path
):
    model = load_model(trained)
    tune = example_melody("Frère Jacques")
    upbeat = tune.slice_steps(tune.steps_per_bar - 4, tune.n_steps)  # starts a beat early
    shifted = harmonize(upbeat, model, pickup_beats=1)
    assert shifted.lead_in == 12 and shifted.n_steps == upbeat.n_steps + 12
    assert not shifted.sounding[:, :12].any()
    sung = shifted.notes().select(shifted.notes().track == 0)
    assert sung.to_tuples() == sorted(
        (t, p, s + 12, d) for t, p, s, d in upbeat.notes().to_tuples()
    )
    # Written as an upbeat: a one-beat first measure, then bar 1 opens on the second note.
    for path in (
        write_midi(shifted, tmp_path / "upbeat.mid"),
        write_musicxml(shifted, tmp_path / "upbeat.musicxml"),
    ):
        for part in music21_parts(path):
            first, second = list(part.getElementsByClass("Measure"))[:2]
            assert first.duration.quarterLength == 1, (path.suffix, part.partName)
            if part.partName == "Soprano":
                melody = [
                    p for _, p, _, _ in sorted(upbeat.notes().to_tuples(), key=lambda n: n[2])
                ]
                assert [n.pitch.midi for n in first.notes] == melody[:1]
                assert [n.pitch.midi for n in second.notes] == melody[1:5]
        back = read_midi(path) if path.suffix == ".mid" else read_score_conversion(path).roll
        assert back.lead_in == 12 and sorted(back.notes().to_tuples()) == sorted(
            shifted.notes().to_tuples()
        )
    with pytest.raises(BachganError, match="a pickup is 0 to 3 beats"):
        harmonize(upbeat, model, pickup_beats=4)


def music21_parts(path):
    """The parts of a MIDI or MusicXML file as music21 reads them (no pickle cache)."""
    import music21

    converter = music21.converter.Converter()
    converter.parseFile(str(path), forceSource=True, storePickle=False)
    return list(converter.stream.parts)


def test_phrases_close_where_asked_and_carry_fermatas(trained, tmp_path):
    model = load_model(trained)
    (piece,) = generate(1, bars=6, seed=2, model=model, phrases=[2, 4])
    assert [step // 16 for step in piece.fermatas] == [1, 3, 5]
    starts = piece.onsets.any(axis=(0, 2))
    assert all(starts[step] for step in piece.fermatas)
    path = write_midi(piece, tmp_path / "phrases.mid")
    import symusic

    markers = symusic.Score(str(path)).markers
    assert [marker.text for marker in markers] == ["fermata"] * 3
    text = write_musicxml(piece, tmp_path / "phrases.musicxml").read_text()
    assert text.count("<fermata") >= 3
    with pytest.raises(BachganError, match="outside the piece's bars 1-6"):
        generate(1, bars=6, model=model, phrases=[7])
    args = ["generate", "--model", str(trained), "--bars", "8", "--no-audio", "--seed", "1"]
    assert main([*args, "--phrases", "4", "--out", str(tmp_path / "cli")]) == 0
    assert main([*args, "--phrases", "x", "--out", str(tmp_path / "bad")]) == 2


def test_a_harmonized_melody_closes_its_phrases_with_fermatas(trained):
    model = load_model(trained)
    tune = example_melody("Frère Jacques")
    harmonized = harmonize(tune, model, phrases=[2, 4])
    last = tune.n_bars - 1
    assert [step // tune.steps_per_bar for step in harmonized.fermatas] == [1, 3, last]
    upbeat = tune.slice_steps(tune.steps_per_bar - 4, tune.n_steps)
    shifted = harmonize(upbeat, model, pickup_beats=1, phrases=[2])
    # 12 steps of rest and the upbeat's beat come first: bar 2 from the first downbeat (step
    # 16) is steps 32-47.
    assert shifted.lead_in == 12 and 32 <= shifted.fermatas[0] < 48
    with pytest.raises(BachganError, match="outside the piece's bars"):
        harmonize(tune, model, phrases=[40])


def test_the_default_completion_writes_eighths_without_parallels(trained):
    model = load_model(trained)
    rough = Revisions(eighths=False, polish=None)
    pieces = generate(8, bars=2, seed=3, model=model, final_chord=False)
    assert sum(parallel_per_bar(piece) for piece in pieces) == 0
    for piece in pieces:
        assert not piece.onsets[:, 1::2].any()  # notes start on eighths only
    rough_pieces = generate(8, bars=2, seed=3, model=model, final_chord=False, revisions=rough)
    assert any(piece.onsets[:, 1::2].any() for piece in rough_pieces)


def test_phrases_are_read_as_a_length_or_as_bars():
    assert parse_phrases("4", 16) == [4, 8, 12, 16]
    assert parse_phrases("3, 6,10", 16) == [3, 6, 10]
    assert parse_phrases("", 16) == [] and parse_phrases(None, 8) == []
    with pytest.raises(BachganError, match="phrases are N or bars"):
        parse_phrases("4 bars", 16)
    with pytest.raises(BachganError, match="N of 1 or more"):
        parse_phrases("0", 16)


def test_a_piece_in_another_key_than_asked_is_composed_again():
    from bachgan.encoding import CHORALE_ENCODING
    from bachgan.generation.completion_backend import _in_their_keys

    def chords(*midi_pitches) -> torch.Tensor:
        """A (1, 4, 16) piece: each chord of four pitches held for four steps."""
        codes = torch.tensor(midi_pitches) - CHORALE_ENCODING.lowest_pitch  # (chords, 4)
        return codes.T.repeat_interleave(4, dim=1)[None]

    c_major = chords((72, 67, 64, 48), (74, 67, 62, 55), (72, 67, 64, 48), (72, 64, 55, 48))
    a_minor = chords((69, 64, 60, 45), (68, 64, 59, 52), (69, 64, 60, 45), (69, 64, 57, 45))
    tries = iter([c_major, a_minor, a_minor])  # the first piece comes out in the wrong mode
    asked = []

    def compose(count: int, mode: torch.Tensor):
        asked.append(mode.tolist())
        pitch = torch.cat([next(tries) for _ in range(count)])
        return pitch, torch.ones_like(pitch, dtype=torch.bool)

    pitch, _ = _in_their_keys(compose, torch.tensor([1, 1]), CHORALE_ENCODING)
    assert asked == [[1, 1], [1]]  # only the piece in C major was composed again
    assert torch.equal(pitch[0], a_minor[0]) and torch.equal(pitch[1], a_minor[0])


def test_a_piece_is_moved_to_its_key_the_way_that_keeps_the_voices_in_range():
    from bachgan.encoding import move_from_c

    def chorale(soprano: int) -> Roll:
        """A C major chord held one bar, its soprano at ``soprano`` (C5 or G5)."""
        return make_roll([(0, soprano, 0, 16), (1, 67, 0, 16), (2, 64, 0, 16), (3, 48, 0, 16)])

    def sopranos(key_fifths: int, soprano: int) -> list[int]:
        moved = move_from_c(chorale(soprano), key_fifths).notes()
        return moved.pitch[moved.track == 0].tolist()

    assert sopranos(2, 72) == [74]  # D major: up a tone, not down a seventh
    assert sopranos(-1, 72) == [77]  # F major: up a fourth, in range
    assert sopranos(6, 72) == [66]  # F sharp major: up a tritone, the tenor sings A sharp 4
    assert sopranos(6, 79) == [73]  # and from G5 the soprano would sing C sharp 6
    assert sopranos(-1, 79) == [72]  # F major from G5: down a fifth to C5, not up to C6


def test_a_score_melody_is_harmonized_with_its_phrase_ends_at_its_fermatas(trained, tmp_path):
    melody = example_melody(next(iter(EXAMPLE_MELODIES)))
    melody = replace(melody, track_names=("Soprano",), fermatas=(24, 56))  # bars 2 and 4
    path = write_musicxml(melody, tmp_path / "hymn.musicxml")
    args = ["harmonize", str(path), "--model", str(trained), "--no-audio", "--seed", "1"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    written = read_score_conversion(tmp_path / "out" / "hymn_harmonized_1.musicxml").roll
    assert written.fermatas == (24, 56)
    soprano = written.notes().select(written.notes().track == 0).to_tuples()
    assert [(p, s, d) for _, p, s, d in soprano] == [
        (p, s, d) for _, p, s, d in melody.notes().to_tuples()
    ]
    assert main([*args, "--phrases", "1", "--out", str(tmp_path / "asked")]) == 0
    asked = read_score_conversion(tmp_path / "asked" / "hymn_harmonized_1.musicxml").roll
    assert [step // 16 for step in asked.fermatas] == list(range(melody.n_bars))


def test_the_shipped_model_rewrites_the_region_and_keeps_every_note_around_it():
    model = load_model()
    rows, first, stop = [1, 2], 64, 96  # alto and tenor, bars 5-6

    def inside(roll) -> set:
        return {n for n in roll.notes().to_tuples() if n[0] in rows and first <= n[2] < stop}

    edges, rewritten, kept_likeliest, versions = 0, [], [], set()
    for piece_seed in (104, 105):
        (piece,) = generate(1, bars=8, seed=piece_seed, model=model)
        # Notes that start where the region ends must stay too.
        edges += sum(n[0] in rows and n[2] == stop for n in piece.notes().to_tuples())
        for seed in range(4):
            new = regenerate(piece, (5, 6), ["alto", "tenor"], seed=seed, model=model)
            assert notes_outside(new, first, stop, rows) == notes_outside(piece, first, stop, rows)
            rewritten.append(1 - len(inside(piece) & inside(new)) / len(inside(piece)))
            versions.add((piece_seed, frozenset(inside(new))))
            same = regenerate(piece, (5, 6), ["alto", "tenor"], seed, model, novelty=0)
            kept_likeliest.append(1 - len(inside(piece) & inside(same)) / len(inside(piece)))
    assert edges >= 2
    # By default most of the region is new; without the novelty cost much of it comes back.
    assert np.mean(rewritten) >= 0.6 and len(versions) >= 4, rewritten
    assert np.mean(rewritten) > np.mean(kept_likeliest) + 0.2, (rewritten, kept_likeliest)
