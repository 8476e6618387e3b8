"""The citation check: invented citations removed, unsupported claims dropped or re-cited."""

from __future__ import annotations

from rag.answer.citations import supports
from rag.answer.question import analyse
from rag.answer.writer import Written, check
from rag.core.text import numbers, split_sentences
from rag.core.types import Passage

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


def _check(raw: str) -> Written:
    """The model-written answer check (rag/answer/writer.py) over the two passages."""
    return check(raw, analyse("What compression do ZipCache and Light4GS achieve?"), _passages())


def test_supported_sentence_keeps_its_citation() -> None:
    out = _check("ZipCache achieves a 4.98x compression ratio [1].")
    assert out.text == "ZipCache achieves a 4.98x compression ratio [1]."
    assert [p.number for p, _ in out.parts] == [1]
    assert out.dropped == []


def test_citation_to_missing_passage_is_removed() -> None:
    out = _check("ZipCache achieves a 4.98x compression ratio [7].")
    assert "[7]" not in out.text
    assert [p.number for p, _ in out.parts] == [1]  # moved to the passage that supports it


def test_wrong_number_drops_the_claim() -> None:
    out = _check(
        "Light4GS achieves over 120x compression [2]. ZipCache achieves a 4.98% ratio [1]."
    )
    assert "4.98%" not in out.text
    assert out.text == "Light4GS achieves over 120x compression [2]."
    assert [p.number for p, _ in out.parts] == [2]


def test_nothing_supported_leaves_nothing() -> None:
    out = _check("Sure! Transformers were invented in 1850 by Napoleon [1].")
    assert out.text == "" and out.parts == []


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
    out = check(wrong + " [2].", analyse(q), _passages())
    assert out.parts == []  # neither passage says this of Light4GS
    assert supports("ZipCache is a KV cache quantization method for LLMs", ZIP, q)


def test_a_model_answer_is_checked_on_its_facts_not_its_spelling() -> None:
    """A plural of a device ("V100s") and an acronym the passage spells out ("MFU") are the
    passage's names; a made-up name or a figure it does not give is still rejected."""
    from rag.answer.citations import supports_claim

    text = (
        "FlashAttention-2 reaches up to 225 TFLOPs/s per A100 GPU (72% model FLOPs utilization)"
        " and fits a trillion-parameter model on 512 V100 GPUs."
    )
    assert supports_claim("Up to 225 TFLOPs/s per A100 (72% MFU).", text)
    assert supports_claim("512 V100s.", text)
    assert not supports_claim("Up to 225 TFLOPs/s per A100 (72% HFU).", text)
    assert not supports_claim("Up to 250 TFLOPs/s per A100.", text)
    assert not supports_claim("512 H100s.", text)


def test_a_model_answer_may_not_adopt_the_questions_premise() -> None:
    """ "How does PYRA reduce training memory?" of an abstract that never speaks of memory: a
    restatement that says PYRA reduces training memory asserts what the passage does not."""
    from rag.answer.citations import supports_claim

    text = (
        "PYRA first utilizes parallel yielding adaptive weights to comprehensively perceive the"
        " data distribution in downstream tasks. A re-activation strategy for token modulation is"
        " then applied for tokens to be merged, leading to calibrated token features."
    )
    q = "How does PYRA reduce training memory?"
    claim = "PYRA reduces training memory by using parallel yielding adaptive weights"
    assert not supports_claim(claim, text, q)
    assert supports_claim(
        "PYRA uses parallel yielding adaptive weights to perceive the data", text, q
    )
    # the premise is the passage's own: repeating it is fine
    said = text + " This reduces training memory."
    assert supports_claim(claim, said, q)


def test_a_model_answer_may_not_negate_its_passage() -> None:
    """A restatement that turns "achieves a speed-up of up to 3.2" into "does not provide a
    speed-up of up to 3.2" keeps every figure and name, and says the opposite."""
    from rag.answer.citations import supports_claim

    text = (
        "Existing methods mainly adopt fixed heuristic draft structures. Experimental results"
        " reveal that OPT-Tree outperforms the existing draft structures and achieves a speed-up"
        " ratio of up to 3.2 compared with autoregressive decoding."
    )
    q = "What is the main limitation of speculative decoding mentioned by OPT-Tree?"
    flipped = "OPT-Tree does not provide a speed-up ratio of up to 3.2 compared with decoding"
    assert not supports_claim(flipped, text, q)
    assert supports_claim(flipped.replace("does not provide", "achieves"), text, q)
    # a negation the passage states is kept
    assert supports_claim("It does not need retraining", "The method does not need retraining.")


def test_a_terse_name_answers_a_which_question() -> None:
    """ "bitnet.cpp." answers "which software stack": a lower-case software name is a name; a
    described paper's names are qualifiers, not all required."""
    from rag.answer.compose import answers
    from rag.answer.question import analyse

    p = Passage(
        text="We introduce bitnet.cpp, a tailored software stack for 1-bit LLMs on CPUs.",
        score=1.0,
        title="1-bit AI Infra",
        source="x",
        doc_id="d",
        number=1,
    )
    q = analyse("Which software stack was released to run ternary BitNet b1.58 LLMs on CPUs?")
    assert answers(q, "bitnet.cpp.", p)
    assert not answers(q, "the software.", p)


def test_each_citation_gets_the_passage_sentence_its_first_claim_rests_on() -> None:
    from rag.answer.citations import with_cited_sentences
    from rag.core.types import Citation, Passage

    text = (
        "SnapKV keeps clustered KV positions per head [1]. It is 3.6x faster and uses 8.2x less "
        "memory [1]. ZipCache quantizes the cache [2]."
    )
    first = "SnapKV compresses caches by keeping clustered important KV positions for each head."
    figures = "SnapKV achieves a 3.6x increase in speed and an 8.2x gain in memory efficiency."
    passages = [
        Passage(
            text=f"Long contexts strain memory. {first} {figures}",
            score=1.0,
            title="SnapKV",
            source="a.txt",
            doc_id="snap",
            number=1,
        ),
        Passage(text="Nothing here.", score=0.5, title="Z", source="b.txt", doc_id="z", number=2),
    ]
    cites = [
        Citation(number=1, title="SnapKV", source="a.txt", snippet="x", score=1.0, doc_id="snap"),
        Citation(number=2, title="Z", source="b.txt", snippet="y", score=0.5, doc_id="z"),
    ]
    got = with_cited_sentences(text, cites, passages)
    assert got[0].sentence == first  # the first claim carrying [1], not the one with figures
    assert got[1].sentence == ""  # no passage sentence matches its claim: the snippet stands
    alone = with_cited_sentences("It is 3.6x faster with 8.2x less memory [1].", cites, passages)
    assert alone[0].sentence == figures  # the figures pin it, though the words differ


def test_a_claim_of_several_sentences_rests_on_the_run_of_passage_sentences_it_quotes() -> None:
    """A lead of two sentences with one marker at its end rests both on [1]: the view marks the
    two passage sentences when they stand in a row, else the first one's (never the sentences
    between them, which the answer did not use)."""
    from rag.answer.citations import with_cited_sentences
    from rag.core.types import Citation, Passage

    named = "In this work we present Quillfold, a compact cache format for long prompts."
    first = "First, we build a strong baseline that stores keys in low precision."
    later = "We further propose a saliency score that ranks the cached tokens by attention."
    passages = [
        Passage(
            text=f"Caches grow with context. {named} {first} Results are shown. {later}",
            score=1.0,
            title="Quillfold",
            source="q.txt",
            doc_id="q",
            number=1,
        )
    ]
    cites = [
        Citation(number=1, title="Quillfold", source="q.txt", snippet="x", score=1.0, doc_id="q")
    ]
    lead = "Quillfold is a compact cache format for long prompts."
    in_a_row = f"{lead} It builds a strong baseline storing keys in low precision [1]."
    assert with_cited_sentences(in_a_row, cites, passages)[0].sentence == f"{named} {first}"
    apart = f"{lead} It ranks cached tokens by an attention saliency score [1]."
    assert with_cited_sentences(apart, cites, passages)[0].sentence == named
