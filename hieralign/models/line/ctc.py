"""The CTC line recogniser: height-normalised, width-preserving CNN + BiLSTM with a CTC head.

Output units are **Unicode code points (NFC)**, not grapheme clusters or stacks. A Tibetan
stack (root letter + subjoined letters + vowel signs) puts several code points at one
horizontal position, which CTC can still emit one after another as long as the stack spans
enough frames. At 48 px height with a total horizontal stride of 2, a stack is 10-20 frames
wide and holds at most 5 code points, so every line has >= 2 frames per code point (with
stride 4, 29 % of lines fall below that; DESIGN §5). Stacks as units would be a long-tailed
vocabulary (thousands of combinations, many seen a handful of times; any stack absent from
training text could never be read), while code points are 69 symbols that every stack is
spelled with. See docs/LINE_OCR.md for the measurement.

Saving follows the Hugging Face layout (`config.json` + `model.safetensors` in a folder,
through `huggingface_hub.PyTorchModelHubMixin`), so `from_pretrained` takes a local folder or a
hub id.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass, field, replace

import torch
from huggingface_hub import PyTorchModelHubMixin
from safetensors.torch import load_model
from torch import nn

BLANK = 0  # CTC blank index; real units start at 1
_HUB_ARGS = ("revision", "cache_dir", "force_download", "local_files_only", "token", "map_location", "strict", "proxies",
             "resume_download")


@dataclass
class LineRecognizerConfig:
    """Architecture and preprocessing contract of a `LineRecognizer` (saved as config.json)."""

    charset: str = ""  # output units in index order (index 0 = blank, not listed); NFC code points
    height: int = 48  # input height in px (images are resized to it, width kept)
    channels: list[int] = field(default_factory=lambda: [32, 64, 96, 128, 128])  # conv block widths (5 blocks)
    horizontal_stride: int = 2  # total width downsampling: 2 keeps >= 2 frames per code point
    lstm_hidden: int = 128  # BiLSTM hidden size per direction
    lstm_layers: int = 2  # stacked BiLSTM layers
    dropout: float = 0.1  # dropout before the LSTM and the head (training only)
    charset_hash: str = ""  # sha256 prefix of `charset`, checked on load (a mismatch = wrong decoder)

    def __post_init__(self) -> None:
        if len(self.channels) != 5:
            raise ValueError(f"channels must list 5 conv block widths, got {self.channels}")
        if self.horizontal_stride not in (1, 2, 4):
            raise ValueError("horizontal_stride must be 1, 2 or 4")
        if self.height % 16:
            raise ValueError(f"height must be a multiple of 16 (4 vertical poolings), got {self.height}")
        digest = charset_hash(self.charset)
        if self.charset_hash and self.charset_hash != digest:
            raise ValueError(f"charset hash mismatch: config says {self.charset_hash}, charset gives {digest}")
        self.charset_hash = digest


def charset_hash(charset: str) -> str:
    return hashlib.sha256(charset.encode("utf-8")).hexdigest()[:16]


def build_charset(texts: list[str]) -> str:
    """Sorted NFC code points of the texts (the recogniser's output units)."""
    return "".join(sorted({c for t in texts for c in unicodedata.normalize("NFC", t)}))


class Charset:
    """Text <-> unit ids (1-based; 0 is the CTC blank)."""

    def __init__(self, units: str):
        self.units = units
        self.index = {c: i + 1 for i, c in enumerate(units)}

    def __len__(self) -> int:
        return len(self.units) + 1  # + blank

    def encode(self, text: str) -> list[int]:
        """Unit ids of the NFC text; characters outside the charset are dropped (and cannot be read)."""
        return [self.index[c] for c in unicodedata.normalize("NFC", text) if c in self.index]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.units[i - 1] for i in ids if 0 < i <= len(self.units))


def _block(c_in: int, c_out: int, pool: tuple[int, int]) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    if pool != (1, 1):
        layers.append(nn.MaxPool2d(pool, pool))
    return nn.Sequential(*layers)


def _pools(stride: int) -> list[tuple[int, int]]:
    """Vertical /16 in four blocks; horizontal stride spread over the first blocks."""
    horizontal = {1: [1, 1, 1, 1], 2: [2, 1, 1, 1], 4: [2, 2, 1, 1]}[stride]
    return [(2, h) for h in horizontal] + [(1, 1)]


def reverse_within(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of a (T, B, C) batch inside its own length; padding stays at the end."""
    t = torch.arange(x.shape[0], device=x.device)[:, None]
    n = lengths.to(x.device)[None, :]
    idx = torch.where(t < n, n - 1 - t, t)
    return x.gather(0, idx[:, :, None].expand_as(x))


class MaskedBiLSTM(nn.Module):
    """A stacked BiLSTM over right-padded sequences without packing: the backward direction
    runs on each sequence reversed within its length, so padding never reaches a valid frame.
    (Packed sequences give the same result, but their backward pass is ~7x slower on CPU.)"""

    def __init__(self, input_size: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        sizes = [input_size] + [2 * hidden] * (layers - 1)
        self.forward_layers = nn.ModuleList(nn.LSTM(s, hidden) for s in sizes)
        self.backward_layers = nn.ModuleList(nn.LSTM(s, hidden) for s in sizes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        for i, (fwd, bwd) in enumerate(zip(self.forward_layers, self.backward_layers)):
            if i:
                x = self.dropout(x)
            ahead, _ = fwd(x)
            behind, _ = bwd(reverse_within(x, lengths))
            x = torch.cat([ahead, reverse_within(behind, lengths)], dim=-1)
        return x


class LineRecognizer(nn.Module, PyTorchModelHubMixin, library_name="hieralign", tags=["ocr", "ctc", "tibetan"]):
    """(B, 1, H, W) ink images + widths -> (T, B, units) CTC log-probabilities + frame lengths.

    Padded columns are zeroed after every block and the BiLSTM's backward direction starts at
    each line's own end, so an image's output does not depend on the other images of its batch."""

    def __init__(self, config: LineRecognizerConfig | dict):
        super().__init__()
        # the hub mixin hands config.json back as a dict (our annotations are strings, so it
        # cannot see the dataclass); building it here also re-checks the charset hash
        config = LineRecognizerConfig(**config) if isinstance(config, dict) else config
        self.config = config
        self.charset = Charset(config.charset)
        pools, chans = _pools(config.horizontal_stride), [1, *config.channels]
        self.blocks = nn.ModuleList(_block(chans[i], chans[i + 1], pools[i]) for i in range(5))
        self.widths = [p[1] for p in pools]
        feat = config.channels[-1] * (config.height // 16)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = MaskedBiLSTM(feat, config.lstm_hidden, config.lstm_layers, config.dropout)
        self.head = nn.Linear(2 * config.lstm_hidden, len(self.charset))

    def frame_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        """Output frames for input widths (floor division by each horizontal pooling)."""
        for w in self.widths:
            widths = torch.div(widths, w, rounding_mode="floor")
        return widths

    def forward(self, images: torch.Tensor, widths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, lengths = images, widths.to(images.device)
        for block, w in zip(self.blocks, self.widths):
            x = block(x)
            lengths = torch.div(lengths, w, rounding_mode="floor")
            keep = torch.arange(x.shape[-1], device=x.device)[None, :] < lengths[:, None]
            x = x * keep[:, None, None, :].to(x.dtype)  # padding stays blank paper for the next conv
        b, c, h, t = x.shape
        seq = self.dropout(x.permute(3, 0, 1, 2).reshape(t, b, c * h))
        out = self.lstm(seq, lengths)
        return self.head(self.dropout(out)).log_softmax(-1), lengths

    @classmethod
    def _from_pretrained(cls, *, model_id: str, **kwargs):
        """Local folders load strictly (every weight must match) and quietly; hub ids go through
        the mixin (which prints to stdout for local folders and defaults to strict=False)."""
        if not os.path.isdir(model_id):
            return super()._from_pretrained(model_id=model_id, **{**kwargs, "strict": True})
        model_kwargs = {k: v for k, v in kwargs.items() if k not in _HUB_ARGS}
        model = cls(**model_kwargs)
        load_model(model, os.path.join(model_id, "model.safetensors"), strict=True, device=kwargs.get("map_location", "cpu"))
        return model

    def with_units(self, extra: str) -> LineRecognizer:
        """A copy that also outputs the code points `extra` (appended, so every old unit keeps its
        index). Their head rows start at zero weight and the lowest old bias: a new unit begins
        as the least likely one instead of stealing frames from units the model already reads."""
        extra = "".join(c for c in dict.fromkeys(extra) if c not in self.charset.index)
        if not extra:
            return self
        config = replace(self.config, charset=self.config.charset + extra, charset_hash="")
        grown = type(self)(config)
        state = self.state_dict()
        old = len(self.charset)
        with torch.no_grad():
            weight, bias = torch.zeros_like(grown.head.weight), torch.full_like(grown.head.bias, float(state["head.bias"].min()))
            weight[:old], bias[:old] = state["head.weight"], state["head.bias"]
        grown.load_state_dict({**state, "head.weight": weight, "head.bias": bias})
        return grown.train(self.training)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
