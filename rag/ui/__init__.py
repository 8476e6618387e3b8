"""The Gradio chat UI (`rag ui`): streaming answers, a Sources panel, feedback, index status."""

from rag.ui.app import build_app, launch

__all__ = ["build_app", "launch"]
