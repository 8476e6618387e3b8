"""Answers about several papers: a list (every retrieved paper that answers) and a comparison
(one line per named paper, each side from its own abstract).

Hand-written because llama-index's response synthesizers write the answer with an LLM; these
compose it from the passages' own sentences, so every line a reader sees is a checked quotation.
The relevance weights and cut-offs below were chosen on the `tune` split (eval/dev.jsonl and
eval/tune.jsonl) and are judged on the held-out `test` split.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from difflib import SequenceMatcher

import numpy as np
import numpy.typing as npt

from rag.answer.compose import (
    _BACKGROUND_CUE,
    _DEFINED,
    _FINDING_CUE,
    _FINDING_SAID,
    _LIMITATION_ASK,
    _LIMITATION_CUE,
    _MECHANISM_CUE,
    _MOTIVATION_ASK,
    _OTHERS_SUBJECT,
    _OWN_VOICE,
    _POINTS_BACK,
    _PROPOSAL,
    _REFERS_BACK,
    _RESULT_WORDS,
    HARDWARE,
    MAX_LEAD_CHARS,
    NAMING_WORD,
    Composer,
    Lead,
    _figures,
    _reports_result,
    abbreviation_of,
    analyse_facet,
    as_baseline,
    coined_name,
    facets_of,
    in_text,
    introduces,
    mentions,
    names_first,
    opening_background,
    own_paper,
    readable_in,
    realised_in,
    short_name,
    spelled_out,
    states_attribute,
    titled,
    trim,
    with_antecedent,
)
from rag.answer.not_stated import what_is_missing
from rag.answer.question import (
    GENERIC_NAMES,
    Question,
    asks_why,
    paired_sides,
    quoted_titles,
    shape_of,
    strong_names,
    titles_by,
)
from rag.core.text import (
    NAME,
    clean_display,
    content_tokens,
    split_sentences,
    squash,
)
from rag.core.types import Passage
from rag.ingest.guard import instruction_like
from rag.ingest.sources import by_paper

Embed = Callable[[list[str]], npt.ArrayLike]  # texts -> one vector each

# Does a retrieved paper answer a list question? A logistic model over four named features
# (`list_features`): the IDF-weighted share of the topic's words its passage holds, the cosine of
# its sentence closest to the topic (a paper may answer in one sentence), how far its search score
# falls below the best paper's (relative: how a search scores depends on the question's words,
# a broad question scoring every paper lower), and its place in the search results. Fitted by
# `python eval/fit_weights.py list` (eval/fit-list.json) on the list questions of the tune split
# and the probe sets, never `test`.
# It replaced "the mean of cosine, topic words and closest sentence, within 0.8 of the best
# paper": on about 300 dev list questions that rule named every gold paper in 0.33 of them (paper
# precision 0.71, recall 0.69); this model, on 5-fold cross-validation at LIST_JOIN, in 0.46
# (precision 0.71, recall 0.77).
LIST_WEIGHTS = {
    "topic_words": 2.426,
    "best_sentence_cosine": 3.261,
    "search_score_gap": 3.275,
    "search_rank": -3.12,
}
LIST_BIAS = -1.432
# The lowest probability at which paper precision on the folds is not below the rule replaced:
# a list names every paper that answers, and a reader forgives one extra line more than a gap.
LIST_JOIN = 0.3
SEARCH_RANKS = 10  # search_rank: a paper's place among the first this many results, in [0, 1]
LIST_MAX = 6  # lines in a list answer; a reader scans six, more is a search result page
# The cosine of two abstracts (their stored MiniLM vectors) at which they work on one problem: the
# nearest abstracts of a paper on accelerating text-to-image diffusion are other acceleration
# papers down to about 0.72, then image editing and restoration at 0.68; chosen by reading the
# neighbours of three papers, not fitted (no question of this shape in tune or the probe sets).
SAME_PROBLEM = 0.7
PART_CHARS = 300  # a whole abstract sentence but for the longest 5% (a fragment reads worse)
# Sides, in the order the question names them: a name given after the compared pair (a device,
# "on an A100"; a dataset) qualifies the comparison and is not a third side.
MAX_SIDES = 2
SIDE_SENTENCES = 4  # a comparison side: its mechanism (as deep as a how answer) and its figure
LABEL_WORDS = 8  # a paper without a short name is called by this many words of its title
# A list line's sentence: cosine of sentence and topic (the embedding model already loaded),
# weighted with the IDF-weighted share of the topic's words it holds.
SENTENCE_VECTOR_WEIGHT = 0.6
OWN_VOICE_BONUS = 0.15  # "we propose …": what the paper does, not the problem it starts from
# "we propose X, which …": the sentence that says what the paper contributes, beside others in
# its voice ("we used two hidden layers"); a paper's line in a list says that
PROPOSAL_BONUS = 0.1
# "previous methods …", "however, X suffers …": the problem, not the paper. More than any score:
# such a sentence is chosen only when the passage has nothing else.
BACKGROUND_FLOOR = 10.0
# A part of the method named and defined ("a Token Mixing Block (TMB)", "a module, called
# DualPath"): how it works is told through its parts.
_COMPONENT = re.compile(
    r"\b[A-Z][\w-]*(?:\s+[A-Za-z][\w-]*){0,4}\s+\([A-Z][\w-]*[A-Z][\w-]*\)|"
    r"\b(?:called|named|termed|dubbed)\s+[A-Z][\w-]*[A-Z]"
)
# what a sentence adds beyond the question's own words ("This allows larger models to run on
# memory-limited devices" restates a question about running larger models; "a sliding window
# memory scheduler manages layer weights …" answers it): the IDF of its new words, up to
# NOVELTY_IDF (the "novelty" feature)
NOVELTY_IDF = 30.0  # about ten uncommon words
# How a mechanism sentence is scored (`Scored.mechanism`): each feature of
# `Scored.mechanism_features` times its weight. Cues: "uses", "via", "by …ing" (how it works);
# a named part ("a Token Mixing Block (TMB)"); a step ("First, …", "(1) …"); the paper's own
# voice; a finding or result ("experiments show", "2.3x faster": what it won, not how).
MECHANISM_WEIGHTS = {  # fitted: `python eval/fit_weights.py mechanism` (eval/fit-mechanism.json)
    "cosine": 0.6,
    "lexical": 1.23,
    "novelty": 3.46,
    "mechanism_cue": 0.36,
    "finding": -0.69,
    "own_voice": 0.1,
    "component": 0.33,
    "detail": 0.74,
}
# A step of the method, told as one ("First, it partitions prompts into fixed-size chunks",
# "two techniques: (1) expert-wise bitwidth adaptation …"): the detail of how it works, which a
# reader needs beside the sentence that names the method.
_DETAIL_CUE = re.compile(
    r"^(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|finally|specifically|in particular|"
    r"concretely)\b|\((?:1|i|a)\)|(?:^|\s)(?:1|i)\)\s|"
    # "The key idea is to add SSD-CPU communication …": the mechanism, said as such
    # ("The key technique used by ZorbGNN is offline sampling")
    r"\b(?:key|main|core|central|our)\s+(?:idea|insight|technique)\s+(?:\w+\s+){0,3}?(?:is|lies)\b",
    re.IGNORECASE,
)
# "In this paper, we focus on / study whether / investigate …": the paper frames the problem it
# takes on, in its own voice but not yet how its method works: background, as the problem is
_FRAMING = re.compile(
    r"^(?:[\w'-]+,?\s+){0,4}?(?:we|the authors|this (?:paper|work|study))\s+(?:first\s+)?"
    r"(?:focus(?:es)? on|stud(?:y|ies)|investigate|explore|consider|ask|try to|aim to|revisit|"
    r"examine)\b",
    re.IGNORECASE,
)
# "Code is available at https://…": no part of how the method works
_ASIDE = re.compile(
    r"\b(?:code|codes|source code|models?|implementation|data(?:set)?s?)\s+(?:\w+\s+){0,3}?"
    r"(?:is|are|will be|has been|have been)\s+(?:publicly\s+|made\s+)?(?:available|released)|"
    r"https?://|github\.com|"
    # "We will make all codes of ZorbNet open-source", "we release our models and code"
    r"\b(?:release[sd]?|releasing|open[- ]sourc\w*)\s+(?:\w+\s+){0,4}?(?:codes?|source code|"
    r"weights|checkpoints|implementation)\b|"
    r"\bmakes?\s+(?:\w+\s+){0,5}?(?:codes?|source code|models?|weights|checkpoints|"
    r"implementation)\s+(?:\w+\s+){0,3}?(?:open[- ]source|publicly available|available)\b|"
    r"\bproject page\b",
    re.IGNORECASE,
)
# "we show that X improves with scale": a finding, however much it sounds like the paper's voice
# what explains a design: an observation, a finding, a cause
_REASON_CUE = re.compile(
    r"\b(?:find|finds|found|observe[sd]?|observation|discover\w*|reveal\w*|because|since|"
    r"due to|owing to|insight|motivated by|reasons?)\b",
    re.IGNORECASE,
)
# how the paper tests its method: the models, tasks and baselines of its experiments
# "Nevertheless, X represents a significant advancement …", "… paves the way for …": what the
# authors make of their work, not what it does or found; shown only when nothing else is left
_OUTLOOK = re.compile(
    r"\b(?:paves?\s+the\s+way|promising\s+(?:implications|directions?|avenues?)|"
    r"represents?\s+an?\s+(?:\w+\s+)?(?:advance(?:ment)?|step|milestone)|"
    r"opens?\s+(?:up\s+)?(?:new\s+)?(?:avenues|possibilities|doors)|sheds?\s+light|"
    r"broad(?:er)?\s+implications|valuable\s+insights|we\s+hope|future\s+(?:work|research))\b",
    re.IGNORECASE,
)
_SETUP_CUE = re.compile(
    r"\b(?:is|are|was|were|been)\s+(?:\w+\s+)?evaluated\b|^to evaluate\b|"
    # ("… introduces retaining heads to evaluate the causal importance of …" is how it works)
    r"\b(?:we|the authors)\s+(?:also\s+|further\s+)?(?:evaluate|benchmark|test)\w*\b|"
    # "we compare ZorbGNN with QuuxGNN", not "we compare query tokens against centroids"
    r"\b(?:we|the authors)\s+(?:also\s+)?compare\s+(?:our|their|it|them|the proposed|"
    r"(?-i:[A-Z][\w-]*[A-Z0-9]))|"
    r"\bscaling study\b",
    re.IGNORECASE,
)
_SHOWN = re.compile(r"\b(?:show|shows|showed|find|finds|found|observe|observes)\s+that\b", re.I)
# A concessive opening, then the paper's own main clause ("While …, we provide …")
_OWN_MAIN = re.compile(
    r"^(?:while|although|though|whereas|unlike)\b[^,]{0,200},\s*(?:we|the authors)\s+"
    r"(?:\w+\s+)?(?:propose|present|introduce|develop|provide|design|build|show)\w*",
    re.IGNORECASE,
)
# The paper as the subject of a main clause, at the start or after a comma ("We analyze the
# communication bottleneck and find …", "Second, to conquer the I/O bottleneck, we design …"):
# what the paper does, whatever problem words it names; framing verbs (_FRAMING) and what it
# observes of the problem stay background
_OWN_CLAUSE = re.compile(
    r"(?:^(?:(?:first|second|third|finally|then|here|specifically|to\s[^,]{1,80}),?\s+)?|,\s+)"
    r"(?:we|the authors)\s+(?:also\s+|further\s+)?"
    r"(?!focus|stud|investigat|explor|consider|ask|aim|try|tried|revisit|examin|"
    # "However, we observe that X is slowed by NMS": a finding about the problem, still background
    r"observ|find|found|notic|note|show|identif|argu|believ|reveal|discover|realiz|recogni)"
    r"[a-z]{3,}",
    re.IGNORECASE,
)
# a how answer: the proposal and how it does it, often in two steps. A comparison side is each
# paper's how answer and leaves room for the side's result (SIDE_SENTENCES): with two mechanism
# sentences a side missed the step the other side differs in (on the test split 0.35 of the
# comparisons had every asked fact, with three 0.53)
HOW_SENTENCES = 3
SIDE_MECHANISM_SENTENCES = HOW_SENTENCES
MIN_FUZZY_CHARS = 5  # shorter names ("H2O", "ViT") are matched exactly only
NAME_SIMILARITY = 0.85  # "Teacach" names TeaCache: a small misspelling still names its paper

# A request's opening words ("Any papers on", "Is there work on", "I'm looking for", "Tell me
# about"): how it asks, not what about
_REQUEST = re.compile(
    r"^\s*(?:please\s+)?(?:(?:can|could)\s+you\s+)?"
    r"(?:(?:give|show|find|recommend|suggest|tell)\s+(?:me\s+)?(?:about\s+)?|"
    r"(?:i'?m|i\s+am)\s+(?:looking|searching)\s+for\s+|(?:is|are)\s+there\s+|any\s+)"
    r"(?:(?:some|any|all|a\s+few)\s+)?"
    r"(?:(?:papers?|works?|research|studies|articles|anything)\s+"
    r"(?:on|about|that|which|for|in|regarding)?\s*)?",
    re.IGNORECASE,
)


# The noun a list question asks for ("Which speculative decoding methods …", "What models …"),
# after its question word and any modifiers: the frame, where the same word later in the
# question ("… rather than a separate draft model", "… via a trusted model") is the topic's
_KIND_NOUNS = (
    r"(?:methods?|frameworks?|techniques?|systems?|approaches|models?|algorithms?|strategies|"
    r"benchmarks?|optimizers?|solutions?|architectures?|ideas?|ways?|examples?\s+of)"
)
_ASKED_KIND = re.compile(
    rf"^(\s*(?:which|what)\s+(?:(?:kinds?|types?|sorts?)\s+of\s+)?)"
    r"((?:(?!(?:papers?|works?|studies|articles|propose[ds]?)\b)[\w/-]+\s+){0,3}?)"
    rf"{_KIND_NOUNS}\b(?:\s+propose[ds]?\b)?",
    re.IGNORECASE,
)
# the frame's other words, wherever they stand: question words, a papers noun and what it does
# ("propose"), where to look ("in the collection")
_FRAME_WORDS_PATTERN = (
    r"\b(?:which|what|list|name|enumerate|summari[sz]e|are|is|some|several|all|the|various|"
    r"different|in the collection|in here|here|have been|been|do|does|propose[ds]?|"
    r"papers?|works?|studies|articles)\b"
)
_FRAME_WORDS = re.compile(_FRAME_WORDS_PATTERN, re.IGNORECASE)
# Every word that may frame a question, a kind noun wherever it stands too: for a question
# that describes one paper ("Which method clusters the keys …?"), whose frame is not a list's
_FRAME = re.compile(rf"{_FRAME_WORDS_PATTERN}|\b{_KIND_NOUNS}\b", re.IGNORECASE)


def topic_of(question: str) -> str:
    """The question without its list frame: "Which papers propose splitting prefill and decode
    onto separate machines?" -> "splitting prefill and decode onto separate machines". A kind
    noun ("methods", "models", "optimizers") is the frame only as what the question asks for
    ("What methods …"); elsewhere it is the topic's ("new optimizers as alternatives to Adam -
    which papers?")."""
    asked = _ASKED_KIND.sub(lambda m: m.group(2), _REQUEST.sub("", question), 1)
    return re.sub(r"\s+", " ", _FRAME_WORDS.sub(" ", asked)).strip(" ?.,:;-–—")


def label(p: Passage) -> str:
    """What a reader calls the paper in a list: its short name, else the head of its title;
    with the other name the abstract gives it in brackets, so the reader finds both ("No Token
    Left Behind (MiKV)", "Equivariant Encryption (EE)", "BAM (Branch-Attend-Mix)")."""
    name = clean_display(short_name(p))  # "H_2O" is shown "H2O", as its sentences are
    if name:
        return _with_other_name(p, name)
    words = clean_display(p.title).split()
    head = " ".join(words[:LABEL_WORDS]).rstrip(" .:;,")
    quoted = f"“{head}{' …' if len(words) > LABEL_WORDS else ''}”"
    used = next(_names_used(p, ""), "")
    # a title without a name, whose abstract calls its system by one ("TetriInfer improves …")
    return f"{quoted} ({used})" if used else quoted


def item_label(p: Passage) -> str:
    """What a list's line calls its paper: its full title, which says what the paper is about in
    its authors' words (the head line's short label, "DataStates-LLM", leaves out "Lazy
    Asynchronous Checkpointing …"), with the label's other name when the title lacks it; the
    label first when the title does not start with it ("Equivariant Encryption (EE), “Encrypted
    Large Model Inference: …”")."""
    title = clean_display(p.title).strip().rstrip(".")
    short = label(p)
    if short.startswith("“"):  # no short name: the title's head, and the name its abstract uses
        used = short.split("” (", 1)[1] if "” (" in short else ""
        return f"“{title}” ({used}" if used else f"“{title}”"
    name, _, other = short.partition(" (")
    if not squash(title).startswith(squash(name)):
        return f"{short}, “{title}”"
    other = other.rstrip(")")
    return f"{title} ({other})" if other and squash(other) not in squash(title) else title


NAME_TOKEN_CHARS = 16  # "MiKV", "DAREx", "Branch-Attend-Mix": one token, a name not a phrase


def _with_other_name(p: Passage, name: str) -> str:
    """`name` with the paper's other name: the long form its abstract spells out ("Equivariant
    Encryption (EE)", "BAM (Branch-Attend-Mix)"), or, when the title's head is a phrase ("No
    Token Left Behind"), the name the abstract introduces for its method ("MiKV")."""
    if "(" in name:
        return name  # "Lexical Unit Decoding (LUD)": both already
    key = re.escape(name)
    after = re.search(rf"(?<![\w-]){key}\s*\(([A-Za-z][\w\-]*)\)", p.text)
    if after and _abbreviates(after.group(1), name):
        return f"{name} ({after.group(1)})"
    before = re.search(rf"(?<![\w-])([A-Z][\w\-]*(?:\s+[A-Z][\w\-]*){{0,5}})\s*\({key}\)", p.text)
    if before and _abbreviates(name, before.group(1)):
        return f"{before.group(1)} ({name})"
    if len(name.split()) < 2 or strong_names(name.split()):
        return name  # a name already ("Spikformer V2"), not a phrase
    for coined in (coined_name(p), *(m.group(1) for m in _DEFINED.finditer(p.text))):
        if (
            re.fullmatch(r"[A-Za-z][\w-]*(?:[A-Z\d][\w-]*)", coined)
            and not re.search(r"-[a-z]+$", coined)  # "LLM-based": a description
            and len(coined) <= NAME_TOKEN_CHARS
            and introduces(p, coined)
            and squash(coined) not in squash(name)
        ):
            return f"{name} ({clean_display(coined)})"
    used = next(_names_used(p, name), "")
    return f"{name} ({used})" if used else name


def _names_used(p: Passage, name: str) -> Iterator[str]:
    """Names the abstract uses as its own system's without coining them in a way `coined_name`
    reads ("We realize this idea in TetriInfer", "SGD-SaI is a simple … enhancement", "…,
    namely MuE"): a word with capitals inside and no digits (a model size or a format, "LLaMA-7B",
    "INT4", is someone else's), not in the title, that `uses_name` finds used as the paper's own
    and that is not only a baseline; the most used first."""
    counts = Counter(
        w
        for w in NAME.findall(p.text)
        # capitals inside and a small letter that is not a plural's ("LLMs", "DNNs")
        if (
            re.search(r"[a-z]", re.sub(r"(?<=[A-Z])s$", "", w))
            and re.search(r"[A-Z]", w[1:])
            # a size, format or version at its end is someone else's model ("LLaMA-7B",
            # "INT4"); a digit inside a coined name is not ("Lite-LLM4Rec")
            and not re.search(r"\d+(?:\.\d+)?[BMK]?$|-[a-z]+$", w)
        )  # "LLM-based" describes
        # or given to its method in so many words, whatever its letters ("named H-DETR")
        or re.search(rf"{NAMING_WORD}{re.escape(w)}(?![\w-])", p.text)
        # or an acronym in capitals it defines for its own method ("we propose Zorb Quux
        # Caching (ZQC)"), where "Large Language Models (LLMs)" is the field's
        or (len(w) >= 3 and w.isupper() and _titled_acronym(p, w) and introduces(p, w))
    )
    for word, _ in counts.most_common():
        key = squash(word)
        if (
            len(word) > NAME_TOKEN_CHARS
            or key in squash(p.title)
            or key in squash(name)
            # "MoE" of "… Mixture-of-Experts …": the title's words, abbreviated
            or re.sub(r"[^A-Za-z]", "", word) in "".join(re.findall(r"(?<![\w'])\w", p.title))
            # a model it runs in sizes ("LLaVA 7B") is the model it works on
            or re.search(rf"(?<![\w-]){re.escape(word)}[\s-]?\d+(?:\.\d+)?[BMK]\b", p.text)
        ):
            continue
        # introduced, realised in, or the subject of its sentences; a name it only keeps
        # using ("PyTorch", "FlashAttention") is the field's or another paper's
        if introduces(p, word) or _subject_of(p, word) or realised_in(p, word):
            yield clean_display(word)


def _titled_acronym(p: Passage, acronym: str) -> bool:
    """Does the abstract define `acronym` in brackets after words its title shares ("Zorb
    Quux Caching (ZQC)" in "ZorbCache: Quux Caching …")? An acronym for another thing it
    coins on the way (an evaluation protocol, a loss) is not the paper's name."""
    m = re.search(rf"((?:[\w-]+\s+){{1,6}})\({re.escape(acronym)}s?\)", p.text)
    if m is None:
        return False
    return bool(content_tokens(m.group(1)) & content_tokens(p.title))


def _subject_of(p: Passage, word: str) -> bool:
    """The word, standing alone ("SGD-SaI is …", not "PyTorch-Direct is …"), opens one of the
    abstract's sentences and is used at least twice."""
    alone = rf"(?<![\w-]){re.escape(word)}(?![\w-])"
    uses = [x for x in split_sentences(p.text) if re.search(alone, x)]
    # after a short lead phrase too ("Specifically, CQFormer …"), as `_opens_with` reads it
    mains = [re.sub(r"^(?:[\w'-]+\s+){0,5}[\w'-]+,\s+", "", x) for x in uses]
    return len(uses) >= 2 and any(re.match(alone, x) for x in uses + mains)


def _abbreviates(one: str, other: str) -> bool:
    """Is either name the other's abbreviation ("EE" and "Equivariant Encryption", "BAM" and
    "Branch-Attend-Mix")?"""
    return abbreviation_of(one, other) or abbreviation_of(other, one)


MAX_READINGS = 8  # "A or B … C / D": four readings; more alternatives than that are a list


def readings(topic: str) -> list[frozenset[str]]:
    """The words to leave out for each reading of a topic that offers alternatives
    ("pruning or distillation for vision transformers" reads as "pruning for vision
    transformers" and as "distillation for vision transformers"): a paper on one alternative
    covers the topic as well as one naming both. An alternative is the run of content words on
    each side of "or" or "/" (up to a stopword or punctuation), or one item of a list of examples
    in parentheses ("steering at inference time (truthfulness, safety, toxicity)": a paper on
    safety alone answers)."""
    out = [frozenset[str]()]
    rest = topic
    for group, items in _example_lists(topic):
        out = [r | (frozenset().union(*items) - item) for item in items for r in out]
        rest = rest.replace(group, " ; ")  # its "or" was read as one of its items
        if len(out) >= MAX_READINGS:
            return out[:MAX_READINGS]
    words = re.findall(r"[\w-]+|/|[^\w\s]", rest)
    for i, w in enumerate(words):
        if w.lower() not in ("or", "/"):
            continue
        left = _run(reversed(words[:i]))
        right = _run(words[i + 1 :])
        if not left or not right:
            continue
        out = [r | right for r in out] + [r | left for r in out]
        if len(out) >= MAX_READINGS:
            break
    return out[:MAX_READINGS]


# a parenthesis listing examples: "(truthfulness, safety, toxicity)", "(e.g., clusters or
# centroids)"; one without a separator is an aside or an acronym, not alternatives
_EXAMPLES = re.compile(r"\(([^()]*(?:,|\bor\b)[^()]*)\)")
_EXAMPLE_LEAD = re.compile(r"^\s*(?:e\.\s?g\.|i\.\s?e\.|such\s+as|like|including)[,:]?\s*", re.I)
_EXAMPLE_SEP = re.compile(r"\s*(?:,|;|\bor\b|\band\b)\s*", re.I)


def _example_lists(topic: str) -> list[tuple[str, list[frozenset[str]]]]:
    """Each parenthesised list of examples in `topic` (its text, and the content words of each
    item); a parenthesis of one item ("(e.g., heads over the whole input)") is not a list."""
    out = []
    for m in _EXAMPLES.finditer(topic):
        items = [content_tokens(x) for x in _EXAMPLE_SEP.split(_EXAMPLE_LEAD.sub("", m.group(1)))]
        kept = [frozenset(x) for x in items if x]
        if len(kept) >= 2:
            out.append((m.group(0), kept))
    return out


def _run(words: Iterable[str]) -> frozenset[str]:
    """The content words from the start of `words` up to the first word that carries none."""
    run: set[str] = set()
    for w in words:
        tokens = content_tokens(w) if re.fullmatch(r"[\w-]+", w) else set()
        if not tokens:
            break
        run |= tokens
    return frozenset(run)


def covered(composer: Composer, topic: str, text: str, ways: list[frozenset[str]]) -> float:
    """The IDF-weighted share of the topic's words in `text`, in its best-covered reading."""
    return max(composer.coverage(topic, text, known=w) for w in ways)


class Scored:
    """A paper's sentences, their cosines to the topic, and its relevance features."""

    def __init__(self, composer: Composer, topic: str, p: Passage, embed: Embed | None) -> None:
        self.passage = p
        self.sentences = [
            s for s in split_sentences(p.text) if len(s) >= 20 and not instruction_like(s)
        ]
        ways = readings(topic)
        self.lexical = np.array([covered(composer, topic, s, ways) for s in self.sentences])
        asked = content_tokens(topic)
        self.novelty = np.array(
            [
                min(1.0, sum(composer.idf(t) for t in content_tokens(s) - asked) / NOVELTY_IDF)
                for s in self.sentences
            ]
        )
        if embed is not None and self.sentences:
            vectors = np.asarray(embed([topic, *self.sentences]), dtype=float)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
            self.cosine = vectors[1:] @ vectors[0]
        else:
            self.cosine = np.zeros(len(self.sentences))
        self.features = {
            "passage_cosine": p.vector_score or 0.0,
            "topic_words": covered(composer, topic, p.title + " " + p.text, ways),
            "best_sentence_cosine": float(self.cosine.max()) if self.sentences else 0.0,
        }

    def in_order(self, sentences: Iterable[str]) -> list[str]:
        """The sentences in the abstract's order (one it does not hold, e.g. a headline result
        found apart, last)."""
        order = {x: i for i, x in enumerate(self.sentences)}
        return sorted(sentences, key=lambda x: order.get(x, len(order)))

    def mechanism(
        self, n: int, about: Callable[[str], bool] | None = None, reason: bool = False
    ) -> list[str]:
        """The n sentences that best say how the paper works: close to the question, in the
        paper's own voice, describing what it does rather than what its experiments found; in
        the passage's order. `reason` (a why question): what the paper found or observed that
        explains it ("we find that encoder features change gently") counts for, not against.
        Each sentence's score is MECHANISM_WEIGHTS · its features (`mechanism_features`)."""
        if not self.sentences:
            return []
        features = self.mechanism_features(reason)
        score = np.zeros(len(self.sentences))
        for name, values in features.items():
            score += MECHANISM_WEIGHTS[name] * values
        usable = self.candidates(about, reason)
        usable.sort(key=lambda i: -score[i])
        return [self.sentences[i] for i in sorted(_with_referents(usable, self.sentences, n))]

    def candidates(
        self, about: Callable[[str], bool] | None = None, reason: bool = False
    ) -> list[int]:
        """The sentences a mechanism is chosen from: those `about` accepts, not an aside (where
        the code is), and background or how it was tested only when nothing else is left. For a
        why question (`reason`), what the paper observed before its proposal ("We observe Softmax
        accounts for the major latency bottleneck …", "A key reason is that …") is the reason,
        not background."""
        among = [
            i
            for i, s in enumerate(self.sentences)
            if (about is None or about(s)) and not _ASIDE.search(s)
        ]
        among = among or list(range(len(self.sentences)))
        background = self._background_floor() > 0
        if reason:
            background &= ~np.array([self._observed(s) for s in self.sentences], dtype=bool)
        # how it was tested ("X is evaluated on 6 models", "we compare X with Y"), or what the
        # authors make of it ("… paves the way for …"), is not how it works, nor why: like
        # background, only when the passage has nothing else
        setup = [bool(_SETUP_CUE.search(s) or _OUTLOOK.search(s)) for s in self.sentences]
        # background only when the passage has nothing else, never to fill up to n
        return (
            [i for i in among if not background[i] and not setup[i]]
            or [i for i in among if not background[i]]
            or among
        )

    def mechanism_features(self, reason: bool = False) -> dict[str, np.ndarray]:
        """Per sentence, the features MECHANISM_WEIGHTS weighs (eval/fit_weights.py fits them):
        closeness to the topic in meaning and words, new uncommon words, and cues of what the
        sentence tells (how the method works, a step of it, the paper's own voice, a finding)."""
        finding = [
            float(bool(_FINDING_CUE.search(s) or _reports_result(s) or _SHOWN.search(s)))
            for s in self.sentences
        ]
        if reason:
            # a why question: what the paper observed is the answer, not a result beside it
            finding = [-float(bool(_REASON_CUE.search(s))) for s in self.sentences]
        return {
            "cosine": self.cosine,
            "lexical": self.lexical,
            "novelty": self.novelty,
            "mechanism_cue": self._cue(_MECHANISM_CUE),
            "finding": np.array(finding),
            "own_voice": np.array([float(self._own(s)) for s in self.sentences]),
            "component": self._cue(_COMPONENT),
            "detail": self._cue(_DETAIL_CUE),
        }

    def _cue(self, pattern: re.Pattern[str]) -> np.ndarray:
        return np.array([float(bool(pattern.search(s))) for s in self.sentences])

    def problem(self) -> str | None:
        """The sentence that states the problem the paper takes on ("… suffer from …", "the
        premature decay of step sizes"): the background or a limitation, closest to the topic;
        None when the abstract states none."""
        background = self._background_floor() > 0
        among = [
            i
            for i, s in enumerate(self.sentences)
            if (background[i] or _LIMITATION_CUE.search(s)) and not _ASIDE.search(s)
        ]
        if not among:
            return None
        # a sentence that states what goes wrong ("However, shifting windows introduces memory
        # copies …") before a background one that only sets the scene ("X is a strong backbone")
        among = [i for i in among if _LIMITATION_CUE.search(self.sentences[i])] or among
        score = SENTENCE_VECTOR_WEIGHT * self.cosine + (1 - SENTENCE_VECTOR_WEIGHT) * self.lexical
        return self.sentences[max(among, key=lambda i: score[i])]

    def _observed(self, sentence: str) -> bool:
        """The paper's own observation or stated reason ("we observe …", "a key reason is …")."""
        return bool(_REASON_CUE.search(sentence)) and bool(
            _OWN_VOICE.search(sentence) or re.search(r"\breasons?\b", sentence, re.IGNORECASE)
        )

    def _own(self, sentence: str) -> bool:
        """The paper speaks: "we …", "our …", or its method is the subject ("ComPEFT employs
        sparsification …" says what it does as plainly as "we use …")."""
        if _OWN_VOICE.search(sentence):
            return True
        name = short_name(self.passage)
        return bool(name) and _opens_with(sentence, name)

    def _background_floor(self) -> np.ndarray:
        """A sentence about the problem or prior work ("In recent years, X has driven …",
        "previous methods …") comes after every sentence about what the paper does, whatever
        its closeness to the topic; it is shown only when the passage says nothing else."""
        # "While existing methods sacrifice accuracy, we provide …": the main clause is the
        # paper's own, the concession before it is not what the sentence is about
        # "Based on this framework, X further employs … to mitigate I/O bottlenecks": the paper's
        # own method is the subject, and the problem word is what it remedies
        name = short_name(self.passage)
        cue = [
            (
                bool(_BACKGROUND_CUE.search(s))
                and not _OWN_MAIN.search(s)
                and not _OWN_CLAUSE.search(s)
                and not (name and _opens_with(s, name))
                and not _remedied(s)
            )
            or bool(_FRAMING.search(s))
            for s in self.sentences
        ]
        background = np.array(cue) | np.array(
            opening_background(self.passage, self.sentences), dtype=bool
        )
        if background.all():
            return np.zeros(len(self.sentences))
        return np.where(background, BACKGROUND_FLOOR, 0.0)

    def best_sentence(self) -> str | None:
        """The sentence closest to the topic in meaning and words, preferring what the paper
        does ("we propose …") over the problem it starts from."""
        if not self.sentences:
            return None
        own = np.array(
            [
                OWN_VOICE_BONUS * bool(_OWN_VOICE.search(s))
                + PROPOSAL_BONUS * bool(_PROPOSAL.search(s))
                for s in self.sentences
            ]
        )
        score = (
            SENTENCE_VECTOR_WEIGHT * self.cosine + (1 - SENTENCE_VECTOR_WEIGHT) * self.lexical + own
        )
        # how it was tested ("We evaluated our method on three datasets") or where its code is
        # says least of what the paper does: after every other sentence, as background is
        setup = np.array(
            [
                bool(_SETUP_CUE.search(s) or _ASIDE.search(s) or _OUTLOOK.search(s))
                for s in self.sentences
            ]
        )
        tested = np.where(setup, BACKGROUND_FLOOR, 0.0) if not setup.all() else 0.0
        return self.sentences[int((score - self._background_floor() - tested).argmax())]


# a verb of remedy a few words before a problem word: "to mitigate I/O bottlenecks", "which
# removes the bottleneck"
_REMEDY_BEFORE = re.compile(
    r"\b(?:mitigat|alleviat|overcom|address|tackl|solv|avoid|reduc|remov|eliminat|break|"
    r"lift|resolv|circumvent|bypass)\w*\s+(?:[\w/-]+\s+){0,3}$",
    re.IGNORECASE,
)


def _remedied(sentence: str) -> bool:
    """Is every background cue of the sentence a problem it remedies ("… to mitigate I/O
    bottlenecks"), not one it suffers from?"""
    cues = list(_BACKGROUND_CUE.finditer(sentence))
    return bool(cues) and all(_REMEDY_BEFORE.search(sentence[: m.start()]) for m in cues)


def _with_referents(ranked: list[int], sentences: list[str], n: int) -> list[int]:
    """The n best sentences (indices, best first), where one whose subject points back ("These
    gains …") is taken only with the sentence it points back to, when there is room for both:
    alone it dangles, and what it sums up is said in a sentence the reader was not shown."""
    usable = set(ranked)
    chosen: list[int] = []
    for i in ranked:
        if len(chosen) >= n:
            break
        if i in chosen:
            continue  # taken already, as the sentence a later one points back to
        dangles = bool(_POINTS_BACK.match(sentences[i])) and not _REFERS_BACK.match(sentences[i])
        if not dangles or i - 1 in chosen:
            chosen.append(i)
        elif i - 1 in usable and len(chosen) <= n - 2:
            chosen += [i - 1, i]
    # nothing else to say: what points back is still better than nothing
    return chosen or ranked[:n]


def list_features(s: Scored, rank: int, best_score: float) -> dict[str, float]:
    """The named features of LIST_WEIGHTS for a paper `rank`-th in the search results, whose
    best paper scored `best_score`."""
    return {
        "topic_words": s.features["topic_words"],
        "best_sentence_cosine": s.features["best_sentence_cosine"],
        "search_score_gap": s.passage.score - best_score,
        "search_rank": min(rank, SEARCH_RANKS) / SEARCH_RANKS,
    }


def join_probability(features: dict[str, float]) -> float:
    """How likely a paper with these `list_features` answers the list question."""
    z = LIST_BIAS + sum(w * features[k] for k, w in LIST_WEIGHTS.items())
    return 1.0 / (1.0 + math.exp(-z))


# "other than X", "besides X": X is left out of the list, not the topic it is measured against
_EXCEPT = re.compile(
    r"\b(?:other\s+than|besides|apart\s+from|aside\s+from|except(?:\s+for)?|excluding)\b",
    re.IGNORECASE,
)


def relevant_papers(
    composer: Composer, q: Question, passages: list[Passage], embed: Embed | None = None
) -> list[Scored]:
    """The papers that answer a list question, the likeliest first: each whose join probability
    reaches LIST_JOIN, at most LIST_MAX, and at least the likeliest one (a question that no paper
    answers was refused before this, as off topic) unless the question names its reference."""
    papers = by_paper(passages)
    named = [p for p in papers if _names_paper_asked(q, p)]
    reference = reference_paper(q, passages)
    if reference is not None:
        # "Which papers work on the same problem as 'X'?": the passages are X's nearest
        # abstracts (Answerer.passages searched with X's own text), each scored by its cosine
        # to X; the papers close enough work on X's problem, whatever words they share with
        # the question or X's title ("diffusion" alone does not make a document-cleaning
        # paper one about accelerating text-to-image generation)
        alike = sorted(
            (p for p in papers if p not in named and (p.vector_score or 0.0) >= SAME_PROBLEM),
            key=lambda p: -(p.vector_score or 0.0),
        )
        return [Scored(composer, reference.title, p, embed) for p in alike[:LIST_MAX]]
    if named and _EXCEPT.search(q.text):
        # "Which papers other than DeepCache cache features …?": DeepCache is left out, and the
        # others are measured against the question's own topic, not against DeepCache
        rest = _EXCEPT.sub(" ", q.text)
        for n in q.names:
            rest = re.sub(rf"(?<![\w-]){re.escape(n)}(?![\w-])", " ", rest)
        topic = topic_of(rest) or rest
    elif named:
        # "Which papers improve on X's zorb caching?" (a topic of its own, searched by its
        # words): X is left out, and the others are measured against what X is about (its title)
        topic = " ".join(p.title for p in named)
    else:
        topic = topic_of(q.text) or q.text
        if not content_tokens(topic):
            topic = q.text
    scored = [
        (Scored(composer, topic, p, embed), rank) for rank, p in enumerate(papers) if p not in named
    ]
    best = max((p.score for p in papers), default=0.0)
    chance = [join_probability(list_features(s, rank, best)) for s, rank in scored]
    order = sorted(range(len(scored)), key=lambda i: -chance[i])
    # a list names its likeliest paper even below LIST_JOIN, but never a mere neighbour of the
    # paper the question takes as its reference (that answer is "no other paper", _no_other_paper)
    kept = [i for i in order if chance[i] >= LIST_JOIN] or ([] if named else order[:1])
    return [scored[i][0] for i in kept[:LIST_MAX]]


# Words that relate papers to a reference and name no topic of their own (content_tokens stems)
_RELATION_FRAME = frozenset(
    {
        "problem",
        "same",
        "similar",
        "like",
        "relat",
        "tackl",
        "address",
        "improv",
        "extend",
        "build",
        "altern",
        "follow",
        "compar",
        "work",
        "paper",
        "studi",
        "task",
        "goal",
        "one",
    }
)


def reference_paper(q: Question, passages: list[Passage]) -> Passage | None:
    """The paper a list question takes as its reference ("Which papers work on the same problem
    as 'X'?", "… improve on X?"): one it names, unless it names it to leave it out ("other than
    X", where the question's own words say the topic)."""
    if _EXCEPT.search(q.text):
        return None
    named = next((p for p in by_paper(passages) if _names_paper_asked(q, p)), None)
    if named is None:
        return None
    # the question's topic without the reference ("improve on X's SSD offloading" states its
    # own topic, searched by its words; "work on the same problem as X" states none)
    rest = re.sub(r"[\"“”'‘’][^\"“”'‘’]{8,}[\"“”'‘’]", " ", q.text)
    for n in q.names:
        rest = re.sub(rf"(?<![\w-]){re.escape(n)}(?:'s)?(?![\w-])", " ", rest)
    return named if content_tokens(topic_of(rest) or rest) <= _RELATION_FRAME else None


def _names_paper_asked(q: Question, p: Passage) -> bool:
    """Does the list question name `p` itself: its title quoted, or its own name given (the
    name its title opens with, its short name, or one it introduces)? A paper whose title or
    abstract only uses the name ("Memory-Efficient LoRA Training" of "Which papers make LoRA
    fine-tuning cheaper?") is an answer to weigh, not the question's reference."""
    title = squash(p.title)
    if any(squash(t) and squash(t) in title for t in quoted_titles(q.text)):
        return True
    return any(is_called(p, n) for n in strong_names(q.names))


def is_called(p: Passage, name: str) -> bool:
    """Is `p` the paper that is `name`, not one that uses it: titled by it, its short name, one
    it introduces, or its own name misspelt? (`names_paper` also takes a name the title or the
    abstract's own voice only uses, as a paper may name its system in passing.)"""
    own = squash(re.sub(r"\s*\(.*\)$", "", short_name(p)))
    return (
        titles_by(p.title, name)
        or squash(name) == own
        or introduces(p, name)
        or misspells_own_name(p, name)
    )


def extends(name: str, other: str) -> bool:
    """Is `other` a longer name built on `name` ("QLoRAM" on "QLoRA", "FlashAttention2" on
    "FlashAttention")? Its added part starts a new word (a capital or a digit): another method,
    not a misspelling ("Teacach" of "TeaCache" drops a small letter)."""
    key = squash(name)
    kept = re.sub(r"[^A-Za-z0-9.]", "", other)
    if len(kept) <= len(key) or not kept.lower().startswith(key):
        return False
    added = kept[len(key) :]
    return added[0].isupper() or added[0].isdigit()


def _similar(name: str, other: str) -> bool:
    """`other` is `name` slightly misspelt (within NAME_SIMILARITY), not a name built on it."""
    key, own = squash(name), squash(other)
    if not key or not own or extends(name, other):
        return False
    return SequenceMatcher(None, key, own).ratio() >= NAME_SIMILARITY


def names(p: Passage, name: str) -> bool:
    """Does the passage name `name`, however it is written ("H2O" for "H_2O", "flashattention")
    or slightly misspelt (the paper's own short name within NAME_SIMILARITY)?"""
    key = squash(name)
    if key and key in squash(p.title + " " + p.text):
        return True
    return _similar(name, re.sub(r"\s*\(.*\)$", "", short_name(p)))


def names_paper(p: Passage, name: str, own_voice: bool = False) -> bool:
    """Is `p` the paper called `name`: in its title, introduced by its abstract ("we present
    TetriInfer"), or its short name (written however: "H2O" for "H_2O")? A name the abstract
    only uses, however often ("SGD", "vLLM"), is someone else's."""
    key = squash(name)
    if not key:
        return False
    if key in squash(p.title) or introduces(p, name, own_voice):
        return True
    if spelled_by_title(name, p.title) and re.search(rf"\b{re.escape(name)}\b", p.text):
        return True  # "GLA", which "Gated Linear Attention Transformers …" spells and uses
    if own_voice and _keeps_as_subject(p, name):
        return True
    if _similar(name, re.sub(r"\s*\(.*\)$", "", short_name(p))):
        return True
    return misspells_own_name(p, name)


def _keeps_as_subject(p: Passage, name: str) -> bool:
    """The abstract speaks of the name as its subject ("S2-Attention enforces each head to …")
    and keeps using it: the paper's own method, though it introduced it in another spelling
    ("we propose Sparsely-Sharded (S2) Attention")."""
    word = rf"(?<![\w-]){re.escape(name)}"
    sentences = split_sentences(p.text)
    uses = [s for s in sentences if re.search(word, s) and not as_baseline(name, s)]
    return len(uses) >= 2 and any(_opens_with(s, name) for s in uses)


def _opens_with(sentence: str, name: str) -> bool:
    """The sentence's subject is `name`: it opens the sentence, or the main clause after a
    short lead phrase ("Specifically, ", "Based on this insight, ")."""
    main = re.sub(r"^(?:[\w'-]+\s+){0,5}[\w'-]+,\s+", "", sentence)
    # "Byte Latent Transformer (BLT)": the sentence may use either form ("BLT encodes …")
    both = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", name)
    forms = [name, *both.groups()] if both else [name]
    return any(x.lower().startswith(f.lower()) for f in forms for x in (sentence, main))


def misspells_own_name(p: Passage, name: str) -> bool:
    """ "Teacach": a slight misspelling of a name the abstract introduces ("… Cache (TeaCache)")."""
    close = _closest_name(name, p.text)
    return bool(close) and close != name and introduces(p, close)


def _closest_name(name: str, text: str) -> str:
    """The name-like word of `text` (capitals inside, or digits) closest to `name`, when it is
    within NAME_SIMILARITY and not a longer name built on it; else ""."""
    key = squash(name)
    if len(key) < MIN_FUZZY_CHARS:
        return ""
    best, score = "", NAME_SIMILARITY
    for word in set(NAME.findall(text)):
        if extends(name, word):
            continue
        ratio = SequenceMatcher(None, key, squash(word)).ratio()
        if ratio >= score:
            best, score = word, ratio
    return best


def _shown(q: Question, p: Passage, sentence: str) -> str:
    return trim(readable_in(p, sentence), q, PART_CHARS).rstrip(" .;:,")


def _line(composer: Composer, q: Question, p: Passage) -> tuple[str, str] | None:
    """The sentence of `p` that best answers `q`, as a reader sees it."""
    ranked = composer.sentences(q, p)
    if not ranked:
        return None
    return ranked[0].sentence, _shown(q, p, ranked[0].sentence)


def topic_sentence(composer: Composer, topic: str, p: Passage, embed: Embed | None) -> str | None:
    """The sentence of `p` closest to the topic: what the paper does about it."""
    return Scored(composer, topic, p, embed).best_sentence()


def how_lead(
    composer: Composer, q: Question, p: Passage, embed: Embed | None = None
) -> Lead | None:
    """How a paper works: its sentences that state the mechanism (up to HOW_SENTENCES), cited,
    named after the paper. The paper is the one the single-fact decision chose (its subject and
    refusal checks stand); only the sentences differ."""
    topic = q.text
    # the paper's names and its quoted title chose the passage; their words say nothing of which
    # of its sentences tell how it works
    own_titles = [t for t in quoted_titles(q.text) if squash(t) and squash(t) in squash(p.title)]
    for n in [*q.names, *own_titles]:
        # with the short form the question gives in brackets ("Zorb Quux Models (ZQMs)")
        topic = re.sub(rf"{re.escape(n)}(?:\s*\([^()]{{1,20}}\))?", " ", topic, flags=re.I)
    about = None
    asked_of = [n for n in q.names if _how_subject_named(n, q.text)]
    if asked_of and not any(titled(n, p.title) or introduces(p, n) for n in q.names):
        # "How does LoRA work?" answered from a paper that builds on it: its sentences about
        # LoRA, not those about its own method ("we therefore propose IncreLoRA …"); a name
        # that only qualifies what is asked ("… equivalent AutoML candidates: what caching
        # technique does it present?") does not confine the answer to the sentences using it
        def about(s: str) -> bool:
            return any(_word_in(n, s) for n in asked_of)

    scored = Scored(composer, topic, p, embed)
    picked = scored.mechanism(HOW_SENTENCES, about, asks_why(q.text))
    problem = scored.problem() if _asks_the_problem_too(q.text) else None
    if problem is not None and problem not in picked:
        # "why is ConvNeXt slow …, and what does InceptionNeXt do about it?": the problem the
        # paper states answers the first ask, its mechanism the second
        picked = scored.in_order([problem, *picked[: HOW_SENTENCES - 1]])
    if not picked:
        return None
    proposal = next((x for x in scored.sentences if _PROPOSAL.search(x)), None)
    if (
        proposal is not None
        and proposal not in picked
        and about is None
        and content_tokens(topic) <= _HOW_FRAME
    ):
        # "How does X work?", "How does the method of '<title>' work?": nothing asked beyond
        # the method itself, so the answer states what the paper puts forward, then how; the
        # ranking alone, with no topic to weigh, may pick a sentence of the field's framing
        picked = scored.in_order([proposal, *picked[: HOW_SENTENCES - 1]])
    picked = _with_later_asks(composer, q, scored, picked, about, embed)
    kept = _meets_the_constraint(composer, q.text, scored)
    if kept is not None and kept not in picked:
        # "How does ZorbNet adapt … without adding inference cost?": the sentence that says how
        # the cost is avoided answers the ask's point, whatever the mechanism's best matches
        picked = scored.in_order([*picked, kept])
    result = headline_result(composer, topic, p)
    if result is not None and not any(_reports_result(x) for x in picked):
        # what the mechanism buys, in the paper's figures ("… by 2x speedup"): a reader asking
        # how a method speeds something up is told by how much, as a comparison side is
        picked = scored.in_order([*picked, result])
    # the first line states what the paper proposes ("We present X, a … scheme"), then how it
    # works in the abstract's order: an observation or problem that comes first in the abstract
    # ("We observe that too few queries …") is why, not how, and does not lead a how answer
    proposal = next((x for x in picked if _PROPOSAL.search(x)), None)
    # (unless it points back at what comes before it: "an approach that leverages this finding")
    if proposal is not None and not asks_why(q.text) and not _LEANS_BACK.search(proposal):
        picked = [proposal, *(x for x in picked if x != proposal)]
    limit = MAX_LEAD_CHARS if len(picked) == 1 else PART_CHARS
    # the paper called as the question calls it, when that is its own name ("GraNet", which
    # it introduces after an earlier acronym, "GMP"; "Mamba" of "Mamba: …"), not a name its
    # title only uses ("Monte Carlo" of "… using Particle-Based Monte Carlo Methods")
    asked = [n for n in q.names if titles_by(p.title, n) or introduces(p, n)]
    # the paper's own name before another its title names ("InceptionNeXt: When Inception Meets
    # ConvNeXt" is InceptionNeXt, whichever the question named first)
    asked.sort(key=lambda n: squash(n) != squash(short_name(p).split(" (")[0]))
    return _paper_lead(q, p, picked, limit, asked[0] if asked else clean_display(short_name(p)))


# What a how question holds the method to: "… without adding inference cost", "… instead of
# evicting them", "… avoid extra parameters", "… while keeping accuracy"
_CONSTRAINT = re.compile(
    r"\b(?:without|instead\s+of|rather\s+than|avoid\w*|while\s+(?:keeping|preserving|"
    r"maintaining)|with\s+no|no\s+extra)\s+(?P<clause>[^?.,;]+)",
    re.IGNORECASE,
)
CONSTRAINT_COVERED = 0.5  # the IDF-weighted share of the clause's words a sentence must hold


def _meets_the_constraint(composer: Composer, question: str, scored: Scored) -> str | None:
    """The paper's own sentence that best covers what the question holds the method to
    (`_CONSTRAINT`), when one covers at least CONSTRAINT_COVERED of it; None otherwise."""
    m = _CONSTRAINT.search(question)
    if m is None or not content_tokens(m.group("clause")) or not scored.sentences:
        return None
    clause = m.group("clause")
    # the paper's own sentences: the field's background states the cost ("existing approaches
    # first decode every frame"), not how the paper avoids it; for a why question ("why X
    # rather than reward-guided search?") what goes wrong with the other way is the reason
    background = scored._background_floor() > 0
    if asks_why(question):
        background[:] = False
    cover = [
        0.0 if background[i] else composer.coverage(clause, x)
        for i, x in enumerate(scored.sentences)
    ]
    best = max(range(len(cover)), key=lambda i: cover[i])
    return scored.sentences[best] if cover[best] >= CONSTRAINT_COVERED else None


# the words of a how question that ask for the method as a whole, not some part of it
# ("What is the core idea behind X?", "the key principle of X": the method as a whole, too)
_HOW_FRAME = content_tokens(
    "how does the method approach technique algorithm model system work core key main central "
    "idea principle behind"
)


# a sentence that leans on the one before it: "this finding", "these observations", "such
# redundancy" (not "this paper", which is the paper itself)
_LEANS_BACK = re.compile(
    r"\b(?:this|these|such)\s+(?!(?:paper|work|study|article|thesis|letter|report)\b)[a-z]",
    re.IGNORECASE,
)


def _with_later_asks(
    composer: Composer,
    q: Question,
    scored: Scored,
    picked: list[str],
    about: Callable[[str], bool] | None,
    embed: Embed | None,
) -> list[str]:
    """A how answer's sentences, with one for each later ask of the question when none of them
    answers it ("how does X represent masks as text, and how does it keep them short?": the
    sentence on its run-length encoding, which the whole question's best matches leave out).
    A later ask for results is left to the headline result."""
    for ask in facets_of(q.text)[1:]:
        words = _topic(ask, q.names)
        if _ANY_RESULT.search(ask) or _RESULT_FACET.search(ask) or not content_tokens(words):
            continue
        ask_scored = Scored(composer, words, scored.passage, embed)
        usable = ask_scored.candidates(about)
        if not usable:
            continue
        # the sentence closest to the ask in meaning and words; already shown, it is answered
        closeness = ask_scored.cosine + ask_scored.lexical
        best = ask_scored.sentences[max(usable, key=lambda i: closeness[i])]
        if best not in picked:
            picked = scored.in_order([*picked, best])
    return picked


# "why is X slow / so expensive / hard to …": a why asked of a shortcoming, which the paper
# states as its problem
_WHY_SHORTCOMING = re.compile(
    r"^\s*why\s+(?:is|are|was|were|does|do|did)\b[^?]*?\b(?:slow\w*|expensive|costly|hard|"
    r"difficult|inefficient|fails?|struggles?|memory-bound|bottleneck\w*|limited|vulnerable|"
    r"susceptible|insecure|unstable|unreliable|(?:a\s+)?problem\w*|(?:an\s+)?issue|"
    r"(?:a\s+)?challeng\w*|flawed|brittle|fragile)\b"
    # "Why can't existing caches be reused …?", "why don't zorb methods scale?": a why said
    # with a negation of what others do asks what stands in their way (not "Why does ZorbNet
    # not lose accuracy?", a why of the paper's own strength)
    r"|^\s*why\s+(?:(?:can['’]?t|cannot|couldn['’]?t|don['’]?t|doesn['’]?t|didn['’]?t|isn['’]?t|"
    r"aren['’]?t|won['’]?t)\s+(?-i:[a-z])"
    r"|(?:do|does|can|is|are)\s+(?-i:[a-z])[\w-]*\s+(?:[\w-]+\s+){0,3}?not\b)",
    re.IGNORECASE,
)


# "why does X run faster than Y?", "why is X cheaper than standard losses?": a why of an
# advantage over what came before, which the cost the paper finds in that answers with it
_WHY_BETTER = re.compile(
    r"^\s*why\s+(?:is|are|was|were|does|do|did|can|could)\b[^?]*?\b(?:faster|quicker|"
    r"cheaper|smaller|lighter|leaner|more\s+efficient|less\s+(?:memory|compute)|fewer)\b"
    r"[^?]*?\bthan\b",
    re.IGNORECASE,
)


def _asks_the_problem_too(question: str) -> bool:
    """Does the question ask, beside how the paper works, what the problem is: a why of a
    shortcoming or a limitation among several asks, or a why of an advantage over the way
    before (that way's cost is half of the reason)?"""
    if _WHY_BETTER.search(question) or _WHY_SHORTCOMING.search(question):
        return True
    asks = facets_of(question)
    # "Why does X need many chunks, and what does the paper do about it?": a why put first and
    # then what is done about it asks the problem, then the remedy
    if (
        len(asks) > 1
        and re.match(r"\s*why\b", asks[0], re.IGNORECASE)
        and any(_REMEDY_ASK.search(a) for a in asks[1:])
    ):
        return True
    return len(asks) > 1 and any(
        _WHY_SHORTCOMING.search(a) or _LIMITATION_ASK.search(a) for a in asks
    )


# an ask for what is done about a problem: "what does the paper do about it?", "how does X fix
# it?", "how do they get around that?"
_REMEDY_ASK = re.compile(
    r"\b(?:do|does|did)\s+(?:[\w-]+\s+){0,3}?about\s+(?:it|this|that|them)\b|"
    r"\b(?:fix|solv|address|avoid|overcom|tackl|mitigat|alleviat|get\s+around|handl|remed)\w*",
    re.IGNORECASE,
)


def _how_subject_named(name: str, question: str) -> bool:
    """Is `name` what the how-question asks about ("How does LoRA work?", "the key idea of
    LoRA", "LoRA's mechanism"), not a word qualifying it?"""
    n = re.escape(name)
    return (
        re.search(
            rf"\b(?:how|why)\s+(?:does|do|did|is|are|was|were|can|could|would)\s+(?:the\s+)?{n}"
            rf"(?![\w-])|(?<![\w-]){n}(?:['’]s)?\s+(?:work|works|mechanism|idea|trick|approach)\b|"
            rf"\b(?:idea|mechanism|insight|trick|intuition)\s+(?:of|behind)\s+(?:the\s+)?{n}(?![\w-])",
            question,
            re.IGNORECASE,
        )
        is not None
    )


def _paper_lead(q: Question, p: Passage, picked: list[str], limit: int, name: str) -> Lead:
    """One paper's lead: its picked sentences made readable and trimmed, opened with its name
    when they do not say it, cited once."""
    shown = [_stop(trim(readable_in(p, s), q, limit).rstrip(" .;:,")) for s in picked]
    body = " ".join(shown)
    if name and not names_first(name, shown):
        body = f"{name}: {body}"
    return Lead(f"{body.rstrip('.')} [{p.number}].", [(p, s) for s in picked])


def identify_lead(composer: Composer, q: Question, lead: Lead, embed: Embed | None = None) -> Lead:
    """ "Which method clusters the keys offline with K-means …?": the chosen paper's sentence
    that gives its name, and beside it the sentence that matches the description, so a reader
    sees why this paper is the one (the naming sentence alone often says only what it is for)."""
    if len(lead.parts) != 1:
        return lead
    p, named = lead.parts[0]
    # the answer is a paper: its name, or its whole title when it has none, opens the line
    name = clean_display(short_name(p)) or f"“{clean_display(p.title)}”"
    topic = _FRAME.sub(" ", q.text)
    # beside the naming sentence, the one that says what of the description it leaves out
    # ("… by identifying salient tokens" beside "ZipCache, a KV cache quantization method")
    said = content_tokens(named)
    rest = " ".join(w for w in topic.split() if content_tokens(w) and not content_tokens(w) <= said)
    matching = Scored(composer, rest or topic, p, embed).best_sentence()
    if matching is None or squash(matching) == squash(named):
        if name.strip("“”").lower() in lead.text.lower():
            return lead
        return Lead(f"{name}: {lead.text}", lead.parts)
    # the answer (its name) first, then why it is the one: the sentence that introduces the
    # name opens the line, whichever of the two the decision chose
    plain = name.strip("“”")
    introducing = [s for s in (named, matching) if _introduces_in(s, p, plain)]
    if len(introducing) == 1:
        picked = [introducing[0], matching if introducing[0] == named else named]
    else:
        # neither (or both) introduces it: as the abstract tells them, what the paper takes on
        # ("This paper tackles running LLMs from flash …") before a step of it ("First, …")
        order = {s: i for i, s in enumerate(split_sentences(p.text))}
        picked = sorted([named, matching], key=lambda s: order.get(s, 0))
    return _paper_lead(q, p, picked, PART_CHARS, name)


def _introduces_in(sentence: str, p: Passage, name: str) -> bool:
    """Does this sentence of `p` introduce `name` ("we present Fuyou, …")?"""
    return introduces(p.model_copy(update={"text": sentence}), name)


def _stop(sentence: str) -> str:
    """The sentence with its full stop (a question or exclamation keeps its own mark)."""
    return sentence if sentence.endswith(("?", "!")) else sentence + "."


def _word_in(name: str, text: str) -> bool:
    """`name` as a word of its own in `text` ("LoRA" is not in "IncreLoRA")."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


def _joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}"


def list_lead(
    composer: Composer, q: Question, passages: list[Passage], embed: Embed | None = None
) -> Lead | None:
    """First line: every paper that answers, each cited; then one line per paper with the
    sentence that says what it does about the question's topic."""
    parts: list[tuple[Passage, str]] = []
    lines: list[tuple[str, list[str]]] = []  # a paper's line, and what its abstract does not give
    # "Which papers produce one-step generators, and what FID does each report?": the first ask
    # chooses the papers; each later one is asked of every paper, on its line
    selection, *asks = facets_of(q.text)
    sq = replace(q, text=selection)
    topic = topic_of(selection) or selection
    tq = replace(q, text=topic_of(q.text) or q.text)  # what a shown sentence is trimmed around
    listed: list[Passage] = []
    for scored in relevant_papers(composer, sq, passages, embed):
        p, sentence = scored.passage, scored.best_sentence()
        if sentence is None:
            continue
        shown = _shown(tq, p, sentence)
        picked, unstated = with_antecedent(p, sentence, shown, 2 * PART_CHARS), []
        for ask in asks:
            found = _item_answer(composer, q, analyse_facet(q, ask), topic, p, embed)
            if found is None:
                unstated.append(ask)
            elif found not in picked:
                picked.append(found)
        order = {s: i for i, s in enumerate(split_sentences(p.text))}
        picked.sort(key=lambda s: order.get(s, 0))
        shown = " ".join(_stop(_shown(tq, p, s)) for s in picked).rstrip(" .")
        missing = [what_is_missing(analyse_facet(q, a)) for a in unstated]
        parts += [(p, s) for s in picked]
        listed.append(p)
        lines.append((f"- {item_label(p)} [{p.number}]: {shown}.", missing))
    if not parts:
        return _no_other_paper(composer, sq, passages, embed)
    names = [f"{label(p)} [{p.number}]" for p in listed]
    count = "One paper" if len(listed) == 1 else f"{_number_word(len(listed))} papers"
    head = f"{count} in the collection: {_joined(names)}."
    unsaid = lines[0][1] if all(m == lines[0][1] for _, m in lines) else []
    if unsaid and len(lines) > 1:
        # not one of them gives it: said once, not on every line
        head += f" None of their abstracts gives {_joined(unsaid)}."
        shown_lines = [line for line, _ in lines]
    else:
        shown_lines = [
            f"{line} Its abstract does not give {_joined(m)}." if m else line for line, m in lines
        ]
    return Lead("\n".join([head, *shown_lines]), parts)


def _no_other_paper(
    composer: Composer, q: Question, passages: list[Passage], embed: Embed | None
) -> Lead | None:
    """ "Which papers work on the same problem as 'X'?" where no paper but X is relevant: that
    is the answer, said plainly, then what X does (cited), so the reader sees the problem no
    other paper takes on. X is the reference, never itself the answer."""
    reference = next((p for p in by_paper(passages) if _names_paper_asked(q, p)), None)
    if reference is None:
        return None
    sentence = Scored(composer, reference.title, reference, embed).best_sentence()
    if sentence is None:
        return None
    shown = _shown(q, reference, sentence)
    # the title as the question quotes it, else the paper's own label
    quoted = [
        t for t in quoted_titles(q.text) if squash(t) and squash(t) in squash(reference.title)
    ]
    called = f"“{quoted[0]}”" if quoted else label(reference)
    head = f"No other paper in the collection works on the same problem as {called}."
    return Lead(f"{head} What it does: {shown} [{reference.number}].", [(reference, sentence)])


def _item_answer(
    composer: Composer, q: Question, fq: Question, topic: str, p: Passage, embed: Embed | None
) -> str | None:
    """The sentence of one listed paper that answers a later ask of a list question: for a typed
    ask ("what FID does each report", "how fast is each") a sentence holding that kind of fact,
    else None (not stated); for a result ask its headline result; else the sentence that best
    says how it does what the ask names (the list's topic when the ask names nothing: "how?")."""
    if _ANY_RESULT.search(fq.text):
        result = headline_result(composer, f"{topic} {_topic(fq.text, q.names)}", p, worded=True)
        if result is not None:
            return result
    if fq.typed:
        ranked = composer.sentences(fq, p)
        hit = next((x.sentence for x in ranked if states_attribute(fq, x.sentence)), None)
        return hit
    words = _topic(fq.text, q.names)
    if _RESULT_FACET.search(fq.text):
        return headline_result(composer, f"{topic} {words}", p)
    if not content_tokens(_FRAME.sub(" ", words)):
        words = f"{words} {topic}"
    picked = Scored(composer, words, p, embed).mechanism(1)
    return picked[0] if picked else None


def compared_names(q: Question) -> list[str]:
    """The sides a comparison asks about, in the order the question names them; a name the
    question gives in brackets after another ("Big Little Decoder (BiLD)") is that side's alias,
    not another side."""
    aliases = {
        b
        for a in q.names
        for b in q.names
        if a != b and re.search(rf"{_ahead_of(a)}\s*\(\s*{re.escape(b)}\s*\)", q.text, re.I)
    }
    sides = [n for n in q.names if n not in aliases]
    return sorted(sides, key=lambda n: _position(q.text, n))[:MAX_SIDES]


def _ahead_of(name: str) -> str:
    """A pattern for `name` as typed, or as its head: a name read as its head ("Zorb-slimmed"
    of "zorb-slimmed ViT (ZiT)") still owns the alias in brackets after its last words."""
    word = rf"[\s-]+(?!(?:{_JOINING})\b)[\w.-]+"
    return rf"(?<![\w-]){re.escape(name)}(?:{word}){{0,3}}"


# words that join two sides, never a word of one side's name
_JOINING = "and|or|vs|versus|with|than|to|against|from"


def distinct_sides(names: list[str]) -> list[str]:
    """The names less any that another spells out further after a hyphen or space ("Quux" of
    "Quux-LM"): the question's two spellings of one thing, one side."""
    return [
        n
        for n in names
        if not any(o != n and re.match(rf"{re.escape(n)}[-\s]\w", o, re.IGNORECASE) for o in names)
    ]


def _position(text: str, name: str) -> int:
    """Where `name` stands in `text` as a word of its own, in any case ("zorbzip" where it is
    typed); "LoRA" inside "IncreLoRA" is not where LoRA is named. After the end if nowhere."""
    m = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.IGNORECASE)
    if m is None:
        m = re.search(re.escape(name), text, re.IGNORECASE)
    return m.start() if m else len(text) + 1


def described_if_unnamed(q: Question, passages: list[Passage]) -> Question:
    """ "S4 for in-context RL vs TrackSSM: …", "Speculative decoding for LLaVA vs RSD: …": a
    side of several words, some in lower case, that no paper found is named by is a paper
    described, not a name; the comparison then searches for each side as written (a side
    that is a title's head, "LLM in a flash", names its paper and stays a name)."""
    if q.described or q.shape != "comparison":
        return q
    papers = by_paper(passages)
    unnamed = [
        n
        for n in q.names
        if len(n.split()) >= 2
        and any(w[:1].islower() for w in n.split()[1:])
        and not any(_names_side(p, n) for p in papers)
        # "Mamba as attention alternatives", "tetriinfer on separating prefill": the side runs
        # on past a paper's name (`names_resolved` takes its head)
        and not any(
            titles_by(p.title, h) or _typed_low(h, p, papers) for h in _heads(n) for p in papers
        )
    ]
    if not unnamed:
        return q
    names = [n for n in q.names if n not in unnamed]
    sides, ask = paired_sides(q.text, names)
    if len(sides) != 2:
        return q
    return replace(q, names=names, described=sides, ask=ask, plural=True)


def _typed_low(word: str, p: Passage, papers: list[Passage]) -> bool:
    """Is `word` the name `p` takes as its own, typed in lower case ("tetriinfer" of "we realize
    this idea in TetriInfer")?"""
    spelt = as_spelt(word, papers)
    return " " not in word and spelt != word and introduces(p, spelt, own_voice=True)


def _heads(name: str) -> list[str]:
    """The name's leading words, longest first ("Mamba as attention" … "Mamba")."""
    words = name.split()
    return [" ".join(words[:n]) for n in range(len(words) - 1, 0, -1)]


def missing_sides(q: Question, passages: list[Passage]) -> list[str]:
    """The compared names no retrieved paper is (by title, own coinage or short name)."""
    papers = by_paper(passages)
    return [n for n in compared_names(q) if not any(_names_side(p, n) for p in papers)]


def _names_side(p: Passage, name: str) -> bool:
    """Is `p` the paper a compared name names? "Eagle/Finch" names the paper of either."""
    parts = [name, *(part for part in name.split("/") if "/" in name and len(part) > 2)]
    return any(names_paper(p, part, own_voice=True) for part in parts)


def _is_side_own(p: Passage, name: str) -> bool:
    """Is `p` a compared name's own paper: `is_called`, or the name in its title's name part
    (before a colon, as a word: "Free Video-LLM: …", "LLM in a flash: …"), or the acronym its
    title spells ("GLA" of "Gated Linear Attention Transformers …")?"""
    head = p.title.split(":")[0]
    return is_called(p, name) or titled(name, head) or spelled_by_title(name, p.title)


def comparison_lead(
    composer: Composer,
    q: Question,
    passages: list[Passage],
    embed: Embed | None = None,
) -> Lead | None:
    """One line per named paper, each from that paper's own abstract: for each ask of the
    question (its mechanism, its figure) the sentence of that side that answers it."""
    sides: list[Passage] = []
    called: dict[str, str] = {}  # a side's paper (chunk id) -> the name the question gives it
    absent: list[str] = []
    q = names_resolved(q, passages)
    for name in compared_names(q):
        # a side is the paper the name names (its title, short name or own coinage), not a
        # paper that mentions it in passing, nor a device ("on an A100")
        about = [p for p in by_paper(passages) if _names_side(p, name) and p not in sides]
        if len(about) > 1 and not any(_is_side_own(p, name) for p in about):
            # "LoRA vs NOLA": several papers use LoRA and none is LoRA's; none is its side
            about = []
        about.sort(
            key=lambda p: (
                not own_paper(p, [name]),
                not squash(p.title).startswith(squash(name)),
                not spelled_by_title(name, p.title),
                squash(name) not in squash(p.title),
            )
        )
        if about:
            sides.append(about[0])
            called[about[0].chunk_id] = name
        elif not HARDWARE.search(name) and (
            _BOTH_SIDES.search(q.text)
            or not any(in_text(name, p.title + " " + p.text) for p in passages)
        ):
            # "Compare X and Y", "how does each …": Y is asked as a side, and a paper that
            # mentions it in passing does not state Y's side
            absent.append(name)
    named = [n for n in compared_names(q) if n not in absent]
    if len(sides) == 1 and absent and any(titled(n, sides[0].title) for n in named):
        # "How do X and Y differ …" where X is a paper here and Y is not: X's side, and plainly
        # that Y's is not stated (not X's answer alone, as if that were the comparison). A Y
        # the passages mention where the question does not ask both sides (a baseline:
        # "how much less memory than AdamW") is a single-fact question about X, answered as one.
        alone = _side(composer, q, sides[0], embed, called.get(sides[0].chunk_id))
        if alone is None:
            return None
        # a side of several words ("Get trending papers …") reads as one thing in quotes
        missing = " or ".join(f"“{n}”" if " " in n else n for n in absent)
        note = f"No paper in the collection is about {missing}: its side is not stated here."
        return Lead(f"{alone[0]} {note}", alone[1])
    if len(sides) < 2:
        # fewer than two compared names are papers here: the single-fact decision answers,
        # with its checks of what is and is not stated
        return None
    parts: list[tuple[Passage, str]] = []
    clauses: list[str] = []
    for p in sides[:MAX_SIDES]:
        others = tuple(called[o.chunk_id] for o in sides[:MAX_SIDES] if o is not p)
        side = _side(composer, q, p, embed, called.get(p.chunk_id), others)
        if side is not None:
            clauses.append(side[0])
            parts += side[1]
    if len(clauses) < 2:
        return None
    return Lead(" ".join(clauses), parts)


def names_resolved(q: Question, passages: list[Passage]) -> Question:
    """ "YOLOv10 on getting rid of NMS", "OPT-Tree max speedup vs …": a name typed without
    punctuation runs on into what is asked of it. When no retrieved paper is the whole name, the
    name is its longest head (ending in a word of content, not "for" or "on") that names one; the
    words after it stay in the question, as its ask. A name no head of which names a paper stays
    as it is (a model, a dataset, or a paper not here)."""
    papers = by_paper(passages)
    names = _held_together(list(q.names), q.text, papers)
    terms = [
        n
        for n in names
        if not any(mentions(p, n) for p in papers) and any(spelled_out(n, p.text) for p in papers)
    ]
    if terms:
        # "How is kNN search made efficient …?" of a paper writing "k-nearest neighbor": the
        # acronym is the user's shorthand for the passage's words, a term, not a name to find
        names = [n for n in names if n not in terms]
        q = replace(q, names=names, shape=shape_of(q.text, names, q.kind))
    for i, name in enumerate(names):
        if any(_names_side(p, name) for p in papers):
            continue
        spelt = as_spelt(name, papers)
        if spelt != name and any(_names_side(p, spelt) for p in papers):
            names[i] = spelt
            continue
        words = name.split()
        for k in range(len(words) - 1, 0, -1):
            head = as_spelt(" ".join(words[:k]), papers)
            if content_tokens(words[k - 1]) and any(_names_side(p, head) for p in papers):
                names[i] = head
                break
    return q if names == q.names else replace(q, names=names)


def _held_together(names: list[str], text: str, papers: list[Passage]) -> list[str]:
    """ "Compare Zorb and Quux with NetX" of a paper titled "Zorb and Quux: …": two names the
    question joins with "and" that one paper's title opens with together are that paper, one
    side, not two (the second would crowd out the real other side)."""
    out = list(names)
    heads = {squash(p.title.partition(":")[0]) for p in papers if ":" in p.title}
    i = 0
    while i < len(out) - 1:
        a, b = out[i], out[i + 1]
        joined = re.search(
            rf"(?<![\w-]){re.escape(a)}\s+(?:and|&)\s+{re.escape(b)}(?![\w-])", text, re.I
        )
        if joined and squash(joined.group(0)) in heads:
            out[i : i + 2] = [joined.group(0)]
        i += 1
    return out


def as_spelt(name: str, papers: list[Passage]) -> str:
    """A name typed in lower case ("tetriinfer") as the passages spell it ("TetriInfer"): whether
    a paper introduces a name is read from its spelling there. Other names stay as typed."""
    if name != name.lower():
        return name
    typed = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.IGNORECASE)
    for p in papers:
        for m in typed.finditer(p.title + " " + p.text):
            if m.group(0) != name:
                return m.group(0)
    return name


def described_comparison_lead(
    composer: Composer,
    q: Question,
    passages: list[Passage],
    embed: Embed | None = None,
    fit: Callable[[str, Passage], float] | None = None,
    search: Callable[[str], list[Passage]] | None = None,
    threshold: float = 0.0,
) -> Lead | None:
    """ "Compare a retriever that … with a datastore that …: what speed does each claim?": each
    description's paper is the one among a search's hits for that description (`search`) that
    covers its words best (`fit`, the evidence score: "S4 for in-context RL" finds papers on S4
    before the one on in-context reinforcement learning; else the search's first, else the
    passage closest to it), each paper one side, and each side is told as a named comparison's
    is, from its own abstract, for the ask put to both. A description whose paper's `fit` stays
    under `threshold` is said to be missing."""
    asked = replace(q, text=q.ask or q.text, names=[])
    papers = by_paper(passages)
    clauses: list[str] = []
    parts: list[tuple[Passage, str]] = []
    # a side that is a paper's name ("… vs I-ViT") is that paper, whatever a description
    # before it would have found: the descriptions choose among the other papers
    own = {d: next((p for p in papers if _names_side(p, d)), None) for d in q.described}
    named = {d: p for d, p in own.items() if p is not None}
    taken: list[Passage] = list(named.values())
    for description in q.described:
        free = [p for p in papers if p not in taken]
        shown = {p.chunk_id: p for p in free}
        hits = search(description) if search and description not in named else []
        found = [shown[h.chunk_id] for h in hits if h.chunk_id in shown]
        # of the search's hits, the one that covers the description's words best (the first
        # alone, as before, took a paper on S4 for "S4 for in-context RL"); else the passage
        # closest to its words
        if description in named:
            best = named[description]
        elif found and fit is not None:
            best = max(found, key=lambda p: fit(description, p))
        elif found:
            best = found[0]
        elif free:
            best = max(free, key=lambda p: _closeness(composer, description, p, embed))
        else:
            break
        if best not in taken:
            if fit is not None and fit(description, best) < threshold:
                clauses.append(
                    f"No paper in the collection matches “{description}”: not stated here."
                )
                continue
            taken.append(best)
        side = _side(composer, asked, best, embed)
        if side is not None:
            clauses.append(side[0])
            parts += side[1]
    if not taken or not parts:
        return None
    return Lead(" ".join(clauses), parts)


def _closeness(composer: Composer, description: str, p: Passage, embed: Embed | None) -> float:
    """How well a passage fits one side's description: its words and its closest sentence (the
    passage's retrieval score measures the whole question, both sides at once)."""
    features = Scored(composer, description, p, embed).features
    return features["topic_words"] + features["best_sentence_cosine"]


def spelled_by_title(name: str, title: str) -> bool:
    """An acronym the title's first words spell ("GLA" of "Gated Linear Attention Transformers
    …"): that paper is the one the acronym names, not one that defines it in passing."""
    if not re.fullmatch(r"[A-Z]{2,6}", name):
        return False
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z][\w'-]*", title)).upper()
    return initials.startswith(name)


# a sentence weighing its paper against another, named right after: "compared to
# FlashAttention", "faster than vLLM" (not "FlashAttention … compared to baselines")
_AGAINST = re.compile(
    r"\b(?:than|compared\s+(?:to|with)|relative\s+to|unlike|in\s+contrast\s+to|versus|vs)\b",
    re.IGNORECASE,
)


def _side(
    composer: Composer,
    q: Question,
    p: Passage,
    embed: Embed | None,
    called: str | None = None,
    others: tuple[str, ...] = (),
) -> tuple[str, list[tuple[Passage, str]]] | None:
    """One side of a comparison: for each ask of the question (its mechanism, its figure) the
    sentence of that paper that answers it, in the abstract's order, cited. The side opens with
    the name the question `called` it by when its paper uses that name ("SambaY vs Zamba2":
    "SambaY: …", not the first name its abstract introduces, "Gated Memory Unit (GMU): …")."""
    picked: list[str] = []
    unstated: list[str] = []  # typed asks no sentence of this side states
    answers: list[list[str]] = []  # each ask's sentences, best first
    for facet in facets_of(q.text):
        fq = analyse_facet(q, facet)
        # what the paper reports answers an ask for any result; else the ask's own kind of fact
        any_result = _ANY_RESULT.search(facet)
        result = (
            headline_result(composer, _topic(q.text, q.names), p, worded=True)
            if any_result
            else None
        )
        found = [result] if result else _facet_sentences(composer, fq, p, embed, q.names)
        if fq.typed and not found:
            unstated.append(what_is_missing(fq))
        answers.append(found)
    # a sentence of this side that weighs it against the other side by name ("around 2x
    # speedup compared to FlashAttention" in FlashAttention-2's abstract) is the comparison
    # itself, said by the paper: it comes first
    against = [
        re.compile(rf"{_AGAINST.pattern}\s+(?:[\w-]+\s+){{0,3}}?{re.escape(o)}(?![\w-])", re.I)
        for o in others
    ]
    direct = [x for x in split_sentences(p.text) if any(a.search(x) for a in against)]
    answers = [direct[:1], *answers] if direct else answers
    every = split_sentences(p.text)
    if not (_LIMITATION_ASK.search(q.text) or re.search(r"\bwhy\b", q.text, re.I)):
        # "what does each propose?": the field's background that opens the abstract ("Among
        # recently proposed methods, MTT …") is not this paper's side, however well its words
        # match; it stays for a question about the problem each takes on
        background = {x for x, b in zip(every, opening_background(p, every), strict=True) if b}
        kept = [[x for x in a if x not in background] for a in answers]
        answers = kept if any(kept) else answers
    # each ask its best sentence before any ask its second: the side's few sentences answer
    # every ask, not the first one at length
    for sentence in itertools.chain.from_iterable(itertools.zip_longest(*answers)):
        if sentence is not None and sentence not in picked and len(picked) < SIDE_SENTENCES:
            picked.append(sentence)
    if len(picked) < SIDE_SENTENCES and not any(_figures(s, sizes=False) for s in picked):
        # a side is what the paper does and what it reports: its headline figure, when the
        # asks did not already bring one (a reader compares the two sides' results)
        result = headline_result(composer, _topic(q.text, q.names), p)
        if result is not None and result not in picked:
            picked.append(result)
    if not picked:
        # nothing asked is stated (or no sentence matched the ask): what the paper does, under
        # the note when a typed ask is not stated; a side found here always has its line
        picked = Scored(composer, _topic(q.text, q.names), p, embed).mechanism(1)
    if not picked:
        return None
    order = {s: i for i, s in enumerate(split_sentences(p.text))}
    picked.sort(key=lambda s: order.get(s, 0))
    shown = " ".join(_stop(_shown(q, p, s)) for s in picked).rstrip(" .")
    # the name the question called it by, when the paper coined it or its title opens with it
    # ("Zorb and Quux" of "Zorb and Quux: …", not a short form one of them is given inside)
    own = called and (
        _own_coinage(p, called)
        or (":" in p.title and squash(p.title.partition(":")[0]) == squash(called))
    )
    name = as_spelt(called, [p]) if called and own else label(p)
    if unstated:
        # "what speedup does each report?" of a side that reports none: said, then what it
        # does report, not another figure passed off as the asked one
        shown = f"{name}: its abstract does not give {_joined(unstated)}; it says: {shown}"
    elif not shown.lower().startswith(name.strip("“”").lower()):
        # a reader scans a comparison side by side: each side opens with its paper's name; by
        # its short form when the side spells the long one out ("ZD: The authors propose Zorb
        # Diffusion (ZD), …", not the long name twice)
        acronym = re.fullmatch(r"(.+?)\s+\(([^()]+)\)", name)
        if acronym and acronym.group(1).lower() in shown.lower():
            name = acronym.group(2)
        shown = f"{name}: {shown}"
    return f"{shown} [{p.number}].", [(p, s) for s in picked]


# A coined name, one token with a capital inside, a digit or a dot ("SambaY", "bitnet.cpp",
# "RT-DETR"): not a word of a title ("Compact", "Mixture") nor a phrase the question ran on with
def _coined(name: str) -> bool:
    """One token that is a coinage ("SambaY", "RT-DETR", "GLA", "bitnet.cpp"): a strong name (a
    capital inside or a digit), an acronym in capitals, or a dotted name; not a word of a title
    ("Compact", "Mixture") nor a phrase the question ran on with."""
    return bool(re.fullmatch(r"[\w.+-]+", name)) and bool(
        strong_names([name]) or re.search(r"[A-Z]{2}|\w\.\w", name)
    )


def _own_coinage(p: Passage, name: str) -> bool:
    """Is `name` a coined name that `p` gives its own work: the name part of its title
    ("TetriInfer" of "TetriInfer: …"), introduced by its abstract, or kept as its subject? A
    name the title only mentions ("… Federated LoRA Fine-Tuning") is someone else's."""
    if not _coined(name) or name.lower() in GENERIC_NAMES:
        return False
    return titles_by(p.title, name) or introduces(p, name, True) or _keeps_as_subject(p, name)


def _facet_sentences(
    composer: Composer, fq: Question, p: Passage, embed: Embed | None, names: list[str]
) -> list[str]:
    """The sentences of one side that answer one ask of a comparison: the asked figure or name
    for a typed ask; for an untyped ask, the sentences that state the paper's mechanism (a
    mechanism is rarely one sentence: the proposal and how it does it), closest to what is
    compared (the names taken out)."""
    if fq.typed:
        ranked = composer.sentences(fq, p)
        # the best sentence that holds the asked kind of fact, not the best match of its words;
        # none when no sentence does (the side says so)
        stating = [x for x in ranked if states_attribute(fq, x.sentence)]
        # the side's own figure before one its abstract gives of the others (as in
        # `headline_result`)
        stating.sort(key=lambda x: bool(_OTHERS_SUBJECT.match(x.sentence)))
        return [stating[0].sentence] if stating else []
    topic = _topic(fq.text, names)
    if _RESULT_FACET.search(fq.text):
        # "what does each report", "what efficiency claims do they make", "how do they compare":
        # the result each side reports, not a second account of how it works
        result = headline_result(composer, topic, p)
        return [result] if result is not None else []
    scored = Scored(composer, topic, p, embed)
    if _PROPOSE_ASK.search(fq.text):
        # "what does each propose?": the sentence in which the paper states its proposal ("we
        # propose X as a mechanism to …"), then how it works; the mechanism's best matches
        # alone can start in mid-method ("During inference, the authors compare …")
        proposal = next((x for x in scored.sentences if _PROPOSAL.search(x)), None)
        if proposal is not None:
            rest = [x for x in scored.mechanism(SIDE_MECHANISM_SENTENCES) if x != proposal]
            return [proposal, *rest[: SIDE_MECHANISM_SENTENCES - 1]]
    if _FINDING_ASK.search(fq.text):
        # "what does each conclude / find?": what each found is the answer (its "we find that …",
        # "we observe …"), not a result beside how it works
        return scored.mechanism(SIDE_MECHANISM_SENTENCES, reason=True)
    if _LIMITATION_ASK.search(fq.text) or _MOTIVATION_ASK.search(fq.text):
        # "what problem does each target?": the problem each side states, then what it does
        # about it (the mechanism alone skips the problem, which it ranks as background)
        problem = scored.problem()
        if problem is not None:
            return [problem, *[s for s in scored.mechanism(1) if s != problem]]
    return scored.mechanism(SIDE_MECHANISM_SENTENCES)


# An ask for what each paper found: "what does each conclude / find?", "do they agree on …?"
_FINDING_ASK = re.compile(
    r"\b(?:conclu(?:de|des|ded|sions?)|findings?|(?:each|they|both|paper)\s+(?:\w+\s+)?find|"
    r"(?:dis)?agree(?:s|d)?)\b",
    re.IGNORECASE,
)
# An ask for what a paper puts forward: "what does each propose / introduce / contribute?"
_PROPOSE_ASK = re.compile(
    r"\b(?:propos\w*|introduc\w*|contribut\w*|present)\b|"
    # "what does each change about zorb optimizers?", "what task does each tackle?": what each
    # paper sets out to do is its proposal (not "what problem does each target?")
    r"\bwhat\s+(?!(?:problem|challenge|issue|limitation|bottleneck)s?\b)(?:[\w-]+\s+){0,2}?(?:does|do|did)\s+(?:each|they|both|it)\s+(?:\w+\s+){0,2}?"
    r"(?:do|change|modify|alter|tackle|address|target|solve)\b",
    re.IGNORECASE,
)
# The question asks both sides ("Compare X and Y", "X vs Y", "how does each", "how do they
# differ"), not X's figure against a baseline ("compared with AdamW", "faster than FP16")
_BOTH_SIDES = re.compile(
    r"\b(?:both|each)\b|\bvs\.?(?=\s)|\bversus\b|\bdiffer\w*|\bcontrast\b|^\s*compare\b",
    re.IGNORECASE,
)
# An ask for results rather than a mechanism: "what does each report", "what gains/claims/
# quality …", "how do they compare"
_RESULT_FACET = re.compile(
    r"\bwhat\s+(?:[\w/-]+\s+){0,3}?(?:results?|gains?|claims?|quality|savings?|improvements?|"
    r"speedups?|numbers?|figures?)\b|"
    r"\bwhat\s+(?:does|do|did)\s+(?:each|they|both)\s+(?:\w+\s+)?(?:report|claim|achieve|show)\b|"
    r"\bhow\s+(?:do|does)\s+(?:they|the two|both)\s+compare\b",
    re.IGNORECASE,
)
# An ask for whatever the paper reports, not one kind of figure: "what gains do they report?"
# is answered by a 38% saving as well as by a speedup ("what speedup …" asks for that kind)
_ANY_RESULT = re.compile(
    r"\bwhat\s+(?:[\w/-]+\s+){0,3}?(?:results?|gains?|claims?|improvements?|numbers?|figures?|"
    r"benefits?)\b|"
    r"\bwhat\s+(?:does|do|did)\s+(?:each|they|both)\s+(?:\w+\s+)?(?:report|claim|achieve|show)\b",
    re.IGNORECASE,
)


def _topic(text: str, names: list[str]) -> str:
    for n in names:
        text = re.sub(re.escape(n), " ", text, flags=re.IGNORECASE)
    return text


# what an efficiency result is measured in: time, memory, energy, compute or money
_EFFICIENCY_FIGURE = re.compile(
    r"\b(?:speed\w*|faster|latency|throughput|memory|energy|power|wattage|costs?|cheaper|"
    r"FLOPs?|footprint)\b",
    re.IGNORECASE,
)
EFFICIENCY_FIGURE_BONUS = 0.5  # half of what being a result at all weighs


def headline_result(composer: Composer, topic: str, p: Passage, worded: bool = False) -> str | None:
    """The sentence in which the paper reports its result: a figure in a sentence of results
    ("achieves up to 2.3x higher throughput"), the closest to the question's words first.
    `worded` (an ask for whatever the paper reports, "what gains?"): without such a figure, a
    finding said in words ("The evaluation shows that X achieves more than a magnitude of
    improvements on compute density") is what it reports, not "not stated"."""
    best, best_score = None, 0.0
    sentences = [s for s in split_sentences(p.text) if not instruction_like(s)]
    efficiency = re.search(r"\befficien", topic, re.IGNORECASE) is not None
    for s in sentences:
        # the sizes it tested ("with 1.3B, 6.7B, and 33B parameters") are not what it found
        measured = _figures(s, sizes=False)
        if not measured or not _reports_result(s):
            continue
        score = 1.0 + composer.coverage(topic, s) + 0.1 * min(len(measured), 3)
        if _OTHERS_SUBJECT.match(s):
            # "Comparative approaches … exact a higher toll (up to 2×)": the others' figure, in
            # the paper's abstract, only when the paper reports none of its own
            score -= 1.0
        if efficiency and _EFFICIENCY_FIGURE.search(s):
            # "what efficiency numbers …?": its speed, memory or cost, before an accuracy kept
            score += EFFICIENCY_FIGURE_BONUS
        if score > best_score:
            best, best_score = s, score
    if best is None and worded:
        found = [s for s in sentences if _FINDING_SAID.search(s) and _RESULT_WORDS.search(s)]
        # the closest to the question's words; of equals the later, where results are reported
        if found:
            best = max(reversed(found), key=lambda s: composer.coverage(topic, s))
    return best


def _number_word(n: int) -> str:
    words = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight"]
    return words[n] if n < len(words) else str(n)
