"""Citations are checked, not trusted.

Every sentence of the LLM's answer is compared with the passage it cites. A citation to a passage
that does not exist is removed; a sentence its passage does not support (a number that is not in
it, words that are not there) is re-attached to the passage that does support it, or dropped.
When nothing supported remains, the answer falls back to quoting the best evidence sentences.
"""

from __future__ import annotations

import re

from rag.core.text import (
    NAME,
    content_tokens,
    numbers,
    numbers_supported,
    overlap,
    split_sentences,
    squash,
)
from rag.core.types import Citation, Passage
from rag.ingest.guard import instruction_like

CITE = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
SUPPORT_THRESHOLD = 0.6  # share of a sentence's content words its passage must contain
MIN_CLAIM_TOKENS = 2  # "Sure!" or "PWNED" is not a claim
SNIPPET_CHARS = 300


def cited_numbers(sentence: str) -> list[int]:
    return [int(n) for group in CITE.findall(sentence) for n in re.split(r"\s*[,;]\s*", group)]


def strip_citations(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", CITE.sub("", text)).strip()


def support_score(sentence: str, passage_text: str, question: str = "") -> float:
    """How well a passage supports a sentence: 0 when a number is missing, else word coverage.

    Words the sentence only repeats from the question prove nothing, so the words it adds must
    be covered too; and what it repeats from the question is asserted of the cited paper, so that
    must be covered as well ("RazorAttention quantizes by salient tokens" needs a passage saying
    so). The score is the lowest of the three coverages.
    """
    claim = strip_citations(sentence)
    tokens = content_tokens(claim)
    if len(tokens) < MIN_CLAIM_TOKENS:
        return 0.0
    if not numbers_supported(numbers(claim), numbers(passage_text)):
        return 0.0
    evidence = content_tokens(passage_text)
    score = overlap(tokens, evidence)
    if question:
        asked = content_tokens(question)
        added, echoed = tokens - asked, tokens & asked
        if not added and not numbers(claim):
            return 0.0  # it restates the question
        for part in (added, echoed):
            if part:
                score = min(score, overlap(part, evidence))
    return score


def supports(sentence: str, passage_text: str, question: str = "") -> bool:
    """The support check used by the answer pipeline and the eval harness alike."""
    return support_score(sentence, passage_text, question) >= SUPPORT_THRESHOLD


CLAIM_OVERLAP = 0.5  # share of a model sentence's new words its passage must contain
ECHO_OVERLAP = 0.75  # share of the question's words it repeats that its passage must contain


def supports_claim(claim: str, passage_text: str, question: str = "") -> bool:
    """Does a passage support a model's sentence? Every figure and every name it states must be
    in the passage (or the question, for names), and of the words it adds to the question half
    must be the passage's. A terse answer ("Sirius.", "Up to 3.2x") is supported by its facts.

    More lenient on wording than `supports` (which picks evidence sentences), because a capable
    model paraphrases; exact on facts, because a wrong figure or name is what misleads. Measured
    as a classifier in `rag eval` (reference answers kept, other papers' sentences rejected).
    """
    claim = strip_citations(claim)
    if not any(ch.isalnum() for ch in claim):
        return False
    if not numbers_supported(numbers(claim), numbers(passage_text)):
        return False
    hay, asked = squash(passage_text), squash(question)
    names = [n for n in NAME.findall(claim) if not numbers(n) or not n[0].isdigit()]
    if any(
        not _name_in(n, hay) and not _name_in(n, asked) and not _initials_of(n, passage_text)
        for n in names
    ):
        return False
    added = content_tokens(claim) - content_tokens(question)
    # What it repeats from the question is asserted of the paper too: "PYRA reduces training
    # memory by …" to "How does PYRA reduce training memory?" when the passage never says so.
    # (A claim with figures is anchored by them, and may say "faster" for the passage's
    # "speedup".)
    echoed = content_tokens(claim) & content_tokens(question)
    if (
        not numbers(claim)
        and len(echoed) >= 2
        and overlap(echoed, content_tokens(passage_text)) < ECHO_OVERLAP
    ):
        return False
    if negated(claim) and not negated(closest_sentence(claim, passage_text)):
        return False  # "it does not provide a speed-up of 3.2" of "achieves a speed-up of 3.2"
    if numbers(claim) or names:
        if len(added) <= 3:
            return True
    elif not added:
        return False
    return overlap(added, content_tokens(passage_text)) >= CLAIM_OVERLAP


_NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|cannot|without|fails?|failed|lacks?)\b|n't\b", re.I
)


def negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def closest_sentence(claim: str, passage_text: str) -> str:
    """The passage's sentence sharing most of the claim's words: what the claim restates."""
    tokens = content_tokens(claim)
    return max(
        split_sentences(passage_text),
        key=lambda s: overlap(tokens, content_tokens(s)),
        default="",
    )


def _name_in(name: str, squashed: str) -> bool:
    """The name, or its plural's singular ("V100s" for "V100"), in squashed text."""
    n = squash(name)
    return n in squashed or (re.search(r"\ds$", name) is not None and n[:-1] in squashed)


def _initials_of(name: str, text: str) -> bool:
    """An acronym the passage spells out ("MFU" for "model FLOPs utilization")."""
    if not re.fullmatch(r"[A-Z]{3,6}", name):  # two letters match by chance too often
        return False
    words = re.findall(r"[A-Za-z][\w\-]*", text)
    initials = "".join(w[0].upper() for w in words)
    return name in initials


def shorten(text: str, limit: int = SNIPPET_CHARS) -> str:
    """One line (a heading's line break is not text) of at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def best_snippet(claim: str, passage_text: str) -> str:
    """The passage sentence closest to a claim, to show beside the citation."""
    tokens = content_tokens(claim)
    # a sentence that instructs the model is never quoted (rag/ingest/guard.py)
    sentences = [s for s in split_sentences(passage_text) if not instruction_like(s)]
    sentences = sentences or [passage_text]
    return shorten(max(sentences, key=lambda s: overlap(tokens, content_tokens(s))))


def citation(passage: Passage, snippet: str, limit: int = SNIPPET_CHARS) -> Citation:
    """The citation of a numbered passage, showing `snippet` (shortened to one line)."""
    return Citation(
        number=passage.number,
        title=passage.title,
        source=passage.source,
        snippet=shorten(snippet, limit),
        score=passage.score,
        doc_id=passage.doc_id,
        page=passage.page,
        section=passage.section,
        label=passage.label,
    )


FIGURE_WINDOW = 4  # words either side of a figure that say what it measures
FIGURE_AGREEMENT = 0.5  # share of a figure's words in a claim that its passage has beside it


def _window(tokens: list[str], i: int) -> tuple[set[str], set[str]]:
    """The words and the figures within FIGURE_WINDOW words of position i."""
    near = tokens[max(0, i - FIGURE_WINDOW) : i] + tokens[i + 1 : i + 1 + FIGURE_WINDOW]
    words = {t for w in near for t in content_tokens(w) if not numbers(w)}
    figures = set().union(*(numbers(w) for w in near)) if near else set()
    return words, figures


def figures_bound(claim: str, passage_text: str) -> bool:
    """Every figure of the claim stands, somewhere in the passage, among the words it stands
    among in the claim (what it measures), and with the figures beside it (its condition: "with
    1 step" is not "with 4 steps")."""
    claim_words = strip_citations(claim).split()
    passage_words = passage_text.split()
    for i, word in enumerate(claim_words):
        figure = numbers(word)
        if not figure:
            continue
        words, beside = _window(claim_words, i)
        ok = False
        for j, w in enumerate(passage_words):
            if not numbers(w) & figure:
                continue
            p_words, p_beside = _window(passage_words, j)
            agree = not words or len(words & p_words) / len(words) >= FIGURE_AGREEMENT
            if agree and beside <= p_beside:
                ok = True
                break
        if not ok:
            return False
    return True


NUMBER_WEIGHT = 3  # a figure the claim and a passage sentence share counts as this many words
MIN_CLAIM_MATCH = 2  # a claim matching less of any passage sentence tells nothing about where


def claims_citing(text: str, number: int) -> list[list[str]]:
    """The claims of an answer's `text` that cite [number], in order, their markers removed. A
    claim is the sentence carrying the marker with the unmarked sentences of its line just before
    it: "X presents Y. It builds a baseline [1]." rests both sentences on [1]."""
    claims = []
    for line in text.splitlines():
        run: list[str] = []
        for s in split_sentences(line):
            run.append(strip_citations(s))
            marks = cited_numbers(s)
            if marks:
                if number in marks:
                    claims.append(run)
                run = []
    return claims


def _match(claim: str, sentence: str) -> int:
    """How much of `claim` a passage sentence says: the content words they share, each figure
    they share counting NUMBER_WEIGHT words ("3.6x", "8.2x" pin the sentence they come from)."""
    shared_words = len(content_tokens(claim) & content_tokens(sentence))
    shared_figures = len(numbers(claim) & numbers(sentence))
    return shared_words + (NUMBER_WEIGHT - 1) * shared_figures


def supporting_sentence(claim: str, passage_text: str) -> tuple[int, str]:
    """The passage's sentence that best matches `claim` (the first of equals), with its match;
    a sentence that instructs the model is never one (rag/ingest/guard.py)."""
    best: tuple[int, str] = (0, "")
    for s in split_sentences(passage_text):
        if instruction_like(s):
            continue
        score = _match(claim, s)
        if score > best[0]:
            best = (score, s)
    return best


def _passage_text(c: Citation, passages: list[Passage]) -> str:
    """The text of the passage a citation cites: the passage numbered as it is, of its document
    and place; else every passage of that document and place; else its snippet."""
    same = [
        p
        for p in passages
        if p.doc_id == c.doc_id and p.page == c.page and p.section == c.section and p.text
    ]
    numbered = [p for p in same if p.number == c.number]
    chosen = numbered[:1] or same
    return "\n".join(p.text for p in chosen) if chosen else c.snippet


def _rests_on(claim: list[str], passage_text: str) -> str:
    """The passage sentences one claim rests on: each of its sentences' best match, joined when
    they stand in a row in the passage (the view marks the run); else the first one's; "" when
    none matches MIN_CLAIM_MATCH."""
    order = {s: i for i, s in enumerate(split_sentences(passage_text))}
    found = []
    for part in claim:
        score, sentence = supporting_sentence(part, passage_text)
        if score >= MIN_CLAIM_MATCH and sentence not in found:
            found.append(sentence)
    if not found:
        return ""
    at = [order[s] for s in found]
    in_a_row = at == list(range(at[0], at[0] + len(at)))
    return " ".join((" ".join(found) if in_a_row else found[0]).split())


def with_cited_sentences(
    text: str, citations: list[Citation], passages: list[Passage]
) -> list[Citation]:
    """`citations`, each with `sentence` set: the passage sentence (or run of sentences) that the
    first claim citing it rests on, matched by shared words, figures counting most. Every face
    highlights it in the source view (rag/ingest/sources.py `cited_text`). A citation already
    carrying one, or whose claims match no sentence, is kept as it is (the view then marks its
    snippet)."""
    out = []
    for c in citations:
        if not c.sentence:
            hay = _passage_text(c, passages)
            for claim in claims_citing(text, c.number):
                sentence = _rests_on(claim, hay)
                if sentence:
                    c = c.model_copy(update={"sentence": sentence})
                    break
        out.append(c)
    return out
