"""The keep-list in the window (invariant 14): Put back and Keep files matching… on the preview's "Kept by you"
group, and a project's keep-list dialog. Every edit runs in the deleting pool (it changes what a run does),
then the preview is made again so it shows what the next run would do."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import KnownError
from ..core.keepedit import (
    KeptBy,
    PatternMatch,
    clean_pattern,
    entries_keeping,
    entry_words,
    forget_entries,
    keep_pattern,
    pattern_matches,
)
from ..core.keeplist import KeepEntry, keep_entries
from .dialogs import SubmitDialog
from .messages import error_text
from .models import local_time, relative_time
from .wording import count_noun, size_text
from .workers import Task, TaskContext

if TYPE_CHECKING:
    from .main_window import MainWindow

PATTERN_HINT = ("Relative to the project's folder. * and ? match within one folder name, ** across folders: "
                "**/*.wav keeps every .wav file of the project, .cache/audio/** everything under .cache/audio. "
                "Every later plan keeps what matches, automatic cleanups included, until you put it back.")


def suggested_pattern(rel: str) -> str:
    """A pattern to start from for a row: its folder and its kind of file (``.cache/audio/p1/*.mp3``)."""
    if not rel:
        return ""
    folder, name = os.path.split(rel)
    ext = os.path.splitext(name)[1]
    wild = f"*{ext}" if ext else "*"
    return f"{folder}/{wild}" if folder else wild


def entries_words(n: int) -> str:
    return f"{n:,} entr{'y' if n == 1 else 'ies'}"


def match_words(match: PatternMatch) -> str:
    if not match.count:
        return "Matches nothing this preview would delete (it may match files of later plans)."
    shown = ", ".join(match.examples)
    more = "…" if match.count > len(match.examples) else ""
    return (f"Keeps {count_noun(match.count, 'item')} of this preview ({size_text(match.nbytes)}): "
            f"{shown}{more}")


class KeepPatternDialog(SubmitDialog):
    """``keepPatternDialog``: a pattern for one project (or the temp folder), with what it keeps of the preview
    shown as it is typed (``count(project_id, pattern)`` returns the :class:`Task` measuring it)."""

    def __init__(self, parent: QWidget | None, places: list[tuple[int | None, str]], pattern: str = "",
                 chosen: int | None = None, count: Callable[[int | None, str], Task] | None = None,
                 submit: Callable[[Any], Task | None] | None = None) -> None:
        super().__init__(parent, submit)
        self.setObjectName("keepPatternDialog")
        self.setWindowTitle("Keep files matching a pattern")
        self.count = count
        self.pattern = QLineEdit(pattern)
        self.pattern.setObjectName("keepPattern")
        self.pattern.setPlaceholderText("for example **/*.wav")
        self.place = QComboBox()
        for place_id, name in places:
            self.place.addItem(name, place_id)
        if chosen is not None and self.place.findData(chosen) >= 0:
            self.place.setCurrentIndex(self.place.findData(chosen))
        self.matches = QLabel("")
        self.matches.setObjectName("patternMatches")
        self.matches.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Pattern:", self.pattern)
        form.addRow("In:", self.place)
        form.addRow("", self.matches)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Keep")
        hint = QLabel(PATTERN_HINT)
        hint.setWordWrap(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(600, self.sizeHint().height())
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.measure)
        self.pattern.textChanged.connect(lambda _: self._timer.start())
        self.place.currentIndexChanged.connect(lambda _: self._timer.start())
        self.measuring: Task | None = None
        self.pattern.setFocus()
        if count is not None and pattern:
            self._timer.start()

    def value(self) -> tuple[int | None, str]:
        return self.place.currentData(), self.pattern.text()

    def measure(self) -> Task | None:
        """What the pattern keeps of the preview, measured in a worker."""
        if self.count is None:
            return None
        place, text = self.value()
        try:
            clean_pattern(text)
        except KnownError as exc:
            self.matches.setText(error_text(exc))
            return None
        task = self.count(place, text)
        self.measuring = task

        def done(match: PatternMatch | None, error: BaseException | None) -> None:
            if self.measuring is task:
                self.matches.setText(error_text(error) if error else match_words(match) if match else "")

        task.finished.connect(done)
        return task


def _plan_places(window: MainWindow) -> tuple[list[tuple[int | None, str]], str]:
    """Where a pattern for the shown plan can go: its projects (by name), or its temp folder."""
    summary = window.pane.model.summary
    if summary is None:
        return [], ""
    if summary.plan.kind == "temp":
        root = str(summary.plan.params.get("temp_root") or "")
        return ([(None, f"the temp folder {root}")] if root else []), root
    if summary.plan.kind in ("sweep", "upload"):
        return [], ""
    return [(pid, summary.project_names.get(pid, str(pid))) for pid in window.pane.model.project_ids()], ""


def keep_matching(window: MainWindow) -> KeepPatternDialog | None:
    """Keep files matching… for the shown plan, starting from the current row's folder and kind of file."""
    places, temp_root = _plan_places(window)
    plan = window.pane.model.plan
    if not places or plan is None:
        window.say("Keep patterns are for cleanup, orphan and temp folder previews: make one first.", 6000)
        return None
    current = window.planView.currentIndex()
    plan_id = plan.id

    def count(place: int | None, text: str) -> Task:
        return window.workers.run_task(lambda ctx: pattern_matches(window.catalog, plan_id, text, project_id=place),
                                       None, name="pattern matches")

    def submit(dialog: KeepPatternDialog) -> Task:
        place, text = dialog.value()
        clean_pattern(text)  # a KnownError is shown in the dialog

        def work(ctx: TaskContext) -> str:
            return keep_pattern(window.catalog, text, project_id=place, root=temp_root)

        def done(stored: str | None, error: BaseException | None) -> None:
            if error is None:
                edited(window, f"Kept everything matching {stored}: every later plan keeps it back.")

        return window.workers.run_task(work, done, name="keep pattern", destructive=True)

    dialog = KeepPatternDialog(window, places, suggested_pattern(window.pane.model.relative_path(current)),
                               window.pane.model.project_at(current), count, submit)
    window.keep_dialog = dialog
    window.run_dialog(dialog)
    return dialog


def edited(window: MainWindow, text: str) -> None:
    """A keep-list edit is saved: say so, and make the preview again so it shows what the next run would do."""
    if window.flow.confirmable_plan() is not None and window.flow.refresher() is not None:
        window.flow.refresh(note=f"{text} This preview was made again to show it.")
    else:
        window.say(f"{text} The next preview shows it.", 10000)


def put_back(window: MainWindow) -> Task | None:
    """Put back the selected "Kept by you" rows: their keep-list entries are forgotten (asked first when an
    entry is a pattern or a folder, which keeps more than the rows chosen), then the preview is made again."""
    model, view = window.pane.model, window.planView
    plan = model.plan
    indexes = view.selectionModel().selectedRows(0) or ([view.currentIndex()] if view.currentIndex().isValid()
                                                        else [])
    ids = model.kept_by_you_rows(indexes)
    if plan is None or not ids:
        window.say("Select items in “Kept by you” to put them back.", 6000)
        return None
    plan_id = plan.id

    def found(keeping: list[KeptBy] | None, error: BaseException | None) -> None:
        if error is not None or keeping is None:
            window.show_error(error)
            return
        if not keeping:
            window.say("Nothing to put back: the keep-list no longer keeps these items.", 6000)
            return
        entries = [k.entry for k in keeping]
        broad = [k.entry for k in keeping if not k.exact]
        if broad:
            names = "; ".join(entry_words(e) for e in broad)
            box = window.confirmation_box(
                f"Put back {names}?\n\nIt keeps more than the items you selected: everything it keeps can be "
                f"planned again, and cleaned by an automatic cleanup without a preview.", "Put back", "Put back")
            if not window.ask_confirmation_box(box):
                return
        words = ", ".join(entry_words(e) for e in entries)

        def forgotten(_: object, err: BaseException | None) -> None:
            if err is not None:
                window.show_error(err)
            else:
                edited(window, f"Put back {words}: the next plans include it again.")

        window.workers.run_task(lambda ctx: forget_entries(window.catalog, [e.id for e in entries]), forgotten,
                                name="put back", destructive=True)

    return window.workers.run_task(lambda ctx: entries_keeping(window.catalog, plan_id, ids), found,
                                   name="keeping entries")


class KeepListDialog(QDialog):
    """``keepListDialog``: what one project's keep-list keeps (``keepListView``), with Put back and Keep files
    matching…; each change is saved at once (the dialog stays open)."""

    def __init__(self, window: MainWindow, project_id: int, name: str) -> None:
        super().__init__(window)
        self.setObjectName("keepListDialog")
        self.setWindowTitle(f"Kept by you — {name}")
        self.window_ = window
        self.project_id = project_id
        self.entries: list[KeepEntry] = []
        self.caption = QLabel("Reading the keep-list…")
        self.caption.setWordWrap(True)
        self.view = QTableWidget(0, 3)
        self.view.setObjectName("keepListView")
        self.view.setHorizontalHeaderLabels(["Kept", "What", "Since"])
        self.view.verticalHeader().setVisible(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.putBackButton = QPushButton("Put back")
        self.putBackButton.setObjectName("keepListPutBack")
        self.putBackButton.setToolTip("Forget the selected entries: later plans may include what they kept")
        self.putBackButton.clicked.connect(lambda: self.put_back())
        self.patternButton = QPushButton("Keep files matching…")
        self.patternButton.clicked.connect(lambda: self.add_pattern())
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.putBackButton)
        row.addWidget(self.patternButton)
        row.addStretch(1)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        self.resize(640, 360)
        self.view.setFocus()
        self.load()

    def load(self) -> Task:
        def done(entries: list[KeepEntry] | None, error: BaseException | None) -> None:
            if error is not None or entries is None:
                self.caption.setText(error_text(error) if error else "")
                return
            self.entries = entries
            self.view.setRowCount(len(entries))
            for n, e in enumerate(entries):
                what = "files matching this pattern" if e.pattern else "this item (a folder keeps all inside it)"
                for col, text in enumerate((entry_words(e).removeprefix("the pattern "), what,
                                            relative_time(e.created_at))):
                    cell = QTableWidgetItem(text)
                    cell.setToolTip(f"{e.root}/{e.path}\nkept since {local_time(e.created_at)}")
                    self.view.setItem(n, col, cell)
            self.caption.setText(
                f"{entries_words(len(entries))}: every plan of this project keeps "
                f"them back, automatic cleanups included, until you put them back." if entries else
                "Nothing is kept: uncheck an item in a preview, or keep files matching a pattern.")
            if entries and not self.view.selectionModel().hasSelection():
                self.view.selectRow(0)

        return self.window_.workers.run_task(lambda ctx: keep_entries(self.window_.catalog,
                                                                      project_id=self.project_id), done,
                                             name="keep-list")

    def put_back(self) -> Task | None:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        ids = [self.entries[r].id for r in rows if r < len(self.entries)]
        if not ids:
            return None

        def done(_: object, error: BaseException | None) -> None:
            if error is not None:
                self.caption.setText(error_text(error))
                return
            self.load()
            edited(self.window_, f"Put back {entries_words(len(ids))} of the keep-list.")

        return self.window_.workers.run_task(lambda ctx: forget_entries(self.window_.catalog, ids), done,
                                             name="put back", destructive=True)

    def add_pattern(self) -> KeepPatternDialog:
        def submit(dialog: KeepPatternDialog) -> Task:
            _, text = dialog.value()
            clean_pattern(text)

            def done(stored: str | None, error: BaseException | None) -> None:
                if error is None:
                    self.load()
                    edited(self.window_, f"Kept everything matching {stored}: every later plan keeps it back.")

            return self.window_.workers.run_task(
                lambda ctx: keep_pattern(self.window_.catalog, text, project_id=self.project_id), done,
                name="keep pattern", destructive=True)

        name = self.windowTitle().removeprefix("Kept by you — ")
        dialog = KeepPatternDialog(self, [(self.project_id, name)], "", self.project_id, None, submit)
        self.window_.keep_dialog = dialog
        self.window_.run_dialog(dialog)
        return dialog


def keep_list(window: MainWindow, project_id: int | None = None) -> KeepListDialog | None:
    """The keep-list of the selected project (or ``project_id``)."""
    if project_id is None:
        chosen = window.selected_projects()
        if not chosen:
            window.say("Select a project to see what is kept in it.", 6000)
            return None
        project_id, name = chosen[0].id, chosen[0].name
    else:
        found = [p for p in window.projects_model.projects if p.id == project_id]
        name = found[0].name if found else str(project_id)
    dialog = KeepListDialog(window, project_id, name)
    window.keep_list_dialog = dialog
    window.run_dialog(dialog)
    return dialog
