"""What the browser app does, without the browser: compose, harmonize or regenerate part of a
piece, write its MIDI, MusicXML, WAV, piano roll and score, and describe it with metrics
beside Bach's. No web code here, so it is
tested directly; :mod:`bachgan.app` puts a Gradio page in front of it.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import BachganError, SkipFile
from .evaluation.evaluate import as_windows, whole_pieces
from .evaluation.harmony_profile import harmony_profile
from .evaluation.metrics import FEATURES, piece_features
from .evaluation.originality import BarIndex
from .generation.backend import LoadedModel
from .generation.compose import generate
from .generation.harmonize import harmonize_with_fit
from .generation.loading import compute_threads, load_model, pretrained_path
from .generation.regenerate import regenerate
from .generation.requests import parse_phrases
from .io.corpus import load_music
from .io.melodies import EXAMPLE_MELODIES, example_melody
from .io.midi import read_midi
from .io.outputs import write_outputs
from .io.pictures import NARROW, plot_roll
from .io.user_music import read_user_music
from .limits import APP_LIMITS, AppLimits, check_tempo, clamp_tempo
from .roll import Roll

__all__ = ["Piece", "Studio"]


#: The metrics shown for a piece, with the words a musician would use.
SHOWN_METRICS = {
    "complete sonorities (share of eighths)": "eighths that sound a full triad or seventh chord",
    "dissonant sonorities on beats 1 and 3": "dissonant chords on beats 1 and 3",
    "in_key_ratio": "notes in the key",
    "pitch_classes_per_bar": "pitch classes per bar",
    "polyphony": "voices sounding at once",
    "onsets_per_beat": "notes started per beat",
    "parallel_per_bar": "parallel fifths/octaves per bar",
    "voice_crossing_rate": "voice crossings (share of steps)",
    "large_leap_rate": "leaps over an octave (share of intervals)",
    # What a musician hears first, where the model is further from Bach than in its chords:
    "repeated notes, voice 2": "alto notes that strike the note before again",
    "repeated notes, voice 3": "tenor notes that strike the note before again",
    "bass moves by step": "bass moves by step (share of its moves)",
    "sixteenth notes": "sixteenth notes (share of notes)",
    "eighth notes": "eighth notes (share of notes)",
    "quarter notes": "quarter notes (share of notes)",
}


@dataclass(frozen=True)
class Piece:
    """A finished piece: its roll, files (MIDI, MusicXML, WAV, piano roll, and the score as
    SVG pages, the picture and the score laid out for a laptop's width and, ``narrow_*``,
    for a phone's), rows of (metric, this piece, Bach's chorales), the seed it was made with
    and a note for the listener (empty, or what was changed about the request)."""

    roll: Roll
    midi: Path
    musicxml: Path
    wav: Path
    picture: Path
    score: list[Path]
    facts: list[tuple[str, str, str]]
    seed: int
    note: str = ""
    narrow_score: list[Path] = field(default_factory=list)
    narrow_picture: Path | None = None


@dataclass(frozen=True)
class _Reference:
    """What a piece is compared with: mean metrics of Bach's 4-bar windows, and his bars."""

    means: dict[str, float]
    bars: BarIndex


def _action(method: Callable) -> Callable:
    """A studio action: the disk tidied first, then the model work on
    ``limits.threads_per_request`` cores of the thread that serves it."""

    @functools.wraps(method)
    def run(self: Studio, *args, **kwargs):
        self.tidy()
        with compute_threads(self.limits.threads_per_request):
            return method(self, *args, **kwargs)

    return run


class Studio:
    """Composes and harmonizes with one loaded model, writing each piece into its own folder
    under ``workdir``. ``reference`` gives the music that pieces are compared with (default:
    the Bach chorales of the training split); it is loaded once, on first use."""

    def __init__(
        self,
        model: LoadedModel | str | os.PathLike | None = None,
        reference: Callable[[], list[Roll]] | None = None,
        workdir: str | os.PathLike | None = None,
        limits: AppLimits = APP_LIMITS,
    ) -> None:
        self.model = model if isinstance(model, LoadedModel) else load_model(model)
        self.limits = limits
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="bachgan-app-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._load_reference = reference or (lambda: load_music("bach", split="train"))
        self._reference: _Reference | None = None
        self._lock = threading.Lock()
        self._count = 0

    def close(self) -> None:
        """Delete every piece and upload of this studio (its whole ``workdir``)."""
        shutil.rmtree(self.workdir, ignore_errors=True)

    @_action
    def compose(
        self,
        seed: int | None = None,
        bars: int = 8,
        tempo_bpm: float = 80.0,
        candidates: int = 1,
        key: str | None = None,
        phrases: str = "",
        meter: str = "4/4",
    ) -> Piece:
        """A new piece (in ``key``, e.g. ``"D major"``; C major or A minor without it; with
        phrases closing where ``phrases`` says,
        :func:`~bachgan.generation.regenerate.parse_phrases`; in
        ``meter``, one the model knows); the same settings give the same piece, and without a
        ``seed`` a new one is drawn."""
        seed = _new_seed() if seed is None else int(seed)
        bars, candidates = int(bars), int(candidates)
        if not 1 <= bars <= self.limits.max_bars:
            raise BachganError(f"choose between 1 and {self.limits.max_bars} bars")
        if not 1 <= candidates <= self.limits.max_candidates:
            raise BachganError(f"choose between 1 and {self.limits.max_candidates} candidates")
        check_tempo(tempo_bpm, self.limits.tempo_range)
        (roll,) = generate(
            1,
            bars,
            seed,
            self.model,
            tempo_bpm=tempo_bpm,
            candidates=candidates,
            key=key,
            phrases=parse_phrases(phrases, bars),
            meter=meter,
        )
        return self._finish(roll, f"chorale_{seed}", seed)

    @property
    def meters(self) -> list[str]:
        """The time signatures the model composes in, 4/4 first."""
        return [f"{beats}/4" for beats in sorted(self.model.meters, reverse=True)]

    @_action
    def harmonize(
        self,
        melody_file: str | os.PathLike | None = None,
        example: str | None = None,
        seed: int = 0,
        progress: Callable[[float], None] | None = None,
        voice: str = "soprano",
        pickup_beats: float = 0,
        phrases: str = "",
    ) -> Piece:
        """Three voices around an uploaded one-voice MIDI or MusicXML file, or around one of
        the bundled :data:`~bachgan.io.melodies.EXAMPLE_MELODIES` when no file is given, which is
        the ``voice`` (soprano or bass), starts ``pickup_beats`` before its first downbeat and
        ends phrases where ``phrases`` says (without it, where a score's fermatas stand)."""
        if melody_file:
            melody, name = self._read_upload(Path(melody_file)), Path(melody_file).stem
        elif example in EXAMPLE_MELODIES:
            melody, name = example_melody(example), "example"
        else:
            raise BachganError("upload a MIDI file with a melody, or pick an example")
        if melody.n_bars > self.limits.max_melody_bars:
            raise BachganError(
                f"the melody has {melody.n_bars} bars; at most "
                f"{self.limits.max_melody_bars} can be harmonized here"
            )
        # An odd tempo marking must not make huge audio.
        melody = replace(melody, tempo_bpm=clamp_tempo(melody.tempo_bpm, self.limits.tempo_range))
        result = harmonize_with_fit(
            melody,
            self.model,
            int(seed),
            progress=progress,
            voice=voice,
            pickup_beats=float(pickup_beats or 0),
            phrases=parse_phrases(phrases, melody.n_bars) if phrases else None,
        )
        note = result.moved_note(voice)
        return self._finish(result.roll, f"{name}_harmonized_{int(seed)}", int(seed), note)

    @_action
    def regenerate(
        self,
        piece_midi: str | os.PathLike,
        bars: tuple[int, int],
        voices: list[str] | None = None,
        seed: int | None = None,
    ) -> Piece:
        """A piece written by this studio (its MIDI file) with ``bars`` of ``voices``
        rewritten (:func:`bachgan.generation.regenerate.regenerate`); everything else stays."""
        path = Path(piece_midi)
        if not path.is_file() or self.workdir.resolve() not in path.resolve().parents:
            raise BachganError("compose or harmonize a piece first")
        seed = _new_seed() if seed is None else int(seed)
        if voices is not None and not voices:
            raise BachganError("tick at least one voice to regenerate")
        roll = regenerate(read_midi(path), bars, voices, seed, self.model)
        name = path.stem.split("_regenerated")[0]
        return self._finish(roll, f"{name}_regenerated_{seed}", seed)

    def _read_upload(self, path: Path) -> Roll:
        size = path.stat().st_size
        if size > self.limits.max_upload_bytes:
            raise BachganError(
                f"the file is {size / 1e6:.1f} MB; melodies up to "
                f"{self.limits.max_upload_bytes / 1e6:g} MB are accepted"
            )
        try:
            conversion = read_user_music(path, max_bars=self.limits.max_melody_bars)
        except SkipFile as skip:
            raise BachganError(f"this file cannot be used as a melody: {skip}") from skip
        losses = conversion.losses()
        if losses:
            said = "; ".join(f"{count} {words}" for words, count in losses.items())
            raise BachganError(f"this melody would not be harmonized whole: {said}")
        return conversion.roll

    def _finish(self, roll: Roll, name: str, seed: int, note: str = "") -> Piece:
        folder = self._new_folder()
        midi, musicxml, picture, wav = write_outputs(roll, folder, name)
        score = engrave(musicxml, folder / name)
        narrow = engrave(musicxml, folder / f"{name}.narrow", _NARROW_PAGE_WIDTH)
        narrow_picture = plot_roll(roll, folder / f"{name}.narrow.png", layout=NARROW)
        self.tidy(keep=folder)
        facts = self.facts(roll)
        return Piece(
            roll, midi, musicxml, wav, picture, score, facts, seed, note, narrow, narrow_picture
        )

    def _new_folder(self) -> Path:
        with self._lock:
            self._count += 1
            folder = self.workdir / "pieces" / f"{self._count:06d}"
        folder.mkdir(parents=True)
        return folder

    def tidy(self, keep: Path | None = None) -> None:
        """Delete the oldest folders of pieces and uploads in ``workdir`` (the app keeps
        Gradio's files there too) until they fit the disk budget, and any older than the
        age limit; ``keep`` (the piece just made) stays."""
        folders = _folders_by_age(self.workdir)
        now = time.time()
        total = sum(size for _, _, size in folders)
        for folder, modified, size in folders:
            if folder == keep:
                continue
            too_old = now - modified > self.limits.max_age_seconds
            if too_old or total > self.limits.disk_budget_bytes:
                shutil.rmtree(folder, ignore_errors=True)
                total -= size

    def facts(self, roll: Roll) -> list[tuple[str, str, str]]:
        """Rows of (metric, this piece, mean of Bach's chorales), originality last."""
        reference = self.reference()
        values = {
            **dict(zip(FEATURES, piece_features(roll), strict=True)),
            **harmony_profile([roll]),
        }
        rows = [
            (label, _number(values.get(name)), _number(reference.means.get(name)))
            for name, label in SHOWN_METRICS.items()
        ]
        originality = reference.bars.check(roll)
        rows.append(("bars found in Bach's chorales", f"{originality.copied_bar_fraction:.3f}", ""))
        rows.append(("longest run of copied bars", str(originality.longest_copied_run), ""))
        return rows

    def reference(self) -> _Reference:
        """Bach's numbers, computed once."""
        with self._lock:
            if self._reference is None:
                music = self._load_reference()
                windows = as_windows(music, 4)
                if not windows:
                    raise BachganError("the reference music has no 4-bar windows in 4/4")
                features = np.array([piece_features(w) for w in windows]).mean(axis=0)
                means = {
                    **dict(zip(FEATURES, features.tolist(), strict=True)),
                    **harmony_profile(windows),
                }
                self._reference = _Reference(means, BarIndex(whole_pieces(music)))
            return self._reference

    def warm_up(self) -> None:
        """Load Bach's numbers, then compose and write a one-bar piece and forget it, so that
        the first visitor does not wait for the libraries to load and the first calls to
        run (about a second)."""
        self.reference()
        piece = self.compose(seed=0, bars=1)
        shutil.rmtree(piece.midi.parent, ignore_errors=True)

    def model_summary(self) -> str:
        """Markdown: which model is loaded, how it was trained, and its model card summary."""
        source = Path(self.model.source)
        trained = self.model.train_config
        config = self.model.config
        parameters = sum(p.numel() for p in self.model.generator.parameters())
        minutes = self.model.elapsed_seconds / 60
        lines = [
            f"**Model file:** `{source}`",
            f"**Trained:** {self.model.step} generator steps in {minutes:.1f} minutes "
            f"on `{Path(trained.get('data', '?')).name}`",
            f"**Generator:** {parameters:,} parameters; {config.n_voices} voices, "
            f"{config.bars}-bar training windows; {self.model.backend.describe(self.model)}; in "
            f"{' and '.join(self.meters)}",
        ]
        card = source.with_suffix(".md")
        if source.resolve() == pretrained_path().resolve() and card.exists():
            lines.append(card.read_text(encoding="utf-8"))
        return "\n\n".join(lines)


def _number(value: float | None) -> str:
    """A metric as the table shows it; a dash where a piece is too short to have it (a voice
    that never moves has no repeated notes)."""
    return "-" if value is None else f"{value:.3f}"


def engrave(musicxml: Path, stem: Path, page_width: int | None = None) -> list[Path]:
    """The score of ``musicxml`` as SVG pages ``stem.1.svg``, ``stem.2.svg``... (verovio,
    part of the app extra), on pages ``page_width`` wide (default: a laptop screen's)."""
    import verovio

    toolkit = verovio.toolkit(False)
    # Its fonts are found once per thread unless told where they are; requests run in threads.
    toolkit.setResourcePath(str(Path(verovio.__file__).parent / "data"))
    toolkit.setOptions({**_ENGRAVING, **({"pageWidth": page_width} if page_width else {})})
    if not toolkit.loadData(musicxml.read_text(encoding="utf-8")):
        raise ValueError(f"verovio could not read {musicxml}")
    pages = []
    for page in range(1, toolkit.getPageCount() + 1):
        path = stem.with_name(f"{stem.name}.{page}.svg")
        path.write_text(toolkit.renderToSVG(page), encoding="utf-8")
        pages.append(path)
    return pages


#: A page as wide as a phone held upright: two bars of 4/4 to a system at the same size.
_NARROW_PAGE_WIDTH = 1000
#: A page as wide as a laptop screen at a size a singer reads; no header or footer.
_ENGRAVING = {
    "pageWidth": 2100,
    "scale": 35,
    "adjustPageHeight": True,
    "header": "none",
    "footer": "none",
}


def _new_seed() -> int:
    return secrets.randbelow(2**31)


def _folders_by_age(root: Path) -> list[tuple[Path, float, int]]:
    """The folders that hold one piece or one upload under ``root`` (``pieces/NNNNNN`` and
    Gradio's ``HASH`` folders), oldest first, with their time and size in bytes."""
    candidates = [p for p in root.glob("pieces/*") if p.is_dir()]
    candidates += [p for p in root.iterdir() if p.is_dir() and p.name != "pieces"]
    folders = []
    for folder in candidates:
        try:
            files = [f.stat() for f in folder.rglob("*") if f.is_file()]
            modified = max([folder.stat().st_mtime, *(f.st_mtime for f in files)])
        except FileNotFoundError:  # removed meanwhile by another request's tidy
            continue
        folders.append((folder, modified, sum(f.st_size for f in files)))
    return sorted(folders, key=lambda entry: entry[1])
