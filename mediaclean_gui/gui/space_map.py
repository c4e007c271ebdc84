"""The map of the space: a squarified treemap of reclaimable bytes (project → role) you click to drill down,
and the header with each disk's free space now and after the plan shown."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ..core.projects import Project
from ..core.space import DiskSpace, disk_space, squarify
from .breakdown import ROLE_STYLE
from .wording import size_text
from .workers import Task, Workers

#: Roles a cleanup, upload or sweep may reclaim (the protected ones never appear in the map).
RECLAIMABLE_ROLES = ("intermediate", "shared_cache", "output", "temp", "source")
#: Tile colours for projects, in turn (roles use the breakdown's colours).
PROJECT_COLOURS = ("#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#e53935", "#6d4c41", "#3949ab",
                   "#c0ca33", "#5e35b1")


def rank_projects(projects: list[Project]) -> list[Project]:
    """The projects with reclaimable bytes, largest first (ties by name): the map's tiles in order."""
    return sorted((p for p in projects if p.reclaimable_bytes > 0), key=lambda p: (-p.reclaimable_bytes, p.name))


class Tile:
    """One rectangle of the map: a project (``project_id``), one of its roles (``role``) or one folder of
    that role (``folder``)."""

    def __init__(self, label: str, nbytes: int, colour: str, project_id: int, role: str = "",
                 folder: str = "") -> None:
        self.label = label
        self.bytes = nbytes
        self.colour = colour
        self.project_id = project_id
        self.role = role
        self.folder = folder
        self.rect = QRectF()


class SpaceMap(QWidget):
    """``spaceMap``: every project's reclaimable bytes as a treemap. Clicking a project's tile selects it
    (``projectClicked``) and drills into its roles; a role's tile into its folders (``roleClicked``: the
    window reads them in a worker and hands them to :meth:`set_folders`). The title line goes back to all
    projects; Escape, Backspace or a right-click go up one level."""

    projectClicked = Signal(int)
    roleClicked = Signal(int, str)
    HEADER = 22
    MAX_TILES = 150

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("spaceMap")
        self.setMinimumHeight(96)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMouseTracking(True)
        self.projects: list[Project] = []
        self.ranked: list[Project] = []
        self.selected: set[int] = set()
        self.focus_project: int | None = None  # drilled into this project, or None: all projects
        self.roles: dict[int, dict[str, tuple[int, int]]] = {}
        self.focus_role = ""  # drilled into this role of focus_project ("": its roles)
        self.folders: list[tuple[str, int, int]] | None = None  # the folders of focus_role, once read
        self.tiles: list[Tile] = []
        self.setAccessibleName("Map of reclaimable space")

    def sizeHint(self) -> QSize:
        return QSize(360, 160)

    # ------------------------------------------------------------ contents
    def set_projects(self, projects: list[Project], ranked: list[Project] | None = None) -> None:
        """Every project; ``ranked`` is :func:`rank_projects` of them when the caller made it already."""
        self.projects = list(projects)
        self.ranked = ranked if ranked is not None else rank_projects(self.projects)
        known = {p.id for p in projects}
        if self.focus_project not in known:
            self.focus_project = None
        self.roles = {pid: sizes for pid, sizes in self.roles.items() if pid in known}
        self._layout()

    def set_selected(self, ids: set[int]) -> None:
        self.selected = set(ids)
        self.update()

    def set_roles(self, project_id: int, sizes: dict[str, tuple[int, int]]) -> None:
        """The role sizes of one project (read when it was selected): its tiles once drilled into."""
        self.roles[project_id] = dict(sizes)
        if self.focus_project == project_id:
            self._layout()

    def drill(self, project_id: int | None, role: str = "") -> None:
        """Show one project's roles (``None``: every project), or with ``role`` that role's folders."""
        self.focus_project = project_id
        self.focus_role = role if project_id is not None else ""
        self.folders = None
        self._layout()

    def set_folders(self, project_id: int, role: str, folders: list[tuple[str, int, int]]) -> None:
        """``(folder, bytes, files)`` of the role drilled into (``core.space.folder_sizes``)."""
        if (project_id, role) == (self.focus_project, self.focus_role):
            self.folders = list(folders)
            self._layout()

    def up(self) -> None:
        """One level up: folders → roles → all projects."""
        if self.focus_role:
            self.drill(self.focus_project)
        else:
            self.drill(None)

    def title(self) -> str:
        if self.focus_project is None:
            total = sum(t.bytes for t in self.tiles)
            return f"Reclaimable space — all projects · {size_text(total)}"
        project = next((p for p in self.projects if p.id == self.focus_project), None)
        name = project.name if project else "project"
        if self.focus_role:
            role = ROLE_STYLE.get(self.focus_role, (self.focus_role, ""))[0]
            return f"All projects › {name} › {role} (click here to go back)"
        return f"All projects › {name} (click here to go back)"

    def _layout(self) -> None:
        if self.focus_project is None:
            ranked = self.ranked
            shown, rest = ranked[:self.MAX_TILES], ranked[self.MAX_TILES:]
            self.tiles = [Tile(p.name, p.reclaimable_bytes, PROJECT_COLOURS[n % len(PROJECT_COLOURS)], p.id)
                          for n, p in enumerate(shown)]
            if rest:  # thousands of tiles are unreadable: the smallest share one
                self.tiles.append(Tile(f"{len(rest):,} smaller projects", sum(p.reclaimable_bytes for p in rest),
                                       "#9e9e9e", -1))
        elif self.focus_role:
            colour = QColor(ROLE_STYLE.get(self.focus_role, ("", "#9e9e9e"))[1])
            self.tiles = []
            for n, (folder, nbytes, _files) in enumerate((self.folders or [])[:self.MAX_TILES]):
                shade = colour.lighter(100 + (n % 4) * 12).name()
                self.tiles.append(Tile(folder, nbytes, shade, self.focus_project, self.focus_role, folder))
        else:
            sizes = self.roles.get(self.focus_project, {})
            ranked_roles = sorted(((r, b) for r, (b, _) in sizes.items() if r in RECLAIMABLE_ROLES and b > 0),
                                  key=lambda rb: -rb[1])
            self.tiles = [Tile(ROLE_STYLE.get(r, (r, ""))[0], b, ROLE_STYLE.get(r, ("", "#9e9e9e"))[1],
                               self.focus_project, r) for r, b in ranked_roles]
        area = QRectF(self.rect()).adjusted(6, self.HEADER + 2, -6, -4)
        rects = squarify([t.bytes for t in self.tiles], (area.x(), area.y(), area.width(), area.height()))
        for tile, (x, y, w, h) in zip(self.tiles, rects, strict=True):
            tile.rect = QRectF(x, y, w, h)
        self.setToolTip("\n".join(f"{t.label}: {size_text(t.bytes)}" for t in self.tiles[:20]))
        self.update()

    def tile_at(self, point: QPointF) -> Tile | None:
        return next((t for t in self.tiles if t.rect.contains(point)), None)

    # ------------------------------------------------------------ events
    def resizeEvent(self, event: object) -> None:
        self._layout()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = event.position()
        if event.button() == Qt.MouseButton.RightButton:
            self.up()
            return
        if point.y() < self.HEADER:
            self.drill(None)
            return
        tile = self.tile_at(point)
        if tile is None or tile.project_id < 0:
            return
        if self.focus_project is None:
            self.projectClicked.emit(tile.project_id)
            self.drill(tile.project_id)
        elif not self.focus_role:
            self.drill(tile.project_id, tile.role)
            self.roleClicked.emit(tile.project_id, tile.role)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Backspace) and self.focus_project is not None:
            self.up()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text_colour = pal.color(pal.ColorRole.WindowText)
        fm = QFontMetrics(self.font())
        bold = self.font()
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_colour)
        painter.drawText(QRectF(8, 2, self.width() - 16, self.HEADER), Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(self.title(), Qt.TextElideMode.ElideRight, self.width() - 16))
        painter.setFont(self.font())
        if not self.tiles:
            muted = QColor(text_colour)
            muted.setAlpha(150)
            painter.setPen(QPen(muted, 1, Qt.PenStyle.DashLine))
            box = QRectF(self.rect()).adjusted(6, self.HEADER + 2, -6, -4)
            painter.drawRoundedRect(box, 4, 4)
            if self.focus_project is None:
                words = ("Nothing to reclaim yet: projects show here once their final render exists and a scan "
                         "measured them.")
            elif self.focus_role and self.folders is None:
                words = "Measuring its folders…"
            else:
                words = "Nothing reclaimable here. Click the title to see every project."
            painter.drawText(box.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, words)
            painter.end()
            return
        for tile in self.tiles:
            r = tile.rect.adjusted(1, 1, -1, -1)
            if r.width() <= 0 or r.height() <= 0:
                continue
            colour = QColor(tile.colour)
            chosen = self.focus_project is None and tile.project_id in self.selected
            painter.setPen(QPen(QColor("#111111") if chosen else colour.darker(130), 3 if chosen else 1))
            painter.setBrush(colour.lighter(115) if chosen else colour)
            painter.drawRect(r)
            if r.width() > 40 and r.height() > fm.height() + 4:
                painter.setPen(QColor("white"))
                inner = r.adjusted(4, 2, -4, -2)
                text = fm.elidedText(tile.label, Qt.TextElideMode.ElideRight, int(inner.width()))
                painter.drawText(inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, text)
                if r.height() > 2 * fm.height() + 6:
                    painter.drawText(inner.adjusted(0, fm.height(), 0, 0),
                                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, size_text(tile.bytes))
        painter.end()


def free_space_words(disks: list[DiskSpace], freed: int, plan_roots: list[str], trash: bool = False) -> str:
    """The header: ``Free space: 81.9 GB of 270.6 GB on / · 82.0 GB after this plan``; one part per disk.
    ``freed`` bytes count on the disk holding ``plan_roots``; in trash mode nothing is freed until emptied."""
    if not disks:
        return "Free space: add a project to see its disk's free space."
    parts = []
    for disk in disks:
        text = f"{size_text(disk.free)} free of {size_text(disk.total)} on {disk.mount}"
        touched = freed > 0 and any(r == root or r.startswith(root.rstrip("/") + "/")
                                    for r in plan_roots for root in disk.roots)
        if touched:
            text += (" · the same after this plan until the trash is emptied" if trash
                     else f" · {size_text(disk.free + freed)} after this plan")
        parts.append(text)
    return "Free space: " + "; ".join(parts)


class FreeSpaceLabel(QLabel):
    """``freeSpaceLabel``: each project disk's free space now and after the plan shown (read in workers,
    again every 30 seconds)."""

    INTERVAL_MS = 30_000

    def __init__(self, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__("Free space: …", parent)
        self.setObjectName("freeSpaceLabel")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setToolTip("Free space on the disks holding your projects, now and once the plan shown is run")
        self.workers = workers
        self.roots: list[str] = []
        self.disks: list[DiskSpace] = []
        self.freed = 0
        self.plan_roots: list[str] = []
        self.trash = False
        self.task: Task | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(self.INTERVAL_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def set_roots(self, roots: list[str]) -> None:
        if roots != self.roots or not self.disks:
            self.roots = list(roots)
            self.refresh()

    def set_plan(self, freed: int, roots: list[str], trash: bool = False) -> None:
        self.freed, self.plan_roots, self.trash = freed, list(roots), trash
        self._show()

    def refresh(self) -> Task | None:
        if self.task is not None and not self.task.done:
            return self.task
        roots = list(self.roots)

        def done(disks: list[DiskSpace] | None, error: BaseException | None) -> None:
            self.task = None
            if disks is not None:
                self.disks = disks
                self._show()

        self.task = self.workers.run_task(lambda ctx: disk_space(roots), done, name="free space")
        return self.task

    def _show(self) -> None:
        self.setText(free_space_words(self.disks, self.freed, self.plan_roots, self.trash))

    def stop(self) -> None:
        self.timer.stop()
