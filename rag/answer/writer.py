"""A capable model writes the answer from the full passages; every sentence it writes is checked.

Used when the configured model can write (`llm.write`: "auto" turns it on for the `openai`
provider, i.e. any OpenAI-compatible server, and for a local GGUF other than the embedded 135M
model, which cannot). The model reads every retrieved passage (cleaned, numbered, sentences that
address the model removed) and answers in the question's shape: a lead, then list items or the
two sides of a comparison, each sentence citing its passage.

What a reader sees is only checked text. A sentence is kept when it cites a retrieved passage
that supports it (`supports_claim`: figures and names exact, wording lenient) and every figure in
it keeps the condition the passage gives it (`figures_bound`: "FID 3.2 at 10 steps" of a passage
that reports 3.2 at 15 steps is refused, although both numbers are in the passage). When the
first sentence fails, when the draft opens with a list item instead of a line that answers, or
when nothing is left, the composed extractive answer is used instead (a list item that only
names its paper's title is dropped: it says nothing of what the paper does). The
model's "NOT IN PASSAGES" is its abstention: no rule refuses before the model has read.

Hand-written: llama-index's CitationQueryEngine asks for [n] citations but checks none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.answer.citations import cited_numbers, figures_bound, strip_citations, supports_claim
from rag.answer.llm import CHARS_PER_TOKEN, ChatModel, estimate_tokens
from rag.answer.prompts import Prompts
from rag.answer.question import Question
from rag.core.text import NAME, clean_display, content_tokens, numbers, split_sentences, squash
from rag.core.types import Passage
from rag.ingest.guard import instruction_like

ABSTAIN_MARK = "NOT IN PASSAGES"
ANSWER_TOKENS = 320  # a lead and a few list lines
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass
class Written:
    """The model's answer after the checks: the kept lines, what each kept sentence cites."""

    text: str
    parts: list[tuple[Passage, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    abstained: bool = False
    raw: str = ""
    tokens: tuple[int, int] = (0, 0)  # in, out


def evidence_block(passages: list[Passage], budget_chars: int) -> str:
    """The passages as the model reads them: numbered, titled, cleaned, without any sentence
    that addresses a model (documents are data), within the prompt's budget."""
    blocks = []
    used = 0
    for p in passages:
        text = " ".join(
            s for s in split_sentences(clean_display(p.text)) if not instruction_like(s)
        )
        block = f"[{p.number}] {clean_display(p.title)}\n{text}"
        if used + len(block) > budget_chars:
            block = block[: max(0, budget_chars - used)]
        if not block:
            break
        blocks.append(block)
        used += len(block) + 2
    return "\n\n".join(blocks)


def messages(
    prompts: Prompts, q: Question, passages: list[Passage], context_tokens: int
) -> list[dict[str, str]]:
    system = prompts.get("write_system")
    shape = prompts.get(f"write_shape_{q.shape}")
    skeleton = prompts.get("write", passages="", question=q.text, shape=shape)
    budget = context_tokens - ANSWER_TOKENS - estimate_tokens(system + skeleton) - 32
    block = evidence_block(passages, int(max(budget, 0) * CHARS_PER_TOKEN))
    user = prompts.get("write", passages=block, question=q.text, shape=shape)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def supported(claim: str, p: Passage, q: Question) -> bool:
    """The passage supports the claim (figures and names exact) with each figure bound to the
    condition the passage gives it, and every name the claim states is in this passage: the
    question's subject written onto another paper's fact ("ApproxDet was benchmarked on an
    iPhone 12", cited to a paper about something else) is not supported."""
    text = p.title + ". " + p.text
    hay = squash(text)
    if any(squash(n) not in hay for n in NAME.findall(claim) if not numbers(n)):
        return False
    return supports_claim(claim, text, q.text) and figures_bound(claim, p.text)


# What a model says about its task rather than about a paper: a lead-in to strip, or a sentence
# to drop ("The passage states that …", "… which is mentioned in the passage").
_PREAMBLE = re.compile(
    r"^(?:the (?:direct )?answer(?: to the question)? is\s*:?|answer\s*:|based on the "
    r"(?:passages?|evidence),?|according to (?:the )?(?:passages?|evidence)(?: \[\d+\])?,?)\s*",
    re.IGNORECASE,
)
_META = re.compile(r"\b(?:the|this) (?:passages?|evidence|question)\b", re.IGNORECASE)


def _by_support(claim: str, passages: list[Passage]) -> list[int]:
    """The passage whose wording the claim shares most (ties: the better ranked)."""
    tokens = content_tokens(claim)
    if not tokens or not passages:
        return []
    best = max(passages, key=lambda p: len(tokens & content_tokens(p.title + " " + p.text)))
    return [best.number]


def check(
    raw: str,
    q: Question,
    passages: list[Passage],
    relevant: set[int] | None = None,
    answers: Callable[[str, Passage], bool] | None = None,
) -> Written:
    """Keep the sentences of `raw` that a retrieved passage supports; a line keeps its list
    marker. `relevant`: the passages that answer the question at all (for a list, the papers
    relevant enough, rag/answer/synthesis.py); a sentence citing only others does not answer it.
    `answers`: what the first sentence must also pass to lead (it holds the asked kind of fact
    about the asked subject, rag/answer/compose.py)."""
    if ABSTAIN_MARK in raw.upper():
        return Written("", abstained=True, raw=raw)
    by_number = {p.number: p for p in passages}
    allowed = relevant if relevant is not None else set(by_number)
    lines: list[str] = []
    parts: list[tuple[Passage, str]] = []
    dropped: list[str] = []
    for line in raw.strip().splitlines():
        bullet = bool(_BULLET.match(line))
        kept: list[str] = []
        for sentence in split_sentences(_BULLET.sub("", line).strip()):
            claim = _PREAMBLE.sub("", clean_display(strip_citations(sentence)).strip())
            claim = (claim[:1].upper() + claim[1:]).rstrip(".;:")
            # the model's citations when it gives them; else the passages are tried, and the
            # one that supports the sentence best is cited (the check decides, not the model)
            cited = [n for n in cited_numbers(sentence) if n in by_number] or _by_support(
                claim, passages
            )
            good = [n for n in cited if n in allowed and supported(claim, by_number[n], q)]
            leads = not lines and not kept and not bullet
            if leads and answers is not None:
                good = [n for n in good if answers(claim, by_number[n])]
            # a list item that only names its paper ("- Zorb: Fast Quux [2].") says nothing of
            # what the paper does about the question (a lead may rightly use its title's words:
            # "Zorb is a fast quux model")
            if bullet:
                good = [n for n in good if not _only_titles(claim, by_number[n])]
            if not claim or not good or instruction_like(claim) or _META.search(claim):
                dropped.append(sentence)
                if leads:
                    return Written("", dropped=dropped, raw=raw)  # the lead itself failed
                continue
            kept.append(f"{claim} {''.join(f'[{n}]' for n in good)}.")
            parts += [(by_number[n], claim) for n in good]
        if kept:
            lines.append(("- " if bullet else "") + " ".join(kept))
    if lines and lines[0].startswith("- "):
        # items without a first line that answers: the reader's first line must answer
        return Written("", dropped=dropped, raw=raw)
    return Written("\n".join(lines), parts, dropped, raw=raw)


def _only_titles(claim: str, p: Passage) -> bool:
    """Does the claim say no more than its paper's title?"""
    said = content_tokens(re.sub(r"^(?:the paper|this paper|paper)\s*", "", claim, flags=re.I))
    return not said or said <= content_tokens(p.title)


def write(
    llm: ChatModel,
    prompts: Prompts,
    q: Question,
    passages: list[Passage],
    relevant: set[int] | None = None,
    answers: Callable[[str, Passage], bool] | None = None,
) -> Written:
    """Ask the model for the answer and check it. The generation is consumed here: a reader
    never sees a draft."""
    generation = llm.stream(messages(prompts, q, passages, llm.context_window), ANSWER_TOKENS)
    raw = "".join(generation).strip()
    written = check(raw, q, passages, relevant, answers)
    written.tokens = (generation.usage.tokens_in, generation.usage.tokens_out)
    return written
