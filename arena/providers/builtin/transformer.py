"""Built-in small transformer: a ~0.8M-parameter word-level model trained once on WordNet Q/A pairs.

Weights are committed (assets/transformer.pt, written by scripts/train_builtin_transformer.py) and loaded once
per provider instance; nothing comes from a hub. Each token is sampled (top-k, temperature) from the network
in a worker thread and streamed as soon as it exists. Deterministic given (conversation, seed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from arena.domain import Capabilities, GenerationRequest
from arena.errors import ConfigError
from arena.providers.builtin.seeding import request_rng
from arena.providers.builtin.textproc import conversation_topic, is_follow_up, keywords, stem
from arena.providers.builtin.textstream import StreamingTextProvider
from arena.providers.builtin.transformer_model import (
    BOS,
    EOS,
    PAD,
    SEP,
    UNK,
    Detokenizer,
    TinyTransformer,
    Vocabulary,
    example_ids,
    next_token_distribution,
    restore,
    word_tokens,
)

WEIGHTS_FILE = "transformer.pt"
QUESTION_LIMIT = 24


@dataclass(frozen=True)
class LoadedTransformer:
    """The network and its vocabulary."""

    network: TinyTransformer
    vocab: Vocabulary


def question_words(request: GenerationRequest) -> list[str]:
    """What the model reads: the latest prompt, preceded by the previous topic when it is a follow-up."""
    user_turns = [m.content for m in request.messages if m.role == "user"]
    words = word_tokens(user_turns[-1]) if user_turns else []
    if len(user_turns) > 1 and is_follow_up(user_turns[-1]):
        words = [*keywords(user_turns[-2])[:3], *words]
    return words[-QUESTION_LIMIT:]


def answer_subject(request: GenerationRequest, vocab: Vocabulary) -> list[str]:
    """The words the answer is primed with: the first run of topic words in the prompt (joined by 'of'),
    singularised when the singular is a known word: 'what is the speed of light' -> speed of light,
    'tell me about cats' -> cat."""
    topic = set(conversation_topic(request.messages))
    words = word_tokens(request.prompt)
    run: list[str] = []
    for i, word in enumerate(words):
        joins = word == "of" and bool(run) and i + 1 < len(words) and words[i + 1] in topic
        if word in topic or joins:
            run.append(word)
        elif run:
            break
    run = run or conversation_topic(request.messages)[:1]
    return [stem(w) if stem(w) in vocab.ids else w for w in run]


class TransformerProvider(StreamingTextProvider[LoadedTransformer]):
    """Prompt-conditioned text from the committed tiny transformer (see docs/builtin-models.md)."""

    option_names: ClassVar[frozenset[str]] = frozenset({"temperature", "top_k", "max_tokens"})
    default_capabilities: ClassVar[Capabilities] = Capabilities(streaming=True, multi_turn=True)

    def _load(self) -> LoadedTransformer:
        path = self.context.assets_dir / WEIGHTS_FILE
        if not path.is_file():
            raise ConfigError(
                f"built-in transformer weights missing at {path}; run scripts/train_builtin_transformer.py"
            )
        network, vocab = restore(torch.load(path, map_location="cpu", weights_only=True))
        return LoadedTransformer(network, vocab)

    def _pieces(self, model: LoadedTransformer, request: GenerationRequest) -> Iterator[str]:
        rng = request_rng(request, "transformer")
        vocab = model.vocab
        subject = answer_subject(request, vocab)
        primer = [*subject, "is"] if subject else []
        pointer = next((w for w in conversation_topic(request.messages) if w not in vocab.ids), None)
        pointer_uses = 0 if pointer is None or pointer in primer else 1
        always_banned = [vocab.ids[t] for t in (PAD, BOS, SEP)]
        ids = example_ids(vocab, question_words(request), None) + vocab.encode(primer)
        temperature = float(self.options.get("temperature", 0.8))
        top_k = int(self.options.get("top_k", 40))
        detokenizer = Detokenizer()
        for word in primer:
            yield detokenizer.piece(word)
        for _ in range(int(self.options.get("max_tokens", 90))):
            banned = always_banned + ([] if pointer_uses else [vocab.ids[UNK]])
            choices = next_token_distribution(model.network, ids, banned, temperature, top_k)
            probs = np.array([p for _, p in choices])
            token = choices[int(rng.choice(len(choices), p=probs / probs.sum()))][0]
            word = vocab.words[token]
            if word == EOS:
                return
            ids.append(token)
            if word == UNK and pointer is not None:
                pointer_uses -= 1
                word = pointer
            yield detokenizer.piece(word)
