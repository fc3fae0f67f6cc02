"""Building the corpus assets from a (tiny) WordNet database in the real file format."""

from __future__ import annotations

from pathlib import Path

from arena.providers.builtin.corpus import load_corpus
from arena.providers.builtin.corpus_build import build
from arena.providers.builtin.search_engine import CorpusSearchEngine

# Four synsets in WordNet 3.0's data/index format, in offset order like the real files (abridged from
# Princeton WordNet 3.0; licence in arena/providers/builtin/assets/WORDNET-LICENSE.txt).
LICENCE_HEADER = "  1 This software and database is being provided to you, the LICENSEE, by\n"
DATA_NOUN = (
    LICENCE_HEADER
    + "02120997 05 n 01 feline 0 000 | any of various lithe-bodied roundheaded fissiped mammals  \n"
    + "02121620 05 n 03 cat 0 true_cat 0 kitty 0 001 @ 02120997 n 0000 | feline mammal usually having thick"
    ' soft fur and no ability to roar; "the cat sat on the mat"  \n'
    + "09213565 17 n 01 bank 0 000 | sloping land (especially the slope beside a body of water)  \n"
)
INDEX_NOUN = (
    LICENCE_HEADER
    + "bank n 1 0 1 0 09213565  \n"
    + "cat n 1 1 @ 1 0 02121620  \n"
    + "feline n 1 0 1 0 02120997  \n"
    + "kitty n 1 1 @ 1 0 02121620  \n"
    + "true_cat n 1 1 @ 1 0 02121620  \n"
)
DATA_VERB = LICENCE_HEADER + '01587723 35 v 01 bank 0 000 | enclose with a bank; "bank roads"  \n'
INDEX_VERB = LICENCE_HEADER + "bank v 1 0 1 0 01587723  \n"


def write_wordnet(folder: Path) -> None:
    folder.mkdir()
    (folder / "data.noun").write_text(DATA_NOUN)
    (folder / "index.noun").write_text(INDEX_NOUN)
    (folder / "data.verb").write_text(DATA_VERB)
    (folder / "index.verb").write_text(INDEX_VERB)
    for name in ("adj", "adv"):
        (folder / f"data.{name}").write_text(LICENCE_HEADER)
        (folder / f"index.{name}").write_text(LICENCE_HEADER)


def test_build_writes_assets_that_load_and_search(tmp_path: Path) -> None:
    write_wordnet(tmp_path / "wn")
    rows, corpus_bytes, index_bytes = build(tmp_path / "wn", tmp_path / "assets")
    assert rows == 4 and corpus_bytes > 0 and index_bytes > 0
    corpus = load_corpus(tmp_path / "assets")
    cat = corpus.lookup("02121620-n")
    assert cat is not None
    assert cat.lemmas == ("cat", "true cat", "kitty")
    assert cat.hypernym_id == "02120997-n"
    assert cat.examples == ("the cat sat on the mat",)
    engine = CorpusSearchEngine(tmp_path / "assets")
    assert engine.search_sync("what is a kitty?", 1)[0].url == "/corpus/wordnet/02121620-n"
    assert {c.title for c in engine.search_sync("bank", 5)} == {"bank (noun)", "bank (verb)"}
