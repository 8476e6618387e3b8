"""From a question to a checked, cited answer (or an abstention), streamed.

condense (follow-ups) -> retrieve -> abstain? -> evidence -> LLM (streamed) -> citation check
-> the final `Answer`, or the quoted evidence when no sentence of the LLM's survives the check.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from rag.citations import check_answer, citation
from rag.llm import ChatModel, make_llm
from rag.prompts import Prompts
from rag.retrieval import HybridRetriever
from rag.settings import Settings
from rag.text import content_tokens, numbers, overlap, split_sentences
from rag.types import Answer, AnswerEvent, Citation, Passage, StreamEvent, TokenEvent

EVIDENCE_SENTENCES = 2  # sentences of each passage sent to the LLM: the evidence, not pages
LLM_PASSAGES = 3  # the best passages go to the LLM; all of them stay citable
EVIDENCE_QUOTES = 3  # sentences quoted under an answer
TOP_PASSAGE_QUOTES = 3  # of which from the best passage
NUMBER_BONUS_TOP, NUMBER_BONUS = 0.2, 0.1  # added to a quoted sentence's score for a number
MIN_OTHER_COVERAGE = 0.2  # share of the question a sentence from a lower passage must hold

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


# A name as people write one: mixed case, all caps or letters with digits ("SnapKV", "GPTQ",
# "Light4GS", "LLaMA-7B"); a plain capitalised word ("European") is not one.
_NAME = re.compile(r"\b(?=[\w.\-]*[A-Za-z])(?=[\w.\-]*(?:[a-z][A-Z]|[A-Z]{2}|\d))[\w.\-]+")
RARE_NAME_CHUNKS = 3  # a name found in at most this many chunks identifies what is asked about


@dataclass
class Evidence:
    """How well the retrieved passages cover a question; decides abstention."""

    vector: float  # best cosine similarity between the question and a passage
    lexical: float  # best IDF-weighted share of the question's words found in one passage
    named: bool = False  # the question names something rare that the best passages contain

    def score(self) -> float:
        """Compared with `retrieval.abstain_threshold`; 1 when the question names what it asks
        about and the passages have it (short named questions embed poorly: "What compression
        ratio does Light4GS reach?" scores 0.42 on words and cosine alone)."""
        return 1.0 if self.named else 0.5 * self.vector + 0.5 * self.lexical


def named_terms(question: str) -> set[str]:
    return {t for word in _NAME.findall(question) for t in content_tokens(word)}


def evidence_of(
    question: str,
    passages: list[Passage],
    idf: Callable[[str], float] | None = None,
    doc_freq: Mapping[str, int] | None = None,
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
    named = False
    if doc_freq is not None:
        best = set().union(
            *(content_tokens(p.title + " " + p.text) for p in passages[:LLM_PASSAGES])
        )
        named = any(
            0 < doc_freq.get(t, 0) <= RARE_NAME_CHUNKS for t in named_terms(question) & best
        )
    return Evidence(vector, lexical, named)


def evidence_for(question: str, passages: list[Passage], retriever: HybridRetriever) -> Evidence:
    """The abstention signal with the collection's statistics (the pipeline and the eval use it)."""
    return evidence_of(question, passages, retriever.idf(), retriever.doc_freq)


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
        """Check the LLM's citations, then quote the evidence under what survived.

        The quotes are always shown: a reader should see where the answer comes from, and when
        nothing the LLM wrote is supported they are the whole answer (`fallback`). The model's
        own "NOT IN COLLECTION" is not trusted either way; the evidence lets the reader judge.

        The LLM may only cite the passages the evidence is quoted from: a small model often
        copies a true sentence from a neighbouring paper that does not answer the question, and
        its support check passes. On eval/dev.jsonl that cost 27 answers a wrong-paper
        citation (cited-paper precision 0.770 against 0.855 for the quotes alone).
        """
        answer = base.model_copy(update={"raw_text": raw, "llm": self.llm.name})
        question = answer.standalone_question or answer.question
        quotes = self.evidence_quotes(question, answer.passages)
        checked = check_answer(raw, [p for p, _ in quotes], question)
        answer.removed_citations = checked.removed
        if not checked.citations:
            quoted = self._quoted(question, answer.passages, quotes, header="fallback")
            answer.text, answer.citations, answer.fallback = quoted.text, quoted.citations, True
            return answer
        quoted = self._quoted(question, answer.passages, quotes, header="evidence")
        answer.text = f"{checked.text}\n\n{quoted.text}"
        cites = {c.number: c for c in [*quoted.citations, *checked.citations]}
        answer.citations = [cites[n] for n in sorted(cites)]
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
        evidence = evidence_for(question, passages, self.retriever)
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

    def evidence_quotes(
        self, question: str, passages: list[Passage]
    ) -> list[tuple[Passage, list[str]]]:
        """The sentences that best answer the question, grouped by passage, in passage order.

        Sentences are ranked by the IDF-weighted share of the question's words they hold, with a
        bonus for the passage's rank and for stating a number (most questions ask for one), a
        larger one in the best passage so that its figures beat a neighbour's. Up to three may
        come from the best passage and one from each other that holds more than a fifth of the
        question. On eval/dev.jsonl's answerable questions: every answer keyword quoted for 85%
        (the same bonus everywhere: 81%; two sentences from two passages: 52%) while 92% of the
        cited papers are gold (85%; without the fifth: 90%).
        """
        q = content_tokens(question)
        idf = self.retriever.idf()
        total = sum(idf(t) for t in q) or 1.0
        scored = []
        for p in passages:
            for sent in split_sentences(p.text):
                if is_injection(sent):
                    continue
                score = sum(idf(t) for t in q & content_tokens(sent)) / total
                if p.number != passages[0].number and score <= MIN_OTHER_COVERAGE:
                    continue  # another paper's sentence that barely touches the question
                if numbers(sent):
                    score += NUMBER_BONUS_TOP if p.number == passages[0].number else NUMBER_BONUS
                score += 0.05 * (len(passages) - p.number)
                scored.append((score, p, sent))
        scored.sort(key=lambda x: x[0], reverse=True)
        chosen: dict[int, list[str]] = {}
        for _, p, sent in scored:
            if sum(len(v) for v in chosen.values()) == EVIDENCE_QUOTES:
                break
            cap = TOP_PASSAGE_QUOTES if p.number == passages[0].number else 1
            if len(chosen.setdefault(p.number, [])) < cap:
                chosen[p.number].append(sent)
        by_number = {p.number: p for p in passages}
        out = []
        for n in sorted(chosen):
            p = by_number[n]
            order = {sent: i for i, sent in enumerate(split_sentences(p.text))}
            out.append((p, sorted(chosen[n], key=lambda x: order.get(x, 0))))
        return out

    def extractive(
        self, question: str, passages: list[Passage], header: str = "fallback"
    ) -> Answer:
        """A purely extractive answer: the best evidence sentences, quoted and cited."""
        return self._quoted(question, passages, self.evidence_quotes(question, passages), header)

    def _quoted(
        self,
        question: str,
        passages: list[Passage],
        quotes: list[tuple[Passage, list[str]]],
        header: str,
    ) -> Answer:
        lines = [self.prompts.get(header)]
        citations: list[Citation] = []
        for p, sentences in quotes:
            quote = " ".join(" ".join(sentences).split())  # a heading's line break is not text
            lines.append(f"- {p.title}: “{quote}” [{p.number}]")
            citations.append(citation(p, quote))
        return Answer(
            question=question,
            text="\n".join(lines),
            citations=citations,
            passages=passages,
            fallback=True,
            llm="extractive",
        )
