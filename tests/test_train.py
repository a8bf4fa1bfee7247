import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import tiny_config

from bachgan.cli import main
from bachgan.config import TrainConfig
from bachgan.encoding import decode
from bachgan.errors import BachganError
from bachgan.evaluation.metrics import (
    onsets_per_beat,
    pitch_class_histogram,
    pitch_classes_per_bar,
    polyphony,
    qualified_note_rate,
    voice_crossing_rate,
)
from bachgan.io.checkpoint import load_checkpoint
from bachgan.training.architectures import make_trainer
from bachgan.training.train import train

CPU = torch.device("cpu")


tiny = tiny_config


def term(trainer, name: str):
    """The generator's loss term called ``name`` (models/losses.py)."""
    return next(weighted.term for weighted in trainer.terms if weighted.name == name)


def two_critic_steps(folder) -> str:
    """A preset file of one research setting, as `train --preset` reads them."""
    path = folder / "preset.json"
    path.write_text('{"arch": "musegan", "n_critic": 2}')
    return str(path)


def weights(path):
    checkpoint = load_checkpoint(path)
    return {**checkpoint["generator"], **{f"d.{k}": v for k, v in checkpoint["critic"].items()}}


def test_training_writes_checkpoint_config_and_tensorboard(chorales, tmp_path):
    path = train(tiny(chorales, tmp_path / "run"), progress=False)
    checkpoint = torch.load(path, weights_only=True)  # plain tensors and values only
    assert checkpoint["step"] == 4 and checkpoint["arch"] == "musegan"
    assert (tmp_path / "run" / "config.json").exists()
    assert load_checkpoint(tmp_path / "run" / "best.pt")["step"] in (2, 4)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logs = EventAccumulator(str(tmp_path / "run" / "tensorboard")).Reload()
    tags = logs.Tags()["scalars"]
    assert "music/classifier_accuracy" in tags
    assert "harmony/complete_sonorities_share_of_eighths" in tags
    assert "harmony/held_chords_per_window" in tags


def test_resume_after_sigkill_is_exact(chorales, tmp_path):
    killed = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "bachgan",
        "train",
        "--data",
        str(chorales),
        "--out",
        str(killed),
        "--steps",
        "1000",
        "--batch-size",
        "8",
        "--preset",
        str(two_critic_steps(tmp_path)),
        "--model-size",
        "tiny",
        "--checkpoint-every",
        "2",
        "--threads",
        "1",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (killed / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    reached = load_checkpoint(killed)["step"]
    assert 2 <= reached < 1000
    total = reached + 3
    train(tiny(chorales, killed, steps=total), resume=True, progress=False)
    train(tiny(chorales, tmp_path / "straight", steps=total), progress=False)
    resumed, straight = weights(killed), weights(tmp_path / "straight")
    assert load_checkpoint(killed)["step"] == total
    for name, tensor in straight.items():
        assert torch.equal(tensor, resumed[name]), name


def test_bad_inputs_are_clear_errors(chorales, tmp_path, capsys):
    with pytest.raises(BachganError, match="no data set"):
        train(tiny(tmp_path / "missing.npz", tmp_path / "a"))
    (tmp_path / "corrupt.npz").write_bytes(b"not a zip")
    with pytest.raises(BachganError, match="not a readable"):
        train(tiny(tmp_path / "corrupt.npz", tmp_path / "b"))
    with pytest.raises(BachganError, match="fewer than one batch"):
        train(tiny(chorales, tmp_path / "c", batch_size=100_000))
    with pytest.raises(BachganError, match="unknown arch"):
        train(tiny(chorales, tmp_path / "d", arch="transformer"))
    with pytest.raises(BachganError, match="--texture-weight must be 0 or more"):
        train(tiny(chorales, tmp_path / "d", texture_weight=-0.3))
    with pytest.raises(BachganError, match="must be more than 0"):
        train(tiny(chorales, tmp_path / "d", steps=0))
    train(tiny(chorales, tmp_path / "e", steps=2), progress=False)
    with pytest.raises(BachganError, match="other settings"):
        train(tiny(chorales, tmp_path / "e", steps=4, transpose=2), resume=True)
    with pytest.raises(BachganError, match="already holds a run"):
        train(tiny(chorales, tmp_path / "e"))
    assert main(["train", "--data", str(tmp_path / "missing.npz"), "--out", "x"]) == 2
    assert capsys.readouterr().err.startswith("bachgan: error: no data set")
    assert main(["train", "--data", str(chorales), "--out", "x", "--preset", "nothing"]) == 2
    assert "chorales, musegan, quick, sequential, smoke are shipped" in capsys.readouterr().err
    (tmp_path / "typo.json").write_text('{"n_critics": 2}')
    assert (
        main(
            [
                "train",
                "--data",
                str(chorales),
                "--out",
                "x",
                "--preset",
                str(tmp_path / "typo.json"),
            ]
        )
        == 2
    )
    assert "unknown settings n_critics" in capsys.readouterr().err
    argv = ["train", "--data", str(chorales), "--out", "x", "--steps", "2", "--minutes", "1"]
    assert main(argv) == 2
    assert "give --steps or --minutes, not both" in capsys.readouterr().err


def test_diverging_training_stops_and_keeps_the_last_good_checkpoint(
    chorales, tmp_path, monkeypatch
):
    from bachgan.training.trainers import MuseGANTrainer

    real_step = MuseGANTrainer.step

    def step_then_diverge(self, batches):
        losses = real_step(self, batches)
        return {**losses, "critic": float("nan")} if self.steps_done > 2 else losses

    monkeypatch.setattr(MuseGANTrainer, "step", step_then_diverge)
    with pytest.raises(BachganError, match=r"diverged at step 3.*last good checkpoint"):
        train(tiny(chorales, tmp_path / "nan"), progress=False)
    assert load_checkpoint(tmp_path / "nan")["step"] == 2


@pytest.mark.slow
def test_seed_dcgan_trains_a_step(chorales, tmp_path):
    path = train(
        tiny(chorales, tmp_path / "seed", arch="seed", steps=1, batch_size=4), progress=False
    )
    assert load_checkpoint(path)["arch"] == "seed"


def test_ddp_two_processes_keep_identical_weights(chorales, tmp_path):
    out = tmp_path / "ddp"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # a free local port, chosen by torchrun
        "--nproc_per_node=2",
        "-m",
        "bachgan",
        "train",
        "--data",
        str(chorales),
        "--out",
        str(out),
        "--steps",
        "3",
        "--batch-size",
        "4",
        "--preset",
        str(two_critic_steps(tmp_path)),
        "--model-size",
        "tiny",
        "--threads",
        "1",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    checksums = load_checkpoint(out)["rank_checksums"]
    assert len(checksums) == 2 and checksums[0] == checksums[1]


def test_texture_statistics_on_bach_agree_with_the_evaluation_metrics(chorales, tmp_path):
    # Crossings left out of the faults are among the statistics, matched to the data's rate.
    config = tiny(chorales, tmp_path / "run", count_crossings=False)
    trainer = make_trainer(config, torch.device("cpu"))
    data = trainer.data
    one_hot = torch.nn.functional.one_hot(data.pitch, trainer.model_config.n_classes).float()
    statistics = term(trainer, "texture").statistics(one_hot, data.onset).mean(dim=0)
    rolls = [
        decode(pitch.numpy(), onset.numpy() > 0, data.encoding)
        for pitch, onset in zip(data.pitch, data.onset, strict=True)
    ]
    beats = [roll.n_steps / (roll.steps_per_bar // 4) for roll in rolls]
    classes, voices, onsets, short = statistics[:4].tolist()
    assert classes == pytest.approx(np.mean([pitch_classes_per_bar(r) for r in rolls]))
    assert voices == pytest.approx(np.mean([polyphony(r) for r in rolls]))
    histogram = np.mean([pitch_class_histogram(r) for r in rolls], axis=0)
    assert statistics[4:16].numpy() == pytest.approx(histogram, abs=1e-6)
    crossings = np.mean([voice_crossing_rate(r) for r in rolls])
    assert crossings > 0 and statistics[16].item() == pytest.approx(crossings)
    # A window may open inside a held note (no onset in the data, one in the decoded roll) and
    # close inside a short one (not counted by the training term): the edges differ slightly.
    assert onsets == pytest.approx(np.mean([onsets_per_beat(r) for r in rolls]), rel=0.01)
    decoded_short = [
        (1 - qualified_note_rate(r)) * len(r.notes()) / b for r, b in zip(rolls, beats, strict=True)
    ]
    assert short == pytest.approx(np.mean(decoded_short), rel=0.1)


def test_pitch_distribution_term_grows_when_every_window_sings_the_same_pitches(chorales, tmp_path):
    config = tiny(chorales, tmp_path / "run", pitch_distribution_weight=1.0, count_crossings=True)
    trainer = make_trainer(config, torch.device("cpu"))
    every_window, _ = trainer._real(torch.arange(len(trainer.data.pitch)))
    pitches = term(trainer, "pitches")
    assert pitches(every_window, None, None, None).item() == pytest.approx(0, abs=1e-5)
    collapsed = every_window[:1].expand(8, -1, -1, -1)  # one window, eight times
    assert pitches(collapsed, None, None, None).item() > 0.5


def test_pitch_distribution_target_counts_every_training_window_and_its_transpositions(
    chorales, tmp_path
):
    plain = make_trainer(tiny(chorales, tmp_path / "a", pitch_distribution_weight=1.0), CPU)
    soprano = plain.data.pitch[:, 0]
    sung = soprano[soprano != plain.data.encoding.rest]
    expected = torch.bincount(sung, minlength=plain.model_config.n_classes - 1).float()
    assert term(plain, "pitches").target[0] == pytest.approx(expected / expected.sum())
    moved = make_trainer(
        tiny(chorales, tmp_path / "b", pitch_distribution_weight=1.0, transpose=3), CPU
    )
    moved_target, plain_target = term(moved, "pitches").target, term(plain, "pitches").target
    assert moved_target.sum(dim=1) == pytest.approx(torch.ones(4))
    widened = (moved_target[0] > 0).sum() > (plain_target[0] > 0).sum()
    assert widened, "transposed copies must reach pitches the plain data does not"


def test_pitch_class_pairs_term_is_zero_on_the_data_and_grows_with_clashing_accidentals(
    chorales, tmp_path
):
    trainer = make_trainer(tiny(chorales, tmp_path / "run", pitch_class_pairs_weight=1.0), CPU)
    every_window, _ = trainer._real(torch.arange(len(trainer.data.pitch)))
    pairs = term(trainer, "pairs")
    assert pairs(every_window, None, None, None).item() == pytest.approx(0, abs=1e-5)
    clashing = every_window.clone()
    alto = clashing[:, 1]
    sung = alto[..., :-1].sum(dim=-1) > 0
    raised = torch.roll(alto, shifts=1, dims=-1)  # every alto note a semitone higher
    clashing[:, 1] = torch.where(sung[..., None], raised, alto)
    assert pairs(clashing, None, None, None).item() > 1.0


def test_optional_generator_terms_train_and_are_kept_in_the_checkpoint(chorales, tmp_path):
    options = dict(
        texture_weight=0.3,
        pitch_distribution_weight=3.0,
        pitch_class_pairs_weight=1.0,
        count_crossings=True,
        mode_conditioning=True,
    )
    path = train(tiny(chorales, tmp_path / "run", **options), progress=False)
    saved = load_checkpoint(path)["train_config"]
    assert {name: saved[name] for name in options} == options


def test_the_chorales_preset_writes_out_the_defaults(chorales, tmp_path):
    from bachgan.config import preset_settings

    settings = preset_settings("chorales")
    defaults = TrainConfig(str(chorales), str(tmp_path))
    assert {name: getattr(defaults, name) for name in settings} == settings


def test_the_smoke_preset_trains_in_seconds(chorales, tmp_path, capsys):
    argv = ["train", "--data", str(chorales), "--out", str(tmp_path / "run"), "--preset", "smoke"]
    assert main([*argv, "--threads", "1"]) == 0
    assert load_checkpoint(tmp_path / "run")["step"] == 20


def test_a_run_can_start_from_another_runs_weights(chorales, tmp_path, capsys):
    first = train(tiny(chorales, tmp_path / "first", arch="completion"), progress=False)
    weights = load_checkpoint(first)
    config = tiny(chorales, tmp_path / "tuned", arch="completion", init_from=str(first))
    trainer = make_trainer(config, torch.device("cpu"))
    fresh = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    trainer.start_from(weights)
    for name, value in trainer.generator.state_dict().items():
        assert torch.equal(value, weights["generator"][name]), name
    assert any(not torch.equal(fresh[k], weights["generator"][k]) for k in fresh)
    tuned = load_checkpoint(train(config, progress=False))
    assert tuned["step"] == 4 and tuned["train_config"]["init_from"] == str(first)
    argv = ["train", "--data", str(chorales), "--out", str(tmp_path / "wrong"), "--steps", "1"]
    assert main([*argv, "--arch", "musegan", "--init-from", str(first)]) == 2
    assert "holds a 'completion' model; this run trains a musegan one" in capsys.readouterr().err


def test_a_data_set_of_three_chorales_trains(tmp_path, capsys):
    from conftest import small_chorale_set

    few = small_chorale_set(tmp_path, "bwv26", 3)  # fewer windows than the evaluation takes
    argv = ["train", "--data", str(few), "--out", str(tmp_path / "run"), "--preset", "smoke"]
    assert main([*argv, "--threads", "1"]) == 0
    assert load_checkpoint(tmp_path / "run")["step"] == 20


def two_four_pieces(folder) -> str:
    """A data set of twelve 16-bar chorale phrases in 2/4 (as a folder of 2/4 music gives)."""
    from conftest import CHORALE_NOTES, make_roll

    from bachgan.io.corpus import save_rolls

    def phrase(shift: int) -> list[tuple[int, int, int, int]]:
        return [(t, p + shift, s + 32 * r, d) for r in range(4) for t, p, s, d in CHORALE_NOTES]

    rolls = [make_roll(phrase(k), n_steps=128, time_signature=(2, 4)) for k in range(12)]
    return str(save_rolls(rolls, folder / "two_four.npz"))


def test_music_in_a_meter_the_run_does_not_learn_says_how_to_learn_it(tmp_path, capsys):
    data = two_four_pieces(tmp_path)
    argv = ["train", "--data", data, "--preset", "smoke", "--threads", "1"]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert "its pieces are in 2/4 (12); train --meters 2/4 learns those" in error
    assert main([*argv, "--out", str(tmp_path / "learnt"), "--meters", "2/4"]) == 0
    assert load_checkpoint(tmp_path / "learnt")["train_config"]["meters"] == ["2/4"]


def test_a_completion_run_without_the_critic_trains_the_generator_alone(chorales, tmp_path):
    config = tiny(chorales, tmp_path / "run", arch="completion", adversarial_weight=0.0)
    torch.manual_seed(config.seed)
    untrained = make_trainer(config, CPU)
    saved = load_checkpoint(train(config, progress=False))
    assert saved["train_config"]["adversarial_weight"] == 0.0
    critic, generator = untrained.critic.state_dict(), untrained.generator.state_dict()
    assert all(torch.equal(saved["critic"][k], value) for k, value in critic.items())
    assert any(not torch.equal(saved["generator"][k], value) for k, value in generator.items())
