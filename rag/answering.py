"""From a question to a checked, cited answer (or an abstention), streamed.

condense (follow-ups) -> retrieve -> abstain? -> evidence -> LLM (streamed) -> citation check
-> the final `Answer`, or the quoted evidence when no sentence of the LLM's survives the check.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rag.citations import SNIPPET_CHARS, check_answer
from rag.llm import ChatModel, make_llm
from rag.prompts import Prompts
from rag.retrieval import HybridRetriever
from rag.settings import Settings
from rag.text import content_tokens, overlap, split_sentences
from rag.types import Answer, AnswerEvent, Citation, Passage, StreamEvent, TokenEvent

EVIDENCE_SENTENCES = 2  # sentences of each passage sent to the LLM: the evidence, not pages
LLM_PASSAGES = 3  # the best passages go to the LLM; all of them stay citable
FALLBACK_SENTENCES = 2

# A passage sentence that speaks to the model instead of about a paper is data we never show the
# model (documents are data, never instructions); the citation check guards the rest.
_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\b.{0,40}\b(instruction|previous|above|prompt|rule)"
    r"|\byou (must|should|will) (now )?(say|answer|respond|reply|output|print|write)"
    r"|^\s*(system|assistant|user)\s*:|<\|?(im_start|im_end|system)\|?>"
    r"|\b(new|updated) instructions?\b|\bas an ai\b",
    re.IGNORECASE,
)
_FOLLOW_UP = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|he|she|the (paper|method|model|approach|"
    r"authors?|same|former|latter))\b|^(and|what about|how about|why|also)\b",
    re.IGNORECASE,
)


def is_injection(sentence: str) -> bool:
    return bool(_INJECTION.search(sentence))


@dataclass
class Evidence:
    """How well the retrieved passages cover a question; decides abstention."""

    vector: float  # best cosine similarity between the question and a passage
    lexical: float  # best IDF-weighted share of the question's words found in one passage

    def score(self) -> float:
        return 0.5 * self.vector + 0.5 * self.lexical


def evidence_of(
    question: str, passages: list[Passage], idf: Callable[[str], float] | None = None
) -> Evidence:
    """Rare words weigh more: a question naming "Light4GS" is about the collection; one asking
    about "sourdough" (a word no passage has) is not, however common its other words."""
    weight = idf or (lambda _t: 1.0)
    q = content_tokens(question)
    total = sum(weight(t) for t in q) or 1.0

    def coverage(p: Passage) -> float:
        return sum(weight(t) for t in q & content_tokens(p.title + " " + p.text)) / total

    vector = max((p.vector_score or 0.0 for p in passages), default=0.0)
    lexical = max((coverage(p) for p in passages), default=0.0)
    return Evidence(vector, lexical)


class Answerer:
    def __init__(self, settings: Settings, retriever: HybridRetriever) -> None:
        self.settings = settings
        self.retriever = retriever
        self.prompts = Prompts(settings.prompts_dir)
        self.llm: ChatModel = make_llm(settings.llm)

    # -- the pipeline -------------------------------------------------------------------------

    def stream(
        self,
        question: str,
        history: list[tuple[str, str]],
        k: int | None = None,
        mode: str | None = None,
    ) -> Iterator[StreamEvent]:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        standalone = self.standalone(question, history)
        timings["condense"] = time.perf_counter() - t0

        t = time.perf_counter()
        k = k or self.settings.retrieval.top_k
        passages = self.retriever.retrieve(standalone, k=k, mode=mode)
        for i, p in enumerate(passages, 1):
            p.number = i
        timings["retrieve"] = time.perf_counter() - t

        base = Answer(question=question, text="", standalone_question=standalone, passages=passages)
        if self.should_abstain(standalone, passages):
            timings["total"] = time.perf_counter() - t0
            yield AnswerEvent(answer=self.abstention(base, timings))
            return

        t = time.perf_counter()
        raw_parts: list[str] = []
        first: float | None = None
        for piece in self.llm.stream(self.messages(standalone, passages)):
            if first is None:
                first = time.perf_counter() - t
            raw_parts.append(piece)
            yield TokenEvent(text=piece)
        timings["first_token"] = first if first is not None else time.perf_counter() - t
        timings["generate"] = time.perf_counter() - t
        raw = "".join(raw_parts).strip()

        t = time.perf_counter()
        answer = self.finish(base, raw)
        timings["check"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        answer.timings = timings
        usage = self.llm.last_usage
        answer.tokens_in, answer.tokens_out = usage.tokens_in, usage.tokens_out
        yield AnswerEvent(answer=answer)

    def finish(self, base: Answer, raw: str) -> Answer:
        """Check the LLM's citations; quote the evidence when nothing it said is supported."""
        answer = base.model_copy(update={"raw_text": raw, "llm": self.llm.name})
        # "NOT IN COLLECTION" from the model is not trusted either way: it has no support, so
        # the evidence is quoted below and the reader can judge.
        checked = check_answer(raw, answer.passages, answer.standalone_question)
        if checked.citations:
            answer.text = checked.text
            answer.citations = checked.citations
            answer.removed_citations = checked.removed
            return answer
        fallback = self.extractive(answer.standalone_question or answer.question, answer.passages)
        answer.text, answer.citations, answer.fallback = fallback.text, fallback.citations, True
        answer.removed_citations = checked.removed
        return answer

    # -- steps ---------------------------------------------------------------------------------

    def standalone(self, question: str, history: list[tuple[str, str]]) -> str:
        """A follow-up rewritten to stand alone, for retrieval.

        A capable LLM (provider "openai") rewrites it; the 135M local model cannot do this
        reliably, so there the previous question is prepended to a follow-up that refers back.
        """
        if not history:
            return question
        last_q = history[-1][0]
        if self.settings.llm.provider == "openai":
            rewritten = self._rewrite(question, history)
            if rewritten:
                return rewritten
        if _FOLLOW_UP.search(question) or len(content_tokens(question)) <= 3:
            return f"{last_q} {question}"
        return question

    def _rewrite(self, question: str, history: list[tuple[str, str]]) -> str | None:
        turns = "\n".join(f"User: {q}\nAssistant: {a[:500]}" for q, a in history[-3:])
        prompt = self.prompts.get("condense", history=turns, question=question)
        try:
            text = "".join(self.llm.stream([{"role": "user", "content": prompt}], max_tokens=80))
        except Exception:
            return None
        text = text.strip().splitlines()[0].strip() if text.strip() else ""
        ok = 0 < len(text) <= 3 * len(question) + 200 and content_tokens(text) & content_tokens(
            question + " " + turns
        )
        return text if ok else None

    def should_abstain(self, question: str, passages: list[Passage]) -> bool:
        if not passages:
            return True
        evidence = evidence_of(question, passages, self.retriever.idf())
        return evidence.score() < self.settings.retrieval.abstain_threshold

    def abstention(self, base: Answer, timings: dict[str, float]) -> Answer:
        return base.model_copy(
            update={
                "text": self.prompts.get("abstain"),
                "abstained": True,
                "timings": timings,
                "llm": "",
            }
        )

    def evidence_sentences(self, question: str, passage: Passage, n: int) -> list[str]:
        """The `n` sentences of a passage closest to the question, in passage order."""
        q = content_tokens(question)
        sentences = [s for s in split_sentences(passage.text) if not is_injection(s)]
        ranked = sorted(
            range(len(sentences)),
            key=lambda i: overlap(q, content_tokens(sentences[i])),
            reverse=True,
        )
        return [sentences[i] for i in sorted(ranked[:n])]

    def messages(self, question: str, passages: list[Passage]) -> list[dict[str, str]]:
        blocks = []
        for p in passages[:LLM_PASSAGES]:
            evidence = " ".join(self.evidence_sentences(question, p, EVIDENCE_SENTENCES))
            blocks.append(f"[{p.number}] {p.title}: {evidence}")
        user = self.prompts.get("answer", passages="\n".join(blocks), question=question)
        return [
            {"role": "system", "content": self.prompts.get("system")},
            {"role": "user", "content": user},
        ]

    def extractive(self, question: str, passages: list[Passage]) -> Answer:
        """A purely extractive answer: the best evidence sentences, quoted and cited."""
        q = content_tokens(question)
        scored = []
        for p in passages:
            for s in split_sentences(p.text):
                if not is_injection(s):
                    rank_bonus = 0.05 * (len(passages) - p.number)  # prefer higher-ranked passages
                    scored.append((overlap(q, content_tokens(s)) + rank_bonus, p, s))
        scored.sort(key=lambda x: x[0], reverse=True)
        chosen: list[tuple[Passage, str]] = []
        for _, p, s in scored:
            if len(chosen) == FALLBACK_SENTENCES:
                break
            if all(p.number != c[0].number for c in chosen):
                chosen.append((p, s))
        lines = [self.prompts.get("fallback")]
        citations: dict[int, Citation] = {}
        for p, s in sorted(chosen, key=lambda c: c[0].number):
            lines.append(f"- {p.title}: “{s}” [{p.number}]")
            snippet = s if len(s) <= SNIPPET_CHARS else s[: SNIPPET_CHARS - 1] + "…"
            citations[p.number] = Citation(
                number=p.number,
                title=p.title,
                source=p.source,
                snippet=snippet,
                score=p.score,
                doc_id=p.doc_id,
            )
        return Answer(
            question=question,
            text="\n".join(lines),
            citations=list(citations.values()),
            passages=passages,
            fallback=True,
            llm="extractive",
        )
