"""A yes/no question answered "Yes" or "No" on its first line, when the paper says so plainly.

"Does SnapKV need fine-tuning?" of an abstract that calls SnapKV "fine-tuning-free" is answered
"No: …" with that sentence, not with whichever sentence shares the most words. Only two plain
forms are read: the asked property negated in the sentence ("X-free", "without X", "requires no
X", "does not require X") and, for "Is … X-free?" / "Does … require X?", the property itself in
the paper's own sentence; "Does … use X?" is answered "No" by a negated property, and "Yes" only
by the paper's own sentence that uses every thing asked ("Does X use the GPU and the CPU
together?" of "we introduce X, … computing using CPUs and GPUs"). Anything else keeps the
composed lead: a wrong "Yes" is worse than none. The reading itself is
rag/answer/polarity.py; this module shapes the lead from it.
"""

from __future__ import annotations

import re

from rag.answer.compose import (
    Lead,
    in_text,
    introduces,
    measured_against,
    readable_in,
    short_form,
    short_name,
)
from rag.answer.polarity import VERDICTS, Verdict, verdict
from rag.answer.question import titles_by
from rag.core.text import clean_display

__all__ = ["VERDICTS", "Verdict", "comparative_lead", "verdict", "yes_no_lead"]


def yes_no_lead(question: str, lead: Lead) -> Lead:
    """The composed lead with "Yes."/"No." first, from the sentence of the lead's paper that
    says so; the lead as it was when no sentence plainly does."""
    if not lead.parts:
        return lead
    p = lead.parts[0][0]
    v = verdict(question, p)
    if v is None:
        return lead
    shown = readable_in(p, v.sentence).rstrip(" .")
    name = clean_display(short_name(p))
    if name and name.lower() not in shown.lower():
        shown = f"{name}: {shown}"
    word = f"{v.word}. " if v.word else ""
    return Lead(f"{word}{shown} [{p.number}].", [(p, v.sentence)])


# "Is FlashAttention-2 faster than FlashAttention?": one side weighed against the other
_COMPARATIVE_ASK = re.compile(
    r"^\s*(?:(?:and|but|so)[,\s]+)?(?:is|are|does|do|did)\s+(?P<x>.+?)\s+(?:\w+\s+)?"
    r"(?P<cmp>faster|quicker|smaller|cheaper|lighter|better|more\s+accurate|more\s+efficient|"
    r"less\s+\w+|lower\s+\w+|fewer\s+\w+)\s+than\s+(?P<y>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
# the words a sentence says the comparative in: "around 2x speedup compared to Y" is faster
_COMPARATIVE_CUES = (
    (
        r"faster|quicker",
        r"\bspeed-?ups?\b|\bfaster\b|\baccelerat\w*|\bthroughput\b|\d(?:\.\d+)?\s*(?:[x×]|times\b)",
    ),
    (
        r"smaller|cheaper|lighter|less|lower|fewer",
        r"\breduc\w*|\bsmaller\b|\bless\b|\bfewer\b|\blower\b|\bsav\w*|\bcuts?\b",
    ),
    (r"better|more", r"\boutperform\w*|\bbetter\b|\bsurpass\w*|\bhigher\b|\bimprov\w*"),
)


def comparative_lead(question: str, lead: Lead) -> Lead:
    """A comparison asked as yes/no ("Is X faster than Y?") opens with "Yes." when X's side has
    a sentence weighing X against Y by name in the asked direction ("These yield around 2x
    speedup compared to FlashAttention"); the comparison as it was otherwise. Only "Yes": a
    sentence that does not say so is no evidence of the opposite."""
    m = _COMPARATIVE_ASK.match(question)
    if not m or not lead.parts or lead.text.startswith(VERDICTS):
        return lead
    x, y, cmp = m.group("x").strip(), m.group("y").strip(" ?."), m.group("cmp").lower()
    p = lead.parts[0][0]
    cue = next((c for asked, c in _COMPARATIVE_CUES if re.match(asked, cmp)), None)
    # X's paper: titled by X, or introducing X as its own ("we introduce SEW (Squeezed …)")
    own = (
        titles_by(p.title, x)
        or (in_text(x, p.title) and not in_text(y, p.title))
        or introduces(p, x)
    )
    if cue is None or not own:
        return lead  # the first side is not X's paper
    said = [
        s
        for q, s in lead.parts
        if q is p
        # Y as the sentence writes it, maybe short ("compared with FlashAttn")
        and any(measured_against(n, s) for n in (y, short_form(y, s)) if n)
        and re.search(cue, s, re.IGNORECASE)
    ]
    return Lead(f"Yes. {lead.text}", lead.parts) if said else lead
