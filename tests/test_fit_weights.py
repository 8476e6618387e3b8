"""eval/fit_weights.py: the fit that chooses the weight tables (MECHANISM_WEIGHTS,
SENTENCE_WEIGHTS), on choices whose right answer is known (no index: the recorded choices are
made up here)."""

from __future__ import annotations

import importlib.util
import random
from typing import Any

from rag.core.settings import PROJECT_DIR

spec = importlib.util.spec_from_file_location(
    "fit_weights", PROJECT_DIR / "eval" / "fit_weights.py"
)
assert spec is not None and spec.loader is not None
fit_weights = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fit_weights)

NAMES = ["cosine", "novelty"]


def _choices(n: int) -> list[dict[str, Any]]:
    """Choices of one sentence among four where the keyword sentence is the most novel one,
    and cosine is noise."""
    rng = random.Random(1)
    calls = []
    for q in range(n):
        cosine = [rng.random() for _ in range(4)]
        novelty = [rng.random() for _ in range(4)]
        best = max(range(4), key=lambda i: novelty[i])
        calls.append(
            {
                "id": f"q{q}",
                "n": 1,
                "candidates": [0, 1, 2, 3],
                "features": {"cosine": cosine, "novelty": novelty},
                "labels": [i == best for i in range(4)],
            }
        )
    return calls


def test_the_fit_finds_the_feature_that_decides_and_wins_on_held_out_folds() -> None:
    result = fit_weights.fit(_choices(200), {"cosine": 1.0, "novelty": 0.0})
    assert result["decidable_choices"] == 200
    assert result["hit_fitted_cross_validated"] > 0.9 > result["hit_weights_in_code"]
    assert result["fitted_weights"]["novelty"] > 3 * result["fitted_weights"]["cosine"]


def test_a_choice_without_a_keyword_sentence_is_not_counted() -> None:
    calls = _choices(10)
    for c in calls[:4]:
        c["labels"] = [False] * 4
    result = fit_weights.fit(calls, {"cosine": 1.0, "novelty": 0.0})
    assert result["decidable_choices"] == 6
