"""The answer checks measured as a classifier, without any model.

- Kept: each answerable question's reference answer (written by hand, `answer` in the question
  set), cited to its gold passage, is offered to the checks as if a model had written it; a good
  check keeps it (multi-paper references are checked against their gold passages together).
- Rejected: for the same question, the best sentence of the first retrieved paper that is not
  gold (a true sentence, cited to its own passage) is offered as the answer; a good check rejects
  it, since it does not answer what was asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rag.answer.compose import Composer, accept_claim
from rag.answer.question import analyse
from rag.core.types import Passage
from rag.evaluation.dataset import EvalItem
from rag.evaluation.metrics import norm_title


def check_classifier(assistant: Any, items: Sequence[EvalItem], k: int = 5) -> dict[str, Any]:
    retriever = assistant.retriever
    composer = Composer(retriever.idf())
    kept: list[bool] = []
    rejected: list[bool] = []
    misses: list[dict[str, str]] = []
    for item in items:
        if not item.answerable or not item.answer:
            continue
        passages = assistant.retrieve(item.question, k=k)
        for i, p in enumerate(passages, 1):
            p.number = i
        q = analyse(item.question, retriever.doc_freq)
        decision = composer.decide(q, passages)
        chosen = {p.number for p, _ in decision.lead.parts} if decision.lead else set()
        gold = {norm_title(t) for t in item.gold_titles}
        golds = [p for p in passages if norm_title(p.title) in gold]
        if golds:
            ok = _keeps(q, item.answer, golds, chosen)
            kept.append(ok)
            if not ok:
                misses.append({"id": item.id, "kept_not": item.answer})
        other = next((p for p in passages if norm_title(p.title) not in gold), None)
        if other is not None:
            ranked = composer.sentences(q, other)
            if ranked:
                accepted = accept_claim(q, ranked[0].sentence, other, chosen)
                rejected.append(not accepted)
                if accepted:
                    misses.append({"id": item.id, "rejected_not": ranked[0].sentence})
    return {
        "reference_kept": sum(kept) / len(kept) if kept else None,
        "n_reference": len(kept),
        "non_gold_rejected": sum(rejected) / len(rejected) if rejected else None,
        "n_non_gold": len(rejected),
        "misses": misses,
    }


def _keeps(q: Any, reference: str, golds: list[Passage], chosen: set[int]) -> bool:
    if len(golds) == 1:
        return accept_claim(q, reference, golds[0], chosen)
    # A multi-paper reference states facts of several gold papers at once.
    merged = golds[0].model_copy(
        update={"text": " ".join(f"{p.title}. {p.text}" for p in golds), "title": ""}
    )
    return accept_claim(q, reference, merged, {merged.number} | chosen)
