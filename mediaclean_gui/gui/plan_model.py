"""The preview pane's tree: a stored plan grouped by role/group, items paged in lazily, kept-back items with reasons."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import humanize
from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from ..core.catalog import Catalog, display_path, from_db_path
from ..core.plan import (
    Action,
    KeptBack,
    Plan,
    PlanItem,
    group_items_page,
    kept_groups,
    kept_page,
    load_plan,
)
from .models import size_text

Index = QModelIndex | QPersistentModelIndex

#: Rows fetched per page when a group is expanded or scrolled (plans can hold 100,000+ items).
PAGE = 500

GROUP_LABELS = {
    "intermediate": "Intermediates",
    "shared_cache": "Shared cache",
    "output": "Outputs",
    "temp": "Temp folders",
    "source": "Sources",
    "orphans": "Orphans",
}


def format_total_line(files: int, nbytes: int, kept: int, objects: bool = False, verb: str = "delete") -> str:
    """The same words as :func:`core.plan.total_line` (``Will delete 152 files · 1.2 GB · 3 kept``),
    from counters, so toggling one box in a 100,000-item plan costs nothing."""
    noun = ("object" if objects else "file") + ("" if files == 1 else "s")
    return f"Will {verb} {files} {noun} · {humanize.naturalsize(nbytes)} · {kept} kept"


@dataclass
class GroupInfo:
    """Counters of one group of plan items (``files`` leaves out folder removals, like the core)."""

    key: str
    count: int
    files: int
    bytes: int
    sel_count: int
    sel_files: int
    sel_bytes: int


@dataclass
class KeptInfo:
    """One node of kept-back items: a plan group's (sweeps keep by prefix and reason), or all of them
    (``key`` ``None``, local plans). ``reasons`` reads ``newer than the retention period (3); …``."""

    key: str | None
    count: int
    bytes: int
    reasons: str


@dataclass
class PlanSummary:
    """What the pane needs to show a plan without loading its items (read in a worker)."""

    plan: Plan
    groups: list[GroupInfo]
    project_names: dict[int, str]
    objects: bool
    kept_reasons: dict[str, int] = field(default_factory=dict)
    project_roots: dict[int, str] = field(default_factory=dict)
    project_count: int = 0
    kept: list[KeptInfo] = field(default_factory=list)

    @property
    def upload(self) -> bool:
        return self.plan.kind == "upload"


def load_summary(catalog: Catalog, plan_id: int) -> PlanSummary:
    """The plan header, its groups with counts and bytes, and project names (one query each)."""
    plan = load_plan(catalog, plan_id, with_items=False)
    rows = catalog.conn.execute(
        "SELECT grp, count(*) AS n, sum(action != 'delete_dir') AS files, ifnull(sum(size), 0) AS bytes, "
        "sum(selected) AS sn, sum(selected AND action != 'delete_dir') AS sfiles, "
        "ifnull(sum(CASE WHEN selected THEN size ELSE 0 END), 0) AS sbytes, min(seq) AS first "
        "FROM plan_items WHERE plan_id = ? GROUP BY grp ORDER BY first",
        (plan_id,),
    ).fetchall()
    groups = [GroupInfo(r["grp"], r["n"], r["files"] or 0, r["bytes"], r["sn"] or 0, r["sfiles"] or 0, r["sbytes"])
              for r in rows]
    first = catalog.conn.execute("SELECT action FROM plan_items WHERE plan_id = ? ORDER BY seq LIMIT 1",
                                 (plan_id,)).fetchone()
    names: dict[int, str] = {}
    roots: dict[int, str] = {}
    for r in catalog.conn.execute("SELECT id, name, root FROM projects"):
        names[r["id"]] = r["name"]
        roots[r["id"]] = from_db_path(r["root"])
    reasons = {r["reason"]: r["n"] for r in catalog.conn.execute(
        "SELECT reason, count(*) AS n FROM plan_kept WHERE plan_id = ? GROUP BY reason ORDER BY n DESC", (plan_id,))}
    objects = plan.kind == "sweep" or (first is not None and first["action"] == Action.DELETE_OBJECT.value)
    count = catalog.conn.execute(
        "SELECT count(*) FROM (SELECT project_id FROM plan_items WHERE plan_id = ? AND project_id IS NOT NULL "
        "UNION SELECT project_id FROM plan_kept WHERE plan_id = ? AND project_id IS NOT NULL)",
        (plan_id, plan_id)).fetchone()[0]
    kept: list[KeptInfo] = []
    if plan.kept_count:
        if plan.kind == "sweep":  # by top-level prefix and reason, like the items
            kept = [KeptInfo(key, n, nbytes, text) for key, n, nbytes, text in kept_groups(catalog, plan_id)]
        else:
            nbytes = catalog.conn.execute("SELECT ifnull(sum(size), 0) FROM plan_kept WHERE plan_id = ?",
                                          (plan_id,)).fetchone()[0]
            kept = [KeptInfo(None, plan.kept_count, int(nbytes),
                             "; ".join(f"{reason} ({n})" for reason, n in reasons.items()))]
    return PlanSummary(plan, groups, names, objects, reasons, roots, int(count), kept)


class _Group:
    def __init__(self, row: int, info: GroupInfo | None, kept: KeptInfo | None = None) -> None:
        self.row = row
        self.info = info
        self.kept = kept
        self.children: list[_Row] = []
        self.cursor = -1  # last seq (items) or id (kept) fetched

    @property
    def is_kept(self) -> bool:
        return self.info is None

    @property
    def count(self) -> int:
        if self.info is not None:
            return self.info.count
        return self.kept.count if self.kept is not None else 0


class _Row:
    def __init__(self, group: _Group, row: int, item: PlanItem | None = None, kept: KeptBack | None = None) -> None:
        self.group = group
        self.row = row
        self.item = item
        self.kept = kept


class PlanModel(QAbstractItemModel):
    """A plan as a tree: one node per group (``intermediate``, ``shared_cache``, …) and one for the
    kept-back items. Items have a checkbox; unchecking calls ``on_toggle(item_ids, selected)``
    (the window stores it with ``core.plan.set_selected``). Items are read from the catalog a
    page at a time as groups are expanded (``fetchMore``), never all at once.

    After a run, :meth:`set_outcomes` marks failed and skipped items with an icon and a tooltip.
    """

    COLUMNS = ("Item", "Size", "Project", "Why")
    totalsChanged = Signal()

    def __init__(self, catalog: Catalog, parent: Any = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.summary: PlanSummary | None = None
        self.groups: list[_Group] = []
        self.read_only = True
        self.outcomes: dict[int, tuple[str, str]] = {}
        self.outcome_run: int | None = None  # rows paged in after the run read their outcomes themselves
        self.on_toggle: Callable[[list[int], bool], None] | None = None
        self.on_group_toggle: Callable[[str, bool], None] | None = None

    # ------------------------------------------------------------ loading
    def set_summary(self, summary: PlanSummary | None) -> None:
        self.beginResetModel()
        self.summary = summary
        self.outcomes = {}
        self.outcome_run = None
        self.groups = []
        if summary is not None:
            self.groups = [_Group(n, g) for n, g in enumerate(summary.groups)]
            for kept in summary.kept:
                self.groups.append(_Group(len(self.groups), None, kept))
            self.read_only = summary.plan.status != "ready"
        self.endResetModel()
        self.totalsChanged.emit()

    @property
    def plan(self) -> Plan | None:
        return self.summary.plan if self.summary else None

    def set_read_only(self, value: bool) -> None:
        self.read_only = value
        if self.groups:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.groups) - 1, 0))

    def loaded_item_ids(self) -> list[int]:
        """The ids of the item rows paged in so far (a 100,000-item plan has only a few pages loaded)."""
        return [c.item.id for g in self.groups for c in g.children if c.item is not None and c.item.id is not None]

    def set_outcomes(self, outcomes: dict[int, tuple[str, str]], run_id: int | None = None) -> None:
        """``{plan item id: (outcome, detail)}`` from the run for the rows loaded now; with ``run_id``,
        rows paged in later read theirs as they come. The plan becomes read-only."""
        self.outcomes.update(outcomes)
        self.outcome_run = run_id
        self.read_only = True
        last = len(self.COLUMNS) - 1
        for group in self.groups:
            parent = self.index(group.row, 0)
            self.dataChanged.emit(parent, parent.siblingAtColumn(last))
            if group.children:
                self.dataChanged.emit(self.index(0, 0, parent), self.index(len(group.children) - 1, last, parent))

    def canFetchMore(self, parent: Index) -> bool:
        node = self._node(parent)
        return isinstance(node, _Group) and len(node.children) < node.count

    def fetchMore(self, parent: Index) -> None:
        node = self._node(parent)
        if not isinstance(node, _Group) or self.summary is None:
            return
        plan_id = self.summary.plan.id
        first_row = len(node.children)
        if node.info is not None:
            items = group_items_page(self.catalog, plan_id, node.info.key, node.cursor, PAGE)
            new = [_Row(node, first_row + n, item=item) for n, item in enumerate(items.rows)]
            node.cursor = items.cursor
            if self.outcome_run is not None and items.rows:
                self.outcomes.update(run_outcomes(self.catalog, self.outcome_run,
                                                  [i.id for i in items.rows if i.id is not None]))
        else:
            kept = kept_page(self.catalog, plan_id, node.kept.key if node.kept else None, node.cursor, PAGE)
            new = [_Row(node, first_row + n, kept=k) for n, k in enumerate(kept.rows)]
            node.cursor = kept.cursor
        if not new:  # the catalog holds fewer rows than counted: stop asking
            if node.kept is not None:
                node.kept.count = len(node.children)
            elif node.info is not None:
                node.info.count = len(node.children)
            return
        first = len(node.children)
        self.beginInsertRows(self.index(node.row, 0), first, first + len(new) - 1)
        node.children.extend(new)
        self.endInsertRows()

    def fetch_all(self) -> None:
        """Load every row (tests and small plans)."""
        for group in self.groups:
            parent = self.index(group.row, 0)
            while self.canFetchMore(parent):
                before = len(group.children)
                self.fetchMore(parent)
                if len(group.children) == before:
                    break

    # ------------------------------------------------------------ totals
    def totals(self) -> tuple[int, int, int]:
        """``(files, bytes, kept)`` of what is selected."""
        files = sum(g.info.sel_files for g in self.groups if g.info)
        nbytes = sum(g.info.sel_bytes for g in self.groups if g.info)
        kept = self.summary.plan.kept_count if self.summary else 0
        return files, nbytes, kept

    def selected_count(self) -> int:
        return sum(g.info.sel_count for g in self.groups if g.info)

    def total_line(self) -> str:
        if self.summary is None:
            return ""
        files, nbytes, kept = self.totals()
        verb = "upload" if self.summary.upload else "delete"
        return format_total_line(files, nbytes, kept, self.summary.objects, verb)

    # ------------------------------------------------------------ Qt model
    def _node(self, index: Index) -> _Group | _Row | None:
        if not index.isValid():
            return None
        node = index.internalPointer()
        return node if isinstance(node, (_Group, _Row)) else None

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(self.COLUMNS) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, self.groups[row]) if row < len(self.groups) else QModelIndex()
        node = self._node(parent)
        if isinstance(node, _Group) and row < len(node.children):
            return self.createIndex(row, column, node.children[row])
        return QModelIndex()

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        node = self._node(index)
        if isinstance(node, _Row):
            return self.createIndex(node.group.row, 0, node.group)
        return QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self.groups)
        node = self._node(parent)
        return len(node.children) if isinstance(node, _Group) and parent.column() == 0 else 0

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if not parent.isValid():
            return bool(self.groups)
        node = self._node(parent)
        return isinstance(node, _Group) and parent.column() == 0 and node.count > 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        node = self._node(index)
        if node is None:
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        checkable = index.column() == 0 and not self.read_only
        if checkable and (isinstance(node, _Row) and node.item is not None or
                          isinstance(node, _Group) and node.info is not None):
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node(index)
        if node is None:
            return None
        if isinstance(node, _Group):
            return self._group_data(node, index.column(), role)
        return self._row_data(node, index.column(), role)

    def _group_data(self, group: _Group, col: int, role: int) -> Any:
        info = group.info
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                if info is None:
                    key = group.kept.key if group.kept is not None else None
                    label = f"Kept: {key}" if key else "Kept back"
                else:
                    label = GROUP_LABELS.get(info.key, info.key or "Items")
                noun = "item" if group.count == 1 else "items"
                return f"{label} — {group.count:,} {noun}"
            if col == 1:
                if info is not None:
                    return size_text(info.bytes)
                return size_text(group.kept.bytes) if group.kept is not None and group.kept.bytes else None
            if col == 3 and info is None and group.kept is not None:
                return group.kept.reasons
            return None
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.CheckStateRole and col == 0 and info is not None:
            if info.sel_count == info.count:
                return Qt.CheckState.Checked
            return Qt.CheckState.Unchecked if info.sel_count == 0 else Qt.CheckState.PartiallyChecked
        if role == Qt.ItemDataRole.ToolTipRole and col == 0:
            if info is None:
                return "Left alone by this plan, with the reason for each"
            return (f"{info.count:,} items, {info.bytes:,} bytes; {info.sel_count:,} selected "
                    f"({info.sel_bytes:,} bytes). Uncheck to leave the whole group out.")
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and info is None:
            return _icon(QStyle.StandardPixmap.SP_MessageBoxInformation)
        return None

    def _row_data(self, row: _Row, col: int, role: int) -> Any:
        item, kept = row.item, row.kept
        target = item.target if item else kept.target if kept else ""
        project_id = item.project_id if item else kept.project_id if kept else None
        base = item.root if item and item.root else ""
        if not base and self.summary and project_id is not None:
            base = self.summary.project_roots.get(project_id, "")
        outcome = self.outcomes.get(item.id) if item and item.id is not None else None
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                shown = os.path.relpath(target, base) if base and target.startswith(base + os.sep) else target
                return display_path(shown) + ("/" if item and item.action is Action.DELETE_DIR else "")
            if col == 1:
                return size_text(item.size if item else kept.size if kept else 0)
            if col == 2:
                return self.summary.project_names.get(project_id, "") if self.summary and project_id else ""
            if col == 3:
                if outcome is not None and outcome[0] in ("failed", "skipped"):
                    return f"{outcome[0]}: {outcome[1]}"
                if item:
                    return item.rule
                if kept:
                    return kept.reason.value + (f": {kept.detail}" if kept.detail else "")
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            text = display_path(target)
            if outcome is not None:
                text += f"\n{outcome[0]}" + (f": {outcome[1]}" if outcome[1] else "")
            elif kept:
                text += f"\nkept back: {kept.reason.value}" + (f" — {kept.detail}" if kept.detail else "")
            elif item:
                text += f"\n{item.action.value}: {item.rule}"
            return text
        if role == Qt.ItemDataRole.CheckStateRole and col == 0 and item is not None:
            return Qt.CheckState.Checked if item.selected else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and outcome is not None:
            return _outcome_icon(outcome[0])
        if role == Qt.ItemDataRole.ForegroundRole:
            if outcome is not None and outcome[0] == "failed":
                return QBrush(QColor("#b3261e"))
            if outcome is not None and outcome[0] in ("deleted", "already_gone", "uploaded") or kept is not None:
                return QBrush(QColor("#6b6b6b"))
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or self.read_only or index.column() != 0:
            return False
        node = self._node(index)
        checked = _is_checked(value)
        if isinstance(node, _Row) and node.item is not None and node.item.id is not None:
            if node.item.selected == checked:
                return True
            self._toggle_row(node, checked)
            self.dataChanged.emit(index, self.index(index.row(), len(self.COLUMNS) - 1, index.parent()))
            group_index = self.index(node.group.row, 0)
            self.dataChanged.emit(group_index, group_index)
            if self.on_toggle:
                self.on_toggle([node.item.id], checked)
            self.totalsChanged.emit()
            return True
        if isinstance(node, _Group) and node.info is not None:
            info = node.info
            info.sel_count, info.sel_files, info.sel_bytes = (
                (info.count, info.files, info.bytes) if checked else (0, 0, 0))
            for child in node.children:
                if child.item:
                    child.item.selected = checked
            self.dataChanged.emit(index, index)
            if node.children:
                self.dataChanged.emit(self.index(0, 0, index), self.index(len(node.children) - 1, 0, index))
            if self.on_group_toggle:
                self.on_group_toggle(info.key, checked)
            self.totalsChanged.emit()
            return True
        return False

    def _toggle_row(self, row: _Row, checked: bool) -> None:
        item = row.item
        info = row.group.info
        assert item is not None and info is not None
        item.selected = checked
        sign = 1 if checked else -1
        info.sel_count += sign
        if item.action is not Action.DELETE_DIR:
            info.sel_files += sign
        info.sel_bytes += sign * item.size

    # ------------------------------------------------------------ lookups
    def local_target(self, index: Index) -> str | None:
        """The local path of the file row at ``index`` (item or kept back), ``None`` for groups,
        folders and object keys."""
        node = self._node(index)
        if not isinstance(node, _Row) or self.summary is None or self.summary.objects:
            return None
        if node.item is not None:
            return None if node.item.action is Action.DELETE_DIR else node.item.target
        return node.kept.target if node.kept is not None else None

    def find_item(self, target: str) -> QModelIndex:
        """The index of the loaded item or kept-back row whose target is ``target``."""
        for group in self.groups:
            for child in group.children:
                value = child.item.target if child.item else child.kept.target if child.kept else None
                if value == target:
                    return self.index(child.row, 0, self.index(group.row, 0))
        return QModelIndex()


def run_outcomes(catalog: Catalog, run_id: int, item_ids: list[int]) -> dict[int, tuple[str, str]]:
    """``{plan item id: (outcome, detail)}`` of run ``run_id`` for these items (primary-key lookups)."""
    out: dict[int, tuple[str, str]] = {}
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for r in catalog.conn.execute(
                f"SELECT plan_item_id, outcome, detail FROM run_items WHERE run_id = ? AND plan_item_id IN ({marks})",
                (run_id, *chunk)):
            out[int(r[0])] = (str(r[1]), str(r[2]))
    return out


def _is_checked(value: Any) -> bool:
    if isinstance(value, Qt.CheckState):
        return value == Qt.CheckState.Checked
    try:
        return int(value) == Qt.CheckState.Checked.value
    except (TypeError, ValueError):
        return bool(value)


def _icon(pixmap: QStyle.StandardPixmap) -> QIcon:
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    return style.standardIcon(pixmap) if style else QIcon()


def _outcome_icon(outcome: str) -> QIcon | None:
    which = {
        "failed": QStyle.StandardPixmap.SP_MessageBoxCritical,
        "skipped": QStyle.StandardPixmap.SP_MessageBoxWarning,
        "deleted": QStyle.StandardPixmap.SP_DialogApplyButton,
        "already_gone": QStyle.StandardPixmap.SP_DialogApplyButton,
        "uploaded": QStyle.StandardPixmap.SP_ArrowUp,
    }.get(outcome)
    return _icon(which) if which is not None else None
