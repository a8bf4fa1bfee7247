"""Benchmark: training speed and memory of the chorale models (the completion model, the
default, and the earlier unconditional musegan model) against the seed DCGAN, one process
against two DDP processes (gloo), and musegan's preset against the same model without the
generator's rule terms (voice leading, texture, pitch distribution).

Each configuration runs in its own process (its own peak RSS), one after another in one run,
on the Bach chorales (or --data); --seed-steps 0 leaves the seed DCGAN out:

    python benchmarks/train_speed.py [--steps 20] [--seed-steps 2] [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from common import add_data_option, print_header, print_row, reference_path

HERE = Path(__file__).resolve()
#: The chorale model with the generator trained by its critic alone ("musegan-plain").
PLAIN = dict(
    voice_leading_weight=0.0,
    count_crossings=False,
    texture_weight=0.0,
    pitch_distribution_weight=0.0,
)


def worker(arch: str, data: str, steps: int, threads: int) -> None:
    """Train ``steps`` steps and print one JSON line (rank 0 only under torchrun)."""
    from bachgan.config import TrainConfig
    from bachgan.io.checkpoint import load_checkpoint
    from bachgan.training.train import train

    out = tempfile.mkdtemp()
    plain = arch == "musegan-plain"
    config = TrainConfig(
        data=data,
        out=out,
        arch="musegan" if plain else arch,
        steps=steps,
        threads=threads,
        checkpoint_every=10**9,
        eval_every=10**9,
        log_every=10**9,
        **(PLAIN if plain else {}),
    )
    train(config, progress=False)
    if int(os.environ.get("RANK", "0")) != 0:
        return
    checkpoint = load_checkpoint(out)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    real_per_step = (
        config.batch_size * config.n_critic if config.arch != "seed" else config.batch_size // 2
    ) * world
    seconds = checkpoint["elapsed_seconds"] / steps
    parameters = sum(  # trainable weights, not BatchNorm's running statistics
        t.numel()
        for k in ("generator", "critic")
        for name, t in checkpoint[k].items()
        if t.is_floating_point() and "running_" not in name
    )
    print(
        json.dumps(
            {
                "seconds_per_step": seconds,
                "samples_per_second": real_per_step / seconds,
                "parameters": parameters,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def run(command: list[str]) -> dict:
    """The JSON line that a worker started by ``command`` printed last."""
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(data: str, steps: int, seed_steps: int) -> dict[str, dict]:
    """Each configuration's numbers, trained on ``data`` one after another, the seed DCGAN
    for ``seed_steps`` steps (none: left out), the others for ``steps``."""
    me = [sys.executable, str(HERE), "--worker"]
    rows = {
        "completion (default), 1 process": run([*me, "completion", data, str(steps), "2"]),
        "musegan, 1 process": run([*me, "musegan", data, str(steps), "2"]),
        "musegan without the rule terms, 1 process": run(
            [*me, "musegan-plain", data, str(steps), "2"]
        ),
    }
    if seed_steps:
        rows["seed DCGAN, 1 process"] = run([*me, "seed", data, str(seed_steps), "2"])
    rows["completion, 2 processes (DDP, gloo)"] = run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            str(HERE),
            "--worker",
            "completion",
            data,
            str(steps),
            "1",
        ]
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed-steps", type=int, default=2)
    parser.add_argument("--worker", nargs=4, metavar=("ARCH", "DATA", "STEPS", "THREADS"))
    add_data_option(parser)
    args = parser.parse_args()
    if args.worker:
        arch, data, steps, threads = args.worker
        worker(arch, data, int(steps), int(threads))
        return
    rows = measure(str(reference_path("all", args.data)), args.steps, args.seed_steps)
    print_header("configuration", "s/step", "training samples/s", "parameters (G+D)", "peak RSS")
    for name, row in rows.items():
        print_row(
            name,
            f"{row['seconds_per_step']:.3f}",
            f"{row['samples_per_second']:.1f}",
            f"{row['parameters']:,}",
            f"{row['peak_rss_mib']:.0f} MiB",
        )
    completion = rows["completion (default), 1 process"]
    musegan, ddp = rows["musegan, 1 process"], rows["completion, 2 processes (DDP, gloo)"]
    print()
    if "seed DCGAN, 1 process" in rows:
        seed = rows["seed DCGAN, 1 process"]
        print(
            f"completion / seed training samples per second: "
            f"{completion['samples_per_second'] / seed['samples_per_second']:.0f}x"
        )
    plain = rows["musegan without the rule terms, 1 process"]
    print(
        f"default preset / without the rule terms, s/step: "
        f"{musegan['seconds_per_step'] / plain['seconds_per_step']:.2f}x"
    )
    print(
        f"2 DDP processes / 1 process: "
        f"{ddp['samples_per_second'] / completion['samples_per_second']:.2f}x"
    )


if __name__ == "__main__":
    main()
