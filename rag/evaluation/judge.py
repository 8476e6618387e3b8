"""An LLM judge of citation support, used only when an OpenAI-compatible endpoint is configured.

llama-index's FaithfulnessEvaluator asks the LLM whether a piece of information is supported by a
context (YES/NO); here the information is one answer sentence and the context its cited passage.
The embedded 135M model is far too small to judge, so with `llm.provider = "local"` there is no
judge and the report says so.
"""

from __future__ import annotations

from rag.core.settings import Settings
from rag.evaluation.metrics import SupportCheck


def make_judge(settings: Settings) -> SupportCheck | None:
    """A `supports(sentence, passage)` check backed by the configured OpenAI-compatible LLM."""
    if settings.llm.provider != "openai":
        return None
    from llama_index.core.evaluation import FaithfulnessEvaluator
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(
        model=settings.llm.model,
        api_base=settings.llm.base_url or "https://api.openai.com/v1",
        api_key=settings.llm.api_key.get_secret_value() if settings.llm.api_key else "none",
        is_chat_model=True,
        temperature=0.0,
        max_tokens=8,
        timeout=settings.llm.timeout,
        max_retries=settings.llm.max_retries,
    )
    evaluator = FaithfulnessEvaluator(llm=llm)

    def judge(sentence: str, passage: str) -> bool:
        result = evaluator.evaluate(response=sentence, contexts=[passage])
        return bool(result.passing)

    return judge
