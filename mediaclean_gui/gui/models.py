"""Table models of the window: projects (sorted on Python ints), past runs and a run's items."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import humanize
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from ..core.catalog import parse_iso, utcnow
from ..core.projects import Project
from ..core.views import ProjectRow, natural_key
from .wording import outcome_word, plain, run_sentence, size_text

#: The role every sortable column answers with the Python value (int bytes, ISO time, text).
SortRole = Qt.ItemDataRole.UserRole + 1
#: The role that answers the row's record (a ``Project`` or a run dict).
RecordRole = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex
#: The sizes' alignment, made once: the first combination of two flags makes PySide build Python enums (~3 ms), which
#: the first paint of the table should not wait for.
RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

#: The status shown for a project whose layout has a final render that the last scan did not find.
NO_FINAL = "no final render yet"
#: The status of a project registered with its final render already there, until a cleanup of it is confirmed (F2).
AWAITING = "awaiting your first review"

STATUS_COLOURS = {
    "pending": "#8a6d00",
    "running": "#1d5fb4",
    "complete": "#2a7a2e",
    "failed": "#b3261e",
    NO_FINAL: "#6b6b6b",
    AWAITING: "#6a3fb5",
}


def brushes(colours: dict[str, str]) -> dict[str, QBrush]:
    """``{word: brush}`` of ``{word: colour}``: the tables' text colours as brushes, made once at import, not per
    painted cell (the first brush also makes PySide build the enums of brushes and gradients, ~5 ms that a
    table's first paint with rows should not wait for)."""
    return {word: QBrush(QColor(colour)) for word, colour in colours.items()}


STATUS_BRUSHES = brushes(STATUS_COLOURS)
#: The colours of a past run's status (history) and of an item's outcome (a run's items).
RUN_STATUS_BRUSHES = brushes({"complete": "#2a7a2e", "failed": "#b3261e", "cancelled": "#8a6d00",
                              "interrupted": "#b3261e", "running": "#1d5fb4"})
OUTCOME_BRUSHES = brushes({"failed": "#b3261e", "skipped": "#8a6d00", "deleted": "#2a7a2e", "trashed": "#2a7a2e"})
STATUS_TIPS = {
    "pending": "Not cleaned yet (or the last cleanup was cancelled)",
    "running": "A cleanup is running now",
    "complete": "Cleaned: intermediates removed, final output kept",
    "failed": "The last cleanup could not remove some items; see History",
    NO_FINAL: "The final render is not there yet: a cleanup would keep everything until it is",
}


def review_tip(reason: str) -> str:
    """The tooltip of "awaiting your first review": the core's reason as a sentence, and what to do."""
    text = reason[:1].upper() + reason[1:]
    return (f"{text}.\nPreview and confirm a cleanup of it, or switch auto-cleanup on for this project "
            f"(right-click › Auto-cleanup › On).")


def relative_time(iso_text: str | None, never: str = "never") -> str:
    """``3 minutes ago`` for a UTC ISO-8601 time; ``never`` for ``None``."""
    if not iso_text:
        return never
    try:
        delta = utcnow() - parse_iso(iso_text)
    except ValueError:
        return iso_text
    return str(humanize.naturaltime(max(delta, dt.timedelta(0))))


def local_time(iso_text: str | None) -> str:
    if not iso_text:
        return ""
    try:
        return parse_iso(iso_text).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso_text


class RowFacts(NamedTuple):
    """What the projects table looks up per row, made from rows in their display order (by
    :func:`row_facts`, in the loading worker for a big catalog)."""

    rows: list[ProjectRow]
    projects: list[Project]
    auto_effective: dict[int, bool]
    final_missing: set[int]
    review: dict[int, str]
    row_of: dict[int, int]


def row_facts(rows: list[ProjectRow]) -> RowFacts:
    """:class:`RowFacts` of ``rows`` (plain Python: may run on a worker thread)."""
    projects = [r.project for r in rows]
    return RowFacts(list(rows), projects, {r.project.id: r.auto for r in rows},
                    {r.project.id for r in rows if r.final_missing}, {r.project.id: r.review for r in rows if r.review},
                    {p.id: n for n, p in enumerate(projects)})


class ProjectsModel(QAbstractTableModel):
    """The projects with sizes, cleanup status, last cleanup and auto-cleanup."""

    COLUMNS = ("Project", "Size", "Reclaimable", "Status", "Last cleanup", "Auto-cleanup")
    NAME, SIZE, RECLAIMABLE, STATUS, LAST, AUTO = range(6)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.projects: list[Project] = []
        self.auto_effective: dict[int, bool] = {}
        self.final_missing: set[int] = set()
        self.review: dict[int, str] = {}
        self.sort_column = self.NAME
        self.sort_order = Qt.SortOrder.AscendingOrder
        self._row_of: dict[int, int] = {}
        self.rows: list[ProjectRow] = []

    def set_rows(self, rows: list[ProjectRow], sorted_as: tuple[int, bool] | None = None,
                 facts: RowFacts | None = None) -> None:
        """The projects with their table facts (``core.views.project_rows``), in the current sort order.
        ``sorted_as`` ``(column, descending)``: the rows come sorted so already (by :func:`sort_rows`, in
        the loading worker), and ``facts`` are their :func:`row_facts` made there too, so the GUI thread
        neither sorts them again nor walks them."""
        self.beginResetModel()
        current = (self.sort_column, self.sort_order == Qt.SortOrder.DescendingOrder)
        if sorted_as == current and facts is not None:
            self._take(facts)
        else:
            self._take(row_facts(rows if sorted_as == current else sort_rows(rows, *current)))
        self.endResetModel()

    def _take(self, facts: RowFacts) -> None:
        self.rows, self.projects, self.auto_effective, self.final_missing, self.review, self._row_of = facts

    def row_of(self, project_id: int) -> int | None:
        """The row of project ``project_id`` in this model, or ``None``."""
        return self._row_of.get(project_id)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort on the Python values (64-bit sizes, natural names), once per sort: ~10 ms for 10,000
        projects, where a proxy's per-comparison calls into Python took over a second."""
        if not 0 <= column < len(self.COLUMNS):
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        ids = [self.projects[i.row()].id if i.row() < len(self.projects) else None for i in old]
        self.sort_column, self.sort_order = column, order
        self._take(row_facts(sort_rows(self.rows, column, order == Qt.SortOrder.DescendingOrder)))
        self.changePersistentIndexList(old, [self.index(self._row_of[pid], i.column()) if pid in self._row_of
                                             else QModelIndex() for i, pid in zip(old, ids, strict=True)])
        self.layoutChanged.emit()

    def status(self, p: Project) -> str:
        """The status column's words: the cleanup status; for a pending project "no final render yet" while its
        final render is missing, "awaiting your first review" while auto-cleanup waits for one (F2)."""
        if p.cleanup_status == "pending" and p.id in self.final_missing:
            return NO_FINAL
        if p.cleanup_status == "pending" and p.id in self.review:
            return AWAITING
        return p.cleanup_status

    def refresh_times(self) -> None:
        """Repaint the relative times ("3 minutes ago")."""
        if self.projects:
            self.dataChanged.emit(self.index(0, self.LAST), self.index(len(self.projects) - 1, self.LAST))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.projects)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return {
                self.SIZE: "Bytes found by the last scan",
                self.RECLAIMABLE: "What a project cleanup would free now (0 until the final output exists)",
                self.STATUS: "Cleanup status: pending, running, complete or failed; "
                             "“no final render yet” while the final render is missing; “awaiting your first review” "
                             "while auto-cleanup waits for you to confirm one cleanup of a project that was added "
                             "with its final render already there",
                self.LAST: "When the last cleanup finished",
                self.AUTO: "Clean automatically once the final output has settled (right-click to change)",
            }.get(section)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.projects):
            return None
        p = self.projects[index.row()]
        col = index.column()
        if role == RecordRole:
            return p
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(p, col)
        if role == SortRole:
            return self._sort_value(p, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.NAME:
                return f"{p.root}\nprofile: {p.profile}" + (f"\ngenerator id: {p.external_id}" if p.external_id else "")
            if col in (self.SIZE, self.RECLAIMABLE):
                value = p.total_bytes if col == self.SIZE else p.reclaimable_bytes
                return f"{value:,} bytes" + (f" in {p.file_count:,} files" if col == self.SIZE else "")
            if col == self.STATUS:
                if self.status(p) == AWAITING:
                    return review_tip(self.review[p.id])
                return STATUS_TIPS.get(self.status(p), p.cleanup_status)
            if col == self.LAST:
                return local_time(p.cleanup_completed_at) or "Never cleaned"
            if col == self.AUTO:
                return self._auto_tip(p)
        if role == Qt.ItemDataRole.ForegroundRole and col == self.STATUS:
            return STATUS_BRUSHES.get(self.status(p))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.SIZE, self.RECLAIMABLE):
            return RIGHT_ALIGNED
        return None

    def _display(self, p: Project, col: int) -> str:
        if col == self.NAME:
            return p.name
        if col == self.SIZE:
            return size_text(p.total_bytes)
        if col == self.RECLAIMABLE:
            return size_text(p.reclaimable_bytes)
        if col == self.STATUS:
            return self.status(p)
        if col == self.LAST:
            return relative_time(p.cleanup_completed_at)
        on = self.auto_effective.get(p.id, False)
        return f"{'on' if on else 'off'} (global)" if p.auto_cleanup == "inherit" else p.auto_cleanup

    def _sort_value(self, p: Project, col: int) -> Any:
        row = self.rows[self._row_of[p.id]] if p.id in self._row_of else ProjectRow(p, False, False)
        return sort_value(row, col)

    def _auto_tip(self, p: Project) -> str:
        on = self.auto_effective.get(p.id, False)
        source = "the global preference" if p.auto_cleanup == "inherit" else "this project's setting"
        return f"Auto-cleanup is {'on' if on else 'off'} for this project ({source})"


def sort_value(row: ProjectRow, col: int) -> Any:
    """What column ``col`` of the projects table sorts on: natural names, 64-bit sizes, words, times."""
    p = row.project
    if col == ProjectsModel.NAME:
        return row.name_key or natural_key(p.name)
    if col == ProjectsModel.SIZE:
        return p.total_bytes
    if col == ProjectsModel.RECLAIMABLE:
        return p.reclaimable_bytes
    if col == ProjectsModel.STATUS:
        if p.cleanup_status == "pending" and row.final_missing:
            return NO_FINAL
        return AWAITING if p.cleanup_status == "pending" and row.review else p.cleanup_status
    if col == ProjectsModel.LAST:
        return p.cleanup_completed_at or ""
    return p.auto_cleanup


def sort_rows(rows: list[ProjectRow], col: int, descending: bool) -> list[ProjectRow]:
    """``rows`` in the table's order for column ``col`` (pure Python: the loading worker calls it too)."""
    return sorted(rows, key=lambda r: sort_value(r, col), reverse=descending)


class ProjectsProxy(QSortFilterProxyModel):
    """Filters names case-insensitively; sorting is the source model's own (:meth:`ProjectsModel.sort`, on
    Python ints, so sizes above 2**31 sort right, as Vorta's ``sort_proxy`` learnt), in one pass."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SortRole)
        self.setFilterKeyColumn(ProjectsModel.NAME)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if isinstance(source, ProjectsModel):
            source.sort(column, order)


class _RecordTable(QAbstractTableModel):
    """A flat table of dict records under fixed column titles (history runs, run items)."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.records: list[dict[str, Any]] = []

    def _reset(self, records: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.records = list(records)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None


class HistoryModel(_RecordTable):
    """Past runs from ``core.history.list_runs``, newest first."""

    COLUMNS = ("When", "Kind", "Started by", "Projects", "Status", "Result")

    @property
    def runs(self) -> list[dict[str, Any]]:
        return self.records

    def set_runs(self, runs: list[dict[str, Any]]) -> None:
        self._reset(runs)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.runs):
            return None
        run = self.runs[index.row()]
        col = index.column()
        if role == RecordRole:
            return run
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                relative_time(run["started_at"]),
                run["kind"],
                run["started_by"],
                ", ".join(run.get("projects") or []) or "—",
                run["status"],
                run_sentence(run),
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                return f"Run {run['id']} of plan {run['plan_id']}: {local_time(run['started_at'])} → " \
                       f"{local_time(run.get('ended_at')) or 'still running'}"
            return run_sentence(run)
        if role == Qt.ItemDataRole.ForegroundRole and col == 4:
            return RUN_STATUS_BRUSHES.get(run["status"])
        return None


class RunItemsModel(_RecordTable):
    """The items of one run with their outcome (``core.history.run_items``)."""

    COLUMNS = ("Outcome", "Item", "Size", "Detail")

    @property
    def items(self) -> list[dict[str, Any]]:
        return self.records

    def set_items(self, items: list[dict[str, Any]]) -> None:
        self._reset(items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.items):
            return None
        item = self.items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (outcome_word(item["outcome"]), item["target"], size_text(item["size"]), plain(item["detail"]))[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            detail = plain(item["detail"])
            return f"{item['target']}\n{outcome_word(item['outcome'])}" + (f": {detail}" if detail else "")
        if role == Qt.ItemDataRole.ForegroundRole and col == 0:
            return OUTCOME_BRUSHES.get(item["outcome"])
        return None
