"""The ``bachgan`` command: one subcommand per job, each a thin layer over the Python API."""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
from pathlib import Path

from .errors import BachganError

__all__ = ["main"]


#: What ``--model`` takes.
_MODEL_HELP = (
    "run folder, .pt checkpoint or the name of a model shipped with bachgan "
    "(chorales, the default, also called 'shipped'; sequential, which writes a sixteenth at "
    "a time; musegan, the earlier baseline)"
)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for a user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    args.drawn_seed = getattr(args, "draws_seed", False) and args.seed is None
    if args.drawn_seed:  # a new seed every run, said once the pieces are written
        args.seed = secrets.randbelow(2**31)
    try:
        args.handler(args)
    except BachganError as error:
        print(f"bachgan: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bachgan: interrupted", file=sys.stderr)
        return 130
    return 0


def _interrupt(number: int, frame: object) -> None:
    """SIGTERM stops a command as Ctrl-C does: cleanly, with nothing half written."""
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bachgan",
        description="Learn music from MIDI with GANs and write original four-voice pieces.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_prepare(commands)
    _add_train(commands)
    _add_generate(commands)
    _add_harmonize(commands)
    _add_regenerate(commands)
    _add_evaluate(commands)
    _add_export(commands)
    _add_midi2image(commands)
    _add_image2midi(commands)
    _add_app(commands)
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
    command.add_argument(
        "--split",
        default="all",
        choices=("all", "train", "heldout"),
        help="with 'bach': all chorales, or the training or held-out side of the fixed split",
    )
    command.set_defaults(handler=_run_prepare)


def _run_prepare(args: argparse.Namespace) -> None:
    import tempfile

    from .io.corpus import Settings, prepare, skip_report_path

    settings = Settings(resolution=args.resolution, voices=args.voices)
    with tempfile.TemporaryDirectory() as scratch:
        cache = scratch if args.no_cache else None
        report = prepare(args.sources, args.out, settings, args.workers, cache, split=args.split)
    print(report.summary())
    print(f"wrote {args.out} and {skip_report_path(args.out)}")


# --------------------------------------------------------------------------- train
def _add_train(commands) -> None:
    command = commands.add_parser(
        "train",
        help="train a GAN on a prepared data set (progress bar, TensorBoard, checkpoints)",
        description=(
            "Train the conditional chorale model that completes partly given chorales (the "
            "default, --arch completion), the unconditional MuseGAN-class baseline (--arch "
            "musegan) or the seed article's DCGAN (--arch seed). "
            "Writes RUN/config.json, RUN/checkpoint.pt (every --checkpoint-every steps, at the "
            "end and on Ctrl-C) and TensorBoard logs in RUN/tensorboard. For several processes "
            "or machines, start it with torchrun. The shipped model's settings are the "
            "defaults; research settings (loss weights, critic steps...) come from --preset."
        ),
    )
    _add_config_options(command)
    command.add_argument(
        "--preset",
        help="a JSON file of further settings, or the name of a shipped one: "
        f"{_preset_names()}; options given here win",
    )
    command.add_argument("--resume", action="store_true", help="continue the run in --out")
    command.set_defaults(handler=_run_train)


def _preset_names() -> str:
    """The shipped presets, each with the first line of what it is for."""
    from .config import PRESETS

    return ", ".join(sorted(path.stem for path in PRESETS.glob("*.json")))


def _add_config_options(command: argparse.ArgumentParser) -> None:
    """One option per :class:`~bachgan.config.TrainConfig` field that carries option
    metadata; an option left out keeps the preset's or the config's default."""
    from dataclasses import MISSING, fields

    from .config import TrainConfig

    for setting in fields(TrainConfig):
        if "help" not in setting.metadata:
            continue
        flag = "--" + setting.name.replace("_", "-")
        meta = setting.metadata
        extra: dict = {"choices": meta["choices"] or None}
        if setting.default is MISSING:
            extra["required"] = True
        elif isinstance(setting.default, bool):
            extra = {"action": argparse.BooleanOptionalAction}
        else:
            extra["type"] = meta["type"] or type(setting.default)
        default = "" if setting.default in (MISSING, None) else f" (default {setting.default})"
        command.add_argument(
            flag, dest=setting.name, default=None, help=meta["help"] + default, **extra
        )


def _run_train(args: argparse.Namespace) -> None:
    from dataclasses import fields

    from .config import TrainConfig, preset_settings
    from .training.train import train

    settings = preset_settings(args.preset) if args.preset else {}
    given = {
        f.name: getattr(args, f.name)
        for f in fields(TrainConfig)
        if getattr(args, f.name, None) is not None
    }
    config = TrainConfig(**{**settings, **given})
    print(f"wrote {train(config, resume=args.resume)}")


# --------------------------------------------------------------------------- generate
def _add_generate(commands) -> None:
    command = commands.add_parser(
        "generate",
        help="write new chorales as MIDI, WAV and a piano-roll picture",
        description=(
            "Generate pieces with the pretrained chorale model shipped with bachgan (or "
            "--model, a run folder or checkpoint from `bachgan train`). Writes NAME.mid (a "
            "track per voice), NAME.musicxml (the score), NAME.wav and NAME.png (the piano "
            "roll) per piece in --out. Piece N is made with seed SEED+N-1 and named "
            "chorale_SEED+N-1, so that --seed and a file's name make that piece again alone."
        ),
    )
    _add_piece_options(command, "same seed, same music")
    command.add_argument("-n", type=int, default=1, help="number of pieces")
    command.add_argument("--bars", type=int, default=8, help="bars per piece (any number)")
    command.add_argument("--tempo", type=float, default=80.0, help="quarter notes per minute")
    _add_sampling_option(command)
    command.add_argument(
        "--temperature",
        type=float,
        help="how freely --sampling sample draws (default 1; lower is closer to the most "
        "likely notes)",
    )
    command.add_argument(
        "--candidates",
        type=int,
        default=1,
        help="keep the critic's favourite of this many samples per piece",
    )
    command.add_argument(
        "--mode",
        choices=("major", "minor"),
        help="ask for pieces in a major or a minor key (a model conditioned on the mode; "
        "default: either, as often as in its training data)",
    )
    command.add_argument(
        "--key",
        help='write the pieces in this key, e.g. "D major" or "F# minor" (default: C major or '
        "A minor); their MIDI key signature says so",
    )
    command.add_argument(
        "--phrases",
        help="where phrases close with a cadence and a fermata: N for phrases of N bars, or "
        "the bars, e.g. 3,6,10 (the last bar always closes; a completion model)",
    )
    command.add_argument(
        "--meter",
        default="4/4",
        help="time signature: 4/4 (default) or 3/4 (the meters the model has learned)",
    )
    command.set_defaults(handler=_run_generate)


def _add_sampling_option(command: argparse.ArgumentParser) -> None:
    from .generation.binarize import BINARIZATIONS, DEFAULT_BINARIZATION

    command.add_argument(
        "--sampling",
        choices=BINARIZATIONS,
        help="how the model's probabilities become notes. A completion model (the shipped "
        "one) takes the most likely notes, or draws them with 'sample'. The musegan baseline "
        "takes each step's most likely pitch (argmax), draws (sample), or finds the voices' "
        "jointly most likely lines that avoid parallel fifths and octaves and leaps over an "
        "octave, prefer notes in the piece's key and rest together (voice-leading; its "
        f"default: {DEFAULT_BINARIZATION})",
    )


def _run_generate(args: argparse.Namespace) -> None:
    from .generation.baselines import seed_compositions
    from .generation.binarize import DEFAULT_BINARIZATION
    from .generation.compose import generate
    from .generation.loading import model_from_checkpoint, model_path
    from .generation.requests import parse_phrases
    from .io.checkpoint import load_checkpoint
    from .io.outputs import write_seed_composition
    from .limits import MAX_PIECES, check_count, check_tempo

    source = model_path(args.model)
    checkpoint = load_checkpoint(source)  # read once: its arch says what to do with it
    if checkpoint.get("arch") == "seed":
        check_tempo(args.tempo)
        images = seed_compositions(checkpoint, args.n, args.seed, str(source))
        for index, image in enumerate(images):
            name = "composition" if args.n == 1 else f"composition_{index + 1}"
            for path in write_seed_composition(image, args.out, name, args.tempo):
                print(path)
        return
    loaded = model_from_checkpoint(checkpoint, str(source))
    note = loaded.backend.sampling_note(args.sampling)
    if note:
        print(f"bachgan: note: {note} ({Path(source).name})", file=sys.stderr)
    check_count("pieces", args.n, MAX_PIECES)
    phrases, revisions = parse_phrases(args.phrases, args.bars), _revisions(args)
    pieces = {}
    for seed in range(args.seed, args.seed + args.n):  # each piece its own seed, as named
        (pieces[f"chorale_{seed}"],) = generate(
            1,
            args.bars,
            seed,
            loaded,
            sampling=args.sampling or DEFAULT_BINARIZATION,
            temperature=1.0 if args.temperature is None else args.temperature,
            tempo_bpm=args.tempo,
            candidates=args.candidates,
            key_mode=args.mode,
            revisions=revisions,
            key=args.key,
            phrases=phrases,
            meter=args.meter,
        )
    _write_pieces(pieces, args)


def _add_harmonize(commands) -> None:
    command = commands.add_parser(
        "harmonize",
        help="write the other three voices around a melody or a bass (MIDI + WAV + PNG)",
        description=(
            "Harmonize a melody in four voices. MELODY is a MIDI file with one track, or the "
            "first track of a multi-track file, or a MusicXML file with one part, in 4/4 or "
            "3/4 (its time signature); it becomes the soprano (or --voice), unchanged. A "
            "pickup is found from the file's bar lines (a short first bar) or given with "
            "--pickup. A score's fermatas are its phrase ends unless --phrases says otherwise."
        ),
    )
    command.add_argument("melody", type=Path, help="MIDI or MusicXML file with the melody")
    command.add_argument(
        "--voice",
        default="soprano",
        choices=("soprano", "alto", "tenor", "bass"),
        help="the voice the melody is (default soprano; --voice bass writes soprano, alto and "
        "tenor above a given bass; a completion model takes any voice)",
    )
    command.add_argument(
        "--pickup",
        type=float,
        default=0,
        metavar="BEATS",
        help="beats before the melody's first downbeat (an upbeat; default: as the file's "
        "first bar says, else 0: it starts on one)",
    )
    command.add_argument(
        "--phrases",
        help="bars (from the first downbeat) where the melody's phrases end, e.g. 2,4,6, or N "
        "for every N bars: a cadence and a fermata there (a completion model)",
    )
    command.add_argument(
        "--key",
        help='the melody\'s key, e.g. "D major" or "F# minor" (default: the key signature the '
        "file names, else the key the melody is heard in: its notes, its last note and its "
        "phrase ends; the key chosen is printed)",
    )
    _add_piece_options(command, "same seed, same harmony")
    command.set_defaults(handler=_run_harmonize)


def _run_harmonize(args: argparse.Namespace) -> None:
    from .generation.harmonize import harmonize_with_fit
    from .generation.requests import parse_phrases
    from .limits import MAX_BARS

    melody = _read_user_music(args.melody, MAX_BARS, parts=1)
    # Without --phrases, a score's own fermatas (harmonize_with_fit's phrases=None).
    phrases = parse_phrases(args.phrases, melody.n_bars) if args.phrases else None
    result = harmonize_with_fit(
        melody,
        args.model,
        args.seed,
        voice=args.voice,
        revisions=_revisions(args),
        pickup_beats=args.pickup,
        phrases=phrases,
        key=args.key,
    )
    _say_key(result.roll, melody, args.key)
    if result.octaves_moved:
        print(f"bachgan: note: {result.moved_note(args.voice)}", file=sys.stderr)
    _write_pieces({f"{args.melody.stem}_harmonized_{args.seed}": result.roll}, args)


def _say_key(roll, melody, asked: str | None) -> None:
    """Print the key a melody was harmonized in, and where it came from."""
    from .theory import key_name

    if asked is not None:
        source = "as --key asked"
    elif melody.key_fifths is not None:
        source = "the file's key signature; --key changes it"
    else:
        source = "heard in the melody; --key changes it"
    print(f"bachgan: key: {key_name(roll.key_fifths, roll.key_mode)} ({source})", file=sys.stderr)


def _add_regenerate(commands) -> None:
    command = commands.add_parser(
        "regenerate",
        help="rewrite some bars of some voices of a piece; the rest stays note for note",
        description=(
            "Rewrite the bars --region of --voices of PIECE (a four-track MIDI file in 4/4 or 3/4, "
            "such as one bachgan wrote, or a MusicXML score with Soprano, Alto, Tenor and Bass "
            "parts) with a completion model, given everything around them. "
            "Notes wholly outside the region are kept exactly; writes "
            "NAME_regenerated_SEED.mid, .musicxml, .wav and .png in --out."
        ),
    )
    command.add_argument("piece", type=Path, help="four-track MIDI file or SATB MusicXML score")
    command.add_argument("--region", help="the bars to rewrite, first and last, from 1: 3-4, or 5")
    command.add_argument("--bars", help=argparse.SUPPRESS)  # the earlier name of --region
    command.add_argument(
        "--voices",
        help="comma-separated voices to rewrite: soprano,alto,tenor,bass (default: all)",
    )
    command.add_argument(
        "--key",
        help='move the result to this key, in the piece\'s mode, e.g. "D major" (default: the '
        "piece's own key)",
    )
    command.add_argument(
        "--novelty",
        type=float,
        help="what keeping one of the region's old notes costs, in nats: 0 lets the model "
        "write the lines it likes best, even the old ones (default: 2, which rewrites most "
        "of the region)",
    )
    _add_piece_options(command, "same seed, same notes")
    command.set_defaults(handler=_run_regenerate)


def _run_regenerate(args: argparse.Namespace) -> None:
    from .generation.regenerate import DEFAULT_NOVELTY, regenerate
    from .generation.requests import parse_bars
    from .limits import MAX_BARS

    bars = parse_bars(_region(args))
    piece = _read_user_music(args.piece, MAX_BARS)
    roll = regenerate(
        piece,
        bars,
        args.voices,
        args.seed,
        args.model,
        _revisions(args),
        key=args.key,
        novelty=DEFAULT_NOVELTY if args.novelty is None else args.novelty,
    )
    _write_pieces({f"{args.piece.stem}_regenerated_{args.seed}": roll}, args)


def _region(args: argparse.Namespace) -> str:
    """The region regenerate rewrites: ``--region``, or ``--bars`` (its earlier name, still
    accepted with a note)."""
    if args.region is not None and args.bars is not None:
        raise BachganError("give --region only (--bars is its earlier name)")
    if args.bars is not None:
        print("bachgan: note: --bars is now --region", file=sys.stderr)
        return args.bars
    if args.region is None:
        raise BachganError("say which bars to rewrite: --region 3-4 (or 5)")
    return args.region


def _add_piece_options(command: argparse.ArgumentParser, seed_help: str) -> None:
    """The options shared by the commands that write pieces: model, output and sound."""
    command.add_argument("--model", help=_MODEL_HELP)
    command.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    command.add_argument(
        "--seed",
        type=int,
        help=f"{seed_help} (default: a new seed each run, printed and in the file names)",
    )
    command.set_defaults(draws_seed=True)
    command.add_argument("--soundfont", type=Path, help="a .sf2 file (default: TimGM6mb)")
    command.add_argument("--no-audio", action="store_true", help="skip the WAV")
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files in --out that hold another piece under the same name (without "
        "it, that is an error; the same piece again is always written)",
    )
    _add_revisions_option(command)


def _add_revisions_option(command: argparse.ArgumentParser) -> None:
    from .generation.completion import Revisions

    rounds = Revisions().rounds
    command.add_argument(
        "--revisions",
        type=int,
        default=rounds,
        help="rounds in which a completion model rewrites a random, shrinking share of what it "
        f"wrote given the rest (default {rounds}; 0: one pass)",
    )


def _revisions(args: argparse.Namespace):
    """The :class:`~bachgan.generation.completion.Revisions` that ``--revisions`` asks for."""
    from .generation.completion import Revisions

    return Revisions(rounds=args.revisions)


def _write_pieces(rolls: dict, args: argparse.Namespace) -> None:
    """Write each piece's MIDI, MusicXML, PNG and (unless --no-audio) WAV, and print their
    paths (and the seed, when it was drawn, so that the pieces can be made again). Files of
    another piece under the same names are replaced only with --overwrite."""
    from .io.outputs import pieces_in_the_way, write_outputs

    in_the_way = [] if args.overwrite else pieces_in_the_way(rolls, args.out)
    if in_the_way:
        others = f" and {len(in_the_way) - 1} more" if len(in_the_way) > 1 else ""
        raise BachganError(
            f"{in_the_way[0]}{others} already holds another piece (an earlier run with other "
            "options?); choose another --out, or give --overwrite to replace it"
        )
    for name, roll in rolls.items():
        for path in write_outputs(roll, args.out, name, not args.no_audio, args.soundfont):
            print(path)
    if args.drawn_seed:
        count = len(rolls)
        said = f"seed {args.seed}" if count == 1 else f"seeds {args.seed}-{args.seed + count - 1}"
        again = f"--seed {args.seed} makes it again" if count == 1 else "--seed N makes one again"
        print(f"bachgan: {said} ({again})", file=sys.stderr)


def _add_evaluate(commands) -> None:
    from .evaluation.evaluate import JUDGE_SETS

    command = commands.add_parser(
        "evaluate",
        help="how close to Bach and how original: harmony, judges, cadences, originality",
        description=(
            "Evaluate GENERATED MIDI files or folders (or --model, sampled -n times) against "
            "--reference music. Both sides are key-normalised and cut into windows of "
            "--window-bars bars. Reports the sonorities at every eighth, cadences, melodic "
            "lines, what three judges (a logistic regression on summary metrics, "
            "gradient-boosted trees on harmony features, a convolutional network on the piano "
            "roll) can tell apart, beside Bach against Bach and Bach with its voices "
            "shuffled, and which bars are copied from the training music. Writes report.json, "
            "report.md and report.png in --out. Needs bachgan[evaluate] (scikit-learn)."
        ),
    )
    command.add_argument("generated", nargs="*", help="MIDI files or folders")
    command.add_argument("--model", help="sample this model (" + _MODEL_HELP + ")")
    command.add_argument("-n", type=int, default=200, help="pieces to sample from --model")
    command.add_argument("--bars", type=int, default=4, help="bars per sampled piece")
    command.add_argument("--seed", type=int, default=0, help="seed for sampling")
    _add_sampling_option(command)
    command.add_argument(
        "--reference",
        default="heldout",
        help="'heldout' (held-out Bach chorales, default), 'bach', a .npz data set or a folder",
    )
    command.add_argument(
        "--training",
        default="train",
        help="training music for originality and for the judges' Bach-against-Bach floor: "
        "'train' (the Bach training split, default), a .npz, a folder, or 'none'",
    )
    command.add_argument("--window-bars", type=int, default=4, help="bars per compared window")
    command.add_argument(
        "--meter",
        default="4/4",
        help="compare the pieces in this meter (4/4 by default, or 3/4); --model samples in it",
    )
    command.add_argument(
        "--judges",
        choices=tuple(JUDGE_SETS),
        default="all",
        help="all (default): the weak, tree and network judges; fast: without the network",
    )
    command.add_argument("--out", type=Path, default=Path("evaluation"), help="report folder")
    command.set_defaults(handler=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> None:
    from .evaluation.evaluate import JUDGE_SETS, evaluate, piece_groups
    from .evaluation.report import summary_table, write_report
    from .generation.binarize import DEFAULT_BINARIZATION
    from .io.corpus import load_music

    _require_scikit_learn()
    meter = _meter(args.meter)
    if args.model:
        from .generation.compose import generate

        # The model's own output: no held final chord, which would flatter some metrics.
        generated = generate(
            args.n,
            args.bars,
            args.seed,
            args.model,
            sampling=args.sampling or DEFAULT_BINARIZATION,
            final_chord=False,
            meter=meter,
        )
    elif args.generated:
        generated = [roll for source in args.generated for roll in load_music(source)]
    else:
        raise BachganError("give GENERATED files or folders, or --model")
    reference, names = _bach_or(args.reference)
    training = None if args.training == "none" else _bach_or(args.training)[0]
    result = evaluate(
        generated,
        reference,
        training,
        args.window_bars,
        judges=JUDGE_SETS[args.judges],
        reference_groups=piece_groups(names),
        meter=meter,
    )
    paths = write_report(result, args.out)
    print(summary_table(result.numbers))
    for path in paths:
        print(f"wrote {path}")


def _meter(text: str) -> tuple[int, int]:
    """A time signature typed as ``3/4``; anything else is a one-line error."""
    from .theory import parse_meter

    try:
        return parse_meter(text)
    except ValueError as error:
        raise BachganError(str(error)) from None


def _require_scikit_learn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError as error:
        raise BachganError(
            "evaluate needs scikit-learn for its tree judge; install it with: "
            "pip install 'bachgan[evaluate]'"
        ) from error


def _bach_or(source: str):
    from .io.corpus import load_named_music

    if source in ("heldout", "train"):
        return load_named_music("bach", split=source)
    return load_named_music(source)


def _add_export(commands) -> None:
    command = commands.add_parser(
        "export", help="keep only what generation needs from a training run (a few MB)"
    )
    command.add_argument("run", help="run folder or checkpoint from `bachgan train`")
    command.add_argument("out", type=Path, help="output .pt file, usable as --model")
    command.set_defaults(handler=_run_export)


def _run_export(args: argparse.Namespace) -> None:
    from .io.checkpoint import export_model

    print(export_model(args.run, args.out))


# --------------------------------------------------------------------------- seed images
def _add_midi2image(commands) -> None:
    command = commands.add_parser(
        "midi2image",
        help="write a MIDI file as the seed article's piano-roll PNGs (every 100-step window)",
    )
    command.add_argument("midi", type=Path, help="input MIDI file")
    command.add_argument("out_dir", type=Path, help="folder for NAME_0.png, NAME_1.png, ...")
    command.set_defaults(handler=_run_midi2image)


def _run_midi2image(args: argparse.Namespace) -> None:
    from .io.images import roll_to_images, write_png

    roll = _read_user_music(args.midi)
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
    command.set_defaults(handler=_run_image2midi)


def _run_image2midi(args: argparse.Namespace) -> None:
    from .io.images import image_to_roll, read_png
    from .io.midi import write_midi
    from .limits import check_tempo

    tempo = check_tempo(args.tempo)
    print(write_midi(image_to_roll(read_png(args.image), tempo), args.midi))


# --------------------------------------------------------------------------- app
def _add_app(commands) -> None:
    command = commands.add_parser(
        "app",
        help="open the browser app: compose, harmonize, listen and look (needs bachgan[app])",
        description=(
            "Serve a web page where you compose pieces and harmonize melodies, hear them, see "
            "their piano rolls and download the MIDI. Only this computer can open it unless "
            "--host says otherwise (e.g. --host 0.0.0.0 for the local network)."
        ),
    )
    command.add_argument("--host", default="127.0.0.1", help="address to listen on")
    command.add_argument("--port", type=_port, default=7860, help="port to listen on (1-65535)")
    command.add_argument("--model", help=_MODEL_HELP)
    command.set_defaults(handler=_run_app)


def _run_app(args: argparse.Namespace) -> None:
    try:
        from .app import launch
    except ImportError as error:
        raise BachganError(
            f"the app needs Gradio ({error}); install it with: pip install 'bachgan[app]'"
        ) from error
    from .studio import Studio

    _check_port(args.host, args.port)
    studio = Studio(args.model)
    print(f"bachgan app on http://{args.host}:{args.port} (Ctrl-C stops it)")
    try:
        launch(studio, args.host, args.port)
    finally:
        studio.close()


def _port(text: str) -> int:
    """An argparse type: a TCP port number."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def _check_port(host: str, port: int) -> None:
    """Fail early, in one line, when the app could not listen on ``host:port``."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise BachganError(
                f"cannot listen on {host}:{port} ({error.strerror}); choose another --port"
            ) from error


def _read_user_music(path: Path, max_bars: int | None = None, parts: int = 4):
    """Read a MIDI or MusicXML file the user named (a score of ``parts`` parts), saying what
    the reader left out; a file that cannot be used is a one-line error."""
    from .errors import SkipFile
    from .io.user_music import read_user_music

    try:
        conversion = read_user_music(path, max_bars, parts)
    except SkipFile as skip:
        raise BachganError(f"cannot read {path}: {skip}") from skip
    for words, count in conversion.losses().items():
        print(f"bachgan: note: {path}: {count} {words}", file=sys.stderr)
    return conversion.roll


if __name__ == "__main__":
    sys.exit(main())
