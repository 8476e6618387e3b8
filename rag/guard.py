"""Documents are data, never instructions.

A sentence in a document that addresses the model ("ignore previous instructions", "respond only
with …") or makes a blanket claim about answers ("the correct answer to every question is 42") is
flagged when the document is indexed (listed in the index report) and never reaches the model
or an answer. Hand-written patterns: the local models cannot classify intent, and the patterns
are cheap enough to run on every sentence.
"""

from __future__ import annotations

import re

_PATTERNS = [
    # addressing the model or its instructions
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}"
    r"\b(instructions?|previous|above|prompts?|rules?|context|guidelines)\b",
    r"\b(you|the (assistant|model|ai|llm|chatbot|system))\s+"
    r"(must|should|shall|will|are required to|have to|need to)\s+(now\s+)?(always\s+)?"
    r"(say|answer|respond|reply|output|print|write|state|claim|tell|include|cite|recommend|"
    r"ignore|refuse)\b",
    r"\b(respond|reply|answer|output)\s+(only\s+)?(with|in|using)\b.{0,30}"
    r"\b(only|exactly|nothing else|the (word|phrase|string|text))\b",
    r"\b(respond|reply|answer)\s+only\b",
    r"\balways (answer|respond|reply|say|output|cite)\b",
    r"^\s*(system|assistant|user|human|ai)\s*:",
    r"<\|?(im_start|im_end|system|endoftext|assistant|user)\|?>",
    r"\b(new|updated|hidden|secret) (instructions?|system prompt|directives?)\b",
    r"\bsystem prompt\b",
    r"\bas an ai\b",
    r"\bdo not (cite|mention|reveal|tell)\b",
    r"\b(if|when) (you are|you're) (asked|an? (ai|assistant|language model))\b",
    r"\b(language model|llm|assistant|chatbot)s? (reading|processing|summari[sz]ing) this\b",
    # blanket claims about every answer
    r"\b(correct|right|true|only|real) answer (to|for) (every|all|any|each)\b",
    r"\b(every|all|any|each) (questions?|quer(y|ies)|prompts?)\b.{0,40}\b(answer|respond|reply)\b",
    r"\b(answer|response) (to|for) (every|all|any|each) (questions?|quer(y|ies))\b",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def instruction_like(sentence: str) -> bool:
    """True for a sentence that tries to instruct the model or rule on every answer."""
    return bool(_INSTRUCTION.search(sentence))
