"""The Norwegian spaCy pipeline: built from Norsk Ordbank, loads by path, lemmatises without
a tagger."""

from __future__ import annotations

import pytest
import spacy

from bot import nlp


@pytest.fixture(scope="module")
def pipeline() -> spacy.Language:
    return spacy.load(nlp.build())


@pytest.mark.parametrize(
    ("form", "lemma"),
    [
        ("slo", "slå"),
        ("livet", "liv"),
        ("pappa", "pappa"),
        ("slår", "slå"),
        ("slått", "slå"),
        ("barna", "barn"),
        ("krisesenteret", "krisesenter"),
        ("krisesentre", "krisesenter"),
        ("mannen", "mann"),
        ("dreper", "drepe"),
        ("truer", "true"),
        ("kvalt", "kvele"),
        ("politiet", "politi"),
        ("kjæresten", "kjæreste"),
        ("redd", "redd"),
        ("kniv", "kniv"),
        ("hjelp", "hjelp"),
        ("min", "min"),
        ("eg", "jeg"),
        ("ikkje", "ikke"),
        ("kossen", "hvordan"),
    ],
)
def test_common_forms(pipeline: spacy.Language, form: str, lemma: str) -> None:
    assert [t.lemma_ for t in pipeline(form)] == [lemma]


def test_sentence_without_tagger(pipeline: spacy.Language) -> None:
    assert pipeline.pipe_names == ["lemmatizer"]
    doc = pipeline("han slo barna og truet meg")
    assert [t.lemma_ for t in doc] == ["han", "slå", "barn", "og", "true", "meg"]


def test_choose_lemma_between_parts_of_speech() -> None:
    assert nlp.choose_lemma("livet", {"noun": ["liv"], "verb": ["live"]}) == "liv"
    assert nlp.choose_lemma("kniv", {"noun": ["kniv"], "verb": ["knive"]}) == "kniv"
    assert nlp.choose_lemma("dreper", {"noun": ["drep"], "verb": ["drepe"]}) == "drepe"


def test_build_is_reused_when_unchanged() -> None:
    path = nlp.build()
    stamp = (path / "vonr-fingerprint.txt").stat().st_mtime_ns
    assert nlp.build() == path
    assert (path / "vonr-fingerprint.txt").stat().st_mtime_ns == stamp
