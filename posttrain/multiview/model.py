"""Multi-view DiT for the driving scene: V camera views denoised jointly, conditioned on ego actions.

    net = MultiViewDiT(MultiViewDiTConfig(dit=DiTConfig(in_channels=48 + 7, ...), latent_channels=48,
                                          views=ViewEmbedConfig(num_views=6, channels=7), action_dim=2))
    out = net(x, c_noise, actions, cond_mask)   # x (B, C, V*T, h, w) folded view-major -> like x
    widen_base_into(net, "runs/base")           # a base video DiT: shared weights, new channels zero

Each view's latents get the learned view embedding as extra channels
(worldsim/conditioning/view_embed.py); the DiT runs with ``views=V`` (RoPE restarted per view,
joint self-attention over all views' tokens). ``cond_mask`` (B, V*T) marks every view's
conditioning frames (the first frame of every view); ``actions`` (B, V*T, A) holds the ego action
that leads to each frame (zero on conditioning frames), embedded per latent frame and added to
that frame's AdaLN embedding (worldsim/diffusion/action_embed.py, as posttrain/action/model.py does).
The DiT's output has C + E channels; the view channels' outputs are dropped.

``StateDeltaHead`` gives the world model its low-dimensional observation: from the current and
the generated latents of all views (side by side in width), the current (predicted) state and the
action it regresses the change of ``agent_pos ++ environment_state`` over the step; the env
integrates it (ego dynamics integrated from predicted state, never read from a simulator).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from posttrain.common.base import BASE_ARCHITECTURE
from worldsim import io as wio
from worldsim.conditioning.view_embed import ViewEmbedConfig, ViewEmbedding, fold_frames, fold_views, unfold_views
from worldsim.conditioning.view_embed import views_from_width, views_to_width
from worldsim.diffusion.action_embed import ActionEmbedder
from worldsim.diffusion.dit import DiT, DiTConfig


@dataclass
class MultiViewDiTConfig:
    """``dit.in_channels`` must be ``latent_channels + views.channels``."""

    dit: DiTConfig = field(default_factory=DiTConfig)
    latent_channels: int = 16
    views: ViewEmbedConfig = field(default_factory=ViewEmbedConfig)
    action_dim: int = 2

    def check(self) -> None:
        want = self.latent_channels + self.views.channels
        if self.dit.in_channels != want:
            raise ValueError(f"dit.in_channels={self.dit.in_channels} must be latent_channels + views.channels "
                             f"= {self.latent_channels} + {self.views.channels} = {want}")


class MultiViewDiT(nn.Module):
    """``dit`` (keys as a base DiT's under ``dit.``) + ``view_embed`` + ``action_embedder``."""

    def __init__(self, cfg: MultiViewDiTConfig):
        super().__init__()
        cfg.check()
        self.cfg = cfg
        self.dit = DiT(cfg.dit)
        self.view_embed = ViewEmbedding(cfg.views)
        self.action_embedder = ActionEmbedder(cfg.action_dim, cfg.dit.hidden_size)

    @property
    def num_views(self) -> int:
        return self.cfg.views.num_views

    def forward(self, x: Tensor, c_noise: Tensor, actions: Tensor, cond_mask: Tensor) -> Tensor:
        """x (B, C, V*T, h, w), c_noise (B,), actions (B, V*T, A), cond_mask (B, V*T) -> (B, C, V*T, h, w)."""
        c = self.cfg.latent_channels
        if x.ndim != 5 or x.shape[1] != c:
            raise ValueError(f"x must be (B, {c}, V*T, h, w) latents, got {tuple(x.shape)}")
        if actions.shape[:2] != (x.shape[0], x.shape[2]):
            raise ValueError(f"actions {tuple(actions.shape)} must be (B, V*T, A) for latents {tuple(x.shape)}")
        h = self.view_embed(x, self.num_views)  # (B, C + E, V*T, h, w)
        extra = self.action_embedder(actions, cond_mask)  # (B, V*T, hidden)
        out = self.dit(h, c_noise, extra_emb=extra, cond_mask=cond_mask, views=self.num_views)
        return out[:, :c]


def multiview_inputs(context: Tensor, action: Tensor, slot: Tensor, views: int) -> tuple[Tensor, Tensor, Tensor]:
    """One step's DiT inputs from views side by side in width: context (B, C, K, h, V*w), action (B, A),
    slot (B, C, h, V*w) -> x (B, C, V*(K+1), h, w) folded view-major, cond_mask (B, V*(K+1)) true on
    every view's K context frames, actions (B, V*(K+1), A) with the action on every view's last frame."""
    b, _, k = context.shape[:3]
    clip = torch.cat([context, slot[:, :, None]], dim=2)  # (B, C, K+1, h, V*w)
    x = fold_views(views_from_width(clip, views), views)
    mask = torch.zeros(b * views, k + 1, dtype=torch.bool, device=context.device)
    mask[:, :k] = True
    actions = torch.zeros(b * views, k + 1, action.shape[-1], dtype=context.dtype, device=context.device)
    actions[:, k] = action.to(context.dtype).repeat_interleave(views, dim=0)
    return x, fold_frames(mask, views), fold_frames(actions, views)


def last_frames(x: Tensor, views: int) -> Tensor:
    """Folded clips (B, C, V*T, h, w) -> every view's last frame side by side (B, C, h, V*w)."""
    return views_to_width(unfold_views(x, views)[:, :, -1:], views)[:, :, 0]


@dataclass
class StateDeltaHeadConfig:
    latent_channels: int = 16
    latent_hw: tuple[int, int] = (8, 48)   # (h, V*w): views side by side
    state_dim: int = 4                     # agent_pos ++ environment_state
    action_dim: int = 2
    channels: int = 32
    hidden: int = 256


class StateDeltaHead(nn.Module):
    """cat(z_t, z_t+1) (B, 2C, h, V*w), state (B, S), action (B, A) -> normalised state change (B, S)."""

    def __init__(self, cfg: StateDeltaHeadConfig):
        super().__init__()
        self.cfg = cfg
        self.conv_1 = nn.Conv2d(2 * cfg.latent_channels, cfg.channels, 3, padding=1)
        self.conv_2 = nn.Conv2d(cfg.channels, cfg.channels, 3, stride=2, padding=1)
        h, w = ((n + 1) // 2 for n in cfg.latent_hw)
        self.mlp_1 = nn.Linear(cfg.channels * h * w + cfg.state_dim + cfg.action_dim, cfg.hidden)
        self.mlp_2 = nn.Linear(cfg.hidden, cfg.state_dim)
        for name in ("state_mean", "state_std", "delta_mean", "delta_std"):
            self.register_buffer(name, torch.zeros(cfg.state_dim) if "mean" in name else torch.ones(cfg.state_dim))

    def set_normalization(self, state_mean, state_std, delta_mean, delta_std) -> None:
        for name, value in zip(("state_mean", "state_std", "delta_mean", "delta_std"),
                               (state_mean, state_std, delta_mean, delta_std)):
            value = torch.as_tensor(value, dtype=torch.float32)
            getattr(self, name).copy_(value.clamp_min(1e-6) if "std" in name else value)

    def normalized(self, current: Tensor, nxt: Tensor, state: Tensor, action: Tensor) -> Tensor:
        h = F.gelu(self.conv_2(F.gelu(self.conv_1(torch.cat([current, nxt], dim=1)))))  # (B, ch, h/2, w/2)
        s = (state - self.state_mean) / self.state_std
        return self.mlp_2(F.gelu(self.mlp_1(torch.cat([h.flatten(1), s, action.to(s.dtype)], dim=-1))))

    def forward(self, current: Tensor, nxt: Tensor, state: Tensor, action: Tensor) -> Tensor:
        """The next state (B, S): the current one plus the predicted change."""
        return state + self.normalized(current, nxt, state, action) * self.delta_std + self.delta_mean

    def loss(self, current: Tensor, nxt: Tensor, state: Tensor, action: Tensor, next_state: Tensor) -> Tensor:
        target = (next_state - state - self.delta_mean) / self.delta_std
        return F.mse_loss(self.normalized(current, nxt, state, action), target)


class MultiViewNetwork(nn.Module):
    """What ``worldsim posttrain multiview`` trains: the multi-view ``dynamics`` and the ``state_head``."""

    def __init__(self, dynamics: MultiViewDiT, state_head: StateDeltaHead):
        super().__init__()
        self.dynamics = dynamics
        self.state_head = state_head


@torch.no_grad()
def widen_base_into(net: MultiViewDiT, path: str, ema: bool = False) -> None:
    """Load a base video DiT (``worldsim train base``) into ``net.dit``: every shared weight is copied;
    the input embedding gains zero columns for the view channels (so at first they change nothing)
    and the final layer's extra rows (outputs of the view channels, dropped) stay as they are."""
    found = wio.resolve_checkpoint(path)
    wio.check_architecture(found, BASE_ARCHITECTURE)
    base = wio.read_tensors(found / (wio.EMA if ema else wio.MODEL))
    own = wio.tensor_state(net.dit)
    c, e = net.cfg.latent_channels, net.cfg.views.channels
    pv = int(torch.tensor(net.cfg.dit.patch_size).prod())
    key_in, key_out = "x_embedder.proj.weight", "final_layer.linear.weight"
    if key_in not in base or base[key_in].shape != (own[key_in].shape[0], (c + 1) * pv):
        got = tuple(base[key_in].shape) if key_in in base else None
        raise ValueError(f"{path}: base {key_in} is {got}; a base for {c} latent channels, hidden "
                         f"{own[key_in].shape[0]} and patch {net.cfg.dit.patch_size} has "
                         f"{(own[key_in].shape[0], (c + 1) * pv)}")
    w_in = torch.zeros_like(own[key_in]).reshape(-1, c + e + 1, pv)  # (hidden, C + E + 1, p)
    b_in = base[key_in].reshape(-1, c + 1, pv)
    w_in[:, :c], w_in[:, c + e] = b_in[:, :c], b_in[:, c]  # latents and the cond channel; views zero
    w_out = own[key_out].clone()
    w_out[: c * pv] = base[key_out]
    merged = {**base, key_in: w_in.reshape(own[key_in].shape), key_out: w_out}
    wio.check_matches(found, merged, own)
    wio.load_tensor_state(net.dit, merged)
