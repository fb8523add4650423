"""The app's few styles: readable tables, coloured notices, wide labels (no CDN, no icons)."""

STYLE = """<style>
.mk-app { max-width: 1200px; --jp-widgets-inline-label-width: 15em; }
.mk-app .widget-label { min-width: 9em; }
.mk-app .widget-toggle-button { width: auto; padding: 0 1em;
  min-width: var(--jp-widgets-inline-width-short); }
.mk-header { align-items: center; gap: 1.5em; }
.mk-title h2 { margin: 0.2em 0; }
.mk-table { border-collapse: collapse; margin: 0.4em 0; font-size: 13px; }
.mk-table th, .mk-table td { border: 1px solid #ccc; padding: 2px 8px; text-align: left;
  vertical-align: top; }
.mk-table th { background: #f2f2f2; }
.mk-header-table td:first-child { font-weight: bold; white-space: nowrap; }
.mk-error { color: #a61b1b; font-weight: bold; }
.mk-warning { color: #8a5a00; }
.mk-ok { color: #1d6b2f; }
.mk-info, .mk-pending { color: #333; }
.mk-pending { font-style: italic; }
.mk-row-error { color: #a61b1b; font-weight: bold; }
.mk-notice div { padding: 4px 8px; border-radius: 3px; margin: 2px 0; }
.mk-notice .mk-error { background: #fdecea; }
.mk-notice .mk-warning { background: #fff4e0; }
.mk-notice .mk-ok { background: #e8f5e9; }
.mk-more, .mk-empty { color: #666; font-style: italic; }
.mk-text, .mk-eml { background: #fafafa; border: 1px solid #ddd; padding: 8px;
  max-height: 480px; overflow: auto; font-size: 13px; }
.mk-chart figcaption { font-weight: bold; margin-bottom: 4px; }
.mk-map-field { min-width: 16em; }
.mk-confirm { background: #fff4e0; border: 1px solid #e0b060; border-radius: 4px;
  padding: 6px 10px; margin: 6px 0; }
.mk-question { font-weight: bold; margin-bottom: 4px; }
.mk-steps { list-style: none; padding-left: 0.5em; }
.mk-step-ok b { color: #1d6b2f; }
.mk-step-warning b { color: #8a5a00; }
.mk-step-failed b { color: #a61b1b; }
.mk-step-skipped { color: #777; }
.mk-explain { margin: 2px 0 6px 1.6em; font-size: 13px; }
.mk-explain ul { margin: 2px 0; }
.mk-secret { background: #fff4e0; padding: 1px 4px; }
</style>"""
