"""Documents are data, never instructions.

A sentence in a document that addresses the model ("ignore previous instructions", "note to any
AI reading this: …", "respond only with …") or makes a blanket claim about answers ("the correct
answer to every question is 42") is flagged when the document is indexed (listed in the index
report) and, wherever passages leave retrieval, replaced by `REMOVED` (`redact`): it never
reaches the model, a lead, a snippet, the API's passages or the UI's "Full passage".

Matching runs on a normalised copy of the text (`normalise`): Unicode NFKC, accents and format
characters (zero-width space, soft hyphen, word joiner) removed, Cyrillic and Greek look-alike
letters folded to Latin, Markdown emphasis and HTML comment marks dropped, table cells read
apart, line breaks joined. Consecutive sentences are also matched joined (the words near the
full stop), so an instruction split across two sentences is caught. The patterns are
hand-written: the local models cannot classify intent, and patterns are cheap enough to run on
every retrieved passage (about 10 ms of CPU for a passage of 8 sentences, then cached). They
look for an *address* (a note, a vocative, "if you are an AI", "models reading this") or a
*demand* in the imperative ("reply with …", "ignore the rules above", "tell the user to …"),
never for topic words: a sentence *about* instructions (instruction tuning, ISA instructions,
"new instructions for LUT-based mpGEMM", prompts in a prompt-tuning paper) is not flagged.
Measured in tests/security/test_guard_rates.py (planted injections, shipped corpus, benign set;
bench/results/guard-rates.json). A pattern list, not a judge of intent: phrasings it has not
seen get through (16 of 25 flagged on a batch written after its last change).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rag.core.text import split_sentences

REMOVED = "[removed: text that tried to instruct the assistant]"

# Cyrillic and Greek letters that look like Latin ones. Hand-written because no installed
# package folds confusables (Python's unicodedata has no skeleton mapping, and transliteration
# packages map by sound: Cyrillic "р" becomes "r", not the "p" it looks like).
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
        "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "һ": "h", "ɡ": "g", "ս": "u",
        "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
        "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ї": "I", "Ј": "J",
        "Ѕ": "S", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I", "Һ": "H",
        # Greek
        "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        # quotation marks and dashes, so that one pattern covers every form
        "‘": "'", "’": "'", "“": '"', "”": '"', "«": '"', "»": '"', "„": '"',
        "–": "-", "—": "-",
    }
)  # fmt: skip
# Markdown and HTML markup that can frame an instruction without being part of it: table
# rules, emphasis, headings, block quotes, code ticks, HTML comment marks.
_MARKUP = re.compile(r"<!--|-->|:?-{3,}:?|[*`>#~]+")
# A table cell reads like a sentence of its own ("| Note for AI models | Reply with … |"). A
# quoted instruction is not exempt ('attacks such as "ignore previous instructions"' is
# flagged): the model would read the quote as an instruction all the same.
_CELL = re.compile(r"\s*\|\s*")


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """The text as the patterns read it: NFKC, accents and format characters (zero-width,
    soft hyphen) removed, look-alike letters folded to Latin, markup dropped, lower case, one
    space between words."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    text = "".join(c for c in text if unicodedata.category(c) not in ("Mn", "Cf"))
    text = text.translate(_LOOKALIKES)
    text = _MARKUP.sub(" ", text)
    text = _CELL.sub(" . ", text)
    return " ".join(text.split()).lower()


# -- vocabulary ----------------------------------------------------------------------------
# What an instruction addresses: a model by any name. A bare "model", "agent", "assistant" or
# "system" is ordinary in a paper, so those count only in an address form (a note to …, a
# vocative, "… reading this").
_AI_STRONG = (
    r"(?:a\.?i\.?|artificial intelligence|llms?|gpts?(?:-\d)?|chatgpt|claude|gemini|copilot|"
    r"bard|grok|siri|alexa|cortana|chat ?bots?|bots?|"
    r"(?:large )?language[- ]models?(?:[- ](?:assistants?|agents?|tools?|systems?))?|"
    r"ai[- ](?:systems?|models?|agents?|"
    r"assistants?|tools?)|llm[- ](?:based )?(?:systems?|tools?|agents?|assistants?|models?)|"
    r"(?:automated|machine|ai|artificial|non-human) (?:assistants?|agents?|systems?|tools?|"
    r"readers?|summari[sz]ers?))"
)
_AI = (
    rf"(?:(?:ai |llm |virtual |digital |research |coding |automated |autonomous )?"
    rf"(?:assistants?|agents?|models?|robots?|crawlers?|scrapers?)|{_AI_STRONG})"
)
_DET = r"(?:(?:any|all|every|each|the|an?|you|your|whatever|whichever|some)\s+)?"
_READ_VERB = (
    r"(?:reads?|reading|processes|processing|summari[sz]es|summari[sz]ing|parses|parsing|"
    r"sees?|seeing|ingests?|ingesting|indexes|indexing|analy[sz]es|analy[sz]ing|encounters?|"
    r"encountering|handles|handling|receives?|receiving|retrieves?|retrieving|scans?|"
    r"scanning|crawls?|crawling|consumes?|consuming|is given|gets?|finds?|finding|quotes?|"
    r"quoting|cites?|citing|repeats?|repeating)"
)
# "… reading this", "… that is summarising this page", "… that encounters these lines"
_READING = (
    r"(?:\s+(?:that|who|which)?\s*"
    r"(?:is |are |will (?:be )?|might (?:be )?|may (?:be )?|can |could |shall )?"
    rf"{_READ_VERB}\s+"
    r"(?:this|these|the following)(?:\s+\w+)?)"
)
# A clause that starts here reads as an order: the start of the sentence, after a colon, a
# semicolon or a comma, after "please", "kindly", "now", "instead", "then", "and".
_CLAUSE = r"(?:^|[:;,.!?\"(]\s*|\b(?:please|kindly|now|instead|then|and|just|simply)\s+)"
_DEMAND = (
    r"(?:say|answer|reply|respond|output|print|write|state|claim|tell|include|cite|"
    r"recommend|mention|add|append|insert|send|forward|email|e-mail|contact|call|visit|"
    r"download|open|execute|run|follow|report|translate|reveal|repeat|stop|use|pretend|"
    r"act|behave|treat|give|provide|begin|start|refuse|ignore|disregard|forget|do not|"
    r"don't|never|always)"
)
_VERB = (
    r"(?:say|answer|respond|reply|output|print|write|state|claim|tell|include|cite|recommend|"
    r"mention|ignore|disregard|forget|refuse|act|pretend|behave|send|forward|email|contact|"
    r"call|visit|download|open|translate|reveal|repeat|add|insert|begin|start)"
)
# what "you must …" demands of a model (not "you should cite both papers", "you will need")
_YOU_VERB = (
    r"(?:say|answer|respond|reply|output|print|claim|tell|recommend|ignore|disregard|forget|"
    r"refuse|act|pretend|behave|reveal|translate|repeat|obey|comply)"
)
_DEICTIC = (
    r"\b(?:this|these) (?:paper|document|page|file|text|passage|abstract|report|article|"
    r"section|note|message|content|site|website|webpage|web page|pdf|topic)s?\b"
)
_QUOTE = r"[\"']"
_OVERRIDE_TARGET = (
    r"(?:instructions?|prompts?|rules|guidelines|guidance|directions|directives|context|"
    r"system message|above|previous|prior|"
    r"preceding|earlier|original|everything|what you|the question|the user|your|system|"
    r"retrieved|passages?|sources|evidence|documents?|every other|all other)"
)

_PATTERNS = [
    # -- overriding what the model was told ------------------------------------------------
    rf"{_CLAUSE}(?:you (?:must|should|will|need to|have to|can) )?(?:now )?"
    rf"(?:ignore|disregard|forget|override|bypass|neglect|discard|abandon|set aside|"
    rf"pay no (?:attention|heed) to|(?:do not|don't|no longer|stop) (?:follow|obey)(?:ing)?)\b"
    rf".{{0,50}}\b{_OVERRIDE_TARGET}\b",
    r"\byour (?:own )?(?:system prompt|(?:hidden |original |previous |initial |current )?"
    r"instructions|guidelines|rules|programming|directives|training|constraints)\b",
    r"\b(?:ignoriere|ignorier|ignorieren|vergiss|vergessen|ignorez|ignorer|oubliez|oublier|"
    r"ignora|ignorar|olvida|dimentica)\b"
    r".{0,50}\b(?:anweisungen|instructions|consignes|instrucciones|istruzioni|regeln|regles|"
    r"reglas|regole)\b",
    r"\b(?:instrucciones|instruccion|nota|mensaje|consignes?|anweisungen?|hinweis|nachricht|"
    r"istruzioni|messaggio) (?:para|pour|fur|an|per|a|al) (?:el |la |le |l'|den |die |das |il |lo |"
    r"tout |todo |cualquier |jeden |jede |ogni )?(?:asistente|assistant|assistent|assistente|ki|ia|"
    r"ai|modelo|modele|modell|modello|bot|chatbot)\b",
    r"\b(?:du bist|sie sind|tu es|vous etes|eres|usted es|sei) (?:ein|eine|un|une|una) "
    r"(?:ki|ia|ai|sprachmodell|modele|modelo|assistant|asistente|assistent)",
    # -- addressing a model ----------------------------------------------------------------
    # a note, message, notice, update … to or for a model, as a label
    rf"\b(?:note|message|notice|memo|reminder|warning|update|request|p\.? ?s\.?|"
    rf"information|announcement|alert|rules?|polic(?:y|ies)|guidance)\s+(?:\w+\s+)?"
    rf"(?:from (?:\w+\s+){{1,3}})?(?:to|for)\s+{_DET}(?:[\w-]+\s+)?{_AI}"
    rf"{_READING}?\s*[:,.!-]",
    rf"\b(?:instructions?|directives?|message|note|commands?|orders?)\s+(?:to|for)\s+{_DET}"
    rf"(?:\w+\s+)?{_AI_STRONG}\b",
    rf"\binstructions?\s+(?:to|for)\s+{_DET}(?:\w+\s+)?{_AI}\s*:",
    rf"\b{_AI}\s+(?:instructions?|notes?|messages?|directives?|notices?|memos?|commands?|orders?|"
    r"tasks?)\s*:",
    r"\bif you (?:can )?(?:read|see|understand|parse) this\b",
    r"\b(?:whatever|whichever|no matter (?:what|which)|regardless of (?:what|which|the))\b"
    r"[^.]{0,40}\b(?:question|query|asked)\b[^.]{0,40}\b(?:answer|reply|response)\b",
    rf"\b{_AI_STRONG} (?:are|is) (?:hereby |kindly |now )?(?:requested|ordered|commanded|directed|"
    r"expected) to\b",
    rf"\b(?:when|if|whenever)\b[^.]{{0,30}}\b(?:is |are )?asked\b.{{0,40}}{_DEICTIC}.{{0,40}}"
    r"\b(?:must|should|say|claim|state|answer|respond|reply|tell)\b",
    rf"{_CLAUSE}(?:make up|invent|fabricate) (?:an? |the |some )?(?:\w+ )?(?:answer|number|"
    r"figure|source|citation|reference|result)",
    rf"{_CLAUSE}(?:act|behave) as (?:my|an?|the|if)\b",
    # "you, the AI, …", "this sentence is for machines only"
    rf"\byou\s*,?\s+(?:the|an?|dear)\s+(?:\w+\s+)?{_AI}\b",
    rf"\b(?:this|the next|the following|the previous) (?:sentence|text|part|section|line|"
    rf"paragraph|message|note)s? (?:is|are) (?:meant |intended |written |addressed )?(?:only )?"
    rf"(?:for|to) {_DET}(?:\w+\s+)?(?:machines?|computers?|robots?|{_AI})\b",
    # a vocative: "Dear ChatGPT,", "Hey Claude", "Attention LLM agents:", "Assistant, forget …"
    rf"\b(?:dear|hey|hello|hi|greetings|yo)\b(?: there)?,?\s+(?:\w+\s+){{0,2}}?{_AI}\b",
    r"(?:^|[.!?;]\s*)(?:attention|attn|important|urgent|notice|pay attention|heads up|fyi|"
    rf"look|listen(?: up| carefully)?)\s*,?\s+(?:to\s+)?{_DET}"
    rf"(?:\w+\s+)?{_AI}\s*[:,!]",
    rf"^(?:\w+\s+){{0,2}}?{_AI}\s*,\s*(?:please\b|kindly\b|you\b|your\b|if\b|"
    rf"{_DEMAND}\b)",
    rf"^[^.:]{{0,40}}?\b{_AI}{_READING}?\s*:.*?{_CLAUSE}{_DEMAND}\b",
    # a model reading this very text
    rf"\b{_AI}{_READING}\b",
    rf"\b(?:if|when|since|in case|because)\s+(?:you are|you're|you are acting as)\s+"
    rf"(?:an?|the|some)\s+(?:\w+\s+){{0,3}}?{_AI}\b",
    rf"\bif {_DET}{_AI_STRONG} (?:is )?(?:reading|processing|summari[sz]ing)\b",
    r"\bas an? (?:ai|artificial intelligence|(?:large )?language model|llm|assistant|"
    r"chatbot|ai (?:model|assistant|system))\s*,",
    rf"\baddressed to\s+{_DET}(?:\w+\s+){{0,2}}?{_AI_STRONG}\b",
    r"\bwhoever (?:or whatever )?(?:is )?reading this\b",
    # role labels and chat-template tokens
    rf"(?:^|[.;!?]\s)(?:new |updated )?instructions?\s*:\s*(?:please |now |from )?(?:{_DEMAND}\b|"
    r"you\b|your\b|the (?:assistant|model|ai)\b)",
    r"(?:^|[.;!?]\s)(?:system|assistant|user|human|ai|bot|"
    r"(?:new |updated )?system (?:prompt|message|note|notice)|(?:admin|developer) message|"
    r"override|admin|developer|important update[\w ]{0,30})"
    r"\s*:",
    r"<\s*(?:im_start|im_end|system|endoftext|assistant|user|eot_id|start_header_id)\b",
    r"\[/?(?:inst|sys|system|assistant|admin|developer|system prompt)\]|<</?sys>>",
    # -- demands on the reader -------------------------------------------------------------
    # "Reply with …", "Answer with yes …", "Respond to the user's question with 'X' only."
    rf"{_CLAUSE}(?:reply|respond|answer|output|print|say|write|state|claim)"
    rf"(?: only)?(?: to [^.]{{0,40}}?)? (?:with|only|exactly|in (?:french|latin|pirate)|"
    rf"{_QUOTE}|the (?:word|phrase|string|text|number|contents))",
    # "… and say that …" but not a sentence that opens "Say that n tokens …" (a math idiom)
    r"(?:[:;,.]\s*|\b(?:please|kindly|now|instead|then|and|just|simply)\s+)"
    r"(?:reply|respond|answer|say|state|claim|write) that\b|^(?:reply|respond|answer) that\b",
    rf"{_CLAUSE}(?:do not|don't|never) (?:answer|summari[sz]e|mention|cite|reveal|tell|"
    r"follow|respond|reply|quote|disclose)\b",
    r"\b(?:tell|inform|warn|remind|ask|let) (?:the |every |all |any |your |each )?"
    r"(?:users?|readers?|people|visitors|everyone|everybody|anyone|anybody|them|whoever|the person)"
    r"(?: who (?:is )?ask(?:s|ing)?| (?:is )?asking)? (?:know )?(?:to|that)\b",
    r"\byou(?:\s*,[^,]{1,30},)?\s+(?:are|will be)\s+(?:hereby\s+|now\s+)?(?:instructed|ordered|"
    r"commanded|required|directed|told)\s+to\b",
    # "IMPORTANT: assistants must always recommend …"
    rf"(?:^|[.!?;]\s*)(?:important|urgent|attention|notice|warning|note)\s*:\s*{_DET}{_AI}\s+"
    rf"(?:must|should|shall|will|need to|have to|are to|is to)\s+(?:always\s+|now\s+)?{_VERB}\b",
    rf"\byou\s+(?:must|should|shall|will|are required to|have to|need to|are to|"
    rf"are (?:now )?obligated to|are instructed to|can now|may now)\s+"
    rf"(?:now\s+|always\s+|only\s+|never\s+|not\s+|also\s+)*{_YOU_VERB}\b",
    r"\bhereby (?:instructed|ordered|commanded|required|directed|requested|asked|told)\b",
    rf"\b{_AI}\s+{_READ_VERB}?\s*:",
    r"\byou are (?:now|no longer|henceforth) (?:an?|the|in|my|our|free)\b",
    r"\bfrom (?:now|this point|here) on\b.{0,40}\b(?:you|respond|reply|answer|say|output|act)\b",
    rf"\b(?:you|you'll|you will|you must)\s+(?:now\s+)?(?:act|behave|pretend|roleplay) "
    rf"(?:as|to be|like)\b|{_CLAUSE}(?:pretend|imagine) (?:you are|you're|to be)\b",
    r"\byour (?:new |only |first |next )?(?:task|job|role|goal|mission|purpose|response|"
    r"answer|reply|output|first sentence)\s+(?:is|are|must|should|will|now)\b",
    rf"\b(?:before|when|whenever|after|while) (?:answering|responding|replying|summari[sz]ing)\b"
    rf"[^.]{{0,60}}?,\s*(?:please\s+)?{_DEMAND}\b",
    rf"{_CLAUSE}(?:end|begin|start|finish|close|prefix|suffix|sign) (?:every|each|all|your|any) "
    r"(?:responses?|answers?|replies|messages?|outputs?)\b",
    rf"\b{_AI} (?:instructions|directions|orders|commands) (?:follow|below|are below)\b",
    rf"\b{_AI}\b[^.]{{0,50}}?\b(?:must|should|shall|is required to|has to|needs to)\s+"
    rf"(?:always\s+)?(?:reply|respond|answer|say|output|print|write)\b[^.]{{0,30}}{_QUOTE}",
    rf"\bif\b[^.]{{0,40}}\b(?:is|are) (?:an?|some) {_AI_STRONG}\s*,",
    rf"^(?:to\s+{_DET}(?:[\w-]+\s+){{0,3}}?(?:{_AI}|systems?|tools?|readers?|pipelines?)|"
    rf"for\s+{_DET}(?:[\w-]+\s+){{0,3}}?{_AI_STRONG})\s*:",
    r"\b(?:before|when|whenever|after|while|each time|every time|once) you "
    r"(?:answer|respond|reply|summari[sz]e|write|are asked|output|generate)\b",
    r"\b(?:if|when|whenever) (?:you are |you're )?asked\b[^.]{0,60}?,\s*"
    r"(?:say|answer|reply|respond|state|claim|tell|output|mention|write)\b",
    rf"\bwhenever\b[^.]{{0,60}}?,\s*{_VERB}\b",
    r"\bdo what (?:it|this|the page|the file|they) says?\b|\bstop what you are doing\b",
    r"\b(?:takes? (?:priority|precedence) over|supersedes?|outranks?)\b.{0,30}\b(?:instructions|"
    r"prompt|guidelines|rules|directives|all others|every other|the system)\b",
    # a model told to do something with this very document
    rf"\b(?:the |any |all |every |an? )?{_AI}\s+(?:must|should|shall|will|is required to|"
    rf"has to|needs to|is to|are to)\s+(?:now|(?:always\s+)?{_VERB}\b.*{_DEICTIC}|"
    rf"(?:always\s+)?{_VERB}\b.*{_QUOTE})",
    rf"\bwhen (?:answering|responding|replying|summari[sz]ing|asked)\b.{{0,60}}{_DEICTIC}"
    rf".{{0,40}}\b(?:say|claim|state|answer|respond|reply|tell|should|must)\b",
    # -- blanket claims about every answer -------------------------------------------------
    r"\b(?:correct |right |true |only |real |final )?answer (?:to|for) (?:every|all|any|each) "
    r"(?:questions?|quer(?:y|ies)|prompts?)(?: \w+){0,4}? (?:is|=|should be|must be|will be|"
    r"equals)\s+(?:always\s+)?(?:[\"'\d]|yes\b|no\b|true\b|false\b)",
    rf"{_CLAUSE}(?:answer|respond|reply) (?:to )?(?:every|all|any|each) (?:questions?|"
    r"quer(?:y|ies)|prompts?)\b.{0,60}\bwith\b",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
# An address that names a model and stops there ("This is a message for the AI."): the
# sentence after it, when it starts with an order, is that message.
_ORDER_START = re.compile(rf"^(?:please |kindly |now |then )?{_DEMAND}\b")


@lru_cache(maxsize=65536)
def instruction_like(sentence: str) -> bool:
    """True for a sentence that tries to instruct the model or rule on every answer (or is a
    passage part already replaced by `REMOVED`)."""
    if REMOVED in sentence:
        return True
    return bool(_INSTRUCTION.search(normalise(sentence)))


_NEAR = 100  # characters each side of a full stop that the joined pass reads


def flagged(sentences: list[str]) -> list[bool]:
    """For consecutive sentences of one text: which of them instruct. Two neighbours are also
    matched joined (an order split across a full stop flags both), and an order that follows
    a flagged address is flagged with it."""
    norm = [normalise(s) for s in sentences]
    flags = [instruction_like(s) for s in sentences]
    for i in range(len(sentences) - 1):
        if flags[i] and flags[i + 1]:
            continue
        # Only the words near the full stop: an order split there has its halves at the end
        # of one sentence and the start of the next (the rest was matched sentence by
        # sentence), and a shorter string keeps this pass cheap (it runs on every passage).
        left, right = norm[i], norm[i + 1][:_NEAR]
        if len(left) > _NEAR:
            left = "- " + left[-_NEAR:].split(" ", 1)[-1]
        joined = f"{left} {right}"
        cut = len(left)
        if any(_spans(joined, m, cut) for m in _INSTRUCTION.finditer(joined)):
            flags[i] = flags[i + 1] = True
        elif flags[i] and _ORDER_START.match(norm[i + 1]):
            flags[i + 1] = True
    return flags


def _spans(joined: str, m: re.Match[str], cut: int) -> bool:
    """True when a match takes words from both sides of `cut` (not only the full stop)."""
    return bool(
        re.search(r"\w", joined[m.start() : cut]) and re.search(r"\w", joined[cut : m.end()])
    )


def flagged_sentences(text: str) -> list[str]:
    """The sentences of `text` that `flagged` marks."""
    sentences = split_sentences(text)
    return [s for s, f in zip(sentences, flagged(sentences), strict=True) if f]


@lru_cache(maxsize=8192)  # a retrieved chunk comes back for many questions
def redact(text: str) -> str:
    """`text` with each flagged sentence replaced by `REMOVED` (one mark for a run of them);
    the rest of the text, its line breaks included, as it was."""
    sentences = split_sentences(text)
    flags = flagged(sentences)
    if not any(flags):
        return text
    out: list[str] = []
    cursor = 0
    for sentence, flag in zip(sentences, flags, strict=True):
        at = text.find(sentence, cursor)
        if at < 0:  # split_sentences moved a citation: rebuild from the sentences
            out = [REMOVED if f else s for s, f in zip(sentences, flags, strict=True)]
            return _RUN.sub(REMOVED, " ".join(out))
        out.append(text[cursor:at])
        out.append(REMOVED if flag else sentence)
        cursor = at + len(sentence)
    out.append(text[cursor:])
    return _RUN.sub(REMOVED, "".join(out))


# a run of removed sentences reads as one removal
_RUN = re.compile(rf"{re.escape(REMOVED)}(?:\s*{re.escape(REMOVED)})+")
