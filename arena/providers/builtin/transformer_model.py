"""The built-in transformer: its word tokenizer, the network (attention + MLP blocks), and one sampling step.

Shared by scripts/train_builtin_transformer.py (which trains it once) and the TransformerProvider (which loads
the committed weights). Words outside the vocabulary become <unk>; at generation time an <unk> stands for the
prompt's first out-of-vocabulary topic word (a one-slot pointer), and is forbidden when the prompt has none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from types import MappingProxyType

import torch
from torch import nn
from torch.nn import functional as F

PAD, UNK, BOS, SEP, EOS = "<pad>", "<unk>", "<bos>", "<sep>", "<eos>"
SPECIALS = (PAD, UNK, BOS, SEP, EOS)
_TOKEN = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*|[.,;:?!()]")
_NO_SPACE_BEFORE = frozenset(".,;:?!)")


@dataclass(frozen=True)
class ModelConfig:
    """Network shape; stored alongside the weights."""

    vocab_size: int
    context: int = 64
    width: int = 96
    heads: int = 4
    layers: int = 2


def word_tokens(text: str) -> list[str]:
    """Lower-case words and punctuation marks, the units the model reads and writes."""
    return _TOKEN.findall(text.lower())


class Detokenizer:
    """Turns words into text pieces one at a time: spacing around punctuation, capitals after full stops."""

    def __init__(self) -> None:
        self.previous: str | None = None
        self.capital = True

    def piece(self, word: str) -> str:
        """The text to append for the next word."""
        space = self.previous is not None and word not in _NO_SPACE_BEFORE and self.previous != "("
        text = (" " if space else "") + (word[:1].upper() + word[1:] if self.capital and word[:1].isalpha() else word)
        self.capital = word in (".", "?", "!") or (self.capital and not word[:1].isalnum())
        self.previous = word
        return text


def detokenize(words: Sequence[str]) -> str:
    """Join words back into text (see Detokenizer)."""
    detokenizer = Detokenizer()
    return "".join(detokenizer.piece(w) for w in words)


class Vocabulary:
    """Word <-> id, with the special tokens first."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = tuple(words)
        self.ids = MappingProxyType({w: i for i, w in enumerate(self.words)})

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of the tokens, <unk> for unknown words."""
        unk = self.ids[UNK]
        return [self.ids.get(t, unk) for t in tokens]

    def __len__(self) -> int:
        return len(self.words)


def example_ids(vocab: Vocabulary, question: Sequence[str], answer: Sequence[str] | None) -> list[int]:
    """The sequence layout shared by training and generation: <bos> question <sep> [answer <eos>]."""
    ids = [vocab.ids[BOS], *vocab.encode(question), vocab.ids[SEP]]
    if answer is not None:
        ids += [*vocab.encode(answer), vocab.ids[EOS]]
    return ids


class Block(nn.Module):
    """Pre-norm transformer block: causal multi-head self-attention, then a 4x MLP."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.norm1 = nn.LayerNorm(config.width)
        self.qkv = nn.Linear(config.width, 3 * config.width)
        self.proj = nn.Linear(config.width, config.width)
        self.norm2 = nn.LayerNorm(config.width)
        self.mlp = nn.Sequential(
            nn.Linear(config.width, 4 * config.width), nn.GELU(), nn.Linear(4 * config.width, config.width)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, time, width) -> same shape."""
        b, t, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(attended.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.norm2(x))


class TinyTransformer(nn.Module):
    """A small decoder-only language model with tied input/output embeddings."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.width)
        self.position = nn.Embedding(config.context, config.width)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.width)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.position.weight, std=0.02)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids: (batch, time) -> logits (batch, time, vocab)."""
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.embed(ids) + self.position(positions)
        for block in self.blocks:
            x = block(x)
        return self.norm(x) @ self.embed.weight.T

    def parameter_count(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters())


def next_token_distribution(
    model: TinyTransformer, ids: Sequence[int], banned: Sequence[int], temperature: float, top_k: int
) -> list[tuple[int, float]]:
    """Top-k (token id, probability) pairs for the token after `ids` (the last `context` ids are used)."""
    window = torch.tensor([list(ids)[-model.config.context :]], dtype=torch.long)
    with torch.inference_mode():
        logits = model(window)[0, -1].double() / max(temperature, 1e-3)
        if banned:
            logits[list(banned)] = -math.inf
        values, indices = torch.topk(logits, top_k)
        probs = torch.softmax(values, dim=0)
    return list(zip(indices.tolist(), probs.tolist(), strict=True))


def checkpoint(model: TinyTransformer, vocab: Vocabulary, meta: dict[str, object]) -> dict[str, object]:
    """What the weights file holds: config, vocabulary, float16 weights and training notes."""
    return {
        "config": asdict(model.config),
        "vocab": list(vocab.words),
        "state": {k: v.half() for k, v in model.state_dict().items()},
        "meta": meta,
    }


def restore(blob: dict[str, object]) -> tuple[TinyTransformer, Vocabulary]:
    """Rebuild the model (float32, eval mode) and vocabulary from a checkpoint dict."""
    config = ModelConfig(**blob["config"])  # type: ignore[arg-type]
    model = TinyTransformer(config)
    state = {k: v.float() for k, v in blob["state"].items()}  # type: ignore[attr-defined]
    model.load_state_dict(state)
    model.eval()
    return model, Vocabulary(blob["vocab"])  # type: ignore[arg-type]
