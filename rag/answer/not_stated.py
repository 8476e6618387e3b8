"""How a "not stated" answer names the paper and what it lacks, in plain words.

The asked attribute comes from the question's own words ("the prefill latency"); when those
words do not make a noun phrase a reader can take in ("which open dataset provides", "how long a
44.1kHz stereo clip and how long"), the answer says what kind of fact is missing instead
("the figure asked for"). The paper is called by its title's short name or its title, never by
a word of the question that the abstract does not use as its name.
"""

from __future__ import annotations

import re

from rag.answer.compose import Lead, own_paper, short_name, states_attribute, uses_name
from rag.answer.question import (
    PERFORM_SETTING,
    RESULT_ASK,
    Question,
    content_tokens,
    plain_ask,
    strong_names,
)
from rag.core.text import clean_display
from rag.core.types import Passage

# The fact a reader was after, by the kind of question, when its own words do not say it well.
KIND_PHRASES = {
    "number": "the figure asked for",
    "hardware": "the hardware asked about",
    "year": "the year",
    "venue": "the venue",
    "authors": "the authors",
    "dataset": "the dataset asked about",
    "name": "the name asked for",
    "describe": "what was asked",
}
MAX_PHRASE_WORDS = 9
_WH = re.compile(r"\b(?:which|what|how|who|whom|when|where|why|whether)\b", re.IGNORECASE)
# A phrase may not end in a word that needs a continuation ("the", "of", "provides").
_DANGLING = re.compile(
    r"\b(?:the|a|an|of|for|to|in|on|at|by|with|and|or|its|their|this|that|these|is|are|was|were|"
    r"does|do|did|has|have|\w+s)\s*$",
    re.IGNORECASE,
)
_ENDS_WELL = re.compile(r"(?:ss|us|is|ics|ness|ous|ps|ms|gs)\s*$", re.IGNORECASE)
_FIGURE = re.compile(r"\d")


def plain_phrase(phrase: str) -> bool:
    """A noun phrase a reader can take in: short, no question word, no figure, and not left
    hanging on an article, a preposition or a verb."""
    words = phrase.split()
    if not words or len(words) > MAX_PHRASE_WORDS:
        return False
    if _WH.search(phrase) or _FIGURE.search(phrase) or "?" in phrase:
        return False
    if not phrase.lower().startswith(("the ", "a ", "an ", "its ", "their ")):
        return False
    # "the number of parameters" ends in a plural noun; "the dataset provides" in a verb
    hanging = _DANGLING.search(phrase) and not _ENDS_WELL.search(words[-1])
    return not (hanging and not _plural_noun(phrase))


def _plural_noun(phrase: str) -> bool:
    """A final "-s" word after "of"/an adjective is a plural noun ("the number of parameters"),
    one right after the phrase's head noun is a verb ("the dataset provides")."""
    words = phrase.lower().split()
    return len(words) >= 2 and words[-1].endswith("s") and words[-2] in {"of", "many", "the"}


def what_is_missing(q: Question) -> str:
    performed = PERFORM_SETTING.search(q.text)
    if performed:  # "How does X perform on video generation?"
        return f"results on {performed.group('setting').strip(' ?.,')}"
    if q.kind == "describe" and RESULT_ASK.search(q.text):  # "… report as its main result?"
        return "a result"
    phrase = plain_ask(q.attribute_phrase or "")
    # the subject a terse question opens with is not what is missing: "the ZorbNet: mAP and
    # the number of GFLOPs" -> "the mAP and …", "the speedup (ZorbNet)" -> "the speedup"
    phrase = re.sub(r"^(the|an?)\s+[^\s:]+:\s+", r"\1 ", phrase)
    phrase = re.sub(
        r"\s*\(([^()]*)\)$", lambda m: "" if m.group(1) in q.names else m.group(0), phrase
    )
    if plain_phrase(phrase):
        return phrase
    return KIND_PHRASES.get(q.kind, "what was asked")


def paper_called(p: Passage, q: Question) -> str:
    """The question's name for the paper when its abstract keeps using that name, else its
    short name, else its title in quotes."""
    used = [n for n in strong_names(q.names) if uses_name(p, n) and not _FIGURE.fullmatch(n)]
    if used and not re.match(r"^[\d.,]+\w{0,4}$", used[0]):
        return used[0]
    return clean_display(short_name(p)) or f"“{clean_display(p.title)}”"


def title_lead(q: Question, closest: list[tuple[Passage, str]]) -> Lead | None:
    """ "How many parameters does TransNormerLLM scale to?": no sentence of its abstract gives a
    count of parameters, but its title does ("Scaling TransNormer to 175 Billion Parameters").
    A title is the paper's own statement: it answers, quoted and cited, instead of "not
    stated". Only for a typed ask (a figure, a device …) of the paper the question names."""
    if not q.typed or not closest:
        return None
    p = closest[0][0]
    title = clean_display(p.title).strip()
    named = any(own_paper(p, [n]) or uses_name(p, n) for n in strong_names(q.names))
    if not named or not states_attribute(q, title):
        return None
    if q.kind == "number" and not _figure_of(q, title):
        return None  # "Accurate 4 Bit Attention for … Acceleration" gives no speedup
    return Lead(f"{paper_called(p, q)}’s title gives it: “{title}” [{p.number}].", [(p, title)])


def _figure_of(q: Question, title: str) -> bool:
    """A figure in `title` followed at once by a word of the asked attribute ("175 Billion
    Parameters", "12,000 GPUs"): a title is too short for a figure a few words off to be the
    asked one."""
    asked = set().union(*q.attribute_groups())
    tokens = title.split()
    return any(
        re.fullmatch(r"[\d.,]+[A-Za-z]{0,2}", t)
        and content_tokens(" ".join(tokens[i + 1 : i + 3])) & asked
        for i, t in enumerate(tokens)
    )
