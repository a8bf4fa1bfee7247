"""The browser app: compose, harmonize, listen, look and download, in a Gradio page.

All music work is done by :class:`bachgan.studio.Studio`; this module only lays out the page
and turns every failure into a short message shown in the page (the server keeps serving).
Gradio is an optional extra: ``pip install 'bachgan[app]'``.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from .errors import BachganError
from .io.melodies import EXAMPLE_MELODIES
from .roll import VOICE_NAMES
from .studio import Piece, Studio
from .theory import KEY_NAMES, key_name

__all__ = ["build_app", "launch"]

log = logging.getLogger(__name__)

FACT_HEADERS = ["metric", "this piece", "Bach's chorales (mean of 4-bar windows)"]
_SYSTEM_FONTS = ["system-ui", "Helvetica", "Arial", "sans-serif"]
#: The keys offered for composing; the first leaves the key to the model.
KEY_CHOICES = ["C major or A minor (the model's choice)", *KEY_NAMES]
VOICES = list(VOICE_NAMES)
_PHRASES_LABEL = "Phrase ends (N for every N bars, or bars: 2,4,6)"
_INTRO = """# bachgan
Four-voice chorales written by a GAN that learned from Bach. **Compose** a new piece, or
**Harmonize** a melody of your own; listen, read the score, look at the piano roll, download
the MIDI and MusicXML, and **Regenerate** any bars of any voices until you like them."""


def build_app(studio: Studio) -> gr.Blocks:
    """The page: Compose, Harmonize and Model tabs around ``studio``."""
    limits = studio.limits
    with gr.Blocks(title="bachgan") as app:
        gr.Markdown(_INTRO)
        with gr.Tab("Compose"):
            # Two rows, each control wide enough for its longest text (the key's names, the
            # tempo's three digits) on a laptop, one under the other on a phone.
            with gr.Row():
                seed = gr.Textbox("", label="Seed (empty: a new one)", elem_id="compose-seed")
                key = gr.Dropdown(
                    KEY_CHOICES,
                    value=KEY_CHOICES[0],
                    label="Key",
                    elem_id="compose-key",
                    scale=2,
                    min_width=300,
                )
                meter = gr.Radio(studio.meters, value=studio.meters[0], label="Meter")
                phrases = gr.Textbox("", label=_PHRASES_LABEL, scale=2)
            with gr.Row():
                bars = gr.Slider(1, limits.max_bars, 8, step=1, label="Bars", min_width=220)
                tempo = gr.Slider(
                    *limits.tempo_range,
                    80,
                    step=1,
                    label="Tempo (beats/min)",
                    elem_id="compose-tempo",
                    min_width=220,
                )
                candidates = gr.Slider(
                    1,
                    limits.max_candidates,
                    1,
                    step=1,
                    label="Candidates (the critic keeps one)",
                    min_width=220,
                )
            compose_button = gr.Button("Compose", variant="primary", elem_id="compose-button")
            compose_view = _piece_view("compose")
            _regenerate_controls(studio, "compose", compose_view)
        with gr.Tab("Harmonize"):
            gr.Markdown(
                f"A one-voice MIDI or MusicXML file in {' or '.join(studio.meters)} (up to "
                f"{limits.max_melody_bars} bars, "
                f"{limits.max_upload_bytes // 1000} kB) becomes the soprano (or the bass); the "
                "model writes the other three voices; a score's fermatas end its phrases. "
                "Without a file, the example melody is used."
            )
            with gr.Row():
                upload = gr.File(
                    label="Melody (.mid, .musicxml, .mxl)",
                    file_types=[".mid", ".midi", ".musicxml", ".mxl", ".xml"],
                )
                example = gr.Dropdown(
                    list(EXAMPLE_MELODIES), value=next(iter(EXAMPLE_MELODIES)), label="Example"
                )
                harmony_seed = gr.Number(0, precision=0, label="Seed")
            with gr.Row():
                voice = gr.Radio(["soprano", "bass"], value="soprano", label="The melody is the")
                pickup = gr.Number(0, label="Beats before the first downbeat (upbeat)")
                melody_phrases = gr.Textbox("", label=_PHRASES_LABEL)
            harmonize_button = gr.Button("Harmonize", variant="primary", elem_id="harmonize-button")
            harmonize_view = _piece_view("harmonize")
            _regenerate_controls(studio, "harmonize", harmonize_view)
        with gr.Tab("Model"):
            gr.Markdown(studio.model_summary())

        @_friendly
        def compose(
            seed: str,
            key: str,
            meter: str,
            bars: float,
            tempo: float,
            candidates: float,
            phrases: str,
        ) -> tuple:
            key = None if key == KEY_CHOICES[0] else key
            piece = studio.compose(
                _seed(seed), int(bars), tempo, int(candidates), key, phrases, meter
            )
            return _view(piece, [])

        @_friendly
        def harmonize(
            upload,
            example: str,
            seed: float,
            voice: str,
            pickup: float,
            phrases: str,
            progress=gr.Progress(),  # noqa: B008
        ) -> tuple:
            def report(fraction: float) -> None:
                progress(fraction, desc="writing the harmony")

            piece = studio.harmonize(
                upload, example, int(seed or 0), report, voice, pickup or 0, phrases
            )
            return _view(piece, [])

        compose_button.click(
            compose,
            [seed, key, meter, bars, tempo, candidates, phrases],
            compose_view.outputs,
            api_name="compose",
            show_progress_on=compose_view.info,
        )
        harmonize_button.click(
            harmonize,
            [upload, example, harmony_seed, voice, pickup, melody_phrases],
            harmonize_view.outputs,
            api_name="harmonize",
            show_progress_on=harmonize_view.info,
        )
    return app


@dataclass
class _PieceView:
    """The components that show one piece, the values they show (``current``) and those of
    the pieces before it (``history``, for Undo). Progress and errors show on ``info`` alone,
    so a refused request leaves the piece before it unmarked."""

    info: gr.Markdown
    shown: list[gr.components.Component]
    current: gr.State
    history: gr.State

    @property
    def outputs(self) -> list:
        return [self.info, *self.shown, self.current, self.history]


def _piece_view(prefix: str) -> _PieceView:
    info = gr.Markdown(elem_id=f"{prefix}-info")
    with gr.Row():
        audio = gr.Audio(type="filepath", label="Listen", elem_id=f"{prefix}-audio")
        midi = gr.File(label="MIDI", elem_id=f"{prefix}-midi")
        musicxml = gr.File(label="MusicXML (score)", elem_id=f"{prefix}-musicxml")
    score = gr.HTML(elem_id=f"{prefix}-score")
    picture = gr.Image(
        type="filepath",
        label="Piano roll",
        elem_id=f"{prefix}-picture",
        elem_classes=["bachgan-wide"],
    )
    narrow_picture = gr.Image(
        type="filepath",
        label="Piano roll",
        elem_id=f"{prefix}-narrow-picture",
        elem_classes=["bachgan-narrow"],
    )
    facts = gr.Dataframe(
        headers=FACT_HEADERS,
        label="How it compares",
        elem_id=f"{prefix}-facts",
        wrap=True,
        column_widths=["50%", "20%", "30%"],
        max_height=2000,  # every row at once, on a phone too
    )
    shown = [audio, midi, musicxml, score, picture, facts, narrow_picture]
    return _PieceView(info, shown, gr.State(()), gr.State([]))


def _regenerate_controls(studio: Studio, prefix: str, view: _PieceView) -> None:
    """Bars and voices of the piece shown, rewritten on Regenerate; Undo shows the piece
    before."""
    with gr.Accordion("Regenerate a region", open=True):
        with gr.Row():
            first = gr.Number(1, precision=0, label="From bar", elem_id=f"{prefix}-first")
            last = gr.Number(2, precision=0, label="To bar", elem_id=f"{prefix}-last")
            voices = gr.CheckboxGroup(VOICES, value=VOICES, label="Voices")
            seed = gr.Textbox("", label="Seed (empty: a new one)")
        with gr.Row():
            again = gr.Button("Regenerate", elem_id=f"{prefix}-regenerate")
            undo = gr.Button("Undo", elem_id=f"{prefix}-undo")

    @_friendly
    def regenerate(current: tuple, history: list, first, last, voices: list, seed) -> tuple:
        if not current:
            raise BachganError("compose or harmonize a piece first")
        bars = (int(first or 0), int(last or 0))
        midi = current[_MIDI]
        piece = studio.regenerate(midi, bars, [v.lower() for v in voices], _seed(seed))
        return _view(piece, [*history, current])

    @_friendly
    def step_back(current: tuple, history: list) -> tuple:
        if not history:
            raise BachganError("nothing to undo")
        return (*history[-1], history[-1], history[:-1])

    again.click(
        regenerate,
        [view.current, view.history, first, last, voices, seed],
        view.outputs,
        api_name=f"{prefix}_regenerate",
        show_progress_on=view.info,
    )
    undo.click(
        step_back,
        [view.current, view.history],
        view.outputs,
        api_name=f"{prefix}_undo",
        show_progress_on=view.info,
    )


def launch(
    studio: Studio, host: str = "127.0.0.1", port: int = 7860, block: bool = True
) -> gr.Blocks:
    """Serve the app on ``host:port`` (local only by default); with ``block`` until Ctrl-C.

    Gradio keeps uploads and the files it serves in the studio's folder, so that one disk
    budget covers them all (:meth:`Studio.tidy`); :meth:`Studio.close` removes it.
    """
    os.environ["GRADIO_TEMP_DIR"] = str(studio.workdir)
    _bypass_proxies(host)
    app = build_app(studio)
    # Gradio switches matplotlib's backend around every request; pyplot is imported here,
    # once, so that no request sees it half imported by the warm-up thread.
    import matplotlib.pyplot  # noqa: F401

    # Load Bach's reference numbers and warm up now, so that the first visitor does not wait.
    threading.Thread(target=_warm_up, args=(studio,), daemon=True).start()
    app.queue(default_concurrency_limit=2, max_size=64)
    app.launch(
        server_name=host,
        server_port=port,
        max_file_size=studio.limits.max_upload_bytes,
        prevent_thread_lock=not block,
        theme=gr.themes.Default(font=_SYSTEM_FONTS, font_mono=["monospace"]),
        css=_LAYOUT_CSS,
        show_error=True,
        quiet=not block,
        share=False,  # never a public link, whatever GRADIO_SHARE says
    )
    return app


def _warm_up(studio: Studio) -> None:
    """:meth:`Studio.warm_up`, which may be cut short by the server stopping: a failure
    is one line in the log (the first request then does the work and reports any fault)."""
    try:
        studio.warm_up()
    except BaseException as error:  # a stop during warm-up interrupts its worker processes
        log.warning("warm-up stopped: %s", type(error).__name__)


def _bypass_proxies(host: str) -> None:
    """Let the server reach itself directly: Gradio checks its own address over HTTP at
    launch, which a proxy in the environment (``http_proxy``) would otherwise receive."""
    local = ["localhost", "127.0.0.1", "::1", host]
    for variable in ("NO_PROXY", "no_proxy"):
        given = [name for name in os.environ.get(variable, "").split(",") if name.strip()]
        os.environ[variable] = ",".join(dict.fromkeys([*given, *local]))


def _seed(text: str) -> int | None:
    """The seed typed in a box: ``None`` when it is empty (draw a new one)."""
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdecimal() and len(text) <= 19) or int(text) >= 2**63:
        raise BachganError(f"a seed is a whole number of 0 or more (got {text[:20]!r})")
    return int(text)


#: Where the MIDI file's path sits among a view's values.
_MIDI = 2


def _view(piece: Piece, history: list) -> tuple:
    """The outputs of a :class:`_PieceView` showing ``piece``, with ``history`` for Undo."""
    roll = piece.roll
    named = roll.key_fifths is not None and roll.key_mode in ("major", "minor")
    key = key_name(roll.key_fifths, roll.key_mode) if named else ""
    meter = "{}/{}".format(*roll.time_signature)
    said = " · ".join(part for part in (key, meter, f"{roll.n_bars} bars") if part)
    info = f"**Seed {piece.seed}** · {said}" + (f" — {piece.note}" if piece.note else "")
    score = _score_html(piece)
    facts = [list(f) for f in piece.facts]
    files = (str(piece.wav), str(piece.midi), str(piece.musicxml))
    narrow_picture = str(piece.narrow_picture or piece.picture)
    values = (info, *files, score, str(piece.picture), facts, narrow_picture)
    return (*values, values, history)


#: The two layouts of the score and the piano roll: a phone's below 700 pixels, a laptop's
#: above; each scaled down to the width there is rather than cut.
_LAYOUT_CSS = (
    ".bachgan-score svg{max-width:100%;height:auto}"
    ".bachgan-narrow{display:none !important}"
    "@media (max-width:700px){"
    ".bachgan-wide{display:none !important}.bachgan-narrow{display:block !important}}"
)


def _score_html(piece: Piece) -> str:
    """The score's pages in both layouts, the page's width choosing one."""

    def pages(paths: list, kind: str) -> str:
        svg = "".join(path.read_text(encoding="utf-8") for path in paths)
        return f'<div class="bachgan-score bachgan-{kind}" style="background:white">{svg}</div>'

    narrow = piece.narrow_score or piece.score
    return pages(piece.score, "wide") + pages(narrow, "narrow")


def _friendly(function: Callable) -> Callable:
    """Run ``function``; a problem with the input (a :class:`BachganError`) becomes its
    message in the page, anything else, internal errors such as a ``ValueError`` included, a
    short apology (the details go to the server's log)."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except BachganError as error:
            raise gr.Error(str(error)) from None
        except Exception as error:
            log.exception("request failed")
            raise gr.Error(f"Something went wrong ({type(error).__name__}); try again.") from None

    return run
