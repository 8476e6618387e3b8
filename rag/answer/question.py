"""What a question asks: the kind of answer, the attribute asked for, and the subjects it names.

The reader's contract is that a sentence is shown only if it answers what was asked; these
features are what "what was asked" means to the checks. Hand-written rules, because the models
this project can run offline (MiniLM, a 135M LLM) cannot judge it and no maintained library
types questions for a retrieval pipeline; each rule is measured on eval/dev.jsonl.

Kinds:
- `number`  "how much / how many / what speedup …": a figure about the attribute
- `hardware` "which GPU / on what hardware": a device name
- `year`, `venue`, `authors`: publication facts, which abstracts do not state
- `dataset` "which dataset / benchmark": a named dataset
- `name`    "which method / paper / framework …": the paper's method name
- `describe` anything else ("how does X work", "what does X do")
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from rag.core.text import NAME, content_tokens, squash

# Names that say nothing about which paper is meant.
GENERIC_NAMES = frozenset(
    [
        "llm",
        "llms",
        "gpu",
        "gpus",
        "cpu",
        "cpus",
        "tpu",
        "tpus",
        "mcu",  # device classes, like GPU and CPU: "for MCUs" names no paper
        "mcus",
        "npu",
        "npus",
        "fpga",
        "fpgas",
        "asic",
        "asics",
        "soc",
        "socs",
        "kv",
        "ai",
        "ml",
        "nlp",
        "cnn",
        "cnns",
        "dnn",
        "dnns",
        "api",
        "apis",
        "flops",
        "gflops",
        "tflops",
        "fid",
        "bleu",
        "rouge",
        "mfu",
        "moe",
        "vram",
        "hbm",
        "sram",
        "io",
        "ram",
        "ssd",
        "nvme",
        "fp16",
        "fp8",
        "int8",
        "int4",
        "bf16",
        "ffn",
        "mlp",
        "rnn",
        "rnns",
        "sota",
        "qa",
        "ood",
        "1b",
        "7b",
        "13b",
        "70b",
        "2d",
        "3d",
        "sd",
        "vit",
        "vits",
        "asr",
        "tts",
        "os",
        "sql",
        "nvidia",
        "intel",
        "amd",
        "google",
        "microsoft",
        "meta",
        "apple",
        "openai",
        "huggingface",
        "pytorch",
        "tensorflow",
        "cuda",
        "ii",
        "iii",
        "iv",
        # hardware, units and techniques many abstracts share: never a paper's subject
        "dram",
        "fpga",
        "fpgas",
        "asic",
        "asics",
        "npu",
        "npus",
        "sgd",
        "gemm",
        "ann",
        "gan",
        "gans",
        "ssm",
        "ssms",
        "rag",
        "fps",
        "tops",
        "macs",
        "hpc",
        "simd",
        "avx",
        "psnr",
        "ssim",
        "wer",
        "auc",
        "mse",
        # metrics, like FID and PSNR: "mAP on COCO val" asks a figure, of no paper called mAP
        "map",
        "lpips",
        "iou",
        "miou",
        "usd",
        "ms",
    ]
)
# Words that name a measurable attribute; a "number" question's answer needs a figure near one.
QUANTITY_WORDS = frozenset(
    [
        "speedup",
        "speed-up",
        "speedups",
        "faster",
        "slower",
        "speed",
        "latency",
        "latencies",
        "throughput",
        "accuracy",
        "memory",
        "footprint",
        "parameters",
        "parameter",
        "params",
        "size",
        "ratio",
        "compression",
        "reduction",
        "improvement",
        "gain",
        "gains",
        "cost",
        "costs",
        "energy",
        "power",
        "flops",
        "utilization",
        "perplexity",
        "fid",
        "bleu",
        "rouge",
        "score",
        "scores",
        "error",
        "rate",
        "budget",
        "savings",
        "saving",
        "bits",
        "bit-width",
        "bit-widths",
        "precision",
        "length",
        "context",
        "tokens",
        "layers",
        "heads",
        "experts",
        "gpus",
        "hours",
        "days",
        "minutes",
        "seconds",
        "time",
        "epochs",
        "steps",
        "batch",
        "win",
        "top-1",
        "top-5",
        "bandwidth",
        "vocabulary",
        "dimension",
        "rank",
        "window",
        "width",
        "wide",
        "depth",
        "values",
        "value",
        "coefficients",
        "coefficient",
        "threshold",
        "percentage",
        "share",
        "fraction",
    ]
)

_COMPARED = re.compile(r"\b(?:than|versus|vs\.?|compared (?:to|with))\s+([A-Z][\w\-.]+)")
_COPULA = re.compile(r"^\s*(is|are|was|were)\s+(the\s+|an?\s+)?", re.IGNORECASE)
RARE_WORD_CHUNKS = 3  # a capitalised word in at most this many chunks names a paper ("Splitwise")
_WH = (
    r"(?:what|which|how many|how much|how long|how fast|how large|how big|how quickly|how often|"
    r"how wide|how deep|how high|how tall)"
)
_DETERMINERS = {"the", "a", "an", "its", "their", "this", "these", "that", "each", "every", "our"}
# A word of its own, not a part of a hyphenated one ("end-to-end speedup" is one attribute)
_STOP_AFTER_WH = re.compile(
    r"(?<![\w-])(does|do|did|is|are|was|were|can|could|would|will|has|have|had|of|on|in|for|"
    r"over|by|to|when|that|than|with|at|from|against|under|after|before|per|if|while)(?![\w-])",
    re.IGNORECASE,
)
_KIND_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "authors",
        re.compile(
            # "Which dataset did the authors release?": the authors as the subject after an
            # auxiliary do something; what they did is asked, not who they are
            r"(?<!did the )(?<!do the )(?<!does the )(?<!have the )(?<!had the )(?<!can the )"
            r"(?:"
            # "Who proposed X?" asks which work did (the "name" rule): abstracts name no people.
            # The authors are asked as the wh-word's head ("who are the authors", "which
            # authors"), as "the authors of X" or as the question's last word; "how many hours
            # did the JoyHallo authors collect" asks what they did, and "the authors' method" is
            # the paper's
            # ("What GPU did the authors of Mamba use …?" asks for a GPU)
            r"\b(?:which|what|who)\s+(?:(?:are|were|is|was)\s+)?(?:the\s+)?authors?\b|"
            r"\bauthors?\s+(?:of|behind)\b|\bauthors?\s*\??\s*$)|\bwho (wrote|authored)\b",
            re.I,
        ),
    ),
    (
        "year",
        re.compile(
            r"\b(which|what|in what) year\b|"
            r"\bwhen (was|were)\b.*\b(published|released|introduced|proposed)\b",
            re.I,
        ),
    ),
    ("venue", re.compile(r"\b(conference|venue|journal|workshop)\b", re.I)),
    (
        "hardware",
        re.compile(
            # "Which accelerator design …" asks for a design (a name), not a device
            r"\b(which|what) (?!(?:papers?|methods?|works?|approach\w*|frameworks?|systems?|"
            r"stud\w+|techniques?)\b)(\w+ ){0,2}(?<![\w-])(gpus?|hardware|devices?|accelerators?|"
            r"tpus?|cpus?|chips?|processors?|machines?|cluster|(?:smart)?phones?|"
            r"microcontrollers?|laptops?)\b(?!\s+(?:designs?|frameworks?|"
            r"methods?|dataflows?|schedulers?|compilers?|kernels?)\b)|"
            r"\bon (which|what) (gpu|hardware|device)",
            re.I,
        ),
    ),
    (
        "dataset",
        re.compile(
            r"\b(which|what)\b[^?]{0,20}?\b(datasets?|benchmarks?|corpus|corpora)\b|"
            # "where were they evaluated?": on what data, benchmark or simulator
            r"\bwhere\s+(?:is|are|was|were|do|does|did)\b[^?]{0,40}?\b(?:evaluat|test|benchmark|"
            r"validat|assess)\w*",
            re.I,
        ),
    ),
    (
        "number",
        re.compile(
            r"\bhow (much|many|fast|long|large|big|quickly|often|far|small|wide|deep|high|"
            r"tall|heavy)\b|\bby how\b|"
            r"\bwhat (percentage|fraction|share|proportion)\b|\bup to what\b|"
            r"\b(what|which)\s+(\S+\s+){0,5}?(speedups?|speed-ups?|ratios?|accuracy|accuracies|latency|"
            r"throughput|rates?|sizes?|numbers?|count|fid|bleu|scores?|perplexity|reductions?|"
            r"improvements?|gains?|memory|cost|length|parameters?|bits?|bit-widths?|compression|"
            r"percent|flops|utilization|error|budget|savings?|top-1|top-5|map|ap|auc|speeds?|"
            r"factor|hours?|days?|frame rate|fps|win rate|rank|dimensions?|vocabulary|values?|"
            # "parameter-efficient", "memory-bound": an adjective, not the asked quantity
            r"coefficients?|thresholds?|width|depth|learning rates?|energy|power)\b(?!-)"
            # "which … KV cache compression method …": a kind of method, asked by its name
            r"(?!\s+(?:methods?|techniques?|frameworks?|approach(?:es)?|algorithms?|schemes?|"
            r"systems?|papers?|strateg(?:y|ies)|models?|architectures?)\b)",
            re.I,
        ),
    ),
    (
        "name",
        re.compile(
            r"\bwhat is the name of\b|\bwhat (is|are) (it|they|this|the \w+) called\b|"
            # "…. Name of the approach?"
            r"(?:^|[.?!:;,]\s*)(?:the\s+)?name(?: of (?:the|this|that|its|their)\b|\s*\?\s*$)|"
            r"(?:^|[,:;]\s*)(which|what|name the|who)\b[^?]{0,30}?\b(methods?|papers?|frameworks?|"
            r"techniques?|systems?|models?|approach(es)?|algorithms?|architectures?|optimizers?|works?|studies|"
            r"study|library|libraries|tools?|schemes?|modules?|strategies|strategy|designs?|"
            r"mechanisms?|kernels?|engines?|benchmarks?|compilers?|networks?|proposals?|variants?|"
            r"stacks?|runtimes?|toolkits?|functions?|formats?|operators?|schedulers?|schedules?)\b"
            # "Is there a paper that …?", "Any paper that …?", "is there a video diffusion paper
            # where …", "Is there an inference engine for …": one work asked for by what it does,
            # as "Which paper …?" asks ("Is there work on …" asks for a body of work)
            r"|^\s*(?:is|was)\s+there\s+(?:a|an|one)\s"
            r"|^\s*any\s+paper\s+(?:that|which|where|whose|for|on|about)\b"
            r"|^\s*who\b",
            re.I,
        ),
    ),
]
_PLURAL = re.compile(
    r"\b(which|what) (\w+ ){0,3}(papers|methods|frameworks|techniques|systems|approaches|works|"
    r"studies|optimizers|benchmarks)\b( in the collection)?"
    # "what does each report?" asks of several papers; "how long is each?", "the length of
    # each" asks of the items of one ("each video")
    r"(?! (is|was|does|has)\b)|(?<!\bis )(?<!\bof )(?<!\bper )(?<!\bfor )\beach\b|^\s*compare\b",
    re.I,
)

# Words an answer's sentence may use for an asked attribute (stems, as content_tokens gives).
_TIME_UNITS = {"sec", "secs", "min", "mins", "ms", "hr", "hrs", "durat"}
_SCORE_UNITS = {"ap", "map", "bleu", "rouge", "pp"}
_DURATIONS = {"second", "sec", "ms", "millisecond"}  # content_tokens of "0.2 seconds", "50 ms"
# "how fast is X": a frame rate, a latency or the time it takes ("in 0.2 seconds") is its speed
# as much as a speedup is
_HOW_FAST = {"faster", "speedup", "speed", "acceler", "speed-up", "throughput", "fps", "latenc"}
_HOW_FAST |= _DURATIONS
MIN_CLIPPED_CHARS = 4  # "mem" or "acc" could begin too many words to say which is meant
_SYNONYMS: dict[str, set[str]] = {
    "frame": {"frame", "fps"},
    # "runtime in milliseconds": a time in the asked unit, however the abstract writes it
    "ms": {"ms", "millisecond"},
    "sec": {"sec", "second", "s"},
    "learn": {"learn", "lr"},
    "speedup": {"faster", "speedup", "speed", "acceler", "speed-up", "throughput", "latenc", "x"},
    "faster": _HOW_FAST,
    "speed": _HOW_FAST,
    "latenc": {"latenc", "faster", "speedup", "time", "ms", "speed"},
    "throughput": {
        "throughput",
        "faster",
        "speedup",
        "token",
        "request",
        "petaflop",
        "tflop",
        "flop",
        "teraflop",
        "qps",
        "fps",
    },
    "often": {"month", "year", "week", "day", "hour", "everi", "time", "faster", "speedup"},
    "memori": {"memori", "gb", "footprint", "storag", "cach"},
    "paramet": {"paramet", "b", "m", "size", "weight"},
    # a bit-width is written as bits ("3.1-bit models")
    "bit-width": {"bit-width", "bit"},
    # a duration is also written in its units' short forms ("95 sec", "12 ms", "3 hrs")
    # ("554.66s runtime": a runtime is how long it takes)
    "long": {
        "hour",
        "day",
        "minut",
        "second",
        "time",
        "gpu-hour",
        "token",
        "length",
        "runtim",
        "wall-clock",
        *_TIME_UNITS,
    },
    # a video's or a clip's length is a duration or a count of frames ("videos covering at least
    # 10 seconds"); not any count of tokens ("2 trillion training tokens" is not a sequence length)
    "length": {"length", "long", "frame", "second", "minut", "hour", *_TIME_UNITS},
    "cost": {"cost", "cheaper", "price", "dollar", "$"},
    # power is reported in watts ("1.11 W", "350 mW", "a reduction in wattage"), energy in
    # joules or kWh or, by many abstracts, as the power drawn
    "power": {"power", "watt", "wattag", "w", "mw", "kw", "energi"},
    "energi": {"energi", "joul", "kwh", "power", "watt", "wattag", "w", "mw", "kw"},
    # detection and translation report accuracy as AP / mAP / BLEU
    "accuraci": {"accuraci", "top-1", "score", "perform", *_SCORE_UNITS},
    # "what score does it reach on LRA" -> "averaging 85% on LRA": a score is reported as one
    "score": {"score", "accuraci", "averag", "perform", "top-1", "f1", *_SCORE_UNITS},
    # "how many mAP points": a point is a unit of a score
    "point": {"point", "score", "accuraci", "f1", *_SCORE_UNITS},
    # "what does it gain?": any improvement it measures, in speed or cost as much as in quality
    "gain": {
        "gain",
        "improv",
        "boost",
        "increas",
        "higher",
        "better",
        "outperform",
        "speedup",
        "faster",
        "reduc",
        "drop",
        "save",
        "lower",
        "less",
        "fewer",
    },
    "improv": {"gain", "improv", "boost", "increas", "higher", "better", "outperform"},
    "reduct": {"reduc", "cut", "save", "lower", "decreas", "less", "fewer", "compress", "smaller"},
    # "what time savings": a reduction of the time is its saving
    "save": {"save", "reduc", "cut", "lower", "decreas", "less", "fewer"},
    # "how big": in bytes, parameters or items ("200k videos", "3.4B words", "a 1.4
    # trillion-token datastore": a magnitude written out is its letter)
    "size": {
        "size",
        "smaller",
        "larger",
        "compress",
        "reduc",
        "gb",
        "mb",
        "paramet",
        "b",
        "m",
        "k",
        "thousand",
        "million",
        "billion",
        "trillion",
    },
    "compress": {"compress", "reduc", "ratio", "smaller"},
    "rate": {"rate", "fps"},
    # a frequency is written in its unit: "at 48kHz", "a 2.4 GHz clock"
    "frequenc": {"frequenc", "hz", "khz", "mhz", "ghz"},
    "time": {"time", "hour", "day", "minut", "second", "faster", "speedup", "latenc", *_TIME_UNITS},
    "budget": {"budget", "cach", "token", "memori"},
    # the items a set of data is counted in ("500 samples", "1.2M image-text pairs")
    "items": {
        "sampl",
        "exampl",
        "instanc",
        "imag",
        "pair",
        "question",
        "problem",
        "document",
        "video",
        "clip",
        "sentenc",
        "utter",
        "hour",
        "token",
        "dialogu",
        "convers",
        "k",
        "thousand",
        "million",
        "billion",
        "trillion",
        "m",
        "b",
        "size",
    },
    # "how much bigger": "up to 500% larger"
    "bigger": {"bigger", "larger", "greater"},
    "larger": {"larger", "bigger", "greater"},
}


@dataclass
class Question:
    text: str
    kind: str
    attribute: set[str] = field(default_factory=set)  # content tokens of the asked attribute
    attribute_phrase: str = ""  # the asked attribute in the question's words
    names: list[str] = field(default_factory=list)  # the subjects it names ("ZipCache")
    plural: bool = False  # asks about several papers
    # single (one fact of one paper) | list (every paper that answers) | comparison (two or
    # more named papers side by side) | how (the mechanism: how it works, why it helps)
    shape: str = "single"
    # a comparison of two papers described rather than named ("Compare a retriever that … with a
    # datastore that …"): each side's description, and the ask put to both
    described: list[str] = field(default_factory=list)
    ask: str = ""

    @property
    def typed(self) -> bool:
        """A kind whose answer must hold a specific kind of fact (figure, device, year…)."""
        return self.kind in ("number", "hardware", "year", "venue", "authors", "dataset")

    def attribute_groups(self) -> list[set[str]]:
        """One set per asked attribute token: the token and its accepted synonyms."""
        return [{t} | self._synonyms(t) for t in sorted(self.attribute)]

    def attribute_words(self) -> set[str]:
        """The attribute's tokens with their accepted synonyms."""
        words = set(self.attribute)
        for token in self.attribute:
            words |= self._synonyms(token)
        return words

    def _synonyms(self, token: str) -> set[str]:
        words = _SYNONYMS.get(token, set())
        asked = _SEQUENCE_ASKED.search(self.text) if token == "length" else None
        if asked:
            # "at what sequence length …": a figure by the sequences themselves ("sequences as
            # short as 800 tokens"), not any count of tokens ("2T training tokens")
            words = words | content_tokens(asked.group(0))
        return words


_SEQUENCE_ASKED = re.compile(r"\b(?:sequence|context|input|prompt)s?\b", re.IGNORECASE)


_CALLED = re.compile(r"\b(what|which)\b[^?]{0,80}\b(called|named)\s*\??\s*$", re.I)
_REACHES = re.compile(
    r"\bwhat (\w+ ){1,3}(does|do|did)\b[^?]*\b(reach|achieve|attain|obtain)", re.I
)


# "What does the paper X report as its main result?", "What are the key findings of X?": the
# paper's outcome is asked, not a name (though "what … paper" reads like "which paper").
RESULT_ASK = re.compile(
    r"\b(?:main|key|headline|principal|central)\s+(?:results?|findings?|outcomes?|claims?)\b|"
    r"\bwhat\s+(?:results?|findings?)\b|"
    r"^\s*what\s+(?:does|do|did)\s+[^?]{0,200}?\b(?:report|show|find|conclude|demonstrate)\b|"
    r"^\s*how\s+(?:well\s+)?(?:does|do|did)\s+[^?]{0,80}?\b(?:perform|fare)s?\b",
    re.IGNORECASE,
)


# "What mechanism lets X …", "the key idea of X": how it works, not a name to give
_MECHANISM_ASK = re.compile(
    r"\bwhat\s+(?:(?:key|main|core|central)\s+)?(?:mechanisms?|ideas?|insights?|tricks?|"
    r"principles?)\b|\b(?:key|main|core|central)\s+(?:idea|insight|mechanism|trick)\b",
    re.IGNORECASE,
)
# "What techniques does X use to …?": how X works, told in its own words (not a name to give)
TECHNIQUE_ASK = re.compile(
    r"\bwhat\s+(?:[\w-]+\s+)?(?:techniques?|methods?|strateg(?:y|ies)|mechanisms?|tricks?|"
    r"ideas?)\s+(?:does|do|did)\b",
    re.IGNORECASE,
)


# "What does APB do to speed up long-context inference?": what it does to get there is asked;
# "speed up" is what it does, not a speed asked for
DO_TO_ASK = re.compile(r"\bwhat\s+(?:does|do|did)\s+[^?]{1,80}?\s+do\s+to\s+[a-z]", re.IGNORECASE)

# "What explains learning rate transfer under muP?", "what makes X fast": a why question, whatever
# quantity its subject names
_CAUSE_ASK = re.compile(
    r"(?:^|[,;:]\s*)what\s+(?:explains|causes|drives|underlies|accounts\s+for|makes|enables|"
    r"allows|lets)\b",
    re.IGNORECASE,
)


def asks_why(question: str) -> bool:
    """ "Why can X skip …?", "what explains …": the reason is asked, not the mechanism alone."""
    return bool(re.match(r"\s*why\b", question, re.IGNORECASE) or _CAUSE_ASK.search(question))


# "Which parameters does X tune?": which ones (the bias terms, the sensitive ones), not how many
_WHICH_ONES = re.compile(r"\bwhich\s+(?:[\w-]+\s+)?(?:parameters|weights|layers)\b", re.I)


_HOW_OPENING = re.compile(r"^\s*how\s+(?:does|do|did|can|could)\s", re.IGNORECASE)
_HOW_MUCH = re.compile(r"\bhow\s+(?:much|many)\b", re.IGNORECASE)


# "… pick which tokens get more bits", "… decide what precision each layer gets": the clause
# after a verb of choosing is the object of what the method does, not an amount asked
_CHOOSES_WHICH = re.compile(
    r"\b(?:pick|choose|chose|decide|select|determine|identify|find|predict|estimate|learn|"
    r"tell|know)\w*\s+(?:which|what)\b",
    re.IGNORECASE,
)


def _embedded_amount(question: str, number: re.Pattern[str]) -> bool:
    """ "how does X decide how much of the model to use?", "how does X pick which tokens get
    more bits?": the only amount is the object of what X does (no clause asks it:
    `_asks_amount`), and how X does it is asked."""
    return (
        bool(_HOW_OPENING.match(question))
        and not _asks_amount(question)
        and not number.search(_CHOOSES_WHICH.sub(" ", _HOW_MUCH.sub(" ", question)))
    )


# "What does the Zorb metric count?", "what does it rank first?": the noun of an amount used as
# the question's verb asks what is counted or ranked, not a figure
_VERB_NOT_AMOUNT = re.compile(
    r"\bwhat\s+(?:does|do|did)\s+(?:\S+\s+){1,4}?(?:count|rank|map)\b(?!\s*(?:of|is|are)\b)",
    re.IGNORECASE,
)


def kind_of(question: str) -> str:
    if _CALLED.search(question):
        return "name"  # "what are the approximations of Softmax and GELU called?"
    if _CAUSE_ASK.search(question) or (_WHICH_ONES.search(question) and not _asks_amount(question)):
        return "describe"
    if (
        _MECHANISM_ASK.search(question)
        or TECHNIQUE_ASK.search(question)
        or DO_TO_ASK.search(question)
    ) and not _asks_amount(question):
        return "describe"
    if RESULT_ASK.search(question) and not _asks_amount(question):
        return "describe"
    rules = dict(_KIND_RULES)
    for kind, pattern in _KIND_RULES:
        if kind == "number" and _embedded_amount(question, pattern):
            continue
        if kind == "number" and _VERB_NOT_AMOUNT.search(question) and not _asks_amount(question):
            continue
        if kind == "number" and _IN_UNITS.search(question):
            return "number"  # "IGEV-Stereo runtime in milliseconds per frame?": an amount
        # "Which method decides the KV cache size …" asks for a name; an explicit amount
        # ("…, and how much memory does it save?") makes it a number question.
        if kind == "number" and rules["name"].search(question) and not _asks_amount(question):
            return "name"
        if pattern.search(question):
            return kind
    if _REACHES.search(question):
        return "number"  # "what activation sparsity does LLaMA2-7B reach …?"
    return "describe"


# an amount asked in its unit ("… in milliseconds", "in GB", "… per frame")
_IN_UNITS = re.compile(
    r"\bin\s+(?P<unit>milliseconds|seconds|minutes|hours|days|ms|gb|mb|kb|tb|gflops|tflops|"
    r"flops|percent|watts|joules)\b|\bper\s+(?:frame|token|image|second|sample|query)\b",
    re.IGNORECASE,
)


_UNIT_ATTRIBUTES = {"milliseconds": "ms", "ms": "ms", "seconds": "sec"}


def _asks_amount(question: str) -> bool:
    """An explicit amount is asked ("…, and how much memory does it save?"), not only named in
    a clause ("which framework … by modulating how fast residuals evolve")."""
    for m in _AMOUNT.finditer(question):
        before = question[: m.start()].rstrip().lower()
        # "…, and on how many GPUs?": a preposition before the ask still opens it
        if not before or before.endswith(
            (",", ";", ":", "?", ".", " and", " or", "by", " on", " in", " for", " with", " at")
        ):
            return True
    return False


_AMOUNT = re.compile(
    r"\bhow (much|many|fast|long|large|quickly)\b|\bby how\b|\bup to what\b|"
    r"\bwhat (size|number|amount|share|fraction|rank|length)\b|"
    r"\bwhat (\w+ )?(values?|coefficients?|thresholds?|width|depth|learning rates?)\b|"
    r"\bhow (wide|deep|high|tall|heavy)\b|"
    r"\bwhat (speedups?|speed-ups?|accuracy|latency|throughput|ratios?|percentage)\b",
    re.I,
)


_VERB_NOUNS = (
    (r"speeds? up|accelerates?", "the speed-up of"),
    (r"cuts?|reduces?|lowers?|shrinks?|saves?|decreases?", "the reduction in"),
    (r"improves?|boosts?|increases?|raises?", "the improvement in"),
    (r"compress(?:es)?", "the compression of"),
)


def _verb_phrase(rest: str) -> str:
    """ "does DFloat11 speed up token generation" -> "the speed-up of token generation"."""
    m = re.match(r"\s*(?:does|do|did|can|could|would)\s+(.*)", rest, re.I)
    if not m:
        return "how much"
    for verb, noun in _VERB_NOUNS:
        # the subject is a few words at most: "does the proposed method improve accuracy"
        v = re.match(rf"(?:\S+\s+){{1,4}}?(?:{verb})\b\s*(.*)", m.group(1), re.I)
        if v:
            obj = " ".join(v.group(1).replace("?", " ").split()[:5])
            return f"{noun} {obj}".strip() if obj else noun.rsplit(" ", 1)[0]
    return "how much"


_DIMENSION_NOUNS = {
    "how wide": "width",
    "how deep": "depth",
    "how high": "height",
    "how tall": "height",
}


def attribute_phrases(question: str) -> list[str]:
    """What each wh-marker asks for, in the question's words, as a reader would say it:
    "how many parameters does X have" -> "the number of parameters"; "what speedup over …"
    -> "the speedup"; "which GPU models …" -> "which GPU models"."""
    phrases = []
    for m in re.finditer(rf"\b{_WH}\b", question, re.IGNORECASE):
        marker = m.group(0).lower()
        rest = _COPULA.sub("", question[m.end() :])
        stop = _STOP_AFTER_WH.search(rest)
        words = (rest[: stop.start()] if stop else rest).replace("?", " ").replace(",", " ").split()
        # Four words, but a clause with an object is kept whole (up to eight): "which method
        # keeps the KV cache" would read "which method keeps the".
        cut = 8 if any(w.lower() in _DETERMINERS for w in words[1:4]) else 4
        conjunction = next((i for i, w in enumerate(words[1:cut], 1) if w in ("and", "or")), 0)
        if conjunction:
            # "prompt length and generation length": the second noun as long as the first
            cut = max(cut, min(len(words), 2 * conjunction + 1))
        phrase = " ".join(words[:cut])
        if marker == "how many":
            phrase = f"the number of {phrase}" if phrase else ""
        elif marker == "how much" and not phrase:
            phrase = _verb_phrase(rest)  # "how much does X speed up decoding" -> "the speed-up …"
        elif marker == "how much":
            phrase = f"how much {phrase}".strip()
        elif marker in _DIMENSION_NOUNS:  # "how wide is the window" -> "the width of the window"
            obj = re.split(r"\b(?:used|in|on|for|by|when|that|of|with)\b|[?,]", rest)[0].split()
            phrase = f"the {_DIMENSION_NOUNS[marker]} of the {' '.join(obj[:5])}".strip()
        elif marker.startswith("how "):
            phrase = f"{marker} {phrase}".strip()
        elif marker == "what" and phrase.lower().startswith("about "):
            # "what about its latency?", "what about X's inference cost?": the thing after
            # "about" is asked (X, the paper, is named beside the phrase already)
            obj = re.sub(r"^about\s+(?:[\w-]+'s\s+)?", "", phrase, flags=re.IGNORECASE)
            det = re.match(r"(?:the|a|an|its|their)\b", obj, re.IGNORECASE)
            thing = r"\b(?!(?:the|a|an|its|their|paper|work|study|method|model|one)\b)[a-z][\w-]*"
            if not re.search(thing, obj):
                obj = ""  # "what about ZorbNet / the Zorb paper?": a subject, not a thing asked
            phrase = obj if det or not obj else f"the {obj}"
        elif marker == "what" and phrase and not phrase.lower().startswith(("is ", "are ")):
            phrase = f"the {phrase}"
        elif marker == "which" and phrase:
            phrase = f"which {phrase}"
        if phrase:
            phrases.append(phrase)
    return phrases


_KIND_PHRASES = {
    "authors": "its authors",
    "year": "the year",
    "venue": "the venue",
}


def _generic_part(part: str) -> bool:
    return (
        part.lower() in GENERIC_NAMES
        or part.islower()
        or bool(re.fullmatch(r"[\d.,]+[a-zA-Z%]{0,2}", part))
        or not any(c.isalpha() for c in part)
    )


# "LoRA-style fine-tuning", "GPT-like models", "NMS-free detection": the kind of thing, not a name
_QUALIFIER = re.compile(
    r"-(?:style|like|based|inspired|type|aware|friendly|free|guided|driven|only|compatible)$"
)


_EXPANDED = re.compile(r"\b([A-Z][A-Za-z0-9-]{1,11})\s*\(([^()]{3,80})\)")
_EXPANDED_BEFORE = re.compile(r"((?:[A-Za-z][\w-]*\s+){1,8}?)\(([A-Z][A-Za-z0-9-]{1,11})\)")
_LINKING = {"and", "of", "the", "for", "a", "an", "in", "with", "to", "on", "via", "by"}


def _spells(acronym: str, words: str) -> bool:
    """Do the words' initials spell the acronym's capitals ("ZEW", "Zipped and Efficient
    Wave2Net")?"""
    capitals = [c for c in acronym if c.isupper()]
    initials = [w[0].upper() for w in words.split() if w.lower() not in _LINKING]
    return len(capitals) >= 2 and initials == capitals


def without_expansions(question: str) -> str:
    """The question with an acronym's spelled-out form dropped: in "ZEW (Zipped and Efficient
    Wave2Net)" the words in brackets are ZEW's own name, not another subject ("Wave2Net")."""
    question = _EXPANDED.sub(
        lambda m: m.group(1) if _spells(m.group(1), m.group(2)) else m.group(0), question
    )

    def before(m: re.Match[str]) -> str:
        words = m.group(1).split()
        for i in range(len(words)):
            if _spells(m.group(2), " ".join(words[i:])):
                return " ".join([*words[:i], m.group(2)])
        return m.group(0)

    return _EXPANDED_BEFORE.sub(before, question)


RARE_NAME_CHUNKS = 25  # a name typed with capitals inside ("ZipCache") in at most this many chunks


def names_in(
    question: str, doc_freq: Mapping[str, int] | None = None, rare: int = RARE_NAME_CHUNKS
) -> list[str]:
    """Names the question mentions that identify a subject: a word with capitals inside or with
    digits ("ZipCache", "GPT-2", "YOLOv10"), not a generic acronym ("KV-cache", "LLM-training",
    "17B-parameter" are not), and with the collection's statistics, rare in it."""
    question = without_expansions(question)
    out = []
    acronyms = []
    for word in NAME.findall(question):
        if not any(c.isupper() for c in word) or all(
            _generic_part(x) for x in re.split(r"[-_/]", word)
        ):
            continue
        # "SVD", "GELU", "COCO": acronyms many papers share; a hyphen-joined one ("Q-SPR") is a
        # coinage, a name unless the collection says it is common
        # ("KIVI", which no passage of the collection uses, is a name: of something not here)
        # (Taking an acronym few passages use as a name, "APB", was tried: "SVD", written out
        # elsewhere, then named a paper that mentions it; tune and test fell by one each.)
        # "NFEs", "GPUs": an acronym's plural is the acronym
        bare = word[:-1] if re.fullmatch(r"[A-Z]{2,}s", word) else word
        if (
            bare.isupper()
            and not any(c.isdigit() for c in word)
            and len(bare) <= 5
            and "-" not in word
            and (doc_freq is None or any(doc_freq.get(t, 0) for t in content_tokens(word)))
        ):
            acronyms.append(word)
            continue
        if re.fullmatch(r"[A-Z]+(-[a-z]+)+", word) or _QUALIFIER.search(word):
            continue  # "REINFORCE-based", "LoRA-style": a qualifier, not a name
        tokens = content_tokens(word)
        if not tokens or tokens <= GENERIC_NAMES:
            continue
        if doc_freq is not None and all(doc_freq.get(t, 0) > rare for t in tokens):
            continue
        out.append(word)
    if doc_freq is not None:  # a capitalised word inside the question that few papers use
        # with the capitalised words right after it: one name ("Star Attention"); or joined to
        # them by hyphens ("Diffusion-Sharpening"), a coinage when the compound is rare
        pattern = r"(?<=[a-z,] )([A-Z][a-z]{3,}(?:-[A-Z][a-z]+)*)((?:\s+[A-Z][a-z]+)*)\b"
        for m in re.finditer(pattern, question):
            tokens = content_tokens(m.group(1))
            if tokens and all(0 < doc_freq.get(t, 0) <= RARE_WORD_CHUNKS for t in tokens):
                out.append(m.group(1) + m.group(2))
    # "ZORB-2 vs the original ZORB": an acronym that a name of the question versions is the
    # earlier version's name, however common the acronym
    out += [a for a in acronyms if any(re.match(rf"{a}[-\s]?v?\d", n) for n in out)]
    return list(dict.fromkeys(out))


_VERB_ATTRIBUTES = (
    ("reduc", "reduct"), ("cut", "reduct"), ("sav", "reduct"), ("shrink", "reduct"),
    ("lower", "reduct"), ("compress", "compress"), ("improv", "improv"), ("gain", "gain"),
    ("boost", "improv"), ("rais", "improv"), ("increas", "improv"), ("speed", "faster"),
    ("accelerat", "faster"),
)  # fmt: skip


_SAMPLE_RATE = re.compile(r"\bsampl(?:e|ing)[\s-]+(?:rates?|frequenc)", re.IGNORECASE)
_COMPOUND = re.compile(
    r"\b(batch|window|vocabulary|learning|frame|win|error|dropout|beam|patch|chunk|block|"
    r"page|group|cluster|tile|kernel|hidden|embedding)\s+(sizes?|rates?|lengths?|widths?|dims?)\b",
    re.IGNORECASE,
)


def names_compounds(question: str, sentence: str) -> bool:
    """Does the sentence name each compound attribute the question asks ("learning rate", "batch
    size"): the compound itself, however joined ("learning-rate", "batch sizes"), or a short form
    the attribute accepts ("lr", "fps")? Its first word alone is something else ("deep learning
    models grew 1000x", "a batch of requests")."""
    for m in _COMPOUND.finditer(question):
        head, tail = m.group(1), m.group(2).lower().rstrip("s")
        if re.search(rf"\b{head}[\s-]+{tail}", sentence, re.IGNORECASE):
            continue
        short = set().union(*(_SYNONYMS.get(t, set()) for t in content_tokens(head)))
        short -= content_tokens(head)
        # a unit glued to its figure counts ("180fps")
        if not any(re.search(rf"(?<![A-Za-z]){re.escape(w)}\b", sentence, re.I) for w in short):
            return False
    return True


# "how much faster / more / better": a comparison, not a quantity noun
_COMPARATIVES = {
    "faster", "slower", "more", "less", "fewer", "better", "worse", "higher", "lower", "larger",
    "smaller", "cheaper", "quicker", "longer", "shorter", "does", "do", "did", "can", "could",
    "of", "is", "are", "was", "were", "has", "have",
}  # fmt: skip


# "how much computation went to padding": the noun phrase ends at its verb
_PAST_VERB = re.compile(
    r"\w{2,}[^e]ed|went|got|came|took|made|spent|ran|grew|fell|rose|gave|saw|left|lost|kept|won|cut|"
    # or at a verb of the present ("how much compute goes to warm-up")
    r"goes|gets|comes|takes|makes|remains|stays|needs|requires|costs|becomes"
)


def in_vocabulary(token: str, doc_freq: Mapping[str, int] | None) -> str:
    """An asked word as the collection writes it: a clipped form the abstracts never use
    ("params", "perf") is the commonest word of theirs it begins ("parameters", "performance"),
    so that its synonyms and the passages' words meet it."""
    if not doc_freq or doc_freq.get(token, 0) or len(token) < MIN_CLIPPED_CHARS:
        return token
    longer = [(n, w) for w, n in doc_freq.items() if w.startswith(token) and n]
    return max(longer)[1] if longer else token


def asked_quantities(question: str) -> set[str]:
    """The attribute a number question asks for, from the words right after its wh-markers:
    "what speedup over …" -> speedup; "how many GPUs were used" -> gpus; "how much does it cut
    memory" -> reduction, memory. Words elsewhere describe the paper, not the asked figure."""
    attribute: set[str] = set()
    for m in re.finditer(rf"\b{_WH}\b", question, re.IGNORECASE):
        marker = m.group(0).lower()
        rest = _COPULA.sub("", re.split(r"[?,;]", question[m.end() :])[0])
        stop = _STOP_AFTER_WH.search(rest)
        window = (rest[: stop.start()] if stop else rest).split()[:5]
        direct = bool(window)  # a noun right after the marker ("how much energy")
        if not window:  # "how much does ZipCache cut prefill latency": the clause after the verb
            window = rest.split()[1:8]
        words = [w.strip(".").lower() for w in window]
        attribute |= content_tokens(" ".join(w for w in words if w in QUANTITY_WORDS))
        if marker == "how many" and words:
            noun = next((w for w in words[:3] if w.endswith("s")), words[0])
            attribute |= content_tokens(noun)
        if marker == "how much" and direct and words[0] not in _COMPARATIVES:
            # "how much energy does X save": the noun after "how much" (the head of its phrase:
            # "extra speedup", "GPU memory") is the asked quantity, whether or not it is a
            # usual one (a latency figure does not answer it)
            phrase = list(itertools.takewhile(lambda w: not _PAST_VERB.fullmatch(w), words))
            attribute |= content_tokens((phrase or words)[-1])
        if marker in ("how much", "how fast", "how quickly"):
            clause = [w.lower() for w in rest.split()[:8]]
            for stem, attr in _VERB_ATTRIBUTES:
                if any(w.startswith(stem) for w in clause):
                    attribute.add(attr)
        if marker == "how fast":
            attribute.add("faster")
        if marker in ("how quickly", "how often"):
            attribute.add("often")
        if marker == "how long":
            attribute.add("long")
        if marker == "how much" and re.match(r"\s*(?:[\w-]+\s+)?data\b", rest, re.IGNORECASE):
            # "how much (training) data does X need?": data is counted in its items ("a few
            # hundred examples", "1.2M image-text pairs")
            attribute = (attribute - {"data"}) | {"items"}
        if marker in ("how big", "how large"):
            # "how big is X in trainable parameters?": its size, in the unit the end gives
            attribute.add("size")
            if _DATA_HOLDER.match(rest.strip()):
                # "how big was the training set?": a set of data is as big as its items
                # ("a modest training set of 500 samples"), not as its bytes alone
                attribute = (attribute - {"size"}) | {"items"}
            unit = re.search(r"\bin\s+((?:[\w-]+\s+){0,2}[\w-]+)\s*\??\s*$", question)
            if unit:
                words = [w.lower() for w in unit.group(1).split()]
                attribute |= content_tokens(" ".join(w for w in words if w in QUANTITY_WORDS))
    unit = _IN_UNITS.search(question)
    if unit and unit.group("unit"):
        # "runtime in milliseconds": a time, in the unit asked
        word = unit.group("unit").lower()
        attribute.add(_UNIT_ATTRIBUTES.get(word, next(iter(content_tokens(word)), word)))
    for m in _COMPOUND.finditer(question):
        # "batch size", "learning rate": one attribute named by its first word ("size" alone
        # would accept any reduction, "rate" any frame rate)
        head, tail = content_tokens(m.group(1)), content_tokens(m.group(2))
        if tail & attribute:
            attribute = (attribute - tail) | head
    if _SAMPLE_RATE.search(question):
        # "what sample rate": a frequency, however written ("at 48kHz"); not a count of samples
        attribute = (attribute - {"rate", "sampl"}) | {"frequenc"}
    measured = _measured(question)
    if measured and content_tokens(measured[0]):
        # "how many tokens long is the observation window": the window is what is asked about,
        # tokens only its unit; a token count of something else does not answer.
        attribute = content_tokens(measured[0])
    return attribute - _given_context(question)


# what holds data: its size is a count of its items
_DATA_HOLDER = re.compile(
    r"(?:(?:the|its|their|this|that)\s+)?(?:[\w-]+\s+){0,2}?"
    r"(?:set|dataset|data|corpus|corpora|benchmark|collection|datastore)\b",
    re.IGNORECASE,
)
_MEASURED = re.compile(
    r"\bhow many (?P<unit>\w+) (?P<dim>long|large|big|wide|deep|high) (?:is|are|was|were) "
    r"(?:the |its |a |an |each )?(?P<np>(?:[\w\-'’]+ ){0,3}[\w\-]+)|"
    r"\bhow many (?P<unit2>\w+) (?:does|do|did) (?:each|every|one|a|an|the) "
    r"(?P<holder>(?:[\w\-]+ ){0,2}[\w\-]+) (?:hold|contain|store|keep)s?\b",
    re.I,
)
_DIMENSIONS = {
    "long": "length",
    "large": "size",
    "big": "size",
    "wide": "width",
    "deep": "depth",
    "high": "height",
}


def _measured(question: str) -> tuple[str, str] | None:
    """What a "how many <unit> …" question measures, and how to say it: "how many tokens long
    is the observation window" -> ("observation window", "the length of the observation window
    in tokens"); "how many tokens does each block hold" -> ("block", "the number of tokens per
    block")."""
    m = _MEASURED.search(question)
    if not m:
        return None
    phrase = m.group("np") or m.group("holder")
    noun = re.split(r"\b(?:that|which|used|in|of|for|when|at|by|on)\b", phrase)[0].strip()
    if m.group("dim"):
        dim = _DIMENSIONS[m.group("dim").lower()]
        owner = "" if re.match(r"\S+['’]s\b", noun) else "the "
        said = f"the {dim} of {owner}{noun} in {m.group('unit')}"
    else:
        said = f"the number of {m.group('unit2')} per {noun}"
    return " ".join(w for w in noun.split() if w.islower()), said  # "SnapKV's" is a name


def _given_context(question: str) -> set[str]:
    words = question.split()
    out: set[str] = set()
    for i, w in enumerate(words):
        if re.fullmatch(r"[A-Za-z]+\d+[A-Za-z]+\W*", w):
            continue  # "H2O", "S4D": a name with a digit inside, not a given figure
        if re.search(r"\d", w) and not re.search(r"[A-Za-z]{3,}", w):
            out |= content_tokens(" ".join(words[max(0, i - 3) : i + 2]))
    return out


# The shapes of an answer (Question.shape). Each cue is a way of asking, not a topic.
_LIST_ASK = re.compile(
    # "which <words> papers/methods …", where no verb stands between: "Under which license are the
    # X models released?" asks for a license (its verb follows it), not for models
    r"\b(?:which|what)\s+(?:(?!(?:are|is|was|were|do|does|did|has|have|had)\b)[\w\-]+\s+"
    r"(?:or\s+)?){0,5}?(?:papers|methods|frameworks|techniques|systems|"
    r"approaches|works|studies|models|algorithms|strategies|benchmarks|optimizers|solutions|"
    r"architectures|ideas|ways)\b(?!\s+(?:is|was|does|has)\b)"
    r"|^\s*(?:list|name|enumerate|summari[sz]e(?!\s+(?:how|why|what|which)\b))\b"
    # "Give me papers on …", "Show me lightweight vision backbones.", "Papers that …?"
    r"|^\s*(?:please\s+)?(?:give|show|find|recommend|suggest|tell)\s+(?:me\s+)?(?:about\s+)?"
    # ("Tell me about the paper that scales … LMs with …" asks about one paper: the plural is
    # inside its relative clause, not the head of what is asked for)
    r"(?:some\s+|all\s+|the\s+|any\s+|a\s+few\s+)?"
    r"(?:(?!(?:that|which|who|whose|where)\b)[\w/-]+\s+){0,5}?[a-z][\w-]*[^s\W]s\b"
    r"(?=\s+(?:on|about|for|that|which|in|from|with|using|based)\b|\s*[.?!]?\s*$)"
    r"|^\s*(?:papers|works|methods|approaches|studies|articles|techniques|systems)\s+"
    r"(?:that|which|on|about|for|using|with)\b"
    # "Any papers on …?", "Is there work on …?", "Are there methods that …?", "Is there anything
    # on …?": a body of work asked for ("Is there a paper that …" asks for one)
    r"|^\s*(?:(?:is|are)\s+there\s+(?:any\s+)?|any\s+)(?:papers|works?|research|studies|articles|"
    r"methods|approaches|techniques|systems|anything)\b"
    # "Which object detectors are designed for …?", "What work is there on …?": things of a kind
    # that the collection holds, whatever the kind's noun
    r"|\b(?:which|what)\s+(?:[\w/-]+\s+){0,3}?[a-z][\w-]*[^s\W]s\s+(?:are|were|have\s+been)\s+"
    r"(?:built|designed|proposed|developed|introduced|presented|there|available|based|tailored)\b"
    r"|\bwhat\s+(?:work|research)\s+(?:is\s+there|exists|has\s+been\s+done)\b"
    # "… state space models - which ones are in here?", "what's out there on KV cache
    # quantization?": the collection's holdings on a topic
    r"|\bwhich\s+ones\b|\bwhat(?:['’]?s|\s+is)\s+(?:out\s+)?there\s+(?:on|about|for)\b"
    # "I'm looking for work on …", "… for benchmarks or methods about …" (not "for the work that")
    r"|^\s*(?:i'?m|i\s+am)\s+(?:looking|searching)\s+for\s+(?!(?:the|a|an|one)\b)"
    r"(?:(?:some|any)\s+)?(?:[\w/-]+\s+(?:or\s+)?){0,3}?(?:papers|works?|research|studies|articles|"
    r"methods|approaches|techniques|systems|benchmarks)\b"
    r"|\b(?:what|which)\s+(?:are\s+)?(?:some|several|all|the various|the different)\b"
    # what the collection holds on a topic: "What do we have about …?", "What is in the
    # collection on …?", "… - what is there?", "Can you find papers on …?", "… papers in the
    # collection?", "Papers focused on …"
    r"|\bwhat\s+(?:do|does)\s+(?:we|you|the collection|it)\s+(?:have|hold|contain)\b"
    r"|\bwhat\s+is\s+(?:there\s+)?in\s+the\s+collection\b|\bwhat\s+is\s+there\s*[?.!]*\s*$"
    r"|\b(?:can|could)\s+you\s+(?:find|list|show|give|recommend|suggest|name)\s+(?:me\s+)?"
    r"(?:some\s+|any\s+|all\s+)?(?:[\w/-]+\s+){0,3}?(?:papers|works|research|studies|articles|"
    r"methods|approaches)\b"
    r"|\b(?:papers|works|methods|approaches|studies)\s+(?:in|from)\s+the\s+collection\b"
    r"|^\s*(?:papers|works|methods|approaches|studies|articles|techniques|systems)\s+"
    r"[a-z]+ed\s+(?:on|at|to|for|by|in)\b"
    r"|\bhow\s+(?:do|have)\s+(?:different\s+|various\s+)?(?:papers|methods|works|approaches)\b"
    # "Any examples of MoE used for one application?": instances of a kind, however many
    r"|\bexamples\s+of\b",
    re.IGNORECASE,
)
# What the collection holds on a topic, however the topic is worded: "… are in the
# collection?", "… papers in here?", "anything on …?", "any ML for …?", "work on …?", "… what
# zorb designs are there?", "Where has Quux been applied?". Such a question asks for papers
# whatever it names ("Is there research on R1-style reasoning …?" lists the work on it).
_HOLDINGS = re.compile(
    r"\b(?:is|are|appear)\s+in\s+(?:the|this|your|our)\s+collection\b"
    r"|\b[a-z][\w-]*[^s\W]s\s+(?:in|from)\s+(?:the|this|your|our)\s+collection\b"
    r"|\bin\s+here\s*[?.!]*\s*$|\bare\s+there\s*[?.!]*\s*$"
    r"|^\s*(?:anything|any\s+(?!(?:paper|work|study|article|method)\b)[\w/-]+)\s+"
    r"(?:on|about|for|in|regarding)\b"
    r"|^\s*(?:(?:is|are)\s+there\s+(?:any\s+)?|(?:(?!(?:does|do|did|is|was|has|the|this|that|"
    r"which|what|how|why)\b)[\w/-]+\s+){0,2})(?:work|research)\s+(?:on|about|showing|that)\b"
    r"|^\s*(?:[\w/-]+\s+){1,3}(?:papers|works|methods|studies|approaches)\s+(?:that|which|on|about)\b"
    r"|\bwhere\s+(?:has|have|is|are)\s+(?:[^?]{1,60}?\s+)?been\s+(?:applied|used|adopted)\b",
    re.IGNORECASE,
)
# "Which paper studies …", "which method works …": a singular head, then its verb (not a plural)
_SINGULAR_HEAD = re.compile(
    r"\b(?:paper|method|work|study|system|model|approach|framework|technique)\s+"
    r"(?:studies|works|models|benchmarks)$",
    re.IGNORECASE,
)
# "Which paper introduces selective state space models …?": one paper asked for, whatever
# plural follows its verb
_ONE_ASKED = re.compile(
    r"(?:which|what)\s+(?:paper|work|study|article|method|approach|framework|system|technique|"
    # "Which benchmark compares zorb training algorithms …?": one benchmark asked for
    r"benchmark|dataset|model|algorithm|optimizer|architecture|engine|library|tool)"
    r"\s+(?!(?:papers|methods|works|studies|models|systems|approaches|frameworks|techniques|"
    r"algorithms|strategies|benchmarks|architectures|solutions|ideas|ways|is|was|has|does)\b)"
    r"[a-z]+(?:s|ed)\b",
    re.IGNORECASE,
)
# "Which two techniques cut Zorb's reads?": a counted set of techniques or strategies is one
# paper's parts, not papers to list ("Which two papers …", "which three methods …" still ask for
# papers: a paper is often called a method)
_COUNTED_PARTS = re.compile(
    r"^(?:which|what)\s+(?:two|three|four|five|six|seven|eight|nine|ten|[2-9])\s+"
    r"(?:[\w\-]+\s+){0,2}?(?:techniques|strategies|ideas|ways|tricks)\b",
    re.IGNORECASE,
)
# "What two strategies did it scale?", "Which datasets does this paper use?": things of the one
# paper the turn is about, not papers to list
_ITS_OWN = re.compile(
    r"\b(?:does|did|do|can|could|is|was|has|had)\s+(?:it|this\s+(?:paper|work|method|model)|"
    r"the\s+(?:paper|work|method))\b",
    re.IGNORECASE,
)
_PAPERS_ASK = re.compile(
    r"\b(?:which|what)\s+(?:[\w\-]+\s+){0,3}?(?:papers|works|studies|articles|publications)\b",
    re.IGNORECASE,
)
# "How does X perform on video generation?": the setting its results must be reported in
PERFORM_SETTING = re.compile(
    r"^\s*how\s+(?:well\s+)?(?:does|do|did)\s+[^?]{0,80}?\b(?:perform|fare)s?\s+"
    r"(?:on|in|for|at|with)\s+(?P<setting>[^?,;]+)",
    re.IGNORECASE,
)
_COMPARE_ASK = re.compile(
    r"\bcompar(?:e|ed|ing|ison)\b|\bversus\b|\bvs\.?(?=\s)|\bdiffer(?:s|ent|ently|ence|ences)?\b|"
    r"\bcontrast\b|\bwhereas\b|\bdistinguish(?:es|ed)?\b|\bchang(?:e|ed|es)\s+from\b|"
    r"\bextend(?:s|ed)?\s+the\s+original\b|"  # a newer version set against the original
    # "How does ZorbKV stack up against QuuxKV?", "… fare against …", "… measure up to …"
    r"\bstacks?\s+up\b|\bfares?\s+against\b|\bmeasures?\s+up\b|\bhead[- ]to[- ]head\b|"
    # "Do X and Y agree on FP8 for inference?": each side's conclusion, set side by side
    r"\b(?:dis)?agree(?:s|d)?\b",
    re.IGNORECASE,
)
# "both" / "each" compare only papers the question pairs ("X and Y both …"), not "each token"
_TITLE_HEAD_PAPER = re.compile(
    r"\bthe\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*){1,6})\s+(?:paper|work|method|approach)\b"
)
_ITS_COMPARISON = re.compile(r"(?i)\b(?:its|their)\s+(?:[a-z]+\s+)?comparisons?\b")
_EACH_ASK = re.compile(r"\b(?:both|each)\b", re.IGNORECASE)
_YES_NO = re.compile(r"^\s*(?:is|are|was|were|does|do|did|can)\b", re.IGNORECASE)
# "Is X faster than Y?" weighs two papers; "How much faster is X than Y?" asks X's one figure.
_WEIGH_ASK = re.compile(
    r"\b(?:better|faster|larger|smaller|more|fewer|less|higher|lower|cheaper)\b[^?]{0,40}"
    r"\b(?:than|or)\b",
    re.IGNORECASE,
)
_HOW_ASK = re.compile(
    # "In Recycled Attention, how are the tokens chosen …": a setting, then the how
    # "Summarise / Explain how X …" asks the same as "How does X …?"
    # "Instead of a combinatorial search, how does X …": any opening clause, then the how
    # "we want … on edge boards - how does X …", "In Hybrid SD how is …": after a dash or a
    # colon, or a leading "In X" without its comma, as after a comma
    r"^\s*(?:[^,?]{1,80},\s*|[^,?]{1,120}?(?:\s[-–—]|:)\s*|in\s+[^,?]{1,60}?\s+(?=how\b))?"
    r"(?:(?:(?:(?:can|could|would)\s+you\s+|please\s+)?(?:summari[sz]e|explain|describe|tell\s+me)"
    r"\s+how|how\s+(?:does|do|did|can|could|is|are|was|were))\b"
    # "how does X …, and how much faster is it?" asks the amount; "how does X decide how much of
    # the model to use" asks how it decides
    r"(?![^?]*(?:[,;:]|\band|\bor)\s+how\s+much\b)"
    # "How does X perform / scale on Y?" asks for its results, not how it works
    # ("web-scale" is a compound, not the verb)
    r"(?![^?]*(?<![\w-])(?:perform|fare|scale|generali[sz]e)s?\b)"
    r"|why\b)|\b(?:key|main|core|central)\s+(?:idea|insight|mechanism|technique|trick)\b"
    # "whats the trick in X for …", "what's the idea of X": how X works, in other words
    r"|\bwhat(?:['’]?s|\s+is)?\s+the\s+(?:trick|idea|intuition|secret)\b"
    # "X says adapting adds zero cost - how is that possible?": a claim, then the how of it
    r"|(?:[—–:;.?]|\s-)\s*(?:how\s+(?:is|was|are|does|do|can|could)\s+(?:that|this|it|they)"
    r"(?!\s+(?:perform|fare|scale|compare)\w*)\b|why\b|how\s*\?\s*$)"
    r"|\bhow\s+(?:it|they|this)\s+works?\b|\bwhat\s+mechanism\b|"
    + _CAUSE_ASK.pattern
    + "|"
    + TECHNIQUE_ASK.pattern,
    re.IGNORECASE,
)


# a quotation opens after a non-letter and closes before one (not the "s'" of "models' ability")
# A quoted title: it opens with a capital, or with a name typed in lower case that has a capital
# inside ("edATLAS: An Efficient …", "vAttention: …"); a quoted lower-case word ('observation')
# is a word of the question, not a title
_QUOTED_TITLE = re.compile(
    r"(?<![A-Za-z])['\"‘“]((?:[A-Z]|[a-z][a-z0-9]*[A-Z])[^'\"‘’“”]{8,150}?)['\"’”](?![A-Za-z])"
)


def quoted_titles(question: str) -> list[str]:
    """Paper titles the question quotes ("… as 'Neural Speech Synthesis with Transformer
    Network'"): capitalised, three words or more."""
    return [t.rstrip(" .…?!,") for t in _QUOTED_TITLE.findall(question) if len(t.split()) >= 3]


_QUOTE_PAIRED = re.compile(
    r"['’”\"]\s+(?:and|vs\.?|versus)\s+|\s(?:and|vs\.?|versus)\s+['‘“\"]", re.IGNORECASE
)
_CAP = r"[A-Z][\w\-./]*\w"
# "ReLU Strikes Back vs ProSparse": a compared name may be a few capitalised words (a title)
_PAIR = re.compile(
    # the connector is a word of its own: "Tensor Cores" is not "Tens" or "Cores"
    rf"\b({_CAP}(?:\s+{_CAP}){{0,4}})['’”]?\s*(?:\([^)]*\)\s*)?\b(?:vs\.?|versus|and|or|with)\s+"
    rf"(?:the\s+)?['‘“\"]?({_CAP}(?:\s+{_CAP}){{0,4}})"
)
# a closing "…, compared with Y" of a figure asked of one subject names its baseline
_BASELINE_TAIL = re.compile(
    r",\s*(?:as\s+)?(?:compared\s+(?:with|to)|relative\s+to|versus|vs\.?)\s+[^,?;:]{1,60}\?\s*$",
    re.IGNORECASE,
)
# "X or Y, which reports the larger speedup?", "Which is faster, X or Y?": one of two is asked
# for, so each side is answered
_EITHER = re.compile(
    r"^\s*[^?,:;—–]{2,80}?\s+or\s+[^?,:;—–]{2,80}?\s*(?:[,:—–]|\s-\s)\s*(?:which|who)\b|"
    # "EdgeMoE or AdapMoE for running MoE on phones?": the question opens with the choice
    r"^\s*[^\s?,:;]+(?:\s[^\s?,:;]+)?\s+or\s+[^\s?,:;]+(?:\s[^\s?,:;]+)?\s+(?:for|on|in|to)\b|"
    r"^\s*(?:which|who)\b[^?]*[,:]\s*[^?,:;]{2,80}?\s+or\s+[^?,:;]{2,80}?\s*\?\s*$",
    re.IGNORECASE,
)
# "How do DyCoke and Free Video-LLM reduce …?": the pair is the subject of a plural verb, so
# the question asks each of them
_PLURAL_VERB = re.compile(r"\b(?:do|did|are|were|have|can|would)\s+(?:the\s+)?$", re.IGNORECASE)
_NOT_SUBJECTS = {
    "how", "what", "which", "why", "compare", "compared", "comparing", "contrast", "contrasted",
    "contrasting", "the", "both", "each", "is", "are", "do",
}  # fmt: skip
# "LLM in a flash vs TPI-LLM: …": "vs" marks two sides whatever their words; a side written in
# lower-case words is a title's head that _PAIR (capitalised words) cannot see. The left side opens
# the question (after "Compare"), the right one ends at the clause's punctuation.
_VS_SIDES = re.compile(
    r"^\s*(?:compare\s+)?(?P<a>[^:?;,—–]{2,80}?)\s+(?:vs\.?|versus)\s+(?P<b>[^:?;,—–]{2,80}?)\s*"
    r"(?=[:?;,—–]|-\s|$)",  # a dash ends the side too ("X vs Y - both drop whole blocks; …")
    re.IGNORECASE,
)
MAX_SIDE_WORDS = 6  # a side longer than this is a clause, not a name
_CLAUSE_OPENERS = {
    "which", "what", "how", "why", "where", "when", "who", "whose", "does", "do", "did", "is",
    "are", "was", "were", "can", "in", "on", "for",
}  # fmt: skip


_ARTICLES = {"the", "a", "an"}
_SIDE_NOUNS = {"paper", "method", "approach", "work", "system", "framework", "one"}
# "ZipCache vs KIVI accuracy?": what is compared, asked after the second side, is not its name
_SIDE_ASKS = {
    "accuracy", "speed", "speedup", "speedups", "latency", "memory", "throughput", "performance",
    "results", "efficiency", "quality", "cost", "size", "gains", "savings",
}  # fmt: skip
_SIDE_ENDS = {"for", "on", "in", "at", "across", "with", "when", "over", "regarding", "about"}


def unquoted(question: str) -> str:
    """The question with each quoted title (three words or more) reduced to '"…"': a "versus" or
    "and" inside "'FP8 versus INT8 for efficient deep learning inference'" is the title's word,
    not a comparison the question makes."""
    return _QUOTED_TITLE.sub(
        lambda m: '"…"' if len(m.group(1).split()) >= 3 else m.group(0), question
    )


def vs_sides(question: str, doc_freq: Mapping[str, int] | None = None) -> list[str]:
    """The sides of "A vs B", brackets, quotes, an article and a closing "paper" taken off: each
    is a name, as the comparison marker says, whatever its words ("LLM in a flash")."""
    m = _VS_SIDES.match(unquoted(question))
    if not m:
        return []
    out = []
    for group in m.group("a", "b"):
        if "…" in group:
            continue  # a quoted title ("'FP8 versus INT8' whitepaper"): a name as quoted already
        side = re.sub(r"\([^)]*\)", " ", group).strip(" '\"‘’“”")
        words = side.split()
        if words and words[0].lower() in _CLAUSE_OPENERS:
            # "Which features get reused in DeepCache versus …": a clause, whose side is the
            # capitalised words next to "versus"
            tail = list(itertools.takewhile(lambda w: re.match(r"[A-Z0-9]", w), words[::-1]))
            words = tail[::-1]
            side = " ".join(words)
        if len(words) > MAX_SIDE_WORDS:
            # "ring attention for long sequences across devices": the name runs to the first
            # word that starts what is compared
            cut = next((i for i, w in enumerate(words) if w.lower() in _SIDE_ENDS), len(words))
            words = words[:cut]
        # "the Efficient LLM Inference on CPUs paper": the name, not its article and noun
        while words and words[0].lower() in _ARTICLES:
            words = words[1:]
        while len(words) > 1 and words[-1].lower() in _SIDE_NOUNS | _SIDE_ASKS:
            words = words[:-1]
        if 0 < len(words) <= MAX_SIDE_WORDS and (
            re.match(r"[A-Z0-9]", words[0]) or _rare_words(words, doc_freq)
        ):
            out.append(" ".join(words))
    return out


def _rare_words(words: list[str], doc_freq: Mapping[str, int] | None) -> bool:
    """People type names in lower case too ("star attention vs ring attention"): a side in
    lower case is a name when one of its words is rare in the collection (at most
    RARE_WORD_CHUNKS chunks), else a topic ("pruning vs distillation")."""
    tokens = content_tokens(" ".join(words))
    return doc_freq is not None and any(0 < doc_freq.get(t, 0) <= RARE_WORD_CHUNKS for t in tokens)


def shape_of(question: str, names: list[str], kind: str) -> str:
    """The answer's shape, from how the question asks (not what it is about)."""
    subjects = len(names)
    # "Compare X and Y", "X vs Y", "how do X and Y differ": whatever is compared, figures too.
    # "Is X faster than Y?" weighs two papers; "How much faster is X than Y?" is X's one figure.
    # Whether each name is a paper here is checked when answering (rag/answer/synthesis.py).
    quoted = [t for t in _QUOTED_TITLE.findall(question) if len(t.split()) >= 3]
    outside = unquoted(question)
    # "'LLM in a flash' and HeteGen", "BASED vs 'Repeat After Me'": a quoted title paired too
    paired = (
        bool(_PAIR.search(outside))
        or len(quoted) >= 2
        or bool(quoted and _QUOTE_PAIRED.search(question))
    )
    if kind == "number":
        # "What TFLOPS does X reach …, compared with Y?": X's figure, Y its baseline
        outside = _BASELINE_TAIL.sub("", outside)
    # "… use for its main comparison": the paper's own comparison, not one the question asks
    outside = _ITS_COMPARISON.sub(" ", outside)
    if subjects >= 2 and (
        _COMPARE_ASK.search(outside)
        or (paired and _EACH_ASK.search(question))
        or any(_PLURAL_VERB.search(outside[: m.start()]) for m in _PAIR.finditer(outside))
        or (_YES_NO.match(question) and _WEIGH_ASK.search(question))
        or _EITHER.search(outside)
    ):
        return "comparison"
    # "Which GPU models did Splitwise use?" asks about one named paper, not for a list; "Which
    # papers improve on ZeRO-Infinity?" asks for papers, whatever they name
    # a quoted title is a name, not the question's wording: "How does the method of 'Large-Scale
    # …' work?" asks how it works, whatever words ("scale", "methods") the title holds
    asked = _QUOTED_TITLE.sub('"…"', question)
    listing = [
        m
        for m in _LIST_ASK.finditer(asked)
        if not _SINGULAR_HEAD.search(m.group(0))
        and not _ONE_ASKED.match(m.group(0))
        and not _COUNTED_PARTS.match(m.group(0))
        and not _ITS_OWN.search(_sentence_at(asked, m.start()))
    ]
    if _holdings(asked):
        return "list"
    if listing and (not strong_names(names) or _PAPERS_ASK.search(asked)):
        return "list"
    if _bare_topic(question, names, kind):
        return "list"
    if _HOW_ASK.search(asked) and kind == "describe":
        return "how"
    return "single"


# "What two zorb strategies does Quux offer?", "which three layers …": a count of things of a
# kind, the kind's head noun last (at most three words between)
_THINGS_COUNTED = re.compile(
    r"\b(?:which|what)\s+(two|three|four|five|six|[2-6])\s+(?:[\w-]+\s+){0,3}?([a-z]{3,}s)\b",
    re.IGNORECASE,
)
_COUNT_WORDS = {"two": "2", "three": "3", "four": "4", "five": "5", "six": "6"}


def things_counted(question: str) -> re.Pattern[str] | None:
    """For a question that asks for a count of things ("what two strategies …"), the pattern of
    a sentence that says it gives that many of that kind ("two alternative pruning strategies",
    "2 techniques"); None for any other question."""
    m = _THINGS_COUNTED.search(question)
    if m is None:
        return None
    digit = _COUNT_WORDS.get(m.group(1).lower(), m.group(1))
    word = next((w for w, d in _COUNT_WORDS.items() if d == digit), digit)
    stem = re.sub(r"(?:ies|s)$", "", m.group(2).lower())  # "strategies" -> "strateg"
    return re.compile(
        rf"\b(?:{word}|(?<![\d.]){digit}(?![\d.]))\s+(?:[\w-]+\s+){{0,3}}?{stem}", re.IGNORECASE
    )


# "What does ZQA stand for?", "What is ZQA short for?", "What does the acronym ZQA mean?"
_EXPANSION_ASK = re.compile(
    r"\bwhat\s+(?:does|do)\s+(?:the\s+(?:acronym|abbreviation|name)\s+)?[\"“']?(?P<a>[\w.+-]+)"
    r"[\"”']?\s+(?:stand\s+for|mean)\b"
    r"|\bwhat\s+is\s+[\"“']?(?P<b>[\w.+-]+)[\"”']?\s+short\s+for\b",
    re.IGNORECASE,
)


def expansion_asked(question: str) -> re.Pattern[str] | None:
    """For "What does ZQA stand for?", the pattern of a sentence that defines the short name
    beside its words ("Zorb Quux Attention (ZQA)", "ZQA (Zorb Quux Attention)"); else None."""
    m = _EXPANSION_ASK.search(question)
    name = (m.group("a") or m.group("b")) if m else ""
    if not name or not re.search(r"[A-Z]", name):
        return None
    short = re.escape(name)
    return re.compile(rf"[A-Za-z][\w-]*\s+\(\s*{short}\s*\)|(?<![\w-]){short}\s+\([A-Z][\w-]*\s")


def _holdings(question: str) -> bool:
    """Does the question ask what the collection holds (`_HOLDINGS`) in its last sentence? A
    first sentence that only describes ("Work on zorb cameras with spiking nets. How many joules
    does it use?") leaves the ask to the sentence after it."""
    # (a full stop ends a sentence before a capital only: "e.g. zorb" goes on)
    starts = [m.end() for m in re.finditer(r"(?:[!?]|\.(?=\s+[A-Z]))\s+", question)]
    last = starts[-1] if starts else 0
    return any(m.start() >= last for m in _HOLDINGS.finditer(question)) and not _ITS_OWN.search(
        question[last:]
    )


def _sentence_at(text: str, i: int) -> str:
    """The sentence of `text` holding position i (split at ? ! and full stops)."""
    start = max(text.rfind(c, 0, i) for c in "?!.") + 1
    ends = [e for e in (text.find(c, i) for c in "?!.") if e >= 0]
    return text[start : min(ends) + 1 if ends else len(text)]


def title_head(title: str) -> str:
    """The name a paper is titled by: the words before its title's colon ("Mamba" of "Mamba:
    Linear-Time Sequence Modeling …"), squashed; "" for a title without one."""
    head, sep, _ = title.partition(":")
    return squash(head) if sep else ""


def titles_by(title: str, name: str) -> bool:
    """Is the paper titled by `name` ("Mamba: …", not "Mamba4Rec: …" nor "Mamba-Shedder: …")?"""
    return bool(squash(name)) and title_head(title) == squash(name)


def title_words(q: Question) -> list[str]:
    """Capitalised words of a question that names no subject: each may be a paper's title name
    however common the word ("How does Mamba …?", where dozens of papers build on Mamba and the
    word alone is too common to count as a name)."""
    if q.names or q.shape in ("list", "comparison"):
        # a question that names its subject, or asks across papers ("backbones built on
        # Mamba"), takes a common word as what it is about, not as a paper's title
        return []
    words = [
        m.group()
        for m in re.finditer(r"(?<![\w'’-])[A-Z][\w-]*[A-Za-z0-9](?![\w'’-])", q.text)
        # the question's first word is capitalised as any first word is; a word after a
        # preposition ("built on Mamba", "faster than Griffin") is what the asked thing relates
        # to, not its subject
        if m.start() > 0 and not _RELATING.search(q.text[: m.start()])
    ]
    return list(dict.fromkeys(w for w in words if content_tokens(w)))


MAX_HEAD_WORDS = 4  # a title's name of more words is a phrase, not a name typed from memory


def typed_title_heads(
    q: Question, titles: list[str], doc_freq: Mapping[str, int] | None = None
) -> list[str]:
    """The names of found papers the question types in lower case ("What is zorb caching …?"
    of "Zorb Caching: Reuse Across Steps"; "how does quux attention work"): a title's head of
    two or more words, written out whole, in a question that names no subject (as
    `title_words`, of which this is the lower-case kind); and, with the collection's statistics,
    a one-word head rare in it ("zorbzip and QuuxDB both …" of "Zorbzip: …"), whatever else the
    question names: a rare word is a name however it is typed."""
    typed = {n.lower() for n in q.names}
    out = [h for h in _rare_word_heads(q, titles, doc_freq) if h.lower() not in typed]
    if q.names or q.shape in ("list", "comparison"):
        return out
    lowered = q.text.lower()
    for title in titles:
        head, sep, _ = title.partition(":")
        words = head.lower().split()
        if not sep or not 2 <= len(words) <= MAX_HEAD_WORDS:
            continue
        m = re.search(r"(?<![\w-])" + r"[\s-]+".join(map(re.escape, words)) + r"(?![\w-])", lowered)
        if m and not _RELATING.search(lowered[: m.start()]) and head.strip() not in out:
            out.append(head.strip())
    return out


def _rare_word_heads(
    q: Question, titles: list[str], doc_freq: Mapping[str, int] | None
) -> list[str]:
    """One-word title heads ("Zorbzip" of "Zorbzip: …") the question types in lower case, when
    the word is rare in the collection (at most RARE_WORD_CHUNKS chunks)."""
    if doc_freq is None:
        return []
    out = []
    for title in titles:
        head, sep, _ = title.partition(":")
        word = head.strip()
        tokens = content_tokens(word)
        if not sep or " " in word or word == word.lower() or not tokens:
            continue
        typed = re.search(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", q.text)
        rare = all(0 < doc_freq.get(t, 0) <= RARE_WORD_CHUNKS for t in tokens)
        if typed and rare and word not in out:
            out.append(word)
    return out


_RELATING = re.compile(
    r"\b(?:on|in|with|over|than|from|to|by|for|like|upon|into|onto|against|versus|vs\.?)\s+"
    r"(?:the\s+|a\s+|an\s+)?$",
    re.IGNORECASE,
)


def with_title_names(
    q: Question, titles: list[str], doc_freq: Mapping[str, int] | None = None
) -> Question:
    """The question with the words it titles a found paper by added to its names: "How does
    Mamba avoid …?" is about the paper "Mamba: …", once that paper is among the passages."""
    # an acronym the question gives ("How does X compare with APB?") that is a found paper's
    # own title name ("APB: …") names that paper, whatever else the question names; one that
    # only appears in abstracts ("SVD") stays a common term
    acronyms = re.findall(r"(?<=\s)[A-Z]{2,5}(?![\w'’-])", q.text)
    candidates = [*title_words(q), *(a for a in acronyms if a not in q.names)]
    named = [w for w in dict.fromkeys(candidates) if any(titles_by(t, w) for t in titles)]
    named += [h for h in typed_title_heads(q, titles, doc_freq) if h not in named]
    if not named:
        return q
    names = [*q.names, *named]
    return replace(q, names=names, shape=shape_of(q.text, names, q.kind))


def strong_names(names: list[str]) -> list[str]:
    """Names with a capital inside or a digit: a specific model, method or device."""
    return [n for n in names if re.search(r"[a-z][A-Z]|\d|[A-Za-z]-[A-Z]", n)]


# "What speedup does each report?", "How much faster is each?": the sentence that asks both
_BOTH_ASK = re.compile(r"\b(?:each|both|the two|they|them)\b", re.IGNORECASE)
# "one distills …, the other uses …", "one for MoE LLMs, one for web data", "one …; another …"
_ONE_OTHER = re.compile(
    r"\bone\s+(?P<a>.{12,}?)\s*[,;]\s*(?:and\s+|while\s+|whereas\s+)?"
    r"(?:the\s+other|another(?:\s+(?:paper|work|method|one|whitepaper|study|system))?|one)\s+"
    r"(?P<b>.{12,})",
    re.IGNORECASE,
)
# "Compare a retriever for … with a datastore …", "How do these two compare: a method that …,
# and a method that …": after "compare", the last joint between two described things
_COMPARE_LEAD = re.compile(
    r"^\s*(?:compare\b(?:\s+the\s+[\w\s-]{1,40}?\s+of\b)?(?:\s+two\s+[^:]{1,60}:)?|"
    r"how\s+do\s+(?:these|the)\s+two\s+(?:\w+\s+)?compare\s*:)\s*",
    re.IGNORECASE,
)
_JOINT = re.compile(
    r",?\s+(?:with|and|to|against|versus|vs\.?)\s+(?=(?:one|an?|the\s+other)\b)", re.IGNORECASE
)


def described_sides(question: str, names: list[str]) -> tuple[list[str], str]:
    """The two papers a comparison describes without naming them, and the ask put to both
    ("What savings does each report?"); ([], "") for any other question."""
    if len(names) >= 2:
        return [], ""
    # sentences, and an ask after a colon ("… into one step: what speedup does each report?")
    pieces = re.split(
        r"(?<=[.?!])\s+(?=[A-Z])|:\s+(?=(?:what|how|which|why)\b)", question, flags=re.I
    )
    sentences = [x.strip() for x in pieces if x and x.strip()]
    if not sentences:
        return [], ""  # an empty or blank question
    asks = [x for x in sentences if _BOTH_ASK.search(x)]
    ask = asks[-1] if asks else sentences[-1]
    described = " ".join(x for x in sentences if x != ask) or question
    sides: list[str] = []
    one_other = _ONE_OTHER.search(described)
    lead = _COMPARE_LEAD.match(described)
    context = ""  # what both are ("Two scaling-law papers add …: one for …, one for …")
    if one_other:
        sides = [one_other.group("a"), one_other.group("b")]
        context = described[: one_other.start()]
    elif lead:
        rest = described[lead.end() :]
        joints = list(_JOINT.finditer(rest))
        if joints:
            j = joints[-1]
            sides = [rest[: j.start()], rest[j.end() :]]
            context = re.sub(r"(?i)^\s*compare\b|\bhow do these two compare\b", "", lead.group())
    context = context.strip(" ,.;:?")
    sides = [f"{context}: {x.strip(' ,.;:?')}" if context else x.strip(" ,.;:?") for x in sides]
    if len(sides) != 2 or any(len(x.split()) < 3 for x in sides) or sides[0] == sides[1]:
        return paired_sides(question, names)
    if ask == described or not (_BOTH_ASK.search(ask) or lead):
        return paired_sides(question, names)
    return sides, ask


# a side is what is compared, not a question ("How much better is X versus earlier CNNs?" asks
# X's margin over a baseline), nor a word standing for a paper already named ("it", "this one")
_ASKING = r"(?:how|what|which|why|who|when|where|does|do|did|is|are|was|were|can|could)\b"
_NOT_A_SIDE = rf"(?!(?:it|its|this|that|they|their|the\s+proposed)\b)(?!{_ASKING})"
_SIDE = rf"{_NOT_A_SIDE}(?P<a>[^?:;,—–]{{2,90}}?)"
_OTHER = rf"{_NOT_A_SIDE}(?P<b>[^?:;—–]{{2,90}}?)"
_THEN_ASK = (
    r"\s*(?:[?:;.—–]|\s-\s|,\s*(?=(?:what|which|how|why|who|do|does|is|are)\b)|$)"
    r"\s*(?P<ask>.*)$"
)
# a described side's last word ("the one-step zorb work"), and the words that carry the
# description on past it ("the work on …", "the model that …")
_SIDE_HEAD = r"(?:paper|work|study|survey|model|method|approach|system|framework|one)"
_SIDE_GOES_ON = r"(?:of|on|for|that|which|who|with|in|from|by|to|and|or|vs|versus)\b"
# The ways a question sets two things side by side, whatever each is (a name or a
# description): each gives the two sides and the ask put to both ("" when the whole question
# is the ask).
_SIDE_BY_SIDE = [
    # "train large then compress vs 'more compute …' - do they agree …?", "Two scaling papers:
    # the latent diffusion study vs the datastore one — what …?"
    re.compile(rf"^\s*(?:[^?:]{{3,60}}:\s+)?(?!{_ASKING}){_SIDE}\s+(?:vs\.?|versus)\s+{_OTHER}"
               + _THEN_ASK, re.I),
    # "Which gives the bigger speedup, Flover or the response-length scheduling pipeline?"
    re.compile(r"^\s*(?P<ask>(?:which|who)\b[^?,:;]{3,80}?)\s*[,:]\s*(?P<a>[^?,:;]{2,80}?)\s+or\s+"
               r"(?P<b>[^?,:;]{3,80}?)\s*\?\s*$", re.I),
    # "TaylorShift or the Low-Rank Transformer from Greenformers — which is meant for …?"
    re.compile(rf"^\s*(?!{_ASKING})(?P<a>[^?,:;—–]{{2,80}}?)\s+or\s+(?P<b>[^?,:;—–]{{3,80}}?)"
               r"\s*(?:[,:—–]|\s-\s)\s*(?P<ask>(?:which|who)\b.*)$", re.I),
    # "Compare DriveDreamer4D with the driving model that uses …: what does each contribute?"
    re.compile(rf"\bcompare\s+{_SIDE}\s+(?:with|to|against|and)\s+{_OTHER}" + _THEN_ASK, re.I),
    # "How does the S4-based in-context RL model compare with the Spatially-Aware Transformer?"
    re.compile(rf"\bhow\s+(?:does|do|did)\s+{_SIDE}\s+compare\s+(?:with|to|against)\s+{_OTHER}"
               r"\s*\?\s*$", re.I),
    # "X and the one-step zorb work attack different weaknesses. What does each add?": the
    # second side, a description, ends at its head noun ("work") before what the sentence says
    # of both, and the ask is the next sentence
    re.compile(rf"^\s*{_SIDE}\s+and\s+(?P<b>(?:the|an?)\s+[^.?!:;,—–]{{2,80}}?\b{_SIDE_HEAD})\s+"
               rf"(?!{_SIDE_GOES_ON})[a-z][^.?!]*[.!]\s+(?P<ask>[^.?!]*\b(?:each|both|they|their|"
               r"them)\b[^.!]*\??)\s*$", re.I),
    # "What do the Arabic ASR leaderboard and the audio tokens survey each benchmark?",
    # "MAPLE and the 'Goal Inference …' paper both put an LLM in a loop. What does each infer?"
    re.compile(rf"^\s*(?:(?:what|how|which|why)\s+(?:do|does|did|are|were|have)\s+)?{_SIDE}\s+and\s+"
               rf"{_OTHER}\s+(?:each|both)\b", re.I),
    # "What's the scope of the small LM survey vs the speculative decoding survey?"
    re.compile(rf"\b(?:of|between)\s+{_SIDE}\s+(?:vs\.?|versus)\s+{_OTHER}\s*\?\s*$", re.I),
]  # fmt: skip
_SIDE_WORDS = re.compile(
    r"^(?:the|a|an)\s+|\s+(?:paper|papers|work|approach|method|one|study)$", re.IGNORECASE
)


def paired_sides(question: str, names: list[str]) -> tuple[list[str], str]:
    """The two sides of "A vs B: …?", "Which …, A or B?", "Compare A with B: …", "How does A
    compare with B?" or "A and B each …" when at least one is described rather than named (two
    names make a named comparison): each side is searched for as written, a name as well as a
    description."""
    if _LIST_ASK.search(question):
        return [], ""  # "Which papers quantize X, either post-training or with QAT?": a list
    m = next((m for p in _SIDE_BY_SIDE if (m := p.search(question))), None)
    if m is None:
        return [], ""
    sides = [_side_text(m.group("a")), _side_text(m.group("b"))]
    ask = (m.groupdict().get("ask") or "").strip() or question
    named = {n.lower() for n in names}
    if any(not x for x in sides) or all(x.lower() in named for x in sides):
        return [], ""
    if all(_one_common_word(x) for x in sides if x.lower() not in named):
        return [], ""  # "pruning vs distillation", "X vs Transformers": a topic, not a paper
    if any(_BASELINE_SIDE.fullmatch(x) for x in sides):
        return [], ""  # "RECAP: FID vs the baseline?": one paper's figure against its baseline
    return sides, ask


_BASELINE_SIDE = re.compile(
    r"(?:(?:the|its|their)\s+)?(?:baselines?|prior\s+(?:work|art|methods?)|previous\s+"
    r"(?:work|methods?)|original|sota|state[\s-]of[\s-]the[\s-]art|others?|existing\s+methods?)",
    re.IGNORECASE,
)


def _one_common_word(side: str) -> bool:
    """ "pruning", "Transformers": one word with no inner capital or digit (not "MAPLE")."""
    return len(side.split()) == 1 and not re.search(r"[A-Z].*[A-Z]|\d", side)


_QUOTED_THEN_KIND = re.compile(
    r"(?:(?:the|an?)\s+)?['\"‘“](?P<title>[^'\"‘’“”]{3,})['\"’”]\s+[a-z]+", re.IGNORECASE
)


def _side_text(side: str) -> str:
    """A side as searched: without its quotes, article and "paper"/"study"; a quoted title with
    the kind of work after it ("the 'Faster and Lighter LLMs' survey") is the title."""
    quotes = " '\"‘’“”"
    titled = _QUOTED_THEN_KIND.fullmatch(side.strip())
    if titled:
        return titled.group("title").strip()
    return _SIDE_WORDS.sub("", side.strip(quotes)).strip(quotes)


# A question written as a bare noun phrase ("ZipCache compression ratio?") asks what a
# "What is the …?" would: it opens with none of these and is short
_OPENER = re.compile(
    r"^\W*(?:what|which|how|why|who|whom|whose|where|when|is|are|was|were|does|do|did|can|could|"
    r"should|would|will|has|have|had|list|name|give|show|find|compare|contrast|summari[sz]e|"
    r"explain|describe|tell|enumerate|and|or|but|also|so|then|any|papers?|works?|methods?|"
    r"in|on|for|with|by|from|about|according|between)\b",
    re.IGNORECASE,
)
TERSE_WORDS = 12  # a noun phrase with its setting ("X energy gain for Y on the P100?")
# A misspelt question word ("Whcih papers …"): the word it was meant to be
_WH_WORDS = ("which", "what", "how", "why", "where", "when", "who")


BASELINE_CUE = re.compile(
    r"\b(than|outperform\w*|surpass\w*|beats?|like|such as|compar\w* (?:to|with)|over|versus|"
    r"against|vs|baselines?|including|e\.g|relative to|alternatives? to|instead of|in place of|"
    r"replac\w*|unlike)\b",
    re.I,
)


def as_baseline(name: str, sentence: str) -> bool:
    """Is `name` named only as a baseline or an example in the sentence ("… outperforming
    methods like … Medusa")? Its figures then belong to the paper that beats it."""
    # the name standing alone: "FlashAttention" inside "FlashAttention-2" is another name
    found = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", sentence, re.IGNORECASE)
    if found is None:
        return False
    at = found.start()
    before = " ".join(sentence[:at].split()[-6:])  # the cue stands within a few words
    cues = list(BASELINE_CUE.finditer(before))
    # a full stop or semicolon between cue and name ends the clause; a decimal point does not
    # ("by 12.5% compared to A, B and C")
    if not cues or re.search(r";|\.(?!\d)", before):
        return False
    # "faster than MobileBERT on Samsung Galaxy S20": the name after the setting's preposition
    # is where both ran, not a baseline
    return not _SETTING_AFTER.search(before[cues[-1].end() :])


_SETTING_AFTER = re.compile(r"\b(?:on|using|across|under|at)\b", re.I)


def _bare_topic(question: str, names: list[str], kind: str) -> bool:
    """ "Lightweight zorb vision backbones?", "KV cache pruning methods?": a topic named
    without a question word, and no paper named to ask a fact of, asks what the collection
    holds on it (a list), as a search box query does. A quantity ("ZipCache compression
    ratio?") or a named paper keeps it a question of one fact."""
    # (Reading a later sentence that opens as a question does, "…. Name of the approach?", as
    # making it a question was tried: a paper described then "name?" was refused as off-topic,
    # its description under the single-fact threshold, where as a list it was answered.)
    return (
        not _OPENER.match(question)
        # "Under which license …?", "For speech models, how much …?": a question all the same
        and not re.search(rf"\b(?:{'|'.join(_WH_WORDS)}|whom|whose)\b", question, re.IGNORECASE)
        # "I'm looking for the work that …", "Please …": a sentence of the user's own, which
        # says itself what it asks for (_LIST_ASK reads its plural)
        and not re.match(r"\s*(?:i|i'm|i’m|we|my|our|please|help)\b", question, re.IGNORECASE)
        # "optimizers proposed as alternatives to AdamW": a name given as the reference point
        # asks nothing of that paper
        and not [n for n in strong_names(names) if not as_baseline(n, question)]
        and kind in ("describe", "name", "dataset")
        and len(content_tokens(question)) >= 2
    )


def _respelt_opener(question: str) -> str:
    """The question with a misspelt first word put right when it is a question word with two
    letters swapped or one dropped or added ("Whcih", "Wich", "Hwo")."""
    m = re.match(r"\s*([A-Za-z]{2,6})\b", question)
    if not m or m.group(1).lower() in _WH_WORDS:
        return question
    word = m.group(1).lower()
    for wh in _WH_WORDS:
        if word[0] in "wh" and _one_edit(word, wh):
            fixed = wh.capitalize() if m.group(1)[0].isupper() else wh
            return question[: m.start(1)] + fixed + question[m.end(1) :]
    return question


# "mc-moe: how does it pick …", "kraken transformer - how much does it cut …": the subject put
# first as a label, then the question about it. Read as the question ("how does mc-moe pick …"),
# since what is asked (a how, a figure) is told by the words that open it.
_LABELLED = re.compile(
    r"^\s*(?P<label>[^?:;]{2,60}?)\s*(?::|\s[-–—]{1,2}\s|\s*[—–]\s*)\s*"
    r"(?P<ask>(?:how|what|which|why|who|whose|where|when|is|are|was|were|does|do|did|can|"
    r"could|should|would|by\s+how|in\s+what|at\s+what|on\s+what)\b[^?]*\?*)\s*$",
    re.IGNORECASE,
)
# A label that is no subject: a question of its own ("How big is X — …"), a comparison ("X vs
# Y: how does each …", read as one), or a turn's framing ("Switching topics: …")
_NOT_A_LABEL = re.compile(
    r"^\s*(?:how|what|which|why|who|where|when|is|are|does|do|did|can|could)\b|"
    r"\b(?:vs\.?|versus|compared?|and|or|both|each|topics?|subjects?|questions?|note|"
    r"switch\w*|chang\w*|different|unrelated|another|also|now|ok(?:ay)?|then|about)\b|[/&,]",
    re.IGNORECASE,
)
_LABEL_WORDS = 4  # a name or a short noun phrase; a longer label may be a clause ("X maps …")
_POINTER = re.compile(r"\b(?:(it|they|them)|(its|their))\b", re.IGNORECASE)


def subject_label(question: str) -> str | None:
    """The label `_unlabelled` folds into its question ("mc-moe" of "mc-moe: how does it …?"),
    or None when there is none."""
    if _unlabelled(question) == question:
        return None
    m = _LABELLED.match(question)
    return m.group("label").strip() if m else None


def _unlabelled(question: str) -> str:
    """The question with its subject label folded in: "X: how does it work?" -> "how does X
    work?"; a question with no pronoun for the subject gets it at its end ("X: how much faster
    is inference?" -> "how much faster is inference (X)?"). Unchanged when the label is not a
    short subject (`_NOT_A_LABEL`, `_LABEL_WORDS`) or is the whole topic ("X - which papers?")."""
    m = _LABELLED.match(question)
    if not m:
        return question
    label, ask = m.group("label").strip(), m.group("ask").strip()
    words = label.split()
    if len(words) > _LABEL_WORDS and words[0].lower() not in {"the", "a", "an"}:
        return question
    if _NOT_A_LABEL.search(label):
        return question
    pointer = _POINTER.search(ask)
    if not pointer and not content_tokens(ask):
        return question  # "zorb caching - which papers?": the label is all the topic there is
    if pointer:
        named = label if pointer.group(1) else f"{label}'s"
        ask = ask[: pointer.start()] + named + ask[pointer.end() :]
    else:
        ask = f"{ask.rstrip('? ')} ({label})?"
    return ask[0].upper() + ask[1:]


_WHICH_VERB = re.compile(
    r"which\s+(?:is|are|was|were|does|do|did|has|have|can|"
    r"\w+s\s+(?:the|a|an|more|less|fewer|most|least|higher|lower|bigger|smaller|better|its|"
    r"their)\b)",
    re.IGNORECASE,
)


def plain_ask(phrase: str) -> str:
    """An asked phrase as a thing named: "which GPU and batch size" -> "the GPU and batch
    size"."""
    phrase = phrase.strip(" ?.,")
    if _WHICH_VERB.match(phrase):
        return ""  # "which saves more memory": a verb follows, no thing is named
    if phrase.lower().startswith("which "):
        return "the " + phrase[len("which ") :]
    how = re.match(
        r"how\s+(big|large|fast|quickly)\s+(?:(?:the|its|their)\s+)?(\S.*)", phrase, re.I
    )
    if how:
        # "how big training set" -> "the size of the training set"; "how fast is each" and
        # "how fast does Zorb run" ask a dimension of what the verb's subject is
        dimension = f"the {_HOW_DIMENSION[how.group(1).lower()]}"
        thing = how.group(2)
        verb = _HOW_AUXILIARY.match(thing)
        if verb:
            thing = re.sub(r"^(?:its|their)\s+", "the ", verb.group("rest"), flags=re.I)
            if verb.group("aux").lower() not in _BE_FORMS and len(thing.split()) > 1:
                thing = thing.rsplit(None, 1)[0]  # "does Zorb run": Zorb
        if thing.lower() in _STANDS_FOR_SUBJECT:
            return dimension  # "how fast is each": the speed, of each side already named
        if not (thing.endswith("ing") or thing[:1].isupper() or thing.lower().startswith("the ")):
            thing = f"the {thing}"
        return f"{dimension} of {thing}"
    if re.match(r"how\b", phrase, re.I):
        return ""  # "how much memory": no thing named that reads well
    return phrase


_HOW_DIMENSION = {"big": "size", "large": "size", "fast": "speed", "quickly": "speed"}
_HOW_AUXILIARY = re.compile(
    r"(?P<aux>is|are|was|were|does|do|did|can|could|will|would)\s+(?P<rest>\S.*)", re.IGNORECASE
)
_BE_FORMS = frozenset({"is", "are", "was", "were"})
# what a facet of a comparison or list says for the side or paper it is asked of
_STANDS_FOR_SUBJECT = frozenset({"each", "it", "they", "this", "that", "both", "either", "them"})


TYPO_CHUNKS = 2  # a word in more chunks than this is the collection's, however it looks
TYPO_RATIO = 50  # ... and in fewer, a typo when its near spelling is in this many times more
MIN_RESPELT_CHARS = 5  # shorter words have too many neighbours one edit away ("cash", "cast")


def respelt(question: str, texts: Iterable[str], doc_freq: Mapping[str, int] | None) -> str:
    """The question with a misspelt word ("latnecy", "accuarcy", "compresion") put right: a
    lower-case word the collection never uses, one edit (a letter swapped with its neighbour,
    changed, dropped or added) from a word of the retrieved passages (`texts`), which found the
    paper by the question's other words. A word the collection uses stands as typed, and so
    does a capitalised one (a name)."""
    if not doc_freq:
        return question
    counts: dict[str, int] = {}
    for text in texts:
        for w in re.findall(r"[a-z][a-z-]{3,}", text.lower()):
            counts[w] = counts.get(w, 0) + 1

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        tokens = content_tokens(word)  # none for a stopword ("papers", "which")
        if not tokens or word in counts:
            return word
        used = max(doc_freq.get(t, 0) for t in tokens)
        if used > TYPO_CHUNKS:
            return word
        near = [(n, w) for w, n in counts.items() if _near_spelling(word, w)]
        if not near:
            return word
        best = max(near)[1]
        # a word in a chunk or two may be the same typo made by an abstract ("efficency"):
        # put right when the near spelling is the collection's usual one
        if used and max(doc_freq.get(t, 0) for t in content_tokens(best)) < TYPO_RATIO * used:
            return word
        return best

    return re.sub(rf"(?<![\w-])[a-z]{{{MIN_RESPELT_CHARS},}}(?![\w-])", fix, question)


def recased(question: str, texts: Iterable[str], titles: Iterable[str] = ()) -> str:
    """The question with a name typed in lower case ("cobra and mamba-shedder both …",
    "longgen") spelt as the retrieved passages (`texts`, their bodies) spell it ("Cobra",
    "Mamba-Shedder", "LongGen"), so that it is read as a name whatever the typing. A word is
    recased only when every use of it in the passages has one spelling, a name's: a capital
    inside a part ("LongGen", "IGEV-Stereo"), or capitals only first, used alone in mid-sentence
    more than once ("… due to Cobra's linear modeling"; not "Reward-Guided Speculative
    Decoding", a phrase in title case) or heading a retrieved paper's title (`titles`:
    "Mamba-Shedder: On …"). A word the passages also write in lower case is a word, and stays
    as typed."""
    heads = {t.split(":")[0].strip() for t in titles if ":" in t}
    joined = " ".join(texts)

    def spelling(m: re.Match[str]) -> str:
        word = m.group(0)
        uses = list(re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", joined, re.IGNORECASE))
        seen = {u.group(0) for u in uses}
        if len(seen) != 1 or seen == {word}:
            return word  # not in the passages, or written in more ways than one
        (spelt,) = seen
        if any(re.search(r"[a-z\d][A-Z]|[A-Z]{2}", part) for part in spelt.split("-")):
            return spelt  # "LongGen", "SnapKV", "IGEV-Stereo"
        alone = sum(
            bool(
                re.search(
                    r"(?:^|\s)(?:[a-z\d][\w-]*|\S*[,;:)])\s+$",
                    joined[max(0, u.start() - 40) : u.start()],
                )
            )
            and not re.match(r"\S*\s+[A-Z]", joined[u.end() : u.end() + 3])
            for u in uses
        )
        # a name the paper keeps using, or its title's; not "a Rubik's cube", said once
        return spelt if alone >= 2 or spelt in heads else word

    return re.sub(r"(?<![\w-])[a-z][a-z\d]*(?:-[a-z\d]+)*(?![\w-])", spelling, question)


def _near_spelling(a: str, b: str) -> bool:
    """One edit apart, a changed letter included ("memary", "memory")."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or _one_edit(a, b)
    return _one_edit(a, b)


def _one_edit(a: str, b: str) -> bool:
    """One swap of neighbours, one letter dropped or one added; never a real word for another
    (the caller keeps words that are question words already)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


_KINDS_ASKED = re.compile(
    r"\b(?:papers|works|methods|approaches|techniques|systems|models|benchmarks|datasets|"
    r"studies|frameworks|architectures|algorithms|examples)\b",
    re.IGNORECASE,
)


def _one_things_fact(question: str, doc_freq: Mapping[str, int] | None) -> bool:
    """A terse question about one thing, not a topic: an attribute "of the" thing ("time
    complexity of the multi-layer gradient approximation?"), or opening with a word only a
    paper or two use, its name in lower case ("igev-stereo runtime on KITTI?")."""
    if _KINDS_ASKED.search(question) or _LIST_ASK.search(question) or _holdings(question):
        return False  # "deep learning papers for tumor detection?", "… - what's there?"
    if re.match(r"\s*(?:[\w-]+\s+){0,3}[\w-]+\s+of\s+the\s+", question, re.IGNORECASE):
        return True
    head = re.match(r"\s*([\w.-]+)", question)
    return (
        doc_freq is not None
        and head is not None
        and not head.group(1).isupper()  # "ML applied to …": an acronym of the field, not a name
        and any(0 < doc_freq.get(t, 0) <= RARE_WORD_CHUNKS for t in content_tokens(head.group(1)))
    )


def terse(question: str) -> bool:
    """ "ZipCache compression ratio?": a noun phrase asked as a question."""
    return (
        question.rstrip().endswith("?")
        and len(question.split()) <= TERSE_WORDS
        and not _OPENER.match(question)
        and not _COMPARE_ASK.search(question)
    )


# "what's the paper that …" reads as "what is the paper that …" (not a possessive "what's")
_WH_CONTRACTION = re.compile(r"\b(what|which|how|where|who|when|why)['’](s|re)\b", re.IGNORECASE)


_PERCENT_SIGN = re.compile(r"\bwhat\s*%")
_BIT_WIDTH = re.compile(r"\bbit\s+width(s?)\b|\bbitwidth(s?)\b", re.IGNORECASE)


def analyse(question: str, doc_freq: Mapping[str, int] | None = None) -> Question:
    expanded = _WH_CONTRACTION.sub(
        lambda m: f"{m.group(1)} {'is' if m.group(2).lower() == 's' else 'are'}", question
    )
    if expanded != question:
        return analyse(expanded, doc_freq)
    respelt = _respelt_opener(question)
    if respelt != question:
        return replace(analyse(respelt, doc_freq), text=question)
    unlabelled = _unlabelled(question)
    if unlabelled != question:
        return analyse(unlabelled, doc_freq)
    joined = _PERCENT_SIGN.sub("what percentage", _BIT_WIDTH.sub("bit-width", question))
    if joined != question:
        # "at what bit width …": one attribute, the bit-width, not a width; "by what % …" asks
        # a percentage
        return replace(analyse(joined, doc_freq), text=question)
    if terse(question):
        asked = analyse(f"What is the {question.strip()}", doc_freq)
        shape = shape_of(question, asked.names, asked.kind)
        if shape == "list" and _one_things_fact(question, doc_freq):
            shape = "single"
        return replace(asked, text=question, shape=shape)
    kind = kind_of(question)
    phrases = [_KIND_PHRASES[kind]] if kind in _KIND_PHRASES else attribute_phrases(question)
    names = names_in(question, doc_freq)
    attribute: set[str] = set()
    if kind == "number":
        attribute = {in_vocabulary(t, doc_freq) for t in asked_quantities(question)}
    compared = _COMPARED.search(question)
    if compared and not re.match(r"\s*(is|are|does|do|how does|how do)\b", question, re.I):
        compared = None  # "… latency on H100 versus FLUX-schnell": a baseline, not a comparison
    if (
        compared
        and doc_freq is not None
        and compared.group(1).rstrip(".?").lower() not in {n.lower() for n in names}
    ):
        # "… faster than Transformers?": a common word, not a second paper
        common = content_tokens(compared.group(1))
        if common and all(doc_freq.get(t, 0) > 25 for t in common):
            compared = None
    if compared:
        # "Is FlashAttention faster than Mamba?" compares two named papers
        names = list(dict.fromkeys([*names, compared.group(1).rstrip(".?")]))
    outside = unquoted(question)
    if _COMPARE_ASK.search(outside) or _EACH_ASK.search(outside):
        # "ENAMEL vs COFFE", "Splitwise and TetriInfer": the compared names are subjects even
        # when one alone would be too common or too short to count as a name
        for pair in _PAIR.finditer(outside):
            for group in pair.group(1, 2):
                words = group.rstrip(".,:;?").split()
                while words and words[0].lower() in _NOT_SUBJECTS:
                    words = words[1:]  # "Compare SnapKV" names SnapKV
                name = " ".join(words)
                if name and name not in names:
                    names.append(name)
        for side in vs_sides(question, doc_freq):
            if side.lower() in {n.lower() for n in names} or (
                len(side.split()) == 1 and any(side in n for n in names)
            ):
                continue
            # "LLM in a flash" holds "LLM": the side is the name, not its word
            names = [n for n in names if n not in side.split()] + [side]
        # "How does the No Token Left Behind paper treat … differently?": a title's head,
        # capitalised, called "the … paper", is a side whatever its words
        for m in _TITLE_HEAD_PAPER.finditer(outside):
            if m.group(1) not in names:
                names.append(m.group(1))
        # "What do 'Scaling LLM Test-Time Compute Optimally...' and 'Can 1B LLM Surpass 405B
        # LLM?' each conclude": a quoted title (three words or more, capitalised) is a side
        for m in _QUOTED_TITLE.finditer(question):
            title = m.group(1).rstrip(" .…?!,")
            if len(title.split()) >= 3 and title not in names:
                names.append(title)
        # a word of a longer compared name ("Back" of "ReLU Strikes Back") is not a subject
        # (nor are words of one: "Efficient LLM Inference" of "Efficient LLM Inference on CPUs")
        names = [
            n
            for n in names
            if not any(
                n != m and re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", m) for m in names
            )
        ]
    plural = bool(_PLURAL.search(question)) or (len(names) >= 2 and compared is not None)
    described, ask = described_sides(question, names)
    measured = _measured(question) if kind == "number" else None
    if measured:
        phrases = [measured[1] if p.startswith("the number of") else p for p in phrases]
    return Question(
        text=question,
        kind=kind,
        attribute=attribute,
        attribute_phrase=" and ".join(phrases),
        names=names,
        plural=plural or bool(described),
        shape="comparison" if described else shape_of(question, names, kind),
        described=described,
        ask=ask,
    )
