"""The chorale model's building blocks that encode music rules, on hand-made windows."""

from dataclasses import replace

import pytest
import torch
from torch.nn import functional as F

from bachgan.encoding import Encoding
from bachgan.models import (
    Critic,
    MuseGANConfig,
    MuseGANGenerator,
    Noise,
    TextureStatistics,
    VoiceLeadingFaults,
    bar_pitch_class_pairs,
    voice_pitch_distribution,
)
from bachgan.training.windows import window_modes

CONFIG = MuseGANConfig(n_classes=55, steps_per_bar=4, bars=1, lowest_pitch=33)
REST = CONFIG.n_classes - 1


def one_hot(voices: list[list[int | None]]) -> torch.Tensor:
    """``(1, V, T, C)`` from MIDI pitches per voice and step (None = rest)."""
    index = [[REST if p is None else p - CONFIG.lowest_pitch for p in v] for v in voices]
    return F.one_hot(torch.tensor(index), CONFIG.n_classes).float()[None]


@pytest.mark.parametrize(
    ("voices", "faults", "crossings"),
    [
        # Soprano and bass C -> D an octave apart: one parallel octave.
        ([[72, 72, 74, 74], [None] * 4, [None] * 4, [60, 60, 62, 62]], 1, 0),
        # The same with the tenor also C -> D: three pairs move in octaves/unisons, the tenor
        # leaps a ninth, and its low C sits below the bass for two steps (crossings).
        ([[72, 72, 74, 74], [None] * 4, [48, 48, 62, 62], [60, 60, 62, 62]], 3 + 1, 2),
        # Contrary motion from a fifth to a sixth: no fault.
        ([[67, 67, 69, 69], [None] * 4, [None] * 4, [60, 60, 57, 57]], 0, 0),
        # Only one voice moves, the other holds: no parallel.
        ([[67, 67, 74, 74], [None] * 4, [None] * 4, [60, 60, 60, 60]], 0, 0),
        # A fifth, a rest, a fifth: the rest breaks the motion.
        ([[67, None, 69, 69], [None] * 4, [None] * 4, [60, 60, 62, 62]], 0, 0),
        # Tenor and bass each leap a tenth (16 semitones; their sixths are not perfect), and
        # the bass's A flat sounds above the tenor's C for one step.
        ([[None] * 4, [None] * 4, [48, 48, 64, 64], [40, 56, 56, 56]], 2, 1),
        # The alto rises above the held soprano for one step.
        ([[67, 67, 67, 67], [64, 69, 64, 64], [None] * 4, [None] * 4], 0, 1),
        # Voices in unison do not cross; a voice above a resting voice does not either.
        ([[67, 67, None, None], [67, 67, 69, 69], [None] * 4, [None] * 4], 0, 0),
        # A leap of exactly an octave is allowed.
        ([[None] * 4, [None] * 4, [None] * 4, [40, 52, 52, 52]], 0, 0),
    ],
)
def test_voice_leading_faults_are_counted_per_bar(voices, faults, crossings):
    window = one_hot(voices)
    assert VoiceLeadingFaults(CONFIG)(window).item() == faults
    assert VoiceLeadingFaults(CONFIG, crossings=True)(window).item() == faults + crossings


def test_voice_leading_faults_give_gradients():
    logits = torch.zeros(1, 4, 4, CONFIG.n_classes, requires_grad=True)
    VoiceLeadingFaults(CONFIG)(logits.softmax(dim=-1)).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_texture_statistics_count_pitch_classes_onsets_and_short_notes():
    # One bar of four beats, one step per beat. Soprano C, D (one beat: short), E; alto
    # doubling the soprano's first C (a unison: one pitch); bass C struck twice. Pitch classes
    # C, D, E; two distinct pitches at every step; five note starts; one short note (the
    # soprano's E, at the window's end, may go on and is not counted).
    voices = [[72, 72, 74, 76], [72, 72, None, None], [None] * 4, [60, 60, 60, 60]]
    onsets = torch.tensor([[[1.0, 0, 1, 1], [1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0]]])
    statistics = TextureStatistics(CONFIG)(one_hot(voices), onsets)[0]
    assert statistics[:4].tolist() == [3.0, 2.0, 6 / 4, 1 / 4]
    # Ten sounding voice-steps: eight on C (soprano 2, alto 2, bass 4), one on D, one on E.
    shares = torch.zeros(12)
    shares[0], shares[2], shares[4] = 2 + 2 + 4, 1, 1
    assert torch.allclose(statistics[4:], shares / 10)


def test_texture_statistics_can_add_the_crossing_rate():
    # Soprano and alto both sound on all four steps, the alto above the soprano on the last
    # two; the tenor sounds on two steps, under the alto and over the bass. Adjacent pairs
    # both sounding: 4 (soprano-alto) + 2 (alto-tenor) + 2 (tenor-bass) steps, two crossed.
    voices = [[72, 72, 67, 67], [69, 69, 71, 71], [None, None, 60, 60], [48, 48, 48, 48]]
    onsets = torch.zeros(1, 4, 4)
    plain = TextureStatistics(CONFIG)(one_hot(voices), onsets)[0]
    statistics = TextureStatistics(CONFIG, crossings=True)(one_hot(voices), onsets)[0]
    assert len(plain) == 16 and torch.equal(statistics[:16], plain)
    assert statistics[16].item() == pytest.approx(2 / 8)


def test_voice_pitch_distribution_pools_each_voice_over_the_batch():
    # Two windows whose sopranos each hold one pitch, a different one: the batch's soprano
    # spreads evenly over both. The alto sings in one window only (rests do not count); the
    # tenor never sounds.
    first = one_hot([[72] * 4, [64, 64, None, None], [None] * 4, [48, 48, 50, 50]])
    second = one_hot([[76] * 4, [None] * 4, [None] * 4, [48, 48, 48, 48]])
    distribution = voice_pitch_distribution(torch.cat([first, second]))
    expected = torch.zeros(4, CONFIG.n_classes - 1)
    expected[0, 72 - 33] = expected[0, 76 - 33] = 0.5
    expected[1, 64 - 33] = 1.0
    expected[3, 48 - 33], expected[3, 50 - 33] = 6 / 8, 2 / 8
    assert torch.equal(distribution, expected)


def test_bar_pitch_class_pairs_count_the_bars_where_two_classes_both_sound():
    # Bar one: F in the soprano, F sharp in the alto (one step), C in the bass, an octave
    # apart from the tenor's C. Bar two (another window): only G and B.
    first = one_hot([[77] * 4, [66, None, None, None], [60] * 4, [48] * 4])
    second = one_hot([[71] * 4, [67] * 4, [None] * 4, [None] * 4])
    pairs = bar_pitch_class_pairs(torch.cat([first, second]), CONFIG)
    c, f, f_sharp, g, b = 0, 5, 6, 7, 11
    expected = torch.zeros(12, 12)
    for classes in ((c, f, f_sharp), (g, b)):
        for i in classes:
            for j in classes:
                expected[i, j] = 0.5  # one bar in two
    assert torch.equal(pairs, expected)


def test_bar_pitch_class_pairs_give_gradients():
    logits = torch.zeros(2, 4, 4, CONFIG.n_classes, requires_grad=True)
    bar_pitch_class_pairs(logits.softmax(dim=-1), CONFIG)[5, 6].backward()
    assert logits.grad.abs().sum() > 0


def test_texture_statistics_give_gradients():
    logits = torch.zeros(1, 4, 4, CONFIG.n_classes, requires_grad=True)
    onset_logits = torch.zeros(1, 4, 4, requires_grad=True)
    pitch = logits.softmax(dim=-1)
    TextureStatistics(CONFIG)(pitch, onset_logits.sigmoid()).sum().backward()
    assert logits.grad.abs().sum() > 0 and onset_logits.grad.abs().sum() > 0


def test_sixteenth_refinement_starts_as_an_eighth_note_model():
    config = MuseGANConfig(
        n_classes=55,
        steps_per_bar=16,
        generated_steps_per_bar=8,
        sixteenth_refinement=True,
        channels=16,
        temporal_channels=16,
    )
    output = MuseGANGenerator(config)(Noise.sample(config, 3, generator=torch.Generator()))
    pitch = output.pitch_logits.argmax(dim=-1)
    assert pitch.shape == (3, 4, 64)
    assert torch.equal(pitch[:, :, 1::2], pitch[:, :, 0::2])  # second sixteenths hold
    assert (output.onset_logits[:, :, 1::2] < 0).all()  # and do not restrike
    with pytest.raises(ValueError, match="two steps per decision"):
        MuseGANGenerator(MuseGANConfig(generated_steps_per_bar=16, sixteenth_refinement=True))


def test_a_mode_conditioned_model_writes_and_judges_each_window_in_its_mode():
    config = MuseGANConfig(channels=16, temporal_channels=16, critic_channels=16, modes=2)
    generator, critic = MuseGANGenerator(config), Critic(config)
    always_minor = replace(config, minor_share=1.0)
    assert Noise.sample(config, 8).mode.tolist() == [0] * 8  # no minor windows in the data
    assert Noise.sample(always_minor, 8).mode.tolist() == [1] * 8
    noise = Noise.sample(config, 2, generator=torch.Generator().manual_seed(0))
    major = generator(noise).pitch_logits
    noise.mode = torch.ones(2, dtype=torch.long)
    minor = generator(noise).pitch_logits
    assert not torch.allclose(major, minor)
    pitch = F.one_hot(minor.argmax(dim=-1), config.n_classes).float()
    onset = torch.zeros(pitch.shape[:3])
    assert critic(pitch, onset, noise.mode).shape == (2,)
    with pytest.raises(ValueError, match="give each window's mode"):
        critic(pitch, onset)


def test_window_modes_tell_a_major_window_from_a_minor_one():
    encoding = Encoding(lowest_pitch=48, n_pitches=36)
    c_major = [60, 62, 64, 65, 67, 69, 71, 72]  # the C major scale, then its triad
    a_minor = [57, 59, 60, 62, 64, 65, 68, 69]  # A harmonic minor, with its G sharp
    windows = [
        [[p - 48 for p in c_major + [60, 64, 67, 72] * 2]] * 4,
        [[p - 48 for p in a_minor + [57, 60, 64, 69] * 2]] * 4,
        [[encoding.rest] * 16] * 4,
    ]
    assert window_modes(torch.tensor(windows), encoding).tolist() == [0, 1, 0]
