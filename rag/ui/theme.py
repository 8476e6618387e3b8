"""The UI's look: a Gradio theme with the fonts Gradio ships (no web fonts) and a little CSS."""

from __future__ import annotations

import gradio as gr

# The weights of the fonts Gradio ships (served by the app itself; GoogleFont would call the
# network): its SemiBold files (600) are subsets of a few letters (~5 KB), so bold text set in
# them showed some capitals in a fallback font. Regular and Bold are complete: bold text (600 as
# well, the nearest heavier face) is set in Bold.
FONT_WEIGHTS = (400, 700)


def make_theme() -> gr.themes.Base:
    local = gr.themes.LocalFont
    return gr.themes.Default(
        primary_hue="indigo",
        secondary_hue="sky",
        neutral_hue="slate",
        radius_size="md",
        font=(
            local("Source Sans Pro", weights=FONT_WEIGHTS),
            "ui-sans-serif",
            "system-ui",
            "sans-serif",
        ),
        font_mono=(
            local("IBM Plex Mono", weights=FONT_WEIGHTS),
            "ui-monospace",
            "Consolas",
            "monospace",
        ),
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
.answer p { margin: 0 0 6px !important; }
ul.answer-items { margin: 4px 0 0 !important; padding-left: 1.2em !important; }
ul.answer-items li { margin: 3px 0 !important; }
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
.src-card:target, .src-card.hl { border-color: var(--color-accent);
  box-shadow: 0 0 0 3px var(--color-accent-soft); }
.src-head { display: flex; gap: 8px; align-items: baseline; }
.src-num { flex: none; min-width: 22px; height: 22px; border-radius: 11px; text-align: center;
  background: var(--color-accent); color: white; font-size: 0.8rem; font-weight: 700;
  line-height: 22px; padding: 0 4px; }
.related-list .src-num { background: #d97706; }
.src-title { font-weight: 600; line-height: 1.3; }
.src-meta { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center;
  font-size: 0.8rem; margin: 4px 0 6px 30px; color: var(--body-text-color-subdued); }
.src-file { font-weight: 600; }
.src-where { background: var(--background-fill-secondary); border-radius: 4px; padding: 0 5px;
  font-weight: 600; color: var(--body-text-color); }
.src-score { margin-left: auto; display: inline-flex; align-items: center; gap: 5px;
  cursor: help; font-weight: 600; }
.rel-bar { display: inline-block; width: 44px; height: 6px; border-radius: 3px;
  background: var(--border-color-primary); overflow: hidden; }
.rel-bar > span { display: block; height: 100%; border-radius: 3px; }
.rel-high { color: #15803d; } .rel-high .rel-bar > span { background: #16a34a; }
.rel-medium { color: #a16207; } .rel-medium .rel-bar > span { background: #eab308; }
.rel-low { color: #b91c1c; } .rel-low .rel-bar > span { background: #ef4444; }
.src-actions { margin: 6px 0 0 30px; font-size: 0.85rem; }
.src-open { color: var(--color-accent) !important; font-weight: 600; text-decoration: none; }
.src-open:hover { text-decoration: underline; }
.src-show { margin-right: 12px; padding: 1px 10px; border-radius: 6px; font-weight: 600;
  font-size: inherit; line-height: 1.5;
  border: 1px solid var(--color-accent); color: var(--color-accent);
  background: var(--color-accent-soft); cursor: pointer; }
.src-show:hover { background: var(--color-accent); color: white; }
.src-show:focus-visible, .sp-close:focus-visible, .sp-tab:focus-visible,
#source-panel-h:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 2px; }
.source-panel { border: 1px solid var(--color-accent); border-radius: 10px; overflow: hidden;
  background: var(--background-fill-primary); margin-top: 4px; }
.source-panel[hidden] { display: none !important; }
.sp-bar { display: flex; align-items: center; gap: 12px; padding: 6px 12px;
  background: var(--background-fill-secondary);
  border-bottom: 1px solid var(--border-color-primary); }
#source-panel-h { flex: 1; margin: 0 !important; font-size: 0.95rem !important; font-weight: 600;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.sp-tab { color: var(--color-accent) !important; font-weight: 600; font-size: 0.85rem;
  text-decoration: none; white-space: nowrap; }
.sp-close { padding: 2px 10px; border-radius: 6px; font-size: 0.85rem; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
#source-panel-frame { display: block; width: 100%; height: min(60vh, 600px); border: 0;
  background: white; }
/* The source panel is the Sources column's (rag/ui/app.py SOURCE_PANEL_JS): where the columns
   stack it opens at its top, below the chat; on a wide window it lies over the column, beside
   the chat and as tall as it, so the answer being read stays in view. */
#source-panel-box:not(:has(#source-panel:not([hidden]))) { display: none !important; }
#source-panel-box .html-container { padding: 0 !important; }
@media (min-width: 1024px) {
  #main-row { flex-wrap: nowrap !important; }
  #source-panel-box { position: absolute !important; top: 0; left: 0; right: 0; z-index: 20;
    margin: 0 !important; }
  .source-panel { display: flex; flex-direction: column; margin-top: 0;
    height: max(360px, calc(100dvh - 230px)); box-shadow: 0 4px 16px rgb(0 0 0 / 0.12); }
  #source-panel-frame { flex: 1; height: auto; min-height: 0; }
  /* the column is narrow: the title gets a line (two at most) of its own above the links */
  .sp-bar { flex-wrap: wrap; row-gap: 4px; }
  #source-panel-h { flex: 1 1 100%; white-space: normal; display: -webkit-box;
    -webkit-box-orient: vertical; -webkit-line-clamp: 2; line-height: 1.3; }
  .sp-close { margin-left: auto; }
}
.muted { opacity: 0.75; }
.src-snippet { margin: 0 0 0 30px !important; padding: 4px 10px !important; font-size: 0.88rem;
  border-left: 3px solid var(--color-accent-soft) !important; color: var(--body-text-color); }
.src-card details { margin: 6px 0 0 30px; font-size: 0.85rem; }
.src-card summary { cursor: pointer; color: var(--color-accent); }
footer { opacity: 0.6; }

.side-h { font-weight: 700; font-size: 1.05rem; margin: 2px 0 4px; }
#conversations label { width: 100%; font-size: 0.88rem; }
#feedback-note { min-height: 0; }
.fb-note { font-size: 0.85rem; color: var(--body-text-color-subdued);
  animation: fb-fade 4s forwards; }
@keyframes fb-fade { 0%, 70% { opacity: 1; } 100% { opacity: 0; visibility: hidden; } }
.upload-report { font-size: 0.88rem; line-height: 1.5; scroll-margin: 8px 0; }
.upload-report .up-mark { font-weight: 700; }
.up-added .up-mark, .up-updated .up-mark, .up-deleted { color: #15803d; }
.up-failed { color: #b91c1c; }
.up-summary { color: var(--body-text-color-subdued); margin-top: 4px; font-size: 0.82rem; }
.up-flagged { color: #a16207; font-size: 0.82rem; }

@media (max-width: 640px) {
  .gradio-container { padding: 0 6px !important; }
  #rag-header h1 { font-size: 1.25rem; }
  #rag-header p { font-size: 0.85rem; }
  #chat { height: calc(100dvh - 210px) !important; }
  .src-meta, .src-snippet, .src-actions, .src-card details { margin-left: 0 !important; }
}
"""
