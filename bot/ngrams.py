"""Character and word n-gram features shared by the two linear classifiers (the crisis layer's,
`bot/crisis_model.py`, and the intent ensemble's, `bot/ngram_intent.py`): the vectorizers and how
they are saved. Saved as YAML vocabularies and numpy arrays, so nothing executable is unpickled
when a model loads."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

WORD_PATTERN = r"(?u)\b\w+\b"


def vectorizer(analyzer: str, ngram_range: tuple[int, int], min_df: int = 1,
               vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
    """Input is prepared text (already lower case and folded), hence `lowercase=False`."""
    return TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, min_df=min_df,
                           token_pattern=WORD_PATTERN, sublinear_tf=True, lowercase=False,
                           vocabulary=vocabulary, dtype=np.float32)


def save(directory: Path, name: str, vectorizers: Sequence[TfidfVectorizer],
         meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    meta = {**meta, "vectorizers": []}
    arrays = dict(arrays)
    for i, v in enumerate(vectorizers):
        meta["vectorizers"].append({
            "analyzer": v.analyzer, "ngram_range": list(v.ngram_range),
            "vocabulary": {k: int(n) for k, n in v.vocabulary_.items()},
        })
        arrays[f"idf{i}"] = v.idf_
    (directory / f"{name}.yml").write_text(yaml.safe_dump(meta, allow_unicode=True),
                                           encoding="utf-8")
    np.savez_compressed(directory / f"{name}.npz", **arrays)


def load(directory: Path, name: str
         ) -> tuple[dict[str, Any], list[TfidfVectorizer], dict[str, np.ndarray]]:
    meta = yaml.safe_load((directory / f"{name}.yml").read_text(encoding="utf-8"))
    with np.load(directory / f"{name}.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    vectorizers = []
    for i, spec in enumerate(meta.pop("vectorizers")):
        v = vectorizer(spec["analyzer"], tuple(spec["ngram_range"]),
                       vocabulary=spec["vocabulary"])
        v.idf_ = arrays.pop(f"idf{i}")
        vectorizers.append(v)
    return meta, vectorizers, arrays
