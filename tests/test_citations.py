"""The citation check: invented citations removed, unsupported claims dropped or re-cited."""

from __future__ import annotations

from rag.citations import check_answer, supports
from rag.text import numbers, split_sentences
from rag.types import Passage

ZIP = (
    "ZipCache is an accurate and efficient KV cache quantization method for LLMs. "
    "It achieves a 4.98x compression ratio and reduces prefill-phase latency by 37.3%."
)
GS = "Light4GS prunes over 64% of the deformable primitives and achieves over 120x compression."


def _passages() -> list[Passage]:
    return [
        Passage(text=ZIP, score=1.0, title="ZipCache", source="a.txt", doc_id="z", number=1),
        Passage(text=GS, score=0.9, title="Light4GS", source="b.txt", doc_id="g", number=2),
    ]


def test_supported_sentence_keeps_its_citation() -> None:
    out = check_answer("ZipCache achieves a 4.98x compression ratio [1].", _passages())
    assert out.text == "ZipCache achieves a 4.98x compression ratio [1]."
    assert [c.number for c in out.citations] == [1]
    assert "4.98x" in out.citations[0].snippet
    assert out.removed == 0


def test_citation_to_missing_passage_is_removed() -> None:
    out = check_answer("ZipCache achieves a 4.98x compression ratio [7].", _passages())
    assert "[7]" not in out.text
    assert [c.number for c in out.citations] == [1]  # moved to the passage that supports it
    assert out.removed == 1


def test_wrong_number_drops_the_claim() -> None:
    out = check_answer(
        "ZipCache achieves a 4.98% compression ratio [1]. Light4GS achieves over 120x "
        "compression [2].",
        _passages(),
    )
    assert "4.98%" not in out.text
    assert out.text == "Light4GS achieves over 120x compression [2]."
    assert [c.number for c in out.citations] == [2]


def test_wrongly_cited_claim_moves_to_supporting_passage() -> None:
    out = check_answer("Light4GS prunes over 64% of the deformable primitives [1].", _passages())
    assert out.text.endswith("[2].")
    assert [c.title for c in out.citations] == ["Light4GS"]


def test_nothing_supported_leaves_nothing() -> None:
    out = check_answer("Sure! Transformers were invented in 1850 by Napoleon [1].", _passages())
    assert out.text == "" and out.citations == []


def test_restating_the_question_is_not_a_claim() -> None:
    q = "How much compression does Light4GS achieve?"
    assert not supports("How much compression does Light4GS achieve?", GS, q)
    assert supports("Light4GS achieves over 120x compression.", GS, q)


def test_numbers_and_sentences() -> None:
    assert numbers("a 4.98x ratio, 37.3% faster on 12,000 GPUs, 1.5 times") == {
        "4.98x",
        "37.3%",
        "12000",
        "1.5x",
    }
    assert split_sentences("First claim. [1] Second claim [2]. Third.") == [
        "First claim [1].",
        "Second claim [2].",
        "Third.",
    ]


def test_question_terms_asserted_of_the_wrong_paper_are_not_supported() -> None:
    q = "Which method quantizes the KV cache by identifying salient tokens?"
    wrong = "Light4GS quantizes the KV cache by identifying salient tokens and prunes primitives"
    assert not supports(wrong, GS, q)
    out = check_answer(wrong + " [2].", _passages(), q)
    assert out.citations == []  # neither passage says this of Light4GS
    assert supports("ZipCache is a KV cache quantization method for LLMs", ZIP, q)
