"""The dashboard's pictures (bqplot widgets): where the errors are, and how much the organisation imported.

`ProblemChart` draws the report's `problem_counts()` as two bar charts side by side: errors per column
and errors per kind of problem. A click on a bar selects it (bqplot's click selection, synced to
Python) and calls `on_filter(column, kind)`, which the Review step uses to filter its Errors grid;
*Show all rows* clears both. `Report.plot()` shows the same widget in a notebook.

`UsageChart` draws rows imported per day (UTC days, the days the daily limit counts) with the daily
limit as a dashed line, and this week's and this month's usage against their limits in words.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, cast

import bqplot
import ipywidgets as widgets
import polars as pl

BAR_COLOUR = "#c0392b"  # the red family of invalid cells
CHOSEN_COLOUR = "#0b57d0"
USAGE_COLOUR = "#1b6e2e"
LIMIT_COLOUR = "#b00020"
FIGURE_LAYOUT = {"width": "560px", "height": "300px"}
MARGIN = {"top": 40, "bottom": 90, "left": 56, "right": 24}
# Slanted labels end at their tick, so a long column name reads down-left from its bar, never across the axis.
TICKS = {"font-size": "11px", "text-anchor": "end", "fill": "#333"}

FilterHandler = Callable[[str | None, str | None], None]


def _bar_figure(title: str, css_class: str, colour: str, y_label: str) -> tuple[bqplot.Figure, bqplot.Bars]:
    x, y = bqplot.OrdinalScale(), bqplot.LinearScale(min=0)
    bars = bqplot.Bars(x=[], y=[], scales={"x": x, "y": y}, colors=[colour], padding=0.25,
                       label_display=True, label_display_format="d", label_display_vertical_offset=-4,
                       tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["", "errors"]))
    axes = [bqplot.Axis(scale=x, tick_rotate=-30, tick_style=TICKS),
            bqplot.Axis(scale=y, side="left", label=y_label, tick_format="d", grid_lines="dashed")]
    figure = bqplot.Figure(marks=[bars], axes=axes, title=title, fig_margin=dict(MARGIN),
                           layout=widgets.Layout(**FIGURE_LAYOUT), animation_duration=0)
    figure.add_class(css_class)
    return figure, bars


def whole_numbers(figure: bqplot.Figure, top: int) -> None:
    """Count axes show whole numbers only (0, 1, 2 ... not 0.2, 0.4), with room above the tallest bar."""
    step = max(1, -(-int(top) // 5))
    ticks = list(range(0, int(top) + step + 1, step))
    figure.axes[1].tick_values = ticks
    figure.axes[1].scale.max = float(ticks[-1])


class ProblemChart(widgets.VBox):
    """Errors per column and per kind of problem; click a bar to filter (when `on_filter` is given)."""

    def __init__(self, counts: pl.DataFrame, on_filter: FilterHandler | None = None):
        self._on_filter = on_filter
        self.column: str | None = None
        self.kind: str | None = None
        self._selecting = False  # set while Python moves the selection: that is no click
        self.by_column, self.column_bars = _bar_figure("Errors per column", "ba-chart-columns", BAR_COLOUR,
                                                       "Errors")
        self.by_kind, self.kind_bars = _bar_figure("Errors per kind of problem", "ba-chart-kinds", BAR_COLOUR,
                                                   "Errors")
        self.caption = widgets.HTML()
        self.caption.add_class("ba-chart-caption")
        self.show_all = widgets.Button(description="Show all rows", layout=widgets.Layout(width="auto"))
        self.show_all.add_class("ba-chart-show-all")
        self.show_all.on_click(lambda _: self.choose(None, None))
        self.show_all.layout.display = "none"
        children: list[widgets.Widget] = [widgets.HBox([self.by_column, self.by_kind])]
        if on_filter is not None:
            for bars in (self.column_bars, self.kind_bars):
                bars.interactions = {"click": "select"}
                bars.selected_style = {"fill": CHOSEN_COLOUR}
                bars.unselected_style = {"opacity": "0.45"}
            self.column_bars.observe(lambda change: self._clicked(change, "column"), "selected")
            self.kind_bars.observe(lambda change: self._clicked(change, "kind"), "selected")
            children.append(widgets.HBox([self.caption, self.show_all]))
        super().__init__(children)
        self.add_class("ba-problem-chart")
        self.show(counts)

    def show(self, counts: pl.DataFrame) -> None:
        """Draw `counts` (`column`, `kind`, `errors`); a chosen column or kind stays chosen while it has errors."""
        self.counts = counts
        per_column = counts.group_by("column", maintain_order=True).agg(pl.col("errors").sum()).sort(
            "errors", descending=True, maintain_order=True)
        per_kind = counts.group_by("kind", maintain_order=True).agg(pl.col("errors").sum()).sort(
            "errors", descending=True, maintain_order=True)
        self._columns, self._kinds = per_column["column"].to_list(), per_kind["kind"].to_list()
        for figure, bars, names, frame in ((self.by_column, self.column_bars, self._columns, per_column),
                                           (self.by_kind, self.kind_bars, self._kinds, per_kind)):
            with bars.hold_sync():
                bars.x, bars.y = names, frame["errors"].to_list()
            whole_numbers(figure, cast(int, frame["errors"].max() or 0))
        self._select()

    def choose(self, column: str | None, kind: str | None) -> None:
        """Filter by `column` and / or `kind` (None: any), as a click on their bars does."""
        self.column, self.kind = column, kind
        self._select()
        self._say()
        if self._on_filter is not None:
            self._on_filter(column, kind)

    def _clicked(self, change: dict[str, Any], which: str) -> None:
        if self._selecting:
            return
        picked = [] if change["new"] is None else [int(i) for i in change["new"]]
        names = self._columns if which == "column" else self._kinds
        name = names[picked[-1]] if picked and picked[-1] < len(names) else None
        if which == "column":
            self.choose(name, self.kind)
        else:
            self.choose(self.column, name)

    def _select(self) -> None:
        """Show the chosen bars as selected (and nothing selected when none is chosen)."""
        self._selecting = True
        try:
            self.column_bars.selected = [self._columns.index(self.column)] if self.column in self._columns else None
            self.kind_bars.selected = [self._kinds.index(self.kind)] if self.kind in self._kinds else None
        finally:
            self._selecting = False

    def _say(self) -> None:
        parts = [f"errors in <b>{html.escape(self.column)}</b>" if self.column else "",
                 f"<b>{html.escape(self.kind)}</b>" if self.kind else ""]
        chosen = " · ".join(p for p in parts if p)
        self.caption.value = (f'<span class="ba-chart-filter">Errors grid: rows with {chosen}</span>' if chosen
                              else '<span class="ba-hint">Click a bar to list only the rows with those errors.</span>')
        self.show_all.layout.display = None if chosen else "none"


class UsageChart(widgets.VBox):
    """Rows imported per UTC day against the daily limit; this week and this month in words."""

    def __init__(self) -> None:
        x, y = bqplot.OrdinalScale(), bqplot.LinearScale(min=0)
        self.bars = bqplot.Bars(x=[], y=[], scales={"x": x, "y": y}, colors=[USAGE_COLOUR], padding=0.2,
                                tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["day", "rows"]))
        self.limit = bqplot.Lines(x=[], y=[], scales={"x": x, "y": y}, colors=[LIMIT_COLOUR],
                                  line_style="dashed", stroke_width=2, labels=["Daily limit"], display_legend=True)
        axes = [bqplot.Axis(scale=x, tick_rotate=-45, tick_style={**TICKS, "font-size": "10px"}),
                bqplot.Axis(scale=y, side="left", label="Rows imported", tick_format="d",
                            grid_lines="dashed")]
        self.figure = bqplot.Figure(marks=[self.bars, self.limit], axes=axes,
                                    title="Rows imported per day (UTC days, as the limits count them)",
                                    fig_margin=dict(MARGIN), legend_location="top-left", animation_duration=0,
                                    layout=widgets.Layout(width="900px", height="300px"))
        self.figure.add_class("ba-usage-chart")
        self.words = widgets.HTML()
        self.words.add_class("ba-usage-words")
        super().__init__([self.figure, self.words])
        self.add_class("ba-usage-section")

    def show(self, days: pl.DataFrame, usage: dict[str, Any]) -> None:
        """`days`: `day` (date), `rows` (`Client.daily_usage`); `usage`: `Client.usage()` with its limits."""
        labels = days["day"].dt.strftime("%-d %b").to_list()
        limits = usage.get("limits") or {}
        daily = limits.get("today")
        with self.bars.hold_sync(), self.limit.hold_sync():
            self.bars.x, self.bars.y = labels, days["rows"].to_list()
            self.limit.x, self.limit.y = (labels, [daily] * len(labels)) if daily is not None else ([], [])
            self.limit.visible = daily is not None
        whole_numbers(self.figure, max(cast(int, days["rows"].max() or 0), daily or 0))
        self.words.value = usage_words(usage)


def usage_words(usage: dict[str, Any]) -> str:
    """"Today 12 of 5,000 rows · This week 40 of 20,000 · This month 40 (no limit)"."""
    limits = usage.get("limits") or {}
    parts = []
    for period, label in (("today", "Today"), ("week", "This week"), ("month", "This month")):
        used, limit = usage.get(period) or 0, limits.get(period)
        over = " ba-usage-full" if limit is not None and used >= limit else ""
        rows = "row" if (limit if limit is not None else used) == 1 else "rows"
        of = f" of {limit:,} {rows}" if limit is not None else f" {rows} (no limit)"
        parts.append(f'<span class="ba-usage-{period}{over}">{label}: <b>{used:,}</b>{of}</span>')
    return '<div class="ba-hint">' + " · ".join(parts) + "</div>"
