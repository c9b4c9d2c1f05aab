"""The Norwegian spaCy pipeline: a blank ``nb`` pipeline with a tagger-free lookup lemmatizer.

Rasa's ``SpacyNLP`` loads a pipeline by name or path, so we build one once into a versioned
directory. Lemmas come from Norsk Ordbank (via ``spacy-lookups-data``'s ``nb_lemma_exc``, CC BY 4.0)
plus ``data/lexicon/nb_lemma_extra.tsv`` (Nynorsk, dialect and spelling variants people write).
SpacyNLP lower-cases text before spaCy sees it, so the table holds lower-case forms only.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTRA_LEMMAS = ROOT / "data" / "lexicon" / "nb_lemma_extra.tsv"
# Bump when the build logic changes; config.yml names this directory. The training cache is also
# keyed on `pipeline_fingerprint()`, so a changed lexicon never reuses stale features.
PIPELINE_VERSION = "1"
PIPELINE_DIR = ROOT / "build" / "spacy" / f"nb_vonr-{PIPELINE_VERSION}"
POS_ORDER = ("verb", "noun", "adj", "adv")


def _ordbank_path() -> Path:
    import spacy_lookups_data

    return Path(spacy_lookups_data.__file__).parent / "data" / "nb_lemma_exc.json.gz"


def choose_lemma(form: str, candidates: dict[str, list[str]]) -> str:
    """Pick one lemma for a form that Ordbank lists under several parts of speech.

    A form that is a lemma itself stays ("redd", "kniv", "pappa"); strong past forms that are
    also nouns ("slo", "sto") are fixed in the extra table. Otherwise a present-tense verb form
    wins ("dreper" -> "drepe", "truer" -> "true"), then a noun whose lemma the form extends
    ("livet" -> "liv", "barna" -> "barn"), then verbs, nouns, adjectives, adverbs in that order.
    """
    lemmas = {pos: lem[0] for pos, lem in candidates.items() if lem}
    if form in lemmas.values():
        return form
    verb, noun = lemmas.get("verb"), lemmas.get("noun")
    if verb and verb + "r" == form:
        return verb
    if noun and form.startswith(noun):
        return noun
    for pos in POS_ORDER:
        if pos in lemmas:
            return lemmas[pos]
    return form


def build_table() -> dict[str, str]:
    """The form -> lemma table, lower-case, single tokens only."""
    with gzip.open(_ordbank_path(), "rt", encoding="utf-8") as fh:
        exc: dict[str, dict[str, list[str]]] = json.load(fh)
    by_form: dict[str, dict[str, list[str]]] = {}
    for pos, forms in exc.items():
        for form, lemmas in forms.items():
            low = form.lower()
            if " " in low or not lemmas:
                continue
            by_form.setdefault(low, {}).setdefault(pos, [lem.lower() for lem in lemmas])
    table = {form: choose_lemma(form, cands) for form, cands in by_form.items()}
    # Ordbank has no closed word classes, so "meg" would become the verb "mige": function words
    # (spaCy's Norwegian stop words) keep their form.
    from spacy.lang.nb.stop_words import STOP_WORDS

    for word in STOP_WORDS:
        table.pop(word, None)
    table.update(read_extra())
    # Identity entries cost memory and change nothing.
    return {form: lemma for form, lemma in table.items() if form != lemma}


def read_extra() -> dict[str, str]:
    extra: dict[str, str] = {}
    for line in EXTRA_LEMMAS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            form, lemma = line.split("\t")
            extra[form.strip().lower()] = lemma.strip().lower()
    return extra


def pipeline_fingerprint() -> str:
    """Changes whenever the built pipeline would change."""
    h = hashlib.sha256(PIPELINE_VERSION.encode())
    h.update(Path(__file__).read_bytes())
    h.update(EXTRA_LEMMAS.read_bytes())
    h.update(_ordbank_path().read_bytes())
    return h.hexdigest()[:16]


def build(target: Path = PIPELINE_DIR) -> Path:
    """Build the pipeline into `target` unless an identical build is already there."""
    stamp = target / "vonr-fingerprint.txt"
    fingerprint = pipeline_fingerprint()
    if stamp.exists() and stamp.read_text() == fingerprint:
        return target
    import spacy
    from spacy.lookups import Lookups

    nlp = spacy.blank("nb")
    lookups = Lookups()
    lookups.add_table("lemma_lookup", build_table())
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"}).initialize(lookups=lookups)
    nlp.meta.update(
        name="vonr",
        version=f"{PIPELINE_VERSION}.0.0",
        description="Blank Norwegian Bokmål pipeline with a lookup lemmatizer (Norsk Ordbank)",
        license="CC BY 4.0 (lemma data: Norsk Ordbank, Språkbanken)",
    )
    tmp = target.with_name(target.name + ".tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(tmp)
    (tmp / "vonr-fingerprint.txt").write_text(fingerprint)
    if target.exists():
        import shutil

        shutil.rmtree(target)
    os.replace(tmp, target)
    return target


def spacy_model_default() -> str:
    """The path config.yml names for our pipeline (relative: Rasa caches on the string)."""
    return str(PIPELINE_DIR.relative_to(ROOT))


if __name__ == "__main__":
    if sys.argv[1:] == ["build"]:
        print(build())
    else:
        sys.exit("usage: python -m bot.nlp build")
