"""The ``bachgan`` command: one subcommand per job, each a thin layer over the Python API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import BachganError

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for a user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        args.run(args)
    except BachganError as error:
        print(f"bachgan: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bachgan: interrupted", file=sys.stderr)
        return 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bachgan",
        description="Learn music from MIDI with GANs and write original four-voice pieces.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_prepare(commands)
    _add_midi2image(commands)
    _add_image2midi(commands)
    return parser


# --------------------------------------------------------------------------- prepare
def _add_prepare(commands) -> None:
    command = commands.add_parser(
        "prepare",
        help="turn MIDI/MusicXML files or the bundled Bach chorales into a training data set",
        description=(
            "Convert music into a data set of bar-aligned piano-rolls (.npz). SOURCE is 'bach' "
            "(the Bach chorales bundled with music21, the default), a folder (searched "
            "recursively) or a file. Every file is used or reported as skipped with its reason; "
            "the report is written beside the output as NAME.skipped.json."
        ),
    )
    command.add_argument("sources", nargs="*", metavar="SOURCE", default=["bach"])
    command.add_argument("--out", type=Path, default=Path("data.npz"), help="output .npz")
    command.add_argument("--resolution", type=int, default=4, help="steps per quarter note")
    command.add_argument("--voices", type=int, default=4, help="tracks per piece")
    command.add_argument("--workers", type=int, default=None, help="worker processes")
    command.add_argument("--no-cache", action="store_true", help="convert every file again")
    command.set_defaults(run=_run_prepare)


def _run_prepare(args: argparse.Namespace) -> None:
    import tempfile

    from .corpus import Settings, prepare, skip_report_path

    settings = Settings(resolution=args.resolution, voices=args.voices)
    with tempfile.TemporaryDirectory() as scratch:
        cache = scratch if args.no_cache else None
        report = prepare(args.sources, args.out, settings, args.workers, cache)
    print(report.summary())
    print(f"wrote {args.out} and {skip_report_path(args.out)}")


# --------------------------------------------------------------------------- seed images
def _add_midi2image(commands) -> None:
    command = commands.add_parser(
        "midi2image",
        help="write a MIDI file as the seed article's piano-roll PNGs (every 100-step window)",
    )
    command.add_argument("midi", type=Path, help="input MIDI file")
    command.add_argument("out_dir", type=Path, help="folder for NAME_0.png, NAME_1.png, ...")
    command.set_defaults(run=_run_midi2image)


def _run_midi2image(args: argparse.Namespace) -> None:
    from .errors import SkipFile
    from .image import roll_to_images, write_png
    from .midi import read_midi

    try:
        roll = read_midi(args.midi)
    except SkipFile as skip:
        raise BachganError(f"cannot read {args.midi}: {skip}") from skip
    for index, image in enumerate(roll_to_images(roll)):
        print(write_png(image, args.out_dir / f"{args.midi.stem}_{index}.png"))


def _add_image2midi(commands) -> None:
    command = commands.add_parser(
        "image2midi",
        help="turn a seed piano-roll PNG (106 rows, or the 106x106 resized form) into MIDI",
    )
    command.add_argument("image", type=Path, help="input PNG")
    command.add_argument("midi", type=Path, help="output MIDI file")
    command.add_argument("--tempo", type=float, default=100.0, help="quarter notes per minute")
    command.set_defaults(run=_run_image2midi)


def _run_image2midi(args: argparse.Namespace) -> None:
    from .image import image_to_roll, read_png
    from .midi import write_midi

    print(write_midi(image_to_roll(read_png(args.image), args.tempo), args.midi))


if __name__ == "__main__":
    sys.exit(main())
