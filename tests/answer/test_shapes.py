"""Answer shapes, follow-ups and "not stated" wording: rules that need no index or model.

The questions here are written for these tests (not taken from the eval sets), and the passages
are made up, so that each rule is checked on its mechanism rather than on one known answer.
"""

from __future__ import annotations

import json

import pytest

from rag.answer.answering import listed_papers, refers_back, resolved
from rag.answer.compose import Composer, Lead, states_attribute
from rag.answer.not_stated import paper_called, plain_phrase, what_is_missing
from rag.answer.question import analyse
from rag.answer.synthesis import (
    compared_names,
    comparison_lead,
    identify_lead,
    label,
    list_lead,
    names,
    names_paper,
    topic_of,
)
from rag.core.settings import PROJECT_DIR
from rag.core.text import split_sentences
from rag.core.types import Passage
from tests.support.papers import passage


@pytest.mark.parametrize(
    ("question", "shape"),
    [
        ("Which papers speed up sampling of diffusion models with caching?", "list"),
        ("What training-free or learned methods prune visual tokens?", "list"),
        ("List the systems that offload optimizer state to SSDs.", "list"),
        ("Compare Orca and Sarathi: how does each schedule prefill chunks?", "comparison"),
        ("Orca vs Sarathi: what do they report?", "comparison"),
        ("How do QuIP and AWQ differ in what they quantize?", "comparison"),
        ("How does Orca schedule requests?", "how"),
        ("Why does weight sharing hurt accuracy in MobileBERT?", "how"),
        ("How much faster is Orca than FasterTransformer?", "single"),
        ("Which method prunes attention heads with a learned gate?", "single"),
        # the noun its verb follows is the ask: a license, not models
        ("Under which license are the Zorb video models released?", "single"),
        ("Which recent efficient video models reduce tokens?", "list"),
        # a topic asked as a search box query, or what the collection holds on it
        ("lightweight visual zorb backbones?", "list"),
        ("KV cache pruning methods?", "list"),
        ("What do we have about zorb number formats for training?", "list"),
        ("What's in the collection about zorb caching for training?", "list"),
        ("zorb solvers / ML for fluid simulation - what's there?", "list"),
        ("Can you find papers on zorb databases?", "list"),
        ("Papers focused on the energy use of zorb training?", "list"),
        ("Whcih papers prune attention heads?", "list"),
        # ... but a named paper's figure is one fact, however tersely asked
        ("ZorbCache compression ratio?", "single"),
        ("ZorbConv energy efficiency gain for MobileNet-V1 on the P100?", "single"),
        ("Hwo does ZorbCache work?", "how"),
        # comparisons however phrased
        ("ZorbMoE or QuuxMoE for running MoE on phones?", "comparison"),
        ("Contrast ZorbCache with QuuxCache.", "comparison"),
        ("How does ZorbKV stack up against QuuxKV?", "comparison"),
        # instances of a kind asked for, however many
        ("Any examples of zorb routing used for speech or robotics?", "list"),
        ("What is an example of a zorb cache?", "single"),
        # one paper asked for, whatever plural follows its verb; a paper's own things
        ("Which paper introduces selective zorb models with the quux design?", "single"),
        ("Which benchmark compares zorb training algorithms across workloads?", "single"),
        ("Which benchmarks compare zorb training algorithms?", "list"),
        ("Which zorb architectures are used for speech?", "list"),
        ("What work is there on quantizing zorb models?", "list"),
        ("What work has been done on zorb caches?", "list"),
        # a list offering alternatives is not a choice between two sides
        ("Which papers quantize zorb weights, either post-training or with zorb training?", "list"),
        ("Which approaches group keys (clusters, centroids or sentences) and fetch them?", "list"),
        # what the collection holds, however it is worded
        ("anything on zorb estimation from a single quux image?", "list"),
        ("Which zorb-quux-action (ZQA) robot models are in the collection?", "list"),
        ("Any ML for zorb chemistry / quux design papers in here?", "list"),
        ("any ML for zorbology or quuxology?", "list"),
        ("what zorb synthesis work is in the collection?", "list"),
        ("What uses of zorb networks appear in the collection, and what is each used for?", "list"),
        ("Where has ZorbNet been applied outside vision, e.g. quux or audio?", "list"),
        ("What new zorb-style adapter designs for fine-tuning of quux models are there?", "list"),
        ("work on making zorb inference faster or checking its accuracy?", "list"),
        ("efficiency work on zorb learning?", "list"),
        ("Zorb papers that rethink how the quux router is trained?", "list"),
        (
            "is there research showing Q1/Z3-style zorb models think longer than they need to?",
            "list",
        ),
        ("ZL applied to zorb networks / quux (zorb traffic, quux ops, 5G)?", "list"),
    ],
)
def test_shape_of_a_question(question: str, shape: str) -> None:
    assert analyse(question).shape == shape


def test_what_is_compared_after_a_side_is_not_its_name() -> None:
    assert analyse("ZorbCache vs QuuxKV accuracy?").names == ["ZorbCache", "QuuxKV"]
    assert analyse("Contrast ZorbCache with QuuxCache.").names == ["ZorbCache", "QuuxCache"]


def test_compared_names_are_subjects_even_when_short() -> None:
    q = analyse("ABCD vs WXYZ: how does each benchmark measure code efficiency?")
    assert q.shape == "comparison" and {"ABCD", "WXYZ"} <= set(q.names)


def test_a_bracketed_alias_is_the_same_side() -> None:
    q = analyse("Tiny Draft Engine (TiDE) vs Ladder Verify: how does each pick the draft length?")
    assert compared_names(q) == ["Tiny Draft Engine", "Ladder Verify"]


def test_an_alias_stays_with_its_side_when_the_side_is_read_as_its_head() -> None:
    # "zorb-slimmed ViT" is no paper's whole name: it is read as its head ("Zorb-slimmed"), and
    # its bracketed alias still belongs to it, so the other name is the second side
    ps = [
        passage(
            "Zorb-slimmed Vision Transformer",
            "We propose a generic zorb-slimmed learning approach for vision transformers, namely"
            " ZiT. It merges tokens on the fly. ZiT speeds up inference by 1.7x.",
            1,
            0.8,
        ),
        passage(
            "Efficient Online Inference by Training-Free Packing",
            "We introduce the Quux Word Packer (QWP), a training-free method for reducing energy."
            " The QWP groups frequent patches into words. It cuts wattage by up to 19%.",
            2,
            0.6,
        ),
    ]
    rare = {"zorb-slim": 1}  # a word few chunks use: typed in lower case, still a name
    q = analyse("zorb-slimmed ViT (ZiT) vs the Quux Word Packer - speedup / energy numbers?", rare)
    assert compared_names(q) == ["zorb-slimmed ViT", "Quux Word Packer"]
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None and "[1]" in lead.text and "[2]" in lead.text, lead
    assert "not stated" not in lead.text


def test_a_follow_up_refers_back_only_without_a_subject_of_its_own() -> None:
    history = [("How does PagedKV manage memory in LLM serving?", "PagedKV pages the cache [1].")]
    assert refers_back("How much faster is it?", history)
    assert refers_back("And the memory?", history)
    assert refers_back("What about latency?", history)
    # a short question naming a new subject stands alone
    assert not refers_back("Which GPU did TurboDiff use?", history)
    assert not refers_back("What does HyperLoRA predict?", history)
    assert not refers_back("What does Q-SPR approximate?", history)  # a hyphen-joined coinage
    assert refers_back("What does SVD approximate?", history)  # a common acronym is no subject
    # a name the conversation already used is not a new subject: the pronoun still leans on it
    assert refers_back("Is PagedKV exact, and how much memory does it save?", history)
    assert not refers_back("Does PagedKV support beam search with long prompts?", [])
    assert refers_back("How does it compare with Llama-2?", history)  # a pronoun refers back
    # an opening "why" leans on the conversation only without a subject of its own
    assert refers_back("Why?", history) and refers_back("And on GPUs?", history)
    assert not refers_back("Why is the zorb signal block vulnerable to jamming?", history)
    # a capitalised word inside the turn, used in few chunks: the name of a paper, a new subject
    freq = {"zorba": 12, "licens": 40, "releas": 300, "memori": 200, "latenc": 90, "under": 80}
    assert not refers_back("What license is Zorba released under?", history, freq)
    assert refers_back("What license is it released under?", history, freq)
    assert refers_back("And the memory and latency?", history, freq)
    common = {**freq, "zorba": 300}  # a word many chunks use is no name
    assert refers_back("What license is Zorba released under?", history, common)
    listed = [("Which papers speed up diffusion?", "Two papers: “Scaling Zorba …” [1] and X [2].")]
    assert not refers_back("What license is Zorba released under?", listed, freq)
    asked = [("How fast is Zorba?", "Zorba is fast [1].")]
    assert refers_back("What license is Zorba released under?", asked, freq)
    # a name an answer only listed is not the conversation's subject: the turn asks about it anew
    papers = [("Which papers cache features?", "Two papers: ZorbCache [1] and QuuxCache [2].")]
    assert not refers_back("How does ZorbCache reuse features?", papers)
    # a turn asking for papers on a topic the conversation has not touched is a search of its own
    assert not refers_back("Which papers speed up video diffusion?", history)
    assert refers_back("Which papers cite it?", history)  # its pronoun leans on the conversation
    assert refers_back("Which papers manage memory?", history)  # PagedKV's topic: more of it
    # "other" papers are others than the conversation's subject, whatever the topic
    assert refers_back("Which other papers speed up video diffusion?", history)
    # a place in what the previous answer listed; "the first … to" is a superlative
    listed = [
        (
            "Which papers cache zorb features?",
            "Three papers in the collection: ZorbCache [1], “Training and Inference for Quux "
            "Caching …” [2] and Q-Cache [3].\n- ZorbCache: Zorb Caching [1]: caches.",
        )
    ]
    assert refers_back("How does the second one decide what to cache?", listed)
    assert not refers_back("Which was the first paper to cache zorb features?", listed)
    assert listed_papers(listed[0][1]) == [
        "ZorbCache",
        "Training and Inference for Quux Caching",
        "Q-Cache",
    ]
    assert resolved("How does the second one decide?", listed_papers(listed[0][1])) == (
        "How does Training and Inference for Quux Caching decide?"
    )


def test_topic_of_drops_the_list_frame() -> None:
    topic = topic_of("Which papers in the collection propose splitting prefill and decode?")
    assert topic == "splitting prefill and decode"
    # the kind of thing asked for is frame; the same noun inside the topic is the topic's
    assert topic_of("What methods cut zorb cache memory?") == "cut zorb cache memory"
    assert topic_of("Which zorb decoding methods use a draft model?") == (
        "zorb decoding use a draft model"
    )
    assert topic_of("Which papers propose new optimizers as alternatives to Adam?") == (
        "new optimizers as alternatives to Adam"
    )
    assert topic_of("new optimizers proposed as fixes to Adam - which papers?") == (
        "new optimizers as fixes to Adam"
    )
    assert topic_of("Benchmarks for the speed of zorb-generated code?") == (
        "Benchmarks for speed of zorb-generated code"
    )


def test_names_tolerate_spelling_and_markup() -> None:
    p = passage(
        "H_2O: Heavy-Hitter Oracle for Efficient Inference",
        "We propose H_2O, an eviction policy. H_2O keeps heavy hitters. H_2O is fast.",
        1,
        0.5,
    )
    assert names(p, "H2O") and names_paper(p, "H2O")
    q = passage("TeaCache: Timestep Caching for Video", "We introduce TeaCache, a cache.", 2, 0.5)
    assert names(q, "Teacach") and not names(q, "FlashAttention")
    assert label(q) == "TeaCache"
    untitled = passage("A study of caching for diffusion transformers at scale now", "x", 3, 0.1)
    assert label(untitled).startswith("“A study of caching")


def orca_x() -> Passage:
    """An invented scheduling paper, the OrcaX side of the comparison tests."""
    return passage(
        "OrcaX: Iteration-Level Scheduling",
        "Serving systems batch requests badly. We present OrcaX, which schedules requests "
        "at the granularity of iterations. OrcaX is 36x faster than the baseline.",
        1,
        0.6,
    )


def _composer() -> Composer:
    return Composer(lambda _t: 1.0)


def _embed(texts: list[str]) -> list[list[float]]:
    """A stand-in for the sentence model where a test needs one and has no index: texts sharing
    more content words are closer (their words hashed into a small vector)."""
    import zlib

    from rag.core.text import content_tokens

    vectors = []
    for text in texts:
        v = [0.0] * 64
        for w in content_tokens(text):
            v[zlib.crc32(w.encode()) % 64] += 1.0
        vectors.append(v)
    return vectors


def test_a_topic_with_alternatives_is_covered_by_a_paper_on_either() -> None:
    from rag.answer.synthesis import covered, readings

    ways = readings("checkpointing or fault tolerance for LLM training")
    assert frozenset({"fault", "toler"}) in ways and frozenset({"checkpoint"}) in ways
    topic = "checkpointing or fault tolerance for LLM training"
    one = "We make checkpointing for LLM training fast."
    assert covered(_composer(), topic, one, ways) == 1.0
    assert covered(_composer(), topic, one, [frozenset()]) < 1.0
    assert readings("KV cache compression") == [frozenset()]


def test_a_parenthesised_list_of_examples_is_covered_by_a_paper_on_one_of_them() -> None:
    from rag.answer.answering import evidence_of
    from rag.answer.synthesis import covered, readings

    topic = "steering a model at test time (honesty, safety, toxicity)"
    ways = readings(topic)
    assert len(ways) == 3 and frozenset({"safeti", "toxic"}) in ways
    one = "We steer the model at test time towards honesty."
    assert covered(_composer(), topic, one, ways) == 1.0
    assert covered(_composer(), topic, one, [frozenset()]) < 1.0
    # the same for the off-topic signal, whichever example a passage is about
    p = passage("Zorb: steering at test time", "We steer a model at test time for safety.", 1, 0.5)
    assert evidence_of(topic, [p]).lexical == 1.0
    assert evidence_of("steering a model at test time for honesty", [p]).lexical < 1.0
    # a parenthesis of one item, or an aside, offers no alternatives
    assert readings("heads (e.g., heads over the whole input) to keep") == [frozenset()]
    assert readings("key-value (KV) caches") == [frozenset()]


def test_a_list_names_every_relevant_paper_and_only_those() -> None:
    ps = [
        passage(
            "CacheA: Feature Caching for Diffusion",
            "We propose CacheA, which reuses cached features across diffusion denoising steps.",
            1,
            0.62,
        ),
        passage(
            "CacheB: Reusing Denoising Features",
            "CacheB caches features of earlier denoising steps of diffusion models and reuses "
            "them.",
            2,
            0.58,
        ),
        passage(
            "Tokenizer Speedups for Text",
            "We make the byte-pair tokenizer of language models faster on CPUs.",
            3,
            0.12,
        ),
    ]
    q = analyse("Which papers reuse cached features across diffusion denoising steps?")
    lead = list_lead(_composer(), q, ps)
    assert lead is not None
    first, *lines = lead.text.splitlines()
    assert "CacheA [1]" in first and "CacheB [2]" in first and "Tokenizer" not in lead.text
    assert first.startswith("Two papers")
    assert len(lines) == 2 and all(line.startswith("- ") for line in lines)
    assert {p.number for p, _ in lead.parts} == {1, 2}
    # every line quotes its own passage
    assert all(s in p.text for p, s in lead.parts)


def test_a_paper_a_list_excludes_leaves_the_topic_to_the_question() -> None:
    """ "Which papers other than ZorbCache reuse features across denoising steps?": ZorbCache
    is left out, and the others answer the question's topic, not ZorbCache's title (a paper
    that only accelerates diffusion another way is no answer)."""
    ps = [
        passage(
            "ZorbCache: Accelerating Diffusion Models for Free",
            "We propose ZorbCache, which reuses cached features across diffusion denoising steps.",
            1,
            0.7,
        ),
        passage(
            "CacheB: Reusing Denoising Features",
            "CacheB caches features of earlier denoising steps and reuses them in later steps.",
            2,
            0.6,
        ),
        passage(
            "QuuxSolve: Accelerating Diffusion Models with Better Solvers",
            "We propose QuuxSolve, a faster ODE solver for sampling diffusion models in few steps.",
            3,
            0.6,
        ),
    ]
    q = analyse("Which papers other than ZorbCache reuse features across denoising steps?")
    lead = list_lead(_composer(), q, ps)
    assert lead is not None
    assert {p.number for p, _ in lead.parts} == {2}, lead.text


def test_a_comparison_answers_both_sides_from_their_own_papers() -> None:
    ps = [
        passage(
            "OrcaX: Iteration-Level Scheduling",
            "OrcaX schedules requests at the granularity of iterations. It is 36x faster.",
            1,
            0.6,
        ),
        passage(
            "A Survey Mentioning SarathiX",
            "Systems such as SarathiX and OrcaX are compared in this survey of serving.",
            2,
            0.5,
        ),
        passage(
            "SarathiX: Chunked Prefills",
            "SarathiX splits prefills into chunks and piggybacks decodes on them.",
            3,
            0.55,
        ),
    ]
    q = analyse("Compare OrcaX and SarathiX: how does each schedule requests?")
    composer = _composer()
    lead = comparison_lead(composer, q, ps)
    assert lead is not None
    cited = [p.number for p, _ in lead.parts]
    assert 1 in cited and 3 in cited and 2 not in cited  # the papers themselves, not the survey
    assert lead.text.index("[1]") < lead.text.index("[3]")  # in the order the question names them


def test_what_is_missing_reads_as_plain_words() -> None:
    assert plain_phrase("the number of parameters")
    assert plain_phrase("the prefill latency")
    assert not plain_phrase("which open dataset provides")
    assert not plain_phrase("the dataset provides")
    assert not plain_phrase("how long a 44.1kHz stereo clip and how long")
    assert not plain_phrase("the speed-up of")


def _questions(kind: str) -> list[str]:
    rows = []
    for name in ("dev.jsonl", "tune.jsonl"):  # the tune split only: test is never read here
        for line in (PROJECT_DIR / "eval" / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if kind == "all" or row["type"] == kind:
                rows.append(row["question"])
    return rows


def test_not_stated_never_pastes_a_question_fragment() -> None:
    """For every question of the tune split, what a "not stated" answer says is missing is a
    noun phrase a reader can take in, or the plain kind of fact."""
    for question in _questions("all"):
        what = what_is_missing(analyse(question))
        assert plain_phrase(what) or what.startswith(("the ", "what was asked")), (question, what)
        assert "?" not in what and not what.endswith((" of", " the", " and", " which")), what


def test_a_coined_adjective_is_no_name_for_the_paper() -> None:
    """ "this study proposes a ZRB-aware allocation": "ZRB-aware" describes the method; the
    paper has no short name and is called by its title."""
    p = passage(
        "Analysis of Zorb-Attached Memory for Fine-Tuning",
        "We study zorb memory for fine-tuning. This study proposes a ZRB-aware allocation to "
        "split offloaded work across local and zorb memory.",
        1,
        0.6,
    )
    assert label(p).startswith("“Analysis of Zorb-Attached Memory"), label(p)
    named = passage(
        "Quux Allocation for Zorb Memory",
        "We propose QuuxNet, a ZRB-aware allocator. QuuxNet is fast.",
        2,
        0.6,
    )
    assert label(named) == "QuuxNet", label(named)


def test_a_figure_given_before_the_paper_puts_its_work_forward_is_the_fields() -> None:
    """ "How many GPUs did ZorbScale train on?": "It requires 800 V100 GPUs just to fit …",
    said before "In this paper we present ZorbScale", is the state of the field; the paper's own
    figure ("… on 512 V100 GPUs") answers."""
    p = passage(
        "ZorbScale: Training Huge Models on Few GPUs",
        "Models grow faster than GPU memory. However, we are close to the memory wall. It "
        "requires 800 V100 GPUs just to fit a trillion parameter model for training. In this "
        "paper we present ZorbScale, which offloads to NVMe. ZorbScale sustains 25 petaflops on "
        "512 V100 GPUs for training.",
        1,
        0.7,
    )
    decided = _composer().decide(analyse("How many GPUs did ZorbScale train on?"), [p])
    assert decided.lead is not None and "512" in decided.lead.text, decided
    assert "800" not in decided.lead.text, decided.lead.text


def test_a_paper_is_called_by_its_name_never_by_a_figure() -> None:
    p = passage("Whisperlite: Small Speech Models", "It transcribes 44.1kHz audio fast.", 1, 0.5)
    q = analyse("How long a 44.1kHz clip can Whisperlite transcribe?")
    assert paper_called(p, q) == "Whisperlite"
    untitled = passage("fast speech recognition on phones", "We transcribe audio.", 1, 0.5)
    assert paper_called(untitled, analyse("How long a 44.1kHz clip can it take?")).startswith("“")


@pytest.mark.parametrize(
    ("sentence", "shown"),
    [
        ("To overcome this, we propose Foo, a cache policy.", "The authors propose Foo, a cache"),
        ("In light of these considerations, we introduce Bar.", "The authors introduce Bar."),
        ("Based on this insight, we design Baz.", "The authors design Baz."),
        ("Inspired by this, this work proposes Qux.", "This work proposes Qux."),
        ("With this design, the model runs fast.", "With this design, the model runs fast."),
        # a purpose that says what it addresses stays whole ("that" would open the sentence)
        (
            "To address the challenge that zorbs fail on 2D signals, we make three designs.",
            "To address the challenge that zorbs fail on 2D signals, the authors make",
        ),
        # the purpose goes on past its pointer: the whole clause goes, not its first half
        (
            "To overcome this bottleneck and leverage the full power of spikes, we propose Zorb.",
            "The authors propose Zorb.",
        ),
    ],
)
def test_a_lead_drops_a_clause_that_points_at_an_unseen_sentence(sentence: str, shown: str) -> None:
    from rag.answer.compose import readable

    assert readable(sentence).startswith(shown)


def test_a_paper_introduces_its_own_name_not_the_names_it_compares_with() -> None:
    from rag.answer.compose import introduces

    p = passage(
        "Inference without Interference: Disaggregated Serving",
        "We realize this idea in TetriInfer. We are 38% cheaper than vLLM and Orca.",
        1,
        0.5,
    )
    assert introduces(p, "TetriInfer", own_voice=True)
    assert names_paper(p, "TetriInfer", own_voice=True) and not names_paper(p, "TetriInfer")
    assert not introduces(p, "vLLM", own_voice=True)
    assert not names_paper(p, "Orca", own_voice=True)


def test_a_figure_measured_on_another_device_does_not_answer() -> None:
    p = passage(
        "DriveFast: Real-Time Planning",
        "DriveFast runs at a real-time speed of 45 FPS on an NVIDIA 4090.",
        1,
        0.6,
    )
    composer = _composer()
    on_orin = analyse("How fast does DriveFast run on an NVIDIA Jetson Orin board?")
    assert not composer.names_present(on_orin, p)
    assert composer.names_present(analyse("How fast does DriveFast run?"), p)


def test_a_slightly_misspelt_name_finds_the_paper_that_defines_it() -> None:
    from rag.answer.compose import short_name
    from rag.answer.synthesis import misspells_own_name

    p = passage(
        "Timestep Tells: Caching for Video Models",
        "We introduce Timestep Embedding Aware Cache (TeaCache), a training-free cache. "
        "TeaCache is 4.41x faster.",
        1,
        0.3,
    )
    assert misspells_own_name(p, "Teacach") and not misspells_own_name(p, "Roman")
    assert short_name(p) == "TeaCache"  # the title's slogan is not used by its abstract


def test_a_looping_restatement_is_recognised() -> None:
    from rag.answer.answering import repeats

    assert repeats(
        "The rate transfer can be attributed to the fact that under muP, the rate transfer can "
        "be attributed to the fact that under muP"
    )
    assert not repeats("SnapKV compresses the KV cache by selecting clustered positions.")


def test_a_longer_name_built_on_the_asked_one_is_another_method() -> None:
    from rag.answer.synthesis import extends, misspells_own_name

    assert extends("QLoRA", "QLoRAM") and extends("FlashAttention", "FlashAttention-2")
    assert not extends("Teacach", "TeaCache") and not extends("ZipCache", "ZipCache")
    p = passage(
        "Train Small, Infer Large: Memory-Efficient Low-Rank Training",
        "We propose LoRAM, a memory-efficient scheme. Its quantized variant (QLoRAM) trains "
        "a 70B model on one GPU.",
        1,
        0.4,
    )
    assert not names_paper(p, "QLoRA") and not misspells_own_name(p, "QLoRA")


def test_a_comparison_of_two_papers_not_here_is_not_answered_from_others() -> None:
    from rag.answer.synthesis import missing_sides

    ps = [
        passage(
            "OrcaX: Iteration-Level Scheduling",
            "OrcaX schedules requests at the granularity of iterations. It is 36x faster.",
            1,
            0.6,
        )
    ]
    q = analyse("Compare VelaQ and RondoZ: how does each schedule requests?")
    assert q.shape == "comparison"
    assert missing_sides(q, ps) == ["VelaQ", "RondoZ"]
    assert comparison_lead(_composer(), q, ps) is None
    q2 = analyse("Compare OrcaX and RondoZ: how does each schedule requests?")
    assert missing_sides(q2, ps) == ["RondoZ"]


def test_a_comparison_with_one_side_here_answers_it_and_says_the_other_is_not() -> None:
    ps = [orca_x()]
    q = analyse("How do OrcaX and RondoZ differ in how they schedule requests?")
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None
    assert "iterations" in lead.text and "[1]" in lead.text, lead.text
    assert lead.text.endswith(
        "No paper in the collection is about RondoZ: its side is not stated here."
    )
    # a side of several words reads as one thing, in quotes
    q = analyse('Compare "Get zorb papers in your inbox!" and OrcaX: what does each propose?')
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None and "[1]" in lead.text, lead
    assert lead.text.endswith("about “Get zorb papers in your inbox”: its side is not stated here.")
    # a device is not a side that is missing
    q = analyse("How do OrcaX and RondoZ differ on an A100?")
    assert "A100" not in (comparison_lead(_composer(), q, ps) or Lead("")).text


def test_a_factor_a_system_beats_another_by_is_how_much_faster_it_is() -> None:
    q = analyse("How much faster are the sparse ZorbNets than their dense versions on a Pixel 3?")
    beats = "On a Pixel 3 our sparse ZorbNets outperform their dense equivalents by 1.3-2.4times."
    assert states_attribute(q, beats)
    # a percentage it beats another by may be accuracy: not a speed
    accuracy = "Our sparse ZorbNets outperform dense ones by 2.1% on a Pixel 3."
    assert not states_attribute(q, accuracy)


def test_a_factor_over_another_baseline_is_not_how_much_faster_than_the_asked_one() -> None:
    q = analyse("How much faster does ZorbFormer run than QuuxFormer?")
    other = "Our fused MHA outperforms BlipTorch by 6.13x on an A100 GPU."
    assert not states_attribute(q, other)
    assert states_attribute(q, "ZorbFormer runs 2.1x faster than QuuxFormer on an A100 GPU.")


def test_an_unstated_ask_of_several_is_said_in_plain_words() -> None:
    zorb = passage(
        "ZorbKV: Selecting KV Positions",
        "We propose ZorbKV, which selects KV positions. ZorbKV processes 380K tokens on a single "
        "A100-80GB GPU.",
        1,
        0.7,
    )
    q = analyse("What GPU was ZorbKV measured on, and under which license is it released?")
    lead = _composer().decide(q, [zorb]).lead
    assert lead is not None and "A100" in lead.text, lead
    assert lead.text.endswith("The abstract does not give the license."), lead.text


def test_a_factor_far_from_the_asked_change_still_states_it() -> None:
    q = analyse("By how much does FooServe improve throughput over vLLM and TGI?")
    far = (
        "Our implementation of FooServe improves the throughput over three serving systems vLLM, "
        "TGI, and LightLLM by up to 4.1×, 3.2×, and 2× on OPT-13B."
    )
    assert states_attribute(q, far)
    # a percentage may measure something else: it is not taken for the asked change
    other = (
        "FooServe improves the throughput over three serving systems vLLM, TGI, and LightLLM in "
        "every setting tried on OPT-13B and Llama-2, while it also needs 40% less memory."
    )
    assert not states_attribute(q, other)


def test_a_list_line_says_what_the_paper_does_not_the_problem_it_starts_from() -> None:
    """A background sentence ("In recent years, …", "previous methods …") may hold more of the
    question's words than the sentence saying what the paper does; the line shows the latter,
    and a passage with nothing but background still gets its line."""
    ps = [
        passage(
            "Select and Pack for Vision",
            "In recent years, pruning tokens in vision transformers has driven large gains in "
            "efficiency. We propose SPX, which selects informative tokens with a gating layer.",
            1,
            0.6,
        ),
        passage(
            "Token Budgets",
            "Previous methods prune tokens in vision transformers with fixed ratios.",
            2,
            0.6,
        ),
    ]
    q = analyse("Which papers prune tokens in vision transformers?")
    lead = list_lead(_composer(), q, ps)
    assert lead is not None
    shown = dict((p.number, s) for p, s in lead.parts)
    assert shown[1].startswith("We propose SPX"), shown
    assert shown[2].startswith("Previous methods"), shown


def test_a_list_line_says_what_the_paper_contributes_not_how_it_was_tested() -> None:
    """Sentences about its experiments or its code hold the topic's words too ("We evaluated our
    spiking network on three spiking datasets"); the line says what the paper proposes."""
    ps = [
        passage(
            "Learning Delays in Spiking Networks",
            "We propose a discrete-time algorithm that learns delays in spiking networks. "
            "We evaluated our spiking network method on three spiking neural network datasets. "
            "Our spiking network code is available at https://github.com/zorb/snn.",
            1,
            0.6,
        ),
    ]
    lead = list_lead(_composer(), analyse("Which papers work on spiking neural networks?"), ps)
    assert lead is not None
    assert lead.parts[0][1].startswith("We propose a discrete-time algorithm"), lead.parts


def test_a_list_line_gives_its_papers_full_title() -> None:
    """The head line calls a paper by its short name ("ZorbCkpt"); its own line gives the whole
    title, which says what the paper is about in its authors' words ("Lazy Asynchronous
    Checkpointing"), and a title the short name does not open comes after that name."""
    ps = [
        passage(
            "ZorbCkpt: Lazy Asynchronous Checkpointing for Large Language Models",
            "We introduce ZorbCkpt, which copies checkpoint shards of language models to host "
            "memory while training goes on.",
            1,
            0.6,
        ),
        passage(
            "Reliable In-Memory Fault Tolerance of Language Model Pretraining",
            "We introduce Quillsave, which keeps checkpoint shards of language models in the "
            "memory of other nodes.",
            2,
            0.58,
        ),
    ]
    q = analyse("Which papers make checkpointing of language model training faster?")
    lead = list_lead(_composer(), q, ps)
    assert lead is not None
    first, *lines = lead.text.splitlines()
    assert "ZorbCkpt [1]" in first and "Lazy Asynchronous" not in first, first
    assert lines[0].startswith(
        "- ZorbCkpt: Lazy Asynchronous Checkpointing for Large Language Models [1]: "
    ), lines
    assert any(
        line.startswith("- ")
        and "“Reliable In-Memory Fault Tolerance of Language Model Pretraining”" in line
        and line.index("Reliable") < line.index("[2]")
        for line in lines
    ), lines


def test_a_title_that_does_without_a_name_is_not_about_it() -> None:
    from rag.answer.compose import titled

    assert not titled("ZorbAttention", "vZorb: Serving LLMs without ZorbAttention")
    assert not titled("Adam", "No More Adam: Scaling at Initialization")
    assert titled("ZorbAttention", "ZorbAttention: Fast Exact Attention")
    assert titled("ZorbAttention", "Beyond X: ZorbAttention for Long Inputs")
    assert titled("Zorb-Ulysses", "Zorb Ulysses: System Optimizations")  # as squash compares


def test_which_paper_introduced_a_name_is_only_the_paper_that_did() -> None:
    """Of a paper that discusses ZorbAttention at length (and is titled "… without
    ZorbAttention"), "which paper introduced ZorbAttention?" is not answered; of the paper that
    introduces it, it is."""
    about = passage(
        "vZorb: Serving LLMs without ZorbAttention",
        "ZorbAttention splits the KV cache into pages. However, ZorbAttention changes the "
        "layout of the cache. In contrast to ZorbAttention, vZorb keeps the cache contiguous.",
        1,
        0.7,
    )
    q = analyse("Which paper introduced ZorbAttention?")
    assert _composer().decide(q, [about]).lead is None
    own = passage(
        "Paged Caches for Serving",
        "We introduce ZorbAttention, which splits the KV cache of a served model into pages.",
        1,
        0.7,
    )
    decided = _composer().decide(q, [own])
    assert decided.lead is not None and decided.lead.parts[0][0] is own
    # a paper that says who introduced it answers with that sentence
    told = passage(
        about.title,
        "Inspired by virtual memory, the Qux system proposed ZorbAttention to page the cache. "
        + about.text,
        1,
        0.7,
    )
    said = _composer().decide(q, [told]).lead
    assert said is not None and said.text.startswith("Inspired by virtual memory, the Qux system")


def test_what_a_paper_observes_is_its_observation_not_its_headline_figure() -> None:
    p = passage(
        "ZorbKV: Compressing the Cache Before Generation",
        "This paper introduces ZorbKV, a fine-tuning-free cache compression. We discover that "
        "each attention head consistently focuses on a few prompt features during generation. "
        "ZorbKV achieves a 3.6x increase in generation speed on attention-heavy inputs.",
        1,
        0.7,
    )
    q = analyse("What does ZorbKV observe about attention heads during generation?")
    rare = Composer(lambda t: 6.0 if t.lower() == "zorbkv" else 1.0)  # a name is a rare word
    lead = rare.decide(q, [p]).lead
    assert lead is not None and "discover that each attention head" in lead.text, lead


def test_a_question_asking_for_papers_is_a_list_whatever_it_names() -> None:
    assert analyse("Which papers improve on ZorbNet-2's SSD offloading?").shape == "list"
    assert analyse("Which papers propose alternatives to ZorbAdamW?").shape == "list"
    assert analyse("Which draft model does ZorbNet-2 use?").shape == "single"


def _how_text(title: str, text: str, question: str) -> str:
    """The how answer to `question` from one passage."""
    from rag.answer.synthesis import how_lead

    lead = how_lead(_composer(), analyse(question), passage(title, text, 1, 0.7))
    assert lead is not None
    return lead.text


def test_how_a_method_works_from_a_paper_that_builds_on_it_quotes_only_that_method() -> None:
    text = _how_text(
        "IncreZorbRA: Incremental Parameter Allocation",
        "Many fine-tuning approaches have been proposed, among which ZorbRA injects trainable "
        "low-rank matrices into every module to reduce trainable parameters. We therefore "
        "propose IncreZorbRA, which adds trainable parameters to each module during training.",
        "How does ZorbRA reduce the number of trainable parameters?",
    )
    assert "injects trainable low-rank matrices" in text
    assert "IncreZorbRA, which adds" not in text, text


def test_how_a_method_works_is_not_how_it_was_tested() -> None:
    """A how answer gives the method, not its experiments' models and baselines; a step that
    itself "evaluates" something (what the method computes) is still the method."""
    text = _how_text(
        "ZorbGNN: Fast Out-of-Core Graph Training",
        "We build ZorbGNN, which avoids read amplification in out-of-core graph training. "
        "ZorbGNN is evaluated on 6 graphs with 3 models and shows consistent efficiency. "
        "The key technique used by ZorbGNN is offline sampling, which decouples sampling from "
        "model computation. "
        "ZorbGNN introduces retaining heads to evaluate the importance of node features. "
        "We compare ZorbGNN with QuuxGNN and BlipGNN, two state-of-the-art systems.",
        "How does ZorbGNN avoid read amplification in out-of-core graph training?",
    )
    assert "offline sampling" in text and "retaining heads" in text, text
    assert "evaluated on 6 graphs" not in text and "QuuxGNN" not in text, text


ZORBCACHE = passage(
    "ZorbCache: Accelerating Diffusion Models for Free",
    "We introduce ZorbCache, a training-free paradigm that accelerates diffusion models. Our "
    "experiments also demonstrate ZorbCache's superiority over pruning and distillation "
    "methods. It enables a speedup factor of 2.3x for Stable Diffusion v1.5 with only a 0.05 "
    "decline in CLIP Score.",
    1,
    0.7,
)


def test_how_a_paper_performs_in_a_setting_is_its_result_there_or_not_stated() -> None:
    q = analyse("How does ZorbCache perform on Stable Diffusion?")
    assert q.shape != "how"  # its results, not how it works
    lead = _composer().decide(q, [ZORBCACHE]).lead
    assert lead is not None and "2.3x for Stable Diffusion" in lead.text, lead
    other = analyse("How does ZorbCache perform on video generation?")
    decided = _composer().decide(other, [ZORBCACHE])
    assert decided.lead is None and decided.reason == "attribute"
    assert what_is_missing(other) == "results on video generation"


def test_what_is_the_license_needs_a_sentence_about_a_license() -> None:
    q = analyse("What is the license of the ZorbCache code?")
    assert _composer().decide(q, [ZORBCACHE]).lead is None
    # a preposition before the ask is part of it: still a license asked, not a model's name
    q = analyse("Under which license are the ZorbCache models released?")
    assert _composer().decide(q, [ZORBCACHE]).lead is None


def test_how_much_of_a_noun_ends_at_its_verb() -> None:
    q = analyse("How much compute goes to padding in ZorbSpeech training?")
    assert "comput" in q.attribute and not q.attribute & {"goe", "goes"}, q.attribute
    assert states_attribute(q, "More than 50% of the computation is spent on padding.")


def test_a_papers_name_typed_in_lower_case_names_it() -> None:
    from rag.answer.question import with_title_names

    titles = ["Sparse Zorbcycling: Inference Inefficient Finetuning", "Quux: A Long Title Here"]
    q = analyse("What is sparse zorbcycling and how does it compare with pretraining?")
    assert with_title_names(q, titles).names == ["Sparse Zorbcycling"]
    # after a preposition it is what the asked thing relates to, not the subject
    q = analyse("Which method is faster than sparse zorbcycling?")
    assert with_title_names(q, titles).names == []


def test_a_name_typed_in_lower_case_is_spelt_as_the_passages_spell_it() -> None:
    from rag.answer.question import recased

    texts = [
        "We present Zorbo, a detector. Unlike prior work, our Zorbo runs at 90 FPS, and "
        "the gains of Zorbo hold on COCO. Attention is costly; the attention maps are reused.",
        "The proposed solutions, collectively referred to as Quux-Shedder, prune blocks. "
        "We build QuuxGen on a Blorp Cube of experts, with Reward-Guided Speculative Decoding.",
    ]
    titles = ["Quux-Shedder: On Pruning Quux Models", "Zorbo: A Fast Detector"]
    fixed = recased("zorbo and quux-shedder both prune... what does quuxgen add?", texts, titles)
    assert fixed == "Zorbo and Quux-Shedder both prune... what does QuuxGen add?", fixed
    # written both ways in the passages, said once in title case, or part of a phrase in
    # title case: a word, not a name
    for typed in ("how is attention reused?", "what is a blorp cube?", "is reward-guided decoding"):
        assert recased(typed, texts, titles) == typed
    # a name as it should be read: "zorbo and quux-shedder both …" compares two papers
    assert analyse(fixed).shape == "comparison"
    assert analyse("zorbo and quux-shedder both prune... what does each add?").shape != (
        "comparison"
    )


def test_a_misspelt_word_is_spelt_as_the_passages_found_spell_it() -> None:
    from rag.answer.question import respelt

    texts = ["ZorbLLM needs only 3.1 GB of memory and uses 38% less resources."]
    df = {"memori": 40, "resourc": 12, "paper": 300, "zorbllm": 1}
    fixed = respelt("Which papers say how much memroy and resorces ZorbLLM needs?", texts, df)
    assert fixed == "Which papers say how much memory and resources ZorbLLM needs?", fixed
    # a word the collection uses, a stopword and a capitalised name stand as typed
    assert respelt("How much memori does Zorbllm need?", texts, df) == (
        "How much memori does Zorbllm need?"
    )
    assert respelt("how much memroy", texts, None) == "how much memroy"


def test_an_acronyms_spelled_out_form_is_not_another_subject() -> None:
    from rag.answer.question import names_in

    assert names_in("What speedup does ZEW (Zqueezed and Efficient Wav2vec) get over BERT-2?") == [
        "BERT-2"
    ]
    assert names_in("What speedup does Zqueezed and Efficient Wav2vec (ZEW) get?") == []
    # a bracket that is not the acronym's spelling stays
    assert "Wav2vec" in names_in("How does ZEW (built on Wav2vec) compress speech?")


def test_a_noun_phrase_asked_with_its_setting_asks_for_the_figure() -> None:
    """No question word, but a quantity and where it was measured: the figure is asked, and the
    measure may be written as part of a compound ("energy-efficiency")."""
    q = analyse("ZorbConv energy efficiency gain for MobileNet-V1 on the P100?")
    assert q.kind == "number" and "energi" in q.attribute
    said = "On P100 GPU, the energy-efficiency of MobileNet-V1 is increased by 10.8% by ZorbConv."
    assert states_attribute(q, said)
    assert not states_attribute(q, "On P100 GPU, the memory of MobileNet-V1 is cut by 10.8%.")


def test_a_count_spelled_out_in_a_compound_states_how_many() -> None:
    q = analyse("How many phases does ZorbAttention have?")
    assert states_attribute(q, "We introduce ZorbAttention, a two-phase sparse approximation.")
    assert not states_attribute(q, "In the first phase, the context is processed in parallel.")


def test_a_cpu_does_not_answer_a_question_asking_for_a_gpu() -> None:
    cpu = "To train GNNs on graphs that exceed CPU memory, systems store data on disk."
    assert not states_attribute(analyse("What GPU hardware was ZorbGNN evaluated on?"), cpu)
    assert states_attribute(analyse("What hardware was ZorbGNN evaluated on?"), cpu)


def test_an_abstracts_opening_before_the_authors_speak_is_background() -> None:
    """ "Caching every key and value state consumes substantial memory." opens the abstract
    before the authors speak: a comparison side quotes what the paper does instead."""
    from rag.answer.synthesis import how_lead

    p = passage(
        "ZorbHeads: Long-Context Inference with Retrieval Heads",
        "Caching every key and value state of every attention head consumes substantial "
        "memory. We introduce ZorbHeads, which keeps a full cache only for retrieval heads. "
        "Streaming heads keep a constant-length cache of recent tokens.",
        1,
        0.7,
    )
    q = analyse("How does ZorbHeads decide which key and value states to cache?")
    lead = how_lead(_composer(), q, p)
    assert lead is not None and "consumes substantial memory" not in lead.text, lead.text
    assert "keeps a full cache only for retrieval heads" in lead.text


def test_a_how_question_may_set_its_paper_first() -> None:
    q = analyse("In Zorb Attention, how are the tokens chosen for the cheaper steps?")
    assert q.shape == "how"
    assert analyse("In the paper, how much faster is ZorbNet-2?").shape != "how"


def test_a_question_writing_a_papers_title_head_names_that_paper() -> None:
    from rag.answer.answering import names_a_paper

    p = passage("Zorb Attention: Efficient Inference for Long Context", "We propose it.", 1, 0.3)
    assert names_a_paper(analyse("In Zorb Attention, how are tokens chosen?"), [p])
    assert not names_a_paper(analyse("How is zorb attention used in vision?"), [p])


def test_a_short_upper_case_name_a_paper_takes_as_its_own_names_that_paper() -> None:
    """ "ZORBA" is too short to count as a rare name, but the paper titled "ZORBA: …" or that
    proposes "a framework, named ZORBA" is the paper the question names."""
    from rag.answer.answering import names_a_paper

    titled = passage("ZORB: Overlap of Compute and Transfer", "We propose a strategy.", 1, 0.3)
    named = passage(
        "Combined Scheduling for Accelerators", "We propose a framework, named ZORBA.", 1, 0.3
    )
    assert names_a_paper(analyse("How much time does ZORB save?"), [titled])
    assert names_a_paper(analyse("How much traffic does ZORBA remove?"), [named])
    assert not names_a_paper(analyse("How much traffic does ZORBA remove?"), [titled])


def test_a_name_the_question_compares_against_need_not_be_a_paper() -> None:
    """ "How does ZORBNet compare with MobileBERT …": the ZORBNet paper answers, with the
    figures it reports against MobileBERT; no paper about MobileBERT is needed."""
    p = passage(
        "ZORBNet: A Lightweight On-device Intent Detector",
        "We present ZORBNet, a tiny intent detector. ZORBNet is 41x lighter and 30x faster than "
        "MobileBERT on a Galaxy S20 device.",
        1,
        0.6,
    )
    q = analyse("How does ZORBNet compare with MobileBERT in size and speed?")
    decision = _composer().decide(q, [p])
    assert decision.lead is not None and "41x" in decision.lead.text


def test_quoted_titles_are_the_sides_of_a_comparison() -> None:
    q = analyse(
        "What do 'Scaling Zorb Compute Wisely...' and 'Can Tiny Zorbs Beat Giants?' each "
        "conclude about small models?"
    )
    assert q.shape == "comparison"
    assert compared_names(q) == ["Scaling Zorb Compute Wisely", "Can Tiny Zorbs Beat Giants"]
    ps = [
        passage(
            "Scaling Zorb Compute Wisely can beat Scaling Parameters",
            "We find that small models with adaptive compute beat a model 14x larger.",
            1,
            0.6,
        ),
        passage(
            "Can Tiny Zorbs Beat Giants? Rethinking Compute",
            "We show that a 1B model can exceed a 405B model with the right strategy.",
            2,
            0.6,
        ),
    ]
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None and "[1]" in lead.text and "[2]" in lead.text, lead


def test_a_quoted_title_beside_a_name_is_a_comparison_and_a_possessive_is_no_quote() -> None:
    q = analyse("ZORB vs 'Repeat After Zorb': what do they say about fixed-state models' recall?")
    assert q.shape == "comparison" and compared_names(q) == ["ZORB", "Repeat After Zorb"]
    q = analyse("How do 'Zorb in a flash' and ZorbGen each run large models on small devices?")
    assert q.shape == "comparison" and set(compared_names(q)) == {"Zorb in a flash", "ZorbGen"}


def test_a_main_result_is_what_the_paper_proves_not_a_sentence_saying_results() -> None:
    """ "… report as its main result?": "results" in a demonstration sentence ("show that ZORP
    can test the results of analyses") must not outrank the proven claim."""
    p = passage(
        "Zorp Testing of Posterior Estimators",
        "In this paper, we introduce ZORP coverage testing for posterior estimators. We prove "
        "that our approach is necessary and sufficient to show that a posterior estimator is "
        "accurate. We demonstrate the method on synthetic examples, and show that it can test "
        "the results of posterior analyses in high-dimensional spaces.",
        1,
        0.7,
    )
    q = analyse(
        'What does the paper "Zorp Testing of Posterior Estimators" report as its main result?'
    )
    lead = _composer().decide(q, [p]).lead
    assert lead is not None and "prove" in lead.text, lead


def test_an_opening_it_is_the_paper_when_the_sentence_before_introduced_it() -> None:
    from rag.answer.compose import readable, readable_in

    p = passage(
        "ZorbServe: Serving Without Interference",
        "Mixed requests interfere. We present ZorbServe, a serving system. It splits prefill "
        "and decode onto separate instances. KV caches grow fast. It wastes memory.",
        1,
        0.5,
    )
    every = p.text.split(". ")
    shown = readable_in(p, every[2] + ".")
    assert shown == "ZorbServe splits prefill and decode onto separate instances.", shown
    # an "It" after another subject is left as it is
    assert readable_in(p, every[4]).startswith("It wastes memory")
    # "It is worth noting that …" points at nothing, whatever came before
    proposal = "We present ZorbServe, a serving system."
    assert readable("It is worth noting that it is cheap.", "ZorbServe", proposal).startswith(
        "It is worth noting"
    )
    assert readable("This method halves latency.", "ZorbServe", proposal).startswith("ZorbServe")


def test_a_missing_pair_of_attributes_is_named_whole() -> None:
    q = analyse("When ZorbNet was benchmarked, what prompt length and generation length were used?")
    assert what_is_missing(q) == "the prompt length and generation length"
    q = analyse("What learning rate and warmup schedule does ZorbNet use?")
    assert what_is_missing(q) == "the learning rate and warmup schedule"


def test_which_paper_proposes_a_thing_that_beats_named_baselines_is_described() -> None:
    """The names after "beats" are what the paper beats, not what it introduced: the paper
    that proposes the described thing answers."""
    own = passage(
        "ZorbFormer: A Padding-Free Transformer for Variable-Length Inputs",
        "We present ZorbFormer, a padding-free transformer for variable-length inputs. "
        "ZorbFormer surpasses QuuxTransformer and BlipTransformer by 87% and 55%.",
        1,
        0.7,
    )
    q = analyse(
        "Which paper proposes a padding-free transformer for variable-length inputs that beats "
        "QuuxTransformer and BlipTransformer?"
    )
    decided = _composer().decide(q, [own])
    assert decided.lead is not None and decided.lead.parts[0][0] is own, decided


def test_which_paper_introduced_a_name_of_common_words_is_its_titled_paper() -> None:
    """ "the QRT Matrix Engine": an acronym too short and words too common to be taken for a
    name by themselves; what follows "introduced" is the name all the same."""
    own = passage(
        "QRT Matrix Engine: Lookup Tables for Low-Bit Inference",
        "Low-bit models need mixed-precision products. We introduce QRT Matrix Engine, a "
        "hardware design for lookup-based products.",
        1,
        0.7,
    )
    other = passage(
        "Fast Convolutions on Matrix Engines",
        "We make long convolutions fast on matrix engines of modern accelerators.",
        2,
        0.6,
    )
    q = analyse("Which paper introduced the QRT Matrix Engine?")
    decided = _composer().decide(q, [own, other])
    assert decided.lead is not None and decided.lead.parts[0][0] is own, decided


def test_which_paper_introduced_a_described_thing_is_the_paper_that_fits() -> None:
    """ "Which paper introduces a zorb format where …": a thing described (its indefinite
    article says so), not a name to find in a title; the paper that fits it answers."""
    own = passage(
        "QRT Strings: A Robust Zorb Format",
        "Zorb formats often break. Every QRT string is a valid zorb, and QRT covers every zorb.",
        1,
        0.7,
    )
    q = analyse("Which paper introduces a zorb string format where every string is a valid zorb?")
    decided = _composer().decide(q, [own])
    assert decided.lead is not None and decided.lead.parts[0][0] is own, decided


def _zorbnet_papers() -> tuple[Passage, Passage]:
    own = passage(
        "ZorbNet: Linear-Time Sequence Modeling with Gated Quux Spaces",
        "Foundation models are almost universally based on the attention architecture. "
        "We fold these gated quux spaces into a simplified end-to-end network architecture "
        "without attention (ZorbNet). ZorbNet enjoys fast inference.",
        2,
        0.6,
    )
    other = passage(
        "ZorbNet-Shedder: Compressing Gated Quux Space Models",
        "Alternative architectures, such as gated quux space models, have been proposed. This "
        "paper explores the compression of ZorbNet and its hybrids.",
        1,
        0.7,
    )
    return own, other


def test_which_paper_introduced_a_name_said_with_its_kind_is_the_paper_titled_with_it() -> None:
    """ "the ZorbNet architecture": the kind said after a name ("architecture", "model") is no
    part of the name a title opens with; the line is the sentence in which the authors present
    it, not a background sentence sharing the word "architecture"."""
    own, other = _zorbnet_papers()
    for question in (
        "Which paper proposes the ZorbNet architecture?",
        "Which paper introduced the ZorbNet model?",
    ):
        decided = _composer().decide(analyse(question), [other, own])
        assert decided.lead is not None, (question, decided)
        (p, sentence), *_ = decided.lead.parts
        assert p is own and sentence.startswith("We fold"), (question, decided.lead)


def test_which_paper_introduced_a_thing_in_lower_case_words_is_described() -> None:
    """ "gated quux space models" in lower case words: a description, not a name to find in a
    title, so "not stated" is not the answer when a paper fits it."""
    own, other = _zorbnet_papers()
    q = analyse("Which paper introduces gated quux space models with the ZorbNet design?")
    decided = _composer().decide(q, [other, own])
    assert decided.lead is not None, decided
    # "the gated quux space layer" is one thing, as a name is: a paper that only uses it is not
    # the one that introduced it
    q = analyse("Who first proposed the gated quux space layer, and when?")
    assert _composer().decide(q, [other]).lead is None


def test_a_paper_called_by_its_title_head_in_lower_case_is_the_subject() -> None:
    """ "With zorb-time steering, how much did HonestQA honesty go up?": the question calls the
    paper by its title's head in lower case; HonestQA is where it measured, not another subject
    the paper would have to be about."""
    own = passage(
        "Zorb-Time Steering: Eliciting Honest Answers",
        "We introduce Zorb-Time Steering (ZTS), which shifts activations. It helps on the "
        "HonestQA benchmark. On a chat model, ZTS improves its honesty from 30.1% to 60.2%.",
        1,
        0.7,
    )
    q = analyse("With zorb-time steering, how much did the HonestQA honesty go up?")
    assert "HonestQA" in q.names
    decided = _composer().decide(q, [own])
    assert decided.lead is not None and "60.2%" in decided.lead.text, decided


def test_how_a_paper_performs_on_a_setting_is_asked_of_that_paper() -> None:
    """ "How does ZorbNet perform on QuuxSet?" when ZorbNet's paper reports no QuuxSet results
    and another retrieved paper reports its own: not stated (ZorbNet's COCO figure does not
    answer, and another paper's QuuxSet figure is not ZorbNet's)."""
    other = passage(
        "FemtoZ: A Detector Baseline",
        "We present FemtoZ. FemtoZ reaches 46.3 AP50 on QuuxSet with 68k parameters.",
        1,
        0.7,
    )
    own = passage(
        "ZorbNet, a Scalable Detector",
        "We introduce ZorbNet. ZorbNet-Small reaches 38.2% mAP on COCO with 4.5 GFLOPs.",
        2,
        0.6,
    )
    q = analyse("How does ZorbNet perform on QuuxSet?")
    decided = _composer().decide(q, [own, other])
    assert decided.lead is None and decided.reason == "attribute", decided
    assert decided.closest and decided.closest[0][0] is own


def test_how_much_of_an_unusual_quantity_asks_for_that_quantity() -> None:
    from rag.answer.question import asked_quantities

    # the noun after "how much" is the asked quantity, even when it is not a usual one; a name
    # with a digit inside ("Z2Q") is not a figure the question gives
    assert {"energi", "reduct"} <= asked_quantities("How much energy does Z2Q save per token?")
    assert "zorbkv" not in asked_quantities("How much does ZorbKV cut prefill latency?")
    q = analyse("How much energy does ZorbKV save per generated token?")
    latency = passage("ZorbKV: Fast Caches", "ZorbKV reduces the latency by up to 1.9x.", 1, 0.7)
    assert _composer().decide(q, [latency]).lead is None


def test_which_kind_does_a_one_word_paper_use_needs_that_kind_named() -> None:
    """ "Which optimizer does Zorbin use?" of Zorbin's own paper (a one-word name, no capital
    inside): a sentence naming other models does not answer; one naming an optimizer does."""
    # with the collection's statistics, a capitalised word few chunks use is a name
    q = analyse("Which optimizer does Zorbin use for pre-training?", {"zorbin": 1})
    assert q.names == ["Zorbin"]
    plain = passage(
        "Zorbin: Mixing Gated Recurrences",
        "We propose Zorbin, a recurrent model. Zorbin matches Llama-2 and beats Hawk on "
        "downstream tasks.",
        1,
        0.7,
    )
    assert _composer().decide(q, [plain]).lead is None
    told = passage(plain.title, plain.text + " We train Zorbin with the AdamZ optimizer.", 1, 0.7)
    decided = _composer().decide(q, [told])
    assert decided.lead is not None and "AdamZ" in decided.lead.text, decided


def test_a_list_of_papers_like_a_named_one_leaves_it_out_and_measures_against_it() -> None:
    """ "Which papers work on the same problem as 'X'?": X is the reference, not an answer,
    and the others are measured against what X is about, not the question's frame."""
    reference = passage(
        "Zorbic Speech Synthesis with Transformer Network",
        "We adapt the Transformer to text-to-speech synthesis with a neural vocoder.",
        1,
        0.8,
    )
    tts = passage(
        "QuillTTS: Fast Speech Synthesis",
        "We present QuillTTS, a speech synthesis model that generates audio in one step.",
        2,
        0.9,
    )
    other = passage(
        "Problem-Aware Caching for Transformer Serving",
        "We work on the same serving problem with a cache for the network.",
        3,
        0.6,
    )
    q = analyse(
        'Which papers work on the same problem as "Zorbic Speech Synthesis with Transformer '
        'Network"?'
    )
    lead = list_lead(_composer(), q, [reference, tts, other])
    assert lead is not None
    cited = [p.title for p, _ in lead.parts]
    assert cited == [tts.title], lead.text


def test_a_hyphenated_attribute_is_asked_whole() -> None:
    """ "end-to-end speedup": the "to" inside the word is not where the ask ends."""
    q = analyse("What end-to-end speedup does Zorblax reach on long videos?")
    assert q.attribute_phrase == "the end-to-end speedup"
    assert "speedup" in q.attribute
    assert not states_attribute(q, "Zorblax spends 600 PFLOPs on an 8-second 720p video.")
    assert states_attribute(q, "Zorblax gives a 1.8x end-to-end speedup on long videos.")


def test_a_name_after_a_decimal_figure_is_still_a_baseline() -> None:
    from rag.answer.compose import as_baseline

    s = "It improves FID by 24.5%, 39.0%, and 10.5% compared to PVX, Gaussora, and Deformo."
    assert as_baseline("Gaussora", s)
    assert as_baseline("Fluxar", "It runs 6.7x faster than the prior accelerator Fluxar.")
    # a full stop between the cue and the name ends the clause
    assert not as_baseline("Fluxar", "It beats the baselines. Fluxar then fuses operators.")


def test_which_kind_of_a_named_paper_needs_a_sentence_naming_one() -> None:
    """ "Which <kind> was <Paper> …?" is answered by a sentence that names an instance of the
    kind next to its noun, not by one that only mentions the kind."""
    q = analyse("Which three image classification datasets was QuillNet evaluated on?")
    vague = "Results on three popular image-classification datasets on a Raspberry Pi 4 show gains."
    named = "QuillNet is evaluated on the CIFAR-10, SVHN and Tiny-ImageNet datasets."
    assert not states_attribute(q, vague)
    assert states_attribute(q, named)
    board = analyse("Which FPGA board and clock frequency was QuillNet implemented on?")
    assert not states_attribute(board, "QuillNet is the first end-to-end FPGA accelerator for ViT.")
    assert states_attribute(board, "QuillNet runs on a Xilinx ZCU102 board at a 300 MHz frequency.")
    assert what_is_missing(board) == "the FPGA board and clock frequency"
    # an identify question (the paper is what is asked for) is not this shape
    ident = analyse("Which family of detectors was found by search and runs on EdgeTPUs?")
    from rag.answer.compose import asked_kind_nouns
    from rag.core.text import content_tokens

    assert asked_kind_nouns(ident) == set()
    assert asked_kind_nouns(board) == content_tokens("board frequency")


def test_a_comparison_side_says_what_it_does_and_what_it_reports() -> None:
    """Each side: its mechanism, and its headline figure when the asks brought none; an ask for
    results ("what does each report") is answered by the result sentence, not the mechanism."""
    orca = passage(
        "OrcaX: Iteration-Level Scheduling",
        "OrcaX schedules requests at the granularity of iterations instead of whole batches. "
        "The scheduler is written in two parts: 1) a selector and 2) a batcher. "
        "In experiments OrcaX achieves up to 36.9x higher throughput than FastServe.",
        1,
        0.6,
    )
    sarathi = passage(
        "SarathiX: Chunked Prefills",
        "SarathiX splits prefills into chunks and piggybacks decodes on them. "
        "Our evaluation shows SarathiX improves decode throughput by up to 10x.",
        2,
        0.55,
    )
    composer = _composer()
    how = analyse("OrcaX vs SarathiX: how does each schedule requests?")
    lead = comparison_lead(composer, how, [orca, sarathi])
    assert lead is not None and "36.9" in lead.text and "10x" in lead.text
    report = analyse("OrcaX vs SarathiX: how does each batch, and what does each report?")
    lead = comparison_lead(composer, report, [orca, sarathi])
    assert lead is not None and "36.9" in lead.text and "10x" in lead.text


def test_an_ask_for_the_mechanism_is_a_how_question() -> None:
    for text in (
        "What mechanism lets ZorbNet shrink its cache by 90%?",
        "What is the key idea of Quilt Sampling for faster diffusion?",
    ):
        q = analyse(text)
        assert (q.kind, q.shape) == ("describe", "how"), q


def test_how_it_works_is_told_through_its_named_parts() -> None:
    """Of two sentences equally close to the question, the one that names and defines a part of
    the method ("a Token Folding Unit (TFU)") says how it works."""
    from rag.answer.synthesis import Scored

    p = passage(
        "FoldViT: Folding Tokens",
        "FoldViT reduces tokens in vision transformers with little loss. "
        "FoldViT reduces tokens with a Token Folding Unit (TFU) that merges neighbours.",
        1,
        0.6,
    )
    picked = Scored(_composer(), "How does FoldViT reduce tokens?", p, None).mechanism(1)
    assert picked == [
        "FoldViT reduces tokens with a Token Folding Unit (TFU) that merges neighbours."
    ]


def test_a_name_written_with_tex_or_without_its_version_dot_is_found() -> None:
    """ "R2Net" names the paper titled "R$^{2}$Net: …"; "GPT-3.5-turbo" is the "GPT-35-turbo"
    an abstract printed (its "3.5" is part of a name, not a figure the passage must hold)."""
    from rag.answer.compose import mentions

    p = passage("R$^{2}$Net: Fast Residual Nets", "We train residual nets quickly.", 1, 0.5)
    assert mentions(p, "R2Net")
    agents = passage(
        "Agent Teams: Dynamic Collaboration",
        "AgentTeam improves accuracy by 13.0% over a single execution on GPT-35-turbo.",
        1,
        0.6,
    )
    q = analyse("What gains does AgentTeam show over a single GPT-3.5-turbo?")
    assert _composer().names_present(q, agents)


def test_a_quoted_title_does_not_decide_the_shape() -> None:
    """Words inside a quoted title ("Large-Scale", "Methods") are a name, not how the question
    asks: "How does the method of '…Large-Scale…' work?" is a how question."""
    q = analyse('How does the method of "Zeta-MH: Fast Sampling for Large-Scale Inference" work?')
    assert q.shape == "how"
    assert analyse('How does "Quick Methods for Sparse Nets" prune?').shape == "how"


def test_a_versus_inside_a_quoted_title_compares_nothing() -> None:
    """ "What does 'Zorb versus Quill for sparse decoding' conclude?" asks about one paper, whose
    title holds "versus"; the words before the quote are not a side."""
    q = analyse("What does 'Zorb versus Quill for sparse decoding' conclude?")
    assert q.shape == "single"
    assert q.names == []
    q = analyse('Which devices does "Zorb and Quill: Sparse Decoding Kernels" use?')
    assert q.shape == "single"
    # quoted titles on both sides of the question's own "versus" still compare
    q = analyse("'Zorb Kernels for Sparse Decoding' versus 'Quill Kernels for Dense Decoding'")
    assert q.shape == "comparison"


def test_a_concession_before_the_papers_own_clause_is_not_background() -> None:
    """ "While most existing samplers sacrifice accuracy, we provide …" says what the paper does;
    it is not the field's background."""
    from rag.answer.synthesis import Scored

    p = passage(
        "Zeta-MH: Fast Sampling",
        "In this paper, we study sampling for inference under privacy. "
        "While most existing private samplers sacrifice accuracy, we provide the first exact "
        "sampler using only a minibatch of data in most iterations.",
        1,
        0.6,
    )
    scored = Scored(_composer(), "How does Zeta-MH sample?", p, None)
    assert scored.sentences[1].startswith("While most existing private samplers")
    # the concession's sentence is the paper's own; the one framing the study is background
    assert list(scored._background_floor()) == [10.0, 0.0]


def test_the_sides_of_vs_are_names_whatever_their_words() -> None:
    """ "A vs B": the marker says both are sides, a title head in lower-case words too."""
    q = analyse("Quick brown cache vs ZorbNet: how do they fit models larger than memory?")
    assert q.shape == "comparison"
    assert compared_names(q) == ["Quick brown cache", "ZorbNet"]
    q = analyse("Halfway there versus Big Slow Decoder: what does each save?")
    assert compared_names(q) == ["Halfway there", "Big Slow Decoder"]
    # a side already named is not added twice, nor a lower-case topic
    assert compared_names(analyse("ZorbNet vs ZorbNet-2: what changed?")) == [
        "ZorbNet",
        "ZorbNet-2",
    ]
    assert analyse("Compare pruning vs distillation: which saves more?").names == []


def test_a_list_answers_its_later_ask_for_every_paper() -> None:
    """ "Which papers …, and what FID does each report?": the first ask chooses the papers, the
    second is answered on each paper's line, or said to be not stated there."""
    a = passage(
        "QuickGen: One-Step Image Generation",
        "We present QuickGen, a one-step text-to-image diffusion generator. "
        "The model is distilled from a teacher with a rectified flow. "
        "QuickGen reaches an FID of 9.4 on COCO in one step.",
        1,
        0.6,
    )
    b = passage(
        "SwiftDraw: Single-Step Diffusion",
        "SwiftDraw is a one-step text-to-image diffusion generator trained with consistency "
        "distillation. It runs on phones.",
        2,
        0.58,
    )
    q = analyse(
        "Which papers build one-step text-to-image diffusion generators, and what FID does "
        "each report?"
    )
    lead = list_lead(_composer(), q, [a, b], _embed)
    assert lead is not None
    first, *lines = lead.text.splitlines()
    assert first.startswith("Two papers") and "QuickGen [1]" in first and "SwiftDraw [2]" in first
    assert "9.4" in lines[0] and "not give" not in lines[0]
    assert "does not give the FID" in lines[1]
    assert all(s in p.text for p, s in lead.parts)


def test_how_fast_is_answered_by_a_frame_rate_or_a_latency() -> None:
    q = analyse("How fast is ZorbDet?")
    assert states_attribute(q, "ZorbDet runs at 108 FPS on a T4 GPU.")
    assert states_attribute(q, "ZorbDet cuts latency to 4.2 ms per image.")


def test_how_fast_is_answered_by_the_time_it_takes_not_by_a_name_in_capitals() -> None:
    q = analyse("How fast is ZorbGen?")
    assert states_attribute(q, "ZorbGen yields an FID of 13.1 in just 0.09 second on one GPU.")
    # "MS" of a dataset's name is no millisecond
    assert not states_attribute(q, "ZorbGen reaches an FID of 23.3 on MS COCO 2017-5k.")
    assert not states_attribute(
        analyse("What is the latency of ZorbGen?"), "An FID of 9 on MS COCO."
    )


def test_how_fast_asked_of_each_or_of_a_verbs_subject_reads_as_a_thing() -> None:
    from rag.answer.question import plain_ask

    assert plain_ask("how fast is each") == "the speed"
    assert plain_ask("how fast does the Zorb decoder run") == "the speed of the Zorb decoder"
    assert plain_ask("how big is ZorbSet") == "the size of ZorbSet"
    assert plain_ask("how big training set") == "the size of the training set"


def test_how_it_works_includes_its_steps() -> None:
    """Of two sentences equally close to the question, the one told as a step of the method
    ("Specifically, it partitions …") says how it works."""
    from rag.answer.synthesis import Scored

    p = passage(
        "ChunkServe: Serving with Chunks",
        "ChunkServe serves prompts to language models with less interference. "
        "Specifically, ChunkServe serves prompts in fixed-size chunks with less interference.",
        1,
        0.6,
    )
    picked = Scored(_composer(), "How does ChunkServe serve prompts?", p, None).mechanism(1)
    assert picked == [
        "Specifically, ChunkServe serves prompts in fixed-size chunks with less interference."
    ]


def test_a_name_the_paper_introduces_is_its_subject() -> None:
    """ "How many samples were used … in the Quokka study?" of the paper that introduces Quokka
    (its title does not say it): the sentence with the figure answers though it does not repeat
    the name."""
    p = passage(
        "Cheap Safety Retrofitting for Chat Models",
        "We introduce Quokka, a dataset of unsafe prompts. "
        "Trained models refuse 20% more attacks using small training efforts (2,000 samples).",
        1,
        0.6,
    )
    q = analyse("How many training samples were used for alignment in the Quokka study?")
    q.names = ["Quokka"]  # a rare word of the collection (analysed with its statistics)
    assert _composer().states(q, p)


def test_a_design_of_hardware_is_asked_by_its_name() -> None:
    """ "Which accelerator design …" asks for a design (the paper's name), not a device; a name
    inside the description ("the cascade of Zinsums") is not the subject of the ask."""
    q = analyse(
        "Which accelerator design uses the 'cascade of Zinsums' abstraction to map attention "
        "onto a spatial array?"
    )
    assert q.kind == "name"
    assert analyse("Which accelerator does ZorbNet run on?").kind == "hardware"
    p = passage(
        "ZorbMax: Leveraging Extended Zinsums for Attention",
        "The main idea is to use the cascade of Zinsums to describe attention. "
        "We propose ZorbMax, a mapping of attention onto a spatial array.",
        1,
        0.6,
    )
    q.names = ["Zinsums"]
    assert _composer().states(q, p)


def test_a_score_is_reported_as_an_average_or_an_accuracy() -> None:
    q = analyse("What score does it reach on Long Range Arena?")
    assert states_attribute(q, "The diagonal model is simple, averaging 85% on Long Range Arena.")
    assert not states_attribute(q, "It is trained with 512 GPUs, on Long Range Arena.")


def test_how_it_works_is_not_what_it_won() -> None:
    """ "How does X speed up …?": the sentence saying how (it caches features) before the one
    reporting the speedup it measured, though the latter shares the question's words."""
    from rag.answer.synthesis import Scored

    p = passage(
        "QuickCache: Faster Diffusion",
        "QuickCache speeds up diffusion models with a speedup of 2.3x on Stable Diffusion. "
        "QuickCache speeds up diffusion models, keeping high-level features across steps.",
        1,
        0.6,
    )
    picked = Scored(_composer(), "How does QuickCache speed up diffusion models?", p, None)
    assert picked.mechanism(1) == [
        "QuickCache speeds up diffusion models, keeping high-level features across steps."
    ]


def test_a_method_as_the_subject_speaks_for_the_paper_and_a_finding_is_not_how() -> None:
    """ "ZorbPress employs sparsification …" is the paper saying what it does, as "we use …"
    is; "we show that ZorbPress improves with scale" is a finding, not how it works."""
    from rag.answer.synthesis import Scored

    p = passage(
        "ZorbPress: Compressing Adapters",
        "Moreover, we show that ZorbPress compresses adapters well as models grow. "
        "ZorbPress compresses adapters with sparsification and ternary quantization.",
        1,
        0.6,
    )
    picked = Scored(_composer(), "How does ZorbPress compress adapters?", p, None).mechanism(1)
    assert picked == ["ZorbPress compresses adapters with sparsification and ternary quantization."]


def test_what_no_listed_paper_gives_is_said_once() -> None:
    """ "…, and which CPU does each use?" when no listed abstract names one: the head line says
    so once, not every line."""
    a = passage(
        "CpuFast: LLM Inference on CPUs",
        "We make large language model inference fast on CPUs with a custom runtime.",
        1,
        0.6,
    )
    b = passage(
        "CpuQuick: Quantized LLMs on CPUs",
        "We make large language model inference fast on CPUs with quantization.",
        2,
        0.58,
    )
    q = analyse("Which papers make LLM inference fast on CPUs, and which CPU does each use?")
    lead = list_lead(_composer(), q, [a, b], _embed)
    assert lead is not None
    first, *lines = lead.text.splitlines()
    assert "None of their abstracts gives" in first
    assert not any("does not give" in line for line in lines)


def test_a_pair_connector_is_a_word_not_the_end_of_one() -> None:
    """ "… on GPU Tensor Cores" and "…": the "or" inside "Tensor" is not a connector, so no
    fragment ("GPU Tens") becomes a compared side beside the two quoted titles."""
    q = analyse(
        'Compare "Fast Arbitrary Precision Kernels on GPU Tensor Cores" and "Multiplane '
        'Radiance Fields for Image Synthesis": what does each propose and report?'
    )
    assert q.shape == "comparison"
    assert compared_names(q) == [
        "Fast Arbitrary Precision Kernels on GPU Tensor Cores",
        "Multiplane Radiance Fields for Image Synthesis",
    ]


def test_a_sentence_that_restates_the_question_loses_to_one_that_answers_it() -> None:
    """Of two sentences that share the question's words alike, the one that adds to them (the
    scheduler and what it swaps) answers; "Quorbit runs large models on small devices." only
    says the question back."""
    from rag.answer.synthesis import Scored

    p = passage(
        "Quorbit: Serving Large Models on Small Devices",
        "Quorbit runs large models on small devices. "
        "Quorbit runs large models; its sliding window scheduler swaps layer weights from disk "
        "during decoding.",
        1,
        0.6,
    )
    rare = Composer(lambda _t: 4.0)
    picked = Scored(rare, "How does Quorbit run large models on small devices?", p, None)
    assert picked.mechanism(1)[0].startswith("Quorbit runs large models; its sliding window")


def test_the_method_as_subject_after_a_lead_phrase_is_the_papers_voice() -> None:
    """ "Based on this insight, Zelkor proposes …" is the paper saying what it does, as
    "Zelkor proposes …" is; a sentence about prior methods is not."""
    from rag.answer.synthesis import Scored

    p = passage(
        "Zelkor: Online Sparse Attention",
        "Prior sparse attention methods search patterns offline for every video. "
        "Based on this insight, Zelkor proposes an online profiling strategy for sparse patterns.",
        1,
        0.6,
    )
    scored = Scored(_composer(), "How does Zelkor find sparse attention patterns?", p, None)
    assert scored._own(scored.sentences[1]) and not scored._own(scored.sentences[0])


def test_a_result_is_reported_with_any_result_verb() -> None:
    """ "matches … on 6 times fewer tokens", "compressing the cache by 4.98×": measured results,
    as "achieves 2x" is; a figure in a design sentence is not."""
    from rag.answer.synthesis import _reports_result

    assert _reports_result("Varnet matches the quality of Llama-2 with over 6 times fewer tokens.")
    assert _reports_result("Varnet is capable of compressing the KV cache by 4.98x on GSM8k.")
    assert not _reports_result("Varnet splits each layer into 16 groups of heads.")


def test_a_side_the_abstract_keeps_as_its_subject_is_that_paper() -> None:
    """ "we propose Sparsely-Zorbed (Z2) Attention … Z2-Attention enforces each head …": the
    paper is Z2-Attention's, though it introduced the name in another spelling; a paper that
    only beats Z2-Attention is not."""
    from rag.answer.synthesis import names_paper

    own = passage(
        "Heterogeneous Context Sharding among Heads",
        "We propose Sparsely-Zorbed (Z2) Attention, an attention algorithm. Z2-Attention "
        "enforces each head to attend to one partition of the context. LLMs trained with "
        "Z2-Attention keep their quality.",
        1,
        0.6,
    )
    other = passage(
        "Quorb: Faster Sharded Attention",
        "We present Quorb. Quorb is 2x faster than Z2-Attention. It also beats Z2-Attention.",
        2,
        0.6,
    )
    assert names_paper(own, "Z2-Attention", own_voice=True)
    assert not names_paper(other, "Z2-Attention", own_voice=True)


def test_which_parameters_asks_which_ones_and_an_adjective_is_no_quantity() -> None:
    assert analyse("Which parameters does ZorbFit tune?").kind == "describe"
    assert analyse("How many parameters does ZorbFit tune?").kind == "number"
    q = analyse(
        "ZorbFit vs Quorb: what does each change to make parameter-efficient tuning cheaper?"
    )
    assert q.kind == "describe"


def test_a_how_answer_skips_the_framing_and_the_code_link_and_takes_the_key_idea() -> None:
    """ "In this paper, we focus on …" frames the problem and "Code is available at …" is an
    aside: neither says how; "The key idea is …" does, in so many words."""
    from rag.answer.synthesis import Scored

    p = passage(
        "Zorbyou: Fine-tuning Huge Models on One Cheap GPU",
        "In this paper, we focus on fine-tuning huge models on one cheap GPU in a server. "
        "We present Zorbyou, a framework for fine-tuning huge models on one cheap GPU. "
        "The key idea is to schedule SSD-CPU transfers together with computation. "
        "Code is available at https://example.org/zorbyou for fine-tuning huge models.",
        1,
        0.6,
    )
    picked = Scored(
        _composer(), "How does Zorbyou fine-tune huge models on one cheap GPU?", p, None
    ).mechanism(2)
    assert picked == [
        "We present Zorbyou, a framework for fine-tuning huge models on one cheap GPU.",
        "The key idea is to schedule SSD-CPU transfers together with computation.",
    ]


def test_a_paper_is_called_by_the_name_its_abstract_coins_and_uses() -> None:
    """No name in the title: the paper is called by what its abstract coins in its own voice,
    the acronym defined after a long description ("… method for SNNs (ZIR-SNN)") or, of several
    coinages, the one it keeps using ("E-3DZNN achieves …"), not a component's."""
    from rag.answer.compose import short_name

    long_definition = passage(
        "One Timestep is All You Need for Spiking Networks",
        "We propose an Iterative Initialization and Retraining method for SNNs (ZIR-SNN) to infer "
        "in one step. ZIR-SNNs reach 93% accuracy.",
        1,
        0.6,
    )
    assert short_name(long_definition) == "ZIR-SNN"
    several = passage(
        "Efficient 3D Recognition with Event-driven Spike Convolution",
        "We first introduce the Spike Voxel Coding (SVZ) scheme. Combining it, we design an "
        "efficient 3D SNN backbone (E-3DZNN). E-3DZNN achieves state-of-the-art results and "
        "E-3DZNN is fast.",
        1,
        0.6,
    )
    assert short_name(several) == "E-3DZNN"


@pytest.mark.parametrize(
    "question",
    [
        "How does ZORB-2 differ from the original ZORB for music generation?",
        "What changed from ZorbFormer to ZorbFormer-2?",
        "How does ZeBRA-Infinity extend the original ZeBRA?",
        "Zorbnet or Quillnet — what design ideas distinguish these models?",
    ],
)
def test_a_newer_version_set_against_its_original_is_a_comparison(question: str) -> None:
    """ "differ from the original X", "changed from X to Y", "extend the original X",
    "what distinguishes …": two sides, however the question words it; an acronym that a name of
    the question versions ("ZORB" of "ZORB-2") is the earlier version's name, common or not."""
    q = analyse(question, {"zorb": 100, "quillnet": 2, "zorbnet": 2})
    assert q.shape == "comparison"
    assert len(compared_names(q)) == 2


def test_compared_with_is_not_a_name() -> None:
    q = analyse("Compared with QUILL-E, how many fewer parameters does ZorbLM use?")
    assert "Compared" not in q.names
    assert {"QUILL-E", "ZorbLM"} <= set(q.names)


def test_a_comparison_asking_for_the_problem_gives_each_sides_problem() -> None:
    """ "What problem does each target?": each side states the problem its paper takes on (a
    sentence the mechanism ranks as background), then what it does; each side opens with its
    paper's name."""
    ps = [
        passage(
            "Zorbopt: Adaptive Momentum",
            "Different networks need different optimizers, which makes training inefficient. "
            "Zorbopt reformulates Nesterov momentum to avoid an extra gradient computation.",
            1,
            0.6,
        ),
        passage(
            "Quillopt: Slowing Down the Slowdown",
            "Momentum optimizers shrink the effective step sizes of scale-invariant weights. "
            "We propose Quillopt, which removes the radial component at each optimizer step.",
            2,
            0.55,
        ),
    ]
    q = analyse("Zorbopt vs Quillopt: what problem does each optimizer target?")
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None
    first, second = lead.text.split(" [1]. ")
    assert first.startswith("Zorbopt: Different networks need different optimizers")
    assert second.startswith("Quillopt: Momentum optimizers shrink the effective step sizes")
    assert "removes the radial component" in second


def test_the_papers_name_does_not_choose_among_its_own_sentences() -> None:
    """Asked of ZorbNet's own abstract, "What does ZorbNet use as its draft model?" is answered
    by the sentence about the draft model, not by each sentence that repeats "ZorbNet"."""
    p = passage(
        "ZorbNet: Lossless Long-Sequence Decoding",
        "We introduce ZorbNet, a hierarchical decoding system. "
        "This approach uses its own weights with a sparse cache as a draft model. "
        "ZorbNet reaches a 2.3x speedup on one GPU. "
        "ZorbNet is robust across temperatures.",
        1,
        0.6,
    )
    composer = _composer()
    q = analyse("What does ZorbNet use as its draft model?")
    assert "as a draft model" in composer.sentences(q, p)[0].sentence
    # "which draft model": what the sentence takes "as a draft model" answers, named or not
    q = analyse("Which draft model does ZorbNet use?")
    assert composer.states(q, p)
    assert not composer.states(analyse("Which tokenizer model does ZorbNet use?"), p)


def test_a_papers_short_name_in_a_question_names_that_paper() -> None:
    """ "Zorba's selective scans": a common word, but the short name of a retrieved paper."""
    from rag.answer.answering import names_a_paper

    ps = [passage("Zorba: Linear-Time Sequence Modeling", "We propose Zorba, a model.", 1, 0.4)]
    assert names_a_paper(analyse("What is the key idea behind Zorba's selective scans?"), ps)
    assert not names_a_paper(analyse("What is the key idea behind selective scans?"), ps)


def test_what_techniques_a_paper_uses_is_a_how_question() -> None:
    q = analyse("What techniques does ZorbNet use to run models larger than memory?")
    assert (q.shape, q.kind) == ("how", "describe")
    # a singular head with its verb ("which paper studies …") asks for one paper, not a list
    assert analyse("Which paper studies sparse finetuning with a distillation loss?").shape != (
        "list"
    )
    assert analyse("Which papers study sparse finetuning with a distillation loss?").shape == (
        "list"
    )


def test_a_why_question_leads_with_what_the_paper_found() -> None:
    """ "Why can ZorbDiff skip the encoder at some steps?": the observation that explains it
    comes before a result; a how question keeps preferring the mechanism over findings."""
    from rag.answer.synthesis import Scored

    p = passage(
        "ZorbDiff: Faster Sampling",
        "We find that encoder features change gently across steps. "
        "We therefore reuse encoder features and skip the encoder at some steps. "
        "Experiments show a 41% faster sampling of the model with the encoder skipped.",
        1,
        0.6,
    )
    topic = "encoder features"
    why = Scored(_composer(), topic, p, None).mechanism(1, reason=True)
    how = Scored(_composer(), topic, p, None).mechanism(1)
    assert why[0].startswith("We find that encoder features change gently")
    assert how[0].startswith("We therefore reuse encoder features")


def test_a_turn_that_says_it_changes_subject_stands_alone() -> None:
    history = [("What speedup does ZorbNet reach on CPUs?", "ZorbNet reaches 3x [1].")]
    assert not refers_back(
        "On a different note, which paper studies distillation, and what is it called?", history
    )
    assert not refers_back("Switching topics: what does it eliminate?", history)
    assert not refers_back("Unrelated question: is there a benchmark for them?", history)
    # "that loss" points at "a distillation loss" in the same turn, not into the conversation
    turn = "Which work fine-tunes sparse models with a distillation loss and what is that loss?"
    assert not refers_back(turn, history)
    assert refers_back("What is that loss called?", history)


def test_a_qualifier_built_on_a_name_is_not_a_name() -> None:
    """ "LoRA-style fine-tuning", "GPT-like models": the kind of thing, not a subject to find."""
    from rag.answer.question import names_in

    question = "Which benchmark covers ZorbNet with LoRA-style tuning of GPT-like, NMS-free models?"
    assert names_in(question) == ["ZorbNet"]


def test_an_acronym_names_the_paper_whose_title_spells_it() -> None:
    """ "QLR vs ZorbNet": the QLR side is "Quick Linear Recurrences …", whose title spells QLR,
    not a paper that only says it was "inspired by Quick Linear Recurrences (QLR)"."""
    ps = [
        passage(
            "Gated Slot Memory for Fast Models",
            "We introduce Gated Slot Memory (GSM), inspired by Quick Linear Recurrences (QLR). "
            "We use a QLR layer inside each GSM block.",
            1,
            0.6,
        ),
        passage(
            "ZorbNet: Mixing Recurrences with Attention",
            "We propose ZorbNet, which mixes gated recurrences with local attention.",
            2,
            0.55,
        ),
        passage(
            "Quick Linear Recurrences with Hardware-Efficient Training",
            "Linear attention trains in parallel. Quick linear recurrences (QLR) add a "
            "data-dependent gate and train with tensor cores.",
            3,
            0.5,
        ),
    ]
    q = analyse("QLR versus ZorbNet: how do they mix recurrence and attention?")
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None
    assert {p.number for p, _ in lead.parts} == {2, 3}


def test_a_lead_with_nothing_stated_is_a_not_stated_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """When every ask of the question goes unstated in the chosen paper, the composed lead is
    empty; the decision is then "not stated", never an empty answer."""
    p = passage(
        "FlashZorb: Fast Convolutions",
        "We present FlashZorb, which runs long convolutions on tensor cores.",
        1,
        0.6,
    )
    composer = _composer()
    monkeypatch.setattr(Composer, "lead", lambda self, q, chosen: Lead("", []))
    decision = composer.decide(analyse("What does FlashZorb run long convolutions on?"), [p])
    assert decision.lead is None and decision.reason == "attribute"


def test_a_factor_of_a_comparison_is_not_the_asked_quantity() -> None:
    """ "What maximum sequence length …?" is not answered by "4X longer sequence length than the
    baseline": a factor, not a length; "how much longer …" is."""
    q = analyse("What maximum sequence length did ZorbSpeed train with?")
    relative = "ZorbSpeed trains 2.5X faster with 4X longer sequence length than the baseline."
    assert not states_attribute(q, relative)
    assert states_attribute(q, "ZorbSpeed trains with a sequence length of 512K tokens.")
    longer = analyse("How much longer sequences does ZorbSpeed train with?")
    assert states_attribute(longer, relative)


def test_a_side_only_mentioned_in_passing_is_not_stated_when_both_sides_are_asked() -> None:
    ps = [
        orca_x(),
        passage(
            "DenseOrca: Dense Hidden Connections",
            "Dense hidden connections apply to schedulers like OrcaX and RondoZ. DenseRondoZ "
            "beats the original RondoZ by 5% in accuracy.",
            2,
            0.5,
        ),
    ]
    q = analyse("Compare OrcaX and RondoZ: how does each schedule requests?")
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None
    assert "[1]" in lead.text and "[2]" not in lead.text, lead.text
    assert lead.text.endswith(
        "No paper in the collection is about RondoZ: its side is not stated here."
    )
    # a baseline the question does not ask as a side stays a single-fact question
    q = analyse("How much faster is OrcaX compared with RondoZ?")
    assert comparison_lead(_composer(), q, ps) is None


def test_a_common_word_that_titles_a_paper_names_it() -> None:
    from rag.answer.question import title_words, titles_by, with_title_names

    q = analyse("How does Zorb avoid quadratic attention cost on a GPU?")
    assert "Zorb" in title_words(q) and "How" not in title_words(q)
    assert titles_by("Zorb: Linear-Time Sequence Modeling", "Zorb")
    assert not titles_by("Zorb4Rec: Zorb for Recommendation", "Zorb")
    assert not titles_by("Zorb-Shedder: Compressing Zorb", "Zorb")
    named = with_title_names(q, ["Zorb4Rec: Zorb for Recommendation", "Zorb: Linear-Time …"])
    assert "Zorb" in named.names
    assert with_title_names(q, ["Zorb4Rec: Zorb for Recommendation"]).names == q.names
    # a question that names its subject, or a list across papers, keeps its own subjects
    assert title_words(analyse("How does DeltaQ change Zorb training?")) == []
    assert title_words(analyse("Which papers build vision backbones on Zorb?")) == []
    assert title_words(analyse("Which lightweight backbones are built on Zorb?")) == []
    assert title_words(analyse("What is the key idea of Zorb?")) == ["Zorb"]


@pytest.mark.parametrize(
    ("question", "shape", "names"),
    [
        # two names as the subject of a plural verb: each is asked
        ("How do OrcaX and RondoZ reduce video tokens?", "comparison", ["OrcaX", "RondoZ"]),
        # a clause before "versus" is not a side; its name next to "versus" is
        ("Which features get reused in OrcaX versus Rondo Zed?", "comparison", None),
        # "summarise how" asks how, not for a list
        ("Summarise how ZQM compresses the KV cache.", "how", None),
        # list requests without "which papers"
        ("Give me papers on checkpointing for large model training.", "list", None),
        ("Give me lightweight vision backbones.", "list", None),
        ("Papers that quantize diffusion models?", "list", None),
        ("Give me the key idea of OrcaX.", "how", None),
        # a body of work asked for, however the request opens; one thing asked for is no list
        ("Any papers on running language models on CPUs?", "list", None),
        ("Any work on vector similarity search efficiency?", "list", None),
        ("Is there work on making checkpointing cheaper?", "list", None),
        ("Is there anything on shrinking splatting scenes?", "list", None),
        ("Are there methods that prune diffusion models?", "list", None),
        ("I'm looking for benchmarks or methods about code efficiency.", "list", None),
        ("Tell me about lightweight vision backbones based on state space models.", "list", None),
        ("Which object detectors are designed for microcontrollers?", "list", None),
        ("Which lightweight backbones are built on state space models?", "list", None),
        ("What work is there on quantizing diffusion models?", "list", None),
        ("Which layers are pruned in OrcaX?", "single", None),
        ("Is there a paper that caches denoiser features?", "single", None),
        ("I'm looking for the work that uses synthetic data to find heads.", "single", None),
        ("Tell me about OrcaX.", "single", None),
        # one of two asked for: each side is answered
        ("OrcaX or RondoZ, which reports the larger speedup?", "comparison", ["OrcaX", "RondoZ"]),
        ("Which is faster, OrcaX or RondoZ?", "comparison", ["OrcaX", "RondoZ"]),
        ("Which GPU, A100 or H100, did OrcaX use?", "single", None),
        # a closing "compared with Y" of one subject's figure names its baseline, not a side
        (
            "What TFLOPS does OrcaX reach on a 13B GPT-3 model, compared with RondoZ?",
            "single",
            None,
        ),
        ("What speedups do OrcaX and RondoZ report, compared with each other?", "comparison", None),
        # a dash ends a side as a colon does
        ("OrcaX vs RondoZ - both drop blocks; why?", "comparison", ["OrcaX", "RondoZ"]),
        ("OrcaX vs RondoZ — both drop blocks; why?", "comparison", ["OrcaX", "RondoZ"]),
        # a polite or indirect "how"
        ("Can you explain how OrcaX gets speedups?", "how", None),
        ("Tell me how OrcaX works.", "how", None),
    ],
)
def test_the_shape_follows_how_the_question_asks(
    question: str, shape: str, names: list[str] | None
) -> None:
    q = analyse(question)
    assert q.shape == shape, q
    if names is not None:
        assert q.names == names
    if "versus" in question:
        assert q.names == ["OrcaX", "Rondo Zed"], q


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        # "what's" is "what is", not a possessive: the asked thing is "the paper"
        ("what's the paper that copies repeated chat spans?", "name"),
        ("What's OrcaX's compression ratio?", "number"),
        # a phone is a device asked for, as a GPU is; a paper that uses one is not
        ("Which specific smartphone models was OrcaX benchmarked on?", "hardware"),
        ("Which paper runs OrcaX on phones?", "name"),
        # energy is a quantity asked for ("in joules")
        ("What is the energy per generated token for OrcaX clusters in joules?", "number"),
    ],
)
def test_the_kind_of_fact_asked_for(question: str, kind: str) -> None:
    assert analyse(question).kind == kind


def test_topic_of_drops_a_requests_opening() -> None:
    assert topic_of("Any papers on making checkpointing cheaper?") == "making checkpointing cheaper"
    assert topic_of("Is there work on vector search?") == "vector search"
    assert topic_of("I'm looking for papers about sparse attention.") == "sparse attention"


def test_a_noun_phrase_question_asks_what_a_what_is_question_would() -> None:
    q = analyse("OrcaX compression ratio?")
    assert q.kind == "number" and q.text == "OrcaX compression ratio?"
    assert analyse("And the memory?").kind == "describe"  # a follow-up's ellipsis stays one


def test_a_turn_that_names_a_new_subject_before_its_pronoun_stands_alone() -> None:
    history = [("What does OrcaX do?", "OrcaX merges tokens.")]
    assert not refers_back("What about RondoZ - how does it cut visual tokens?", history)
    assert refers_back("What about RondoZ?", history)  # what is asked comes from before
    assert refers_back("How does it compare with RondoZ?", history)


def test_a_figure_asked_in_a_named_setting_is_not_another_settings_figure() -> None:
    p = passage(
        "OrcaCache: Accelerating Diffusion Models for Free",
        "We propose OrcaCache. It enables a speedup factor of 2.3x for Stable Diffusion v1.5 "
        "and 4.1x for LDM-4-G.",
        1,
        0.6,
    )
    composer = _composer()
    q = analyse("What speedup does OrcaCache report on Stable Diffusion XL?")
    decision = composer.decide(q, [p])
    assert decision.lead is None and decision.reason == "attribute"
    q = analyse("What speedup does OrcaCache report on Stable Diffusion?")
    assert composer.decide(q, [p]).lead is not None
    q = analyse("What speedup does OrcaCache report with a Swin backbone?")
    assert composer.decide(q, [p]).reason == "attribute"
    # a sized model of the paper itself ("for OrcaCache-7B") is its subject, not a setting
    from rag.answer.compose import _mentions_all

    # a setting written short in the abstract ("R50" for ResNet-50) is mentioned
    short = passage("OrcaDet: Real-Time Detection", "OrcaDet-R50 reaches 53.1% AP.", 1, 0.6)
    assert _mentions_all("ResNet-50", short) and not _mentions_all("ResNet-101", short)

    assert _mentions_all("OrcaCache-7B", p, sized=True)
    assert not _mentions_all("OrcaCache-7B", p)


def test_a_system_the_abstract_makes_the_subject_of_its_results_is_its_own() -> None:
    from rag.answer.compose import uses_name

    p = passage(
        "Serving without Interference",
        "We realize this idea in RondoServe through three pillars. Results show that RondoServe "
        "improves time-to-first-token by 97%. It runs on vLLM.",
        1,
        0.6,
    )
    assert uses_name(p, "RondoServe")
    assert not uses_name(p, "vLLM")


def test_a_method_named_by_its_full_name_names_its_paper() -> None:
    from rag.answer.answering import names_a_paper

    p = passage(
        "70% Size, 100% Accuracy: Lossless Compression",
        "We introduce Dynamic-Length Zorb (DZorb11), a lossless compression framework.",
        1,
        0.4,
    )
    q = analyse("What does the Dynamic-Length Zorb paper propose? By how much does it shrink it?")
    assert names_a_paper(q, [p])
    assert not names_a_paper(analyse("What does the Static Zorb paper propose?"), [p])


def test_a_follow_up_pronoun_becomes_the_previous_questions_one_name() -> None:
    from rag.answer.answering import resolved

    assert (
        resolved("And how does it make the architecture more efficient?", ["ZorbNet-2"])
        == "And how does ZorbNet-2 make the architecture more efficient?"
    )
    assert resolved("What speedup does its kernel get?", ["ZorbNet"]) == (
        "What speedup does ZorbNet's kernel get?"
    )
    # not clear-cut: several names before, none, or a plural reference
    assert resolved("How fast is it?", ["ZorbNet", "OrcaX"]) is None
    assert resolved("How fast is it?", []) is None
    assert resolved("How much memory do those models use?", ["ZorbNet"]) is None


def test_a_name_asked_by_its_relation_is_answered_by_that_relation() -> None:
    from rag.answer.compose import fills_the_role

    q = analyse("Which framework is ZorbLLM built on?")
    assert fills_the_role(q, "Built upon Megatron-LM, ZorbLLM implements early exits.")
    assert not fills_the_role(q, "ZorbLLM implements early exits with pipeline parallelism.")


def test_the_noun_a_how_much_question_asks_ends_at_its_verb() -> None:
    assert analyse("How much computation went to padding?").attribute == {"comput"}
    assert "memori" in analyse("How much GPU memory saved by ZorbNet?").attribute
    assert "speed" in analyse("How much speed gain does ZorbNet get?").attribute


def test_an_ask_is_missing_only_when_no_sentence_states_it() -> None:
    p = passage(
        "ZorbSplat: Generalized Splatting for Efficient Rendering",
        "This paper introduces ZorbSplat, a novel representation that employs a generalized "
        "exponential function to model 3D scenes, requiring far fewer particles to represent a "
        "scene and thus significantly outperforming Gaussian Splatting methods in efficiency. "
        "With the aid of a frequency-modulated loss, ZorbSplat achieves competitive performance "
        "in novel-view synthesis benchmarks while requiring less than half the memory storage of "
        "Gaussian Splatting and increasing the rendering speed by up to 39%.",
        1,
        0.6,
    )
    q = analyse(
        "A 3D scene representation swaps the Gaussians in splatting for a generalized "
        "exponential function so it needs fewer particles. How does its memory compare with "
        "Gaussian splatting and how much faster does it render?"
    )
    lead = _composer().lead(q, [p])
    assert "39%" in lead.text and "does not give" not in lead.text, lead.text


def test_a_comparison_of_two_described_papers_answers_both_sides() -> None:
    from rag.answer.question import described_sides
    from rag.answer.synthesis import described_comparison_lead

    question = (
        "Compare a multi-hop dense retriever for open-domain question answering with a compact "
        "web-scale datastore built for reasoning benchmarks. What speed claim does each make?"
    )
    q = analyse(question)
    assert q.shape == "comparison"
    assert q.described == [
        "a multi-hop dense retriever for open-domain question answering",
        "a compact web-scale datastore built for reasoning benchmarks",
    ]
    assert q.ask == "What speed claim does each make?"
    sides, _ = described_sides(
        "Two scaling-law papers add a factor: one for mixture-of-experts LLMs, the other for "
        "filtering web data. What factor does each bring in?",
        [],
    )
    assert sides == [
        "Two scaling-law papers add a factor: for mixture-of-experts LLMs",
        "Two scaling-law papers add a factor: for filtering web data",
    ]
    # a question that describes one paper is not a comparison
    assert analyse("A method that retrieves with a dense index: how fast is it?").described == []
    ps = [
        passage(
            "ZorbHop: Multi-Hop Dense Retrieval for Open-Domain Question Answering",
            "We propose ZorbHop, a multi-hop dense retriever for open-domain question answering. "
            "ZorbHop is 10x faster at inference than the best published system.",
            1,
            0.6,
        ),
        passage(
            "OrcaStore: A Compact Web-Scale Datastore",
            "We build OrcaStore, a compact web-scale datastore for reasoning benchmarks. "
            "OrcaStore answers queries 3x faster than a web search engine.",
            2,
            0.6,
        ),
    ]
    lead = described_comparison_lead(_composer(), q, ps)
    assert lead is not None
    assert "10x" in lead.text and "3x" in lead.text, lead.text
    assert lead.text.index("[1]") < lead.text.index("[2]")


def test_a_described_side_is_the_hit_that_covers_its_words_and_a_named_side_its_paper() -> None:
    """ "S9 for in-context RL vs ZorbNet": papers on S9 come before the one on in-context
    reinforcement learning in a search for the description; the side is the hit that covers the
    description's words (an acronym the paper spells out counts), and the named side ZorbNet is
    its own paper even when a description before it would have matched it."""
    from rag.answer.answering import evidence_of
    from rag.answer.synthesis import described_comparison_lead, described_if_unnamed

    s9_long = passage(
        "What Makes S9 Great on Long Sequences",
        "We study why S9 models excel at long sequences. S9 reaches 91% on the path benchmark.",
        1,
        0.9,
    )
    s9_rl = passage(
        "Structured Models for In-Context Reinforcement Learning",
        "We adapt S9 to in-context reinforcement learning with resettable hidden states. "
        "Our agent runs five times faster than an RNN agent.",
        2,
        0.5,
    )
    zorbnet = passage(
        "ZorbNet: Integer-Only Sequence Models",
        "We propose ZorbNet, an integer-only sequence model for in-context learning with S9 "
        "layers. ZorbNet runs 3x faster on CPUs.",
        3,
        0.5,
    )
    assert evidence_of("S9 for in-context RL", [s9_rl]).lexical == 1.0
    assert evidence_of("S9 for in-context RL", [s9_long]).lexical < 1.0
    hits = [s9_long, zorbnet, s9_rl]
    q = analyse("S9 for in-context RL vs ZorbNet: what speedup does each report?")
    q = described_if_unnamed(q, hits)
    assert q.described == ["S9 for in-context RL", "ZorbNet"], q.described

    def fit(description: str, p: Passage) -> float:
        return evidence_of(description, [p]).lexical

    lead = described_comparison_lead(
        _composer(), q, hits, None, fit, lambda _d: hits, threshold=0.5
    )
    assert lead is not None
    assert {p.number for p, _ in lead.parts} == {2, 3}, lead.text
    assert "five times" in lead.text and "3x" in lead.text, lead.text
    assert "No paper" not in lead.text


def test_a_described_side_ends_at_its_head_noun_and_never_runs_into_the_next_sentence() -> None:
    q = analyse(
        "Quuxformer V2 and the one-step zorb work attack different weaknesses. "
        "What does each contribute?"
    )
    assert q.shape == "comparison"
    assert (q.described, q.ask) == (
        ["Quuxformer V2", "one-step zorb"],
        "What does each contribute?",
    )
    from rag.answer.question import paired_sides

    # a quoted title with the kind of work after it is the title
    sides, _ = paired_sides(
        "Compare the 'Faster Zorb Models' survey with ZorbNet: what is new?", []
    )
    assert sides == ["Faster Zorb Models", "ZorbNet"], sides


@pytest.mark.parametrize(
    ("question", "sides", "ask"),
    [
        # a named side offered beside a described one, as a choice
        (
            "Which gives the larger speedup, ZorbServe or the length-aware batching scheduler?",
            ["ZorbServe", "length-aware batching scheduler"],
            "Which gives the larger speedup",
        ),
        # two sides set against each other by "vs", the ask after a dash or a colon
        (
            "grow then shrink vs 'less data is all you need' - do they agree on model size?",
            ["grow then shrink", "less data is all you need"],
            "do they agree on model size?",
        ),
        (
            "the idealized latency paper vs The Zorb Misnomer: what is each one's main point?",
            ["idealized latency", "Zorb Misnomer"],
            "what is each one's main point?",
        ),
        (
            "Compare ZorbDrive with the driving model that maps depth clouds: what does each add?",
            ["ZorbDrive", "driving model that maps depth clouds"],
            "what does each add?",
        ),
        (
            "How does the S4-based zorb agent compare with the Quux-Aware Transformer?",
            ["S4-based zorb agent", "Quux-Aware Transformer"],
            "How does the S4-based zorb agent compare with the Quux-Aware Transformer?",
        ),
        (
            "What do the Zorb ASR Leaderboard and the audio tokens survey each benchmark?",
            ["Zorb ASR Leaderboard", "audio tokens survey"],
            "What do the Zorb ASR Leaderboard and the audio tokens survey each benchmark?",
        ),
        (
            "What's the scope of the small zorb model survey vs the quux decoding survey?",
            ["small zorb model survey", "quux decoding survey"],
            "What is the scope of the small zorb model survey vs the quux decoding survey?",
        ),
    ],
)
def test_a_side_described_beside_another_is_searched_for_as_written(
    question: str, sides: list[str], ask: str
) -> None:
    q = analyse(question)
    assert q.shape == "comparison"
    assert (q.described, q.ask) == (sides, ask)


def test_a_count_written_as_a_word_and_a_size_said_larger_state_the_asked_figure() -> None:
    """ "How many core areas …?" of "the five core areas": a count in words; "how much
    bigger …?" of "up to 500% larger": the same comparison in another word."""
    q = analyse("How many core areas does the zorb survey cover?")
    assert states_attribute(q, "We survey the five core areas of zorb efficiency.")
    assert not states_attribute(q, "We survey zorb efficiency in depth.")
    assert not states_attribute(q, "We train in two phases.")
    q = analyse("How fast can zorb gradients be computed?")  # a time complexity is its speed
    assert states_attribute(q, "Our method computes zorb gradients in almost linear time.")
    assert states_attribute(q, "Zorb gradients take O(n log n) operations.")
    assert not states_attribute(q, "Zorb gradients are computed exactly.")
    # "how much faster than …?" asks a factor: the baseline's complexity is no answer
    q = analyse("how many tokens/sec faster than full attention is ZorbAttn?")
    assert not states_attribute(q, "ZorbAttn avoids the quadratic time of full attention.")
    q = analyse("How many examples does ZorbSteer need to find its directions?")
    assert states_attribute(q, "ZorbSteer finds them using only a few hundred examples.")
    q = analyse("How much data does ZorbSteer need to find its directions?")
    assert states_attribute(q, "ZorbSteer finds them using only a few hundred examples.")
    q = analyse("How much bigger than the training graphs can the zorb models go?")
    assert states_attribute(q, "The zorb models handle graphs up to 500% larger than training.")


def test_a_terse_question_about_one_thing_is_not_a_topic_to_list() -> None:
    """ "time complexity of the zorb gradient approximation?" asks one thing's attribute;
    "zorbstereo runtime on KITTI?" names a paper in lower case (a word one paper uses); a
    topic of common words ("KV cache pruning methods?") is still a list."""
    assert analyse("time complexity of the zorb gradient approximation?").shape == "single"
    doc_freq = {"zorbstereo": 1, "runtim": 40, "kitti": 12, "kv": 50, "cach": 90, "prune": 60}
    assert analyse("zorbstereo runtime on KITTI?", doc_freq).shape == "single"
    assert analyse("KV cache pruning methods?", doc_freq).shape == "list"
    # papers of a kind asked for, however rare a word of their topic
    assert analyse("vision papers for zorbstereo detection?", doc_freq).shape == "list"


def test_things_of_the_one_paper_a_turn_is_about_are_not_a_list() -> None:
    assert analyse("what two strategies did it scale?").shape != "list"
    assert analyse("Which datasets does this paper use?").shape != "list"
    assert analyse("Which papers does it build on?").shape != "list"
    assert analyse("Which papers use zorb datasets?").shape == "list"
    # a list asked in an earlier sentence stays a list ("it" after several papers is any of them)
    assert analyse("Is there any work on zorb caches? what does it claim about memory?").shape == (
        "list"
    )


def test_two_one_word_topics_set_against_each_other_are_not_two_papers() -> None:
    assert analyse("pruning vs distillation: which is better for ViTs?").described == []


def test_a_which_ask_with_a_verb_names_no_thing_when_not_stated() -> None:
    from rag.answer.question import plain_ask

    assert plain_ask("which saves more memory") == ""
    assert plain_ask("which gives the bigger speedup") == ""
    assert plain_ask("which GPU and batch size") == "the GPU and batch size"
    assert plain_ask("which datasets are used") == "the datasets are used"


def test_a_comparison_side_that_does_not_state_the_asked_figure_says_so() -> None:
    ps = [
        passage(
            "OrcaX: Iteration-Level Scheduling",
            "We present OrcaX, which schedules requests at the granularity of iterations. "
            "OrcaX is 36x faster than the baseline.",
            1,
            0.6,
        ),
        passage(
            "RondoZ: Fair Request Scheduling",
            "We present RondoZ, which schedules requests by their predicted length. RondoZ "
            "reaches 97% accuracy on length prediction.",
            2,
            0.6,
        ),
    ]
    q = analyse("OrcaX vs RondoZ: what speedup does each report?")
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None
    assert "36x" in lead.text, lead.text
    assert "RondoZ: its abstract does not give the speedup" in lead.text, lead.text
    # an ask after a colon is the ask put to both described papers
    described = analyse(
        "Compare a scheduler that batches per iteration with a scheduler that predicts "
        "lengths: what speedup does each report?"
    )
    assert described.ask == "what speedup does each report?" and len(described.described) == 2


def test_a_device_the_question_names_is_not_the_asked_device() -> None:
    q = analyse("Which microcontroller hardware runs the Zorb quadrotor policy?")
    assert q.kind == "hardware"
    assert not states_attribute(q, "It is deployed on microcontrollers to control a multirotor.")
    assert states_attribute(q, "It runs on an STM32F4 microcontroller at 100 Hz.")


def test_a_quoted_titles_words_do_not_choose_among_its_own_sentences() -> None:
    title = "Rethinking Zorb Architectures for Sequential Recommendations"
    p = passage(
        title,
        "Recently, sequential recommendation has been adapted to the LLM paradigm. We propose "
        "ZorbRec, a lite model. The primary goal of ZorbRec is to achieve efficient inference "
        "for the sequential recommendation task. Experiments on "
        "three datasets corroborate the effectiveness of ZorbRec (notably 46.8% performance "
        "improvement and 97.28% efficiency improvement).",
        1,
        0.6,
    )
    q = analyse(f'What does the paper "{title}" report as its main result?')
    # the title's words are rare in a collection (high IDF), as they are here
    rare = {"sequenti", "recommend", "zorb", "rethink"}
    ranked = Composer(lambda t: 8.0 if t in rare else 1.0).sentences(q, p)
    assert ranked[0].sentence.startswith("Experiments on three datasets"), ranked[0].sentence


def test_a_comparison_of_two_titles_answers_both_sides() -> None:
    """Two titles set against each other: the words of one are not a third side, and a side
    whose abstract has no sentence on the ask still gets its line (what it does)."""
    ps = [
        passage(
            "Efficient Orca Inference on CPUs",
            "Large language models need much memory. We support an automatic INT4 weight-only "
            "quantization flow and design a runtime with optimized kernels for CPUs.",
            1,
            0.6,
        ),
        passage(
            "Fast Zorb on CPUs",
            "We propose a pipeline that prunes and distils Zorb models for CPUs. Our runtime "
            "reaches a 4.1x speedup over ONNX Runtime.",
            2,
            0.5,
        ),
    ]
    q = analyse(
        "Fast Zorb on CPUs vs Efficient Orca Inference on CPUs: what techniques and results?"
    )
    assert q.shape == "comparison"
    assert q.names == ["Fast Zorb on CPUs", "Efficient Orca Inference on CPUs"], q.names
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None
    assert "[1]" in lead.text and "[2]" in lead.text, lead.text
    assert "INT4" in lead.text and "4.1x" in lead.text, lead.text


def test_a_paper_asked_for_by_its_description_shows_the_sentence_that_matches_it() -> None:
    p = passage(
        "Squeezed Zorb: Accelerating Long Prompts",
        "Long prompts are slow to serve. We propose Squeezed Zorb as a mechanism to accelerate "
        "applications where a large part of the prompt is fixed. We first cluster the keys "
        "offline with K-means and compare each incoming query with the centroids to load only "
        "the keys that matter. Squeezed Zorb gives a 4x speedup.",
        1,
        0.6,
    )
    q = analyse(
        "Which method clusters the keys offline with K-means and compares queries to centroids?"
    )
    named = (
        "We propose Squeezed Zorb as a mechanism to accelerate applications where a large part "
        "of the prompt is fixed."
    )
    lead = identify_lead(_composer(), q, Lead(f"{named} [1].", [(p, named)]))
    assert "Squeezed Zorb" in lead.text and "K-means" in lead.text, lead.text
    assert lead.text.index("Squeezed Zorb") < lead.text.index("K-means")  # the name first
    assert len(lead.parts) == 2 and lead.text.endswith("[1].")
    # the naming sentence that already matches the description stands alone
    q2 = analyse("Which method accelerates applications where a large part of the prompt is fixed?")
    assert identify_lead(_composer(), q2, Lead(f"{named} [1].", [(p, named)])).parts == [(p, named)]
    # a paper without a short name is named by its whole title, first
    said = "We organize the parameters of each scene into a 2D grid with local homogeneity."
    untitled = passage(
        "Compact Scenes via Self-Organizing Grids", f"Scenes are large. {said}", 1, 0.6
    )
    q3 = analyse("Which paper organizes the parameters into a 2D grid?")
    lead = identify_lead(_composer(), q3, Lead(f"{said} [1].", [(untitled, said)]))
    assert lead.text.startswith("“Compact Scenes via Self-Organizing Grids”: "), lead.text


def test_a_papers_two_sentences_are_told_in_the_abstracts_order() -> None:
    """ "Which paper runs models from flash memory on phones?": the decision's sentence is a step
    ("First, windowing …"), the matching one what the paper takes on; neither introduces the
    name (the title's head), so they read as the abstract tells them, not the step first."""
    what = (
        "This paper tackles running zorb models that exceed the phone DRAM by storing the "
        "weights on flash memory and loading them on demand."
    )
    step = "First, windowing reuses the neurons activated for earlier tokens to cut flash reads."
    p = passage(
        "Zorb in a Flash: Inference with Little Memory", f"Phones are small. {what} {step}", 1, 0.6
    )
    q = analyse("Which paper runs zorb models from flash memory on phones?")
    lead = identify_lead(_composer(), q, Lead(f"{step} [1].", [(p, step)]))
    assert [s for _, s in lead.parts] == [what, step], lead.parts
    text = lead.text.lower()
    assert text.index("this paper tackles") < text.index("windowing"), lead.text


def test_a_list_line_leaves_out_what_a_dropped_clause_pointed_back_to() -> None:
    """ "To address this issue, we introduce ZorbDraft …" is shown "The authors introduce
    ZorbDraft …": nothing on the line points back, so the problem sentence before it is not
    shown with it."""
    p = passage(
        "ZorbDraft: Faster Drafting for Speculative Decoding",
        "Speculative decoding drafts tokens with a small model. Drafting is slow because the "
        "draft model generates one token at a time. To address this issue, we introduce "
        "ZorbDraft, which drafts a tree of tokens for speculative decoding in one pass.",
        1,
        0.6,
    )
    lead = list_lead(
        _composer(), analyse("Which papers draft token trees for speculative decoding?"), [p]
    )
    assert lead is not None
    assert [s for _, s in lead.parts] == [
        "To address this issue, we introduce ZorbDraft, which drafts a tree of tokens for "
        "speculative decoding in one pass."
    ], lead.parts
    assert "Drafting is slow" not in lead.text, lead.text


def test_a_side_written_with_a_slash_names_the_paper_of_either() -> None:
    ps = [
        passage(
            "Zorb: Mixing Gated Recurrences",
            "We propose Zorb, a hybrid model that mixes gated recurrences with local attention. "
            "Zorb matches Llama-2 while trained on 6x fewer tokens.",
            1,
            0.6,
        ),
        passage(
            "Rondo and the Vela Family: Recurrent Models with Matrix-Valued States",
            "We present Rondo and Vela, sequence models with matrix-valued states and a dynamic "
            "recurrence. They reach competitive results on many benchmarks.",
            2,
            0.5,
        ),
    ]
    q = analyse("Zorb vs Rondo/Vela: how do these recurrent models differ in design?")
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None
    assert "[1]" in lead.text and "[2]" in lead.text, lead.text
    assert "not stated" not in lead.text, lead.text


def test_an_ask_for_any_result_is_answered_by_the_result_each_side_reports() -> None:
    """ "What gains do they report?" asks for whatever each paper reports (a saving in resources
    answers it), not for a figure called a gain; a side that reports a result is not said to
    lack one."""
    ps = [
        passage(
            "OrcaX: Iteration-Level Scheduling",
            "We present OrcaX, which schedules requests at the granularity of iterations. "
            "OrcaX is 36x faster than the baseline.",
            1,
            0.6,
        ),
        passage(
            "RondoZ: Fair Request Scheduling",
            "We present RondoZ, which schedules requests by their predicted length. Results "
            "show that RondoZ uses 38% less resources while lowering latency by 47%.",
            2,
            0.6,
        ),
    ]
    for question in (
        "OrcaX vs RondoZ: how does each schedule requests, and what gains do they report?",
        "OrcaX vs RondoZ: what results does each report?",
    ):
        lead = comparison_lead(_composer(), analyse(question), ps)
        assert lead is not None
        assert "36x" in lead.text and "38%" in lead.text, lead.text
        assert "does not give" not in lead.text, lead.text


def test_a_side_typed_without_punctuation_is_the_paper_its_first_words_name() -> None:
    """ "OrcaX vs RondoZ on scheduling requests": no paper is called "RondoZ on scheduling
    requests"; the side is RondoZ, and both sides are answered."""
    ps = [
        orca_x(),
        passage(
            "RondoZ: Fair Request Scheduling",
            "We present RondoZ, which schedules requests by their predicted length. RondoZ "
            "cuts tail latency by 3x.",
            2,
            0.6,
        ),
    ]
    for question in (
        "OrcaX vs RondoZ on scheduling requests",
        "OrcaX vs RondoZ for scheduling requests in serving systems at scale today",
    ):
        lead = comparison_lead(_composer(), analyse(question), ps)
        assert lead is not None, question
        assert "[1]" in lead.text and "[2]" in lead.text, lead.text
        assert "not stated" not in lead.text, lead.text


def test_sides_typed_in_lower_case_are_names_when_their_words_are_rare() -> None:
    """ "star zorb vs ring zorb …": words few chunks use make a name, typed in any case; common
    words ("pruning vs distillation") are topics, not sides; "the … paper" is its name."""
    doc_freq = {"star": 1, "ring": 2, "zorb": 40, "prune": 60, "distil": 51, "long": 90}
    q = analyse("star zorb vs ring zorb for long sequences across many devices", doc_freq)
    assert q.shape == "comparison" and compared_names(q) == ["star zorb", "ring zorb"], q.names
    assert analyse("pruning vs distillation: which saves more?", doc_freq).names == []
    q = analyse("OrcaX vs the Fast Zorb Serving paper: what does each save?", doc_freq)
    assert compared_names(q) == ["OrcaX", "Fast Zorb Serving"], q.names


def test_the_sentence_that_introduces_the_described_paper_opens_its_lead() -> None:
    """When the decision chose a result sentence and the description matches the sentence that
    introduces the paper, the introduction comes first: the reader meets the paper, then its
    result."""
    proposal = (
        "We propose Squeezed Zorb as a mechanism to accelerate applications where a large part "
        "of the prompt is fixed."
    )
    result = "In our experiments Squeezed Zorb gives a 4x speedup on long documents."
    p = passage(
        "Squeezed Zorb: Accelerating Long Prompts",
        f"Long prompts are slow to serve. {proposal} {result}",
        1,
        0.6,
    )
    q = analyse("Which method accelerates applications where a large part of the prompt is fixed?")
    lead = identify_lead(_composer(), q, Lead(f"{result} [1].", [(p, result)]))
    assert lead.text.index("propose") < lead.text.index("4x"), lead.text


def test_a_clipped_asked_word_reads_as_the_collections_word() -> None:
    # "params" is not a word of the abstracts; "parameters" is, with its synonyms ("B", "M")
    doc_freq = {"paramet": 120, "paramount": 2, "zorbnet": 1, "power": 30}
    q = analyse("How many params does ZorbNet have, and what power does it draw?", doc_freq)
    assert "paramet" in q.attribute and "param" not in q.attribute
    assert states_attribute(q, "ZorbNet has only 41.5k parameters and draws 0.9 W on a phone.")
    # a short clipping could begin too many words to say which is meant
    assert "mem" in analyse("How much mem does ZorbNet use?", {"memori": 90}).attribute


def test_power_is_stated_in_watts() -> None:
    q = analyse("What power does ZorbNet draw on a phone?", {"zorbnet": 1, "power": 30})
    assert states_attribute(q, "ZorbNet runs at 1.25 W and 60 FPS on a phone CPU.")
    assert not states_attribute(q, "ZorbNet runs at 60 FPS on a phone CPU.")
    # the energy a detector uses, as many abstracts give it: the power it draws
    q = analyse("How much energy does ZorbNet use?", {"zorbnet": 1, "energi": 30})
    assert states_attribute(q, "ZorbNet runs at 1.11 W & 64 FPS on a phone CPU.")


def test_a_rare_capitalised_word_keeps_the_capitalised_words_after_it() -> None:
    doc_freq = {"zephyr": 1, "attent": 140, "long": 90, "sequenc": 80}
    q = analyse("What does Zephyr Attention do for long sequences?", doc_freq)
    assert q.names == ["Zephyr Attention"]


def test_that_after_its_verb_is_the_previous_papers_name() -> None:
    assert (
        resolved("How does that compare with QXV?", ["Zephyr Attention"])
        == "How does Zephyr Attention compare with QXV?"
    )
    # "that" before a noun of its own points elsewhere, and several names are not clear-cut
    assert resolved("Is that part of the cache in memory?", ["Zephyr Attention"]) is None
    assert resolved("How does that compare with QXV?", ["Zephyr", "Orca"]) is None


def test_a_step_told_in_the_papers_voice_is_mechanism_whatever_problem_words_it_names() -> None:
    from rag.answer.synthesis import how_lead

    p = passage(
        "ZorbThinker: Small Models for Local Devices",
        "Large models are slow on local devices. However, existing methods suffer from slow "
        "storage. However, we observe that slow storage latency stalls decoding on local devices. "
        "We present ZorbThinker, a family of small models for local devices. First, we "
        "introduce a sparse feed-forward block. Second, to conquer the I/O bottleneck of slow "
        "storage, we design a pre-attention router that prefetches expert weights while "
        "attention runs, hiding storage latency. ZorbThinker reaches 20 tokens/s on a laptop.",
        1,
        0.7,
    )
    q = analyse("How does ZorbThinker hide slow storage latency on local devices?")
    lead = how_lead(_composer(), q, p)
    assert lead is not None
    assert "pre-attention router" in lead.text, lead.text
    # the problem the paper starts from, or what it observes of it, is still not its mechanism
    assert "existing methods suffer" not in lead.text, lead.text
    assert "stalls decoding" not in lead.text, lead.text


def test_beside_the_naming_sentence_stands_what_of_the_description_it_leaves_out() -> None:
    named = "We present ZorbCache, an accurate KV cache quantization method."
    p = passage(
        "ZorbCache: Accurate KV Cache Quantization",
        f"KV caches are large. {named} First, we construct a strong baseline for quantizing KV "
        "cache. Then we propose a normalized score as a metric for identifying salient tokens.",
        1,
        0.6,
    )
    q = analyse("Which paper quantizes the KV cache by identifying salient tokens?")
    lead = identify_lead(_composer(), q, Lead(f"{named} [1].", [(p, named)]))
    assert "identifying salient tokens" in lead.text, lead.text
    assert "strong baseline" not in lead.text, lead.text


def test_an_acronym_that_titles_a_found_paper_names_it() -> None:
    from rag.answer.question import with_title_names

    doc_freq = {"zephyr": 1, "attent": 140, "qxv": 2}
    q = analyse("How does Zephyr Attention compare with QXV?", doc_freq)
    assert q.names == ["Zephyr Attention"]
    titles = ["QXV: Passing Compressed Context Blocks", "Zephyr Attention: Long Sequences"]
    both = with_title_names(q, titles)
    assert both.names == ["Zephyr Attention", "QXV"] and both.shape == "comparison"
    # an acronym that abstracts only use, no paper's own name, stays a common term
    assert with_title_names(q, ["Zephyr Attention: Long Sequences", "Low-Rank QXV Adapters"]) == q


def test_a_paper_speaks_under_its_acronym_as_under_its_name() -> None:
    from rag.answer.synthesis import Scored

    p = passage(
        "Zorb Latent Transformer: Patches Beat Tokens",
        "We introduce the Zorb Latent Transformer (ZLT), a byte-level model. ZLT encodes bytes "
        "into patches of varying size. Tokenizers are brittle.",
        1,
        0.6,
    )
    scored = Scored(_composer(), "how does it group bytes", p, None)
    assert scored._own("ZLT encodes bytes into patches of varying size.")
    assert scored._own("Zorb Latent Transformer encodes bytes into patches.")
    assert not scored._own("Tokenizers are brittle.")


@pytest.mark.parametrize(
    "ask",
    [
        "what does each propose?",
        # what each sets out to do is its proposal too
        "what does each one actually change about serving fixed prompts?",
        "what task does each tackle?",
    ],
)
def test_an_ask_for_what_each_proposes_opens_the_side_with_its_proposal(ask: str) -> None:
    """ "What does each propose?": each side opens with the sentence stating the paper's
    proposal, not with a step of its method that matches the question's words better."""
    squeeze = passage(
        "Squeezed Zorb: Fast Fixed Prompts",
        "Long prompts are slow to serve. "
        "We propose Squeezed Zorb as a mechanism to accelerate prompts that are mostly fixed. "
        "First, it clusters the keys of the fixed context offline using K-means. "
        "Then each query is compared with the centroids via a lookup. "
        "The chosen keys are attended exactly using a Sparse Kernel (SK).",
        1,
        0.6,
    )
    quill = passage(
        "Quill: Drafting for Multimodal Models",
        "We introduce Quill, a language-only draft model for multimodal decoding. "
        "Quill proposes draft tokens that the large model verifies.",
        2,
        0.55,
    )
    q = analyse(f"Squeezed Zorb vs Quill: {ask}")
    lead = comparison_lead(_composer(), q, [squeeze, quill])
    assert lead is not None
    first_side = lead.text.split("[1]")[0]
    assert first_side.startswith("Squeezed Zorb: The authors propose Squeezed Zorb as a mechanism")


def test_a_mechanism_sentence_in_new_specific_words_beats_the_question_said_back() -> None:
    """The weights of MECHANISM_WEIGHTS (fitted on tune, eval/fit_weights.py): a sentence
    that says how, in words the question does not use (the quantizer, its buffer, its
    codebooks), answers "how does it shrink the cache?" before one that restates the question
    with the same words."""
    from rag.answer.synthesis import Scored

    p = passage(
        "Zorbex: Cache Shrinking for Large Models",
        "Zorbex shrinks the cache of large models efficiently. "
        "Its quantizer keeps outlier channels in a separate buffer and packs residual "
        "codebooks per group.",
        1,
        0.6,
    )
    rare = Composer(lambda _t: 4.0)
    picked = Scored(rare, "How does Zorbex shrink the cache?", p, None).mechanism(1)
    assert picked == [
        "Its quantizer keeps outlier channels in a separate buffer and packs residual "
        "codebooks per group."
    ]


def test_mechanism_features_are_the_weighted_table() -> None:
    """Every feature `Scored.mechanism_features` gives has its weight, and the score is their
    weighted sum: what decides a choice can be read off the table."""
    from rag.answer.synthesis import MECHANISM_WEIGHTS, Scored

    p = passage(
        "Quorbit: Serving",
        "First, Quorbit pages weights via a scheduler. Experiments show 2.1x speedups.",
        1,
        0.6,
    )
    features = Scored(_composer(), "How does Quorbit serve?", p, None).mechanism_features()
    assert set(features) == set(MECHANISM_WEIGHTS)
    assert features["detail"].tolist() == [1.0, 0.0]
    assert features["finding"].tolist() == [0.0, 1.0]


def test_a_side_typed_in_lower_case_is_the_paper_that_introduces_it_in_capitals() -> None:
    """ "zorbserve vs quuxinfer on splitting prefill": "quuxinfer" is read as the passage
    spells it ("we present QuuxInfer"), so the paper whose title does not hold the name is
    still its side; the words after it stay the ask."""
    from dataclasses import replace

    from rag.answer.synthesis import as_spelt, names_resolved

    papers = [
        passage("ZorbServe: Split Serving", "ZorbServe splits prefill and decode.", 1, 0.6),
        passage(
            "Inference without Stalls: Disaggregated Serving",
            "We present QuuxInfer, which runs prefill and decode on separate instances.",
            2,
            0.5,
        ),
    ]
    q = analyse("ZorbServe vs QuuxInfer on splitting prefill")
    typed = replace(q, names=["zorbserve", "quuxinfer on splitting prefill"])
    # "zorbserve" names its paper by its title already; "quuxinfer" only as the passage spells it
    assert names_resolved(typed, papers).names == ["zorbserve", "QuuxInfer"]
    assert as_spelt("quuxinfer", papers) == "QuuxInfer"
    assert as_spelt("prefill", papers) == "prefill"  # no other spelling: as typed
    assert as_spelt("Quuxinfer", papers) == "Quuxinfer"  # typed with a capital: as typed


@pytest.mark.parametrize(
    "release",
    [
        "We will make all codes of Zorbra open-source and hope that it helps future research.",
        "We release our code and checkpoints to the community to foster research.",
        "We make our implementation and trained models publicly available for research.",
    ],
)
def test_a_code_release_is_never_part_of_how_a_paper_works(release: str) -> None:
    """Where the code will be published says nothing of how the method works, however many new
    words it holds and wherever it stands: a mechanism is chosen from the other sentences."""
    from rag.answer.synthesis import Scored

    p = passage(
        "Zorbra: Linear Multimodal Models",
        f"{release} Zorbra integrates a linear recurrent language model into the visual modality.",
        1,
        0.6,
    )
    rare = Composer(lambda _t: 4.0)  # both sentences are all new, uncommon words
    picked = Scored(rare, "How does Zorbra speed up multimodal inference?", p, None)
    assert picked.mechanism(1)[0].startswith("Zorbra integrates")


def test_a_single_fact_sentence_score_is_its_weighted_features() -> None:
    """`Composer.sentences` scores each sentence as SENTENCE_WEIGHTS · its named features, so
    what put a sentence first can be read off them (eval/fit_weights.py fits the same table)."""
    from rag.answer.compose import SENTENCE_WEIGHTS

    p = passage(
        "ZorbCache: Cache Compression",
        "ZorbCache compresses the KV cache. ZorbCache cuts memory by 4.2x on Llama-7B.",
        1,
        0.6,
    )
    ranked = _composer().sentences(analyse("How much memory does ZorbCache save?"), p)
    assert ranked[0].sentence.startswith("ZorbCache cuts memory by 4.2x")
    for x in ranked:
        assert set(x.features) == set(SENTENCE_WEIGHTS)
        assert x.score == pytest.approx(sum(SENTENCE_WEIGHTS[k] * v for k, v in x.features.items()))
    assert ranked[1].features["no_figure"] == 1.0  # a figure is asked: the first has none


@pytest.mark.parametrize(
    ("question", "sentence", "states"),
    [
        (
            "What learning rate did ZorbNet use?",
            "Deep learning models grew 1000x in a decade.",
            False,
        ),
        (
            "What learning rate did ZorbNet use?",
            "ZorbNet trains with a learning rate of 3e-4.",
            True,
        ),
        ("What learning rate did ZorbNet use?", "We set the lr to 0.001 for all runs.", True),
        ("What batch size does ZorbNet train with?", "It serves a batch of 64 requests.", False),
        ("What batch size does ZorbNet train with?", "It trains with batch sizes of 64.", True),
    ],
)
def test_a_compound_attribute_is_stated_only_by_the_compound(
    question: str, sentence: str, states: bool
) -> None:
    """ "learning rate", "batch size": a figure near the first word alone ("deep learning", "a
    batch of requests") is another measure, so the paper is said not to give it."""
    assert states_attribute(analyse(question), sentence) is states


def test_a_name_inside_a_longer_name_is_not_its_baseline() -> None:
    """ "How does ZorbAttention-2 get faster than ZorbAttention?": the second name stands alone
    after "than" and is the baseline; the first, which merely begins with it, is the subject."""
    from rag.answer.compose import as_baseline

    q = "How does ZorbAttention-2 get faster than ZorbAttention?"
    assert as_baseline("ZorbAttention", q)
    assert not as_baseline("ZorbAttention-2", q)


def test_a_how_question_against_a_baseline_is_about_its_subject_alone() -> None:
    """A how question naming what its subject beats asks how the subject works: of a lead over
    both papers, the subject's paper is the one the how answer is told from."""
    from rag.answer.answering import how_subject

    new = passage(
        "ZorbAttention-2: Better Work Partitioning", "ZorbAttention-2 splits work.", 1, 0.7
    )
    old = passage("ZorbAttention: Tiled Exact Attention", "ZorbAttention tiles attention.", 2, 0.6)
    lead = Lead(
        "…", [(new, "ZorbAttention-2 splits work."), (old, "ZorbAttention tiles attention.")]
    )
    q = analyse("How does ZorbAttention-2 get faster than ZorbAttention?")
    assert q.shape == "how"
    assert how_subject(q, lead) is new
    both = analyse("How do ZorbAttention-2 and ZorbAttention tile attention?")
    assert how_subject(both, lead) is None  # two subjects: not one paper's how answer


@pytest.mark.parametrize(
    ("sentence", "states"),
    [
        (
            "The end-to-end performance of ZorbServe surpasses BlipTorch and QuuxServe by 87\\% "
            "and 55\\%, respectively.",
            True,
        ),
        ("The performance of ZorbServe surpasses BlipTorch by 40%.", False),  # another baseline
        ("ZorbServe outperforms QuuxServe by 3% in accuracy on GLUE.", False),  # not its speed
    ],
)
def test_the_margin_over_the_asked_baseline_answers_how_much_faster(
    sentence: str, states: bool
) -> None:
    """ "How much faster is ZorbServe than QuuxServe?" of a sentence saying by what percentage it
    surpasses a list of systems that holds QuuxServe: that margin is the answer."""
    q = analyse("How much faster is ZorbServe than QuuxServe?")
    assert states_attribute(q, sentence) is states


@pytest.mark.parametrize(
    ("question", "kind", "shape"),
    [
        # "the authors" as the subject: what they did is asked, not who they are
        ("Which dataset did the authors release with ZorbNet?", "dataset", "single"),
        ("What GPU did the authors use to train ZorbNet?", "hardware", "single"),
        ("Who are the authors of ZorbNet?", "authors", "single"),
        ("Which authors proposed ZorbNet?", "authors", "single"),
        # "Is there a paper that …?" asks, as "Which paper …?" does, for the paper (its name
        # leads the answer); "Is there work on …?" asks for a body of work (a list)
        ("Is there a paper that copies phrases from a text collection?", "name", "single"),
        ("Any paper that caches diffusion features across steps?", "name", "single"),
        ("Is there a method that prunes attention heads?", "name", "single"),
        ("Is there work on caching diffusion features?", "describe", "list"),
        ("Any papers on caching diffusion features?", "describe", "list"),
    ],
)
def test_what_a_question_asks_for(question: str, kind: str, shape: str) -> None:
    q = analyse(question)
    assert (q.kind, q.shape) == (kind, shape)


def test_a_rare_word_typed_in_lower_case_names_the_paper_its_title_heads() -> None:
    """ "zorbzip and QuuxDB both cut storage cost": "zorbzip" is rare in the collection and heads
    a found paper's title ("Zorbzip: …"), so it is a name, typed in lower case or not, and the
    question compares two papers, in the order it names them. A common word is not a name."""
    from rag.answer.question import typed_title_heads, with_title_names
    from rag.answer.synthesis import compared_names

    titles = ["Zorbzip: Log Compression by Clustering", "QuuxDB: Dataset Containment", "Cache: X"]
    doc_freq = {"zorbzip": 1, "quuxdb": 1, "cach": 80}
    q = analyse("zorbzip and QuuxDB both cut storage cost: how do they differ?")
    assert q.names == ["QuuxDB"]
    named = with_title_names(q, titles, doc_freq)
    assert set(named.names) == {"QuuxDB", "Zorbzip"}
    assert compared_names(named) == ["Zorbzip", "QuuxDB"]
    assert typed_title_heads(analyse("How does cache help zorbzip?"), titles, doc_freq) == [
        "Zorbzip"
    ]
    assert with_title_names(q, titles).names == ["QuuxDB"]  # no statistics: as before


def test_a_reference_paper_with_no_peer_is_said_to_have_none() -> None:
    """ "Which papers work on the same problem as 'Zorb Arabic Leaderboard'?" where no other
    found paper is relevant: the answer says so plainly, then what the reference paper does; the
    reference is never passed off as its own answer."""
    from rag.answer.synthesis import list_lead

    ref = passage(
        "Zorb Arabic Leaderboard",
        "We introduce Zorb Arabic Leaderboard, a benchmark of Arabic speech recognizers.",
        1,
        0.9,
    )
    other = passage("QuuxPose: Fast Pose Estimation", "QuuxPose tracks human joints fast.", 2, 0.1)
    q = analyse('Which papers work on the same problem as "Zorb Arabic Leaderboard"?')
    lead = list_lead(_composer(), q, [ref, other])
    assert lead is not None
    assert lead.text.startswith(
        "No other paper in the collection works on the same problem as “Zorb Arabic Leaderboard”."
    )
    assert lead.text.endswith("benchmark of Arabic speech recognizers [1].")
    assert [p for p, _ in lead.parts] == [ref]


def test_a_comparison_side_tells_its_method_as_a_how_answer_does() -> None:
    """A side's method in three steps keeps all three beside its figure: with two, the step in
    which the sides differ was the one left out."""
    quill = passage(
        "QuillServe: Phase-Split Serving",
        "Serving language models mixes two phases with different needs. "
        "We propose QuillServe, which places the prompt phase and the generation phase on "
        "separate machines. "
        "QuillServe transfers the cache state between machines over the back-plane network. "
        "A planner sizes each pool of machines for throughput, cost and power. "
        "QuillServe reaches 1.4x higher throughput at 20% lower cost.",
        1,
        0.6,
    )
    wren = passage(
        "WrenServe: Chunked Prompts",
        "WrenServe splits prompts into fixed-size chunks. "
        "It runs the two phases on separate instances so each can run alone. "
        "A two-level scheduler predicts how long each request will need. "
        "WrenServe improves time to first token by 97%.",
        2,
        0.55,
    )
    q = analyse("QuillServe vs WrenServe: how does each serve the two phases?")
    lead = comparison_lead(_composer(), q, [quill, wren])
    assert lead is not None
    for step in ("separate machines", "back-plane", "planner", "1.4x", "fixed-size", "two-level"):
        assert step in lead.text, step


def test_a_turn_that_names_its_own_subject_before_its_pronoun_is_about_it() -> None:
    history = [("What does ZorbSSL do for ECG analysis?", "ZorbSSL beats PVT and QRN [1].")]
    doc_freq = {"qrn": 2, "svd": 40}
    # an acronym few passages use, typed before "it": the previous answer named it in passing
    assert not refers_back("ok and QRN — which datasets was it tested on?", history, doc_freq)
    assert refers_back("ok and SVD — which datasets was it tested on?", history, doc_freq)
    # a paper described in the turn, of words the conversation has not asked about
    described = "What about the weakly supervised dance step paper — what input does it take?"
    assert not refers_back(described, history, doc_freq)
    assert refers_back("What about the ZorbSSL ECG paper — what input does it take?", history)
    # "the paper that …": the same, its description after it
    tokens = [("How does ZorbVLM choose which visual tokens to drop?", "It ranks them [1].")]
    after = (
        "What about the paper that prunes visual tokens after layer 2 — which models does it test?"
    )
    assert not refers_back(after, tokens)
    assert refers_back("and the one that drops visual tokens — how does it choose?", tokens)


def test_what_about_asks_for_the_thing_named_after_it() -> None:
    def missing(text: str) -> str:
        return what_is_missing(analyse(text))

    assert missing("what about ZorbNet's inference cost compared to the base LLM?") == (
        "the inference cost"
    )
    assert missing("And what about its latency?") == "its latency"
    assert "about" not in missing("What about ZorbNet?")


def test_an_acronym_of_the_titles_words_asks_about_that_paper() -> None:
    from dataclasses import replace

    p = passage(
        "Inductive Query Answering in Zorbic Graphs",
        "We study inductive query answering over new entities. "
        "Our models generalise to graphs up to 500% larger than the training ones.",
        1,
        0.5,
    )
    q = analyse("How much larger than the training graphs can the inductive ZG models go?")
    q = replace(q, names=["ZG"])  # as the collection's statistics make it a name
    assert _composer().states(q, p)
    other = replace(q, names=["QX"])  # an acronym the title does not spell
    assert not _composer().states(other, p)


def test_who_proposed_asks_for_the_work_not_its_authors() -> None:
    """Abstracts name no people: "Who proposed X?" is answered by the paper that did, as
    "Which paper proposed X?" is; "Who wrote …" still asks for the authors."""
    assert analyse("Who introduced ZorbAttention?").kind == "name"
    assert analyse("Who wrote the ZorbAttention paper?").kind == "authors"
    about = passage(
        "vZorb: Serving LLMs without ZorbAttention",
        "Inspired by virtual memory, the Qux system proposed ZorbAttention to page the cache. "
        "In contrast to ZorbAttention, vZorb keeps the cache contiguous.",
        1,
        0.7,
    )
    said = _composer().decide(analyse("Who introduced ZorbAttention?"), [about]).lead
    assert said is not None and said.text.startswith("Inspired by virtual memory, the Qux system")
    # what follows the verb is a description ("treating …"), not a name: the paper that fits it
    own = passage(
        "ZorbOS: Memory as a System Resource",
        "We propose ZorbOS, which treats model memory as a resource the system manages. "
        "ZorbOS cuts memory use by 30%.",
        1,
        0.7,
    )
    q = analyse("Who proposed treating model memory as a resource the system manages?")
    lead = _composer().decide(q, [own]).lead
    assert lead is not None and "ZorbOS" in lead.text
    # a paper whose title only mentions the name, or builds on it, did not introduce it
    user = passage(
        "FedZorb: Communication Efficiency in ZorbLoRA",
        "ZorbLoRA has become ubiquitous for fine-tuning. We cut its communication by 90%.",
        1,
        0.7,
    )
    assert _composer().decide(analyse("Who proposed ZorbLoRA?"), [user]).lead is None


def test_a_how_answer_takes_a_sentence_that_points_back_only_with_what_it_points_to() -> None:
    """ "These efficiency gains … underscore the effectiveness of …" sums up the sentence before
    it: shown without that one it dangles, so it comes with it or not at all."""
    from rag.answer.synthesis import Scored, how_lead

    p = passage(
        "ZorbAudio: Self-Supervised Audio with State Space Models",
        "Transformers are slow on long audio. "
        "We introduce ZorbAudio, an attention-free state space model for audio representations. "
        "ZorbAudio leverages a bidirectional scan to capture audio patterns in both directions. "
        "We incorporate a pretraining framework that optimizes discriminative and generative "
        "objectives on unlabeled audio. "
        "ZorbAudio is 92% faster in batch inference than the transformer baseline. "
        "These efficiency gains, combined with superior performance, underscore the "
        "effectiveness of ZorbAudio's architecture for a wide range of audio applications.",
        1,
        0.7,
    )
    q = analyse("How does ZorbAudio work?")
    lead = how_lead(_composer(), q, p)
    assert lead is not None
    assert "These efficiency gains" not in lead.text or "92% faster" in lead.text
    for n in (1, 2, 3):  # however many sentences are asked for
        picked = Scored(_composer(), q.text, p, None).mechanism(n)
        for i, sentence in enumerate(picked):
            if sentence.startswith("These"):
                assert i > 0 and "92% faster" in picked[i - 1], picked


def test_an_acronym_the_passage_writes_out_is_a_term_not_a_missing_name() -> None:
    """ "How is zQS search made fast …?" of a paper writing "zorb-query-sharding": the acronym
    is the user's shorthand for the passage's words, so the paper answers; it is not a name
    that no paper here is about."""
    from rag.answer.compose import spelled_out
    from rag.answer.synthesis import names_resolved

    text = (
        "Efficient zorb-query-sharding search is a basic task. We make it fast with quux "
        "decomposition, which approximates all pairwise scores from a few rows."
    )
    assert spelled_out("zQS", text)
    assert not spelled_out("zQS", "Efficient zorb search with query caches.")
    assert not spelled_out("zQ", text)  # two letters match word pairs by chance
    paper = passage("Fast Sharded Search for Zorb Models", text, 1, 0.7)
    q = analyse("How is zQS search made fast without an index?")
    assert q.names == ["zQS"]
    resolved = names_resolved(q, [paper])
    assert resolved.names == []
    decision = _composer().decide(resolved, [paper])
    assert decision.lead is not None and decision.reason != "subject"
    # a name the passage itself gives stays a name
    named = passage("zQS: Sharded Search", "We present zQS, zorb query sharding.", 1, 0.7)
    assert names_resolved(q, [named]).names == ["zQS"]


def test_a_topic_given_as_an_alternative_to_a_named_method_is_a_list() -> None:
    """ "new zorb optimizers proposed as alternatives to ZorbAdamW": the name is the reference
    point, so the search-box topic still asks what the collection holds."""
    from rag.answer.question import as_baseline

    topic = "new zorb optimizers proposed as improvements or alternatives to ZorbAdamW"
    assert as_baseline("ZorbAdamW", topic)
    assert analyse(topic).shape == "list"
    assert analyse("zorb optimizers used instead of QuuxProp").shape == "list"
    assert analyse("ZorbAdamW convergence rate?").shape == "single"  # the named paper's fact


def test_a_list_line_that_points_back_is_shown_with_the_sentence_it_points_to() -> None:
    """ "This paper investigates this benefit of …" alone leaves the reader asking which benefit;
    the line gives the sentence before it too, and both are cited parts."""
    from rag.answer.compose import points_back

    assert points_back("This paper investigates this benefit of zorb formats.")
    assert points_back("We propose ZorbKV, which addresses this shortcoming.")
    assert points_back("These gains come from zorb caching.")
    assert not points_back("This paper proposes ZorbKV, a zorb cache for decoding.")
    assert not points_back("It supports formats such as zorb8 and zorb4.")
    benefit = "Zorb8 numbers spend some bits on an exponent, which widens their range."
    ps = [
        passage(
            "Zorb8 Formats: The Power of the Exponent",
            f"Low-bit formats are common. {benefit} This paper investigates this benefit of "
            "zorb8 formats for network inference.",
            1,
            0.7,
        ),
        passage(
            "Zorb8 Training at Scale",
            "We train language models with zorb8 formats and per-tensor scales.",
            2,
            0.68,
        ),
    ]
    lead = list_lead(_composer(), analyse("Which papers study zorb8 formats for inference?"), ps)
    assert lead is not None
    line = next(x for x in lead.text.splitlines() if "[1]:" in x)
    assert "widens their range" in line and "this benefit" in line, line
    assert any(s == benefit for _, s in lead.parts)
    # a line that stands alone is shown alone
    assert "Low-bit formats are common" not in lead.text


def test_which_function_or_format_asks_for_a_name_not_a_number() -> None:
    """ "Which activation function uses a variable threshold …?" asks for the function, not
    the threshold's value: a quantity word inside the clause is not what is asked."""
    q = analyse("which activation function uses a variable threshold during backprop?")
    assert q.kind == "name" and not q.typed
    assert analyse("which number format stores zorb weights in 4 bits?").kind == "name"
    assert analyse("what threshold does ZorbNet use?").kind == "number"


def test_a_setting_typed_as_256x256_is_the_passages_256_x_256() -> None:
    from rag.answer.compose import dimensions_joined

    assert dimensions_joined("FID of 1.70 on ZorbNet 256 x 256 and 512×512") == (
        "FID of 1.70 on ZorbNet 256x256 and 512x512"
    )
    paper = passage(
        "ZorbDiff: Multi-Resolution Diffusion",
        "We present ZorbDiff. ZorbDiff sets a FID of 1.70 on ZorbNet 256 x 256.",
        1,
        0.7,
    )
    decision = _composer().decide(analyse("ZorbDiff FID on ZorbNet 256x256?"), [paper])
    assert decision.lead is not None and "1.70" in decision.lead.text


def test_a_quoted_title_names_its_paper_so_the_question_is_on_topic() -> None:
    from rag.answer.answering import names_a_paper

    paper = passage("Zorb Is All You Need", "We generate text by copying zorb segments.", 1, 0.2)
    q = analyse("In 'Zorb Is All You Need', how is text produced without a vocabulary?")
    assert names_a_paper(q, [paper])
    other = passage("Quux Decoding at Scale", "We decode quux tokens fast.", 1, 0.2)
    assert not names_a_paper(q, [other])


def test_a_device_after_a_baseline_is_the_setting_not_a_baseline() -> None:
    """ "30x faster than QuuxBERT on a Zorbphone Z20": Z20 is where both ran, so a question
    about Z20 is answered by the paper, not refused as naming only a baseline."""
    from rag.answer.question import as_baseline

    s = "Our model is 30x faster during inference than QuuxBERT on Zorbphone Z20 devices."
    assert as_baseline("QuuxBERT", s) and not as_baseline("Z20", s)
    paper = passage("ZorbNet: On-device Intent Detection", f"We present ZorbNet. {s}", 1, 0.7)
    q = analyse("how much faster is ZorbNet than QuuxBERT when running on a Zorbphone Z20?")
    decision = _composer().decide(q, [paper])
    assert decision.lead is not None and "30x" in decision.lead.text


def test_an_acronym_written_out_in_the_chosen_passage_is_present() -> None:
    """ "… during PRM-guided search?" of a paper writing "process reward model": the acronym
    is there in words, so the answer is given, not refused as a model no paper is about."""
    paper = passage(
        "ZTS: Zorb Tree Search",
        "Search against a process reward model is slow. We propose ZTS, which keeps zorb cache "
        "memory down by sharing prefixes across the search tree.",
        1,
        0.7,
    )
    from dataclasses import replace

    q = analyse("how does ZTS keep zorb cache memory down during PRM-guided tree search?")
    decision = _composer().decide(replace(q, names=["ZTS"]), [paper])
    assert decision.lead is not None and decision.reason != "subject"


def test_a_rare_lower_case_name_a_paper_introduces_names_that_paper() -> None:
    """ "what's zorbita?" of an abstract that says "we present zorbita (short for …)": the
    question names that paper, however it is typed, so it is not refused as off-topic."""
    from rag.answer.answering import names_a_paper

    p = passage(
        "What Makes Good Data for Zorb Tuning?",
        "We present zorbita (short for Zorb Instruction Tuning), models tuned on few samples.",
        1,
        0.2,
    )
    q = analyse("what's zorbita? how many samples did they need?")
    assert names_a_paper(q, [p], {"zorbita": 1, "sampl": 40})
    assert not names_a_paper(q, [p], {"zorbita": 40, "sampl": 40})  # a common word: no name


def test_a_turn_giving_two_figures_of_the_conversations_paper_is_about_it() -> None:
    """ "How close does the 162M version get to the 466M baseline?" after a question about
    the paper reporting both sizes: the figures tie the turn to that paper; one common size
    alone does not."""
    from rag.answer.answering import gives_its_figures

    p = passage(
        "Zorb Thinking Transformer",
        "Across 162M-466M parameter models, ZTT reaches 96.5% of a 466M model with 162M.",
        1,
        0.5,
    )
    assert gives_its_figures("how close does the 162M version get to the 466M baseline?", [p])
    assert not gives_its_figures("how good is the 466M one?", [p])
    assert not gives_its_figures("how close does the 70M version get to 466M?", [p])


def test_the_paper_of_a_name_measured_against_is_not_the_subject() -> None:
    """ "How much faster is Z2-Attention than QuuxAttention-2?": the paper that writes its
    name apart ("Zorb-Sharded (Z2) Attention") answers, not QuuxAttention-2's own paper."""
    from rag.answer.compose import mentions

    zorb = passage(
        "Efficient Serving with Sharded Heads",
        "We propose Zorb-Sharded (Z2) Attention. It is 25.3X faster than QuuxAttention-2.",
        1,
        0.6,
    )
    quux = passage(
        "QuuxAttention-2: Faster Attention",
        "We present QuuxAttention-2, which is 2x faster than QuuxAttention.",
        2,
        0.6,
    )
    assert mentions(zorb, "Z2-Attention")
    q = analyse("how much faster is Z2-Attention than QuuxAttention-2?")
    assert _composer().subject_passages(q, [zorb, quux])[0] is zorb
    decision = _composer().decide(q, [zorb, quux])
    assert decision.lead is not None and "25.3X" in decision.lead.text


def test_a_compared_side_no_paper_is_named_by_is_a_description() -> None:
    """ "Zorb decoding for QuuxVA vs OrcaSpec: …": the first side is a paper described in
    words (no paper here is called that), so each side is searched for as written; a side
    that is a paper's title head ("Zorb in a flash") names its paper and stays a name."""
    from dataclasses import replace

    from rag.answer.synthesis import described_if_unnamed

    zorb = passage(
        "On Zorb Decoding for Multimodal Models",
        "We apply zorb decoding to QuuxVA and reach a 2.37x speedup.",
        1,
        0.6,
    )
    orca = passage("OrcaSpec: Reward-Guided Drafting", "OrcaSpec cuts FLOPs 4.4x.", 2, 0.6)
    q = analyse("Zorb decoding for QuuxVA vs OrcaSpec: what gain does each report?")
    q = replace(q, names=["Zorb decoding for QuuxVA", "OrcaSpec"], described=[])
    q = replace(q, shape="comparison")
    found = described_if_unnamed(q, [zorb, orca])
    assert found.described == ["Zorb decoding for QuuxVA", "OrcaSpec"]
    assert found.names == ["OrcaSpec"] and found.ask == "what gain does each report?"
    flash = passage("Zorb in a flash: Efficient Inference", "We run zorb models.", 1, 0.6)
    named = replace(q, names=["Zorb in a flash", "OrcaSpec"])
    assert described_if_unnamed(named, [flash, orca]).described == []
    # a side that runs on past a paper's title name ("Zorbmamba as attention alternatives")
    titled = passage("Zorbmamba: Linear-Time Sequence Models", "We present Zorbmamba.", 1, 0.6)
    runs_on = replace(q, names=["Zorbmamba as attention alternatives", "OrcaSpec"])
    assert described_if_unnamed(runs_on, [titled, orca]).described == []
    # a name typed in lower case that runs on ("zorbinfer on splitting prefill")
    infer = passage("Serving without Stalls", "We realize this idea in ZorbInfer.", 1, 0.6)
    low = replace(q, names=["OrcaSpec", "zorbinfer on splitting prefill"])
    assert described_if_unnamed(low, [infer, orca]).described == []


def test_how_big_asks_for_size_in_the_unit_the_question_ends_with() -> None:
    """ "How big is ZorbUDF in trainable parameters?" asks its size: the sentence giving
    "653 KB of trainable parameters", not the one saying what the paper presents."""
    from rag.answer.compose import introduces

    q = analyse("how big is the ZorbUDF reconstruction model in trainable parameters?")
    assert {"size", "paramet"} <= q.attribute
    paper = passage(
        "A Lightweight Zorb Learning Framework for 3D Reconstruction",
        "This paper presents a novel neural framework, ZorbUDF, for reconstructing surfaces. "
        "Despite being lightweight, with only 653 KB of trainable parameters, it is robust.",
        1,
        0.7,
    )
    assert introduces(paper, "ZorbUDF")  # the name in apposition after "presents a … framework,"
    decision = _composer().decide(q, [paper])
    assert decision.lead is not None and "653 KB" in decision.lead.text


def test_a_claim_then_how_is_that_possible_asks_how_it_works() -> None:
    assert analyse("ZorbI2V says it adds zero inference cost - how is that possible?").shape == (
        "how"
    )
    assert analyse("ZorbNet drafts without a draft model; how does it do that?").shape == "how"
    assert analyse("ZorbNet: how does it perform on ImageNet?").shape != "how"
    assert analyse("ZorbNet detoxes text without training data - how?").shape == "how"
    # an opening clause, then the how
    opened = "Instead of a search over graphs, how does ZorbNet find the structure?"
    assert analyse(opened).shape == "how"
    assert analyse("For speech models, how much memory does ZorbNet save?").shape != "how"


def test_an_amount_asked_in_its_unit_is_a_figure_in_that_unit() -> None:
    """ "ZorbStereo runtime in milliseconds per frame?" asks a time in ms: a sentence saying the
    method is "the fastest" does not give it, so the answer is "not stated"."""
    q = analyse("ZorbStereo runtime in milliseconds per frame on QuuxBench?")
    assert q.kind == "number" and "ms" in q.attribute
    paper = passage(
        "ZorbStereo: Iterative Geometry for Stereo",
        "We present ZorbStereo. ZorbStereo ranks 1st on QuuxBench and is the fastest method.",
        1,
        0.7,
    )
    assert _composer().decide(q, [paper]).lead is None
    timed = passage(
        "ZorbStereo: Iterative Geometry for Stereo",
        "We present ZorbStereo. ZorbStereo runs at 54 ms per frame on QuuxBench.",
        1,
        0.7,
    )
    lead = _composer().decide(q, [timed]).lead
    assert lead is not None and "54 ms" in lead.text


def test_a_list_label_carries_the_papers_other_name() -> None:
    """A list names a paper as the reader may know it either way: the long form its abstract
    spells out beside the acronym, or the method a slogan title introduces."""
    from rag.answer.synthesis import abbreviation_of, label

    ee = passage("Zorb Inference for Blind Servers", "We introduce Zorb Encryption (ZE).", 1, 0.5)
    assert label(ee) == "Zorb Encryption (ZE)"
    bam = passage(
        "ZAM! Just Like That: Simple Upcycling",
        "We propose ZAM (Zorb-Attend-Mix), a simple method.",
        1,
        0.5,
    )
    assert label(bam) == "ZAM (Zorb-Attend-Mix)"
    slogan = passage(
        "No Zorb Left Behind: Reliable Cache Compression",
        "We propose Mixed-precision zorb cache~(MiZC), a reliable method. MiZC keeps pairs.",
        1,
        0.5,
    )
    assert label(slogan) == "MiZC"  # the name it defines, as "cache~(MiZC)" writes it
    coined = passage(
        "Train Small, Zorb Large: Memory-Efficient Training",
        "We propose ZoRAM, a memory-efficient scheme. ZoRAM trains small.",
        1,
        0.5,
    )
    assert label(coined) == "Train Small, Zorb Large (ZoRAM)"
    # a bracketed word that is not the name's long form is not added
    other = passage("ZorbNet: Fast Nets", "ZorbNet runs fast on Quux Chips (QCX).", 1, 0.5)
    assert label(other) == "ZorbNet"
    assert abbreviation_of("ZAM", "Zorb-Attend-Mix") and not abbreviation_of("ZAM", "Quux Mix")


def test_an_empty_question_is_analysed_without_error() -> None:
    assert analyse("").shape == "single" and analyse("   ").names == []


def test_name_of_the_approach_asks_a_name() -> None:
    assert analyse("Zorb paper with a quux bottleneck. Name of the approach?").kind == "name"
    assert analyse("What does ZorbNet do? name?").kind == "name"
    assert analyse("zorb caching - what is there?").shape == "list"


def test_a_formatting_command_left_open_shows_its_words_not_its_name() -> None:
    from rag.core.text import clean_display

    shown = clean_display(r"by introducing \textbf{Zorb \textbf{Integrity Encoding} (ZIE).")
    assert shown == "by introducing Zorb Integrity Encoding (ZIE)."
    assert clean_display(r"a \emph{zorb} cache") == "a zorb cache"


def test_what_each_proposes_and_reports_is_two_asks_and_the_report_is_a_result() -> None:
    """ "What does each propose and report?": each side says what its paper does and the result
    it reports; the model sizes it was tested with are not that result."""
    from rag.answer.compose import facets_of
    from rag.answer.synthesis import headline_result

    assert facets_of("what does each propose and report?") == [
        "what does each propose?",
        "what does each report?",
    ]
    assert facets_of("what does each model and dataset cover?") == [
        "what does each model and dataset cover?"
    ]
    paper = passage(
        "Let the Zorb LLM Edit Itself",
        "We introduce Zorb Integrity Encoding (ZIE), which reapplies rotary matrices. We "
        "validate ZIE through experiments with 1.3B, 6.7B, and 33B parameters. Results "
        "demonstrate that ZIE reduces computational overhead by over 85%.",
        1,
        0.7,
    )
    result = headline_result(_composer(), "zorb editing", paper)
    assert result is not None and "85%" in result
    other = passage(
        "QuuxEdit: Fast Code Edits",
        "We propose QuuxEdit, which re-encodes only edited lines. QuuxEdit is 3.1x faster.",
        2,
        0.6,
    )
    q = analyse("Compare Zorb Integrity Encoding and QuuxEdit: what does each propose and report?")
    lead = comparison_lead(_composer(), q, [paper, other])
    assert lead is not None
    assert "rotary" in lead.text and "85%" in lead.text and "3.1x" in lead.text, lead.text


def test_a_greek_letter_in_a_name_is_typed_as_its_latin_letter() -> None:
    """ "ZεrbS" is typed "ZerbS": the question names the paper, and the paper is found."""
    from rag.answer.answering import names_a_paper
    from rag.answer.compose import titled
    from rag.core.text import squash

    assert squash("ZεrbS: Delayed ε-Zorbing") == squash("ZerbS: Delayed e-Zorbing")
    assert titled("ZerbS", "ZεrbS: Delayed ε-Zorbing for Faster Quux Training")
    paper = passage(
        "ZεrbS: Delayed ε-Zorbing for Faster Quux Training",
        "We propose Delayed epsilon-Zorbing (ZepsilonrbS), which starts zorbing late.",
        1,
        0.3,
    )
    assert names_a_paper(analyse("how does ZerbS work?"), [paper])


def test_a_dataset_or_model_name_with_a_hyphen_is_not_a_figure() -> None:
    """ "ImageNet-1k", "CIFAR-10", "GPT-3", "CIFAR10/100" hold digits, not measured figures: a
    sentence naming them does not state an asked amount."""
    q = analyse("How much accuracy does ZorbNet gain?")
    assert not states_attribute(
        q, "ZorbNet outperforms prior training on CIFAR-10, CIFAR10/100 and ImageNet-1k accuracy."
    )
    assert states_attribute(q, "ZorbNet gains 1.8% higher ImageNet-1k accuracy than GPT-3 runs.")


def test_what_a_paper_gains_is_the_result_it_measures_in_speed_or_cost_too() -> None:
    """ "What does X gain?": a speedup is a gain, and the sentence reporting the measured result
    answers, not the proposal sentence with a setting's figure in it."""
    q = analyse("what does ZorbAttention-2 gain over ZorbAttention?")
    assert states_attribute(q, "These yield around 2× speedup compared to ZorbAttention.")
    paper = passage(
        "ZorbS: Delayed Zorbing for Faster Quux Training",
        "We propose ZorbS, which starts zorbing the quux model when it is partially trained "
        "(~50%), which leads to quux cost improvement. ZorbS outperforms quux training on "
        "accuracy and cost. It achieves 1.83% higher accuracy and a 2.5x drop in quux cost.",
        1,
        0.7,
    )
    ranked = _composer().sentences(analyse("what does ZorbS gain over quux training?"), paper)
    assert "2.5x" in ranked[0].sentence, ranked[0].sentence


def test_a_clipped_word_the_collection_lacks_is_found_in_its_full_form() -> None:
    """ "vocab" is "vocabulary" shortened: a passage that says "vocabulary" covers it. A word the
    collection has ("model") is not matched by the longer words it begins ("model-based")."""
    from rag.answer.answering import evidence_of

    known = {"vocabulari", "zorb", "cach", "cache-awar", "extend"}

    def idf(token: str) -> float:
        return 1.0 if token in known else 5.0  # a word no chunk has weighs most

    p = passage("Zorb: Extending Vocabularies", "We extend the vocabulary of a zorb.", 1, 0.4)
    assert evidence_of("extending the zorb vocab", [p], idf).lexical == 1.0
    assert evidence_of("extending the zorb sourdough", [p], idf).lexical < 0.5
    q = passage("Zorb", "A cache-aware zorb.", 1, 0.4)
    assert evidence_of("zorb caching", [q], idf).lexical < 1.0


def test_a_name_only_one_chunk_uses_in_a_sized_variant_names_its_paper() -> None:
    """ "NorZorb" of "… with 11.4 billion parameters: NorZorb-11B": the only chunk that has
    the name answers a question about it, though its title does not give it."""
    from rag.answer.answering import names_a_paper

    p = passage(
        "Small Languages, Big Zorbs",
        "We release a new model with 11.4 billion parameters: NorZorb-11B.",
        1,
        0.2,
    )
    q = analyse("how many parameters does NorZorb have?")
    assert names_a_paper(q, [p], {"norzorb-11b": 1, "zorb": 40})
    assert not names_a_paper(q, [p], {"norzorb-11b": 9, "zorb": 40})  # used widely: not its own


def test_a_one_letter_unit_glued_to_its_figure_is_a_unit() -> None:
    """ "3.4B Chinese words", "only 0.5M": billions and millions glued to the figure answer
    "how big" and "how many parameters"."""
    big = analyse("how big was the zorb pre-training corpus?")
    assert states_attribute(big, "We conduct secondary pre-training on 3.4B Zorbish words.")
    params = analyse("how many parameters does ZorbAdapter add?")
    assert states_attribute(params, "ZorbAdapter with only 0.5M can process any resolution.")


def test_a_bit_width_is_answered_by_a_figure_in_bits() -> None:
    q = analyse("at what bit width do ZorbQ models match 4-bit QuuxQ?")
    assert q.attribute == {"bit-width"}
    assert states_attribute(q, "3.1-bit models using ZorbQ perform comparably to 4-bit QuuxQ.")
    assert not states_attribute(q, "ZorbQ keeps the width of each layer as it is.")


def test_the_asked_kind_may_be_written_in_its_plural_near_the_name() -> None:
    """ "… on eight of eleven metrics selected from ZBench" names a benchmark suite."""
    from rag.answer.compose import analyse_facet, facets_of

    q = analyse("what baseline does ZorbVid beat and on which benchmark suite?")
    suite = analyse_facet(q, facets_of(q.text)[-1])
    s = "ZorbVid outperforms QuuxSora on eight of eleven metrics selected from ZBench."
    assert states_attribute(suite, s)


def test_a_context_sentence_before_the_ask_keeps_its_full_stop() -> None:
    """The context of a follow-up ("… on phones. what do they fine-tune …?") stays a sentence
    of its own in each ask, so the asking sentence is weighed apart from it."""
    from rag.answer.compose import ask_of, facets_of

    text = "zorb GANs for image editing on phones. what do they fine-tune instead of the GAN?"
    assert facets_of(text) == [text]
    assert ask_of(text) == "what do they fine-tune instead of the GAN?"
    assert ask_of("What is ZorbNet? what does it prune?") == "what does it prune?"


def test_a_list_label_gives_the_system_name_the_abstract_uses() -> None:
    """A title without a name ("Inference without Zorbs") whose abstract calls its system by
    one ("We realize this idea in ZorbInfer") is listed with it; a model the paper works on in
    sizes ("QuuxVA 7B") or an abbreviation of the title's words ("MoZ") is not its name."""
    realised = passage(
        "Inference without Zorbs: Disaggregate Quux Serving",
        "We realize this idea in ZorbInfer through three pillars. Results show that ZorbInfer "
        "improves latency.",
        1,
        0.5,
    )
    assert label(realised) == "Inference without Zorbs (ZorbInfer)"
    sized = passage(
        "On Zorb Decoding for Multimodal Models",
        "We study QuuxVA 7B. We introduce a compact QuuxVA draft model. QuuxVA runs fast.",
        1,
        0.5,
    )
    assert "QuuxVA" not in label(sized)
    acronym = passage(
        "Dense Training, Sparse Zorbs: Rethinking Mixture-of-Zorbs Models",
        "MoZ models are costly. MoZ layers route tokens. We train them densely.",
        1,
        0.5,
    )
    assert "MoZ" not in label(acronym)


def test_the_second_one_is_the_second_paper_the_previous_question_named() -> None:
    """ "the second one - how big is its dataset?" after "What are ZorbGen and QuuxGen about?"
    asks about QuuxGen; "the former" about ZorbGen."""
    names = ["ZorbGen", "QuuxGen"]
    assert resolved("the second one - how big is its dataset?", names) == (
        "QuuxGen - how big is its dataset?"
    )
    assert resolved("and what does the former generate?", names) == (
        "and what does ZorbGen generate?"
    )
    assert resolved("what does the first layer do?", names) is None  # not a paper's place


def test_how_big_is_answered_by_a_count_in_thousands() -> None:
    q = analyse("how big is the video dataset ZorbGen collected?")
    assert states_attribute(q, "The authors collect a large-scale dataset of 200k videos.")


def test_a_sentence_picked_for_one_ask_that_states_another_answers_both() -> None:
    """ "How much faster …, and on which benchmark suite?" of one sentence giving both ("On the
    18 datasets of the ZorbML-CC18 suite … with up to 230× speedup"): that sentence answers
    both asks; a second sentence is not added for the suite."""
    p = passage(
        "ZorbPFN: Tables in a Second",
        "ZorbPFN is trained offline once on a synthetic dataset, ZorbPrior. On the 18 "
        "datasets in the ZorbML-CC18 suite, ZorbPFN performs on par with AutoML systems with "
        "up to 230× speedup.",
        1,
        0.7,
    )
    q = analyse(
        "How much faster than AutoML systems is ZorbPFN, and on which benchmark suite was "
        "this shown?"
    )
    lead = _composer().lead(q, [p])
    assert [s for _, s in lead.parts] == [
        "On the 18 datasets in the ZorbML-CC18 suite, ZorbPFN performs on par with AutoML "
        "systems with up to 230× speedup."
    ]


def test_how_many_is_not_answered_by_a_duration_and_a_length_is_one() -> None:
    """ "How many videos …?" is not answered by "videos covering at least 10 seconds" (a
    duration), but by "2 million long-take videos"; "the minimum length of each" is answered by
    the duration."""
    many = analyse("how many videos does ZorbSet contain?")
    assert not states_attribute(many, "ZorbSet has long videos covering at least 10 seconds.")
    assert states_attribute(many, "ZorbSet comprises 2 million long-take videos.")
    length = analyse("what is the minimum length of each ZorbSet video?")
    assert states_attribute(length, "ZorbSet has long videos covering at least 10 seconds.")
    # a count of training tokens is not a sequence length
    sequence = analyse("What sequence length was ZorbLM-7B pretrained with?")
    assert not states_attribute(sequence, "ZorbLM is trained on 2 trillion training tokens.")


def test_a_percentage_asked_in_words_is_covered_by_the_percent_sign() -> None:
    from rag.answer.answering import evidence_of

    def idf(token: str) -> float:
        return 6.0 if token.startswith("percent") else 1.0  # no chunk writes the word

    p = passage("Zorb RNNs", "Zorb adds as little as 0.04% of the parameters.", 1, 0.4)
    assert evidence_of("zorb parameters as a percentage", [p], idf).lexical == 1.0
    q = passage("Zorb RNNs", "Zorb adds a few parameters.", 1, 0.4)
    assert evidence_of("zorb parameters as a percentage", [q], idf).lexical < 0.5


def test_why_after_and_is_an_ask_of_its_own_and_a_dash_ends_the_context() -> None:
    """ "ZorbVOS paper - what do they change in the affinity, and why does it help?": two asks;
    the words before the dash describe the paper, the ask follows it."""
    from rag.answer.compose import ask_of, facets_of

    q = "zorb VOS paper - what do they change in the affinity and why does it help?"
    assert len(facets_of(q)) == 2 and facets_of(q)[1] == "why does it help?"
    assert ask_of(q).startswith("what do they change in the affinity")


def test_why_a_baseline_is_slow_and_what_the_paper_does_gives_its_problem_and_mechanism() -> None:
    """ "why is QuuxNeXt slow on A100s, and what does ZorbNeXt do about it?": the problem the
    paper states, then how it works, under the paper's own name (not the baseline its title
    also names)."""
    from rag.answer.synthesis import how_lead

    p = passage(
        "ZorbNeXt: When Zorb Meets QuuxNeXt",
        "Large kernels are widely adopted, like the remarkable work QuuxNeXt. Although such "
        "depthwise operators consume few FLOPs, they harm efficiency on GPUs due to high memory "
        "access costs. We propose to decompose the large kernel into four parallel branches. "
        "ZorbNeXt-T achieves 1.6x higher throughput than QuuxNeXt-T.",
        1,
        0.7,
    )
    q = analyse(
        "why is QuuxNeXt slow on A100s despite low FLOPs, and what does ZorbNeXt do about it?"
    )
    lead = how_lead(_composer(), q, p)
    assert lead is not None
    assert "memory access costs" in lead.text and "four parallel branches" in lead.text, lead.text
    assert not lead.text.startswith("QuuxNeXt")
    # "why is X a problem for …?": the same why of a shortcoming, worded as a problem
    q = analyse("Why is the usual QuuxNeXt kernel a problem for GPUs?")
    lead = how_lead(_composer(), q, p)
    assert lead is not None and "memory access costs" in lead.text, lead


def test_a_figure_inside_a_lower_case_model_name_is_not_a_given_setting() -> None:
    """ "over a single gpt-3.5-turbo run": 3.5 is the model's name, which the abstract writes
    "GPT-35-turbo"; the paper still states the improvement."""
    p = passage(
        "ZorbLAN: An Agent Network",
        "ZorbLAN achieves 13.3% improvement on HumanEval compared to a single GPT-35-turbo run.",
        1,
        0.7,
    )
    q = analyse("how much does ZorbLAN improve HumanEval over a single gpt-3.5-turbo run?")
    assert _composer().decide(q, [p]).lead is not None


def test_the_sizes_a_model_family_comes_in_name_it_not_a_setting() -> None:
    """ "Zorb2 1.2B/2.7B/7.4B: how many training tokens?": the sizes name the suite; the
    sentence giving the tokens answers though it does not repeat the sizes."""
    from rag.answer.compose import situational_figures

    assert situational_figures(analyse("Zorb2 1.2B/2.7B/7.4B: up to how many tokens?")) == set()
    assert situational_figures(analyse("how fast is Zorb 70B on 8 GPUs?")) == {"8", "70b"}


def test_which_scheduler_asks_a_name_not_a_learning_rate() -> None:
    q = analyse("which learning rate scheduler did the ZorbLM team study?")
    assert q.kind == "name"


def test_a_figure_right_after_the_asked_dataset_is_its_figure() -> None:
    """ "what accuracy does it get on Stanford Zorbs?" of "accuracy on datasets such as Stanford
    zorbs (96.0%), CIFAR-10 (99.0%)": the dataset is where it was measured (not a subject no
    paper is about), and the figure after it answers."""
    q = analyse("ZorbResNet transfer results - what accuracy does it get on Stanford Zorbs?")
    s = (
        "ZorbResNet models achieve state-of-the-art accuracy on competitive single-label "
        "classification datasets such as Stanford zorbs (96.0%), CIFAR-10 (99.0%) and "
        "Oxford-Flowers (99.1%)."
    )
    assert states_attribute(q, s)
    p = passage(
        "ZorbResNet: GPU-Dedicated Nets", f"ZorbResNet reaches 80.8 top-1 on ImageNet. {s}", 1, 0.7
    )
    lead = _composer().decide(q, [p]).lead
    assert lead is not None and "96.0%" in lead.text, lead


def test_a_suspended_hyphen_is_read_as_both_words() -> None:
    """ "for NLI- and NSP-based models": the NLI-based model's setting is there."""
    from rag.core.text import suspended_joined

    assert suspended_joined("for NLI- and NSP-based models") == "for NLI-based and NSP-based models"
    p = passage(
        "Conformal Zorbs for Zero-shot Classifiers",
        "We reduce the average inference time for NLI- and NSP-based models by 25.6% and 22.2%.",
        1,
        0.7,
    )
    q = analyse("by what percent does average inference time drop for the NLI-based model?")
    lead = _composer().decide(q, [p]).lead
    assert lead is not None and "25.6%" in lead.text, lead


def test_web_scale_is_a_compound_not_a_question_of_how_it_scales() -> None:
    q = "how does ZorbDS keep retrieval fast on one node over a web-scale datastore?"
    assert analyse(q).shape == "how"
    assert analyse("How does ZorbNet scale to 70B?").shape != "how"


@pytest.mark.parametrize(
    "question",
    [
        "In Zorb SD how is the diffusion process split between cloud and edge?",
        "we want w4a4 llama on edge boards - how does Zorb-Quant implement the matmuls?",
        "for our phones: how does ZorbQuant run 4-bit matmuls?",
    ],
)
def test_how_after_a_leading_clause_without_a_comma_asks_how_it_works(question: str) -> None:
    assert analyse(question).shape == "how"


def test_by_what_percent_sign_asks_a_percentage() -> None:
    q = analyse("zorb paper - by what % did their method reduce generated tokens on MATH500?")
    assert q.kind == "number" and q.typed
    assert not states_attribute(q, "Our approach reduces overhead on GSM8K, MATH500 and AIME.")
    assert states_attribute(q, "Our approach reduces generated tokens by 48.6% on MATH500.")


def test_a_latex_accent_shows_its_accented_letter() -> None:
    from rag.core.text import clean_display

    assert clean_display(r"Northern S\'ami and G\"{o}del") == "Northern Sámi and Gödel"


def test_each_of_one_papers_items_is_not_a_comparison_of_papers() -> None:
    """ "how many videos are in ZorbSet and how long is each?": each video, one paper; "what
    does each report?" still asks several."""
    q = analyse("how many videos are in ZorbSet-2M and how long is each?")
    assert q.shape == "single" and not q.plural and q.described == []
    assert analyse("what is the minimum length of each?").plural is False
    assert analyse("ZorbKV vs QuuxKV: what does each report?").plural


def test_how_many_parameters_is_not_answered_by_a_count_of_data_or_tokens() -> None:
    q = analyse("How many parameters does the ZorbLM system-domain model have?")
    assert not states_attribute(
        q, "We pre-train ZorbLM on 6T tokens, with 19.5B system domain data."
    )
    assert states_attribute(q, "We release ZorbLM with 11.4 billion parameters.")


def test_the_title_head_typed_in_the_question_does_not_choose_the_sentence() -> None:
    """ "what does Zorb FullNet do to cut compute along the time axis?": the title head chose
    the passage; the sentence about the time axis answers, not the one repeating the name."""
    p = passage(
        "Zorb FullNet: Accelerate Full-band Fusion for Speech Enhancement",
        "Specifically, Zorb FullNet processes sub-band spectra in the mel-frequency domain. "
        "After that, a down-sampling operation reduces the computational complexity along the "
        "time axis. Experimental results show that, compared to FullNet, Zorb FullNet has only "
        "13% computational complexity.",
        1,
        0.7,
    )
    q = analyse(
        "besides working in the mel domain, what does Zorb FullNet do to cut compute along the "
        "time axis?"
    )
    assert "down-sampling" in _composer().sentences(q, p)[0].sentence


def test_authors_doing_something_is_not_a_question_for_the_authors() -> None:
    """ "how many hours of video did the Zorb authors collect?" asks for the hours; the authors
    are asked as the wh-word's head, as "the authors of X" or as the question's last word."""
    assert analyse("how many hours of speech video did the Zorb authors collect?").kind == "number"
    assert analyse("which dataset did the ZorbNet authors release?").kind == "dataset"
    assert analyse("Who are the authors of ZorbNet?").kind == "authors"
    assert analyse("which authors proposed ZorbNet?").kind == "authors"
    assert analyse("ZorbNet authors?").kind == "authors"


def test_an_amount_that_is_the_object_of_the_how_does_not_make_it_a_figure_question() -> None:
    """ "how does ZorbGen decide how much of the model to use?" asks how it decides; a clause
    that asks the amount ("…, and how much faster is it?") still asks a figure."""
    q = analyse("how does ZorbGen decide how much of the diffusion model to use for each prompt?")
    assert (q.kind, q.shape) == ("describe", "how")
    assert analyse("how does ZorbGen prune the model, and how much faster is it?").kind == "number"
    both = analyse("how does ZorbGen decide how much to prune? What savings does it report?")
    assert both.kind == "number"


def test_the_acronym_a_paper_gives_its_own_name_names_it() -> None:
    """ "ZFA imagenet top-1 on mobile?": the paper titled "Zorb-for-All" calls itself "a
    zorb-for-all (ZFA) network"; the question names it, before a better-ranked other paper."""
    from rag.answer.compose import names_own

    zfa = passage(
        "Zorb-for-All: Train One Network and Specialize it",
        "In this work, we propose to train a zorb-for-all (ZFA) network that supports diverse "
        "settings. ZFA achieves 80.0% ImageNet top-1 accuracy under the mobile setting.",
        2,
        0.6,
    )
    other = passage(
        "QuuxFormer: Vision Transformers at Mobile Speed",
        "QuuxFormer-L1 achieves 79.2% top-1 accuracy on ImageNet with 1.6 ms latency on mobile.",
        1,
        0.7,
    )
    assert names_own("ZFA imagenet top-1 on mobile?", zfa)
    assert not names_own("ZFA imagenet top-1 on mobile?", other)
    lead = _composer().decide(analyse("ZFA imagenet top-1 on mobile?"), [other, zfa]).lead
    assert lead is not None and "80.0%" in lead.text


def test_why_faster_than_the_old_way_gives_the_old_ways_cost_too() -> None:
    """ "why does Zorb-Free run faster than ZorbNet?": the cost the paper finds in ZorbNet is
    half of the reason, beside what Zorb-Free does instead."""
    text = _how_text(
        "Zorb-Free: Faster Vision Backbones without Shifted Windows",
        "ZorbNet is a strong vision backbone. However, shifting windows introduces memory copy "
        "operations, which account for a significant portion of its runtime. We propose "
        "Zorb-Free, in which we apply size-varying windows across stages instead of shifting "
        "windows. With this change, Zorb-Free runs faster than "
        "ZorbNet with better accuracy. We evaluate Zorb-Free on ImageNet and COCO.",
        "why does Zorb-Free run faster than ZorbNet?",
    )
    assert "memory copy" in text and "size-varying windows" in text


def test_the_trick_or_idea_of_a_method_asks_how_it_works() -> None:
    assert analyse("whats the trick in ZorbDrop for cutting image tokens in LVLMs").shape == "how"
    assert analyse("What's the idea of the zorb decoding approach for translation?").shape == "how"
    assert analyse("What is the trick called?").shape != "how"


def test_a_name_coined_after_a_latex_non_breaking_space_is_the_papers_name() -> None:
    """ "we propose a frame-aware zorb model~(FZM)": the "~" of the LaTeX source is a space."""
    from rag.answer.compose import coined_name

    p = passage(
        "Redefining Temporal Modeling in Zorb Diffusion: The Vectorized Timestep Approach",
        "To address this limitation, we propose a frame-aware zorb diffusion model~(FZM), which "
        "introduces a vectorized timestep variable. FZM lets each frame follow its own schedule.",
        1,
        0.7,
    )
    assert coined_name(p) == "FZM"
    q = analyse("is there a zorb diffusion paper where each frame follows its own noise schedule?")
    assert q.kind == "name"


def test_a_factor_in_times_is_not_how_long_something_takes() -> None:
    q = analyse("how long does ZorbANN take to build its index?")
    assert not states_attribute(q, "ZorbANN is 2times faster than QuuxANN at the same recall.")
    assert not states_attribute(q, "ZorbANN is 2 times faster than QuuxANN at the same recall.")
    assert states_attribute(q, "Building the ZorbANN index takes 3 hours on one machine.")
    speed = analyse("how much faster does ZorbTTS train than QuuxTron?")
    assert states_attribute(speed, "ZorbTTS trains about 4.25 times faster than QuuxTron.")


def test_a_name_the_paper_proposes_passively_or_calls_our_is_its_name() -> None:
    from rag.answer.compose import coined_name

    passive = passage(
        "Cross-Scale Zorb Hashing for Fine-Grained Image Binary Encoding",
        "In order to solve these problems, a Cross-Scale Zorb Hashing Network (CSZ-Net) is "
        "proposed in this paper. Unlike previous methods, our CSZ-Net learns a dynamic sign "
        "function.",
        1,
        0.7,
    )
    assert coined_name(passive) == "CSZ-Net"
    first = passage(
        "Diffusion-Based Zorb Pose Estimation",
        "In this paper, a novel Zorb Pose estimation (Z3DP) method with Joint-wise Aggregation "
        "(JWA) is proposed for pose estimation. The proposed Z3DP is compatible with others.",
        1,
        0.7,
    )
    assert coined_name(first) == "Z3DP"
    part = passage(
        "An Efficient Sparse Zorb Accelerator",
        "We apply our sparse accelerator to language models. Moreover, our ZorbMM kernel shows "
        "up to 5x speedup over dense kernels.",
        1,
        0.7,
    )
    assert coined_name(part) == ""


def test_a_name_the_abstract_makes_its_subject_twice_is_the_papers_name() -> None:
    from rag.answer.compose import coined_name

    p = passage(
        "Fast Timing-Conditioned Latent Zorb Diffusion",
        "Generating long-form stereo audio can be demanding. Zorb Audio is based on latent "
        "diffusion with a convolutional autoencoder. Zorb Audio is capable of rendering 95 sec "
        "of stereo in 8 sec on an A100 GPU.",
        1,
        0.7,
    )
    assert coined_name(p) == "Zorb Audio"
    once = p.model_copy(update={"text": "Zorb Audio is based on latent diffusion."})
    assert coined_name(once) == ""


def test_a_throughput_gain_is_a_throughput_not_any_reduction() -> None:
    q = analyse("what throughput gain did ZorbCache report on the production workload?")
    assert not states_attribute(
        q,
        "On production workloads, ZorbCache reduces redundant computation by 51% over prefix "
        "caching.",
    )
    assert states_attribute(
        q,
        "On a real production workload, we get a 1.6X speed up in throughput over prefix caching.",
    )


def test_a_restated_word_that_only_shares_the_stem_is_a_new_word() -> None:
    """The 135M restatement must add no word of its own: "fully-convoluted" for the passage's
    "fully-convolutional" shares its stem and says something else; "proposes" for "propose"
    is the same word."""
    from rag.answer.answering import _new_words

    source = "Zorb Audio is based on latent diffusion, with a fully-convolutional autoencoder."
    assert _new_words("Zorb Audio has a fully-convoluted autoencoder", source) == [
        "fully-convoluted"
    ]
    assert _new_words("Zorb Audio is based on latent diffusion", source) == []
    assert _new_words("The authors proposes Zorb", "the authors propose Zorb, a method") == []


def test_what_it_is_built_on_says_what_it_is() -> None:
    from rag.answer.compose import defines

    assert defines("Zorb Audio", "Zorb Audio is based on latent diffusion with an autoencoder.")
    assert not defines("Zorb Audio", "Zorb Audio is capable of rendering 95 sec of stereo.")


def test_a_rarely_used_name_counts_its_sized_variants() -> None:
    """ "ZorbMistral" names the paper of "ZorbMistral-11B": the name with its variants is in at
    most RARE_WORD_CHUNKS chunks; a common name, or one no chunk has, is not rare."""
    from collections import Counter

    from rag.answer.answering import _rarely_used

    df = Counter(
        {"zorbmistral-11b": 1, "quux": 40, "quux-2": 1, "zorb": 2, "zorb-7b": 1, "zorb-9b": 1}
    )
    assert _rarely_used("ZorbMistral", df)
    assert not _rarely_used("Quux", df)
    assert not _rarely_used("Zorb", df)  # 4 chunks with its variants
    assert not _rarely_used("Blip", df)
    grown = Counter({**df, "blip-3b": 1})  # a new index build: new statistics
    assert _rarely_used("Blip", grown)


def test_which_ones_and_whats_out_there_ask_for_the_collections_papers() -> None:
    assert analyse("lightweight zorb backbones built on mamba - which ones are in here?").shape == (
        "list"
    )
    assert analyse("what is out there on zorb cache quantization?").shape == "list"
    assert analyse("which one is faster, ZorbKV or QuuxKV?").shape != "list"


def test_why_is_answered_by_what_the_paper_observed_before_its_proposal() -> None:
    """ "why does ZorbViT change the attention?": "We observe Softmax accounts for the major
    latency bottleneck …", before the proposal, is the reason, not background."""
    text = _how_text(
        "ZorbViT: Searching for Efficient Vision Transformers for Secure Inference",
        "Secure multi-party computation enables computation on encrypted data. However, existing "
        "vision transformers are not designed for it. We observe Softmax accounts for the major "
        "latency bottleneck due to a high communication complexity. Hence, we propose ZorbViT to "
        "enable efficient inference. We also develop an architecture search algorithm.",
        "why does ZorbViT bother changing the attention mechanism for secure inference?",
    )
    assert "communication complexity" in text


def test_a_quoted_title_that_opens_with_a_lower_case_name_is_a_title() -> None:
    """ "What does the paper "zbATLAS: An Efficient …" report as its main result?": the title
    chose the passage and its words do not choose the sentence; the result answers, not the
    proposal sentence that repeats the title's words."""
    from rag.answer.question import quoted_titles

    title = "zbATLAS: An Efficient Disambiguation Algorithm for Texting in Abugida Scripts"
    assert quoted_titles(f'What does the paper "{title}" report as its main result?') == [title]
    assert quoted_titles("how does ZorbKV use its 'observation' window?") == []
    p = passage(
        title,
        "To this end, we propose a disambiguation algorithm for texting in abugida scripts. We "
        "benchmark these approaches using public datasets, and show an improvement in typing "
        "speed by 19.49% in Hindi.",
        1,
        0.7,
    )
    q = analyse(f'What does the paper "{title}" report as its main result?')
    assert "19.49%" in _composer().sentences(q, p)[0].sentence


def test_a_device_is_named_by_its_model_number_not_its_makers_words() -> None:
    """ "on an RTX 4090" is answered by an abstract writing "NVIDIA 4090"; a different model
    number is still another device."""
    zorb = passage(
        "ZorbDrive: Truncated Zorb Policy",
        "We propose ZorbDrive, a truncated zorb policy for driving. ZorbDrive needs just 2 steps "
        "and runs at a real-time speed of 45 FPS on an NVIDIA 4090.",
        1,
        0.7,
    )
    asked = analyse("zorbdrive - how fast does it run on an RTX 4090?")
    lead = _composer().decide(asked, [zorb]).lead
    assert lead is not None and "45 FPS" in lead.text
    other = analyse("zorbdrive - how fast does it run on an RTX 3090?")
    assert _composer().decide(other, [zorb]).lead is None


def test_a_digit_glued_to_a_capital_is_a_name_not_the_figure_a_result_is_measured_at() -> None:
    """ "in 5G" names the field, so the result sentence need not hold a 5 to answer."""
    zorb = passage(
        "Double-Threshold Zorb Detection in 5G Networks",
        "With the evolution of 5G networks, zorb attacks became a threat. We introduce a "
        "double-threshold zorb detector. Results show that the proposed method achieves 96.4% "
        "detection rate in extra low zorb power.",
        1,
        0.7,
    )
    q = analyse("For the double-threshold zorb detector in 5G, what detection rate is reported?")
    lead = _composer().decide(q, [zorb]).lead
    assert lead is not None and "96.4%" in lead.text


def test_a_figure_asked_beside_the_papers_own_name_for_its_method_is_answered() -> None:
    """ "By how much does X beat Y, and what is its strategy called?": each ask its sentence;
    the figure's sentence answers its own ask, whatever the name ask needs."""
    zorb = passage(
        "ZorbScale: Efficient Scaling of Zorb Training",
        "We present ZorbScale, a framework for zorb training. The core of ZorbScale is a novel "
        "parallelism strategy, namely Hybrid Zorb Parallelism (HZP), which unifies data "
        "partitioning. Experiment results show that ZorbScale outperforms the state-of-the-art "
        "training system by up to 7.89x.",
        1,
        0.7,
    )
    q = analyse(
        "By how much does ZorbScale beat the state-of-the-art training system, and what is its "
        "parallelism strategy called?"
    )
    lead = _composer().decide(q, [zorb]).lead
    assert lead is not None and "7.89x" in lead.text and "Hybrid Zorb Parallelism" in lead.text


def test_the_papers_own_comparison_is_not_a_comparison_asked() -> None:
    q = analyse(
        "Which benchmark suite did ZorbPFN use for its main comparison, and how large was its "
        "speedup over ZorbML systems?"
    )
    assert q.shape == "single"
    assert analyse("How does ZorbPFN compare with ZorbML systems?").shape == "comparison"


def test_a_how_answer_ends_with_what_the_mechanism_buys() -> None:
    """How a method speeds something up, then by how much, in the paper's own figure."""
    text = _how_text(
        "ReZorb: Learning-Free Zorb Inference",
        "Zorb models are slow at inference. We propose ReZorb, a learning-free retrieval-based "
        "zorb sampling framework. From a precomputed knowledge base, ReZorb retrieves a "
        "trajectory similar to the partial one and skips intermediate steps. ReZorb then "
        "continues sampling from a later step of the retrieved trajectory. The knowledge base "
        "stores early and late states of zorb trajectories. Our experiments "
        "demonstrate that ReZorb improves the model inference efficiency by 2x speedup.",
        "How does ReZorb cut down zorb sampling steps without any training?",
    )
    assert "knowledge base" in text and "2x speedup" in text, text


def test_a_list_line_names_the_method_a_paper_introduces_with_namely() -> None:
    """ "we propose a novel early exiting strategy …, namely ZuE": the reader is given the name
    the paper goes by beside its title's phrase."""
    p = passage(
        "You Need Many Zorbs: Dynamic Early Exiting for Zorb Models",
        "Large zorb models are slow. To handle this challenge, we propose a novel early exiting "
        "strategy for zorb models, which skips layers by their similarities, namely ZuE. "
        "Experiments show that the proposed approach ZuE can reduce inference time by 50%.",
        1,
        0.7,
    )
    assert label(p) == "You Need Many Zorbs (ZuE)"


def test_an_ask_opening_with_where_is_an_ask_of_its_own() -> None:
    from rag.answer.compose import facets_of

    asks = facets_of(
        "zorb in a flash vs quuxinfer: where does each put the weights that do not fit in DRAM "
        "and what speedups do they report?"
    )
    assert len(asks) == 2, asks
    assert "where does each put" in asks[0] and "speedups" not in asks[0], asks
    assert asks[1].endswith("what speedups do they report?") and "where" not in asks[1], asks
    # a relative clause ("…, where the cache grows") is part of the ask before it
    relative = "Which papers adapt zorb decoding to long inputs, where the cache grows too big?"
    assert facets_of(relative) == [relative]


def test_a_quoted_title_compared_is_a_side_as_quoted() -> None:
    q = analyse(
        "The 'Zorb versus Quux formats' whitepaper vs 'Zorb Quantization: The Power of the "
        "Exponent' - do they agree on Zorb for inference?",
        {"whitepap": 1},  # a rare word: a side in lower case would be a name
    )
    assert q.shape == "comparison"
    assert q.names == ["Zorb versus Quux formats", "Zorb Quantization: The Power of the Exponent"]


def test_a_paper_called_by_its_titles_head_is_a_side_of_what_it_does_differently() -> None:
    q = analyse(
        "ZorbKV throws away cold cache entries. How does the No Zorb Left Behind paper treat "
        "evicted entries differently?"
    )
    assert q.shape == "comparison" and "No Zorb Left Behind" in q.names, (q.shape, q.names)


def test_a_quantity_word_before_method_describes_the_method_asked_for() -> None:
    """ "Which training-free KV cache compression method keeps …?" asks which method, not a
    compression figure; "What compression ratio …?" still asks the figure."""
    q = analyse(
        "Which training-free zorb cache compression method keeps a full cache only for "
        "'retrieval heads' and adds a compensation token?"
    )
    assert q.kind != "number" and not q.typed
    assert analyse("What compression ratio does ZorbCache reach?").kind == "number"


def test_what_the_authors_make_of_their_work_is_not_what_it_does() -> None:
    """A side or how answer is the proposal, the mechanism and the result; a closing "X
    represents a significant advancement …, with promising implications" says neither."""
    text = _how_text(
        "ZorbAdam: The Power of Zorb Moments",
        "This paper introduces ZorbAdam, an optimizer that builds upon Adam. ZorbAdam adds new "
        "debiasing terms for moment estimation. ZorbAdam also uses a gradient-based "
        "acceleration mechanism. Nevertheless, ZorbAdam represents a significant advancement in "
        "adaptive optimization, with promising implications for machine learning. Experiments "
        "show ZorbAdam converges 48% faster than Adam.",
        "How does ZorbAdam work?",
    )
    assert "debiasing" in text and "significant advancement" not in text, text


def test_a_single_authors_i_is_told_as_the_author() -> None:
    from rag.answer.compose import readable

    assert readable("I provide a theoretical analysis of my optimizer.") == (
        "The author provides a theoretical analysis of the author's optimizer."
    )
    assert readable("I also study ten models.").startswith("The author also studies ten")
    assert readable("I/O dominates the runtime.") == "I/O dominates the runtime."


def test_a_list_paper_answers_in_its_own_right_not_by_its_distance_to_the_best() -> None:
    """A paper that words the question's topic its own way is listed even when another paper
    matches the question almost word for word: whether a paper joins a list is its own
    probability (LIST_WEIGHTS), not a share of the best paper's score. A paper off the topic is
    not listed, whatever its place in the search results."""
    ps = [
        passage(
            "ZorbCache: Reusing Features Across Denoising Steps",
            "ZorbCache reuses cached features across diffusion denoising steps.",
            1,
            0.9,
        ),
        passage(
            "Tokenizers on CPUs",
            "We make the byte-pair tokenizer of language models faster on CPUs.",
            2,
            0.3,
        ),
        passage(
            "QuuxSkip: Skipping Redundant Diffusion Work",
            "QuuxSkip keeps the outputs of earlier denoising steps and reuses them, so a "
            "diffusion model skips redundant computation.",
            3,
            0.55,
        ),
    ]
    q = analyse("Which papers reuse cached features across diffusion denoising steps?")
    lead = list_lead(_composer(), q, ps, _embed)
    assert lead is not None
    first = lead.text.splitlines()[0]
    assert "ZorbCache [1]" in first and "QuuxSkip [3]" in first, first
    assert "Tokenizers" not in lead.text


def test_an_enumeration_is_not_cut_between_its_items() -> None:
    """A long sentence that lists its method's parts ("two policies: (1) … ; and (2) …") is shown
    whole: trimmed to the limit it would keep the first item and drop the rest, and each item is
    part of how the method works. A long sentence without items is still trimmed."""
    from rag.answer.compose import trim

    q = analyse("How does ZorbDecode decide when the large model steps in?")
    listing = (
        "To coordinate the small and large models, ZorbDecode introduces two simple yet "
        "effective policies: (1) the fallback policy that determines when to hand control over "
        "to the large model; and (2) the rollback policy that determines when the large model "
        "needs to review and correct the small model's inaccurate predictions."
    )
    assert len(listing) > 300
    assert trim(listing, q, 300) == listing
    plain = listing.replace("(1) ", "").replace("(2) ", "")
    assert len(trim(plain, q, 300)) < len(plain)


def test_a_size_written_out_in_words_answers_how_big() -> None:
    """ "How big is X?" of "a 2.3 trillion-token datastore": a magnitude written as a word
    (thousand, million, billion, trillion) sizes its items as "2.3T tokens" would."""
    q = analyse("How big is ZorbStore?")
    assert states_attribute(q, "We build a 2.3 trillion-token datastore named ZorbStore.")
    assert states_attribute(q, "ZorbStore holds 40 million documents.")
    assert not states_attribute(q, "ZorbStore is 3 times faster than a flat index.")


def test_a_plural_inside_a_relative_clause_does_not_ask_for_a_list() -> None:
    """ "Tell me about the paper that scales retrieval-based LMs with …" asks about one paper;
    the plural ("LMs") belongs to what that paper does. "Tell me about works that …" asks for a
    list."""
    one = analyse("Tell me about the paper that scales retrieval-based LMs with a big datastore.")
    assert one.shape != "list"
    assert analyse("Tell me about works that prune LLMs.").shape == "list"
    assert analyse("Show me lightweight vision backbones.").shape == "list"


def test_a_how_answer_answers_each_of_its_asks() -> None:
    """ "How does X represent masks as text, and how does it keep them short?": the sentences
    that best say how X works answer the first ask; the second gets the sentence closest to it
    (its run-length encoding), which the whole question's best matches leave out."""
    from rag.answer.synthesis import how_lead

    p = passage(
        "ZorbSeg: Segmentation as Text",
        "We introduce ZorbSeg, which casts image segmentation masks as text generation. "
        "ZorbSeg represents segmentation masks as text with one label per image patch. "
        "The text of segmentation masks lets a language model represent masks as text tokens. "
        "Segmentation masks as text are trained with the next-token loss of the language model. "
        "A run-length code writes each run of repeated labels once, so sequences stay short.",
        1,
        0.7,
    )
    q = analyse(
        "How does ZorbSeg represent segmentation masks as text, and how does it keep them short?"
    )
    lead = how_lead(_composer(), q, p, _embed)
    assert lead is not None
    assert "run-length code" in lead.text, lead.text
    assert "one label per image patch" in lead.text, lead.text


def test_the_authors_as_subject_do_not_make_an_authors_question() -> None:
    """ "What GPU did the authors of X use …?" asks for a GPU; it was refused as "does not give
    the authors". "Who are the authors of X?" still asks for the authors."""
    from rag.answer.question import kind_of

    assert kind_of("What GPU did the authors of ZorbNet use to train their 3B model?") == "hardware"
    assert kind_of("Who are the authors of ZorbNet?") == "authors"
    assert kind_of("authors of ZorbNet?") == "authors"


def test_a_main_result_asked_of_an_abstract_reporting_none_is_not_stated() -> None:
    """ "What does the survey '…' report as its main result?" of a survey whose abstract reports
    no figure and no finding: not stated, said plainly ("does not give a result"), not its
    best-matching sentence passed off as the result. An abstract that reports one answers."""
    survey = passage(
        "Zorb Efficiency: A Survey of Smaller and Faster Models",
        "We present a thorough survey of the five core areas of model efficiency. "
        "We also present an experiment-based guide along with code for practitioners.",
        1,
        0.8,
    )
    q = analyse('What does the paper "Zorb Efficiency: A Survey" report as its main result?')
    decision = _composer().decide(q, [survey])
    assert decision.lead is None and decision.reason == "attribute"
    assert what_is_missing(q) == "a result"
    measured = survey.model_copy(
        update={"text": survey.text + " Applying the guide makes ResNet-50 2.1x faster."}
    )
    assert _composer().decide(q, [measured]).lead is not None


def test_every_ask_of_a_comparison_gets_its_side_sentence() -> None:
    """ "how does each …, how does each …, and where were they evaluated?": three asks; each
    side answers the last one (where: a benchmark or simulator) too, not the first at length."""
    mechanism = [
        "The authors propose {n}, a planner that models goals with a language model.",
        "{n} keeps a belief over candidate goals and updates it after every reply.",
        "{n} selects the next question to ask by the expected information it gains.",
        "{n} caches the language model's likelihoods so that each update is cheap.",
        "{n} also prunes goals whose belief falls below a threshold.",
    ]
    ps = []
    for i, (n, place) in enumerate([("ZorbPlan", "QuuxCity"), ("FlarnGoal", "BlimpHome")], 1):
        text = " ".join(s.format(n=n) for s in mechanism)
        text += f" Experiments were run in the {place} simulator with scripted users."
        ps.append(passage(f"{n}: Planning Goals with Language Models", text, i, 0.6))
    q = analyse(
        "ZorbPlan vs FlarnGoal: how does each choose what to ask, how does each prune goals, "
        "and where were they evaluated?"
    )
    assert q.kind == "dataset"
    lead = comparison_lead(_composer(), q, ps, _embed)
    assert lead is not None
    assert "QuuxCity" in lead.text and "BlimpHome" in lead.text
    assert lead.text.index("QuuxCity") < lead.text.index("[1]") < lead.text.index("BlimpHome")


def test_a_coined_name_with_a_digit_inside_labels_its_paper() -> None:
    """A title without a name, whose abstract coins one with a digit inside ("Lite-ZRB4Rec"):
    the label gives it; a model size or format at a name's end ("LLaMA-7B") is someone else's."""
    p = passage(
        "Rethinking Zorb Architectures for Sequential Recommendation",
        "We propose a simple yet highly effective model Lite-ZRB4Rec. Lite-ZRB4Rec drops beam "
        "search for a projection head. LLaMA-7B serves as the backbone in all experiments.",
        1,
        0.6,
    )
    shown = label(p)
    assert shown.endswith("(Lite-ZRB4Rec)") and "LLaMA" not in shown, shown


def test_a_comparison_side_opens_with_the_name_the_question_gives_it() -> None:
    """ "ZorbY vs QuuxNet": the ZorbY paper's abstract first introduces another name (its
    "Gated Zorb Unit (GZU)"), and its title has none; the side opens "ZorbY:", as the reader
    asked, not with the first name its abstract introduces."""
    ps = [
        passage(
            "Decoder-Hybrid-Decoder Models for Long Generation",
            "We introduce the Gated Zorb Unit (GZU), a mechanism for sharing memory across "
            "layers. We apply it to create ZorbY, a decoder-hybrid-decoder architecture. ZorbY "
            "decodes 10x faster than its baseline.",
            1,
            0.7,
        ),
        passage(
            "QuuxNet: A Suite of Hybrid Models",
            "We present QuuxNet, a suite of hybrid Mamba-transformer models. QuuxNet halves "
            "inference latency.",
            2,
            0.6,
        ),
    ]
    q = analyse("ZorbY vs QuuxNet: what does each propose?")
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None
    assert lead.text.startswith("ZorbY: "), lead.text
    assert "QuuxNet" in lead.text and "[1]" in lead.text and "[2]" in lead.text, lead.text


def test_a_name_inside_another_name_is_not_a_compared_side() -> None:
    """ "ZorbLoRA vs Quux - how does each change the basic LoRA adapter?": the sides are ZorbLoRA
    and Quux; LoRA, read inside "ZorbLoRA", stands where it is named on its own, after both."""
    q = analyse("ZorbLoRA vs Quux - how does each one change the basic LoRA adapter?")
    assert "LoRA" in q.names and "Quux" in q.names, q.names
    assert compared_names(q) == ["ZorbLoRA", "Quux"]


def test_a_title_that_states_the_asked_figure_answers_when_the_abstract_does_not() -> None:
    """ "How many parameters does ZorbLLM scale to?": the abstract gives a corpus size ("6TB")
    and a token count, neither a count of parameters; the title does ("… to 175 Billion
    Parameters"), and a title is the paper's own statement: it answers, quoted and cited."""
    from rag.answer.compose import states_attribute
    from rag.answer.not_stated import title_lead
    from rag.core.text import split_sentences

    p = passage(
        "Scaling ZorbFormer to 175 Billion Parameters",
        "We present ZorbLLM, a linear attention language model. ZorbLLM trains on a corpus "
        "boasting a size exceeding 6TB and containing over 2 trillion tokens. ZorbLLM runs "
        "twice as fast as softmax attention.",
        1,
        0.8,
    )
    q = analyse("How many parameters does ZorbLLM scale to?")
    assert not states_attribute(q, split_sentences(p.text)[1])  # 6TB is a size of data
    decided = _composer().decide(q, [p])
    assert decided.lead is None and decided.closest, decided
    lead = title_lead(q, decided.closest)
    assert lead is not None and "175 Billion Parameters" in lead.text and "[1]" in lead.text
    # the title answers only the paper the question names, and only what it states
    assert title_lead(analyse("How many parameters does QuuxNet have?"), decided.closest) is None
    assert title_lead(analyse("Which GPU does ZorbLLM run on?"), decided.closest) is None
    # a figure of something else in the title ("4 Bit … Acceleration") is not a speedup
    bits = passage(
        "ZorbAttention Report: Accurate 4 Bit Attention for Plug-and-play Acceleration",
        "We present ZorbAttention, which quantizes attention. ZorbAttention keeps accuracy "
        "on language and video models.",
        1,
        0.8,
    )
    asked = analyse("What end-to-end speedup does ZorbAttention give on video generation?")
    assert title_lead(asked, [(bits, split_sentences(bits.text)[0])]) is None


def test_a_lead_sentence_that_points_back_comes_with_what_it_points_to() -> None:
    """ "What key reasons does ZorbPrune highlight?": the answering sentence, "We highlight two
    key reasons for this failure: …", leans on the one before it ("However, ZorbDrop fails when
    …"); the lead shows both, so "this failure" has its referent. A sentence that stands alone,
    or a pair too long for a lead, is shown alone."""
    from rag.answer.compose import with_antecedent
    from rag.core.text import split_sentences

    p = passage(
        "ZorbPrune: Revisiting Delta Pruning",
        "Storing fine-tuned models separately is redundant. ZorbDrop prunes delta parameters "
        "with little loss. However, ZorbDrop fails when the pruning rate is large. We highlight "
        "two key reasons for this failure: a large rescaling factor and a high variance of the "
        "deltas. We introduce ZorbPrune, which fixes the rescaling factor.",
        1,
        0.8,
    )
    decided = _composer().decide(analyse("What key reasons does ZorbPrune highlight?"), [p])
    assert decided.lead is not None, decided
    text = decided.lead.text
    assert "this failure" in text and "fails when the pruning rate is large" in text, text
    assert text.index("fails when") < text.index("this failure"), text
    alone = "We introduce ZorbPrune, which fixes the rescaling factor."
    assert with_antecedent(p, alone, alone, 1000) == [alone]
    pointing = split_sentences(p.text)[3]
    assert len(with_antecedent(p, pointing, pointing, 1000)) == 2
    assert with_antecedent(p, pointing, pointing, 50) == [pointing]


def test_why_a_thing_is_vulnerable_is_answered_by_the_reason_the_paper_gives() -> None:
    """ "Why is the zorb signal block vulnerable to jamming?" asked alone: the paper's stated
    reason ("due to the predictable nature of zorb transmission, jamming attacks are critical
    threats") answers it, though it opens the abstract with "However,", before the detector the
    paper builds."""
    text = _how_text(
        "A Double-Threshold Learner for Jamming Detection in Zorb Networks",
        "With the evolution of zorb networks, the zorb signal block plays a critical role in "
        "synchronizing devices. However, due to the predictable nature of zorb transmission, "
        "jamming attacks are critical threats. This work presents a deep learning technique "
        "for detecting jammers in zorb networks. Our detector reaches a 96.4% detection rate.",
        "Why is the zorb signal block vulnerable to jamming?",
    )
    assert "predictable nature" in text, text


def test_what_a_method_does_to_reach_a_goal_asks_what_it_does_not_an_amount() -> None:
    """ "What does ZorbB do to speed up long-context inference?": "speed up" is what it does,
    not a speed asked for (it was answered with the paper's speedup figures); an amount asked
    beside it stays one."""
    q = analyse("What does ZorbB do to speed up long-context inference?")
    assert q.kind == "describe" and not q.typed, q
    amount = analyse("What does ZorbB do to save memory, and how much memory does it save?")
    assert amount.kind == "number", amount


def test_a_gain_said_in_words_answers_what_gains_a_paper_reports() -> None:
    """ "ZorbCore vs QuuxLib: what gains does each report?": ZorbCore reports its gain in words
    ("The evaluation shows that ZorbCore achieves more than a magnitude of improvements …"), no
    figure; that is what it reports, not "its abstract does not give the gains"."""
    ps = [
        passage(
            "ZorbCore: Lookup Tables for Low-Bit Inference",
            "Low-bit models need mixed-precision matrix multiplication. We introduce ZorbCore, "
            "a software-hardware co-design for low-bit inference. The evaluation on low-bit "
            "models shows that ZorbCore achieves more than a magnitude of improvements on both "
            "compute density and energy efficiency.",
            1,
            0.7,
        ),
        passage(
            "QuuxLib: Fast Lossless Low-Bit Inference on CPUs",
            "We present QuuxLib, a software stack for low-bit models on CPUs. Experiments show "
            "that QuuxLib achieves speedups from 2.37x to 6.17x on x86 CPUs.",
            2,
            0.6,
        ),
    ]
    lead = comparison_lead(
        _composer(), analyse("ZorbCore vs QuuxLib: what gains does each report?"), ps
    )
    assert lead is not None
    assert "more than a magnitude of improvements" in lead.text, lead.text
    assert "does not give" not in lead.text, lead.text
    assert "2.37x" in lead.text, lead.text


def test_a_side_that_weighs_itself_against_the_other_side_by_name_says_so_first() -> None:
    """ "Is ZorbAttention-2 faster than ZorbAttention?": ZorbAttention-2's abstract says it
    ("These yield around 2x speedup compared to ZorbAttention"); that sentence is the
    comparison, said by the paper, and its side shows it. A sentence where the other side is
    the subject ("ZorbAttention exploits … compared to optimized baselines") is not one."""
    ps = [
        passage(
            "ZorbAttention-2: Faster Attention with Better Work Partitioning",
            "ZorbAttention exploits the memory hierarchy for a 2-4x speedup compared to "
            "optimized baselines. We observe that its work partitioning is suboptimal. We "
            "tweak the algorithm to reduce non-matmul FLOPs. We parallelize the attention "
            "computation across thread blocks. We distribute the work between warps. These "
            "yield around 2x speedup compared to ZorbAttention. ZorbAttention-2 reaches 225 "
            "TFLOPs/s per A100 GPU.",
            1,
            0.7,
        ),
        passage(
            "ZorbAttention: Fast and Memory-Efficient Exact Attention",
            "We propose ZorbAttention, an IO-aware exact attention algorithm that uses tiling. "
            "ZorbAttention trains Transformers 15% faster than existing baselines.",
            2,
            0.6,
        ),
    ]
    q = analyse("Is ZorbAttention-2 faster than ZorbAttention?")
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None
    assert "2x speedup compared to ZorbAttention" in lead.text, lead.text
    assert "exploits the memory hierarchy" not in lead.text, lead.text


def test_a_lead_names_its_paper_in_its_first_sentence() -> None:
    """ "How does ZorbFormer work?": the mechanism sentences begin "The authors propose a
    padding-free algorithm …" and only a later one names ZorbFormer; read from its start, the
    lead does not say whose algorithm it is, so it opens with the paper's name."""
    from rag.answer.compose import names_first
    from rag.answer.synthesis import how_lead

    p = passage(
        "ZorbFormer: A Transformer Boosted for Variable-Length Inputs",
        "Existing frameworks pad variable-length sequences, which wastes compute. We propose "
        "a padding-free algorithm that removes computation on zero padded tokens. We fuse the "
        "attention kernel for variable-length inputs. ZorbFormer is 55% faster than "
        "FasterZorb end to end.",
        1,
        0.8,
    )
    lead = how_lead(_composer(), analyse("How does ZorbFormer work?"), p)
    assert lead is not None
    first = lead.text.split(". ")[0]
    assert "ZorbFormer" in first, lead.text
    assert names_first("ZorbFormer", ["ZorbFormer halves latency.", "It fuses kernels."])
    assert not names_first("ZorbFormer", ["It fuses kernels.", "ZorbFormer halves latency."])


def test_a_how_lead_is_not_named_by_a_method_its_title_only_uses() -> None:
    """ "Why can Zorb Diffusion skip parts of the ZUNet?" of "Zorb Diffusion: Rethinking the
    ZUNet …": the lead opens with the paper's name, not with ZUNet, a name its title uses but
    that is someone else's; the question's name opens it when the paper is titled by it."""
    from rag.answer.synthesis import how_lead

    p = passage(
        "Zorb Diffusion: Rethinking the Role of the ZUNet Encoder",
        "Diffusion models sample slowly. The authors find that encoder features change gently "
        "across time-steps. Based on this, the authors propagate encoder features to skip the "
        "encoder at some time-steps. This speeds up sampling by 41%.",
        1,
        0.8,
    )
    lead = how_lead(_composer(), analyse("Why can Zorb Diffusion skip parts of the ZUNet?"), p)
    assert lead is not None
    assert lead.text.startswith("Zorb Diffusion: "), lead.text
    assert not lead.text.startswith("ZUNet"), lead.text


def test_a_baseline_written_short_is_the_baseline_asked() -> None:
    """ "How much faster is ZorbAPB than ZorbAttention?" of an abstract comparing with
    "ZorbAttn": that is the asked baseline, written short, so the figure answers (it was "not
    stated": the baseline's name was not in the passage)."""
    from rag.answer.compose import in_text, written_short

    text = (
        "We present ZorbAPB, a long-context framework. ZorbAPB achieves speedups of up to 9.2x "
        "and 4.2x compared with ZorbAttn and RingAttn, respectively."
    )
    p = passage("ZorbAPB: Faster Long Contexts", text, 1, 0.8)
    lead = _composer().decide(analyse("How much faster is ZorbAPB than ZorbAttention?"), [p]).lead
    assert lead is not None and "9.2x" in lead.text, lead
    assert in_text("RingAttention", text) and written_short("ZorbAttention", text)
    # another name, a version, or one part only is not the name written short
    assert not written_short("ZorbDecoding", text)
    assert not written_short("ZorbAttention-2", text)
    assert not written_short("Zorb", text)


def test_what_a_method_chooses_is_not_an_amount_asked() -> None:
    """ "How does ZorbKV pick which tokens get more bits?" asks how it chooses (the clause
    after "pick" is what it chooses), not a number of bits: it was answered "Not stated: … does
    not give the figure asked for" with an unrelated sentence."""
    for question in (
        "How does ZorbKV pick which tokens get more bits?",
        "How does ZorbKV decide what precision each layer gets?",
    ):
        q = analyse(question)
        assert (q.kind, q.shape) == ("describe", "how"), q
    # an amount asked in so many words stays one
    assert analyse("Which bit-width does ZorbKV use?").kind == "number"
    assert analyse("How does ZorbKV pick tokens, and how much faster is it?").kind == "number"


def test_a_technique_a_list_names_is_its_topic_not_a_paper_to_leave_out() -> None:
    """ "Which papers make ZorbLoRA fine-tuning cheaper in memory?": papers whose titles or
    abstracts use ZorbLoRA are answers to weigh; only the paper that is ZorbLoRA (titled by
    it, or introducing it) is the question's reference. They were all left out, and the answer
    read "No other paper in the collection works on the same problem as …"."""
    from rag.answer.synthesis import _names_paper_asked

    q = analyse("Which papers make ZorbLoRA fine-tuning cheaper in memory?")
    user = passage(
        "Train Small: Memory-Efficient ZorbLoRA Training",
        "We propose ZorbRAM, a memory-efficient ZorbLoRA training scheme. We use ZorbLoRA.",
        1,
        0.8,
    )
    own = passage("ZorbLoRA: Low-Rank Zorbs", "We propose ZorbLoRA, a low-rank adapter.", 2, 0.7)
    assert not _names_paper_asked(q, user)
    assert _names_paper_asked(q, own)


def test_a_sentence_answering_one_of_two_asks_is_shown_with_what_it_points_back_to() -> None:
    """ "Which paper proposes ZorbKV and what does it observe?" answered with "This robust
    pattern can be obtained from an observation window …" left the reader asking which pattern:
    the sentence it points back to comes with it, as it does for a one-ask lead."""
    p = passage(
        "ZorbKV: Caches that Know What You Want",
        "Long prompts make caches large. We discover that each attention head consistently "
        "focuses on specific prompt features during generation. This robust pattern can be "
        "obtained from an observation window at the end of the prompt. We propose ZorbKV, which "
        "compresses caches by selecting clustered important positions for each head.",
        1,
        0.8,
    )
    lead = (
        _composer()
        .decide(analyse("Which paper proposes ZorbKV and what does it observe?"), [p])
        .lead
    )
    assert lead is not None and "This robust pattern" in lead.text, lead
    assert "each attention head consistently focuses" in lead.text, lead.text


def test_a_name_many_papers_use_and_none_is_has_no_side() -> None:
    """ "What is the difference between ZorbLoRA and QuuxLA?" where several papers build on
    ZorbLoRA and none is ZorbLoRA's own: QuuxLA's side, then plainly that ZorbLoRA's is not
    stated; a paper that only uses ZorbLoRA is not its side (one was, labelled "ZorbLoRA:")."""
    ps = [
        passage(
            "QuuxLA: Linear Combinations of Random Bases",
            "We introduce QuuxLA, which overcomes the rank one lower bound present in ZorbLoRA. "
            "QuuxLA re-parameterizes the low-rank matrices in ZorbLoRA with random bases.",
            1,
            0.8,
        ),
        passage(
            "Fed-Blip: Federated ZorbLoRA Fine-Tuning",
            "We introduce Fed-Blip, a federated approach. We fine-tune with ZorbLoRA adapters "
            "and cut communication by 230x.",
            2,
            0.7,
        ),
        passage(
            "Train Small: Memory-Efficient ZorbLoRA Training",
            "We propose ZorbRAM, a memory-efficient ZorbLoRA training scheme. ZorbLoRA "
            "training with ZorbRAM halves memory.",
            3,
            0.6,
        ),
    ]
    q = analyse("What is the difference between ZorbLoRA and QuuxLA?")
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None
    assert "No paper in the collection is about ZorbLoRA" in lead.text, lead.text
    assert {p.number for p, _ in lead.parts} == {1}, lead.parts


def test_a_comparison_side_is_not_the_fields_background() -> None:
    """ "Compare ZorbDistill and QuuxFormer: what does each propose and report?": a side opened
    with "Among recently proposed methods, MTT achieves …", the field's background, because it
    says "proposed"; the side is what the paper proposes and reports. Asked about the problem
    each takes on, the background stays an answer."""
    ps = [
        passage(
            "ZorbDistill: Scaling Dataset Distillation",
            "Among recently proposed methods, MTT achieves state-of-the-art performance on "
            "CIFAR-10/100, while having difficulty scaling to ImageNet-1K due to the large "
            "memory requirement when performing unrolled gradient computation. The authors find "
            "that soft labels are crucial and propose a soft label version of trajectory "
            "matching. The proposed algorithm surpasses previous SOTA on ImageNet-1K. "
            "ZorbDistill achieves 27.9% testing accuracy, a +18.2% margin over prior arts.",
            1,
            0.8,
        ),
        passage(
            "QuuxFormer: A Transformer for Variable-Length Inputs",
            "We propose QuuxFormer, a padding-free transformer. QuuxFormer is 87% faster.",
            2,
            0.7,
        ),
    ]
    q = analyse("Compare ZorbDistill and QuuxFormer: what does each propose and report?")
    lead = comparison_lead(_composer(), q, ps)
    assert lead is not None and "MTT" not in lead.text, lead.text
    assert "soft label" in lead.text, lead.text


def test_a_subject_put_first_as_a_label_is_read_into_its_question() -> None:
    """ "zorbmoe: how does it figure out how many bits each expert gets?" is a how question
    about ZorbMoE (its opening words say what is asked, and a label before them hid them), not
    an ask for a number of bits; a label with no pronoun to stand for is kept at the end."""
    q = analyse("zorbmoe: how does it figure out how many bits each expert gets?")
    assert (q.shape, q.kind) == ("how", "describe")
    assert q.text.startswith("How does zorbmoe figure out")
    q = analyse("Zorbformer - how much memory does it save on an A100?")
    assert q.kind == "number"
    assert q.text.startswith("How much memory does Zorbformer save")
    q = analyse("ZorbCache: how much faster is decoding?")
    assert q.text == "How much faster is decoding (ZorbCache)?"
    assert "ZorbCache" in q.names
    # not a subject: a comparison, a question of its own, a turn's framing
    q = analyse("ZorbA vs ZorbB: how does each cut memory?")
    assert q.shape == "comparison"
    assert analyse("How big is ZorbBench — how many cases?").text.startswith("How big is")
    assert analyse("Switching topics: what does ZorbNet prune?").text.startswith("Switching")


def test_how_a_name_mentioned_in_passing_works_is_not_stated() -> None:
    """ "How does ZorbQuant handle outliers?" of an abstract that only lists ZorbQuant among
    the tools it ran with says nothing of how ZorbQuant works: refused (as not in the
    collection), not answered with that sentence. A name the abstract defines ("… (ZorbQuant)"),
    introduces ("we introduce ZorbQuant") or sets in apposition ("ZorbQuant, a novel …")
    is its subject, and the question is answered."""
    q = analyse("How does ZorbQuant handle activation outliers?")
    passing = passage(
        "QuuxLLM: Serving LLMs on FPGAs",
        "We map LLM inference onto FPGAs with a sparse DSP chain. QuuxLLM achieves 6x higher "
        "energy efficiency than GPUs using vLLM and ZorbQuant under the batch size of one.",
        1,
        0.7,
    )
    assert _composer().decide(q, [passing]).lead is None
    for own in (
        "We migrate the outliers of activations to the weights with Zorb Smoothing "
        "Quantization (ZorbQuant), a per-channel scaling.",
        "This system employs ZorbQuant, a novel scaling that moves outliers of activations "
        "into the weights.",
        "We introduce the 1) ZorbQuant scaling to move outliers of activations into weights.",
    ):
        p = passage("QuuxLLM: Serving LLMs on FPGAs", own, 1, 0.7)
        decided = _composer().decide(q, [p])
        assert decided.lead is not None, own


def test_an_answer_about_a_name_mentioned_in_passing_says_the_name() -> None:
    """ "What is ZorbBooth?" of abstracts that only name it in passing: the answer is a sentence
    that names it ("… personalized technologies (e.g., ZorbBooth and LoRA) …"), or none; never
    another sentence of the paper that ranked higher, nor a code link that holds the name."""
    q = analyse("What is ZorbBooth?")
    p = passage(
        "QuuxAdapter: Any Resolution for Diffusion Models",
        "Recent text-to-image models and personalized technologies (e.g., ZorbBooth and "
        "LoRA) let individuals generate imaginative images. Experiments demonstrate that "
        "QuuxAdapter with only 0.5M parameters can process images with flexible resolutions "
        "for arbitrary diffusion models.",
        1,
        0.7,
    )
    lead = _composer().decide(q, [p]).lead
    assert lead is None or "ZorbBooth" in lead.text
    linked = passage(
        "Parameter-Efficient Tuning of Quux Transformers",
        "We tune vision transformers with adapters at low numerical precision. Code: "
        "https://github.com/ZorbBooth/PETL-Quux.",
        1,
        0.7,
    )
    assert _composer().decide(q, [linked]).lead is None


@pytest.mark.parametrize(
    "question", ["Tell me about ZorbKV", "explain ZorbKV", "Can you describe ZorbKV?"]
)
def test_tell_me_about_a_paper_asks_what_it_is(question: str) -> None:
    """ "Tell me about ZorbKV" asks what ZorbKV is, as "What is ZorbKV?" does: the sentence that
    introduces it, not its headline figure, which repeats the name more often."""
    p = passage(
        "ZorbKV: The Model Knows What You Look For",
        "ZorbKV achieves a consistent decoding speed with a 3.6x increase in generation speed "
        "and ZorbKV keeps an 8.2x memory efficiency. This paper introduces ZorbKV, a "
        "fine-tuning-free approach that minimizes the KV cache size.",
        1,
        0.7,
    )
    lead = _composer().decide(analyse(question), [p]).lead
    assert lead is not None and lead.text.startswith("This paper introduces ZorbKV"), lead


def test_a_how_answer_leads_with_what_the_paper_proposes() -> None:
    """An observation that opens the abstract ("We observe that too few queries …") is why the
    paper does what it does, not how: the how answer's first line is its proposal, then how it
    works; a proposal that leans on the sentence before it ("… leverages this finding") keeps
    its place."""
    from rag.answer.synthesis import how_lead

    p = passage(
        "ZorbDETR: Collaborative Zorb Assignments",
        "In this paper, we provide the observation that too few queries assigned as positive "
        "samples leads to sparse supervision on the zorb encoder's output. We present a novel "
        "collaborative zorb assignments training scheme, namely ZorbDETR, to learn efficient "
        "zorb detectors. The scheme trains multiple parallel auxiliary zorb heads supervised "
        "by one-to-many label assignments.",
        1,
        0.7,
    )
    q = analyse('How does the method of "ZorbDETR: Collaborative Zorb Assignments" work?')
    lead = how_lead(_composer(), q, p)
    assert lead is not None and lead.parts[0][1].startswith("We present a novel"), lead
    leaning = passage(
        p.title,
        "We first show that most of the zorb vocabulary is never used. We propose an approach "
        "that leverages this finding to shrink the zorb embedding matrix. It keeps only the "
        "rows of tokens seen in the task.",
        1,
        0.7,
    )
    lead = how_lead(_composer(), q, leaning)
    assert lead is not None and lead.parts[0][1].startswith("We first show"), lead


def test_a_name_a_paper_lists_among_others_is_not_its_comparison_side() -> None:
    """A paper that lists a name among what it was tried on ("on T5, ZorbWhisper (speech), and
    GPT") speaks in its own voice but is not that name's paper: "Compare OrcaX and
    ZorbWhisper" answers OrcaX's side and says ZorbWhisper's is not stated, not the lister's."""
    from rag.answer.compose import introduces
    from rag.answer.synthesis import distinct_sides

    lister = passage(
        "Sparse Zorb Finetuning",
        "We study sparse finetuning. We exhibit speedups on T5 (translation), ZorbWhisper "
        "(speech translation), and open GPT-type models.",
        2,
        0.5,
    )
    assert not introduces(lister, "ZorbWhisper", own_voice=True)
    realised = passage("Disaggregated Zorb Serving", "We realize this idea in ZorbInfer.", 3, 0.5)
    assert introduces(realised, "ZorbInfer", own_voice=True)
    q = analyse("Compare OrcaX and ZorbWhisper: how does each speed up inference?")
    lead = comparison_lead(_composer(), q, [orca_x(), lister])
    assert lead is not None and "[2]" not in lead.text, lead
    assert lead.text.endswith(
        "No paper in the collection is about ZorbWhisper: its side is not stated here."
    )
    # two spellings of one thing are one side; two things are two
    assert distinct_sides(["Megazorb-LM", "Megazorb"]) == ["Megazorb-LM"]
    assert distinct_sides(["OrcaX", "ZorbWhisper"]) == ["OrcaX", "ZorbWhisper"]


def test_a_name_the_question_measures_against_needs_no_paper_of_its_own() -> None:
    """ "When ZorbKV was benchmarked against QuuxServe and FlexZorb, what prompt length was
    used?": the names after "against" are baselines, as after "than"; the question is about
    ZorbKV, whose abstract does not give the length, so the answer is that, not "no paper here
    is about QuuxServe"."""
    p = passage(
        "ZorbKV: Small Zorb Caches",
        "We present ZorbKV, a cache eviction policy. ZorbKV improves throughput over QuuxServe "
        "and FlexZorb by up to 3x on OPT-6.7B.",
        1,
        0.6,
    )
    q = analyse(
        "When ZorbKV was benchmarked against QuuxServe and FlexZorb, what prompt length was used?"
    )
    decision = _composer().decide(q, [p])
    assert decision.lead is None and decision.reason == "attribute", decision


def test_a_factor_said_in_words_is_a_result() -> None:
    """ "ran four times as fast", "3-fold", "twice as fast", "two orders of magnitude" are
    measured results as "4x" is: a side asked what it achieves reports that sentence, not an
    observation that has no figure."""
    from rag.answer.compose import _figures

    assert _figures("ZorbFirst ran approximately four times as fast as ConvZorb.")
    assert _figures("It is 3-fold smaller and twice as fast, saving two orders of magnitude.")
    assert not _figures("We use four heads and two layers.")
    zorb = passage(
        "On the Efficiency of Zorb Networks",
        "Zorb layers are widely used. We observe that the degenerate zorb layers that give the "
        "best trade-off also use significant memory resources. Our ZorbFirst model with fused "
        "kernels ran approximately four times as fast as ConvZorb.",
        2,
        0.5,
    )
    q = analyse("Compare OrcaX and ZorbFirst: what does each achieve?")
    lead = comparison_lead(_composer(), q, [orca_x(), zorb])
    assert lead is not None and "four times as fast" in lead.text, lead


def test_a_sentence_remedying_the_problem_is_not_background() -> None:
    """ "Based on this framework, ZorbGen further employs asynchronous overlap to mitigate I/O
    bottlenecks": the paper's own method is the subject and the problem word is what it
    remedies, so the sentence is how it works, not the field's background (which a how answer
    shows only when the paper says nothing else)."""
    from rag.answer.synthesis import how_lead

    p = passage(
        "ZorbGen: Heterogeneous Zorb Inference",
        "Prior approaches explored offloading but often suffer from I/O bottlenecks. We "
        "introduce ZorbGen, a framework for heterogeneous parallel computing using CPUs and "
        "GPUs. Based on this framework, ZorbGen further employs asynchronous overlap of "
        "zorb transfers to mitigate I/O bottlenecks. Our experiments show a 3x speedup.",
        1,
        0.7,
    )
    lead = how_lead(_composer(), analyse("How does ZorbGen reduce I/O bottlenecks?"), p)
    assert lead is not None and "asynchronous overlap" in lead.text, lead
    assert "Prior approaches" not in lead.text


def test_a_figure_of_other_methods_does_not_answer_for_the_paper() -> None:
    """ "How much energy does ZorbTok save?": the paper's own figure, said in watts ("a reduction
    in wattage of up to 19%"), answers; a figure the abstract gives of other methods
    ("Comparative approaches of 8-bit quantization achieve a lower energy efficiency … (up to
    2×)") does not, though it holds the asked word."""
    p = passage(
        "ZorbTok: Training-Free Zorb Tokenization",
        "We introduce ZorbTok, a training-free method for reducing energy costs. Experimentally, "
        "we demonstrate a reduction in wattage of up to 19% with only a 20% increase in runtime. "
        "Comparative approaches of 8-bit quantization and token merging achieve a lower or "
        "similar energy efficiency but exact a higher toll on runtime (up to 2x or more).",
        1,
        0.7,
    )
    decision = _composer().decide(analyse("How much energy does ZorbTok save?"), [p])
    assert decision.lead is not None and "19%" in decision.lead.text, decision


def test_instances_listed_in_lower_case_before_the_asked_kind_state_it() -> None:
    """ "Which tasks was ZorbSB evaluated on?" of "… across commonsense reasoning, arithmetic
    reasoning, and language inference tasks": the tasks are listed before their noun, in lower
    case as tasks, domains and modalities often are; that states them (it was answered "Not
    stated … does not give the tasks" quoting this very sentence). "On many downstream tasks"
    names none."""
    q = analyse("Which tasks was ZorbSB evaluated on?")
    listed = passage(
        "ZorbSB: Federated Zorb Tuning",
        "We introduce ZorbSB, a federated fine-tuning method. ZorbSB achieves state-of-the-art "
        "performance across commonsense reasoning, arithmetic reasoning, and language "
        "inference tasks while reducing communication costs by up to 230x.",
        1,
        0.7,
    )
    decision = _composer().decide(q, [listed])
    assert decision.lead is not None and "arithmetic reasoning" in decision.lead.text, decision
    vague = passage(
        listed.title,
        "We introduce ZorbSB, a federated fine-tuning method. ZorbSB improves speed and "
        "accuracy on many downstream tasks.",
        1,
        0.7,
    )
    assert _composer().decide(q, [vague]).lead is None


def test_a_why_then_what_is_done_about_it_answers_the_problem_first() -> None:
    """ "Why does X need many chunks, and what does the paper do about it?": the why put first,
    then what is done about it, asks the problem the abstract states, then the remedy; the
    remedy alone does not answer the why."""
    from rag.answer.synthesis import how_lead

    p = passage(
        "Efficient Zorb Super-Resolution via Chunk Overfitting",
        "Zorb delivery systems overfit a super-resolution model to each chunk of a video. "
        "However, a large number of chunks are expected to ensure good overfitting quality, "
        "which substantially increases the storage and bandwidth. We propose a method that "
        "uses spatial-temporal information to divide videos into few chunks. Our method is "
        "14x faster than the state of the art.",
        1,
        0.7,
    )
    q = analyse(
        "Why does zorb chunk overfitting need many chunks, and what does the paper do about it?"
    )
    lead = how_lead(_composer(), q, p)
    assert lead is not None and lead.parts[0][1].startswith("However, a large number"), lead
    assert any(s.startswith("We propose") for _, s in lead.parts), lead


def test_a_yes_no_question_is_answered_by_the_sentence_that_says_so() -> None:
    """ "Does ZorbUp slow down inference?": the sentence about that cost answers, though it
    opens "However, …" as the field's background often does (for "what does X do" such a
    sentence goes after the paper's own); the ask after an earlier question is found
    ("… ? Does it slow down inference?")."""
    from rag.answer.compose import ask_of

    assert ask_of("What is ZorbUp? Does it slow down inference?") == "Does it slow down inference?"
    p = passage(
        "ZorbUp: Inference Inefficient Zorb Upcycling",
        "Zorb upcycling turns a dense model into a mixture of experts. Our experiments show "
        "that zorb upcycling improves quality by 20%. However, this comes with a significant "
        "inference cost, leading to 40% slowdowns in high-demand inference settings.",
        1,
        0.7,
    )
    decision = _composer().decide(analyse("Does ZorbUp slow down inference?"), [p])
    assert decision.lead is not None and "40% slowdowns" in decision.lead.text, decision


def test_a_baseline_no_paper_is_about_gets_no_passage_of_its_own() -> None:
    """ "Is ZorbKV faster than QuuxServe?" where no paper here is QuuxServe's: a paper that
    only lists QuuxServe among others does not answer for it; ZorbKV's paper alone answers,
    "Yes." when its sentence says it is faster than QuuxServe (in any notation: "5times")."""
    from rag.answer.yes_no import comparative_lead

    own = passage(
        "ZorbKV: Fast Zorb Caches",
        "We present ZorbKV, a cache for zorb serving. ZorbKV enjoys fast inference (5times "
        "higher throughput than QuuxServe).",
        1,
        0.7,
    )
    other = passage(
        "Zorb Serving Benchmarks",
        "Many systems serve zorbs: QuuxServe, FlexZorb, and others. We benchmark them.",
        2,
        0.5,
    )
    q = analyse("Is ZorbKV faster than QuuxServe?")
    decision = _composer().decide(q, [own, other])
    assert decision.lead is not None and "[2]" not in decision.lead.text, decision
    assert comparative_lead(q.text, decision.lead).text.startswith("Yes. ")


def test_a_later_asks_pronoun_points_at_the_turns_own_first_ask() -> None:
    """ "Why does zorb chunk overfitting need many chunks, and what does the paper do about
    it?" after a refused question on QuuxGPT: "it" and "the paper" point at the first ask,
    which has a subject of its own; the turn stands alone (it had been joined to the QuuxGPT
    question and refused as "no paper in it is about QuuxGPT"). A first ask that itself leans
    on the conversation ("How does it compare …, and what does it cost?") still refers back."""
    from rag.answer.answering import refers_back

    history = [("What is the training cost of QuuxGPT?", "Not in the collection: …")]
    own = "Why does zorb chunk overfitting need many chunks, and what does the paper do about it?"
    assert not refers_back(own, history)
    assert refers_back("How does it compare with ZorbNet, and what does it cost?", history)
    assert refers_back("and what does the paper do about it?", history)


def test_where_a_paper_was_tested_is_answered_by_a_result_measured_there() -> None:
    """ "Which datasets was ZorbFlow evaluated on?": the sentence reporting a result on a named
    dataset ("On ZITTI, ZorbFlow achieves an F1-all error of 5.10%") answers, not a sentence
    of how it works that merely holds a capitalised token ("multi-scale 4D volumes")."""
    p = passage(
        "ZorbFlow: Recurrent Zorb Transforms for Optical Flow",
        "We introduce ZorbFlow, a new network for optical flow. ZorbFlow extracts per-pixel "
        "features, builds multi-scale 4D correlation volumes, and iteratively updates a flow "
        "field. On ZITTI, ZorbFlow achieves an F1-all error of 5.10%, a 16% error reduction.",
        1,
        0.7,
    )
    decision = _composer().decide(analyse("Which datasets was ZorbFlow evaluated on?"), [p])
    assert decision.lead is not None and "ZITTI" in decision.lead.text, decision


def test_a_how_answer_of_a_thesis_in_the_third_person_opens_with_its_proposal() -> None:
    """A thesis abstract never says "we": its field opens it ("The adoption of zorb networks
    grows at an exhilarating pace: …"), "this dissertation is dedicated to …" is where it first
    speaks of itself, and its proposal is passive ("Here, the concept of Continual Zorb
    Networks is proposed"). "How does the method of '<title>' work?" asks for nothing beyond
    the method: the answer opens with that proposal, never with the field's opening."""
    from rag.answer.synthesis import how_lead

    title = "Efficient Online Processing with Zorb Networks"
    p = passage(
        title,
        "The capabilities and adoption of zorb networks grow at an exhilarating pace: vision "
        "models classify actions and language models answer wide-ranging questions. The "
        "economic cost of serving models is in evident disharmony with climate goals. Instead "
        "of pursuing yet another increase in accuracy, this dissertation is dedicated to zorb "
        "efficiency. Here, the concept of Continual Zorb Networks (CZNs) is proposed and "
        "explored across four publications. CZNs reuse pre-trained weights and process "
        "streams one step at a time, improving online efficiency by an order of magnitude.",
        1,
        0.7,
    )
    lead = how_lead(_composer(), analyse(f'How does the method of "{title}" work?'), p)
    assert lead is not None and lead.parts[0][1].startswith("Here, the concept"), lead
    assert "exhilarating" not in lead.text and "disharmony" not in lead.text


def test_a_hyphenated_word_is_met_by_its_parts() -> None:
    composer = _composer()
    assert composer.coverage("zorb-of-quux routing", "routing with a zorb of quux") == 1.0
    # "ZorbNet-style" is half met by "ZorbNet-2": its name part, not its "style"
    assert composer.coverage("ZorbNet-style kernels", "ZorbNet-2 kernels") == pytest.approx(0.75)
    assert composer.coverage("zorb-of-quux routing", "routing with a quux") == pytest.approx(0.75)


def test_an_acronym_meets_the_words_it_stands_for_either_way() -> None:
    composer = _composer()
    asked = "What flaw of traditional zorb quantization does it fix?"
    assert composer.coverage(asked, "Traditional ZQ methods calibrate only the codebook.") > 0.5
    assert composer.coverage(asked, "Traditional methods calibrate only the codebook.") < 0.5
    # the acronym asked, the words written
    assert composer.coverage("ZQC codebooks", "zorb quux compression codebooks") == 1.0
    # two letters typed match any word pair by chance
    assert composer.coverage("ZQ codebooks", "zero queries of codebooks") < 1.0


def test_how_a_named_model_is_trained_reads_its_training_sentence() -> None:
    from dataclasses import replace

    from rag.answer.synthesis import how_lead

    p = passage(
        "Scalable Zorb Models with Posterior Inference",
        "We propose a new family of sequence models, Zorb-Quux Models (ZQMs), which carry "
        "explicit latent quux vectors in latent space. These vectors steer the decoder through "
        "cross-attention. Training employs a two-speed optimization process within a classical "
        "variational framework. Empirical studies reveal that ZQMs possess additional scaling "
        "dimensions beyond standard models. ZQMs exhibit emergent reasoning that grows with "
        "model and latent size.",
        1,
        0.7,
    )
    q = replace(analyse("How are Zorb-Quux Models (ZQMs) trained?"), names=["Zorb-Quux Models"])
    rare = Composer(lambda t: 6.0 if t.startswith("zqm") else 1.0)  # its acronym is a rare word
    lead = how_lead(rare, q, p)
    # the paper introduces the name after a longer noun phrase ("a new family of …, Zorb-Quux
    # Models"), so its sentences are not confined to those naming it; and the acronym in
    # brackets is the name again, not what is asked about it
    assert lead is not None and "two-speed optimization" in lead.text, lead


def test_a_question_that_says_a_title_in_its_own_words_asks_that_paper() -> None:
    elastic = passage(
        "Efficient Inference of Vision Models with Elastic Zorb Caches",
        "Instead of discarding less important caches, our strategy identifies important "
        "key/value vectors as zorb points for the KV cache. We introduce Elastic Zorb Cache, "
        "a novel approach for shrinking the KV cache of vision models.",
        1,
        0.67,
    )
    anchor = passage(
        "Zorb-based Large Language Models",
        "This study introduces zorb-based LLMs (ZnLLMs), which compress the sequence "
        "information into a zorb token, shrinking the KV cache. Experiments show that the "
        "ZnLLM keeps accuracy with up to 99% cache reduction.",
        2,
        0.57,
    )
    q = analyse("What is the zorb-based LLM approach for shrinking the KV cache?")
    assert _composer().subject_passages(q, [elastic, anchor])[0] is anchor
    # a question that holds only some of the title's words does not reorder
    other = analyse("What is the zorb-based approach for shrinking the KV cache?")
    assert _composer().subject_passages(other, [elastic, anchor])[0] is elastic


def test_how_big_a_set_of_data_is_counted_in_its_items() -> None:
    from rag.answer.compose import states_attribute

    counted = "With a modest training set of 500 samples, the model improves accuracy by 6%."
    assert states_attribute(analyse("How big was the training set of ZorbQA?"), counted)
    assert states_attribute(analyse("How large is the Zorb benchmark?"), "It holds 12k questions.")
    # a model's size is not a count of samples
    assert not states_attribute(analyse("How big is the ZorbQA model?"), counted)


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("What does ZorbQA do, and how big was the training set?", "the size of the training set"),
        ("What does ZorbQA do, and how fast is decoding?", "the speed of decoding"),
        ("What does ZorbQA do, and how much memory does it save?", "the figure asked for"),
    ],
)
def test_an_unstated_how_ask_is_said_as_a_thing(question: str, missing: str) -> None:
    """ "The abstract does not give how big training set." read as a fragment of the question;
    a "how big / how fast" ask is said as the thing it asks for."""
    from rag.answer.compose import Composer as C

    p = passage(
        "ZorbQA: Questions for Zorbs", "We present ZorbQA, a benchmark of zorb questions.", 1, 0.7
    )
    lead = C(lambda _t: 1.0).lead(analyse(question), [p])
    assert lead.text.endswith(f"The abstract does not give {missing}."), lead.text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (
            "We show that relabeling the corpus helps. We analyze ways to relabel it and find "
            "that this technique, which we call ZORBCAP, reduces the discrepancy.",
            "ZORBCAP",
        ),
        (
            "This work presents a detector for zorb jamming. A double threshold Zorb Network "
            "(DT-ZN) is also introduced to the architecture to raise its sensitivity.",
            "DT-ZN",
        ),
    ],
)
def test_a_paper_is_called_by_the_name_it_gives_its_work(text: str, name: str) -> None:
    from rag.answer.compose import short_name

    assert short_name(passage("Principled Relabeling of Zorb Captions", text, 1, 0.7)) == name


def test_a_step_of_an_earlier_list_is_not_what_a_sentence_points_back_to() -> None:
    from rag.answer.compose import with_antecedent

    text = (
        "We relabel the corpus with a captioner. First, in image quality: FID 14.8 vs. 17.9. "
        "Second, in alignment: accuracy 84.3 vs. 78.9. We find that this technique reduces "
        "the discrepancy between training and inference."
    )
    p = passage("Zorb Captions", text, 1, 0.7)
    last = "We find that this technique reduces the discrepancy between training and inference."
    assert with_antecedent(p, last, last, 1000) == [last]


@pytest.mark.parametrize(
    ("sentence", "stated"),
    [
        ("Both models exceed 20 tokens/s on ordinary consumer CPUs.", True),
        ("It decodes at 35 tokens per second on a phone.", True),
        ("It processes 1.2k images/sec.", True),
        ("It needs only 20 tokens per image.", False),
    ],
)
def test_how_fast_is_answered_by_a_rate(sentence: str, stated: bool) -> None:
    from rag.answer.compose import states_attribute

    assert states_attribute(analyse("How fast does ZorbLM run on CPUs?"), sentence) is stated


def test_a_lead_shown_from_the_middle_of_a_sentence_opens_with_the_paper_name() -> None:
    from rag.answer.compose import names_first

    assert names_first("ZorbCap", ["The authors call it ZorbCap, a relabeling method."])
    assert not names_first("ZorbCap", ["… which they call ZorbCap, both reduces the gap."])


def test_a_typo_an_abstract_also_made_is_still_put_right() -> None:
    """ "efficency" is in one chunk of the collection (an abstract's own typo): that does not
    make it the collection's word when "efficiency" is in hundreds."""
    from rag.answer.question import respelt

    texts = ["ZorbFL improves the efficiency of federated learning."]
    asked = "efficency work on federated learning?"
    fixed = "efficiency work on federated learning?"
    assert respelt(asked, texts, {"effic": 1, "effici": 589}) == fixed
    # a word in a few chunks is the collection's; a near spelling barely commoner is no fix
    assert respelt(asked, texts, {"effic": 3, "effici": 589}) == asked
    assert respelt(asked, texts, {"effic": 1, "effici": 20}) == asked


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        (
            "ZorbYOLO-Small: mAP on COCO val and how many GFLOPs?",
            "the mAP and the number of GFLOPs",
        ),
        ("ZorbNet: what speedup?", "the speedup"),
    ],
)
def test_what_is_missing_leaves_out_the_subject_a_terse_question_opens_with(
    question: str, missing: str
) -> None:
    assert what_is_missing(analyse(question)) == missing


def test_a_part_of_the_subject_so_far_leans_on_the_conversation() -> None:
    history = [("Explain ZorbColPali", "ZorbColPali compresses patch embeddings [1].")]
    assert refers_back("how much storage does the k-means part save?", history)
    assert refers_back("and the pruning step, what does it keep?", history)


def test_in_order_to_address_this_goes_whole_from_a_shown_sentence() -> None:
    from rag.answer.compose import readable_in

    sentence = "In order to address these challenges, we introduce ZorbPerf, a timed benchmark."
    p = passage("ZorbPerf", f"Benchmarks are hard. {sentence}", 1, 0.7)
    assert readable_in(p, sentence) == "The authors introduce ZorbPerf, a timed benchmark."


def test_a_side_that_spells_out_its_name_is_labelled_by_its_short_form() -> None:
    zorb = passage(
        "Steering Music Models through Their Initial Noise",
        "We propose Zorb Diffusion (ZD), a framework that steers music models by optimizing "
        "initial noise latents. ZD achieves state-of-the-art control on nearly all tasks.",
        1,
        0.6,
    )
    quux = passage(
        "QuuxVideo: Efficient Video Generation",
        "We introduce QuuxVideo, a framework for video synthesis. QuuxVideo achieves high "
        "aesthetic quality at high training efficiency.",
        2,
        0.55,
    )
    q = analyse(
        'Compare "Steering Music Models through Their Initial Noise" and "QuuxVideo: Efficient '
        'Video Generation": what does each propose and report?'
    )
    lead = comparison_lead(_composer(), q, [zorb, quux])
    assert lead is not None
    assert lead.text.startswith("ZD: The authors propose Zorb Diffusion (ZD)"), lead.text
    assert lead.text.count("Zorb Diffusion") == 1, lead.text


def test_a_contrast_with_a_sentence_not_shown_is_dropped_from_the_lead() -> None:
    from rag.answer.compose import readable

    shown = readable("On the other hand, a sparse network, called ZorbNet, keeps 90% of it.")
    assert shown == "A sparse network, called ZorbNet, keeps 90% of it."
    assert readable("In contrast, ZorbNet keeps the cache.") == "ZorbNet keeps the cache."
    # "In contrast to X" names what it sets itself against: kept
    kept = "In contrast to QuuxNet, ZorbNet keeps the cache."
    assert readable(kept) == kept


def test_a_sample_rate_is_answered_by_a_frequency_and_not_by_a_code_link() -> None:
    q = analyse("What sample rate does ZorbSong generate music at?")
    assert states_attribute(q, "ZorbSong generates minutes of stereo music at 48kHz from text.")
    assert not states_attribute(q, "ZorbSong generates 3 minutes of music on one GPU.")
    assert not states_attribute(
        analyse("How many samples does ZorbSong need?"), "It runs at 48kHz."
    )
    p = passage(
        "ZorbSong: Songs from Text",
        "ZorbSong writes songs from text prompts. "
        "Code and music samples: https://example.org/zorbsong.",
        1,
        0.6,
    )
    closest = _composer()._closest(q, [p])
    assert closest and "https" not in closest[0][1]


def test_words_asked_apart_are_met_by_the_texts_hyphenated_word() -> None:
    composer = _composer()
    assert composer.coverage(
        "Can ZorbSong run in real time?", "It enables real-time inference."
    ) > (composer.coverage("Can ZorbSong run in real time?", "It enables fast inference."))
    # a part alone is not the word: "OS-based" does not meet the "OS" asked
    asked = "Does ZorbVM rely on OS paging?"
    assert composer.coverage(asked, "Inspired by OS-based systems.") == composer.coverage(
        asked, "Inspired by systems."
    )


def test_a_title_without_a_name_is_labelled_with_the_acronym_the_paper_defines_for_it() -> None:
    from rag.answer.synthesis import _titled_acronym, label

    p = passage(
        "Faster Caching with Quux Tuning",
        "We propose a new technique, named quux tuning of caches (QTC), for faster caching. "
        "QTC is fast. We score it by a protocol we design, patient zorb testing (PZT).",
        1,
        0.6,
    )
    assert label(p) == "“Faster Caching with Quux Tuning” (QTC)"
    # an acronym for something else it coins (its evaluation protocol) is not its name
    assert _titled_acronym(p, "QTC") and not _titled_acronym(p, "PZT")


def test_a_yes_no_ask_among_several_is_answered_by_the_sentence_that_says_so() -> None:
    p = passage(
        "ZorbDec: Decoding in Units",
        "Decoding is slow. ZorbDec decodes 30% faster on code generation. "
        "ZorbDec requires no auxiliary models. It is trained on public data.",
        1,
        0.6,
    )
    q = analyse("How much faster is ZorbDec on code generation, and does it need an extra model?")
    lead = _composer().lead(q, [p])
    said = [s for _, s in lead.parts]
    assert "ZorbDec requires no auxiliary models." in said
    assert any("30%" in s for s in said)
    from rag.answer.compose import facets_of

    assert facets_of("What rate does ZorbSong use, and can it run in real time?") == [
        "What rate does ZorbSong use",
        "can it run in real time?",
    ]
    # after a bare comma, "did" goes on the ask before it
    one = "Which LLMs, by name and size, did ZorbFlash run from flash?"
    assert facets_of(one) == [one]


def test_a_third_person_abstract_opens_with_background_until_it_names_its_work() -> None:
    from rag.answer.compose import opening_background
    from rag.core.text import split_sentences

    p = passage(
        "ZorbGAN: Compressing Simulations",
        "The growth of simulations drives the need for compression. "
        "Traditional codecs cannot reach high ratios. "
        "A network, called ZorbGAN, reconstructs fields at a ratio of 512. "
        "It is shown that ZorbGAN also fills in missing frames.",
        1,
        0.6,
    )
    assert opening_background(p, split_sentences(p.text)) == [True, True, False, False]


def test_a_concession_about_a_sentence_not_shown_is_dropped_from_the_lead() -> None:
    from rag.answer.compose import readable

    shown = readable("While this is often seen as a limitation, we show that ZorbRNN is fast.")
    assert shown == "The authors show that ZorbRNN is fast."
    # a concession that names what it concedes stands
    assert readable("While QuuxNet is fast, we show ZorbRNN is faster.").startswith("While QuuxNet")


def test_a_long_name_cut_at_its_first_small_word_gives_way_to_its_acronym() -> None:
    from rag.answer.compose import short_name

    p = passage(
        "Learn to Zorb and Quux Well: Quux-Efficient Group with Blip Regularization",
        "Zorbing is hard. We propose Quux-Efficient Group with Blip regularization (QEGB) for "
        "transformers, which zorbs well. It achieves the best results on five benchmarks.",
        1,
        0.6,
    )
    assert short_name(p) == "QEGB"
    # a name the bracket spells out, or one it follows at once, stays the name
    q = passage("Zorb", "We propose BAM (Branch-Attend-Mix), a mixer. BAM is fast.", 1, 0.6)
    assert short_name(q).startswith("BAM")


def test_a_holdings_phrase_before_the_question_itself_does_not_make_it_a_list() -> None:
    # a first sentence that describes, then the ask
    described = (
        "Work on zorb flow from quux cameras with spiking nets. How many joules does it use?"
    )
    assert analyse(described).shape != "list"
    # a follow-up joined to the list question before it asks of the paper answered
    joined = "Anything on running zorb inference on Quux GPUs? what speedups did they get?"
    assert analyse(joined).shape != "list"


def test_a_count_of_things_asked_is_answered_by_the_sentence_that_gives_that_many() -> None:
    from rag.answer.question import things_counted

    p = passage(
        "ZorbPru: Zorb Pruning for Efficient Large Quux Models",
        "Large Quux Models (LQMs) are a significant advance in multimodal ability. "
        "Typically, LQMs use encoders, such as BLIP, to turn images into Quux tokens. "
        "We propose ZorbPru, a training-free method that prunes tokens by their significance. "
        "Specifically, we introduce two alternative pruning strategies: 1) the rank strategy, "
        "which keeps tokens globally; 2) the row strategy, which keeps local runs. "
        "Experiments across various LQMs show that ZorbPru prunes many redundant tokens.",
        1,
        0.6,
    )
    lead = _composer().lead(analyse("What two pruning strategies does ZorbPru offer?"), [p])
    assert "rank strategy" in lead.text and "row strategy" in lead.text
    counted = things_counted("Which three layers of the stack does its taxonomy cover?")
    assert counted is not None and counted.search("a taxonomy that spans 3 layers: …")
    assert not counted.search("three of its experts and 3.5 layers")
    assert things_counted("How does ZorbPru work?") is None


def _two_method_study() -> Passage:
    return passage(
        "Zorbing vs Quuxing: An Empirical Analysis of Compute-Optimal Solving",
        "This paper analyses two contrasting approaches: ZorbSTaR and QUXBASE. "
        "Through analysis on the BLIP8K dataset, we show that while each excels in its "
        "objective-ZorbSTaR achieving superior accuracy (32.03%) despite high cost (554.66s "
        "runtime, 12.73T FLOPs), and QUXBASE providing exceptional efficiency (8.47s runtime, "
        "2.35T FLOPs) while keeping accuracy (10.94%)-their integration reveals deep challenges "
        "in reconciling reasoning depth with computational efficiency for future systems.",
        1,
        0.6,
    )


def test_a_paper_that_studies_the_named_methods_answers_for_them() -> None:
    q = analyse("How long did ZorbSTaR take to run on BLIP8K compared with QUXBASE?")
    decision = _composer().decide(q, [_two_method_study()])
    assert decision.lead is not None and "554.66s runtime" in decision.lead.text
    # a paper that names them once each, as what it beats, does not answer for them
    cites = passage(
        "BlipNet: Fast Solving",
        "We propose BlipNet, which beats ZorbSTaR and QUXBASE on BLIP8K. BlipNet is fast.",
        1,
        0.6,
    )
    assert _composer().decide(q, [cites]).lead is None


def test_a_long_sentence_is_cut_to_the_clause_of_the_asked_name_however_it_is_glued_on() -> None:
    from rag.answer.compose import trim

    q = analyse("What accuracy does ZorbSTaR reach compared with QUXBASE?")
    sentence = split_sentences(_two_method_study().text)[1]
    shown = trim(sentence, q, 240)
    assert "ZorbSTaR achieving superior accuracy (32.03%)" in shown


def test_a_sequence_length_is_counted_in_tokens() -> None:
    q = analyse("At what sequence length does ZorbShift become cheaper than attention?")
    s = "ZorbShift saves memory for sequences as short as 800 tokens and beyond."
    assert states_attribute(q, s)
    # a count of training tokens is no sequence's length
    pretrained = analyse("What sequence length was ZorbLM-7B pretrained with?")
    assert not states_attribute(pretrained, "ZorbLM is trained on 2 trillion training tokens.")
    # any other length is not a count of tokens
    video = analyse("What is the length of the Zorb videos?")
    assert "length" in video.attribute
    assert not states_attribute(video, "It was trained on 2T tokens.")


def test_what_the_asked_thing_is_may_be_said_with_is_and_no_name() -> None:
    p = passage(
        "ZorbGNN: Out-of-Core Zorb Training",
        "Zorb networks are large. We build a system called ZorbGNN, which trains fast. "
        "The key technique used by ZorbGNN is offline sampling, which decouples sampling "
        "from computation. ZorbGNN is 8x faster.",
        1,
        0.6,
    )
    decision = _composer().decide(analyse("What is the key technique in ZorbGNN?"), [p])
    assert decision.lead is not None and "offline sampling" in decision.lead.text


def test_a_plural_kind_asked_is_met_by_a_name_of_that_kind() -> None:
    p = passage(
        "ZorbMaster: Taming Quux Models for Zorb Estimation",
        "Zorb estimation is slow. We propose ZorbMaster, a single-step quux model. "
        "First, to avoid overfitting, we propose a Feature Blending module, which adds "
        "semantic features. Our project page is at https://example.org/ZorbMaster_page.",
        1,
        0.6,
    )
    for question in (
        "Which modules does ZorbMaster propose?",
        "What modules does ZorbMaster add to the single-step quux model?",
    ):
        decision = _composer().decide(analyse(question), [p])
        assert decision.lead is not None and "Feature Blending module" in decision.lead.text


def test_the_core_idea_of_a_method_is_its_proposal_first() -> None:
    from rag.answer.synthesis import how_lead

    p = passage(
        "ZorbShift: Shifting Zorb Attention from Squared to Linear",
        "The quadratic cost of zorb attention is a hurdle. "
        "This paper introduces ZorbShift, a reformulation of the quux softmax that computes "
        "full interactions in linear time. "
        "We analytically determine the crossover points where employing ZorbShift becomes more "
        "efficient than traditional attention, aligning closely with empirical measurements. "
        "Specifically, our findings demonstrate that ZorbShift enhances memory efficiency for "
        "sequences as short as 800 tokens and accelerates inference beyond 1700 tokens. "
        "A classification benchmark across five tasks involving long sequences reveals no "
        "degradation in accuracy when employing Transformers equipped with ZorbShift.",
        1,
        0.6,
    )
    lead = how_lead(_composer(), analyse("What is the core idea behind ZorbShift?"), p)
    assert lead is not None and lead.text.startswith("This paper introduces ZorbShift")


def test_a_why_said_with_a_negation_is_answered_by_what_stands_in_the_way() -> None:
    from rag.answer.synthesis import how_lead

    p = passage(
        "Zorb-Craft: Managing Quux-Caches for Efficient Zorb Generation",
        "Zorb generation often sends retrieved chunks to a model. "
        "Currently, models fully recompute the quux values of every chunk, as existing methods "
        "cannot reuse quux caches when chunks appear at arbitrary positions. "
        "In this work, we propose Zorb-Craft, a system for managing and reusing precomputed "
        "quux values of the chunks. "
        "We present how to identify reusable caches and how to fix them with a little "
        "recomputation. "
        "Zorb-Craft reduces redundant computation by 51% over prefix caching.",
        1,
        0.6,
    )
    q = analyse("Why can't existing methods reuse quux caches for chunks, according to Zorb-Craft?")
    lead = how_lead(_composer(), q, p)
    assert lead is not None and "cannot reuse quux caches" in lead.parts[0][1]


def test_the_names_a_result_is_measured_on_are_the_benchmarks_asked_for() -> None:
    q = analyse("On which benchmarks did the small zorb models (e.g. 0.5B) beat GPT-4o?")
    said = "Moreover, on both ZORB-500 and QUUX24, a 0.5B LLM outperforms GPT-4o by 3 points."
    assert states_attribute(q, said)


def test_what_a_short_name_stands_for_is_the_sentence_that_writes_it_out() -> None:
    from rag.answer.question import expansion_asked

    p = passage(
        "ZoPru: Zorb Pruning for Efficient Quux Models",
        "Quux models are slow. We propose Zorb Pruning (ZoPru), a training-free method. "
        "Specifically, ZoPru offers two alternative pruning strategies, which ZoPru mixes. "
        "Experiments show that ZoPru prunes most tokens while ZoPru keeps accuracy.",
        1,
        0.6,
    )
    lead = _composer().lead(analyse("What does ZoPru stand for?"), [p])
    assert "Zorb Pruning (ZoPru)" in lead.text
    wanted = expansion_asked("What is ZQA short for?")
    assert wanted is not None and wanted.search("ZQA (Zorb Quux Attention) is fast")
    assert expansion_asked("What does ZoPru prune?") is None


def test_the_datasets_asked_for_are_names_given_as_datasets_or_tried_on() -> None:
    q = analyse("Which datasets was ZorbSpec tested on?")
    assert q.kind == "dataset"
    listed = "To evaluate it, we ran experiments using five datasets: QuuxBench, ZORB/DM and Blip."
    tried = "We rigorously experiment with QuuxNet256, UCF-Zorb, and Blip600 for generation."
    other = "ZorbSpec integrates with QuuxDecoding, yielding a 49% additional speed-up."
    assert states_attribute(q, listed) and states_attribute(q, tried)
    assert not states_attribute(q, other)  # a name, but none given as a dataset


def test_a_how_answer_holds_the_sentence_that_meets_what_the_question_holds_it_to() -> None:
    from rag.answer.synthesis import how_lead

    p = passage(
        "ZorbI2V: Zero-Cost Adaptation of Image Zorbs to Video",
        "Adapting image zorbs to video is costly. "
        "We present a new adaptation paradigm (ZorbI2V) to transfer image zorbs to video tasks. "
        "To capture the dynamics in videos, we exploit self-attention and introduce "
        "spatial-temporal dual-headed attention (STDHA). "
        "To handle the domain gap between images and videos, we propose a linear adaption "
        "strategy that uses lightweight densely placed linear adapters. "
        "To capture motion cues, we further add a temporal shift to every block. "
        "The adapters are merged after training, with zero extra cost during inference. "
        "ZorbI2V matches full fine-tuning on five video benchmarks.",
        1,
        0.6,
    )
    q = analyse("How does ZorbI2V adapt image zorbs to video without adding inference cost?")
    lead = how_lead(_composer(), q, p)
    assert lead is not None and "The adapters are merged after training" in lead.text


@pytest.mark.parametrize(
    ("text", "topic", "figure"),
    [
        # the figure of the approaches it beats ("Comparative approaches … exact a higher toll
        # on runtime (up to 2x)") is not the paper's result: its own figure is
        (
            "We introduce ZorbTok, a training-free method for reducing energy. Experimentally, we "
            "demonstrate a reduction in wattage of up to 19% with a small runtime cost. "
            "Comparative approaches of 8-bit quantization achieve similar energy efficiency but "
            "exact a higher toll on runtime (up to 2x or more).",
            "energy efficiency runtime",
            "19%",
        ),
        # "what efficiency numbers does each headline?": its speed or memory figure, not the
        # accuracy it keeps (also a result, and closer to the question's other words)
        (
            "We propose ZorbTok. Experiments show that ZorbTok maintains up to 98% task "
            "performance when pruning models with 40% parameters left. Furthermore, ZorbTok "
            "speeds up fine-tuning by up to 8x and reduces the training memory footprint by 70%.",
            "efficiency numbers headline task",
            "8x",
        ),
    ],
)
def test_a_papers_headline_result_is_its_own_figure_of_the_asked_kind(
    text: str, topic: str, figure: str
) -> None:
    from rag.answer.synthesis import headline_result

    found = headline_result(_composer(), topic, passage("ZorbTok: Lean Tokens", text, 1, 0.7))
    assert found is not None and figure in found, found


@pytest.mark.parametrize(
    "question",
    ["What goes wrong with momentum on zorb-invariant weights?", "What is wrong with momentum?"],
)
def test_what_goes_wrong_is_answered_by_the_problem_the_paper_states(question: str) -> None:
    """ "What goes wrong with X?" asks a limitation, as "what problem …" does: the sentence
    stating what goes wrong, not the paper's evaluation that shares its words."""
    p = passage(
        "ZorbP: Slowing Down the Slowdown",
        "Normalization is a boon for deep learning. It is often overlooked, however, that "
        "momentum results in a far more rapid reduction in effective step sizes for "
        "zorb-invariant weights. We propose ZorbP, which removes the radial component. We "
        "evaluated momentum and zorb-invariant weights against the baselines on 13 benchmarks.",
        1,
        0.7,
    )
    lead = _composer().decide(analyse(question), [p]).lead
    assert lead is not None and "step sizes" in lead.text, lead


def test_a_thing_asked_of_a_described_paper_is_that_thing_not_the_paper() -> None:
    """ "Which inference strategy does the zorb-aware tuning paper study?": the paper is
    described; what is asked is the strategy it studies, named in its own sentence."""
    from rag.answer.compose import inner_ask

    p = passage(
        "Zorb-Aware Tuning for Best-of-Quux Sampling",
        "We propose a novel zorb-aware tuning paradigm, in which the model is tuned to optimize "
        "the inference-time strategy. We study this paradigm using the simple Best-of-Quux "
        "(BoQ) inference strategy, in which a verifier selects the best response.",
        1,
        0.7,
    )
    q = analyse("Which inference strategy does the zorb-aware tuning paper study?")
    assert inner_ask(q)
    assert not inner_ask(analyse("Which paper studies the Best-of-Quux strategy?"))
    lead = _composer().decide(q, [p]).lead
    assert lead is not None and "Best-of-Quux" in lead.text, lead


def test_a_relation_asked_in_plain_words_meets_the_abstracts_word() -> None:
    """ "Which zorb model does Quux beat?" is answered where the abstract says Quux outperforms
    one, not by its introduction, which only names Quux and zorb models."""
    composer = _composer()
    assert composer.coverage("Which model does Quux beat?", "Quux outperforms ZorbNet.") == 1.0
    assert composer.coverage("Which model does Quux beat?", "Quux surpasses ZorbNet.") == 1.0
    # a word of another relation is no match
    assert composer.coverage("Which model does Quux beat?", "Quux extends ZorbNet.") < 1.0
    p = passage(
        "Quux: Fast and Small Zorb Models",
        "Zorb models are slow at inference. We introduce Quux, a family of compact zorb models "
        "that offers two advantages over existing zorb models. Experiments show that Quux "
        "significantly outperforms the state-of-the-art zorb model, ZorbNet, in speed.",
        1,
        0.6,
    )
    ranked = composer.sentences(analyse("Which zorb model does Quux beat?"), p)
    assert "ZorbNet" in ranked[0].sentence, ranked[0].sentence


@pytest.mark.parametrize(
    ("question", "shape"),
    [
        ("To run zorb models on quux chips, which two techniques cut the reads?", "single"),
        ("Which three strategies does ZorbServe combine?", "single"),
        # a paper is often called a method: a counted set of methods or papers is still a list
        ("Which two papers split zorb prefill and decode?", "list"),
        ("Which three methods quantize zorb models?", "list"),
    ],
)
def test_a_counted_set_of_techniques_is_one_papers_parts(question: str, shape: str) -> None:
    assert analyse(question).shape == shape


def test_two_names_one_title_holds_together_are_one_side() -> None:
    """ "Compare Zorb and Quux with NetX": Zorb and Quux are one paper ("Zorb and Quux: …"), one
    side; NetX is the other, not crowded out as a third name."""
    from rag.answer.synthesis import compared_names, comparison_lead, names_resolved

    papers = [
        passage(
            "Zorb and Quux: Gated Recurrences with Matrix States",
            "We present Zorb and Quux, recurrent models that keep inference cheap.",
            1,
            0.7,
        ),
        passage("NetX: Selective Zorb Spaces", "We propose NetX, a selective state space.", 2, 0.6),
    ]
    q = analyse("Compare Zorb and Quux with NetX: how do they keep inference cheap?")
    assert compared_names(names_resolved(q, papers)) == ["Zorb and Quux", "NetX"]
    lead = comparison_lead(_composer(), q, papers)
    # each side under the name the question gives it
    assert lead is not None and lead.text.startswith("Zorb and Quux: "), lead
    assert "NetX" in lead.text and "[2]" in lead.text, lead
    # two papers of their own stay two sides
    apart = [passage("Zorb: Gated Recurrences", "We present Zorb.", 1, 0.7), papers[1]]
    assert compared_names(names_resolved(analyse("Compare Zorb and NetX."), apart)) == [
        "Zorb",
        "NetX",
    ]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What does the Zorb metric count to stay stable?", "describe"),
        ("What does ZorbRank rank first?", "describe"),
        # the noun asked is still an amount
        ("What token count does Zorb need?", "number"),
        ("How many tokens does the Zorb metric count?", "number"),
    ],
)
def test_the_noun_of_an_amount_as_the_verb_asks_what(question: str, kind: str) -> None:
    assert analyse(question).kind == kind


def test_the_same_problem_as_a_reference_is_its_nearest_abstracts() -> None:
    """ "Which papers work on the same problem as 'Zorb: …'?": the papers are those whose
    abstracts lie close to Zorb's (the passages' cosines, searched with Zorb's own text), not
    those sharing a word of its title."""
    from rag.answer.synthesis import reference_paper, relevant_papers

    ref = passage(
        "Zorb: Accelerating Quux Diffusion Sampling", "We make quux diffusion fast.", 1, 1.0
    )
    near = passage("FastQuux: Few-Step Sampling", "We cut quux sampling to one step.", 2, 0.78)
    wordy = passage(
        "QuuxDoc: Quux Diffusion for Document Cleaning", "We clean scanned pages.", 3, 0.62
    )
    q = analyse(
        "Which papers work on the same problem as 'Zorb: Accelerating Quux Diffusion Sampling'?"
    )
    assert reference_paper(q, [ref, near, wordy]) is ref
    listed = relevant_papers(_composer(), q, [ref, near, wordy])
    assert [s.passage.title for s in listed] == [near.title]
    # a question that states its own topic is searched by its words, as any list question
    own = analyse("Which papers improve on Zorb's sampling schedule for phones?")
    assert reference_paper(own, [ref, near, wordy]) is None
