"""A baseline for the held-out NLU set: a character + word n-gram logistic regression trained on
data/nlu/ alone (no Rasa, no crisis layer), scored on tests/nlu/heldout.yml.

    PYTHONPATH=. python -m bench.nlu_lr

It says how much a plain linear model over n-grams gets from the same data, the yardstick for
DIET and for an ensemble of the two (issue 15).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
ANNOTATION = re.compile(r"\[([^\]]*)\]\{[^}]*\}")


def examples(path: Path) -> list[tuple[str, str]]:
    out = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        for line in block.get("examples", "").splitlines():
            line = line.strip()
            if "intent" in block and line.startswith("- "):
                out.append((ANNOTATION.sub(r"\1", line[2:]).lower(), block["intent"]))
    return out


def main() -> None:
    train = [e for p in sorted((ROOT / "data" / "nlu").glob("*.yml")) for e in examples(p)]
    test = examples(ROOT / "tests" / "nlu" / "heldout.yml")
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                            token_pattern=r"(?u)\b\w+\b")
    texts = [t for t, _ in train]
    x = hstack([chars.fit_transform(texts), words.fit_transform(texts)]).tocsr()
    model = LogisticRegression(C=10, max_iter=2000).fit(x, [i for _, i in train])
    held = [t for t, _ in test]
    predicted = model.predict(hstack([chars.transform(held), words.transform(held)]).tocsr())
    gold = np.array([i for _, i in test])
    print(f"char+word n-gram LR: {len(train)} training examples, held-out accuracy "
          f"{(predicted == gold).mean():.3f} over {len(test)} messages")


if __name__ == "__main__":
    main()
