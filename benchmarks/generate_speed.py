"""Benchmark: generation speed of the shipped chorale model (batched and one piece at a time,
with the default voice-leading decoding and with argmax decoding), the seed DCGAN
generator's time per sample in the same run, audio rendering speed and peak RSS.

    python benchmarks/generate_speed.py [--pieces 200]
"""

from __future__ import annotations

import argparse
import resource
import statistics

import torch
from common import call_seconds, print_header, print_row

from bachgan.generation.backend import LoadedModel
from bachgan.generation.compose import generate
from bachgan.generation.loading import load_model
from bachgan.io.audio import SAMPLE_RATE, render_audio
from bachgan.models import SeedGenerator

MODES = ("voice-leading", "argmax")


def per_call(function, repeats: int) -> float:
    """Mean seconds per call of ``function`` over ``repeats`` calls after a warm-up call."""
    return statistics.fmean(call_seconds(function, repeats))


def generation_times(model: LoadedModel, mode: str, pieces: int) -> tuple[float, float]:
    """Seconds per 4-bar piece, in a batch of ``pieces`` and one at a time."""
    batched = per_call(lambda: generate(pieces, 4, seed=1, model=model, sampling=mode), 3)
    single = per_call(lambda: generate(1, 4, seed=1, model=model, sampling=mode), 20)
    return batched / pieces, single


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=200)
    args = parser.parse_args()
    model = load_model()
    timings = {mode: generation_times(model, mode, args.pieces) for mode in MODES}
    seed_generator = SeedGenerator().eval()
    with torch.no_grad():
        seed_single = per_call(lambda: seed_generator(torch.randn(1, 100)), 3)
    (piece,) = generate(1, 16, seed=2, model=model)
    seconds_of_music = piece.n_steps / piece.resolution * 60 / piece.tempo_bpm
    render = per_call(lambda: render_audio(piece), 3)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print_header("measurement", "value")
    for mode, (batched, single) in timings.items():
        label = f"chorale model, {mode}, 4-bar piece"
        print_row(f"{label}, batched ({args.pieces})", f"{batched * 1000:.2f} ms")
        print_row(f"{label}, one at a time", f"{single * 1000:.2f} ms")
    single = timings["voice-leading"][1]
    print_row("seed DCGAN generator, one sample", f"{seed_single * 1000:.0f} ms")
    print_row("seed / chorale model (one at a time, voice-leading)", f"{seed_single / single:.0f}x")
    print_row(
        f"audio rendering, 16 bars ({seconds_of_music:.1f} s of music, {SAMPLE_RATE} Hz)",
        f"{seconds_of_music / render:.0f}x real time",
    )
    print_row("peak RSS", f"{rss:.0f} MiB")


if __name__ == "__main__":
    main()
