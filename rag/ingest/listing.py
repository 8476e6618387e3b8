"""Parser for the shipped "paper listing" format.

A listing file is a scraped page: a title line, then its abstract paragraph, repeated, with page
chrome ("Get trending papers…", "Subscribe", "Daily Papers", dates) sprinkled in and sometimes glued
to the first title. No reader in llama-index knows this layout, so it is parsed here by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Whole lines that are page chrome, never a document.
_NOISE_LINES = {
    "new",
    "subscribe",
    "daily papers",
    "byak and the research community",
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
}
# Chrome glued to the front of the next real line ("SubscribeBoosting Inference…").
_GLUED_PREFIXES = ("Subscribe",)
_DATE = re.compile(
    r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(,?\s+\d{4})?$"
)
# A title is one short line; an abstract is a long paragraph.
_MAX_TITLE_CHARS = 300
_MIN_ABSTRACT_CHARS = 120


@dataclass
class Paper:
    """One paper from a listing: its title, abstract and where it was found."""

    title: str
    abstract: str
    sources: list[str] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)


def _is_noise(line: str) -> bool:
    low = line.strip().lower()
    return low in _NOISE_LINES or bool(_DATE.match(line.strip()))


def _strip_glued(line: str) -> str:
    for prefix in _GLUED_PREFIXES:
        rest = line[len(prefix) :]
        if line.startswith(prefix) and rest[:1].isupper():
            return rest
    return line


def clean_lines(text: str) -> list[str]:
    """The meaningful lines of a listing, page chrome removed."""
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _is_noise(line):
            continue
        out.append(_strip_glued(line))
    return out


def looks_like_listing(text: str) -> bool:
    """True when most of a text alternates short title lines with long abstract lines."""
    lines = clean_lines(text)
    if len(lines) < 4:
        return False
    pairs = list(zip(lines[0::2], lines[1::2], strict=False))
    good = sum(
        1
        for t, a in pairs
        if len(t) <= _MAX_TITLE_CHARS and len(a) >= _MIN_ABSTRACT_CHARS and len(a) > len(t)
    )
    return good >= 0.8 * len(pairs)


def parse_listing(text: str, source: str) -> list[Paper]:
    """Split a listing into papers, in order of appearance.

    A line is a title when it is short and the next line is a long paragraph; a long line with no
    title before it is appended to the previous abstract (a paragraph broken in two).
    """
    lines = clean_lines(text)
    papers: list[Paper] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if len(line) <= _MAX_TITLE_CHARS and len(nxt) >= _MIN_ABSTRACT_CHARS:
            papers.append(Paper(line, nxt, [source], [len(papers)]))
            i += 2
        elif papers and len(line) >= _MIN_ABSTRACT_CHARS:
            papers[-1].abstract += " " + line
            i += 1
        else:
            i += 1  # a stray short line (chrome we do not know): not a document
    return papers


def merge_duplicates(papers: list[Paper]) -> list[Paper]:
    """One paper per (title, abstract); a paper listed in several files keeps every source."""
    merged: dict[tuple[str, str], Paper] = {}
    for p in papers:
        key = (p.title.strip().lower(), p.abstract.strip())
        if key in merged:
            m = merged[key]
            m.sources.extend(s for s in p.sources if s not in m.sources)
            m.positions.extend(p.positions)
        else:
            merged[key] = Paper(p.title, p.abstract, list(p.sources), list(p.positions))
    return list(merged.values())


_DAILY = {"daily papers", "byak and the research community"}
_TRENDING = {
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
}


def listing_label(text: str) -> str:
    """A listing's own name and date, from its page chrome ("Daily Papers · Aug 8"), for a reader
    who would learn nothing from its stored file name; "" when the chrome names nothing."""
    name, date = "", ""
    for raw in text.splitlines()[:40]:
        line = raw.strip()
        low = line.lower()
        if low in _DAILY:
            name = "Daily Papers"
        elif low in _TRENDING and not name:
            name = "Trending papers"
        elif not date and _DATE.match(line):
            date = line
    if name and date:
        return f"{name} · {date}"
    return name or (f"Paper listing · {date}" if date else "")
