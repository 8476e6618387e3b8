"""Yes/no questions answered "Yes."/"No." first when the paper plainly says so
(rag/answer/yes_no.py).

Made-up passages and questions: the rule is checked on its mechanism, not on an eval question.
"""

from __future__ import annotations

import pytest

from rag.answer.compose import Lead
from rag.answer.yes_no import verdict, yes_no_lead
from rag.core.types import Passage


def _paper(text: str, title: str = "ZorbKV: Small Caches", number: int = 1) -> Passage:
    return Passage(text=text, score=1.0, title=title, source="x.txt", doc_id=title, number=number)


@pytest.mark.parametrize(
    ("question", "text", "word"),
    [
        ("Does ZorbKV need fine-tuning?", "We present ZorbKV, a fine-tuning-free cache.", "No"),
        ("Does ZorbKV require retraining?", "ZorbKV works without any retraining.", "No"),
        ("Is ZorbKV training-free?", "ZorbKV is a training-free method.", "Yes"),
        ("Can ZorbKV run without retraining?", "ZorbKV requires no retraining at all.", "Yes"),
        ("Does ZorbKV require calibration data?", "ZorbKV requires calibration data.", "Yes"),
        ("Is ZorbKV training-free?", "ZorbKV requires training on 8 GPUs.", "No"),
        # "use X?": the paper doing without it answers "No"
        ("Does ZorbKV use attention?", "ZorbKV is a cache model without attention.", "No"),
        # a follow-up's connective is not part of the ask
        ("and does ZorbKV need retraining?", "ZorbKV works without any retraining.", "No"),
        # the article and a qualifier are not the property; the paper's own qualifier between
        ("Does ZorbKV need an extra model?", "ZorbKV requires no auxiliary models.", "No"),
        # other work spoken of after the paper's own claim does not take it away
        (
            "Does ZorbKV need an extra model?",
            "ZorbKV requires no auxiliary models and keeps existing architectures.",
            "No",
        ),
    ],
)
def test_a_plain_statement_answers_yes_or_no(question: str, text: str, word: str) -> None:
    v = verdict(question, _paper(f"ZorbKV shrinks caches. {text}"))
    assert v is not None and v.word == word and v.sentence == text


@pytest.mark.parametrize(
    ("question", "text"),
    [
        # the others need it, not the paper
        (
            "Does ZorbKV require retraining?",
            "Unlike prior methods that require retraining, it is fast.",
        ),
        ("Does ZorbKV need fine-tuning?", "Existing caches cannot work without fine-tuning."),
        (
            "Does ZorbKV need retraining?",
            "Unlike prior caches, which need no retraining, it is big.",
        ),
        # not a need or a "-free" question: no verdict read
        ("Is ZorbKV faster than H2O?", "ZorbKV is 2x faster than H2O."),
        ("Does ZorbKV need fine-tuning?", "ZorbKV shrinks the cache by 4x."),
        # a use verb beside the property is no "Yes": the sentence may be about others
        ("Does ZorbKV use attention?", "Caches of models that use attention grow with length."),
        ("Does ZorbKV use attention?", "Unlike prior caches built without attention, it is fast."),
    ],
)
def test_no_verdict_unless_the_paper_says_it_of_itself(question: str, text: str) -> None:
    assert verdict(question, _paper(text)) is None


def test_the_lead_opens_with_the_verdict_and_cites_its_sentence() -> None:
    p = _paper("ZorbKV shrinks caches by 4x. We present ZorbKV, a fine-tuning-free cache.")
    lead = yes_no_lead(
        "Does ZorbKV need fine-tuning?", Lead("x [1].", [(p, "ZorbKV shrinks caches by 4x.")])
    )
    assert lead.text.startswith("No. ") and lead.text.endswith("[1].")
    assert lead.parts == [(p, "We present ZorbKV, a fine-tuning-free cache.")]
    kept = Lead("ZorbKV shrinks caches by 4x [1].", [(p, "ZorbKV shrinks caches by 4x.")])
    assert yes_no_lead("What does ZorbKV shrink?", kept) is kept


def test_a_kindred_property_is_shown_without_a_verdict_word() -> None:
    """ "Is ZorbKV training-free?" of an abstract that says "fine-tuning-free" (and nothing of
    training): that sentence answers, not whichever sentence shares the most words, and no
    "Yes." is claimed for a property the paper words differently."""
    said = "We present ZorbKV, a fine-tuning-free cache."
    p = _paper(f"ZorbKV shrinks caches by 4x. {said}")
    v = verdict("Is ZorbKV training-free?", p)
    assert v is not None and v.word == "" and v.sentence == said
    lead = yes_no_lead(
        "Is ZorbKV training-free?", Lead("x [1].", [(p, "ZorbKV shrinks caches by 4x.")])
    )
    assert lead.parts == [(p, said)]
    assert not lead.text.startswith(("Yes", "No")) and "fine-tuning-free" in lead.text
    # a property of another kind has no kin: no verdict, the composed lead stands
    assert verdict("Is ZorbKV calibration-free?", p) is None


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("Does ZorbKV need retraining?", "No"),
        ("Does ZorbKV require fine-tuning?", "No"),
        ("Is ZorbKV fine-tuning-free?", "Yes"),
    ],
)
def test_training_free_answers_for_every_kind_of_training(question: str, word: str) -> None:
    """A paper free of all training is free of each kind ("training-free": no retraining, no
    fine-tuning), so the kindred sentence answers with a verdict word this way round only."""
    said = "We present ZorbKV, a training-free cache."
    v = verdict(question, _paper(f"ZorbKV shrinks caches by 4x. {said}"))
    assert v is not None and v.word == word and v.sentence == said


def test_a_comparison_asked_as_yes_or_no_opens_with_yes_when_the_paper_says_so() -> None:
    """ "Is ZorbAttention-2 faster than ZorbAttention?" of a side saying "around 2.1x speedup
    compared to ZorbAttention": "Yes." first, then the comparison as composed. The other way
    round, or a side that says nothing against the other, gets no verdict."""
    from rag.answer.compose import measured_against
    from rag.answer.yes_no import comparative_lead

    two = _paper(
        "We tweak the kernel. These yield around 2.1x speedup compared to ZorbAttention.",
        "ZorbAttention-2: Faster Attention",
    )
    one = _paper("ZorbAttention tiles attention.", "ZorbAttention: Tiled", 2)
    said = "These yield around 2.1x speedup compared to ZorbAttention."
    lead = Lead("ZorbAttention-2: … [1]. ZorbAttention: … [2].", [(two, said), (one, one.text)])
    assert comparative_lead("Is ZorbAttention-2 faster than ZorbAttention?", lead).text.startswith(
        "Yes. "
    )
    flipped = Lead("ZorbAttention: … [2]. ZorbAttention-2: … [1].", [(one, one.text), (two, said)])
    assert comparative_lead("Is ZorbAttention faster than ZorbAttention-2?", flipped) is flipped
    assert comparative_lead("Is ZorbAttention-2 smaller than ZorbAttention?", lead) is lead
    # a decimal point before the cue does not end the clause; a full stop does
    assert measured_against("ZorbAttn", "We get 4.2x and 1.6x compared with ZorbAttn.")
    assert not measured_against("ZorbAttn", "It is 1.6x faster than before. ZorbAttn tiles.")


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("Does ZorbKV increase model size?", "It lowers perplexity without increasing its size."),
        ("Does ZorbKV hurt accuracy?", "ZorbKV halves memory with no loss in accuracy."),
        ("Does ZorbKV hurt accuracy?", "ZorbKV halves memory with no accuracy loss."),
        ("Does ZorbKV degrade quality?", "ZorbKV halves memory without sacrificing quality."),
        (
            "Does ZorbKV increase the word error rate?",
            "ZorbKV is 5x faster while incurring no increase in word error rates.",
        ),
    ],
)
def test_a_cost_that_does_not_come_answers_no(question: str, text: str) -> None:
    """ "Does X increase model size?" of a paper that improves "without increasing its size":
    "No", from that sentence; the cost may be worded another way than the question's verb."""
    v = verdict(question, _paper(f"ZorbKV shrinks caches. {text}"))
    assert v is not None and v.word == "No" and v.sentence == text


@pytest.mark.parametrize(
    ("question", "text"),
    [
        # another cost than the one asked
        ("Does ZorbKV reduce memory?", "ZorbKV halves latency without reducing accuracy."),
        # the others keep it, not the paper
        ("Does ZorbKV hurt accuracy?", "Prior caches cut memory without sacrificing accuracy."),
        # a small cost is not none: no verdict
        ("Does ZorbKV increase latency?", "ZorbKV adds negligible latency overhead."),
    ],
)
def test_no_cost_verdict_unless_the_paper_says_it_does_not_come(question: str, text: str) -> None:
    assert verdict(question, _paper(text)) is None


def test_a_use_of_several_things_is_yes_only_when_the_papers_own_sentence_uses_them_all() -> None:
    """ "Does ZorbGen use the GPU and the CPU together?": "Yes" from the paper's own sentence
    using both; a sentence naming one of them, or about other work, gives no verdict."""
    own = _paper(
        "Prior offloading methods use the GPU and the CPU in turn. We introduce ZorbGen, a "
        "framework for heterogeneous parallel computing using CPUs and GPUs. It overlaps I/O.",
        "ZorbGen: Parallel Inference on Small Devices",
    )
    found = verdict("Does ZorbGen use the GPU and the CPU together?", own)
    assert found is not None and found.word == "Yes", found
    assert found.sentence.startswith("We introduce ZorbGen")
    assert verdict("Does ZorbGen use the GPU and the TPU together?", own) is None
    others = _paper(
        "Unlike methods using CPUs and GPUs, we keep everything on the GPU.", "QuuxGen: Offloading"
    )
    assert verdict("Does QuuxGen use the GPU and the CPU together?", others) is None
