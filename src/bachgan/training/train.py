"""Training: one loop for every architecture (the completion model, the musegan and seed
baselines), with checkpoints, exact resume, TensorBoard logs and DistributedDataParallel
under ``torchrun``.

Checkpoints (:mod:`bachgan.io.checkpoint`) are written every ``checkpoint_every`` steps, at the
end, and when the process is asked to stop (SIGINT/SIGTERM).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
from tqdm import tqdm

from ..config import TrainConfig, saved_config
from ..errors import BachganError
from ..io.checkpoint import (
    BEST_NAME,
    CHECKPOINT_FORMAT,
    CHECKPOINT_NAME,
    load_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
)
from ..io.files import write_json
from .architectures import make_trainer
from .trainers import Trainer

__all__ = ["train"]


def train(config: TrainConfig, resume: bool = False, progress: bool = True) -> Path:
    """Train as ``config`` says; returns the checkpoint path. Under ``torchrun`` every rank
    runs this; rank 0 alone writes files."""
    config.validate()
    if config.threads:
        torch.set_num_threads(config.threads)
    rank, world = _start_distributed(config.device)
    try:
        checkpoint = _train(config, resume, progress and rank == 0, rank, world)
        if world > 1:
            dist.barrier()  # no rank tears down its connections while another still uses them
        return checkpoint
    finally:
        if world > 1:
            dist.destroy_process_group()


def _train(config: TrainConfig, resume: bool, progress: bool, rank: int, world: int) -> Path:
    device = _device(config.device)
    out = Path(config.out)
    checkpoint_path = out / CHECKPOINT_NAME
    torch.manual_seed(config.seed + rank)
    trainer = make_trainer(config, device)
    if len(trainer.data) < config.batch_size * world:
        raise BachganError(
            f"{config.data} has {len(trainer.data)} windows, fewer than one batch of "
            f"{config.batch_size * world}; lower --batch-size or add music"
        )
    state = {"step": 0, "batches": 0, "elapsed": 0.0}
    if resume:
        state = _resume(trainer, checkpoint_path, config, device)
    elif checkpoint_path.exists():
        raise BachganError(f"{out} already holds a run; pass --resume or choose another --out")
    elif config.init_from:
        _start_from(trainer, config, device)
    if world > 1:
        trainer.wrap(lambda module: _ddp(module, device))
    sampler = DistributedSampler(
        range(len(trainer.data)),
        num_replicas=world,
        rank=rank,
        shuffle=True,
        seed=config.seed,
        drop_last=True,
    )
    batches = _BatchStream(sampler, config.batch_size, state["batches"])
    writer = _writer(out) if rank == 0 else None
    if rank == 0:
        remove_stale_temporaries(out)
        write_json(asdict(config), out / "config.json")
    stopper = _StopSignal()
    started = time.monotonic() - state["elapsed"]
    state["started"] = started
    bar = tqdm(
        total=config.steps,
        initial=state["step"],
        disable=not progress,
        unit="step",
        desc=f"training {config.arch}",
        dynamic_ncols=True,
    )
    last_saved = state["step"]
    try:
        while not _finished(config, state, started) and not stopper.requested:
            losses = trainer.step(batches)
            state["step"] += 1
            state["batches"] = batches.handed_out
            _check_finite(losses, state["step"], checkpoint_path)
            bar.update()
            bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items() if k in trainer.shown})
            if writer and state["step"] % config.log_every == 0:
                for name, value in losses.items():
                    writer.add_scalar(f"train/{name}", value, state["step"])
            if rank == 0 and state["step"] % config.eval_every == 0:
                _evaluate(trainer, writer, config, state, out, rank)
            if state["step"] % config.checkpoint_every == 0:
                state["elapsed"] = time.monotonic() - started
                _save(trainer, config, state, checkpoint_path, rank)
                last_saved = state["step"]
    finally:
        bar.close()
        stopper.restore()
    state["elapsed"] = time.monotonic() - started
    if world > 1:
        state["rank_checksums"] = _rank_checksums(trainer)
    if state["step"] != last_saved or not checkpoint_path.exists() or world > 1:
        _save(trainer, config, state, checkpoint_path, rank)
    if writer:
        writer.close()
    if stopper.requested and rank == 0:
        print(f"stopped at step {state['step']}; continue with --resume")
    return checkpoint_path


def _evaluate(
    trainer: Trainer, writer, config: TrainConfig, state: dict, out: Path, rank: int
) -> None:
    """Log music metrics; keep the checkpoint with the best score as ``best.pt``."""
    score = trainer.evaluate(writer, state["step"])
    if score is not None and score < state.get("best_score", math.inf):
        state["best_score"] = score
        state["elapsed"] = time.monotonic() - state["started"]
        _save(trainer, config, state, out / BEST_NAME, rank)


def _finished(config: TrainConfig, state: dict, started: float) -> bool:
    if config.steps is not None and state["step"] >= config.steps:
        return True
    return config.minutes is not None and time.monotonic() - started >= config.minutes * 60


class _BatchStream:
    """Index batches from a DistributedSampler, epoch after epoch; counts what it handed out
    so that a resumed run continues with the very next batch."""

    def __init__(self, sampler: DistributedSampler, batch_size: int, skip: int) -> None:
        self.sampler, self.batch_size, self.handed_out = sampler, batch_size, 0
        self.per_epoch = len(sampler) // batch_size
        self._indices: list[int] = []
        for _ in range(skip):
            self.next()

    def next(self) -> torch.Tensor:
        epoch, position = divmod(self.handed_out, self.per_epoch)
        if position == 0 or not self._indices:
            self.sampler.set_epoch(epoch)
            self._indices = list(self.sampler)
        self.handed_out += 1
        start = position * self.batch_size
        return torch.tensor(self._indices[start : start + self.batch_size])


def _check_finite(losses: dict[str, float], step: int, checkpoint: Path) -> None:
    bad = [name for name, value in losses.items() if not math.isfinite(value)]
    if bad:
        kept = f"; the last good checkpoint is {checkpoint}" if checkpoint.exists() else ""
        raise BachganError(f"training diverged at step {step} ({', '.join(bad)} not finite){kept}")


# --------------------------------------------------------------------------- checkpoints
def _save(trainer: Trainer, config: TrainConfig, state: dict, path: Path, rank: int) -> None:
    if rank != 0:
        return
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "arch": config.arch,
        "train_config": json.loads(json.dumps(asdict(config))),
        "step": state["step"],
        "batches": state["batches"],
        "elapsed_seconds": state["elapsed"],
        "best_score": state.get("best_score", math.inf),
        "rng": torch.get_rng_state(),
        "rank_checksums": state.get("rank_checksums", []),
        **trainer.state_dict(),
    }
    save_checkpoint(checkpoint, path)


def _resume(trainer: Trainer, path: Path, config: TrainConfig, device: torch.device) -> dict:
    checkpoint = load_checkpoint(path, device)
    saved = saved_config(checkpoint["train_config"])
    if saved.model_signature() != config.model_signature():
        raise BachganError(
            f"{path} was trained with other settings ({saved.model_signature()}); "
            "resume with the same --arch and data settings, or start a new --out"
        )
    try:
        trainer.load_state_dict(checkpoint)
    except (RuntimeError, KeyError, ValueError) as error:
        raise BachganError(f"{path} does not fit this model ({error})") from error
    torch.set_rng_state(checkpoint["rng"].cpu())
    return {
        "step": int(checkpoint["step"]),
        "batches": int(checkpoint["batches"]),
        "elapsed": float(checkpoint["elapsed_seconds"]),
        "best_score": float(checkpoint["best_score"]),
    }


def _start_from(trainer: Trainer, config: TrainConfig, device: torch.device) -> None:
    """Load the weights of ``config.init_from`` into a new run's models."""
    checkpoint = load_checkpoint(Path(config.init_from), device)
    if checkpoint.get("arch") != config.arch:
        raise BachganError(
            f"{config.init_from} holds a {checkpoint.get('arch')!r} model; this run trains "
            f"a {config.arch} one"
        )
    try:
        trainer.start_from(checkpoint)
    except (RuntimeError, KeyError) as error:
        raise BachganError(
            f"{config.init_from} does not fit this model's sizes ({type(error).__name__})"
        ) from error


def _rank_checksums(trainer: Trainer) -> list[float]:
    """Every rank's sum of generator and critic weights, gathered: equal when DDP kept the
    replicas in step (a run records them so that this can be checked)."""
    own = sum(p.double().sum() for p in trainer.generator.parameters())
    own = own + sum(p.double().sum() for p in trainer.critic.parameters())
    own = own.detach().reshape(1)
    gathered = [torch.zeros_like(own) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, own)
    return [float(x) for x in gathered]


# --------------------------------------------------------------------------- plumbing
def _device(name: str) -> torch.device:
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BachganError("--device cuda asked for, but no CUDA GPU is available")
        local_rank = int(os.environ.get("LOCAL_RANK", 0))
        return torch.device("cuda", local_rank)
    if name != "cpu":
        raise BachganError(f"unknown device {name!r}; use cpu or cuda")
    return torch.device("cpu")


def _start_distributed(device: str) -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    if device.startswith("cuda"):
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    return dist.get_rank(), dist.get_world_size()


def _ddp(module: torch.nn.Module, device: torch.device) -> DistributedDataParallel:
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def _writer(out: Path):
    from torch.utils.tensorboard import SummaryWriter

    try:
        return SummaryWriter(str(out / "tensorboard"))
    except OSError as error:
        raise BachganError(f"cannot write to {out}: {error.strerror or error}") from error


class _StopSignal:
    """Turns SIGINT/SIGTERM into a flag the loop checks, so the run ends with a checkpoint."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = {}
        for number in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # signals can only be caught in the main thread
                self._previous[number] = signal.signal(number, self._handle)

    def _handle(self, number, frame) -> None:
        self.requested = True

    def restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
