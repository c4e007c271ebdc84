"""The preview pane's tree: a stored plan grouped by project, then role, rows paged in lazily in display order.

A plan of one project (or none, like a sweep) shows its groups at the top level;
a plan of several projects shows one node per project with its groups under it.
Each group holds the ids of its rows in the order chosen (natural name order, or
size) and reads them from the catalog a page at a time as it is expanded or
scrolled, never all at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from ..core.catalog import Catalog, display_path
from ..core.keeplist import KEPT_BY_YOU
from ..core.plan import Action, Plan
from ..core.views import (
    GroupInfo,
    GroupKey,
    ItemRow,
    KeptInfo,
    KeptRow,
    PlanSummary,
    items_by_ids,
    kept_by_ids,
    run_outcomes,
)
from .models import RIGHT_ALIGNED, brushes
from .wording import count_noun, group_label, outcome_word, plain, size_text, total_line

Index = QModelIndex | QPersistentModelIndex

#: Rows fetched per page when a group is expanded or scrolled (plans can hold 100,000+ items).
PAGE = 500
#: An item that failed, and one settled already (removed, uploaded, gone) or kept back.
_ITEM_BRUSHES = brushes({"failed": "#b3261e", "settled": "#6b6b6b"})


class _Node:
    """One node of the tree; ``row`` is its place under ``parent`` (``None``: the invisible root)."""

    def __init__(self, parent: _Node | None, row: int) -> None:
        self.parent = parent
        self.row = row
        self.children: list[_Node] = []


class _Section(_Node):
    """One project of a plan that spans several: its groups under it."""

    def __init__(self, parent: _Node, row: int, project_id: int | None, name: str) -> None:
        super().__init__(parent, row)
        self.project_id = project_id
        self.name = name

    def groups(self) -> list[_Group]:
        return [c for c in self.children if isinstance(c, _Group)]


class _Group(_Node):
    """A group of plan items (``info``) or of kept-back rows (``kept``), with its rows' ids in order."""

    def __init__(self, parent: _Node, row: int, info: GroupInfo | None, kept: KeptInfo | None,
                 order: list[int]) -> None:
        super().__init__(parent, row)
        self.info = info
        self.kept = kept
        self.order = order

    @property
    def is_kept(self) -> bool:
        return self.info is None

    @property
    def kept_by_you(self) -> bool:
        """The plan's "Kept by you" group: what the keep-list keeps back (invariant 14)."""
        return self.kept is not None and self.kept.key == KEPT_BY_YOU

    @property
    def count(self) -> int:
        if self.info is not None:
            return self.info.count
        return self.kept.count if self.kept is not None else 0

    @property
    def bytes(self) -> int:
        if self.info is not None:
            return self.info.bytes
        return self.kept.bytes if self.kept is not None else 0


class _Row(_Node):
    def __init__(self, group: _Group, row: int, item: ItemRow | None = None, kept: KeptRow | None = None) -> None:
        super().__init__(group, row)
        self.group = group
        self.item = item
        self.kept = kept


class PlanModel(QAbstractItemModel):
    """A plan as a tree: projects (when several), their groups (``intermediate``, ``shared_cache``, …,
    and a "Kept back" group with reasons), then items. Items have a checkbox; unchecking calls
    ``on_toggle(item_ids, selected)`` (the window stores it with ``core.plan.set_selected``), a
    group's box with every id of the group.

    After a run, :meth:`set_outcomes` marks each item with its outcome, an icon and a tooltip.
    Sorting (:meth:`sort`) asks for a new order through ``on_sort(by, descending)``; the pane reads
    it in a worker and hands it to :meth:`set_summary`.
    """

    COLUMNS = ("Item", "Size", "Project", "Why")
    ITEM, SIZE, PROJECT, WHY = range(4)
    totalsChanged = Signal()

    def __init__(self, catalog: Catalog, parent: Any = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.summary: PlanSummary | None = None
        self.root = _Node(None, 0)
        self.groups: list[_Group] = []
        self.sections: list[_Section] = []
        self.read_only = True
        self.outcomes: dict[int, tuple[str, str]] = {}
        self.outcome_run: int | None = None  # rows paged in after the run read their outcomes themselves
        self.on_toggle: Callable[[list[int], bool], None] | None = None
        self.on_sort: Callable[[str, bool], object] | None = None
        # boxes changed here since the rows were read: a re-sorted page must not show the stored value
        self._selected_now: dict[int, bool] = {}

    # ------------------------------------------------------------ loading
    def set_summary(self, summary: PlanSummary | None, keep_state: bool = False) -> None:
        """Show ``summary`` (``None``: nothing). ``keep_state`` keeps outcomes and changed boxes (a re-sort)."""
        self.beginResetModel()
        if not keep_state:
            self.outcomes = {}
            self.outcome_run = None
            self._selected_now = {}
        elif summary is not None and self.summary is not None:
            self._carry_counters(summary)
        self.summary = summary
        self.root = _Node(None, 0)
        self.groups = []
        self.sections = []
        if summary is not None:
            self._build(summary)
            self.read_only = summary.plan.status != "ready" or (keep_state and self.read_only)
        self.endResetModel()
        self.totalsChanged.emit()

    def _carry_counters(self, summary: PlanSummary) -> None:
        """A re-sort reads fresh counters; the boxes changed since count as they are shown."""
        old = {(g.info.project_id, g.info.key): g.info for g in self.groups if g.info is not None}
        for info in summary.groups:
            before = old.get((info.project_id, info.key))
            if before is not None:
                info.sel_count, info.sel_files, info.sel_bytes = before.sel_count, before.sel_files, before.sel_bytes

    def _build(self, summary: PlanSummary) -> None:
        by_project = summary.project_count > 1
        parents: dict[int | None, _Node] = {}

        def parent_of(project_id: int | None) -> _Node:
            if not by_project:
                return self.root
            node = parents.get(project_id)
            if node is None:
                name = summary.project_names.get(project_id, "") if project_id is not None else ""
                node = _Section(self.root, len(self.root.children), project_id, name or "Not in a project")
                self.root.children.append(node)
                self.sections.append(node)
                parents[project_id] = node
            return node

        for info in summary.groups:
            parent = parent_of(info.project_id)
            key: GroupKey = (info.project_id, info.key)
            group = _Group(parent, len(parent.children), info, None, summary.item_order.get(key, []))
            parent.children.append(group)
            self.groups.append(group)
        for kept in summary.kept:
            parent = parent_of(kept.project_id)
            key = (kept.project_id, kept.key or "")
            group = _Group(parent, len(parent.children), None, kept, summary.kept_order.get(key, []))
            parent.children.append(group)
            self.groups.append(group)

    @property
    def plan(self) -> Plan | None:
        return self.summary.plan if self.summary else None

    def set_read_only(self, value: bool) -> None:
        self.read_only = value
        if self.root.children:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.root.children) - 1, 0))

    def loaded_item_ids(self) -> list[int]:
        """The ids of the item rows paged in so far (a 100,000-item plan has only a few pages loaded)."""
        return [c.item.id for g in self.groups for c in g.children if isinstance(c, _Row) and c.item is not None]

    def set_outcomes(self, outcomes: dict[int, tuple[str, str]], run_id: int | None = None) -> None:
        """``{plan item id: (outcome, detail)}`` from the run for the rows loaded now; with ``run_id``,
        rows paged in later read theirs as they come. The plan becomes read-only."""
        self.outcomes.update(outcomes)
        self.outcome_run = run_id
        self.read_only = True
        self._changed_everywhere()

    def _changed_everywhere(self) -> None:
        last = len(self.COLUMNS) - 1

        def walk(node: _Node, parent: QModelIndex) -> None:
            if node.children:
                self.dataChanged.emit(self.index(0, 0, parent), self.index(len(node.children) - 1, last, parent))
                for child in node.children:
                    if child.children:
                        walk(child, self.index(child.row, 0, parent))

        walk(self.root, QModelIndex())

    def canFetchMore(self, parent: Index) -> bool:
        node = self._node(parent)
        return isinstance(node, _Group) and len(node.children) < len(node.order)

    def fetchMore(self, parent: Index) -> None:
        node = self._node(parent)
        if not isinstance(node, _Group) or self.summary is None:
            return
        first = len(node.children)
        ids = node.order[first:first + PAGE]
        new: list[_Row]
        if node.info is not None:
            items = items_by_ids(self.catalog, ids)
            for item in items:
                if item.id in self._selected_now:
                    item.selected = self._selected_now[item.id]
            new = [_Row(node, first + n, item=item) for n, item in enumerate(items)]
            if self.outcome_run is not None and items:
                self.outcomes.update(run_outcomes(self.catalog, self.outcome_run, [i.id for i in items]))
        else:
            new = [_Row(node, first + n, kept=k) for n, k in enumerate(kept_by_ids(self.catalog, ids))]
        if len(new) < len(ids):  # rows gone from the catalog meanwhile: stop asking for them
            del node.order[first + len(new):]
        if not new:
            return
        self.beginInsertRows(self.index(node.row, 0, self._index_of(node.parent)), first, first + len(new) - 1)
        node.children.extend(new)
        self.endInsertRows()

    def fetch_all(self) -> None:
        """Load every row (tests and small plans)."""
        for group in self.groups:
            index = self._index_of(group)
            while self.canFetchMore(index):
                before = len(group.children)
                self.fetchMore(index)
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
        verb = "upload" if self.summary.upload else "trash" if self.summary.trash else "delete"
        return total_line(files, nbytes, kept, self.summary.objects, verb)

    # ------------------------------------------------------------ sorting
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Ask for rows by name (Item column, natural order) or by size; the pane reads the new order in a
        worker. Size sorts largest first when the header says descending."""
        if self.summary is None or self.on_sort is None or column not in (self.ITEM, self.SIZE):
            return
        by = "size" if column == self.SIZE else "name"
        descending = order == Qt.SortOrder.DescendingOrder
        if (by, descending) != (self.summary.sort, self.summary.descending):
            self.on_sort(by, descending)

    # ------------------------------------------------------------ Qt model
    def _node(self, index: Index) -> _Node | None:
        if not index.isValid():
            return None
        node = index.internalPointer()
        return node if isinstance(node, _Node) else None

    def _index_of(self, node: _Node | None) -> QModelIndex:
        if node is None or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, 0, node)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(self.COLUMNS) or row < 0:
            return QModelIndex()
        node = self._node(parent) if parent.isValid() else self.root
        if node is None or row >= len(node.children):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        node = self._node(index)
        if node is None or node.parent is None:
            return QModelIndex()
        return self._index_of(node.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self.root.children)
        node = self._node(parent)
        return len(node.children) if node is not None and parent.column() == 0 else 0

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if not parent.isValid():
            return bool(self.root.children)
        node = self._node(parent)
        if parent.column() != 0:
            return False
        if isinstance(node, _Group):
            return bool(node.order)
        return isinstance(node, _Section) and bool(node.children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return {self.ITEM: "Click to sort by name (scene-2 before scene-10)",
                    self.SIZE: "Click to sort by size; click again for largest first"}.get(section)
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
        if isinstance(node, _Row):
            return self._row_data(node, index.column(), role)
        if isinstance(node, _Group):
            return self._group_data(node, index.column(), role)
        if isinstance(node, _Section):
            return self._section_data(node, index.column(), role)
        return None

    def _section_data(self, section: _Section, col: int, role: int) -> Any:
        groups = section.groups()
        items = [g.info for g in groups if g.info is not None]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.ITEM:
                count = sum(i.count for i in items)
                kept = sum(g.count for g in groups if g.kept is not None)
                text = f"{section.name} — {count_noun(count, 'item')}"
                return text + (f", {kept:,} kept" if kept else "")
            if col == self.SIZE:
                return size_text(sum(i.bytes for i in items))
            return None
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 1.08)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and col == self.ITEM:
            root = self.summary.project_roots.get(section.project_id, "") if self.summary and section.project_id else ""
            return f"{section.name}\n{display_path(root)}" if root else section.name
        if role == Qt.ItemDataRole.DecorationRole and col == self.ITEM:
            return _icon(QStyle.StandardPixmap.SP_DirIcon)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _group_data(self, group: _Group, col: int, role: int) -> Any:
        info = group.info
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.ITEM:
                if info is None:
                    key = group.kept.key if group.kept is not None else None
                    label = KEPT_BY_YOU if group.kept_by_you else f"Kept: {plain(key)}" if key else "Kept back"
                else:
                    label = plain(group_label(info.key))
                return f"{label} — {count_noun(group.count, 'item')}"
            if col == self.SIZE:
                return size_text(group.bytes) if info is not None or group.bytes else None
            if col == self.WHY and group.kept_by_you:
                return "you left these out: every later plan keeps them, automatic ones too, until you put them back"
            if col == self.WHY and info is None and group.kept is not None:
                return plain(group.kept.reasons)
            return None
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.CheckStateRole and col == self.ITEM and info is not None:
            if info.sel_count == info.count:
                return Qt.CheckState.Checked
            return Qt.CheckState.Unchecked if info.sel_count == 0 else Qt.CheckState.PartiallyChecked
        if role == Qt.ItemDataRole.ToolTipRole and col in (self.ITEM, self.WHY):
            if group.kept_by_you:
                return ("What you left out of a plan is kept by every later plan, automatic cleanups included, until "
                        "you put it back (select an item, then Put back in its context menu or Ctrl+B). Keep files "
                        "matching a pattern with Ctrl+K.")
            if info is None:
                reasons = plain(group.kept.reasons) if group.kept is not None else ""
                return "Left alone by this plan: " + reasons
            return (f"{count_noun(info.count, 'item')}, {size_text(info.bytes)}; {info.sel_count:,} selected "
                    f"({size_text(info.sel_bytes)}). Uncheck to leave the whole group out.")
        if role == Qt.ItemDataRole.DecorationRole and col == self.ITEM and info is None:
            return _icon(QStyle.StandardPixmap.SP_DialogSaveButton if group.kept_by_you
                         else QStyle.StandardPixmap.SP_MessageBoxInformation)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def shown_path(self, row: _Row) -> str:
        """The row's path relative to its project's folder (its key for objects); a folder ends in ``/``."""
        item, kept = row.item, row.kept
        target = item.target if item else kept.target if kept else ""
        project_id = item.project_id if item else kept.project_id if kept else None
        base = item.root if item and item.root else ""
        if not base and self.summary and project_id is not None:
            base = self.summary.project_roots.get(project_id, "")
        shown = os.path.relpath(target, base) if base and target.startswith(base + os.sep) else target
        return display_path(shown) + ("/" if item and item.action is Action.DELETE_DIR else "")

    def why(self, row: _Row) -> str:
        """The row's reason in full: the rule that chose it, why it is kept, or what happened to it."""
        item, kept = row.item, row.kept
        outcome = self.outcomes.get(item.id) if item is not None else None
        if outcome is not None and outcome[0] in ("failed", "skipped"):
            return f"{outcome_word(outcome[0])}: {plain(outcome[1])}" if outcome[1] else outcome_word(outcome[0])
        if item is not None:
            return plain(item.rule)
        if kept is not None:
            if row.group.kept_by_you and kept.detail:  # the group says "Kept by you"; the row says which choice
                return plain(kept.detail.removeprefix("kept by you: "))
            return plain(kept.reason + (f": {kept.detail}" if kept.detail else ""))
        return ""

    def _row_data(self, row: _Row, col: int, role: int) -> Any:
        item, kept = row.item, row.kept
        outcome = self.outcomes.get(item.id) if item is not None else None
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.ITEM:
                return self.shown_path(row)
            if col == self.SIZE:
                return size_text(item.size if item else kept.size if kept else 0)
            if col == self.PROJECT:
                project_id = item.project_id if item else kept.project_id if kept else None
                return self.summary.project_names.get(project_id, "") if self.summary and project_id else ""
            if col == self.WHY:
                return self.why(row)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            target = item.target if item else kept.target if kept else ""
            text = display_path(target)
            if outcome is not None:
                text += f"\n{outcome_word(outcome[0])}" + (f": {plain(outcome[1])}" if outcome[1] else "")
            elif kept is not None:
                text += "\nkept back: " + self.why(row)
            elif item is not None:
                text += "\n" + self.why(row)
            return text
        if role == Qt.ItemDataRole.CheckStateRole and col == self.ITEM and item is not None:
            return Qt.CheckState.Checked if item.selected else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and col == self.ITEM and outcome is not None:
            return _outcome_icon(outcome[0])
        if role == Qt.ItemDataRole.ForegroundRole:
            if outcome is not None and outcome[0] == "failed":
                return _ITEM_BRUSHES["failed"]
            done = ("deleted", "trashed", "already_gone", "uploaded")
            if outcome is not None and outcome[0] in done or kept is not None:
                return _ITEM_BRUSHES["settled"]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.SIZE:
            return RIGHT_ALIGNED
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or self.read_only or index.column() != 0:
            return False
        node = self._node(index)
        checked = _is_checked(value)
        if isinstance(node, _Row) and node.item is not None:
            if node.item.selected == checked:
                return True
            self._toggle_row(node, checked)
            self.dataChanged.emit(index, self.index(index.row(), len(self.COLUMNS) - 1, index.parent()))
            self._group_changed(node.group)
            if self.on_toggle:
                self.on_toggle([node.item.id], checked)
            self.totalsChanged.emit()
            return True
        if isinstance(node, _Group) and node.info is not None:
            info = node.info
            info.sel_count, info.sel_files, info.sel_bytes = (
                (info.count, info.files, info.bytes) if checked else (0, 0, 0))
            for child in node.children:
                if isinstance(child, _Row) and child.item:
                    child.item.selected = checked
            for item_id in node.order:
                self._selected_now.pop(item_id, None)
            self._group_changed(node)
            if node.children:
                self.dataChanged.emit(self.index(0, 0, index), self.index(len(node.children) - 1, 0, index))
            if self.on_toggle:  # this project's group only: by its row ids, not by the group's name
                self.on_toggle(list(node.order), checked)
            self.totalsChanged.emit()
            return True
        return False

    def _group_changed(self, group: _Group) -> None:
        index = self._index_of(group)
        self.dataChanged.emit(index, index)
        if isinstance(group.parent, _Section):
            section = self._index_of(group.parent)
            self.dataChanged.emit(section, section)

    def _toggle_row(self, row: _Row, checked: bool) -> None:
        item = row.item
        info = row.group.info
        assert item is not None and info is not None
        item.selected = checked
        self._selected_now[item.id] = checked
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
                assert isinstance(child, _Row)
                value = child.item.target if child.item else child.kept.target if child.kept else None
                if value == target:
                    return self.createIndex(child.row, 0, child)
        return QModelIndex()

    def kept_by_you_rows(self, indexes: list[QModelIndex]) -> list[int]:
        """The ``plan_kept`` ids of the "Kept by you" rows among ``indexes`` (a whole group for its own row)."""
        ids: list[int] = []
        for index in indexes:
            node = self._node(index)
            if isinstance(node, _Row) and node.group.kept_by_you and node.kept is not None:
                ids.append(node.kept.id)
            elif isinstance(node, _Group) and node.kept_by_you:
                ids.extend(node.order)
        return list(dict.fromkeys(ids))

    def kept_by_you_groups(self) -> list[_Group]:
        return [g for g in self.groups if g.kept_by_you]

    def project_at(self, index: Index) -> int | None:
        """The project of the row, group or project node at ``index`` (``None`` for plans without projects)."""
        node = self._node(index)
        while node is not None:
            if isinstance(node, _Section):
                return node.project_id
            if isinstance(node, _Group):
                if node.info is not None:
                    return node.info.project_id
                return node.kept.project_id if node.kept is not None else None
            node = node.parent
        ids = self.project_ids()
        return ids[0] if len(ids) == 1 else None

    def project_ids(self) -> list[int]:
        """The projects the shown plan has items or kept-back rows of."""
        ids = [g.info.project_id if g.info is not None else g.kept.project_id if g.kept is not None else None
               for g in self.groups]
        return sorted({i for i in ids if i is not None})

    def relative_path(self, index: Index) -> str:
        """The row's path relative to its project's folder (``""`` for groups), as :meth:`shown_path`."""
        node = self._node(index)
        return self.shown_path(node).rstrip("/") if isinstance(node, _Row) else ""

    @staticmethod
    def group_key(group: _Group) -> GroupKey:
        """The group's ``(project id, key)``, the same across two orders of one plan."""
        if group.info is not None:
            return group.info.project_id, group.info.key
        kept = group.kept
        return (kept.project_id, kept.key or "") if kept is not None else (None, "")

    @staticmethod
    def rows_of(group: _Group) -> list[_Row]:
        return [c for c in group.children if isinstance(c, _Row)]

    def group_index(self, group: _Group) -> QModelIndex:
        return self._index_of(group)

    def section_index(self, section: _Section) -> QModelIndex:
        return self._index_of(section)


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
        "trashed": QStyle.StandardPixmap.SP_TrashIcon,
        "uploaded": QStyle.StandardPixmap.SP_ArrowUp,
    }.get(outcome)
    return _icon(which) if which is not None else None
