"""Turn sources of music into a data set of rolls, with a cache and an honest skip report.

Sources are the Bach chorales bundled with music21 (``"bach"``), folders searched recursively,
and single files. MIDI files are read with symusic, MusicXML with music21. Files are converted
in worker processes, so that a parser crash costs one file and not the run; every file is
either used or reported with the reason it was skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from collections import Counter
from concurrent.futures import Future, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import BachganError, SkipFile
from ..roll import DEFAULT_PITCH_RANGE, LOSSES, Conversion, Roll
from ..workers import worker_pool
from .files import atomic_write, write_json
from .midi import read_midi_conversion
from .score_reader import SCORE_SUFFIXES, read_score_conversion

__all__ = [
    "BACH",
    "PrepareReport",
    "Settings",
    "bach_chorale_paths",
    "convert_file",
    "find_files",
    "load_music",
    "load_named_music",
    "load_rolls",
    "prepare",
    "save_rolls",
]

#: The name of the built-in source: the Bach works bundled with music21.
BACH = "bach"
MIDI_SUFFIXES = (".mid", ".midi")
_CONVERTER_VERSION = 4


@dataclass(frozen=True)
class Settings:
    """How files become rolls; part of every cache key."""

    resolution: int = 4
    pitch_range: tuple[int, int] = DEFAULT_PITCH_RANGE
    voices: int = 4

    def cache_key(self) -> str:
        return json.dumps({**asdict(self), "version": _CONVERTER_VERSION}, sort_keys=True)


@dataclass
class PrepareReport:
    """What ``prepare`` did: which files it kept and why it skipped the others."""

    kept: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes_out_of_range: int = 0
    drum_notes: int = 0
    notes_merged: int = 0
    notes_unended: int = 0
    cached: int = 0
    meters: Counter = field(default_factory=Counter)
    pieces_with_chords: int = 0

    def count_piece(self, roll: Roll) -> None:
        """Note what a kept piece offers a model: its meter, and whether a voice sings chords."""
        self.meters["{}/{}".format(*roll.time_signature)] += 1
        self.pieces_with_chords += bool((roll.sounding.sum(axis=2) > 1).any())

    def reason_counts(self) -> Counter:
        """Skip reasons, their detail after a colon left out, with how often each occurred."""
        return Counter(reason.split(":")[0] for _, reason in self.skipped)

    def summary(self) -> str:
        """A small table for the terminal."""
        lines = [f"kept {len(self.kept)} files, skipped {len(self.skipped)}"]
        if self.cached:
            lines[0] += f" ({self.cached} from cache)"
        lines += [f"  {count:5d}  {reason}" for reason, count in self.reason_counts().most_common()]
        lines += [
            f"  {words}: {getattr(self, loss)}"
            for loss, words in LOSSES.items()
            if getattr(self, loss)
        ]
        return "\n".join(lines + self._what_a_model_learns())

    def _what_a_model_learns(self) -> list[str]:
        if not self.meters:
            return []
        meters = ", ".join(f"{meter}: {count}" for meter, count in self.meters.most_common())
        lines = [
            f"meters of the kept pieces: {meters} (train learns 4/4 and 3/4 unless --meters says "
            "otherwise, 2/4 among them; pieces in other meters are left out)"
        ]
        if self.pieces_with_chords:
            lines.append(
                f"pieces in which a voice sounds two notes at once: {self.pieces_with_chords} "
                "(a chorale model sings one note per voice: the highest is learned)"
            )
        return lines

    def to_json(self) -> dict:
        return {
            "kept": len(self.kept),
            "skipped_count": len(self.skipped),
            "reasons": dict(self.reason_counts()),
            **{loss: getattr(self, loss) for loss in LOSSES},
            "meters": dict(self.meters),
            "pieces_with_chords": self.pieces_with_chords,
            "skipped": [{"file": name, "reason": reason} for name, reason in self.skipped],
        }


# --------------------------------------------------------------------------- finding files
def bach_chorale_paths() -> list[Path]:
    """Every Bach score bundled with music21 (about 430 files; four-part chorales are kept
    by the converter, the rest are skipped with their reason)."""
    from music21 import corpus

    return sorted(Path(p) for p in corpus.getComposer("bach"))


def find_files(sources: list[str]) -> list[Path]:
    """Expand sources (``"bach"``, folders, files) into a sorted list of candidate files.

    Hidden files are ignored. Raises :class:`BachganError` for a missing path or a source
    that holds no MIDI or score file at all.
    """
    found: list[Path] = []
    for source in sources or [BACH]:
        if source == BACH:
            found += bach_chorale_paths()
            continue
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if _is_candidate(p, path))
            if not any(p.suffix.lower() in MIDI_SUFFIXES + SCORE_SUFFIXES for p in files):
                raise BachganError(f"no MIDI or MusicXML files in folder {path}")
            found += files
        elif path.exists() or path.is_symlink():
            found.append(path)
        else:
            raise BachganError(f"no such file or folder: {source}")
    return found


def _is_candidate(path: Path, root: Path) -> bool:
    """Visible files, plus folders named like MIDI files (reported, never silently dropped)."""
    relative = path.relative_to(root).parts
    if any(part.startswith(".") for part in relative):
        return False
    return not path.is_dir() or path.suffix.lower() in MIDI_SUFFIXES


# --------------------------------------------------------------------------- converting
def convert_file(path: Path, settings: Settings) -> Conversion:
    """Convert one file by its suffix; raises :class:`SkipFile` with the reason."""
    suffix = path.suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return read_midi_conversion(
            path, settings.resolution, settings.pitch_range, settings.voices
        )
    if suffix in SCORE_SUFFIXES:
        return read_score_conversion(
            path, settings.resolution, settings.pitch_range, settings.voices
        )
    raise SkipFile(f"not a MIDI or MusicXML file ({suffix or 'no suffix'})")


def _convert_for_pool(path: Path, settings: Settings) -> Conversion | str:
    """Worker entry: a conversion, or the skip reason as a string."""
    try:
        return convert_file(path, settings)
    except SkipFile as skip:
        return str(skip)
    except MemoryError:
        return "too large to convert"


def prepare(
    sources: list[str],
    out: str | os.PathLike,
    settings: Settings | None = None,
    workers: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    split: str = "all",
) -> PrepareReport:
    """Convert ``sources`` into a data set at ``out`` (.npz) plus ``<out>.skipped.json``.

    Conversions are cached in ``cache_dir`` (default ``$BACHGAN_CACHE`` or
    ``~/.cache/bachgan``) under a hash of the file's bytes and the settings. ``split`` keeps
    ``"all"`` files, or only the ``"train"`` or ``"heldout"`` side of the shipped Bach split
    (files outside the Bach corpus count as training files).
    """
    settings = settings or Settings()
    out = Path(out)
    files = _select_split(find_files(sources), split)
    cache = _Cache(Path(cache_dir) if cache_dir else default_cache_dir(), settings)
    report = PrepareReport()
    rolls: dict[Path, Roll] = {}
    results = _convert_all(files, settings, cache, workers, progress, report)
    seen: dict[str, Path] = {}
    for path in files:
        result, digest = results[path]
        if isinstance(result, str):
            report.skipped.append((_label(path), result))
        elif digest in seen:
            report.skipped.append((_label(path), f"duplicate of {_label(seen[digest])}"))
        else:
            seen[digest] = path
            rolls[path] = result.roll
            report.kept.append(_label(path))
            report.count_piece(result.roll)
            for loss in LOSSES:
                setattr(report, loss, getattr(report, loss) + getattr(result, loss))
    if not rolls:
        raise BachganError(f"no usable music among {len(files)} files:\n{report.summary()}")
    save_rolls(list(rolls.values()), out, names=[_label(p) for p in rolls])
    write_json(report.to_json(), skip_report_path(out))
    return report


def _select_split(files: list[Path], split: str) -> list[Path]:
    if split == "all":
        return files
    if split not in ("train", "heldout"):
        raise BachganError(f"unknown split {split!r}; choose all, train or heldout")
    from .split import heldout_names, name_key

    heldout = heldout_names()
    if split == "heldout":
        return [p for p in files if _label(p) in heldout]
    # Other versions of a held-out piece (such as a Humdrum copy) stay out of training too.
    related = {name_key(name) for name in heldout}
    return [p for p in files if _label(p) not in heldout and name_key(_label(p)) not in related]


def skip_report_path(out: Path) -> Path:
    """Where ``prepare`` writes the skip report for data set ``out``."""
    return out.with_name(out.stem + ".skipped.json")


def default_cache_dir() -> Path:
    return Path(os.environ.get("BACHGAN_CACHE", Path.home() / ".cache" / "bachgan"))


def _label(path: Path) -> str:
    """A file's name in reports: corpus files by their corpus name, others as given."""
    parts = path.parts
    if "corpus" in parts and "music21" in parts:
        return "music21:" + "/".join(parts[parts.index("corpus") + 1 :])
    return str(path)


def _convert_all(
    files: list[Path],
    settings: Settings,
    cache: _Cache,
    workers: int | None,
    progress: bool,
    report: PrepareReport,
) -> dict[Path, tuple[Conversion | str, str]]:
    results: dict[Path, tuple[Conversion | str, str]] = {}
    pending: dict[Path, str] = {}
    for path in files:
        digest = _digest(path)
        cached = cache.get(digest) if digest else None
        if digest is None:
            results[path] = ("unreadable (permission denied or not a regular file)", "")
        elif cached is not None:
            results[path] = (cached, digest)
            report.cached += 1
        else:
            pending[path] = digest
    with tqdm(
        total=len(files), initial=len(results), desc="converting", unit="file", disable=not progress
    ) as bar:
        for path, result in _run_pool(list(pending), settings, workers):
            digest = pending[path]
            cache.put(digest, result)
            results[path] = (result, digest)
            bar.update()
    return results


def _run_pool(files: list[Path], settings: Settings, workers: int | None):
    """Yield ``(path, result)``; if a worker dies, retry the rest one file per process."""
    if not files:
        return
    workers = max(1, min(workers or os.cpu_count() or 1, len(files)))
    done: set[Path] = set()
    try:
        with worker_pool(workers) as pool:
            futures: dict[Future, Path] = {
                pool.submit(_convert_for_pool, p, settings): p for p in files
            }
            for future in as_completed(futures):
                path = futures[future]
                result = future.result()
                done.add(path)
                yield path, result
    except BrokenProcessPool:
        for path in files:
            if path not in done:
                yield path, _convert_isolated(path, settings)


def _convert_isolated(path: Path, settings: Settings) -> Conversion | str:
    try:
        with worker_pool(1) as pool:
            return pool.submit(_convert_for_pool, path, settings).result()
    except BrokenProcessPool:
        return "the MIDI parser crashed on it"


def _digest(path: Path) -> str | None:
    try:
        if not path.is_file():
            return "not-a-file:" + str(path)
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


class _Cache:
    """Conversions on disk, keyed by file content and settings; skip reasons too."""

    def __init__(self, folder: Path, settings: Settings) -> None:
        self.folder = folder
        self.settings_key = hashlib.sha256(settings.cache_key().encode()).hexdigest()[:16]

    def _path(self, digest: str, suffix: str) -> Path:
        key = hashlib.sha256((digest + self.settings_key).encode()).hexdigest()
        return self.folder / key[:2] / f"{key}{suffix}"

    def get(self, digest: str) -> Conversion | str | None:
        skip = self._path(digest, ".skip.txt")
        data = self._path(digest, ".npz")
        try:
            if skip.exists():
                return skip.read_text()
            if data.exists():
                rolls, _, extra = _read_rolls(data, tuple(LOSSES))
                return Conversion(rolls[0], **{k: int(v) for k, v in extra.items()})
        except (OSError, ValueError, BachganError):
            return None  # a damaged entry is a miss, rewritten by put()
        return None

    def put(self, digest: str, result: Conversion | str) -> None:
        try:
            if isinstance(result, str):
                with atomic_write(self._path(digest, ".skip.txt")) as temporary:
                    temporary.write_text(result)
            else:
                extra = {loss: getattr(result, loss) for loss in LOSSES}
                save_rolls([result.roll], self._path(digest, ".npz"), extra=extra)
        except (OSError, BachganError):
            pass  # a cache that cannot be written only costs time


# --------------------------------------------------------------------------- data set files
def save_rolls(
    rolls: list[Roll],
    path: str | os.PathLike,
    names: list[str] | None = None,
    extra: dict[str, object] | None = None,
) -> Path:
    """Store rolls with one pitch range, resolution and track count in one compressed .npz.

    The pieces are concatenated along time and bit-packed; per-piece metadata sits in arrays
    beside them.
    """
    first = rolls[0]
    for roll in rolls:
        if (roll.n_tracks, roll.n_pitches, roll.lowest_pitch, roll.resolution) != (
            first.n_tracks,
            first.n_pitches,
            first.lowest_pitch,
            first.resolution,
        ):
            raise ValueError("all rolls of a data set need the same tracks, pitches and grid")
    arrays = {
        "format": np.array("bachgan-rolls-1"),
        "sounding": np.packbits(np.concatenate([r.sounding for r in rolls], axis=1), axis=2),
        "onsets": np.packbits(np.concatenate([r.onsets for r in rolls], axis=1), axis=2),
        "n_pitches": np.array(first.n_pitches),
        "lowest_pitch": np.array(first.lowest_pitch),
        "resolution": np.array(first.resolution),
        "piece_steps": np.array([r.n_steps for r in rolls], dtype=np.int64),
        "time_signatures": np.array([r.time_signature for r in rolls], dtype=np.int64),
        "tempos": np.array([r.tempo_bpm for r in rolls], dtype=np.float64),
        "key_fifths": np.array([_or(r.key_fifths, 99) for r in rolls], dtype=np.int64),
        "key_modes": np.array([r.key_mode or "" for r in rolls]),
        "track_names": np.array([list(r.track_names) for r in rolls]),
        "programs": np.array([list(r.programs) for r in rolls], dtype=np.int64),
        "names": np.array(names or [""] * len(rolls)),
        "fermatas": _fermatas_along_time(rolls),
        **{key: np.array(value) for key, value in (extra or {}).items()},
    }
    with atomic_write(path) as temporary:
        np.savez_compressed(temporary, **arrays)
    return Path(path)


def load_rolls(path: str | os.PathLike) -> tuple[list[Roll], list[str]]:
    """Read a data set written by :func:`save_rolls`: the rolls and their source names.

    Raises :class:`BachganError` for a missing file or one that is not such a data set.
    """
    rolls, names, _ = _read_rolls(Path(path))
    return rolls, names


def _read_rolls(
    path: Path, extra: tuple[str, ...] = ()
) -> tuple[list[Roll], list[str], dict[str, np.ndarray]]:
    """:func:`load_rolls`, also returning the ``extra`` arrays stored beside the rolls."""
    if not path.is_file():
        raise BachganError(f"no data set at {path} (make one with `bachgan prepare`)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != "bachgan-rolls-1":
                raise BachganError(f"{path} is not a bachgan data set")
            rolls, names = _unpack(data)
            return rolls, names, {key: data[key] for key in extra}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        reason = str(error) or type(error).__name__
        raise BachganError(f"{path} is not a readable bachgan data set ({reason})") from error


def _unpack(data) -> tuple[list[Roll], list[str]]:
    n_pitches = int(data["n_pitches"])
    sounding = np.unpackbits(data["sounding"], axis=2, count=n_pitches).astype(bool)
    onsets = np.unpackbits(data["onsets"], axis=2, count=n_pitches).astype(bool)
    bounds = np.concatenate([[0], np.cumsum(data["piece_steps"])])
    # Fermatas as steps along the concatenated time axis (absent in older files).
    fermatas = data["fermatas"] if "fermatas" in data.files else np.zeros(0, dtype=np.int64)
    rolls = []
    for i in range(len(data["piece_steps"])):
        fifths = int(data["key_fifths"][i])
        mine = fermatas[(fermatas >= bounds[i]) & (fermatas < bounds[i + 1])] - bounds[i]
        rolls.append(
            Roll(
                sounding[:, bounds[i] : bounds[i + 1]],
                onsets[:, bounds[i] : bounds[i + 1]],
                lowest_pitch=int(data["lowest_pitch"]),
                resolution=int(data["resolution"]),
                time_signature=tuple(int(x) for x in data["time_signatures"][i]),
                tempo_bpm=float(data["tempos"][i]),
                track_names=tuple(str(x) for x in data["track_names"][i]),
                programs=tuple(int(x) for x in data["programs"][i]),
                key_fifths=None if fifths == 99 else fifths,
                key_mode=str(data["key_modes"][i]) or None,
                fermatas=tuple(int(step) for step in mine),
            )
        )
    return rolls, [str(x) for x in data["names"]]


def _fermatas_along_time(rolls: list[Roll]) -> np.ndarray:
    """Every roll's fermata steps, counted along the rolls laid end to end."""
    steps, offset = [], 0
    for roll in rolls:
        steps.extend(offset + step for step in roll.fermatas)
        offset += roll.n_steps
    return np.array(steps, dtype=np.int64)


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def load_music(source: str, split: str = "all") -> list[Roll]:
    """Rolls from ``"bach"`` (with ``split``), a data set ``.npz``, a folder or a MIDI file."""
    return load_named_music(source, split)[0]


def load_named_music(source: str, split: str = "all") -> tuple[list[Roll], list[str]]:
    """:func:`load_music` with each piece's name (for the Bach corpus, ``music21:...``)."""
    if source.endswith(".npz"):
        return load_rolls(source)
    if source != BACH:
        find_files([source])  # a clear error for a missing path or an empty folder
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "music.npz"
        prepare([source], out, progress=False, split=split if source == BACH else "all")
        return load_rolls(out)
