"""Whether a paper says, of itself, that it needs a property or does without it.

Read from the sentence's own words: the asked property negated ("X-free", "without X",
"requires no X", "does not require X"), or needed ("requires X"), in a sentence that is not
about other work. Hand-written because the models that run offline here (MiniLM, a 135M LLM)
cannot judge entailment and no maintained library reads polarity from a sentence. Apart from
rag/answer/yes_no.py (which shapes the lead) so that the composer can read a yes/no ask among
several without importing the lead's shaping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.core.text import split_sentences
from rag.core.types import Passage
from rag.ingest.guard import instruction_like

# "Does X need fine-tuning?", "Is X training-free?", "Can X run without retraining?"
# ("and does it need retraining?" in a conversation: the connective is not part of the ask)
_ASK = re.compile(
    r"^\s*(?:(?:and|but|so|also|then|ok(?:ay)?)[,\s]+)?"
    r"(?P<aux>is|are|does|do|did|can|could|was|were)\s+(?P<rest>.+?)\??\s*$",
    re.IGNORECASE,
)
# the verb that asks whether a property is needed: a "no"/"-free" answers it with "No"
_NEED = r"(?:need|needs|require|requires|rely on|relies on|depend on|depends on)"
# "fine-tuning", "any retraining", "additional training": the property after the verb
# ("an extra model": the article and the qualifier are not the property)
_PROPERTY = (
    r"(?:an?\s+|the\s+)?(?:any\s+|additional\s+|extra\s+|further\s+|separate\s+)?"
    r"(?P<prop>[a-z][\w-]*(?:\s+[a-z][\w-]*)?)"
)
_NEEDS_ASK = re.compile(rf"\b{_NEED}\s+{_PROPERTY}\s*$", re.IGNORECASE)
# "Does Mamba use attention?": a sentence saying it does without answers "No"; one mentioning
# the property beside a use verb does not answer "Yes" ("Transformers use attention" is about
# others), so this form has only the "No"
_USE = r"(?:use|uses|employ|employs|have|has|include|includes|contain|contains|involve|involves)"
_USES_ASK = re.compile(rf"\b{_USE}\s+{_PROPERTY}\s*$", re.IGNORECASE)
_FREE_ASK = re.compile(
    r"\b(?P<prop>[a-z]\w*(?:-[a-z]\w*)?)-free\s*$|\bwithout\s+"
    r"(?:any\s+|additional\s+|extra\s+|further\s+)?(?P<prop2>[a-z][\w-]*)\s*$",
    re.IGNORECASE,
)


# "Does X increase model size?", "Does X hurt accuracy?": an ask whether a cost comes with it; a
# paper that says it comes without ("without increasing its size", "with no loss in accuracy")
# answers "No". Each verb stands for its kind of cost, as a sentence may word it another way
# ("hurt accuracy" / "without sacrificing accuracy"); the object is the cost's head noun.
_COST_KINDS = {
    "loss": (
        r"hurt|harm|sacrifice|compromise|degrade|lose|reduce|lower|decrease|affect|impact|"
        r"damage|drop",
        r"loss|losses|drop|drops|degradation|decrease|sacrifice|penalty",
    ),
    "growth": (r"increase|raise|add|grow|inflate", r"increase|increases|overhead|growth"),
}
_COST_ASK = re.compile(
    rf"\b(?P<verb>{'|'.join(verbs for verbs, _ in _COST_KINDS.values())})s?\s+"
    r"(?:(?:its|their|the|any|overall)\s+)?(?P<prop>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})\s*$",
    re.IGNORECASE,
)


_OTHERS = re.compile(
    r"\b(?:unlike|previous|prior|existing|traditional|conventional|current|most|other|"
    r"typically|usually|often)\b",
    re.IGNORECASE,
)


VERDICTS = ("Yes. ", "No. ")  # how a lead with a verdict opens


@dataclass
class Verdict:
    word: str  # "Yes" | "No" | "" (a kindred property stated: the sentence, no verdict word)
    passage: Passage
    sentence: str


def _stem(word: str) -> str:
    """ "fine-tuning" -> "fine-tun", "retraining" -> "retrain": the property's word without its
    ending, so "fine-tuned" and "fine-tuning-free" are the same property."""
    return re.sub(r"(?:ing|ed|e|s)$", "", word.lower())


def _without(prop: str, sentence: str) -> bool:
    """The sentence says the property is absent: "fine-tuning-free", "without any retraining",
    "requires no fine-tuning", "does not require fine-tuning", "no need for retraining"."""
    return _absent_at(prop, sentence) is not None


def _without_of_its_own(prop: str, sentence: str) -> bool:
    """The sentence says the property is absent, and says it before it speaks of other work:
    "ZorbKV requires no auxiliary models and leaves existing architectures unchanged" is the
    paper's own, "Unlike prior methods, which need no retraining, …" is not."""
    at = _absent_at(prop, sentence)
    return at is not None and not _OTHERS.search(sentence[:at])


def _absent_at(prop: str, sentence: str) -> int | None:
    """Where the sentence says the property is absent (`_without`), if it does."""
    stem = re.escape(_stem(prop))
    word = rf"{stem}\w*"
    found = re.search(
        rf"\b{word}[- ]free\b|\bwithout\s+(?:any\s+|additional\s+|extra\s+|further\s+)?{word}|"
        # "requires no auxiliary models": one qualifier between
        rf"\b(?:requires?|needs?)\s+no\s+(?:[\w-]+\s+)?{word}|"
        rf"\b(?:does|do)\s+not\s+(?:require|need)\s+(?:any\s+)?{word}|"
        rf"\bno\s+(?:need\s+for\s+|additional\s+|extra\s+|further\s+)?{word}",
        sentence,
        re.IGNORECASE,
    )
    return found.start() if found else None


def _without_cost(verb: str, prop: str, sentence: str) -> bool:
    """The sentence says the cost does not come: "without increasing its size", "with no
    increase in word error rate", "no accuracy loss", of the asked kind of cost and its head
    noun ("model size": "size")."""
    verbs, nouns = next(
        (v, n) for v, n in _COST_KINDS.values() if re.fullmatch(v, verb, re.IGNORECASE)
    )
    stems = "|".join(re.escape(_stem(v)) for v in verbs.split("|"))
    head = rf"{re.escape(_stem(prop.split()[-1]))}\w*"
    none = r"\b(?:no|zero|without(?:\s+any)?)\s+"
    gap = r"(?:[\w-]+\s+){0,3}?"
    return bool(
        re.search(
            rf"\bwithout\s+(?:any\s+|much\s+|significantly\s+)?(?:{stems})\w*\s+{gap}{head}|"
            rf"{none}{gap}{head}\s+(?:{nouns})\b|"
            rf"{none}(?:{nouns})\s+(?:in|of|to)\s+{gap}{head}",
            sentence,
            re.IGNORECASE,
        )
    )


def _needs(prop: str, sentence: str) -> bool:
    """The sentence says the property is needed ("requires fine-tuning", "needs retraining")
    and does not say it is absent."""
    word = rf"{re.escape(_stem(prop))}\w*"
    return bool(
        re.search(rf"\b{_NEED}\s+(?:\w+\s+)?{word}", sentence, re.IGNORECASE)
    ) and not _without(prop, sentence)


def verdict(question: str, passage: Passage) -> Verdict | None:
    """Yes or No, and the sentence of `passage` that says it, when one plainly does."""
    m = _ASK.match(question)
    if not m:
        return None
    rest = m.group("rest")
    asks_free = _FREE_ASK.search(rest)
    asks_need = None if asks_free else _NEEDS_ASK.search(rest)
    asks_use = None if asks_free or asks_need else _USES_ASK.search(rest)
    if not (asks_free or asks_need or asks_use) and _USES_OBJECT.search(rest):
        # "Does ZorbGen use the GPU and the CPU together?": things named, not one property
        return _uses_all(rest, passage, split_sentences(passage.text))
    asks_cost = None if asks_free or asks_need or asks_use else _COST_ASK.search(rest)
    found = asks_free or asks_need or asks_use or asks_cost
    if found is None:
        return None
    prop = found.group("prop") or found.groupdict().get("prop2") or ""
    if not prop or prop.lower() in {"a", "an", "the", "it", "to"}:
        return None
    own = [s for s in split_sentences(passage.text) if not instruction_like(s)]
    if asks_cost:
        verb = asks_cost.group("verb")
        said = next(
            (s for s in own if _without_cost(verb, prop, s) and not _OTHERS.search(s)), None
        )
        return Verdict("No", passage, said) if said else None
    if asks_use:
        said = next((s for s in own if _without_of_its_own(prop, s)), None)
        return Verdict("No", passage, said) if said else _uses_all(rest, passage, own)
    for s in own:
        if _without_of_its_own(prop, s):
            return Verdict("Yes" if asks_free else "No", passage, s)
    for s in own:
        # "Unlike prior methods that require retraining, …" is about the others (so is "prior
        # methods cannot work without retraining", above)
        if _needs(prop, s) and not _OTHERS.search(s):
            return Verdict("No" if asks_free else "Yes", passage, s)
    for kin in _KIN.get(_stem(prop), ()):
        # "Is X training-free?" of "an innovative and fine-tuning-free approach": the sentence
        # that says so of a kindred property answers, shown without a verdict word (the reader
        # weighs "fine-tuning-free" against "training-free", not us). Only the general
        # property's absence answers for its kinds: "training-free" is free of retraining and
        # of fine-tuning ("Does X need retraining?": "No"), not the other way round
        for s in own:
            if _without(kin, s) and not _OTHERS.search(s) and _stem(kin) == _stem(_GENERAL):
                return Verdict("Yes" if asks_free else "No", passage, s)
            if (_without(kin, s) or _needs(kin, s)) and not _OTHERS.search(s):
                return Verdict("", passage, s)
    return None


# "use the GPU and the CPU together", "combine pruning with distillation": what the asked use is
# of, however many things it names
_USES_OBJECT = re.compile(
    rf"\b(?:{_USE}|combine|combines|rely\s+on|relies\s+on)\s+(?P<obj>[^?]+?)\s*\??\s*$",
    re.IGNORECASE,
)
# words of such an ask that are no thing used
_HOW_USED = {"together", "both", "jointly", "also", "same", "time", "any", "and", "or", "with"}
_FUNCTION_WORDS = {"a", "an", "the", "its", "their", "of", "in", "on", "for", "to", "from", "by"}
# the paper speaking of its own work, and a verb of use in the same sentence
_OWN_WORDS = re.compile(r"\b(?:we|our|the\s+authors)\b", re.IGNORECASE)
_USE_VERB = re.compile(
    r"\b(?:us(?:e|es|ed|ing)|employ\w*|leverag\w*|utiliz\w*|exploit\w*|combin\w*|"
    r"integrat\w*|rel(?:y|ies)\s+on|based\s+on|with)\b",
    re.IGNORECASE,
)


def _uses_all(rest: str, passage: Passage, sentences: list[str]) -> Verdict | None:
    """ "Does ZorbGen use the GPU and the CPU together?" answered "Yes" by the paper's own
    sentence that uses every thing asked ("we introduce ZorbGen, … computing using CPUs and
    GPUs"): in its own voice, with a verb of use, not about other work, not negated. Anything
    less is no verdict (a sentence naming one of the things is no evidence of the other)."""
    m = _USES_OBJECT.search(rest)
    if m is None:
        return None
    words = re.findall(r"[A-Za-z][\w-]*", m.group("obj"))
    things = {_stem(w) for w in words if w.lower() not in _HOW_USED | _FUNCTION_WORDS}
    if not things:
        return None
    for sentence in sentences:
        if _OTHERS.search(sentence) or instruction_like(sentence):
            continue
        if not (_OWN_WORDS.search(sentence) and _USE_VERB.search(sentence)):
            continue
        stems = {_stem(w) for w in re.findall(r"[A-Za-z][\w-]*", sentence)}
        if things <= stems and not any(_without(t, sentence) for t in things):
            return Verdict("Yes", passage, sentence)
    return None


# Properties a paper may state in kindred words: training and its kinds ("fine-tuning-free",
# "without retraining" bear on "Is X training-free?" and "Does X need fine-tuning?")
_GENERAL = "training"  # any training: its absence is the absence of each kind below
_TRAINING = (_GENERAL, "fine-tuning", "retraining", "tuning")
_KIN = {_stem(w): tuple(k for k in _TRAINING if k != w) for w in _TRAINING}
