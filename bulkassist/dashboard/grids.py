"""The grids of the Review step (ipydatagrid) and the pager that feeds them one page at a time.

Invalid cells are coloured by one Vega expression evaluated in the browser:
each row carries, in its `Invalid cells` column, the names of its invalid
columns joined by "|", and a cell is painted red when its own column name is
in that list. Sizes are fixed (row height, column widths) so a cell's
position on the canvas is predictable, which is what the browser tests rely
on to double-click a cell.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import pandas as pd
from ipydatagrid import DataGrid, TextRenderer, VegaExpr

from bulkassist.dashboard.review_data import ACCEPT_LABEL, INVALID, STATUS
from bulkassist.status import RowAction

ROW_HEIGHT = 24
HEADER_HEIGHT = 28
ROW_HEADER_WIDTH = 64
COLUMN_WIDTH = 140
NARROW_WIDTH = 80
WIDE_WIDTH = 320
PROBLEM_WIDTH = 560
SCROLLBAR_ALLOWANCE = 26  # room for the horizontal scroll bar of a wide file
ERROR_GRID_HEIGHT, VALID_GRID_HEIGHT, ISSUES_GRID_HEIGHT = 400, 260, 300

INVALID_COLOUR = "#f6b8b8"  # the same red family as the annotated workbook's error fill
FIXED_COLOUR = "#dff3df"
ERROR_TEXT, VALID_TEXT = "#b00020", "#1b6e2e"

_IN_INVALID = (
    f"indexof('|' + cell.metadata.data['{INVALID}'] + '|', '|' + cell.metadata.name + '|') >= 0"
)
_IS_FIXED = f"cell.metadata.data['{STATUS}'] != '{RowAction.ERROR}'"


def cell_renderer() -> TextRenderer:
    """Body cells: red when invalid, green once the row has been fixed, white otherwise."""
    return TextRenderer(
        background_color=VegaExpr(
            f"{_IN_INVALID} ? '{INVALID_COLOUR}' : ({_IS_FIXED} ? '{FIXED_COLOUR}' : 'white')"
        ),
        font="13px sans-serif",
    )


def status_renderer() -> TextRenderer:
    return TextRenderer(
        text_color=VegaExpr(f"cell.value == '{RowAction.ERROR}' ? '{ERROR_TEXT}' : '{VALID_TEXT}'"),
        background_color=VegaExpr(f"{_IS_FIXED} ? '{FIXED_COLOUR}' : 'white'"),
        font="bold 13px sans-serif",
    )


def _grid(frame: pd.DataFrame, css_class: str, *, editable: bool, height: str,
          widths: dict[str, int], **kwargs: object) -> DataGrid:
    grid = DataGrid(
        frame,
        editable=editable,
        base_row_size=ROW_HEIGHT,
        base_column_header_size=HEADER_HEIGHT,
        base_row_header_size=ROW_HEADER_WIDTH,
        base_column_size=COLUMN_WIDTH,
        column_widths=widths,
        selection_mode="cell",
        layout=widgets.Layout(height=height, width="100%"),
        **kwargs,
    )
    grid.add_class(css_class)
    return grid


def error_grid(frame: pd.DataFrame) -> DataGrid:
    """The Errors section: editable cells, invalid ones coloured."""
    return _grid(
        frame, "ba-error-grid", editable=True, height=f"{ERROR_GRID_HEIGHT}px",
        widths={STATUS: NARROW_WIDTH, INVALID: WIDE_WIDTH},
        default_renderer=cell_renderer(),
        renderers={STATUS: status_renderer()},
    )


def valid_grid(frame: pd.DataFrame) -> DataGrid:
    """Valid rows with the action they will get."""
    return _grid(frame, "ba-valid-grid", editable=False, height=f"{VALID_GRID_HEIGHT}px",
                 widths={"Action": NARROW_WIDTH})


ISSUE_WIDTHS = {"Problem": PROBLEM_WIDTH, "Severity": NARROW_WIDTH, "Accept": 90}


def issues_grid(frame: pd.DataFrame) -> DataGrid:
    """Every issue of the current page with its message and suggested value; click ✔ Accept to use it."""
    accept = TextRenderer(
        text_color=VegaExpr(f"cell.value == '{ACCEPT_LABEL}' ? '#0b57d0' : 'black'"),
        font="bold 13px sans-serif",
    )
    return _grid(
        frame.set_index(frame.columns[0]), "ba-issues-grid", editable=False, height=f"{ISSUES_GRID_HEIGHT}px",
        widths=ISSUE_WIDTHS,
        renderers={"Accept": accept},
    )


def show_page(grid: DataGrid, frame: pd.DataFrame, max_height: int) -> None:
    """Give `grid` a page of rows and a height that fits them (up to `max_height` px, then it scrolls)."""
    grid.data = frame
    wanted = HEADER_HEIGHT + max(len(frame), 1) * ROW_HEIGHT + SCROLLBAR_ALLOWANCE
    grid.layout.height = f"{min(wanted, max_height)}px"


class Pager(widgets.HBox):
    """Previous / "Page i of n" / Next for a list of rows; calls `on_page(page)` when it moves."""

    def __init__(self, css_class: str, page_size: int, on_page: Callable[[int], None]):
        self.page_size = page_size
        self.page = 0
        self.n_rows = 0
        self._on_page = on_page
        self.previous = widgets.Button(description="‹ Previous", layout=widgets.Layout(width="110px"))
        self.next = widgets.Button(description="Next ›", layout=widgets.Layout(width="110px"))
        self.label = widgets.HTML()
        self.previous.on_click(lambda _: self.go(self.page - 1))
        self.next.on_click(lambda _: self.go(self.page + 1))
        self.previous.add_class("ba-page-previous")
        self.next.add_class("ba-page-next")
        self.label.add_class("ba-page-label")
        super().__init__([self.previous, self.label, self.next])
        self.add_class(css_class)
        self.add_class("ba-pager")

    @property
    def pages(self) -> int:
        return max(1, -(-self.n_rows // self.page_size))

    def reset(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self.page = 0
        self._show()

    def go(self, page: int) -> None:
        self.page = min(max(page, 0), self.pages - 1)
        self._show()
        self._on_page(self.page)

    def _show(self) -> None:
        first = self.page * self.page_size + 1 if self.n_rows else 0
        last = min(self.n_rows, (self.page + 1) * self.page_size)
        self.label.value = (
            f"Page {self.page + 1} of {self.pages} · rows {first:,}–{last:,} of {self.n_rows:,}"
        )
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1
        self.layout.display = None if self.n_rows > self.page_size else "none"
