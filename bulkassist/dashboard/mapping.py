"""Map Fields (seed 001 step 3) and the Start Import window (seed 001 steps 4-5), for the wizard and history.

Map Fields pairs every column of the file (Import Field) with a Target Field of the domain, a `Custom.<NAME>`
field where the domain has custom fields, or "Do not import"; the server proposes each (saved mapping, exact
name, alias, fuzzy, values) with a confidence. A column the server could not map is highlighted and must be
given a target or "Do not import" before the import can go on: no column is dropped silently.

The Start Import window holds the options a domain lets the user choose when the job starts (for cases: Run
Workflow on Import and Duplicate Case Action). Cancel keeps the job, Validated, with its mapping; Import
History's Start Import shows the same window later.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from bulkassist.spec import Domain

DO_NOT_IMPORT = "-"  # the server's "Do not import" (bulkassist.engine.mapping.DO_NOT_IMPORT)
CHOOSE = ""  # no target chosen yet
CUSTOM = "custom:"  # "Custom field…": the name is typed next to the dropdown
# Methods that need no decision: the header is the field's name or alias, or the organisation saved it.
AUTOMATIC = frozenset({"saved", "manual", "exact", "alias", "normalised"})
METHOD_LABELS = {"saved": "saved mapping", "manual": "chosen", "exact": "exact name", "alias": "known alias",
                 "normalised": "same name", "fuzzy": "similar name", "values": "from the values"}


def needs_decision(answer: dict[str, Any]) -> bool:
    """The mapping must be looked at by a person: a column is unmapped, or was matched by a guess (a similar
    header, the column's values) rather than by name, alias or the organisation's saved mapping."""
    return not answer["complete"] or any(c["target"] is not None and c["method"] not in AUTOMATIC
                                         for c in answer["columns"])


def automatic_note(answer: dict[str, Any], domain_title: str) -> str:
    """What the Review says when the Map Fields step was passed through: how every column was mapped."""
    skipped = [c["column"] for c in answer["columns"] if c["target"] == DO_NOT_IMPORT]
    not_imported = (f" Not imported: {html.escape(', '.join(skipped))}." if skipped else "")
    if answer.get("saved_mapping"):
        how = f"All columns were mapped with your saved mapping “{html.escape(answer['saved_mapping'])}”."
    else:
        how = f"All columns matched the fields of {html.escape(domain_title)}."
    return f'<div class="ba-mapping-note">{how}{not_imported}</div>'


def _confidence(column: dict[str, Any], unmapped: bool) -> str:
    if column["target"] is None:
        return '<span class="ba-map-unmapped-label">Not mapped: choose a Target Field or “Do not import”</span>'
    method = METHOD_LABELS.get(column["method"] or "", column["method"] or "")
    confidence = column.get("confidence")
    percent = f"{round(100 * confidence)}% · " if isinstance(confidence, int | float) else ""
    confirm = " — proposed: confirm or change it" if unmapped else ""
    return f'<span class="ba-map-confidence">{percent}{html.escape(method)}{confirm}</span>'


class MapFields(widgets.VBox):
    """The Map Fields table of one import: Import Field | sample values | Target Field | confidence."""

    def __init__(self) -> None:
        self.domain: Domain | None = None
        self.answer: dict[str, Any] = {}
        self._targets: dict[str, widgets.Dropdown] = {}
        self._custom_names: dict[str, widgets.Text] = {}
        self._rows: dict[str, widgets.HBox] = {}
        self._laid_out = True
        self.heading = widgets.HTML()
        self.heading.add_class("ba-map-heading")
        self.table = widgets.VBox()
        self.table.add_class("ba-map-table")
        self.save = widgets.Checkbox(value=False, description="Save mapping", indent=False,
                                     layout=widgets.Layout(width="auto"))
        self.save.add_class("ba-map-save")
        self.name = widgets.Text(placeholder="Name of the saved mapping", layout=widgets.Layout(width="320px"))
        self.name.add_class("ba-map-name")
        save_row = widgets.HBox([self.save, self.name])
        save_row.add_class("ba-map-save-row")
        hint = widgets.HTML('<div class="ba-hint">A saved mapping is used for the next file with the same '
                            "headers, in any order, for everyone in your organisation.</div>")
        super().__init__([self.heading, self.table, save_row, hint])
        self.add_class("ba-map-fields")

    def show(self, answer: dict[str, Any], domain: Domain) -> None:
        """Take the server's mapping answer (`Import.mapping_answer()`). Its rows (some 30 widgets a column) are
        laid out at once when it needs a decision, else only when first looked at (`lay_out`): a file mapped
        automatically goes straight to the Review without them."""
        self.domain, self.answer = domain, answer
        self._laid_out = False
        self.table.children = []
        self.save.value = False
        self.name.value = answer.get("saved_mapping") or ""
        self.heading.value = self._heading()
        if needs_decision(answer):
            self.lay_out()

    def lay_out(self) -> None:
        """The table's rows for the answer last shown (once per answer)."""
        if self._laid_out:
            return
        self._laid_out = True
        self._targets, self._custom_names, self._rows = {}, {}, {}
        header = widgets.HBox([widgets.HTML(f"<b>{t}</b>", layout=widgets.Layout(width=w)) for t, w in (
            ("Import Field", "200px"), ("Sample values", "280px"), ("Target Field", "420px"),
            ("Confidence", "260px"))])
        header.add_class("ba-map-header")
        lines = [header]
        for column in self.answer["columns"]:
            lines.append(self._row(column))
        self.table.children = lines

    @property
    def targets(self) -> dict[str, widgets.Dropdown]:
        """The Target Field dropdown of each column."""
        self.lay_out()
        return self._targets

    @property
    def rows(self) -> dict[str, widgets.HBox]:
        """The table's row of each column."""
        self.lay_out()
        return self._rows

    @property
    def custom_names(self) -> dict[str, widgets.Text]:
        """The custom field name box of each column (shown when its target is a custom field)."""
        self.lay_out()
        return self._custom_names

    def _heading(self) -> str:
        unmapped = self.answer.get("unmapped") or []
        text = ""
        if self.answer.get("saved_mapping"):
            text += (f'<div class="ba-map-saved">Mapped with your saved mapping '
                     f"“{html.escape(self.answer['saved_mapping'])}”.</div>")
        partial = self.answer.get("partial")
        if partial:
            text += (f'<div class="ba-map-partial">Your saved mapping “{html.escape(partial["name"])}” fits in part: '
                     f"this file has no {html.escape(', '.join(partial['missing']))}.</div>")
        if unmapped:
            text += (f'<div class="ba-map-unmapped-count"><b>{len(unmapped)} column(s) are not mapped:</b> '
                     f"{html.escape(', '.join(unmapped))}. Choose a Target Field for each, or “Do not import”; "
                     "the import cannot go on until every column has one.</div>")
        else:
            text += '<div class="ba-map-complete">Every column has a Target Field. Check them, then Continue.</div>'
        return text

    def _options(self, current: str | None) -> list[tuple[str, str]]:
        assert self.domain is not None
        options = [("— choose a Target Field —", CHOOSE)] + [(f.name, f.name) for f in self.domain.fields]
        prefix = self.domain.custom_prefix
        if prefix:
            if current and current.startswith(prefix):
                options.append((current, current))
            options.append((f"Custom field ({prefix}NAME)…", CUSTOM))
        options.append(("Do not import", DO_NOT_IMPORT))
        return options

    def _row(self, column: dict[str, Any]) -> widgets.HBox:
        name, target = column["column"], column["target"]
        unmapped = set(self.answer.get("unmapped") or [])
        samples = ", ".join(s for s in column.get("samples") or [] if s not in (None, ""))
        dropdown = widgets.Dropdown(options=self._options(target), value=target or CHOOSE,
                                    layout=widgets.Layout(width="250px"))
        dropdown.add_class("ba-map-target")
        custom = widgets.Text(placeholder="NAME", layout=widgets.Layout(width="150px", display="none"))
        custom.add_class("ba-map-custom")

        def changed(_: object = None, dropdown: widgets.Dropdown = dropdown, custom: widgets.Text = custom) -> None:
            custom.layout.display = None if dropdown.value == CUSTOM else "none"
        dropdown.observe(changed, "value")
        row = widgets.HBox([
            widgets.HTML(f'<span class="ba-map-column">{html.escape(name)}</span>',
                         layout=widgets.Layout(width="200px")),
            widgets.HTML(f'<span class="ba-map-samples">{html.escape(samples)}</span>',
                         layout=widgets.Layout(width="280px")),
            widgets.HBox([dropdown, custom], layout=widgets.Layout(width="420px")),
            widgets.HTML(_confidence(column, name in unmapped), layout=widgets.Layout(width="260px")),
        ])
        row.add_class("ba-map-row")
        if name in unmapped:  # no target, or only a guess (similar header, values) not confirmed yet
            row.add_class("ba-map-unmapped")
        self._targets[name], self._custom_names[name], self._rows[name] = dropdown, custom, row
        return row

    def chosen(self) -> dict[str, str]:
        """Every column's chosen target (CHOOSE where none is chosen yet)."""
        assert self.domain is not None
        out = {}
        for name, dropdown in self.targets.items():
            value = dropdown.value
            if value == CUSTOM:
                typed = self.custom_names[name].value.strip()
                value = f"{self.domain.custom_prefix}{typed}" if typed else CHOOSE
            out[name] = value
        return out

    def changes(self) -> dict[str, str]:
        """What Continue sends (`PUT .../mapping`): the targets that differ from the server's answer, and the
        proposals for columns still unmapped (a guess counts once the person has seen and kept it)."""
        proposed = {c["column"]: c["target"] for c in self.answer["columns"]}
        unmapped = set(self.answer.get("unmapped") or [])
        return {k: v for k, v in self.chosen().items() if v != CHOOSE and (v != proposed.get(k) or k in unmapped)}

    def missing(self) -> list[str]:
        return [k for k, v in self.chosen().items() if v == CHOOSE]


class StartImportWindow(widgets.VBox):
    """Seed 001's Start Import Job window: the domain's start options, Start Import and Cancel.

    Changing an option sends it to the server at once (`Import.set_options`, which revalidates), so the counts
    shown are the ones the commit will use; Cancel leaves the job Validated with its mapping."""

    def __init__(self, notice: Any, on_start: Callable[[Any], None], on_cancel: Callable[[Any], None],
                 css_class: str = "ba-start-window"):
        self.notice = notice
        self.imp: Any = None
        self._on_start, self._on_cancel = on_start, on_cancel
        self.fields: dict[str, widgets.ValueWidget] = {}
        self._loading = False
        self.title = widgets.HTML()
        self.facts = widgets.HTML()
        self.facts.add_class("ba-start-facts")
        self.options_box = widgets.VBox()
        self.start_button = widgets.Button(description="▶ Start Import", button_style="success")
        self.start_button.add_class("ba-start-import")
        self.start_button.on_click(self._start)
        self.cancel_button = widgets.Button(description="Cancel")
        self.cancel_button.add_class("ba-start-cancel")
        self.cancel_button.on_click(self._cancel)
        super().__init__([self.title, self.facts, self.options_box,
                          widgets.HBox([self.start_button, self.cancel_button])])
        self.add_class("ba-start-window")
        self.add_class(css_class)

    def show(self, imp: Any, domain: Domain, facts: str = "") -> None:
        """The window for `imp` (an `Import`), its options as the server holds them."""
        self.imp = imp
        self.title.value = (f"<h3>Start Import Job</h3><div class='ba-hint'>Import {imp.id} · "
                            f"{html.escape(str(imp.info.get('file_name', '')))} · {html.escape(domain.title)}</div>")
        self.facts.value = facts
        current = imp.info.get("options") or {}
        self.fields = {}
        described = []
        self._loading = True
        try:
            for option in domain.options_for(imp.info["operation"]):
                value = current.get(option.name, option.default)
                if option.kind == "choice":
                    widget = widgets.Dropdown(options=[(label, v) for v, label in option.choices], value=value,
                                              description=option.label, style={"description_width": "initial"})
                else:
                    widget = widgets.Checkbox(value=bool(value), description=option.label, indent=False)
                widget.add_class(f"ba-start-{option.name}")
                widget.observe(self._changed, "value")
                self.fields[option.name] = widget
                described.append(widgets.VBox([widget, widgets.HTML(
                    f'<div class="ba-hint">{html.escape(option.description)}</div>')]))
        finally:
            self._loading = False
        self.options_box.children = described
        self.start_button.disabled = False
        self.layout.display = None

    @property
    def options(self) -> dict[str, Any]:
        return {name: widget.value for name, widget in self.fields.items()}

    def _changed(self, _: object) -> None:
        if self._loading or self.imp is None:
            return
        with self.notice.guard():
            self.imp.set_options(**self.options)
            self.facts.value = start_facts_html(self.imp.info)
            self.notice.clear()

    def _start(self, _: object) -> None:
        if self.imp is None:
            return
        with self.notice.guard():
            if self.options != {k: (self.imp.info.get("options") or {}).get(k, v) for k, v in self.options.items()}:
                self.imp.set_options(**self.options)
            self.start_button.disabled = True
            self._on_start(self.imp)

    def _cancel(self, _: object) -> None:
        if self.imp is not None:
            self._on_cancel(self.imp)


def start_facts_html(info: dict[str, Any]) -> str:
    """The counts the Start Import window shows: rows to import, rows with errors, rows skipped."""
    summary = info.get("summary") or {}
    return (f'<div class="ba-start-counts">{summary.get("valid", 0):,} row(s) to import · '
            f'{summary.get("errors", 0):,} with errors (not imported) · '
            f'{summary.get("skipped", 0):,} skipped</div>')
