"""Small text utilities shared by the citation check, abstention and evidence selection.

Hand-written because they must be exact and cheap (they run on every sentence of every answer):
llama-index's evaluators judge support with an LLM, which a 135M local model cannot do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import Stemmer  # PyStemmer, already used by the BM25 retriever

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing done down during each few for
    from further had has have having he her here hers him his how i if in into is it its itself
    just me more most my no nor not now of off on once only or other our out over own same she
    should so some such than that the their them then there these they this those through to
    too under until up very was we were what when where which while who whom why will with
    would you your yours paper papers method methods approach work study propose proposed
    proposes present presents introduce introduces introduced show shows shown use uses used
    using based new novel model models tell give describe explain name named called does did
    achieve achieves achieved according collection abstract state states stated mention
    mentioned
    """.split()  # noqa: SIM905
)
# A number with an optional unit: "4.98x", "64%", "1.5 times", "70B", "12,000".
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)\s?(%|x|×|times|[kKmMbB]\b)?")
_WORD = re.compile(r"[a-z0-9][a-z0-9\-\.]*[a-z0-9]|[a-z0-9]")
# A name as people write one: capitals inside, several capitals or digits ("SnapKV", "GPTQ",
# "Light4GS", "LLaMA-7B"); a plain capitalised word ("European") is not one.
NAME = re.compile(r"\b(?=[\w.\-]*[A-Za-z])(?=[\w.\-]*(?:[a-z][A-Z]|[A-Z]{2}|\d))[\w.\-]*\w")


# A Greek letter in a name is typed as its Latin letter ("DepS" for "DεpS"): the first letter
# of the letter's name (epsilon -> e, alpha -> a, mu -> m)
_GREEK_AS_LATIN = {
    c: unicodedata.name(chr(c)).split()[-1][0].lower()
    for c in range(0x391, 0x3CA)
    if unicodedata.name(chr(c), "").startswith("GREEK")
}


def latin(text: str) -> str:
    """The text with each Greek letter as the Latin letter a question types for it, one
    character for one: "DεpS" -> "DepS"."""
    return text.translate(_GREEK_AS_LATIN)


_SUSPENDED = re.compile(r"\b([A-Za-z0-9]+)-\s+(and|or)\s+([A-Za-z0-9]+)-([A-Za-z]+)\b")


def suspended_joined(text: str) -> str:
    """ "NLI- and NSP-based models" written out: "NLI-based and NSP-based models" (a suspended
    hyphen's word is the second word's ending)."""
    return _SUSPENDED.sub(r"\1-\4 \2 \3-\4", text)


def squash(text: str) -> str:
    """Lower case with only letters, digits and dots: "LLaMA-7B" and "llama 7b" compare equal
    (as do "DεpS" and "DepS")."""
    return re.sub(r"[^a-z0-9.]", "", latin(text).lower())


# A full stop ends a sentence, not an abbreviation's ("images (e.g. 1024×1024) that …" is one
# sentence: cut after "e.g." a lead ended "(e.g." and ran into the next sentence)
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bet al\.)(?<!\bvs\.)(?<!\bcf\.)(?<!\bFig\.)"
    r"(?<!\bEq\.)(?<!\bNo\.)\s+(?=[A-Z0-9“\"(\[])"
)


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph; a citation after the full stop stays with its sentence."""
    text = re.sub(
        r"([.!?])\s*((?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*)+)",
        lambda m: " " + m.group(2).strip() + m.group(1) + " ",
        text,
    )
    parts: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*[-*•]\s)", text):
        parts.extend(_within_brackets(s.strip() for s in _SENTENCE_END.split(block) if s.strip()))
    return parts


BRACKET_REACH = 40  # an abbreviation in brackets ("(CS. Drafting)") closes within a few words


def _within_brackets(pieces: Iterable[str]) -> list[str]:
    """A full stop inside an open bracket that closes a few words on ("Cascade Speculative
    Drafting (CS. Drafting), a novel approach …") does not end the sentence."""
    out: list[str] = []
    for piece in pieces:
        if out and out[-1].count("(") > out[-1].count(")") and ")" in piece[:BRACKET_REACH]:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return word if any(c.isdigit() for c in word) else str(_STEMMER.stemWord(word))


def content_tokens(text: str) -> set[str]:
    """Lower-cased, lightly stemmed words that carry meaning (stopwords dropped)."""
    words = _WORD.findall(text.lower())
    return {_stem(w.strip(".-")) for w in words if w not in STOPWORDS and len(w) > 1}


def _plain_figures(text: str) -> str:
    """Figures as the abstracts' LaTeX leftovers write them, made plain: "50\\%" -> "50%",
    "1.25sim1.56times" -> "1.25-1.56x", "4.98times" -> "4.98x", "1.5X" -> "1.5x"."""
    text = text.replace("\\%", "%")
    text = re.sub(r"(\d)\s?\\?sim\s?(?=\d)", r"\1-", text)
    text = re.sub(r"(\d)\s?\\?times\b", r"\1x", text)
    return re.sub(r"(\d)X\b", r"\1x", text)


def numbers(text: str) -> set[str]:
    """Numbers with their unit, normalised: "4.98x", "64%", "12000"."""
    out = set()
    for value, unit in _NUMBER.findall(_plain_figures(text)):
        value = value.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", value) else value
        unit = {"×": "x", "times": "x"}.get(unit or "", (unit or "").lower())
        out.add(value + unit)
    return out


def numbers_supported(claim: set[str], evidence: set[str]) -> bool:
    """Every number in a claim appears in the evidence: with the same unit, or bare in the
    evidence ("a ratio of up to 3.2" supports "3.2x"); a bare claim number matches any unit."""
    bare = {re.sub(r"[^\d.]", "", n) for n in evidence}
    unitless = {n for n in evidence if re.fullmatch(r"[\d.]+", n)}
    return all(
        n in evidence
        or (n.replace(".", "").isdigit() and n in bare)
        or re.sub(r"[^\d.]", "", n) in unitless
        for n in claim
    )


def overlap(query: set[str], text: set[str]) -> float:
    """Share of the query's tokens present in the text."""
    return len(query & text) / len(query) if query else 0.0


_GREEK_MACROS = {"mu": "μ", "alpha": "α", "beta": "β", "lambda": "λ", "epsilon": "ε", "sigma": "σ"}
_LATEX_COMMANDS = {
    r"\times": "×",
    r"\%": "%",
    r"\sim": "~",
    r"\approx": "≈",
    r"\leq": "≤",
    r"\geq": "≥",
    r"\le": "≤",
    r"\ge": "≥",
    r"\cdot": "·",
    r"\&": "&",
    r"\_": "_",
    r"\$": "$",
    # Greek letters, braced or not ("196{\mu}J" per inference): the letter
    **{f"{{\\{name}}}": letter for name, letter in _GREEK_MACROS.items()},
    **{f"\\{name}": letter for name, letter in _GREEK_MACROS.items()},
}


_FORMATTING = r"\\(?:textbf|textit|emph|mathrm|mathbf|mathcal|text|texttt|operatorname)\{"
_LATEX_WRAPPER = _FORMATTING + r"([^{}]*)\}"


def neutralise(text: str) -> str:
    """Links and HTML made inert: "[text](javascript:…)" -> "text", tags removed, script URLs
    dropped. Brackets and LaTeX are left alone (an answer's "[1]" stays a citation)."""
    s = re.sub(r"!?\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)", r"\1", text)  # links: the text
    s = re.sub(r"<[^>]{0,200}>", " ", s)  # HTML tags
    s = re.sub(r"<(?=[A-Za-z/!?])", "‹", s)  # a tag cut open or longer than the above
    return re.sub(r"\b(?:javascript|data|vbscript):\S*", "", s, flags=re.IGNORECASE)


_ACCENTS = {"'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303"}
_LATEX_ACCENT = re.compile(r"""\\(['`"^~])\{?([A-Za-z])\}?""")


def clean_display(text: str) -> str:
    """Text from a document made safe and readable for display (the stored text is unchanged):

    - LaTeX leftovers: "4.98times" -> "4.98×", "50\\%" -> "50%", "\\textbf{x}" -> "x", "$N^2$"
      -> "N^2", stray macros ("\\prjname") dropped to their name, a non-breaking "~" a space
      ("Models~(LLMs)" -> "Models (LLMs)"; "~3x", "~ 20%" keep theirs: "about"), a subscript
      figure inline ("H_2O" -> "H2O", "T_{1}" -> "T1");
    - links and HTML neutralised: "[text](javascript:…)" -> "text", tags removed, so nothing in
      a document becomes a link or markup in any face;
    - bracketed numbers ("[7]") become "(7)": only the assistant writes citations.
    """
    s = neutralise(text)
    s = re.sub(r"\[(\d+(?:\s*[,;–-]\s*\d+)*)\]", r"(\1)", s)
    for command, replacement in _LATEX_COMMANDS.items():
        s = s.replace(command, replacement)
    s = re.sub(r"(?<=\d)\s?times(?:\b|(?=\d))", "×", s)  # "4.98times", "1024times1024"
    s = re.sub(r"``([^`']{1,80})''", r"“\1”", s)  # TeX quotes: ``dying ReLU'' -> “dying ReLU”
    # an exponent of more than a figure keeps its grouping: "n^{1+o(1)}" -> "n^(1+o(1))", not
    # "n^1+o(1)" (another quantity); "10^{19}" -> "10^19" (below)
    s = re.sub(r"\^\{(?!\d+\})([^{}]{2,40})\}", r"^(\1)", s)
    # a dash whose HTML entity lost its "&#" and ";" ("0.108s/tokenx2014only"): the dash
    s = re.sub(r"(?<=[a-z\d])x201[34](?=[a-z])", " – ", s)
    # "in leq 0.1 second" (a stripped "\leq"): the sign, before a figure only
    s = re.sub(r"\b(leq|geq)\s?(?=[\d.])", lambda m: "≤ " if m.group(1) == "leq" else "≥ ", s)
    s = re.sub(r"(?<=\d)\{(\d+)\}", r"/\1", s)  # "2{3}" (a stripped "\frac{2}{3}"): 2/3
    s = re.sub(r"(?<=\d)\s?\\?sim\s?(?=\d)", "–", s)  # "3.72sim4.11" (a stripped "$\sim$"): a range
    s = re.sub(_LATEX_WRAPPER, r"\1", s)
    # an accent ("S\'ami", "G\"{o}del"): the accented letter
    s = _LATEX_ACCENT.sub(
        lambda m: unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)]), s
    )
    # one left open ("\\textbf{Positional \\textbf{Integrity Encoding}"): the words, not its name
    s = re.sub(_FORMATTING, "", s)
    s = re.sub(r"\\([A-Za-z]+)", r"\1", s)  # an unknown macro keeps its name
    s = re.sub(r"(?<=[A-Za-z])_\{?(\d{1,3})\}?", r"\1", s)  # a subscript figure: "H_2O" -> "H2O"
    s = s.replace("$", "").replace("{", "").replace("}", "")
    s = re.sub(r"(?<=\d)\\(?=\s)", "$", s)  # "(3\$ for 8B models)" lost its "$" to a stripper
    # a superscript figure inside a name ("E^2GAN" -> "E2GAN"); a power stays ("N^2")
    s = re.sub(r"(?<=[A-Za-z])\^(\d{1,3})(?=[A-Za-z])", r"\1", s)
    # LaTeX's non-breaking space ("Models~(LLMs)", "Section~4"); "~3x", "~ 20%" mean "about"
    s = re.sub(r"(?<=[^\W\d_])~|~(?!\s*[\d.])", " ", s)
    return " ".join(s.split())
