"""What the benchmarks share: timing, the Bach chorales they compare with, the model they
measure and the Markdown tables they print."""

from __future__ import annotations

import argparse
import functools
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bachgan.generation.backend import LoadedModel
from bachgan.generation.baselines import MuseGANBackend
from bachgan.generation.loading import load_model, pretrained_path
from bachgan.io.corpus import default_cache_dir, load_rolls, prepare
from bachgan.roll import Roll

T = TypeVar("T")


# --------------------------------------------------------------------------- timing
def timed(function: Callable[..., T], *args, **kwargs) -> tuple[T, float]:
    """What ``function(*args, **kwargs)`` returns, and the seconds it took."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def traced(function: Callable[..., T], *args, **kwargs) -> tuple[T, float, int]:
    """:func:`timed`, with the peak of the memory that tracemalloc traced meanwhile (bytes)."""
    tracemalloc.start()
    try:
        result, seconds = timed(function, *args, **kwargs)
        return result, seconds, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def call_seconds(function: Callable[[], object], repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``function``, after one untimed warm-up call."""
    function()
    return [timed(function)[1] for _ in range(repeats)]


# --------------------------------------------------------------------------- Bach's chorales
def add_data_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--data PATH``: a data set to use in place of the Bach chorales."""
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="a data set from `bachgan prepare` to use in place of the Bach chorales of every "
        "split this benchmark reads (default: the bundled chorales and the shipped split)",
    )


@functools.cache
def reference_path(split: str, data: str | None = None) -> Path:
    """The data set at ``data``, or else the Bach chorales of ``split`` (``"train"``,
    ``"heldout"`` or ``"all"``), as `bachgan prepare bach --split SPLIT` makes them.

    The chorales are prepared from music21's corpus once per run, into bachgan's cache folder;
    the conversions come from its cache, so only the first run on a machine converts files."""
    if data:
        return Path(data)
    out = default_cache_dir() / "benchmarks" / f"bach-{split}.npz"
    prepare(["bach"], out, progress=False, split=split)
    return out


def reference_rolls(split: str, data: str | None = None) -> tuple[list[Roll], list[str]]:
    """The pieces of :func:`reference_path` and their names."""
    return load_rolls(reference_path(split, data))


# --------------------------------------------------------------------------- models
def add_model_option(parser: argparse.ArgumentParser, kind: str | None = None) -> None:
    """Add ``--model PATH``, the checkpoint to measure (of ``kind``, ``"completion"`` or
    ``"musegan"``, where the benchmark needs one): by default the shipped model of that kind."""
    about = f"a {kind} checkpoint" if kind else "checkpoint"
    shipped = "the shipped baseline" if kind == "musegan" else "the shipped model"
    parser.add_argument("--model", metavar="PATH", help=f"{about} (default: {shipped})")


def load_completion(path: str | None) -> LoadedModel:
    """The completion model at ``path`` (default: the shipped model); exits with a one-line
    message for a model of another kind."""
    loaded = load_model(path)
    if not loaded.can("regions"):
        sys.exit(f"{loaded.source} is not a completion model")
    return loaded


def load_musegan(path: str | None) -> LoadedModel:
    """The musegan model at ``path`` (default: the unconditional baseline shipped with bachgan;
    the shipped completion model has no latent noise, decoding rules or rule weight to vary);
    exits with a one-line message for a model of another kind."""
    loaded = load_model(path or pretrained_path("musegan"))
    if not isinstance(loaded.backend, MuseGANBackend):
        sys.exit(f"{loaded.source} is a completion model; this benchmark measures a musegan one")
    return loaded


# --------------------------------------------------------------------------- tables
def print_row(*cells: object) -> None:
    """One row of a Markdown table, shown at once (long benchmarks print each row when it is
    ready)."""
    print("| " + " | ".join(str(cell) for cell in cells) + " |", flush=True)


def print_header(*columns: str) -> None:
    """A Markdown table's header row and the rule under it."""
    print_row(*columns)
    print("|" + "---|" * len(columns))
