"""Derive the shipped corpus assets from a WordNet 3.0 database (Debian's wordnet-base, /usr/share/wordnet).

Run once by a maintainer: `python -m arena.providers.builtin.corpus_build [WORDNET_DIR] [ASSETS_DIR]`.
The app itself never needs WordNet installed: it reads only the two files this writes.
"""

from __future__ import annotations

import gzip
import logging
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from arena.providers.builtin.corpus import CORPUS_FILE, INDEX_FILE, encode_index, format_row, indexed_text
from arena.providers.builtin.textproc import index_terms

logger = logging.getLogger(__name__)

DEFAULT_WORDNET = Path("/usr/share/wordnet")
DEFAULT_ASSETS = Path(__file__).parent / "assets"
POS_FILES = (("n", "noun"), ("v", "verb"), ("a", "adj"), ("r", "adv"))
_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")


def read_sense_numbers(wordnet_dir: Path) -> dict[tuple[str, str], int]:
    """(lower-case lemma, offset-pos) -> sense number, from index.<pos> (senses are listed by frequency)."""
    senses: dict[tuple[str, str], int] = {}
    for pos, name in POS_FILES:
        for line in (wordnet_dir / f"index.{name}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue
            fields = line.split()
            lemma, synset_count, pointer_count = fields[0], int(fields[2]), int(fields[3])
            offsets = fields[4 + pointer_count + 2 :][:synset_count]
            for number, offset in enumerate(offsets, start=1):
                senses[(lemma, f"{offset}-{pos}")] = number
    return senses


def read_synsets(wordnet_dir: Path, senses: dict[tuple[str, str], int]) -> Iterator[str]:
    """Yield one corpus row per synset of data.noun, data.verb, data.adj and data.adv."""
    for pos, name in POS_FILES:
        for line in (wordnet_dir / f"data.{name}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            synset_id = f"{fields[0]}-{pos}"
            n_words = int(fields[3], 16)
            raw_words = [fields[4 + 2 * i] for i in range(n_words)]
            at = 4 + 2 * n_words
            n_pointers = int(fields[at])
            pointers = [fields[at + 1 + 4 * i : at + 5 + 4 * i] for i in range(n_pointers)]
            hypernym = next((f"{p[1]}-{p[2]}" for p in pointers if p[0] in ("@", "@i")), "")
            lemmas = []
            for raw in raw_words:
                key = _ADJ_MARKER.sub("", raw).lower()
                lemmas.append((_ADJ_MARKER.sub("", raw).replace("_", " "), senses.get((key, synset_id), 99)))
            yield format_row(synset_id, lemmas, hypernym, gloss.strip())


def build_index(rows: Iterable[str]) -> bytes:
    """Count stemmed terms per row and encode them with term ids ordered by document frequency."""
    counts = [Counter(index_terms(indexed_text(row))) for row in rows]
    df: Counter[str] = Counter()
    for c in counts:
        df.update(c.keys())
    vocab = [term for term, _ in sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))]
    term_id = {term: i for i, term in enumerate(vocab)}
    return encode_index([{term_id[t]: n for t, n in c.items()} for c in counts], vocab)


def build(wordnet_dir: Path = DEFAULT_WORDNET, assets_dir: Path = DEFAULT_ASSETS) -> tuple[int, int, int]:
    """Write the corpus and index files; return (rows, corpus bytes, index bytes)."""
    rows = list(read_synsets(wordnet_dir, read_sense_numbers(wordnet_dir)))
    corpus_blob = gzip.compress("\n".join(rows).encode(), compresslevel=9, mtime=0)
    index_blob = build_index(rows)
    assets_dir.mkdir(parents=True, exist_ok=True)
    (assets_dir / CORPUS_FILE).write_bytes(corpus_blob)
    (assets_dir / INDEX_FILE).write_bytes(index_blob)
    return len(rows), len(corpus_blob), len(index_blob)


def main(argv: list[str]) -> int:
    """Command-line entry: optional WordNet folder and assets folder."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    wordnet_dir = Path(argv[0]) if argv else DEFAULT_WORDNET
    assets_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_ASSETS
    n_rows, corpus_bytes, index_bytes = build(wordnet_dir, assets_dir)
    logger.info("wrote %d synsets: corpus %d bytes, index %d bytes", n_rows, corpus_bytes, index_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
