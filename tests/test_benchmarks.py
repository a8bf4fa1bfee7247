"""Every benchmark in benchmarks/ runs as its docstring says, on a tiny setting (a few pieces
of a few bars, sixteen chorales, a tiny model where it varies one), and prints its table."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tiny_config

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
#: Modules that the benchmarks import, not benchmarks themselves.
HELPERS = {"common.py", "seed_pipeline.py"}

#: Each benchmark's arguments for a tiny run (``{data}``: sixteen prepared chorales,
#: ``{musegan}``: a tiny musegan checkpoint, ``{sources}``: a folder of two chorale files,
#: ``{out}``: the test's folder), and a line's start that its output must hold.
TINY = {
    "app_speed.py": (
        "--data {data} --requests 2 --bars 4 --repeats 1",
        "| 4 bars of 4/4 | value |",
    ),
    "binarize_rules.py": (
        "--model {musegan} --data {data} --pieces 4 --costs 1",
        "| decoding | seconds | classifier |",
    ),
    "compose_speed.py": ("--repeats 1", "| task | median seconds |"),
    "generate_speed.py": ("--pieces 2", "| measurement | value |"),
    "giveaways.py": (
        "--data {data} --pieces 4 --fix in_key_ratio",
        "| metric | held-out Bach | model |",
    ),
    "harmonization.py": (
        "--model {musegan} --data {data} --melodies 1 --steps 2",
        "| rule weight | soprano fit |",
    ),
    "melody_keys.py": ("--data {data}", "| key finder | right | of | share |"),
    "meters.py": (
        "--data {data} --pieces 4 --judges fast --out {out}/meters.json",
        "| metric | Bach 4/4 | model 4/4 |",
    ),
    "modes.py": ("--pieces 1 --bars 4", "| asked key | mode honoured |"),
    "phrases.py": (
        "--pieces 1 --bars 4 --every 2 --bach --data {data}",
        "| 4/4 | Bach, other (",
    ),
    "prepare_speed.py": ("--files 2 --source {sources}", "| pipeline | files/s |"),
    "quality.py": (
        "--data {data} --pieces 4 --judges none --out {out}/quality.json --peer peer={sources}",
        "harmonized held-out sopranos | peer |",
    ),
    "ranges.py": ("--pieces 1 --bars 2", "| key | notes outside the ranges |"),
    "regenerate_share.py": ("--tries 1 --novelty 0", "| novelty | notes rewritten, mean |"),
    "revisions.py": (
        "--data {data} --pieces 4 --settings rounds=0",
        "| setting | s per 16 bars | tree judge |",
    ),
    "train_speed.py": (
        "--data {data} --steps 1 --seed-steps 0",
        "| configuration | s/step |",
    ),
    "voice_spread.py": (
        "--model {musegan} --data {data} --melodies 1 --steps 2 --samples 4",
        "| voice | distinct pitches |",
    ),
}


@pytest.fixture(scope="session")
def inputs(chorales, tmp_path_factory) -> dict[str, str]:
    """What the tiny runs read: the sixteen chorales, a tiny musegan model trained on them
    for one step, and a folder of two of the corpus's chorale files."""
    from bachgan.io.corpus import bach_chorale_paths
    from bachgan.training.train import train

    folder = tmp_path_factory.mktemp("benchmarks")
    musegan = train(tiny_config(chorales, folder / "musegan", steps=1), progress=False)
    sources = folder / "sources"
    sources.mkdir()
    for path in bach_chorale_paths()[:2]:
        shutil.copy(path, sources)
    return {"data": str(chorales), "musegan": str(musegan), "sources": str(sources)}


def test_every_benchmark_has_a_tiny_run():
    scripts = {path.name for path in BENCHMARKS.glob("*.py")} - HELPERS
    assert scripts == set(TINY)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(TINY))
def test_benchmark_runs_on_a_tiny_setting(script, inputs, tmp_path):
    arguments, expected = TINY[script]
    places = {**inputs, "out": str(tmp_path)}
    command = [sys.executable, str(BENCHMARKS / script)]
    command += [argument.format(**places) for argument in arguments.split()]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert expected in result.stdout, result.stdout[-4000:]
