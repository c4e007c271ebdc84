"""A picture of one project's bytes by role: a horizontal stacked bar with a legend, painted with QPainter."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .wording import size_text

#: Role -> (label, colour). Protected roles are greens; what cleanup frees is warm.
ROLE_STYLE: dict[str, tuple[str, str]] = {
    "final": ("Final output", "#2e7d32"),
    "thumbnail": ("Thumbnail", "#81c784"),
    "intermediate": ("Intermediates", "#ef6c00"),
    "shared_cache": ("Shared cache", "#8e24aa"),
    "output": ("Outputs", "#1e88e5"),
    "temp": ("Temp", "#6d4c41"),
    "source": ("Sources", "#546e7a"),
}
ORDER = list(ROLE_STYLE)


def begin_chart(widget: QWidget, title: str) -> tuple[QPainter, QColor, QColor, QFontMetrics, float, float, float]:
    """Start painting a chart widget: its bold title at the top left.

    Returns the painter, the text colour, a muted colour for secondary text, the
    font metrics, the left edge, the usable width and the title line's top.
    """
    painter = QPainter(widget)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pal = widget.palette()
    text_colour = pal.color(pal.ColorRole.WindowText)
    muted = QColor(text_colour)
    muted.setAlpha(150)
    fm = QFontMetrics(widget.font())
    x0, width, y = 10.0, float(widget.width() - 20), 8.0
    bold = widget.font()
    bold.setBold(True)
    painter.setFont(bold)
    painter.setPen(text_colour)
    painter.drawText(QRectF(x0, y, width, fm.height()), Qt.AlignmentFlag.AlignLeft, title)
    painter.setFont(widget.font())
    return painter, text_colour, muted, fm, x0, width, y


class BreakdownWidget(QWidget):
    """Shows ``{role: (bytes, files)}`` (``core.scan.role_sizes``) as a stacked bar and a legend."""

    BAR_HEIGHT = 26

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("breakdown")
        self.title = ""
        self.caption = ""
        self.sizes: dict[str, tuple[int, int]] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.sizeHint().height())
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        line = QFontMetrics(self.font()).height()
        return QSize(360, 12 + line + 8 + self.BAR_HEIGHT + 10 + 3 * (line + 6) + 4)  # up to 3 legend lines

    def set_breakdown(self, title: str, sizes: dict[str, tuple[int, int]], caption: str = "") -> None:
        self.title = title
        self.caption = caption
        self.sizes = {r: v for r, v in sizes.items() if v[0] > 0 or v[1] > 0}
        self.setToolTip(self._tooltip())
        self.update()

    def clear(self, message: str = "") -> None:
        self.set_breakdown(message, {})

    def segments(self) -> list[tuple[str, int, int]]:
        """``(role, bytes, files)`` in drawing order (for painting and for tests)."""
        known = [r for r in ORDER if r in self.sizes]
        other = sorted(r for r in self.sizes if r not in ROLE_STYLE)
        return [(r, *self.sizes[r]) for r in known + other]

    def legend_entries(self) -> list[str]:
        """The legend's words: ``Intermediates 163.2 kB``."""
        return [f"{_label(r)} {size_text(b)}" for r, b, _ in self.segments()]

    def _tooltip(self) -> str:
        lines = [f"{_label(r)}: {size_text(b)} in {f:,} file{'s' if f != 1 else ''}" for r, b, f in self.segments()]
        return "\n".join(lines)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter, text_colour, muted, fm, x0, width, y = begin_chart(self, self.title)
        if self.caption:
            painter.setPen(muted)
            painter.drawText(QRectF(x0, y, width, fm.height()), Qt.AlignmentFlag.AlignRight, self.caption)
        y += fm.height() + 6
        bar = QRectF(x0, y, width, self.BAR_HEIGHT)
        segments = self.segments()
        total = sum(b for _, b, _ in segments)
        if total <= 0:
            painter.setPen(QPen(muted, 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(bar, 4, 4)
            painter.drawText(bar, Qt.AlignmentFlag.AlignCenter,
                             "No sizes yet: press F5 to scan the project" if self.title else "Select a project to see its breakdown")
            painter.end()
            return
        painter.setPen(Qt.PenStyle.NoPen)
        left = bar.left()
        for n, (role, nbytes, _) in enumerate(segments):
            w = bar.width() * nbytes / total
            if n == len(segments) - 1:
                w = bar.right() - left
            painter.setBrush(QColor(_colour(role)))
            painter.drawRect(QRectF(left, bar.top(), max(w, 1.5), bar.height()))
            left += w
        painter.setPen(QPen(self.palette().color(self.palette().ColorRole.Mid), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(bar)
        # legend: swatch, role, size; wrapped over as many lines as needed
        y = bar.bottom() + 10
        x = x0
        line_h = fm.height() + 6
        for role, nbytes, files in segments:
            label = f"{_label(role)}  {size_text(nbytes)}"
            share = f" ({100 * nbytes / total:.0f}%)"
            w = 16 + fm.horizontalAdvance(label + share) + 18
            if x + w > x0 + width and x > x0:
                x = x0
                y += line_h
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(_colour(role)))
            painter.drawRoundedRect(QRectF(x, y + (fm.height() - 11) / 2, 11, 11), 2, 2)
            painter.setPen(text_colour)
            painter.drawText(QRectF(x + 16, y, w, fm.height()), Qt.AlignmentFlag.AlignLeft, label)
            painter.setPen(muted)
            painter.drawText(QRectF(x + 16 + fm.horizontalAdvance(label), y, w, fm.height()),
                             Qt.AlignmentFlag.AlignLeft, share)
            x += w
        painter.end()


def _label(role: str) -> str:
    return ROLE_STYLE.get(role, (role, ""))[0]


def _colour(role: str) -> str:
    return ROLE_STYLE.get(role, ("", "#9e9e9e"))[1]


def describe(sizes: dict[str, Any]) -> str:
    """One line for screen readers and the status bar."""
    return ", ".join(f"{_label(r)} {size_text(v[0])}" for r, v in sizes.items())
