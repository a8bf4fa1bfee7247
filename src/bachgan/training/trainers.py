"""One training step per architecture: the conditional completion model (the default), the
unconditional WGAN-GP MuseGAN-class baseline and the seed DCGAN.

Each trainer owns its models, optimizers and data and exposes the same small interface to the
loop in :mod:`bachgan.training.train`: ``step``, ``state_dict``, ``load_state_dict``, ``wrap`` (for
DDP) and ``evaluate``.
"""

from __future__ import annotations

import copy
from typing import Protocol

import numpy as np
import torch
from torch.nn import functional as F

from ..config import COMPLETION_SIZES, MODEL_SIZES, TrainConfig
from ..encoding import CHORALE_ENCODING, decode
from ..evaluation.metrics import piece_features
from ..generation.binarize import decode_output
from ..generation.completion import Revisions, compose_chorales
from ..io.corpus import load_rolls
from ..io.images import seed_training_images
from ..models import (
    Critic,
    MuseGANConfig,
    MuseGANGenerator,
    Noise,
    SeedConfig,
    SeedDiscriminator,
    SeedGenerator,
)
from ..models.conditional import (
    CompletionConfig,
    CompletionGenerator,
    complete,
    completion_critic,
    critic_extra,
    ending_steps,
    random_masks,
)
from ..models.losses import TrainingWindows, generator_terms
from ..models.musegan import GeneratorOutput, critic_input
from .monitor import score_samples
from .windows import load_windows, transpose_batch, window_modes

__all__ = ["CompletionTrainer", "MuseGANTrainer", "SeedTrainer", "Trainer"]


_EVAL_PIECES = 128


class Trainer(Protocol):
    data: object
    shown: tuple[str, ...]

    def step(self, batches) -> dict[str, float]: ...
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict) -> None: ...
    def start_from(self, checkpoint: dict) -> None: ...
    def wrap(self, wrapper) -> None: ...
    def evaluate(self, writer, step: int) -> float | None: ...


class MuseGANTrainer:
    """WGAN-GP: ``n_critic`` critic steps on fresh real batches, then one generator step;
    an exponential moving average of the generator is kept for sampling."""

    shown = ("critic", "generator", "wasserstein", "faults", "texture", "pitches", "pairs")

    def __init__(self, config: TrainConfig, device: torch.device) -> None:
        self.config, self.device = config, device
        self._load_windows()
        encoding = self.data.encoding
        self.model_config = MuseGANConfig(**self._data_sizes(), **MODEL_SIZES[config.model_size])
        self.generator = MuseGANGenerator(self.model_config).to(device)
        self.critic = Critic(self.model_config).to(device)
        windows = TrainingWindows(
            self.data.pitch,
            self.data.onset,
            lambda pitch, rng: transpose_batch(pitch, encoding, config.transpose, rng),
            copies=8 if config.transpose else 1,
            seed=config.seed,
        )
        self.terms = generator_terms(
            self.model_config,
            windows,
            config.voice_leading_weight,
            config.texture_weight,
            config.pitch_distribution_weight,
            config.pitch_class_pairs_weight,
            config.count_crossings,
        )
        for weighted in self.terms:
            weighted.term.to(device)
        self._start_optimising()

    def _load_windows(self) -> None:
        """The training windows and, for a mode-conditioned model, each one's mode (0 major,
        1 minor)."""
        config = self.config
        self.data = load_windows(
            config.data,
            config.bars,
            config.normalize_key,
            config.transpose,
            base=CHORALE_ENCODING,
            meters=config.time_signatures(),
        )
        conditioned = config.mode_conditioning
        self.modes = window_modes(self.data.pitch, self.data.encoding) if conditioned else None

    def _data_sizes(self) -> dict:
        """The model sizes that the data decide: the grid, the pitches, each voice's range
        and, for a mode-conditioned model, the modes and how often minor occurs."""
        encoding = self.data.encoding
        sizes = {
            "n_classes": encoding.n_classes,
            "steps_per_bar": encoding.steps_per_bar,
            "bars": self.config.bars,
            "lowest_pitch": encoding.lowest_pitch,
            "voice_ranges": encoding.voice_ranges,
            "modes": 0,
            "minor_share": 0.0,
        }
        if self.modes is not None:
            sizes.update(modes=2, minor_share=self.modes.float().mean().item())
        return sizes

    def _start_optimising(self) -> None:
        """The EMA copy, the optimizers and the augmentation RNG, once the generator and the
        critic exist."""
        config = self.config
        self.ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.g, self.d = self.generator, self.critic
        rate, betas = config.learning_rate, tuple(config.betas)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), rate, betas=betas)
        self.opt_d = torch.optim.Adam(self.critic.parameters(), rate, betas=betas)
        self.augment_rng = torch.Generator().manual_seed(config.seed)
        self.steps_done = 0
        self._reference: np.ndarray | None = None

    def wrap(self, wrapper) -> None:
        self.g, self.d = wrapper(self.generator), wrapper(self.critic)

    def _real(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pitch = transpose_batch(
            self.data.pitch[indices], self.data.encoding, self.config.transpose, self.augment_rng
        )
        one_hot = F.one_hot(pitch, self.model_config.n_classes).float()
        return one_hot.to(self.device), self.data.onset[indices].to(self.device)

    def _real_modes(self, indices: torch.Tensor) -> torch.Tensor | None:
        return None if self.modes is None else self.modes[indices].to(self.device)

    def _fake(
        self, batch: int, module, mode: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A generated batch as the critic sees it; a conditioned generator writes each
        window in the given ``mode`` (those of the real batch it is compared with)."""
        noise = Noise.sample(self.model_config, batch, device=self.device)
        noise.mode = mode
        return critic_input(module(noise))

    def step(self, batches) -> dict[str, float]:
        batch = self.config.batch_size
        for _ in range(self.config.n_critic):
            indices = batches.next()
            real_pitch, real_onset = self._real(indices)
            mode = self._real_modes(indices)
            with torch.no_grad():
                fake = self._fake(batch, self.generator, mode)
            critic_losses = self._critic_step((real_pitch, real_onset), fake, mode)
        self.critic.requires_grad_(False)
        fake_pitch, fake_onset = self._fake(batch, self.g, mode)
        adversarial = -self.critic(fake_pitch, fake_onset, mode).mean()
        values = {}
        loss_g = adversarial
        for weighted in self.terms:
            value = weighted.term(fake_pitch, fake_onset, real_pitch, real_onset)
            values[weighted.name] = value.item()
            loss_g = loss_g + weighted.weight * value
        self._generator_update(loss_g)
        return {**critic_losses, "generator": adversarial.item(), **values}

    def _generator_update(self, loss_g: torch.Tensor) -> None:
        """One generator step on ``loss_g`` (the critic was frozen for it), then the EMA."""
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.critic.requires_grad_(True)
        self.steps_done += 1
        self._update_ema()

    def _critic_step(
        self,
        real: tuple[torch.Tensor, torch.Tensor],
        fake: tuple[torch.Tensor, torch.Tensor],
        mode: torch.Tensor | None,
        extra: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> dict[str, float]:
        """One WGAN-GP critic update on ``real`` and ``fake`` (pitch, onset) batches (with
        the ``extra`` inputs and bar ``positions`` of a completion critic); the penalty is
        taken on interpolates of pitches and onsets together."""
        (real_pitch, real_onset), (fake_pitch, fake_onset) = real, fake
        batch = len(real_pitch)
        mix = torch.rand(batch, 1, 1, device=self.device)
        mixed_pitch = mix[..., None] * real_pitch + (1 - mix[..., None]) * fake_pitch
        mixed_onset = mix * real_onset + (1 - mix) * fake_onset
        mixed_pitch.requires_grad_(True)
        mixed_onset.requires_grad_(True)
        scores = self.d(
            torch.cat([real_pitch, fake_pitch, mixed_pitch]),
            torch.cat([real_onset, fake_onset, mixed_onset]),
            None if mode is None else mode.repeat(3),
            None if extra is None else extra.repeat(3, 1, 1),
            None if positions is None else positions.repeat(3, 1),
        )
        real_score, fake_score, mixed_score = scores.split(batch)
        grads = torch.autograd.grad(
            mixed_score.sum(), [mixed_pitch, mixed_onset], create_graph=True
        )
        norm = grads[0].square().sum(dim=(1, 2, 3)) + grads[1].square().sum(dim=(1, 2)) + 1e-12
        penalty = (norm.sqrt() - 1).square().mean()
        wasserstein = real_score.mean() - fake_score.mean()
        loss_d = -wasserstein + self.config.gp_lambda * penalty
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return {
            "critic": loss_d.item(),
            "wasserstein": wasserstein.item(),
            "gradient_penalty": penalty.item(),
        }

    @torch.no_grad()
    def _update_ema(self) -> None:
        """Average with a warm-up, so that short runs are not dominated by the initial
        weights: the decay grows as (1 + n) / (10 + n) up to ``ema_decay``."""
        decay = min(self.config.ema_decay, (1 + self.steps_done) / (10 + self.steps_done))
        ema = list(self.ema.parameters())
        torch._foreach_lerp_(ema, list(self.generator.parameters()), 1 - decay)

    def state_dict(self) -> dict:
        return {
            "model_config": self.model_config.to_dict(),
            "encoding": self.data.encoding.to_dict(),
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "ema": self.ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "augment_rng": self.augment_rng.get_state(),
            "steps_done": self.steps_done,
        }

    def load_state_dict(self, state: dict) -> None:
        if MuseGANConfig.from_dict(state["model_config"]) != self.model_config:
            raise ValueError("the checkpoint's model sizes or voice ranges differ")
        self._load_weights(state)

    def start_from(self, checkpoint: dict) -> None:
        """Begin with another run's weights (fine-tuning): its generator, its average (an
        exported model holds the average only, which then starts both) and its critic when
        it holds one; the model sizes must match, the voice ranges may differ."""
        self.generator.load_state_dict(checkpoint.get("generator", checkpoint["ema"]))
        self.ema.load_state_dict(checkpoint["ema"])
        if "critic" in checkpoint:
            self.critic.load_state_dict(checkpoint["critic"])

    def _load_weights(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.critic.load_state_dict(state["critic"])
        self.ema.load_state_dict(state["ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.augment_rng.set_state(state["augment_rng"].cpu())
        self.steps_done = int(state["steps_done"])

    def evaluate(self, writer, step: int) -> float:
        """128 samples of the EMA generator scored against 128 training windows and logged
        (:func:`bachgan.training.monitor.score_samples`). Returns the two-sample classifier's
        accuracy,
        by which the best checkpoint is chosen: the Fréchet distance of these few features
        swings too much from one evaluation to the next to choose checkpoints by."""
        noise = Noise.sample(
            self.model_config, _EVAL_PIECES, generator=torch.Generator().manual_seed(0)
        )
        with torch.no_grad():
            rolls = decode_output(self.ema(noise.to(self.device)), self.data.encoding)
        return score_samples(rolls, self._reference_features(), writer, step)

    def _reference_features(self) -> np.ndarray:
        if self._reference is None:
            count = min(_EVAL_PIECES, len(self.data))  # a small data set: all its windows
            chosen = np.random.default_rng(0).choice(len(self.data), count, replace=False)
            rolls = [
                decode(
                    self.data.pitch[i].numpy(), self.data.onset[i].numpy() > 0, self.data.encoding
                )
                for i in chosen
            ]
            self._reference = np.array([piece_features(roll) for roll in rolls])
        return self._reference


class CompletionTrainer(MuseGANTrainer):
    """The conditional model: each real window gets a random mask (:func:`random_masks`); the
    generator completes it, the critic compares completed and real windows with the mask as
    an input, and the generator's loss adds the reconstruction cross-entropy of the cells it
    wrote. Shares the WGAN-GP critic step, the EMA and the checkpoint state with
    :class:`MuseGANTrainer`."""

    shown = ("critic", "generator", "wasserstein", "reconstruction")

    def __init__(self, config: TrainConfig, device: torch.device) -> None:
        self.config, self.device = config, device
        self._load_windows()
        sizes = COMPLETION_SIZES[config.model_size]
        meters = self.data.meters
        self.model_config = CompletionConfig(**self._data_sizes(), **sizes, meters=meters)
        self.generator = CompletionGenerator(self.model_config).to(device)
        self.critic = completion_critic(self.model_config).to(device)
        self._start_optimising()

    def _masks(self, batch: int, steps: int) -> torch.Tensor:
        config = self.model_config
        masks = random_masks(batch, config.n_voices, steps, config.steps_per_beat, self.augment_rng)
        return masks.to(self.device)

    def _completed(self, module, real, mask, mode, ending, positions):
        """The generator's output for ``real`` under ``mask`` and the completed windows."""
        pitch, onset = real
        noise = self.generator.noise(len(pitch), pitch.shape[2], device=self.device)
        output = module(pitch, onset, mask, noise, mode, ending, positions)
        return output, complete(output, pitch, onset, mask)

    def _ending(self, indices: torch.Tensor, steps: int) -> torch.Tensor:
        ends = self.data.ends[indices].to(self.device)
        return ending_steps(ends, steps, self.data.bar_steps[indices])

    def step(self, batches) -> dict[str, float]:
        adversarial_weight = self.config.adversarial_weight
        critic_losses: dict[str, float] = {}
        for _ in range(self.config.n_critic if adversarial_weight else 1):
            indices = batches.next()
            real, mode = self._real(indices), self._real_modes(indices)
            steps = real[0].shape[2]
            mask, ending = self._masks(len(indices), steps), self._ending(indices, steps)
            positions = self.data.positions(indices).to(self.device)
            if adversarial_weight:
                with torch.no_grad():
                    _, fake = self._completed(self.generator, real, mask, mode, ending, positions)
                extra = critic_extra(mask, ending)
                critic_losses = self._critic_step(real, fake, mode, extra, positions)
        self.critic.requires_grad_(False)
        output, fake = self._completed(self.g, real, mask, mode, ending, positions)
        reconstruction = _reconstruction(output, real, mask)
        loss_g = self.config.reconstruction_weight * reconstruction
        if adversarial_weight:
            adversarial = -self.critic(*fake, mode, critic_extra(mask, ending), positions).mean()
            loss_g = loss_g + adversarial_weight * adversarial
            critic_losses["generator"] = adversarial.item()
        self._generator_update(loss_g)
        return {**critic_losses, "reconstruction": reconstruction.item()}

    def load_state_dict(self, state: dict) -> None:
        if CompletionConfig.from_dict(state["model_config"]) != self.model_config:
            raise ValueError("the checkpoint's model sizes or voice ranges differ")
        self._load_weights(state)

    def evaluate(self, writer, step: int) -> float:
        """128 chorales composed by the EMA generator (one pass and the default revisions)
        scored against 128 training windows and logged, as :meth:`MuseGANTrainer.evaluate`."""
        rng = torch.Generator().manual_seed(0)
        config = self.model_config
        mode = (torch.rand(_EVAL_PIECES, generator=rng) < config.minor_share).long()
        steps = config.bars * config.steps_per_bar
        pitch, onset = compose_chorales(
            self.ema.cpu(), _EVAL_PIECES, steps, mode if config.modes else None, Revisions(), rng
        )
        self.ema.to(self.device)
        rolls = [
            decode(p.numpy(), o.numpy(), self.data.encoding)
            for p, o in zip(pitch, onset, strict=True)
        ]
        return score_samples(rolls, self._reference_features(), writer, step)


def _reconstruction(
    output: GeneratorOutput, real: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of the generated cells' pitches and onset bits against the real ones,
    averaged over the masked cells."""
    pitch, onset = real
    cells = mask.sum().clamp(min=1)
    pitch_loss = F.cross_entropy(
        output.pitch_logits.flatten(0, 2), pitch.argmax(dim=-1).flatten(), reduction="none"
    )
    onset_loss = F.binary_cross_entropy_with_logits(
        output.onset_logits.flatten(), onset.flatten(), reduction="none"
    )
    return ((pitch_loss + onset_loss) * mask.flatten()).sum() / cells


class SeedTrainer:
    """The article's loop: the discriminator on half a batch of real and half of generated
    images, then the generator on a full batch labelled "real"; binary cross-entropy."""

    shown = ("discriminator", "generator")

    def __init__(self, config: TrainConfig, device: torch.device) -> None:
        self.config, self.device = config, device
        rolls, _ = load_rolls(config.data)
        self.data = torch.from_numpy(seed_training_images(rolls))[:, None]
        self.model_config = SeedConfig()
        self.generator = SeedGenerator(self.model_config).to(device)
        self.critic = SeedDiscriminator(self.model_config).to(device)
        self.g, self.d = self.generator, self.critic
        betas = tuple(config.betas)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), config.learning_rate, betas)
        self.opt_d = torch.optim.Adam(self.critic.parameters(), config.learning_rate, betas)

    def wrap(self, wrapper) -> None:
        self.g, self.d = wrapper(self.generator), wrapper(self.critic)

    def step(self, batches) -> dict[str, float]:
        batch = self.config.batch_size
        half = batch // 2
        real = self.data[batches.next()[:half]].to(self.device)
        with torch.no_grad():
            fake = self.generator(
                torch.randn(batch - half, self.model_config.latent, device=self.device)
            )
        images = torch.cat([real, fake])
        labels = torch.cat([torch.ones(half), torch.zeros(batch - half)]).to(self.device)
        loss_d = F.binary_cross_entropy(self.d(images), labels)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        self.critic.requires_grad_(False)
        generated = self.g(torch.randn(batch, self.model_config.latent, device=self.device))
        loss_g = F.binary_cross_entropy(
            self.critic(generated), torch.ones(batch, device=self.device)
        )
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.critic.requires_grad_(True)
        return {"discriminator": loss_d.item(), "generator": loss_g.item()}

    def state_dict(self) -> dict:
        return {
            "model_config": self.model_config.to_dict(),
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
        }

    def start_from(self, checkpoint: dict) -> None:
        """Begin with another seed run's generator and discriminator (fine-tuning)."""
        self.generator.load_state_dict(checkpoint["generator"])
        self.critic.load_state_dict(checkpoint["critic"])

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.critic.load_state_dict(state["critic"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])

    def evaluate(self, writer, step: int) -> None:
        """Pictures of two samples; the seed model has no music metrics of its own."""
        if not writer:
            return None
        z = torch.randn(2, self.model_config.latent, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            images = self.generator.eval()(z.to(self.device))
        self.generator.train()
        for index, image in enumerate(images):
            writer.add_image(f"samples/{index}", image.cpu(), step)
