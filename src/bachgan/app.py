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

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from .errors import BachganError
from .melodies import EXAMPLE_MELODIES
from .studio import Piece, Studio

__all__ = ["build_app", "launch"]

log = logging.getLogger(__name__)

FACT_HEADERS = ["metric", "this piece", "Bach's chorales (mean of 4-bar windows)"]
_SYSTEM_FONTS = ["system-ui", "Helvetica", "Arial", "sans-serif"]
_INTRO = """# bachgan
Four-voice chorales written by a GAN that learned from Bach. **Compose** a new piece, or
**Harmonize** a melody of your own; listen, look at the piano roll, download the MIDI."""


def build_app(studio: Studio) -> gr.Blocks:
    """The page: Compose, Harmonize and Model tabs around ``studio``."""
    limits = studio.limits
    with gr.Blocks(title="bachgan") as app:
        gr.Markdown(_INTRO)
        with gr.Tab("Compose"):
            with gr.Row():
                seed = gr.Number(0, precision=0, label="Seed (same seed, same piece)")
                bars = gr.Slider(1, limits.max_bars, 8, step=1, label="Bars")
                tempo = gr.Slider(*limits.tempo_range, 80, step=1, label="Tempo (beats/min)")
                candidates = gr.Slider(
                    1, limits.max_candidates, 1, step=1, label="Candidates (the critic keeps one)"
                )
            compose_button = gr.Button("Compose", variant="primary", elem_id="compose-button")
            compose_outputs = _piece_outputs("compose")
        with gr.Tab("Harmonize"):
            gr.Markdown(
                f"A one-voice MIDI file in 4/4 (up to {limits.max_melody_bars} bars, "
                f"{limits.max_upload_bytes // 1000} kB) becomes the soprano; the model writes "
                "alto, tenor and bass. Without a file, the example melody is used."
            )
            with gr.Row():
                upload = gr.File(label="Melody (.mid)", file_types=[".mid", ".midi"])
                example = gr.Dropdown(
                    list(EXAMPLE_MELODIES), value=next(iter(EXAMPLE_MELODIES)), label="Example"
                )
                harmony_seed = gr.Number(0, precision=0, label="Seed")
            harmonize_button = gr.Button("Harmonize", variant="primary", elem_id="harmonize-button")
            harmonize_outputs = _piece_outputs("harmonize")
        with gr.Tab("Model"):
            gr.Markdown(studio.model_summary())

        @_friendly
        def compose(seed: float, bars: float, tempo: float, candidates: float) -> tuple:
            return _show(studio.compose(int(seed or 0), int(bars), tempo, int(candidates)))

        @_friendly
        def harmonize(upload, example: str, seed: float, progress=gr.Progress()) -> tuple:  # noqa: B008
            def report(fraction: float) -> None:
                progress(fraction, desc="fitting the harmony to the melody")

            return _show(studio.harmonize(upload, example, int(seed or 0), report))

        compose_button.click(
            compose, [seed, bars, tempo, candidates], compose_outputs, api_name="compose"
        )
        harmonize_button.click(
            harmonize, [upload, example, harmony_seed], harmonize_outputs, api_name="harmonize"
        )
    return app


def launch(
    studio: Studio, host: str = "127.0.0.1", port: int = 7860, block: bool = True
) -> gr.Blocks:
    """Serve the app on ``host:port`` (local only by default); with ``block`` until Ctrl-C.

    Gradio keeps uploads and the files it serves in the studio's folder, so that one disk
    budget covers them all (:meth:`Studio.tidy`); :meth:`Studio.close` removes it.
    """
    os.environ["GRADIO_TEMP_DIR"] = str(studio.workdir)
    app = build_app(studio)
    # Load Bach's reference numbers now, so that the first visitor does not wait for them.
    threading.Thread(target=studio.reference, daemon=True).start()
    app.queue(default_concurrency_limit=2, max_size=64)
    app.launch(
        server_name=host,
        server_port=port,
        max_file_size=studio.limits.max_upload_bytes,
        prevent_thread_lock=not block,
        theme=gr.themes.Default(font=_SYSTEM_FONTS, font_mono=["monospace"]),
        show_error=True,
        quiet=not block,
    )
    return app


def _piece_outputs(prefix: str) -> list[gr.components.Component]:
    with gr.Row():
        audio = gr.Audio(type="filepath", label="Listen", elem_id=f"{prefix}-audio")
        midi = gr.File(label="MIDI", elem_id=f"{prefix}-midi")
    picture = gr.Image(type="filepath", label="Piano roll", elem_id=f"{prefix}-picture")
    facts = gr.Dataframe(headers=FACT_HEADERS, label="How it compares", elem_id=f"{prefix}-facts")
    return [audio, picture, midi, facts]


def _show(piece: Piece) -> tuple:
    return str(piece.wav), str(piece.picture), str(piece.midi), [list(f) for f in piece.facts]


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
