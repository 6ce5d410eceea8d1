"""The New Import wizard: the steps of seed 000 with seed 001's Map Fields, one page each.

1 Select Domain → 2 Download Template → 3 Upload File → 4 Map Fields → 5 Review Results →
6 Confirm Import (for cases, seed 001's Start Import Job window) → 7 Progress and results.
Map Fields is passed straight through, and the Review says so, when every column was matched by name,
alias or the organisation's saved mapping; a column that needs a decision stops there. The wizard holds the user's
choices, file and import; a server error shows in the banner and leaves all
of them in place, so the user can retry without uploading or editing again.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

from bulkassist.dashboard.downloads import DownloadLink
from bulkassist.dashboard.dropzone import FileDrop
from bulkassist.dashboard.mapping import (
    MapFields,
    StartImportWindow,
    automatic_note,
    needs_decision,
    start_facts_html,
)
from bulkassist.dashboard.notices import Notice
from bulkassist.dashboard.review import ReviewStep, count_tiles
from bulkassist.dashboard.review_data import ReviewData
from bulkassist.errors import FileFormatError, InvalidRequest
from bulkassist.io.reading import read_table, sheet_names
from bulkassist.spec import OPERATION_LABELS, Domain

STEPS = ("Select Domain", "Download Template", "Upload File", "Map Fields", "Review Results", "Confirm Import",
         "Import")
UPLOAD, MAP, REVIEW, CONFIRM, PROGRESS = 2, 3, 4, 5, 6
# Domains whose Confirm step is seed 001's Start Import Job window (its options, Start Import, Cancel).
START_WINDOW_DOMAINS = frozenset({"case"})
# "" means detect (a Dropdown cannot show an option whose value is None).
SEPARATORS = (("Detect automatically", ""), ("Comma ,", ","), ("Semicolon ;", ";"), ("Tab", "\t"),
              ("Pipe |", "|"))
# Largest file the browser will send when the domain sets no limit of its own.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MIN_COURSE_SEARCH = 2
OUTCOME = (("inserted", "Records Inserted"), ("updated", "Records Updated"), ("failed", "Records Failed"))


def _button(description: str, css_class: str, on_click: Callable[[Any], None], **kwargs: Any) -> widgets.Button:
    button = widgets.Button(description=description, _dom_classes=(css_class,), **kwargs)
    button.on_click(on_click)
    return button


def _page(title: str, css_class: str, *children: widgets.Widget) -> widgets.VBox:
    return widgets.VBox([widgets.HTML(f"<h2>{html.escape(title)}</h2>"), *children],
                        _dom_classes=("ba-step", css_class))


def file_size(size: int) -> str:
    """A file size as a person reads it: exact below 1 KB ("512 bytes"), then "740 KB", "17.6 MB"."""
    if size < 1024:
        return f"{size:,} byte{'s' if size != 1 else ''}"
    if size < 1024 * 1024:
        return f"{round(size / 1024):,} KB"
    return f"{size / 1024 / 1024:,.1f} MB"


class Wizard(widgets.VBox):
    """The New Import tab."""

    def __init__(self, client: Any, notice: Notice, on_history: Callable[[], None]):
        self.client = client
        self.notice = notice
        self._on_history = on_history
        self.domain: Domain | None = None
        self.file_name: str | None = None
        self.content: bytes | None = None
        self.table: Any = None
        self.imp: Any = None
        self._imported_key: tuple | None = None

        # Classes given to a constructor go to the browser with the widget; `add_class` is one message more.
        self.steps = widgets.HTML(_dom_classes=("ba-steps",))
        # Only Select Domain at sign-in: each widget is a message to the browser and a model it builds, and
        # the other six pages are four times as many widgets. `build()` adds them (hidden) right after the
        # first page is on its way (`App`), so the browser builds the review's grids while the user picks a
        # domain, not after the 100k-row review has arrived (~1 s).
        self.pages = [self._domain_page()]
        self.step = 0
        super().__init__([self.steps, *self.pages], _dom_classes=("ba-wizard",))
        self.go(0)

    def build(self) -> None:
        """Add the pages after Select Domain, hidden (once; every step past the first calls it first)."""
        if len(self.pages) > 1:
            return
        self.review = ReviewStep(self.notice)
        self.pages += [self._template_page(), self._upload_page(), self._map_page(), self._review_page(),
                       self._confirm_page(), self._progress_page()]
        for page in self.pages[1:]:
            page.layout.display = "none"
        self.children = [self.steps, *self.pages]

    # ------------------------------------------------------------ navigation
    def go(self, index: int) -> None:
        if index > 0:
            self.build()
        if index == MAP:
            self.map_fields.lay_out()
        self.step = index
        for i, page in enumerate(self.pages):
            page.layout.display = None if i == index else "none"
        self.steps.value = "".join(
            f'<span class="ba-step-tab{" ba-step-current" if i == index else ""}'
            f'{" ba-step-done" if i < index else ""}">{i + 1} {name}</span>'
            for i, name in enumerate(STEPS)
        )

    def _nav(self, back: int | None, *buttons: widgets.Button) -> widgets.HBox:
        items = list(buttons)
        if back is not None:
            items.insert(0, _button("‹ Back", "ba-back", lambda _: self.go(back)))
        return widgets.HBox(items, _dom_classes=("ba-nav",))

    # ------------------------------------------------------ 1 Select Domain
    def _domain_page(self) -> widgets.VBox:
        self.domain_buttons: dict[str, widgets.Button] = {}
        self.domain_list = widgets.VBox(_dom_classes=("ba-domains",))
        self.domain_description = widgets.HTML()
        self.operation = widgets.ToggleButtons(options=[], description="Operation", _dom_classes=("ba-operation",),
                                               layout=widgets.Layout(display="none"))  # until a domain is chosen
        self.operation.observe(lambda _: self._show_options(), "value")
        self.options_box = widgets.VBox(_dom_classes=("ba-options",))
        self.option_widgets: dict[str, widgets.ValueWidget] = {}
        self.domain_next = _button("Next ›", "ba-next-domain", lambda _: self.go(1), button_style="primary",
                                   disabled=True)
        return _page(
            "Step 1: Select Domain", "ba-step-domain",
            widgets.HTML("Choose the type of data you want to import:"),
            self.domain_list, self.domain_description, self.operation, self.options_box,
            self._nav(None, self.domain_next),
        )

    def load_domains(self) -> dict[str, Any]:
        """Ask the server which domains exist and which this user may import; the rest show as unavailable.

        Returns who the server says the user is (`Client.me()`).
        """
        me = self.client.me()
        rows = []
        # Every row is sent to the browser when the user signs in, before the wizard shows: its widgets share one
        # layout and style per kind (none changes them) instead of one model each, and get their classes in the
        # constructor.
        button_layout, note_layout, row_layout = widgets.Layout(width="220px"), widgets.Layout(), widgets.Layout()
        button_style, note_style = widgets.ButtonStyle(), HTMLStyle()
        for info in self.client.domains():
            reason = unavailable_reason(info, me)
            button = widgets.Button(
                description=info.get("title") or info["name"], disabled=bool(reason),
                tooltip=reason or info.get("description", ""), layout=button_layout, style=button_style,
                _dom_classes=("ba-domain", f"ba-domain-{info['name']}"),
            )
            button.on_click(lambda _, name=info["name"]: self.choose_domain(name))
            self.domain_buttons[info["name"]] = button
            note = (f'<span class="ba-unavailable">Unavailable: {html.escape(reason)}</span>' if reason else
                    f'<span class="ba-domain-note">{html.escape(info.get("description", ""))}</span>')
            row = widgets.HBox([button, widgets.HTML(note, layout=note_layout, style=note_style)],
                               layout=row_layout, _dom_classes=("ba-domain-row",))
            rows.append(row)
        self.domain_list.children = rows
        if not me.get("licensed", True):
            self.notice.show(f"Bulk Data Import is not licensed for {me.get('organisation')}. "
                             "Submit a support ticket to have it enabled.", "error",
                             "Bulk Data Import is not licensed")
        elif not any(not b.disabled for b in self.domain_buttons.values()):
            self.notice.show(f"{me.get('user')} may not import any domain. Ask an administrator to add you to a "
                             "permission group that allows Bulk Data Import.", "error", "Permission denied")
        return me

    def choose_domain(self, name: str) -> None:
        with self.notice.guard():
            self.build()  # the choice sets up the template and upload pages
            self.domain = self.client.domain(name)
            for key, button in self.domain_buttons.items():
                button.button_style = "info" if key == name else ""
                (button.add_class if key == name else button.remove_class)("ba-selected")
            self.domain_description.value = f'<div class="ba-hint">{html.escape(self.domain.description)}</div>'
            self.operation.options = [(OPERATION_LABELS[op], op) for op in self.domain.operations]
            self.operation.layout.display = None
            self.operation.value = self.domain.operations[0]
            self._show_options()
            self.drop.max_bytes = self.domain.max_file_bytes or MAX_UPLOAD_BYTES
            self.drop.hint = f"CSV or XLSX, up to {file_size(self.drop.max_bytes)}"
            self.separator.value = ""
            self.template_kind.disabled = False
            self.domain_next.disabled = False
            self._imported_key = None

    def _show_options(self) -> None:
        if self.domain is None or self.operation.value is None:
            return
        self.option_widgets = {}
        described = []
        for option in self.domain.options_for(self.operation.value):
            if option.kind == "choice":
                widget = widgets.Dropdown(options=[(label, value) for value, label in option.choices],
                                          value=option.default, description=option.label,
                                          style={"description_width": "initial"})
            else:
                widget = widgets.Checkbox(value=bool(option.default), description=option.label,
                                          indent=False)
            widget.add_class(f"ba-option-{option.name}")
            self.option_widgets[option.name] = widget
            note = widgets.HTML(f'<div class="ba-hint">{html.escape(option.description)}</div>')
            described.append(widgets.VBox([widget, note]))
        self.options_box.children = [widgets.HTML("<h4>Options</h4>"), *described] if described else []

    @property
    def options(self) -> dict[str, Any]:
        return {name: widget.value for name, widget in self.option_widgets.items()}

    # ------------------------------------------------- 2 Download Template
    def _template_page(self) -> widgets.VBox:
        self.template_kind = widgets.RadioButtons(
            options=[("Blank Template — column headers only, for new records", "blank"),
                     ("Pre-filled Template — existing client data from a course, for updates", "course")],
            value="blank", layout=widgets.Layout(width="auto"))
        self.template_kind.add_class("ba-template-kind")
        self.course_search = widgets.Text(placeholder="Course Code (at least 2 characters)",
                                          description="Course Code", continuous_update=True)
        self.course_search.add_class("ba-course-search")
        self.course_results = widgets.Select(options=[], rows=6, layout=widgets.Layout(width="480px"))
        self.course_results.add_class("ba-course-results")
        self.course_hint = widgets.HTML()
        self.course_hint.add_class("ba-course-hint")
        self.course_box = widgets.VBox([self.course_search, self.course_hint, self.course_results])
        self.course_box.layout.display = "none"
        self.template_kind.observe(self._on_template_kind, "value")
        self.course_search.observe(lambda change: self.search_courses(change["new"]), "value")
        self.template_format = widgets.Dropdown(options=[("Excel (.xlsx)", "xlsx"), ("CSV (.csv)", "csv")],
                                                value="xlsx", description="Format")
        self.template_format.add_class("ba-template-format")
        self.template_link = DownloadLink("ba-template-download")
        self.template_button = _button("Download Template", "ba-template-button", self._download_template,
                                       layout=widgets.Layout(width="auto"))
        return _page(
            "Step 2: Download Template", "ba-step-template",
            widgets.HTML("Choose one of the following template options."),
            self.template_kind, self.course_box, self.template_format,
            widgets.HBox([self.template_button, self.template_link]),
            widgets.HTML('<div class="ba-hint">If you already have a properly formatted file, '
                         "this step may be skipped.</div>"),
            self._nav(0, _button("Next ›", "ba-next-template", lambda _: self.go(2), button_style="primary")),
        )

    def _on_template_kind(self, change: dict) -> None:
        self.course_box.layout.display = None if change["new"] == "course" else "none"

    def search_courses(self, text: str) -> None:
        """Course Code search: results appear from the second character typed."""
        text = text.strip()
        if len(text) < MIN_COURSE_SEARCH:
            self.course_results.options = []
            self.course_hint.value = f'<span class="ba-hint">Type at least {MIN_COURSE_SEARCH} characters.</span>'
            return
        with self.notice.guard():
            courses = self.client.courses(text)
            self.course_results.options = [
                (f"{c['code']} — {c.get('title') or c.get('name') or ''}".rstrip(" —"), c["code"]) for c in courses
            ]
            self.course_hint.value = f'<span class="ba-hint">{len(courses)} course(s) match “{html.escape(text)}”.</span>'

    def _download_template(self, _: object) -> None:
        if self.domain is None:
            return
        course = self.course_results.value if self.template_kind.value == "course" else None
        if self.template_kind.value == "course" and not course:
            self.notice.show("Search for a Course Code and pick a course first.", "warning")
            return
        with self.notice.guard():
            fmt = self.template_format.value
            content = self.client.template(self.domain.name, course_code=course, fmt=fmt)
            suffix = f"-{course}" if course else ""
            self.template_link.offer(content, f"{self.domain.name}-template{suffix}.{fmt}",
                                     f"Save {self.domain.title} template{suffix}.{fmt}")
            self.notice.clear()

    # ------------------------------------------------------ 3 Upload File
    def _upload_page(self) -> widgets.VBox:
        self.drop = FileDrop(on_file=self.receive_file, on_too_large=self._too_large,
                             on_reading=self._reading, max_bytes=MAX_UPLOAD_BYTES)
        self.file_label = widgets.HTML('<span class="ba-hint">No file chosen yet.</span>')
        self.file_label.add_class("ba-file-name")
        self.separator = widgets.Dropdown(options=SEPARATORS, value="", description="Separator",
                                          style={"description_width": "initial"})
        self.separator.add_class("ba-separator")
        self.sheet = widgets.Dropdown(options=[], description="Sheet", style={"description_width": "initial"},
                                      layout=widgets.Layout(width="420px"))
        self.sheet.add_class("ba-sheet")
        self.sheet.observe(self._on_sheet, "value")
        self.sheet_box = widgets.VBox([widgets.HTML(), self.sheet])
        self.sheet_box.add_class("ba-sheet-picker")
        self.sheet_box.layout.display = "none"
        self.review_button = _button("Review Results ›", "ba-review-button", self._start_review,
                                     button_style="primary", disabled=True)
        self.upload_status = widgets.HTML()
        self.upload_status.add_class("ba-upload-status")
        return _page(
            "Step 3: Upload File", "ba-step-upload",
            widgets.HTML("Upload your completed file by dragging and dropping it into the area, "
                         "or click Browse Files."),
            self.drop, self.file_label, self.sheet_box, self.separator, self.upload_status,
            self._nav(1, self.review_button),
        )

    def _reading(self, name: str, size: int) -> None:
        self.upload_status.value = f'<span class="ba-hint">Receiving {html.escape(name)} ({file_size(size)})…</span>'

    def _uploading(self, done: int, total: int) -> None:
        text = (f"Sending rows to the server: {done:,} of {total:,}…" if done < total else
                f"Validating {total:,} rows on the server…")
        self.upload_status.value = f'<span class="ba-working">{text}</span>'

    def _too_large(self, name: str, size: int) -> None:
        self.notice.show(
            f"{name} is {file_size(size)}; files for this import can be at most "
            f"{file_size(self.drop.max_bytes)}. Split the file, or remove columns you do not import.",
            "error", "File too large")
        self.upload_status.value = ""

    def receive_file(self, name: str, content: bytes) -> None:
        """A file arrived from the drop area: keep it and show its name below the area."""
        self.file_name, self.content = name, content
        self._imported_key = None
        self.notice.clear()
        self.upload_status.value = ""
        self.file_label.value = (f'<span class="ba-file-chosen">File: <b>{html.escape(name)}</b> '
                                 f"({file_size(len(content))})</span>")
        self._offer_sheets(name, content)

    def _offer_sheets(self, name: str, content: bytes) -> None:
        """A workbook of several sheets: the person picks the one to import (none is taken silently)."""
        try:
            sheets = sheet_names(content, name)
        except FileFormatError:
            sheets = []  # Review Results reads the file and says what is wrong with it
        self.separator.layout.display = "none" if sheets else None  # a workbook has no separator to choose
        if len(sheets) < 2:
            self.sheet.options = []
            self.sheet_box.layout.display = "none"
            self.review_button.disabled = False
            return
        self.sheet_box.children[0].value = (
            f'<div class="ba-sheet-question">{html.escape(name)} has {len(sheets)} sheets: choose the one to '
            "import.</div>")
        self.sheet.options = [("Choose a sheet…", ""), *[(sheet, sheet) for sheet in sheets]]
        self.sheet.value = ""
        self.sheet_box.layout.display = None
        self.review_button.disabled = True

    def _on_sheet(self, change: dict) -> None:
        if self.sheet.options:
            self.review_button.disabled = not change["new"]

    def _start_review(self, _: object) -> None:
        """Read the file, start the import (upload + server validation) and show its review.

        Coming back to this step with the same file and choices returns to the same
        import, with the edits already made there.
        """
        if self.domain is None or self.content is None or (self.sheet.options and not self.sheet.value):
            return
        sheet = self.sheet.value or None
        key = (self.domain.name, self.operation.value, tuple(sorted(self.options.items())),
               self.separator.value, self.file_name, len(self.content), sheet)
        if self.imp is not None and key == self._imported_key:
            self.go(MAP if self.map_fields.answer and needs_decision(self.map_fields.answer) else REVIEW)
            return
        with self.notice.guard():
            self.review_button.disabled = True
            self.upload_status.value = '<span class="ba-working">Reading and validating on the server…</span>'
            try:
                separator = self.separator.value or None
                self.table = read_table(self.content, separator=separator, name=self.file_name, sheet=sheet)
                self.imp = self.client.start_import(
                    self.table, self.domain.name, self.operation.value, options=self.options,
                    name=self.file_name, separator=separator, progress=self._uploading)
                self._imported_key = key
                answer = self.imp.mapping_answer()
                self.map_fields.show(answer, self.picked)
                self.notice.clear()
                if needs_decision(answer):
                    self.go(MAP)
                else:  # every column matched by name, alias or a saved mapping: say so on the Review
                    self._show_review(automatic_note(answer, self.domain.title))
            finally:
                self.review_button.disabled = False
                self.upload_status.value = ""

    # ------------------------------------------------------- 4 Map Fields
    def _map_page(self) -> widgets.VBox:
        self.map_fields = MapFields()
        self.map_button = _button("Continue ›", "ba-map-continue", self.apply_mapping, button_style="primary")
        return _page(
            "Step 4: Map Fields", "ba-step-map",
            widgets.HTML("Each column of your file (Import Field) is paired with a field of the import (Target "
                         "Field). Check each one; columns highlighted in red need a Target Field or "
                         "“Do not import”."),
            self.map_fields, self._nav(UPLOAD, self.map_button),
        )

    def apply_mapping(self, _: object = None) -> None:
        """Continue: send the chosen targets (one revalidation on the server), then show the Review."""
        missing = self.map_fields.missing()
        if missing:
            self.notice.show(f"Choose a Target Field, or “Do not import”, for {', '.join(missing)}: a column is "
                             "never left out without your say.", "warning", "Columns not mapped")
            return
        changes = self.map_fields.changes()
        save = self.map_fields.save.value
        name = self.map_fields.name.value.strip() or None
        with self.notice.guard():
            answer = (self.imp.set_mapping(changes, save=save, name=name) if changes or save
                      else self.imp.mapping_answer())
            self.map_fields.show(answer, self.picked)
            if not answer["complete"]:
                self.notice.show(f"Still not mapped: {', '.join(answer['unmapped'])}.", "warning",
                                 "Columns not mapped")
                return
            self.notice.clear()
            note = (f"Mapping saved as “{html.escape(answer['saved_mapping'])}” for your organisation."
                    if save and answer.get("saved_mapping") else "Mapping applied.")
            self._show_review(f'<div class="ba-mapping-note">{note}</div>')

    def _show_review(self, note: str) -> None:
        self.mapping_note.value = note
        self.review.show(self.imp, ReviewData.from_review(
            self.table.headers, self.table.frame, self.imp.review(), first_row=self.table.first_row))
        self.go(REVIEW)

    # --------------------------------------------------- 5 Review Results
    def _review_page(self) -> widgets.VBox:
        self.continue_button = _button("Continue ›", "ba-continue", self._confirm, button_style="primary")
        self.mapping_note = widgets.HTML()
        self.mapping_note.add_class("ba-mapping-status")
        change = _button("Change mapping", "ba-change-mapping", lambda _: self.go(MAP),
                         layout=widgets.Layout(width="auto"))
        return _page(
            "Step 5: Review Results", "ba-step-review",
            widgets.HBox([self.mapping_note, change]),
            self.review,
            widgets.HTML('<div class="ba-hint">Rows that fail validation are not imported; '
                         "valid rows are processed even when other rows contain errors.</div>"),
            self._nav(MAP, self.continue_button),
        )

    # --------------------------------------------------- 6 Confirm Import
    def _confirm_page(self) -> widgets.VBox:
        self.confirmation = widgets.HTML()
        self.confirmation.add_class("ba-confirmation")
        self.confirm_button = _button("Confirm & Import", "ba-confirm", self._commit, button_style="success")
        self.start_window = StartImportWindow(self.notice, on_start=lambda _: self._commit(None),
                                              on_cancel=self._keep_for_later)
        self.start_window.layout.display = "none"
        return _page("Step 6: Confirm Import", "ba-step-confirm", self.confirmation, self.start_window,
                     self._nav(REVIEW, self.confirm_button))

    def _keep_for_later(self, imp: Any) -> None:
        """Cancel in the Start Import window: the job stays Validated with its mapping, for Import History."""
        self.reset()
        self.notice.show(f"Import {imp.id} was not started; it is kept, Validated, with its mapping. Start it "
                         "later from Import History: choose it and press Start Import.", "info", "Import kept")
        self._on_history()

    def _confirm(self, _: object) -> None:
        if self.review.pending:
            self.notice.show(f"{len(self.review.pending)} edit(s) are not saved on the server yet: press "
                             "“Save unsaved edits” first.", "warning", "Unsaved edits")
            return
        unmapped = (self.imp.refresh().info.get("unmapped") or []) if self.imp is not None else []
        if unmapped:
            self.notice.show(f"{', '.join(unmapped)}: not mapped. Go back to Map Fields and choose a Target Field "
                             "or “Do not import” for each; the import cannot be confirmed before.", "warning",
                             "Columns not mapped")
            return
        summary = self.review.data.summary if self.review.data is not None else {}
        if not summary or (summary["valid"] == 0 and not summary.get("no_change")):
            self.notice.show("No row can be imported yet: fix at least one row above, or go back and upload "
                             "a corrected file.", "warning", "Nothing to import")
            return
        with self.notice.guard():
            self.confirmation.value = confirmation_html(self.imp.confirm())
            self.confirm_button.disabled = False
            windowed = self.domain is not None and self.domain.name in START_WINDOW_DOMAINS
            self.confirm_button.layout.display = "none" if windowed else None
            self.start_window.layout.display = None if windowed else "none"
            if windowed:
                self.start_window.show(self.imp, self.picked, start_facts_html(self.imp.info))
            self.notice.clear()
            self.go(CONFIRM)

    # ------------------------------------------------- 6 Progress, results
    def _progress_page(self) -> widgets.VBox:
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="60%"))
        self.progress.add_class("ba-progress")
        self.progress_label = widgets.HTML()
        self.progress_label.add_class("ba-progress-label")
        self.outcome = widgets.HTML()
        self.outcome.add_class("ba-outcome")
        self.results_link = DownloadLink("ba-download-results")
        self.after_buttons = widgets.HBox([
            self.results_link,
            _button("New Import", "ba-new-import", lambda _: self.reset()),
            _button("Return to History", "ba-return-history", lambda _: self._on_history()),
        ])
        self.after_buttons.add_class("ba-after")
        self.after_buttons.layout.display = "none"
        return _page("Importing", "ba-step-progress", self.progress, self.progress_label, self.outcome,
                     self.after_buttons)

    @property
    def picked(self) -> Domain:
        """The domain chosen in Select Domain, which every later step has."""
        if self.domain is None:
            raise InvalidRequest("choose a domain first (Select Domain)")
        return self.domain

    def _commit(self, _: object) -> None:
        with self.notice.guard():
            self.confirm_button.disabled = True
            try:
                self.imp.commit(wait=False)
            finally:
                self.confirm_button.disabled = False
            self.notice.clear()
            review = self.review.data
            self.progress.value, self.progress.max = 0, max(1, review.summary["valid"] if review is not None else 0)
            self.progress_label.value = "Committing rows…"
            self.outcome.value = ""
            self.after_buttons.layout.display = "none"
            self.results_link.withdraw()
            self.go(PROGRESS)
            threading.Thread(target=self._follow_commit, daemon=True).start()

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.max = max(1, total)
        self.progress.value = done
        percent = 100 * done // max(1, total)
        self.progress_label.value = f'<span class="ba-progress-text">{done:,} of {total:,} rows committed ({percent}%)</span>'

    def _follow_commit(self) -> None:
        """Runs in a thread: poll the server until the commit ends, then show the outcome."""
        with self.notice.guard():
            info = self.imp.wait(progress=self._show_progress)
            self.outcome.value = outcome_html(info)
            self.results_link.offer(self.imp.results_file("csv"), f"import-{self.imp.id}-results.csv",
                                    "Download Results")
        self.after_buttons.layout.display = None

    def reset(self) -> None:
        """New Import: back to step 1 with nothing chosen."""
        self.build()
        self.imp = self.table = self.content = self.file_name = None
        self._imported_key = None
        self.file_label.value = '<span class="ba-hint">No file chosen yet.</span>'
        self.sheet.options = []
        self.sheet_box.layout.display = "none"
        self.review_button.disabled = True
        self.template_link.withdraw()
        self.notice.clear()
        self.go(0)


def unavailable_reason(info: dict[str, Any], me: dict[str, Any]) -> str:
    """Why a domain cannot be chosen ("" when it can), from `/domains` and `/me`."""
    if not info.get("enabled", True):
        return "not enabled for your organisation (it may not be available in all environments)"
    if not me.get("licensed", True):
        return "Bulk Data Import is not licensed for your organisation"
    if not info.get("importable", True):
        return "permission denied: your permission groups do not allow importing this domain"
    return ""


def confirmation_html(info: dict[str, Any]) -> str:
    """Confirm Import: File Name, Rows to Import, Total Rows, Errors Skipped and the Import Usage table."""
    rows = "".join(
        f'<tr class="ba-fact"><th>{label}</th><td>{html.escape(_number(info.get(label)))}</td></tr>'
        for label in ("File Name", "Rows to Import", "Total Rows", "Errors Skipped")
    )
    if info.get("no_change"):
        rows += (f'<tr class="ba-fact ba-fact-no-change"><th>No change (not written)</th>'
                 f'<td>{_number(info["no_change"])}</td></tr>')
    usage = info.get("Import Usage") or {}
    limits = usage.get("limits") or {}
    adding = info.get("Rows to Import") or 0
    usage_rows = "".join(
        f'<tr class="ba-usage-{period}"><th>{label}</th><td>{_number(usage.get(period))}</td>'
        f'<td>{_number(limits.get(period), "no limit")}</td>'
        f'<td>{_number((usage.get(period) or 0) + adding)}</td></tr>'
        for period, label in (("today", "Today"), ("week", "This Week"), ("month", "This Month"))
    )
    return (
        f'<table class="ba-table ba-confirm-facts">{rows}</table>'
        '<h4>Import Usage</h4><table class="ba-table ba-usage"><tr><th></th><th>Used</th><th>Limit</th>'
        f"<th>After this import</th></tr>{usage_rows}</table>"
    )


def outcome_html(info: dict[str, Any]) -> str:
    """Records Inserted / Updated / Failed after a commit, and the import's final status."""
    tiles = count_tiles(info.get("committed") or {}, OUTCOME)
    status = html.escape(str(info.get("status", "")))
    return (f'<div class="ba-final-status">Import {info.get("id")} — <b class="ba-status-{status}">{status}</b></div>'
            f"{tiles}")


def _number(value: Any, missing: str = "—") -> str:
    if value is None:
        return missing
    return f"{value:,}" if isinstance(value, int) else str(value)
