"""The preferences dialog: reads and writes the catalog's preferences through ``catalog.set_pref``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog
from ..core.errors import KnownError
from ..core.projects import env_allows_auto_cleanup


@dataclass(frozen=True)
class PrefField:
    key: str
    label: str
    kind: str  # bool | int | share | choice
    tip: str
    suffix: str = ""
    maximum: int = 1_000_000_000
    choices: tuple[str, ...] = ()


TABS: dict[str, list[PrefField]] = {
    "Cleanup": [
        PrefField("auto_cleanup_enabled", "Auto-cleanup", "bool",
                  "Clean a project without a preview once its final output has appeared and settled "
                  "(each project can override this from the table's context menu)"),
        PrefField("settle_seconds", "Settle time", "int",
                  "How long a final output must stay unchanged before auto-cleanup touches the project", " s"),
        PrefField("delete_mode", "Delete mode", "choice",
                  "permanent: remove the files; trash: move them to the system trash", choices=("permanent", "trash")),
        PrefField("temp_older_than_hours", "Temp folders older than", "int",
                  "Render temp folders older than this are offered for deletion (F6)", " h"),
        PrefField("orphan_older_than_hours", "Orphan files older than", "int",
                  "Files no catalog entry knows, older than this, are offered for deletion (F7)", " h"),
    ],
    "Safety": [
        PrefField("max_delete_count", "Ask again above", "int",
                  "A plan deleting more items than this needs a second, explicit confirmation (0 = no limit)",
                  " items"),
        PrefField("max_delete_share", "…or above a share of", "share",
                  "A plan deleting more than this share of the scanned bytes needs a second confirmation "
                  "(100% = no limit)", " %"),
    ],
    "Retention": [
        PrefField("retention_days", "Keep clips for", "int",
                  "S3 sweep: clips newer than this are kept (seed 004)", " days", 36500),
        PrefField("grace_hours", "Grace period", "int",
                  "S3 sweep: other objects are deleted only once older than this", " h"),
    ],
}


class PreferencesDialog(QDialog):
    """Tabs of preference fields; OK stores what changed. A bad value is one sentence, not a crash."""

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self.catalog = catalog
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
            self.tabs.addTab(page, title)
        self.tabs.addTab(self._remotes_page(), "Remotes")
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
        self.resize(520, 360)

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
        if f.kind == "share":
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 100.0)
            spin.setDecimals(0)
            spin.setSuffix(f.suffix)
            spin.setValue(float(value) * 100.0)
            return spin
        ispin = QSpinBox()
        ispin.setRange(0, min(f.maximum, 2_000_000_000))
        ispin.setSuffix(f.suffix)
        ispin.setValue(int(value))
        return ispin

    def _remotes_page(self) -> QWidget:
        """Remotes are added by the S3 part of mediaclean; this page lists what the catalog has."""
        page = QWidget()
        page.setObjectName("remotesPage")
        layout = QVBoxLayout(page)
        names: list[str] | None = None
        try:
            remote = importlib.import_module("mediaclean_gui.core.s3.remote")
            names = [r.name for r in remote.list_remotes(self.catalog)]
        except (ImportError, AttributeError):
            names = None
        except Exception as exc:  # a catalog without the remotes table yet
            names = None
            layout.addWidget(QLabel(f"Remotes cannot be read: {exc}"))
        if names:
            listing = QListWidget()
            listing.setObjectName("remotesList")
            listing.addItems(names)
            layout.addWidget(listing)
        text = ("No remote yet. " if not names else "") + (
            "Add a remote with 'mediaclean remote add NAME --bucket BUCKET [--endpoint-url URL]'. "
            "Credentials come from the standard AWS chain and are never stored.")
        hint = QLabel(text)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)
        return page

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
