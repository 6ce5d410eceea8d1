"""The dashboard's look: one stylesheet, injected once by the app.

Class names are the `ba-...` classes the widgets carry; the browser tests
select on the same names, so they double as the page's public structure.
"""

STYLESHEET = """
<style>
.ba-app { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1400px; }
.ba-app h1 { font-size: 22px; margin: 4px 0 8px; }
.ba-app h2 { font-size: 18px; margin: 8px 0; }
.ba-app h3 { font-size: 15px; margin: 12px 0 4px; }
.ba-notice-error, .ba-notice-warning, .ba-notice-info, .ba-notice-success {
  padding: 10px 14px; border-radius: 6px; margin: 6px 0; line-height: 1.4; }
.ba-notice-error { background: #fde7e9; border: 1px solid #e8a1a8; color: #7a0010; }
.ba-notice-warning { background: #fff4d6; border: 1px solid #e8c66a; color: #5c4300; }
.ba-notice-info { background: #e8f0fe; border: 1px solid #9dbcf5; color: #0b3a8f; }
.ba-notice-success { background: #e3f4e3; border: 1px solid #9ccc9c; color: #1b4d1b; }
.ba-steps { margin: 6px 0 10px; }
.ba-step-tab { display: inline-block; padding: 4px 10px; margin-right: 4px; border-radius: 14px;
  background: #eef0f3; color: #555; font-size: 13px; }
.ba-step-current { background: #0b57d0; color: white; font-weight: 600; }
.ba-step-done { background: #dbe7fb; color: #0b3a8f; }
.ba-hint { color: #555; font-size: 13px; margin: 4px 0; }
.ba-tabs .lm-TabBar-tab { max-width: none; flex: 0 0 auto; }
.ba-record-error { color: #b00020; }
.ba-unavailable { color: #8a8a8a; font-style: italic; font-size: 13px; }
.ba-domain-note { color: #444; font-size: 13px; }
.ba-domain-row { align-items: center; }
.ba-nav { margin-top: 14px; }
.ba-dropzone { width: 520px; }
.ba-drop-area { border: 2px dashed #8aa7d6; border-radius: 10px; padding: 26px; text-align: center;
  background: #f6f9ff; cursor: pointer; color: #333; }
.ba-drop-area.ba-drag { background: #e3ecff; border-color: #0b57d0; }
.ba-drop-icon { font-size: 28px; color: #0b57d0; }
.ba-drop-title { font-weight: 600; }
.ba-drop-or { color: #777; margin: 4px; }
.ba-browse { display: inline-block; padding: 4px 14px; border-radius: 4px; background: #0b57d0; color: white; }
.ba-drop-accept { color: #666; font-size: 12px; margin-top: 6px; }
.ba-file-chosen { font-size: 14px; }
.ba-working { color: #0b57d0; }
.ba-counts-row { display: flex; gap: 12px; margin: 6px 0; }
.ba-count { border: 1px solid #d9dde3; border-radius: 8px; padding: 8px 16px; min-width: 110px; background: #fafbfc; }
.ba-count-value { font-size: 22px; font-weight: 700; }
.ba-count-label { font-size: 12px; color: #555; }
.ba-count-valid .ba-count-value, .ba-count-inserted .ba-count-value, .ba-count-updated .ba-count-value { color: #1b6e2e; }
.ba-count-errors .ba-count-value, .ba-count-failed .ba-count-value { color: #b00020; }
.ba-count-detail { font-size: 13px; color: #555; }
.ba-badge { font-size: 12px; background: #eef0f3; border-radius: 10px; padding: 2px 8px; font-weight: normal; }
.ba-edit-status { min-height: 22px; font-size: 13px; }
.ba-edit-insert, .ba-edit-update, .ba-edit-no-change { color: #1b6e2e; }
.ba-edit-error { color: #b00020; }
.ba-edit-unsaved { color: #7a5a00; font-weight: 600; }
.ba-file-issue-list { background: #fff4d6; border-radius: 6px; padding: 6px 12px; font-size: 13px; }
.ba-table { border-collapse: collapse; margin: 6px 0; font-size: 14px; }
.ba-table th, .ba-table td { border: 1px solid #d9dde3; padding: 4px 12px; text-align: left; }
.ba-table th { background: #f3f5f8; }
.ba-link { display: inline-block; padding: 5px 12px; border-radius: 4px; background: #1b6e2e; color: white !important;
  text-decoration: none; margin: 0 6px; }
.ba-final-status { font-size: 15px; margin: 8px 0; }
.ba-status-Committed { color: #1b6e2e; }
.ba-status-CommitFailed, .ba-status-ValidationFailed { color: #b00020; }
.ba-progress-text { font-size: 14px; }
.ba-changes-table td.ba-change { font-family: monospace; }
.ba-old { text-decoration: line-through; color: #9c0006; background: #fde8ea; padding: 0 3px; }
.ba-new { text-decoration: none; color: #1b4b1f; background: #c6efce; font-weight: 600; padding: 0 3px; }
.ba-kept-value { color: #333; padding: 0 3px; }
.ba-kept { color: #777; font-style: italic; margin-left: 6px; }
.ba-empty { color: #999; font-style: italic; }
.ba-map-row { border-bottom: 1px solid #e3e3e3; align-items: center; padding: 2px 4px; }
.ba-map-header { border-bottom: 2px solid #c4c4c4; padding: 2px 4px; }
.ba-map-unmapped { background: #fde7e9; border-left: 4px solid #b00020; }
.ba-map-unmapped-label { color: #b00020; font-weight: 600; }
.ba-map-samples { color: #555; font-family: monospace; font-size: 12px; }
.ba-map-confidence { color: #1b4d1b; }
.ba-map-unmapped-count { color: #7a0010; margin: 4px 0; }
.ba-map-saved, .ba-map-complete, .ba-mapping-note { color: #1b4d1b; margin: 4px 0; }
.ba-map-partial { color: #5c4300; margin: 4px 0; }
.ba-start-window { border: 1px solid #9dbcf5; border-radius: 8px; padding: 8px 14px; margin: 8px 0;
  background: #f7faff; max-width: 720px; }
.ba-apply-all { margin: 6px 0; }
.ba-apply-item { align-items: center; }
</style>
"""
