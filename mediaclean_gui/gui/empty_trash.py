"""Clean › Empty trash… (``actionEmptyTrash``): what mediaclean's trash-mode runs left in the trash, how much
emptying it frees, a confirmation that says so, then ``core.emptytrash.empty_trash`` in the deleting pool."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.emptytrash import EmptyResult, TrashContents, empty_trash, trash_contents
from .wording import count_noun, size_text
from .workers import Task

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox

    from .main_window import MainWindow


def empty_question(contents: TrashContents) -> str:
    """The confirmation's text: how much it frees, from how many runs, and that it cannot be undone."""
    runs = len(contents.runs)
    return (f"Empty mediaclean's part of the trash?\n\n{count_noun(contents.files, 'file')} "
            f"({size_text(contents.nbytes)}) that {count_noun(runs, 'trash-mode run')} moved there are deleted "
            f"for good. This frees {size_text(contents.nbytes)} on their disks.\n\nThey cannot be restored "
            f"afterwards. Nothing else in your trash is touched.")


def empty_box(window: MainWindow, contents: TrashContents) -> QMessageBox:
    """The confirmation box (default button: Cancel)."""
    return window.confirmation_box(empty_question(contents), "Empty trash", "Empty trash")


def start(window: MainWindow) -> Task:
    """Look in the trash (in a worker), ask, then empty it in the deleting pool; one sentence after."""
    def looked(contents: TrashContents | None, error: BaseException | None) -> None:
        if error is not None or contents is None:
            window.show_error(error)
            return
        if not contents.files:
            window.say("Nothing that mediaclean moved to the trash is still there: emptying would free nothing.",
                       10000)
            return
        if not window.ask_confirmation_box(empty_box(window, contents)):
            window.say("The trash was not emptied: nothing was deleted.", 6000)
            return
        run(window, list(contents.runs))

    return window.workers.run_task(lambda ctx: trash_contents(window.catalog), looked, name="trash contents")


def run(window: MainWindow, run_ids: list[int]) -> Task:
    """Empty what runs ``run_ids`` moved to the trash, in the deleting pool; the history and the space follow."""
    window.say("Emptying the trash…")

    def done(result: EmptyResult | None, error: BaseException | None) -> None:
        if error is not None or result is None:
            window.show_error(error)
            return
        text = result.sentence()
        window.say(text, 20000)
        window.pane.set_message(text, error=bool(result.failed))
        window.trashEmptied.emit(result)
        window.runs_changed()
        window.freeSpaceLabel.refresh()
        window.history.check_restore()

    return window.workers.run_task(lambda ctx: empty_trash(window.catalog, run_ids), done, name="empty trash",
                                   destructive=True)
