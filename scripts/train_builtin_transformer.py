"""Train the built-in transformer once, on the shipped WordNet corpus, and write its committed weights file.

Usage: `python scripts/train_builtin_transformer.py [--minutes 5] [--seed 0] [--out PATH]`.
Runs on one CPU core (the development machines are shared) and stops at the time budget. The data are
question/answer pairs made from WordNet glosses ("what is a cat ?" -> "cat is feline mammal ... ."), so the
model learns to answer in the gloss style, conditioned on the words of the question.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from arena.providers.builtin.corpus import Corpus, Entry, load_corpus, parse_row
from arena.providers.builtin.transformer import WEIGHTS_FILE
from arena.providers.builtin.transformer_model import (
    SPECIALS,
    UNK,
    ModelConfig,
    TinyTransformer,
    Vocabulary,
    checkpoint,
    example_ids,
    word_tokens,
)

logger = logging.getLogger("train_builtin_transformer")

ASSETS = Path(__file__).resolve().parent.parent / "arena" / "providers" / "builtin" / "assets"
VOCAB_SIZE = 6000
COMMON_WORDS = 5000
BATCH = 32
NOUN_QUESTIONS = ("what is {x} ?", "what is a {x} ?", "tell me about {x} .", "define {x} .", "explain {x} .")
VERB_QUESTIONS = ("what does it mean to {x} ?", "how do you {x} ?", "define {x} .")
OTHER_QUESTIONS = ("what does {x} mean ?", "define {x} .", "what is {x} ?")


def qa_pair(entry: Entry, hypernym: str | None, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """One question/answer pair for a synset, with a randomly chosen question template."""
    x = entry.headword.lower()
    definition = entry.definition.rstrip(".")
    if entry.pos == "noun":
        question, answer = rng.choice(NOUN_QUESTIONS), f"{x} is {definition} ."
        if hypernym:
            answer += f" it is a kind of {hypernym} ."
    elif entry.pos == "verb":
        question, answer = rng.choice(VERB_QUESTIONS), f"to {x} is to {definition} ."
    else:
        question, answer = rng.choice(OTHER_QUESTIONS), f"{x} means {definition} ."
    if entry.examples and rng.random() < 0.5:
        answer += f" for example , {entry.examples[0]} ."
    return word_tokens(str(question).format(x=x)), word_tokens(answer)


def common_entries(corpus: Corpus) -> list[Entry]:
    """Synsets named by everyday words (every headword word among the COMMON_WORDS most frequent words of
    the definitions): ~25k of the 117k, so a small model spends its few minutes on concepts people ask about."""
    entries = [parse_row(row) for row in corpus.rows]
    counts = Counter(w for e in entries for w in word_tokens(e.definition))
    common = {w for w, _ in counts.most_common(COMMON_WORDS)}
    return [e for e in entries if all(w in common for w in word_tokens(e.headword))]


def build_dataset(assets: Path, rng: np.random.Generator) -> tuple[Vocabulary, np.ndarray]:
    """Pairs for the common synsets, a frequency-ranked vocabulary, and the packed id stream (shuffled)."""
    corpus = load_corpus(assets)
    entries = common_entries(corpus)
    pairs = []
    for row in rng.permutation(len(entries)):
        entry = entries[int(row)]
        parent = corpus.lookup(entry.hypernym_id) if entry.hypernym_id else None
        pairs.append(qa_pair(entry, parent.headword.lower() if parent else None, rng))
    counts: Counter[str] = Counter()
    for question, answer in pairs:
        counts.update(question)
        counts.update(answer)
    vocab = Vocabulary([*SPECIALS, *(w for w, _ in counts.most_common(VOCAB_SIZE - len(SPECIALS)))])
    stream = [i for question, answer in pairs for i in example_ids(vocab, question, answer)]
    return vocab, np.array(stream, dtype=np.int64)


def batches(stream: np.ndarray, context: int, rng: np.random.Generator) -> torch.Tensor:
    """A batch of random windows of context+1 ids (inputs and shifted targets)."""
    starts = rng.integers(0, stream.size - context - 1, BATCH)
    return torch.from_numpy(np.stack([stream[s : s + context + 1] for s in starts]))


def evaluate(model: TinyTransformer, stream: np.ndarray, rng: np.random.Generator, n: int = 20) -> float:
    """Mean next-token cross-entropy (nats) on n random batches."""
    model.eval()
    losses = []
    with torch.inference_mode():
        for _ in range(n):
            batch = batches(stream, model.config.context, rng)
            logits = model(batch[:, :-1])
            losses.append(float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))))
    model.train()
    return float(np.mean(losses))


def train(minutes: float, seed: int, out: Path) -> dict[str, object]:
    """Train until the time budget is spent (cosine learning-rate decay over the budget); save the weights."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    vocab, stream = build_dataset(ASSETS, rng)
    split = int(stream.size * 0.98)
    train_ids, valid_ids = stream[:split], stream[split:]
    model = TinyTransformer(ModelConfig(vocab_size=len(vocab)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01, betas=(0.9, 0.98))
    budget, started, step = minutes * 60.0, time.monotonic(), 0
    logger.info("params %d, train tokens %d, budget %.0f s", model.parameter_count(), train_ids.size, budget)
    logger.info("unknown-word rate %.3f", float(np.mean(train_ids == vocab.ids[UNK])))
    while (elapsed := time.monotonic() - started) < budget:
        for group in optimizer.param_groups:
            group["lr"] = 3e-3 * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * elapsed / budget)))
        batch = batches(train_ids, model.config.context, rng)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % 100 == 0:
            logger.info("step %d  %.0f s  loss %.3f", step, elapsed, loss.item())
    meta: dict[str, object] = {
        "steps": step,
        "seconds": round(time.monotonic() - started, 1),
        "tokens_seen": step * BATCH * model.config.context,
        "train_loss": round(evaluate(model, train_ids, rng), 3),
        "valid_loss": round(evaluate(model, valid_ids, rng), 3),
        "params": model.parameter_count(),
        "seed": seed,
        "corpus": "WordNet 3.0 glosses (question/answer pairs), see docs/builtin-models.md",
    }
    torch.save(checkpoint(model, vocab, meta), out)
    logger.info("saved %s: %s", out, meta)
    return meta


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="training time budget (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ASSETS / WEIGHTS_FILE)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train(args.minutes, args.seed, args.out)


if __name__ == "__main__":
    main()
