"""The training step of the sequential model (:mod:`bachgan.models.sequential`).

Each real window gets a random mask (:func:`~bachgan.models.conditional.random_masks`) and,
with ``transpose``, a random shift, its tonic told to the model; its ending input marks the
bars where its phrases close (a fermata's bar, and the last bar of a piece) and, apart, a
piece's last bar, so that the model learns to close a phrase where it is asked to, on
whatever degree Bach would, and a piece on its tonic; a third row marks the first bar of a
window that begins its piece, where Bach opens on the tonic. A quarter of each batch is drawn
from such opening and closing windows.

The generator learns by teacher forcing: the cross-entropy of every masked cell's token given
the real cells before it (the reconstruction). With ``adversarial_weight`` above 0 the critic
of the completion model (:func:`~bachgan.models.conditional.completion_critic`) compares real
windows with windows the generator wrote itself, a cell at a time from its own earlier
choices, as it writes when composing; and the generator learns from the critic by policy
gradient (as SeqGAN): the choices that lead to bars the critic finds more real than the
batch's average become likelier, the others less likely. Teacher forcing never shows the model
its own mistakes; the critic does.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from ..config import SEQUENTIAL_SIZES, TrainConfig
from ..encoding import decode
from ..errors import BachganError
from ..generation.sequential import MINOR_TONIC, write_chorale
from ..models.conditional import completion_critic, critic_extra
from ..models.sequential import SequentialConfig, SequentialGenerator, from_tokens, to_tokens
from .monitor import score_samples
from .trainers import _EVAL_PIECES, CompletionTrainer
from .windows import transposed_batch

__all__ = ["EDGE_SHARE", "SequentialTrainer", "advantages_to_go"]

#: The share of each batch drawn from the windows that begin or end a piece (about 8 % of
#: the windows each in the chorales).
EDGE_SHARE = 0.25


class SequentialTrainer(CompletionTrainer):
    """Teacher-forced reconstruction, and with ``adversarial_weight`` the WGAN-GP critic
    (see the module docstring). Shares the masks, the EMA and the checkpoint state with
    :class:`~bachgan.training.trainers.CompletionTrainer`."""

    def __init__(self, config: TrainConfig, device: torch.device) -> None:
        self.config, self.device = config, device
        self._load_windows()
        tonics = 12 if config.transpose and self.modes is not None else 0
        self.model_config = SequentialConfig(
            **self._data_sizes(),
            **SEQUENTIAL_SIZES[config.model_size],
            meters=self.data.meters,
            tonics=tonics,
            writing_ranges=self.data.sung_ranges,
            marks_opening=True,
        )
        self.generator = SequentialGenerator(self.model_config).to(device)
        self.critic = completion_critic(self.model_config).to(device)
        self._start_optimising()

    def wrap(self, wrapper) -> None:
        if self.config.adversarial_weight:
            raise BachganError(
                "the sequential model trains with its critic in one process only; "
                "set adversarial_weight to 0 to train it on several"
            )
        super().wrap(wrapper)

    def _tokens(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The windows ``indices`` as tokens ``(B, V, T)``, randomly transposed, and each
        one's tonic (``None`` for a model without tonics)."""
        pitch, shifts = transposed_batch(
            self.data.pitch[indices], self.data.encoding, self.config.transpose, self.augment_rng
        )
        tokens = to_tokens(pitch, self.data.onset[indices], self.data.encoding.rest)
        tonic = None
        if self.model_config.tonics:
            tonic = (shifts + MINOR_TONIC * self.modes[indices]) % 12
            tonic = tonic.to(self.device)
        return tokens.to(self.device), tonic

    def _ending(self, indices: torch.Tensor, steps: int) -> torch.Tensor:
        """``(B, 3, T)``: 1 on the bars where a phrase closes (its fermata's bar, and the
        last bar of a window that ends its piece); apart, 1 on that last bar; and 1 on the
        first bar of a window that begins its piece."""
        piece_end = super()._ending(indices, steps)
        closes = torch.maximum(piece_end, self.data.closes[indices].to(self.device))
        first_bar = torch.arange(steps) < self.data.bar_steps[indices, None]
        opening = (self.data.starts[indices, None] & first_bar).float().to(self.device)
        return torch.stack([closes, piece_end, opening], dim=1)

    def _with_edges(self, indices: torch.Tensor) -> torch.Tensor:
        """``indices`` with a share of them (:data:`EDGE_SHARE`) replaced by windows that
        begin or end a piece, drawn at random: a piece has one of each among its many
        windows, and its opening and close are what a listener hears first and last."""
        edges = torch.nonzero(self.data.starts | self.data.ends)[:, 0]
        if not len(edges):
            return indices
        replaced = torch.rand(len(indices), generator=self.augment_rng) < EDGE_SHARE
        drawn = edges[torch.randint(len(edges), (len(indices),), generator=self.augment_rng)]
        return torch.where(replaced, drawn, indices)

    def step(self, batches) -> dict[str, float]:
        indices = self._with_edges(batches.next())
        tokens, tonic = self._tokens(indices)
        mode = self._real_modes(indices)
        steps = tokens.shape[2]
        mask, ending = self._masks(len(indices), steps), self._ending(indices, steps)
        positions = self.data.positions(indices).to(self.device)
        conditions = (mode, tonic, ending, positions)
        logits = self.g(tokens, mask, *conditions)
        reconstruction = _masked_cross_entropy(logits, tokens, mask)
        loss_g = self.config.reconstruction_weight * reconstruction
        losses = {"reconstruction": reconstruction.item()}
        if self.config.adversarial_weight:
            adversarial, critic_losses = self._adversarial(tokens, mask, conditions)
            losses.update(critic_losses)
            loss_g = loss_g + self.config.adversarial_weight * adversarial
            losses["generator"] = adversarial.item()
        self.critic.requires_grad_(False)
        self._generator_update(loss_g)
        return losses

    def _adversarial(
        self, tokens: torch.Tensor, mask: torch.Tensor, conditions: tuple
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The critic's update on the real windows and windows the generator wrote itself
        (the free cells drawn one at a time), and the generator's policy-gradient loss: the
        log-likelihood of each written cell, weighted by how much more real than the batch's
        average the critic finds the bar it lies in and the bars after it
        (:func:`advantages_to_go`; REINFORCE with the batch mean as baseline)."""
        mode, _, ending, positions = conditions
        extra = critic_extra(mask, ending[:, 0])
        pitch, onset = from_tokens(tokens, self.model_config.rest)
        real = (F.one_hot(pitch, self.model_config.n_classes).float(), onset.float())
        with torch.no_grad():
            drawn = self.generator.write(tokens, mask, *conditions, _sampled)
        losses = self._critic_step(real, (drawn.pitch, drawn.onset), mode, extra, positions)
        self.critic.requires_grad_(False)
        with torch.no_grad():
            scores = self.critic.bar_scores(drawn.pitch, drawn.onset, mode, extra, positions)
            advantage = advantages_to_go(scores, tokens.shape[2])
        written = drawn.tokens.argmax(dim=-1)
        logits = self.g(written, mask, *conditions)
        cells = F.cross_entropy(logits.permute(0, 3, 1, 2), written, reduction="none")
        weighted = (cells * mask * advantage[:, None]).sum(dim=(1, 2))
        return (weighted / mask.sum(dim=(1, 2)).clamp(min=1)).mean(), losses

    def load_state_dict(self, state: dict) -> None:
        if SequentialConfig.from_dict(state["model_config"]) != self.model_config:
            raise ValueError("the checkpoint's model sizes or voice ranges differ")
        self._load_weights(state)

    def evaluate(self, writer, step: int) -> float:
        """128 chorales written by the EMA generator, scored against 128 training windows
        and logged, as :meth:`~bachgan.training.trainers.MuseGANTrainer.evaluate`."""
        rng = torch.Generator().manual_seed(0)
        config = self.model_config
        mode = (torch.rand(_EVAL_PIECES, generator=rng) < config.minor_share).long()
        shape = (_EVAL_PIECES, config.n_voices, config.bars * config.steps_per_bar)
        ema = self.ema.cpu().eval()
        pitch, onset = write_chorale(
            ema,
            torch.full(shape, config.rest),
            torch.zeros(shape),
            torch.ones(shape),
            mode if config.modes else None,
            rng,
        )
        self.ema.to(self.device)
        rolls = [
            decode(p.numpy(), o.numpy(), self.data.encoding)
            for p, o in zip(pitch, onset, strict=True)
        ]
        return score_samples(rolls, self._reference_features(), writer, step)


def advantages_to_go(scores: torch.Tensor, steps: int) -> torch.Tensor:
    """Each step's advantage ``(B, T)`` from the critic's scores of each bar-long stretch of
    the windows ``(B, S)``: a stretch's score standardized over the batch, averaged with those
    of the stretches after it, since a choice shapes the music that follows it, not what came
    before."""
    advantage = (scores - scores.mean(dim=0)) / (scores.std(dim=0) + 1e-6)
    stretches = advantage.shape[1]
    remaining = torch.arange(stretches, 0, -1, device=scores.device)
    to_go = advantage.flip(1).cumsum(dim=1).flip(1) / remaining
    return to_go.repeat_interleave(-(-steps // stretches), dim=1)[:, :steps]


def _masked_cross_entropy(
    logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of the masked cells' tokens, averaged over them."""
    losses = F.cross_entropy(logits.flatten(0, 2), tokens.flatten(), reduction="none")
    return (losses * mask.flatten()).sum() / mask.sum().clamp(min=1)


def _sampled(logits: torch.Tensor) -> torch.Tensor:
    """A token drawn from the logits, one-hot."""
    picked = torch.multinomial(logits.softmax(dim=-1), 1)[:, 0]
    return F.one_hot(picked, logits.shape[-1]).float()
