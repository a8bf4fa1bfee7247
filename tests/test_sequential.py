"""The sequential model: its tokens, its writing, its training and its backend."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import make_roll, tiny_config
from torch.nn import functional as F

from bachgan.generation import sequential
from bachgan.generation.compose import generate
from bachgan.generation.harmonize import harmonize
from bachgan.generation.loading import load_model
from bachgan.generation.regenerate import regenerate
from bachgan.generation.sequential import circling_rule, voice_leading_rule, write_chorale
from bachgan.generation.sequential_backend import SequentialBackend
from bachgan.io.checkpoint import export_model, load_checkpoint
from bachgan.io.melodies import example_melody
from bachgan.models.musegan import bar_positions
from bachgan.models.sequential import (
    SequentialConfig,
    SequentialGenerator,
    from_tokens,
    to_tokens,
)
from bachgan.training.architectures import make_trainer
from bachgan.training.sequential_trainer import advantages_to_go
from bachgan.training.train import train
from bachgan.training.windows import transposed_batch

REST = 60
HOLD = 61
TINY = SequentialConfig(
    channels=16, pitch_embedding=8, recurrent=16, head=16, dilations=(1, 2), dropout=0.0
)
CPU = torch.device("cpu")


def test_tokens_say_struck_held_repeated_and_silent():
    pitch = torch.tensor([[5, 5, 5, 7, REST, REST, 7, 7]])
    onset = torch.tensor([[1, 0, 1, 1, 0, 0, 1, 0]])
    tokens = to_tokens(pitch, onset, REST)
    assert tokens.tolist() == [[5, HOLD, 5, 7, REST, REST, 7, HOLD]]
    back_pitch, back_onset = from_tokens(tokens, REST)
    assert back_pitch.tolist() == pitch.tolist()
    assert back_onset.long().tolist() == onset.tolist()


def test_a_note_sounding_at_the_first_step_is_struck_there():
    tokens = to_tokens(torch.tensor([[9, 9]]), torch.tensor([[0, 0]]), REST)
    assert tokens.tolist() == [[9, HOLD]]


def _conditions(batch: int, steps: int):
    mode = torch.zeros(batch, dtype=torch.long)
    return mode, None, torch.zeros(batch, 2, steps), bar_positions(steps, 16)


def _most_likely(logits: torch.Tensor) -> torch.Tensor:
    return F.one_hot(logits.argmax(-1), logits.shape[-1]).float()


def test_writing_keeps_the_given_cells_and_agrees_with_teacher_forcing():
    torch.manual_seed(0)
    generator = SequentialGenerator(TINY).eval()
    steps = 24
    tokens = torch.full((2, 4, steps), REST)
    tokens[:, 0] = torch.tensor([30] * 4 + [HOLD] * 4 + [32] * 16)
    mask = torch.ones(2, 4, steps)
    mask[:, 0] = 0
    conditions = _conditions(2, steps)
    with torch.no_grad():
        written = generator.write(tokens, mask, *conditions, _most_likely)
        chosen = written.tokens.argmax(-1)
        logits = generator(chosen, mask, *conditions)
    assert torch.equal(chosen[:, 0], tokens[:, 0])
    free = mask > 0
    assert torch.equal(logits.argmax(-1)[free], chosen[free])
    pitch, onset = written.codes()
    assert torch.equal(pitch, from_tokens(chosen, REST)[0])
    assert torch.equal(onset, from_tokens(chosen, REST)[1])


def test_a_voice_holds_only_a_note_it_sings():
    torch.manual_seed(1)
    generator = SequentialGenerator(TINY).eval()
    with torch.no_grad():
        generator.heads[1][-1].bias[HOLD] = 50.0  # the alto would hold whatever it could
        written = generator.write(
            torch.full((3, 4, 16), REST), torch.ones(3, 4, 16), *_conditions(3, 16), _most_likely
        )
    alto = written.tokens.argmax(-1)[:, 1]
    assert (alto[:, 0] != HOLD).all()
    assert (alto[:, 1:] == HOLD).all()
    assert (written.pitch.argmax(-1)[:, 1] != REST).all()


def test_a_regenerated_region_ends_in_given_notes_that_are_struck_again():
    generator = SequentialGenerator(TINY).eval()
    pitch = torch.full((1, 4, 16), 30)
    onset = torch.zeros(1, 4, 16)
    onset[..., 0] = 1  # one note per voice, all 16 steps long
    free = torch.zeros(1, 4, 16)
    free[..., :8] = 1
    rng = torch.Generator().manual_seed(0)
    new_pitch, new_onset = write_chorale(generator, pitch, onset, free, torch.tensor([0]), rng)
    assert (new_pitch[..., 8:] == 30).all()
    assert new_onset[..., 8].all()


def test_transposed_windows_report_their_shift(chorales):
    from bachgan.encoding import CHORALE_ENCODING
    from bachgan.training.windows import load_windows

    data = load_windows(chorales, 4, transpose_range=3, base=CHORALE_ENCODING)
    rng = torch.Generator().manual_seed(0)
    moved, shifts = transposed_batch(data.pitch[:16], data.encoding, 3, rng)
    sounding = data.pitch[:16] != data.encoding.rest
    difference = (moved - data.pitch[:16]) * sounding
    expected = shifts[:, None, None] * sounding
    assert torch.equal(difference, expected)
    assert shifts.abs().max() <= 3 and (shifts != 0).any()


@pytest.fixture(scope="module")
def sequential_model(chorales, tmp_path_factory):
    """A tiny sequential model trained for a few steps with its critic, in every key."""
    out = tmp_path_factory.mktemp("sequential") / "run"
    config = tiny_config(chorales, out, arch="sequential", steps=3, transpose=2)
    return train(config, progress=False)


def test_a_sequential_run_trains_generator_and_critic_and_knows_the_tonic(sequential_model):
    saved = load_checkpoint(sequential_model)
    assert saved["arch"] == "sequential"
    assert SequentialConfig.from_dict(saved["model_config"]).tonics == 12
    assert "critic" in saved and saved["train_config"]["adversarial_weight"] > 0


def test_without_the_critic_the_critic_stays_untouched(chorales, tmp_path):
    config = tiny_config(
        chorales, tmp_path / "run", arch="sequential", steps=2, adversarial_weight=0.0
    )
    torch.manual_seed(config.seed)
    untrained = make_trainer(config, CPU)
    saved = load_checkpoint(train(config, progress=False))
    critic, generator = untrained.critic.state_dict(), untrained.generator.state_dict()
    assert all(torch.equal(saved["critic"][k], value) for k, value in critic.items())
    assert any(not torch.equal(saved["generator"][k], value) for k, value in generator.items())
    exported = load_checkpoint(export_model(tmp_path / "run", tmp_path / "plain.pt"))
    assert "critic" not in exported and "ema" in exported
    assert load_model(tmp_path / "plain.pt").critic is None


class _SameBatch:
    """A batch stream that hands out the same windows every time."""

    def __init__(self, indices: list[int]) -> None:
        self.indices = torch.tensor(indices)

    def next(self) -> torch.Tensor:
        return self.indices


def test_the_generator_learns_from_the_critic_alone(chorales):
    config = tiny_config(
        chorales, "unused", arch="sequential", reconstruction_weight=0.0, adversarial_weight=1.0
    )
    torch.manual_seed(0)
    trainer = make_trainer(config, CPU)
    critic = {k: v.clone() for k, v in trainer.critic.state_dict().items()}
    generator = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    losses = trainer.step(_SameBatch(list(range(8))))
    assert {"critic", "wasserstein", "generator"} <= set(losses)
    assert losses["reconstruction"] > 0  # measured, though it does not train the generator
    changed = [not torch.equal(v, generator[k]) for k, v in trainer.generator.state_dict().items()]
    assert any(changed)
    assert any(not torch.equal(v, critic[k]) for k, v in trainer.critic.state_dict().items())


def test_a_choice_is_credited_with_the_bars_it_leads_to():
    scores = torch.tensor([[1.0, 3.0], [-1.0, 5.0]])  # two windows of two bars
    # per bar over the batch: [[1, -1], [-1, 1]] / sqrt(2); the first bar's steps get the
    # mean of both bars (0), the second bar's its own
    half = 1 / np.sqrt(2)
    expected = torch.tensor([[0, 0, -half, -half], [0, 0, half, half]])
    assert torch.allclose(advantages_to_go(scores, steps=4), expected.float(), atol=1e-5)


def test_a_model_trained_with_its_critic_is_exported_with_it(sequential_model, tmp_path):
    exported = load_checkpoint(export_model(sequential_model, tmp_path / "model.pt"))
    assert "critic" in exported


def test_the_sequential_model_composes_harmonizes_and_regenerates(sequential_model):
    loaded = load_model(sequential_model)
    assert isinstance(loaded.backend, SequentialBackend)
    pieces = generate(2, 3, 4, loaded, candidates=2)
    assert [(p.n_tracks, p.n_steps) for p in pieces] == [(4, 48), (4, 48)]
    for piece in pieces:  # the closing tonic chord is kept, not the last downbeat's held
        bass = piece.notes().select(piece.notes().track == 3)
        last = int(bass.pitch[np.argmax(bass.start)]) % 12
        assert last == (0 if piece.key_mode == "major" else 9)
    again = generate(2, 3, 4, loaded, candidates=2)
    assert all(np.array_equal(a.sounding, b.sounding) for a, b in zip(pieces, again, strict=True))
    melody = example_melody("Ode to Joy (Beethoven)")
    harmonized = harmonize(melody, loaded)
    soprano, line = harmonized.notes(), melody.notes()
    sung = soprano.track == 0
    assert np.array_equal(soprano.pitch[sung], line.pitch)
    assert np.array_equal(soprano.start[sung], line.start)
    assert np.array_equal(soprano.duration[sung], line.duration)
    piece = make_roll(n_steps=32)
    rewritten = regenerate(piece, (2, 2), seed=1, model=loaded)
    first_bar = {note for note in piece.notes().to_tuples() if note[2] + note[3] <= 16}
    assert first_bar <= set(rewritten.notes().to_tuples())


def test_without_phrases_asked_the_sequential_model_closes_one_every_two_bars(sequential_model):
    piece = generate(1, 7, 0, sequential_model)[0]
    bars = [step // piece.steps_per_bar for step in piece.fermatas]
    assert bars == [1, 3, 5, 6]
    asked = generate(1, 7, 0, sequential_model, phrases=[3])[0]
    assert [step // asked.steps_per_bar for step in asked.fermatas] == [2, 6]


def test_training_windows_mark_the_bars_of_bach_s_fermatas(chorales):
    from bachgan.encoding import CHORALE_ENCODING, closing_bars
    from bachgan.io.corpus import load_rolls
    from bachgan.training.windows import load_windows

    data = load_windows(chorales, 4, base=CHORALE_ENCODING, meters=((4, 4), (3, 4)))
    assert data.closes.shape == data.pitch[:, 0].shape
    marked = data.closes.view(len(data), 4, -1)  # 4/4 windows: whole bars, marked or not
    four_four = data.bar_steps == 16
    whole = marked[four_four]
    assert torch.equal(whole.amax(dim=2), whole.amin(dim=2))
    assert 0.2 < float(data.closes.mean()) < 0.7
    roll = load_rolls(chorales)[0][0]
    closing = closing_bars(roll)
    assert all(closing[step] for step in roll.fermatas)
    assert closing.sum() == roll.steps_per_bar * len(
        {s // roll.steps_per_bar for s in roll.fermatas}
    )


def test_a_piece_closes_on_its_tonic_chord_with_the_root_in_the_bass():
    torch.manual_seed(0)
    generator = SequentialGenerator(TINY).eval()
    shape = (6, 4, 32)
    minor = torch.tensor([0, 1] * 3)
    pitch, _ = write_chorale(
        generator,
        torch.full(shape, REST),
        torch.zeros(shape),
        torch.ones(shape),
        minor,
        torch.Generator().manual_seed(0),
        temperature=2.0,
    )
    closing = (pitch[..., -8:] + 28) % 12  # the last two beats, as pitch classes
    tonic = (9 * minor)[:, None, None]
    assert (pitch[..., -8:] != REST).all()
    assert ((closing[:, 3] - tonic[:, 0]) % 12 == 0).all()
    intervals = (closing[:, :3] - tonic) % 12
    assert torch.isin(intervals[minor == 0], torch.tensor([0, 4, 7])).all()
    assert torch.isin(intervals[minor == 1], torch.tensor([0, 3, 4, 7])).all()
    assert (pitch[..., :-8] != REST).any() and not torch.isin(
        (pitch[..., :-8] + 28) % 12, torch.tensor([0, 4, 7])
    ).all()
    given, free = torch.full(shape, REST), torch.ones(shape)
    given[:, 0, -8:], free[:, 0, -8:] = 46, 0  # a melody that ends on D5, outside the chord
    onsets = torch.zeros(shape)
    onsets[:, 0, -8] = 1
    rng = torch.Generator().manual_seed(0)
    pitch, _ = write_chorale(generator, given, onsets, free, minor, rng, temperature=2.0)
    assert (pitch[:, 0, -8:] == 46).all()
    assert ((pitch[:, 3, -8:] + 28) % 12 != (9 * minor)[:, None]).any()  # the bass is free


def test_a_piece_begins_on_its_tonic_chord_unless_the_melody_begins_elsewhere(monkeypatch):
    torch.manual_seed(0)
    generator = SequentialGenerator(TINY).eval()
    shape = (8, 4, 32)
    minor = torch.tensor([0, 1] * 4)

    def first_notes(given: torch.Tensor, onsets: torch.Tensor, free: torch.Tensor):
        """The intervals above the tonic of the notes sounding where each piece begins, and
        whether each voice sounds there."""
        rng = torch.Generator().manual_seed(0)
        pitch, _ = write_chorale(generator, given, onsets, free, minor, rng, temperature=2.0)
        first = (pitch != REST).any(dim=1).float().argmax(dim=1)  # (B,): the first step sounding
        chord = pitch[torch.arange(len(pitch)), :, first]  # (B, V)
        return (chord + 28 - (9 * minor)[:, None]) % 12, chord != REST

    composed = (torch.full(shape, REST), torch.zeros(shape), torch.ones(shape))
    monkeypatch.setattr(sequential, "OPENING_BIAS", 0.0)
    unbiased, sounding = first_notes(*composed)
    assert not torch.isin(unbiased[sounding], torch.tensor([0, 3, 4, 7])).all()
    monkeypatch.setattr(sequential, "OPENING_BIAS", 1e3)
    opening, sounding = first_notes(*composed)
    major, in_minor = sounding & (minor == 0)[:, None], sounding & (minor == 1)[:, None]
    assert torch.isin(opening[major], torch.tensor([0, 4, 7])).all()
    assert torch.isin(opening[in_minor], torch.tensor([0, 3, 4, 7])).all()
    assert (opening[:, 3][sounding[:, 3]] == 0).all()
    given, onsets, free = composed
    given[:, 0], onsets[:, 0, 0], free[:, 0] = 46, 1, 0  # a melody on D5, outside the chord
    bass, sounding = first_notes(given, onsets, free)
    assert (bass[:, 3][sounding[:, 3]] != 0).any()  # the bass is free


def test_a_voice_may_not_circle_between_two_notes_a_sixth_time():
    config = replace(TINY, voice_ranges=((0, 59),) * 4)
    rule = circling_rule(config, batch=2)
    # piece 0's alto sings C-D-C-D-C (a rest and a held note between), piece 1's C-D-C-E-C
    alto = [[30, 32, REST, 30, 30, 32, 30], [30, 32, 30, 30, 34, 30, 30]]
    costs = None
    for step, (first, second) in enumerate(zip(*alto, strict=True), start=1):
        before = torch.full((2, 4), REST)
        before[:, 1] = torch.tensor([first, second])
        costs = rule(1, step, (0, 3), before, before)
    refused = torch.nonzero(torch.as_tensor(costs) < 0).tolist()
    assert refused == [[0, 32]]  # D again in piece 0; anything in piece 1
    soprano = rule(0, len(alto[0]) + 1, (), before, before)
    assert not torch.as_tensor(soprano).any()  # the soprano has sung nothing


def test_training_windows_know_where_their_piece_begins(chorales):
    from bachgan.encoding import CHORALE_ENCODING, encode
    from bachgan.io.corpus import load_rolls
    from bachgan.training.windows import load_windows

    data = load_windows(chorales, 4, base=CHORALE_ENCODING, meters=((4, 4), (3, 4)))
    four_four = [roll for roll in load_rolls(chorales)[0] if roll.time_signature == (4, 4)]
    assert 0 < int(data.starts.sum()) <= len(four_four)
    assert not data.starts[data.bar_steps == 12].any()
    first_piece, _ = encode(four_four[0], CHORALE_ENCODING, True)
    assert data.starts[0] and not data.starts[1]
    assert np.array_equal(data.pitch[0].numpy(), first_piece[:, :64])
    trainer = make_trainer(tiny_config(chorales, "unused", arch="sequential"), CPU)
    ending = trainer._ending(torch.tensor([0, 1]), 64)
    assert ending.shape == (2, 3, 64)
    assert ending[0, 2, :16].eq(1).all() and ending[0, 2, 16:].eq(0).all()
    assert ending[1, 2].eq(0).all()


def test_the_rule_refuses_parallel_fifths_and_octaves_and_leaps_over_an_octave():
    refuse = voice_leading_rule(SequentialConfig(), torch.tensor([0, 0]))
    before = torch.tensor([[44, 30, 30, 20]])  # soprano C5 (72), bass C3 (48): two octaves
    now = torch.tensor([[46, 30, 30, 20]])  # the soprano has moved up to D5
    costs = refuse(3, 0, (0,), before, now)[0]
    assert costs[22] < 0  # bass to D3: octaves with the soprano
    assert costs[20] == 0 and costs[HOLD] == 0 and costs[REST] == 0  # holding, resting
    assert costs[21] == 0 and costs[17] == 0  # C#3, A2: no parallel
    assert costs[33] < 0 and costs[32] == 0  # a leap of 13 semitones; an octave is allowed
    fifths = refuse(3, 0, (0,), torch.tensor([[44, 30, 30, 25]]), now)[0]  # soprano over F3
    assert fifths[27] < 0 and fifths[26] == 0  # bass to G3: fifths; to F#3: none
    down = refuse(3, 0, (0,), before, torch.tensor([[42, 30, 30, 20]]))[0]  # soprano to B flat 4
    assert down[18] < 0 and down[30] == 0  # octaves on B flat 2 (parallel), B flat 3 (contrary)
    both = refuse(
        3, 0, (0,), before.repeat(2, 1), torch.tensor([[46, 30, 30, 20], [44, 30, 30, 20]])
    )
    assert both[0, 22] < 0 and both[1, 22] == 0  # the second soprano holds: no parallel
    assert torch.equal(both[0], costs)
    in_minor = voice_leading_rule(SequentialConfig(), torch.tensor([1, 0]))
    f4 = torch.tensor([[44, 30, 37, 20]] * 2)  # the tenor on F4 (65)
    leaps = in_minor(2, 0, (), f4, f4)
    assert leaps[0, 40] < 0 and leaps[1, 40] == 0  # to G sharp 4: refused in A minor only
    assert leaps[0, 34] == 0 and leaps[0, 39] == 0  # to D4 (a minor third), to G4


def test_pieces_are_written_in_the_data_s_ranges_though_trained_in_wider_ones():
    ranges = ((30, 40), (22, 34), (14, 28), (5, 20))
    torch.manual_seed(0)
    generator = SequentialGenerator(replace(TINY, writing_ranges=ranges)).eval()
    shape = (8, 4, 32)
    pitch, _ = write_chorale(
        generator,
        torch.full(shape, REST),
        torch.zeros(shape),
        torch.ones(shape),
        torch.zeros(8, dtype=torch.long),
        torch.Generator().manual_seed(0),
        temperature=2.0,
    )
    for voice, (low, high) in enumerate(ranges):
        sung = pitch[:, voice][pitch[:, voice] != REST]
        assert sung.numel() and low <= int(sung.min()) and int(sung.max()) <= high


def test_the_shipped_sequential_model_writes_in_every_voice_with_bach_s_note_values():
    loaded = load_model("sequential")
    assert isinstance(loaded.backend, SequentialBackend) and loaded.critic is None
    pieces = generate(6, 8, 0, loaded)
    pieces += generate(2, 8, 0, loaded, meter="3/4")
    assert all(piece.n_tracks == 4 and piece.notes().pitch.size > 60 for piece in pieces)
    durations = np.concatenate([piece.notes().duration for piece in pieces])
    assert 0.15 < float(np.mean(durations <= 2)) < 0.7  # eighths and sixteenths
    assert float(np.mean(durations == 4)) > 0.2  # quarters
    assert all(len(piece.fermatas) == 4 for piece in pieces)
