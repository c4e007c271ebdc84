"""The preferences dialog: reads and writes the catalog's preferences through ``catalog.set_pref``."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog, display_path, iso, pref_range
from ..core.errors import ConfigError, KnownError
from ..core.projects import env_allows_auto_cleanup
from ..core.scheduler import (
    JobState,
    Scheduler,
    add_temp_root,
    remove_temp_root,
    temp_roots,
)
from .models import local_time
from .pref_fields import TABS, PrefField
from .remotes import ERROR_COLOUR, RemotesPage, error_sentence
from .workers import Task, TaskContext, Workers

#: The largest value a QSpinBox holds.
QT_INT_MAX = 2**31 - 1


class PreferencesDialog(QDialog):
    """Tabs of preference fields; OK stores what changed. A bad value is one sentence, not a crash."""

    def __init__(self, catalog: Catalog, parent: QWidget | None = None, workers: Workers | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self.catalog = catalog
        self.workers = workers or Workers(self)
        self.prefs = catalog.prefs()
        self.widgets: dict[str, QWidget] = {}
        self.fields: dict[str, PrefField] = {}
        self.tabs = QTabWidget()
        for title, fields in TABS.items():
            page = QWidget()
            form = QFormLayout(page)
            for f in fields:
                if f.key not in self.prefs:
                    continue
                widget = self._make(f, self.prefs[f.key])
                widget.setToolTip(f.tip)
                widget.setObjectName(f"pref_{f.key}")
                self.widgets[f.key] = widget
                self.fields[f.key] = f
                form.addRow(f.label + ":", widget)
            if title == "Cleanup" and not env_allows_auto_cleanup():
                note = QLabel("AUTO_CLEANUP_ENABLED=false is set in the environment: auto-cleanup stays off "
                              "whatever is chosen here.")
                note.setWordWrap(True)
                form.addRow(note)
            if title == "Schedule":
                self._schedule_extras(form)
            self.tabs.addTab(page, title)
        self.remotes = RemotesPage(catalog, self.workers)
        self.tabs.addTab(self.remotes, "Remotes")
        self.error = QLabel("")
        self.error.setObjectName("prefsError")
        self.error.setStyleSheet("color: #b3261e;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(640, 480)

    @staticmethod
    def _make(f: PrefField, value: Any) -> QWidget:
        if f.kind == "bool":
            box = QCheckBox("enabled")
            box.setChecked(bool(value))
            return box
        if f.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(f.choices))
            combo.setCurrentText(str(value))
            return combo
        low, high = pref_range(f.key) or (0, QT_INT_MAX)  # what the catalog accepts (it refuses the rest)
        if f.kind == "share":
            spin = QDoubleSpinBox()
            spin.setRange(low * 100.0, high * 100.0)
            spin.setDecimals(0)
            spin.setSuffix(f.suffix)
            spin.setValue(float(value) * 100.0)
            return spin
        ispin = QSpinBox()
        ispin.setRange(int(low), int(min(high, QT_INT_MAX)))  # a QSpinBox holds 32-bit ints
        ispin.setSuffix(f.suffix)
        if f.kind == "minutes":
            ispin.setSpecialValueText("off")
        ispin.setValue(int(value))
        return ispin

    def _schedule_extras(self, form: QFormLayout) -> None:
        """The Schedule tab: each job's last and next run, and the temp roots the temp sweep visits."""
        note = QLabel("While the window is open one scheduler runs these jobs (0 = off); runs are recorded as "
                      "started by the schedule and you are notified after each. A run missed while the window "
                      "was closed runs once when it opens.")
        note.setWordWrap(True)
        form.addRow(note)
        self.jobStates = QLabel("")
        self.jobStates.setObjectName("scheduleStates")
        self.jobStates.setWordWrap(True)
        try:
            self.jobStates.setText("\n".join(describe_job(state) for state in Scheduler(self.catalog).states()))
        except Exception as exc:  # noqa: BLE001 — a catalog without the schedule tables: say it, do not crash
            self.jobStates.setText(f"The schedule cannot be read: {exc}")
        form.addRow("Jobs:", self.jobStates)
        self.tempRoots = QListWidget()
        self.tempRoots.setObjectName("tempRootsList")
        self.tempRoots.setToolTip("Render back ends' temp folders; only folders named like "
                                  "intro_*, trim_*, concatenate_* … in them are ever deleted")
        self.tempRoots.setMaximumHeight(90)
        add = QPushButton("Add folder…")
        add.setObjectName("addTempRootButton")
        remove = QPushButton("Remove")
        remove.setObjectName("removeTempRootButton")
        add.clicked.connect(lambda: self._pick_temp_root())
        remove.clicked.connect(lambda: self.remove_temp_root())
        self.tempStatus = QLabel("")
        self.tempStatus.setObjectName("tempRootsStatus")
        self.tempStatus.setWordWrap(True)
        buttons = QVBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.tempRoots, 1)
        row_layout.addLayout(buttons)
        form.addRow("Temp roots:", row)
        form.addRow(self.tempStatus)
        self.reload_temp_roots()

    def reload_temp_roots(self) -> Task:
        def done(roots: list[str] | None, error: BaseException | None) -> None:
            if error is not None:
                self.tempStatus.setText(error_sentence(error))
                return
            self.tempRoots.clear()
            self.tempRoots.addItems([display_path(r) for r in roots or []])
            for n, root in enumerate(roots or []):
                self.tempRoots.item(n).setData(256, root)  # Qt.UserRole: the real path
            if not roots:
                self.tempStatus.setText("No temp root yet: the scheduled temp sweep has nothing to visit.")

        return self.workers.run_task(lambda ctx: temp_roots(self.catalog), done, name="temp roots")

    def _pick_temp_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a render temp folder")
        if folder:
            self.add_temp_root(folder)

    def add_temp_root(self, folder: str) -> Task:
        """Register a temp root (``core.scheduler.add_temp_root``) in a worker."""
        def done(real: str | None, error: BaseException | None) -> None:
            if error is not None:
                self.tempStatus.setStyleSheet(ERROR_COLOUR)
                self.tempStatus.setText(error_sentence(error))
                return
            self.tempStatus.setStyleSheet("")
            self.tempStatus.setText(f"Added {real}.")
            self.reload_temp_roots()

        def work(ctx: TaskContext) -> str:
            from ..core.roots import TEMP_ROOT, why_broad

            why = why_broad(folder, TEMP_ROOT)
            if why is not None:  # a scheduled sweep runs without asking: such a folder is never one of its roots
                raise ConfigError(f"The folder {folder} {why}: too broad for a scheduled temp sweep, which deletes "
                                  f"without asking. Choose the folder your renderer writes its temp folders to.")
            return add_temp_root(self.catalog, folder)

        return self.workers.run_task(work, done, name="temp roots")

    def remove_temp_root(self, folder: str | None = None) -> Task | None:
        """Forget a temp root (its files are not touched)."""
        if folder is None:
            item = self.tempRoots.currentItem()
            if item is None:
                return None
            folder = str(item.data(256))

        def done(_: Any, error: BaseException | None) -> None:
            if error is not None:
                self.tempStatus.setText(error_sentence(error))
                return
            self.tempStatus.setStyleSheet("")
            self.tempStatus.setText(f"Removed {folder}; its files were not touched.")
            self.reload_temp_roots()

        return self.workers.run_task(lambda ctx: remove_temp_root(self.catalog, folder), done, name="temp roots")

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, widget in self.widgets.items():
            if isinstance(widget, QCheckBox):
                out[key] = widget.isChecked()
            elif isinstance(widget, QComboBox):
                out[key] = widget.currentText()
            elif isinstance(widget, QDoubleSpinBox):
                out[key] = round(widget.value() / 100.0, 4)
            elif isinstance(widget, QSpinBox):
                out[key] = widget.value()
        return out

    def changed(self) -> dict[str, Any]:
        return {k: v for k, v in self.values().items() if v != self.prefs.get(k)}

    def accept(self) -> None:
        try:
            for key, value in self.changed().items():
                self.catalog.set_pref(key, value)
        except KnownError as exc:
            self.error.setText(str(exc))
            return
        super().accept()


def describe_job(state: JobState) -> str:
    """``Temp sweep: every 60 min; last run 2026-11-21 10:00:00 (complete); next 11:00:00`` for the Schedule tab."""
    if not state.enabled:
        return f"{state.job.label}: off"
    last = f"last run {local_time(iso(state.last_run_at))} ({state.last_status or 'running'})" \
        if state.last_run_at else "not run yet (runs when the window opens)"
    text = f"{state.job.label}: every {state.interval_minutes} min; {last}"
    if state.next_due_at:
        text += f"; next {local_time(iso(state.next_due_at))}"
    if state.missed_count:
        text += f"; {state.missed_count} run(s) missed so far"
    return text
