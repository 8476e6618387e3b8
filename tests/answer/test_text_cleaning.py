"""LaTeX's non-breaking "~" in abstracts is shown as a space; "~" for "about" stays (issue 25)."""

from __future__ import annotations

import pytest

from rag.core.text import clean_display


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Large Language Models~(LLMs) are costly", "Large Language Models (LLMs) are costly"),
        ("a mixed-precision KV cache~(MiKV) that", "a mixed-precision KV cache (MiKV) that"),
        ("as shown in Section~4 and Figure~[2]", "as shown in Section 4 and Figure (2)"),
        ("both LLMs~and~VLMs", "both LLMs and VLMs"),
        ("a ~3x speedup", "a ~3x speedup"),
        ("it saves ~ 20% memory", "it saves ~ 20% memory"),
        ("about $\\sim$1.5 times", "about ~1.5×"),
        ("roughly ~.5 of it", "roughly ~.5 of it"),
        (
            "Heavy Hitter Oracle (H_2O) keeps H_2 tokens",
            "Heavy Hitter Oracle (H2O) keeps H2 tokens",
        ),
        ("3T T_{1}-weighted data", "3T T1-weighted data"),
        ("a model_name stays", "a model_name stays"),
        ("R$^{2}$Net trains fast", "R2Net trains fast"),
        ("the best in leq 0.1 second regime", "the best in ≤ 0.1 second regime"),
        ("a geq 2x speedup; the leq sign", "a ≥ 2x speedup; the leq sign"),
        ("a cost of $N^2$ steps", "a cost of N^2 steps"),
        ("images at 1024times1024, 4.98times faster", "images at 1024×1024, 4.98× faster"),
        ("with timestamps and 2 timesteps", "with timestamps and 2 timesteps"),
        (
            "only 196{\\mu}J per inference, 3 \\mus at \\alpha=0.5",
            "only 196μJ per inference, 3 μs at α=0.5",
        ),
    ],
)
def test_latex_tilde(raw: str, shown: str) -> None:
    assert clean_display(raw) == shown


def test_html_dash_and_dollar_leftovers_read_as_written() -> None:
    assert clean_display("0.108s/tokenx2014only half as slow") == "0.108s/token – only half as slow"
    assert clean_display("the ``dying zorb'' problem") == "the “dying zorb” problem"
    assert (
        clean_display("in time n^{1+o(1)} over 10^{19} nets")
        == "in time n^(1+o(1)) over 10^19 nets"
    )
    assert clean_display("at low cost (3\\ for 8B models)") == "at low cost (3$ for 8B models)"


def test_an_apposition_after_our_method_is_not_said_twice() -> None:
    from rag.answer.compose import readable

    assert readable("Our method, ZorbRecon, builds meshes.", "ZorbRecon") == (
        "ZorbRecon builds meshes."
    )
    # the apposition that gives the name ("named", "dubbed"): not "ZorbHead, named ZorbHead, …"
    assert readable("The proposed method, named ZorbHead, joins two branches.", "ZorbHead") == (
        "ZorbHead joins two branches."
    )


def test_an_abbreviation_does_not_end_a_sentence() -> None:
    """ "(e.g. 1024x1024)" is inside its sentence: split after "e.g.", a lead ended "(e.g." and
    ran into the next sentence."""
    from rag.core.text import split_sentences

    text = "We make images (e.g. 1024x1024) fast, as Smith et al. Showed. Next, we test it."
    assert split_sentences(text) == [
        "We make images (e.g. 1024x1024) fast, as Smith et al. Showed.",
        "Next, we test it.",
    ]


def test_a_full_stop_inside_a_short_bracket_does_not_end_the_sentence() -> None:
    from rag.core.text import split_sentences

    text = (
        "We introduce Zorb Drafting (ZD. Drafting), a new approach. It drafts fast. "
        "We test (a) one thing. (b) Another thing is tested too."
    )
    assert split_sentences(text) == [
        "We introduce Zorb Drafting (ZD. Drafting), a new approach.",
        "It drafts fast.",
        "We test (a) one thing.",
        "(b) Another thing is tested too.",
    ]


@pytest.mark.parametrize(
    ("sentence", "shown"),
    [
        (
            "We then propose two new ZorbPrune methods.",
            "The authors propose two new ZorbPrune methods.",
        ),
        ("We further show that Zorb halves memory.", "The authors show that Zorb halves memory."),
        ("We also find that pruning helps.", "The authors find that pruning helps."),
        # a consequence of what came before, which the reader may not be shown
        ("We, therefore, propose ZorbLoRA.", "The authors propose ZorbLoRA."),
        ("We thus design a zorb cache.", "The authors design a zorb cache."),
        # a sentence that never says "we": its first "our" is the authors', not a bare "their"
        (
            "On a Pixel 3 our sparse nets beat our dense ones.",
            "On a Pixel 3 the authors' sparse nets beat their dense ones.",
        ),
        # "further" as an adjective is the sentence's word, not a step
        ("We further the state of the art.", "The authors further the state of the art."),
        # the whole framing phrase up to its comma
        (
            "In terms of training throughput and scalability, ZorbNet sustains 25 petaflops.",
            "ZorbNet sustains 25 petaflops.",
        ),
        # a contrast with a sentence the reader is not shown
        (
            "However, shifting zorb windows adds memory copies.",
            "Shifting zorb windows adds memory copies.",
        ),
        # "Further," adds to a step the reader is not shown; "further" inside a sentence stays
        ("Further, we develop a zorb stem.", "The authors develop a zorb stem."),
        ("Further experiments show zorbs help.", "Further experiments show zorbs help."),
        # "In addition to …", "Besides …" without a comma: a preposition, which stays
        (
            "In addition to zorb pruning, we provide zorb kernels.",
            "In addition to zorb pruning, the authors provide zorb kernels.",
        ),
        ("Besides speed, ZorbNet saves memory.", "Besides speed, ZorbNet saves memory."),
        ("Besides, we release the code.", "The authors release the code."),
    ],
)
def test_a_step_shown_alone_loses_its_sequence_or_causal_adverb(sentence: str, shown: str) -> None:
    from rag.answer.compose import readable

    assert readable(sentence) == shown


def test_a_sentence_that_counts_its_own_steps_keeps_its_first() -> None:
    from rag.answer.compose import readable

    counted = (
        'First, "zorbing" reuses activated neurons, and second, "row bundling" reads larger chunks.'
    )
    assert readable(counted, "ZorbFlash").startswith('First, "zorbing"')
    # a step alone still loses its sequence word
    assert readable("First, we construct a strong baseline.", "ZorbFlash") == (
        "The authors construct a strong baseline."
    )


def test_a_clause_pointing_back_goes_before_the_papers_own_name() -> None:
    """ "Drawing on this insight, ZorbKV …" and "This innovative strategy, in turn, …" point at
    sentences the reader is not shown; the paper's name carries the sentence."""
    from rag.answer.compose import readable

    assert readable("Drawing on this insight, ZorbKV compresses KV caches.", "ZorbKV") == (
        "ZorbKV compresses KV caches."
    )
    shown = readable(
        "This innovative strategy, in turn, enables a 2.3x speedup.",
        "ZorbCache",
        "We propose ZorbCache, which reuses features.",
    )
    assert shown == "ZorbCache enables a 2.3x speedup.", shown
