"""The bytes of a score file, read and checked before any score is built from them.

A score file is untrusted input: a few kilobytes can ask for gigabytes (a zip bomb in an
.mxl, a note of a billion quarter notes, a quarter of a million bars). This module reads
MusicXML, compressed MusicXML (.mxl) and Humdrum files with bounded memory and counts what a
MusicXML document holds in one streaming pass, so that :mod:`bachgan.io.score_reader` refuses a
file by
its size before music21 allocates anything. The bytes are handed over in memory: music21 never
opens the file itself, so its pickle cache (shared by every user of the machine) is neither
read nor written.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

from ..errors import SkipFile
from ..limits import MAX_NOTES, MAX_SCORE_BYTES, MAX_SCORE_MEASURES, MAX_SCORE_QUARTERS

__all__ = ["ScoreData", "read_score_data"]

#: Score files by suffix: compressed MusicXML, MusicXML, Humdrum.
COMPRESSED_SUFFIXES = (".mxl",)
MUSICXML_SUFFIXES = (".musicxml", ".xml")
HUMDRUM_SUFFIXES = (".krn",)
_CONTAINER = "META-INF/container.xml"


@dataclass(frozen=True)
class ScoreData:
    """A score's text as music21 reads it: ``format`` is ``"musicxml"`` or ``"humdrum"``."""

    format: str
    data: bytes


def read_score_data(path: str | os.PathLike, max_measures: int | None = None) -> ScoreData:
    """The bytes of the score at ``path`` (an .mxl inflated), after checking that they are
    at most :data:`~bachgan.limits.MAX_SCORE_BYTES`, declare no XML entities, have positive
    divisions, no note or rest longer than :data:`~bachgan.limits.MAX_SCORE_QUARTERS`
    quarter notes, at most :data:`~bachgan.limits.MAX_NOTES` notes and at most
    ``max_measures`` measures in a part.

    Raises
    ------
    SkipFile
        With the reason, when the file cannot be used.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    data = _inflated(path) if suffix in COMPRESSED_SUFFIXES else _bounded_read(path)
    if suffix in HUMDRUM_SUFFIXES:
        return ScoreData("humdrum", data)
    _check_musicxml(data, max_measures)
    return ScoreData("musicxml", data)


def parse_musicxml(data: bytes) -> ElementTree.Element:
    """The root element of MusicXML ``data`` that :func:`read_score_data` has checked."""
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise SkipFile(f"not well-formed XML ({error})") from error


# --------------------------------------------------------------------------- reading
def _check_regular_file(path: Path) -> int:
    """The file's size; a missing file, a folder or a device is refused by what it is."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise SkipFile("no such file") from None
    except OSError as error:
        raise SkipFile(f"unreadable ({error.strerror or error})") from error
    if path.is_dir():
        raise SkipFile("a folder, not a file")
    if not path.is_file():
        raise SkipFile("not a regular file")
    return status.st_size


def _bounded_read(path: Path) -> bytes:
    size = _check_regular_file(path)
    if size > MAX_SCORE_BYTES:
        raise SkipFile(f"{_megabytes(size)} (scores up to {_megabytes(MAX_SCORE_BYTES)})")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SCORE_BYTES + 1)  # a file that grew meanwhile
    except OSError as error:
        raise SkipFile(f"unreadable ({error.strerror or error})") from error
    if len(data) > MAX_SCORE_BYTES:
        raise SkipFile(f"larger than {_megabytes(MAX_SCORE_BYTES)}")
    return data


def _inflated(path: Path) -> bytes:
    """The score inside an .mxl archive, inflated at most to :data:`MAX_SCORE_BYTES`."""
    size = _check_regular_file(path)
    if size > MAX_SCORE_BYTES:
        raise SkipFile(f"{_megabytes(size)} (scores up to {_megabytes(MAX_SCORE_BYTES)})")
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_member(archive, _score_member(archive))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as error:
        raise SkipFile(f"not a readable .mxl archive ({error})") from error
    except (OSError, RuntimeError, ValueError) as error:  # zlib errors, encrypted members
        raise SkipFile(f"not a readable .mxl archive ({error})") from error


def _score_member(archive: zipfile.ZipFile) -> str:
    """The archive member that holds the score: the container's root file, else the first
    MusicXML member, as notation programs write them."""
    names = archive.namelist()
    if _CONTAINER in names:
        root = _root_file(_read_member(archive, _CONTAINER))
        if root is not None and root in names:
            return root
    for name in names:
        if not name.startswith("META-INF") and Path(name).suffix.lower() in MUSICXML_SUFFIXES:
            return name
    raise SkipFile("an .mxl archive without a MusicXML score")


def _root_file(container: bytes) -> str | None:
    try:
        element = parse_musicxml(container)
    except SkipFile:
        return None
    for rootfile in element.iter():
        if rootfile.tag.rpartition("}")[2] == "rootfile" and rootfile.get("full-path"):
            return rootfile.get("full-path")
    return None


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A member's bytes, refused once it inflates beyond :data:`MAX_SCORE_BYTES` (the sizes
    an archive declares are not trusted)."""
    info = archive.getinfo(name)
    too_large = f"inflates to more than {_megabytes(MAX_SCORE_BYTES)} (a zip bomb?)"
    if info.file_size > MAX_SCORE_BYTES:
        raise SkipFile(too_large)
    with archive.open(info) as member:
        data = member.read(MAX_SCORE_BYTES + 1)
    if len(data) > MAX_SCORE_BYTES:
        raise SkipFile(too_large)
    return data


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


# --------------------------------------------------------------------------- checking
class _Census:
    """What a MusicXML document asks for, counted element by element while it streams."""

    def __init__(self) -> None:
        self.notes = 0
        self.measures_in_part = 0
        self.most_measures = 0
        self.divisions = 1.0
        self.text: list[str] | None = None  # characters of a <divisions> or <duration>

    def start(self, name: str, attributes: dict) -> None:
        if name == "part":
            self.measures_in_part = 0
        elif name == "measure":
            self.measures_in_part += 1
            self.most_measures = max(self.most_measures, self.measures_in_part)
        elif name == "note":
            self.notes += 1
            if self.notes > MAX_NOTES:
                raise SkipFile(f"more than {MAX_NOTES} notes")
        elif name in ("divisions", "duration"):
            self.text = []

    def characters(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, name: str) -> None:
        if name not in ("divisions", "duration") or self.text is None:
            return
        value = _number("".join(self.text), name)
        self.text = None
        if name == "divisions":
            if value <= 0:
                raise SkipFile(f"divisions of {value:g} per quarter note (must be above 0)")
            self.divisions = value
        elif value / self.divisions > MAX_SCORE_QUARTERS:
            quarters = value / self.divisions
            raise SkipFile(
                f"a note or rest of {quarters:.3g} quarter notes (at most {MAX_SCORE_QUARTERS})"
            )


def _number(text: str, name: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise SkipFile(f"<{name}> is not a number ({text.strip()[:20]!r})") from None
    if value != value or value < 0:  # NaN or negative
        raise SkipFile(f"<{name}> of {text.strip()[:20]} is not a length")
    return value


def _refuse_entities(*_: object) -> None:
    raise SkipFile("declares XML entities (a score does not need them)")


def _check_musicxml(data: bytes, max_measures: int | None) -> None:
    """Stream ``data`` once through expat, refusing entity declarations and what exceeds
    the caps; external DTDs are never fetched."""
    census = _Census()
    parser = expat.ParserCreate()
    parser.EntityDeclHandler = _refuse_entities
    parser.StartElementHandler = census.start
    parser.EndElementHandler = census.end
    parser.CharacterDataHandler = census.characters
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise SkipFile(f"not well-formed XML ({expat.ErrorString(error.code)})") from None
    limit = MAX_SCORE_MEASURES if max_measures is None else min(max_measures, MAX_SCORE_MEASURES)
    if census.most_measures > limit:
        raise SkipFile(f"{census.most_measures} measures in a part (at most {limit})")
