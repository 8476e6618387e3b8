"""The UI's look: a Gradio theme with the fonts Gradio ships (no web fonts) and a little CSS."""

from __future__ import annotations

import gradio as gr


def make_theme() -> gr.themes.Base:
    # Default() uses LocalFont faces served by the app itself; GoogleFont would call the network.
    return gr.themes.Default(
        primary_hue="indigo", secondary_hue="sky", neutral_hue="slate", radius_size="md"
    )


CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto; }
#rag-header h1 { margin: 0; font-size: 1.55rem; letter-spacing: -0.01em; }
#rag-header p { margin: 2px 0 0; color: var(--body-text-color-subdued); }
#rag-header { padding: 4px 2px 8px; }
#rag-status-line { color: var(--body-text-color-subdued); font-size: 0.9rem; text-align: right; }

a.cite, span.cite {
  display: inline-block; padding: 0 5px; margin: 0 1px; border-radius: 6px;
  font-size: 0.78em; font-weight: 600; line-height: 1.45; vertical-align: 1px;
  background: var(--color-accent-soft); color: var(--color-accent) !important;
  text-decoration: none !important; border: 1px solid var(--color-accent);
}
a.cite:hover { background: var(--color-accent); color: white !important; }
.answer { line-height: 1.6; }
ul.src-foot { margin: 8px 0 0 !important; padding: 8px 0 0 !important; list-style: none !important;
  border-top: 1px solid var(--border-color-primary); font-size: 0.85em;
  color: var(--body-text-color-subdued); }
ul.src-foot li { margin: 2px 0 !important; padding: 0 !important; }
ul.src-foot li::before { content: none !important; }
ul.src-foot a { text-decoration: none; font-weight: 600; color: var(--color-accent); }
.note { margin-top: 6px; font-size: 0.85em; font-style: italic;
  color: var(--body-text-color-subdued); }
.pending { color: var(--body-text-color-subdued); font-style: italic; }
.draft { color: var(--body-text-color-subdued); }
.caret { animation: blink 1s steps(1) infinite; margin-left: 1px; }
@keyframes blink { 50% { opacity: 0; } }

.abstain { border-left: 4px solid #d97706; background: #fffbeb; color: #78350f;
  padding: 10px 14px; border-radius: 6px; }
.dark .abstain { background: #3a2a0a; color: #fde68a; }
.abstain-title { font-weight: 700; margin-bottom: 4px; }
.abstain-title::before { content: "⚠ "; }
.abstain .related { margin-top: 8px; font-size: 0.9em; }
.abstain .related ul { margin: 4px 0 0 !important; }
.abstain .muted { opacity: 0.75; }
.error-msg { border-left: 4px solid #dc2626; background: #fef2f2; color: #7f1d1d;
  padding: 10px 14px; border-radius: 6px; }
.dark .error-msg { background: #3b1111; color: #fecaca; }

.sources.empty { color: var(--body-text-color-subdued); font-size: 0.92rem; padding: 8px 2px; }
.src-h { font-weight: 600; font-size: 0.95rem; margin: 2px 0 8px; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: 10px 12px; margin-bottom: 10px; background: var(--background-fill-primary);
  scroll-margin-top: 12px; transition: box-shadow .2s, border-color .2s; }
.src-card:target { border-color: var(--color-accent);
  box-shadow: 0 0 0 3px var(--color-accent-soft); }
.src-head { display: flex; gap: 8px; align-items: baseline; }
.src-num { flex: none; min-width: 22px; height: 22px; border-radius: 11px; text-align: center;
  background: var(--color-accent); color: white; font-size: 0.8rem; font-weight: 700;
  line-height: 22px; padding: 0 4px; }
.related-list .src-num { background: #d97706; }
.src-title { font-weight: 600; line-height: 1.3; }
.src-meta { display: flex; justify-content: space-between; font-size: 0.8rem;
  margin: 4px 0 6px 30px;
  color: var(--body-text-color-subdued); }
.src-file { font-family: var(--font-mono); }
.src-snippet { margin: 0 0 0 30px !important; padding: 4px 10px !important; font-size: 0.88rem;
  border-left: 3px solid var(--color-accent-soft) !important; color: var(--body-text-color); }
.src-card details { margin: 6px 0 0 30px; font-size: 0.85rem; }
.src-card summary { cursor: pointer; color: var(--color-accent); }
footer { opacity: 0.6; }
"""
