"""The log file: every line on disk at once, rolled over by size (counting what other processes append), and
never a device or anything but a regular file rolled over."""

from __future__ import annotations

import logging

import pytest

from mediaclean_gui.logsetup import LogFile


@pytest.fixture
def logger():
    log = logging.getLogger("mediaclean.test-logsetup")
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def _attach(logger: logging.Logger, handler: LogFile) -> LogFile:
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    return handler


def test_each_line_is_on_disk_before_the_next_call_returns(logger, tmp_path):
    path = tmp_path / "mediaclean.log"
    _attach(logger, LogFile(path, 1_000_000, 3))
    for n in range(5):
        logger.info("event %d", n)
        assert path.read_text(encoding="utf-8").splitlines()[-1] == f"INFO event {n}"


def test_the_file_rolls_over_by_size_and_keeps_the_newest_lines_in_order(logger, tmp_path):
    path = tmp_path / "mediaclean.log"
    _attach(logger, LogFile(path, 500, 2))
    for n in range(200):
        logger.info("upload_verified %04d %s", n, "x" * 40)
    files = [path.with_name("mediaclean.log.2"), path.with_name("mediaclean.log.1"), path]
    assert all(f.exists() for f in files) and not path.with_name("mediaclean.log.3").exists()
    line = len("INFO upload_verified 0000 " + "x" * 40 + "\n")
    for f in files:
        assert f.stat().st_size < 500 + line
    numbers = [int(text.split()[2]) for f in files for text in f.read_text(encoding="utf-8").splitlines()]
    assert numbers == list(range(numbers[0], 200)) and numbers[0] > 150


def test_lines_another_process_appends_count_towards_the_rollover(logger, tmp_path, monkeypatch):
    monkeypatch.setattr(LogFile, "RESYNC", 4)
    path = tmp_path / "mediaclean.log"
    _attach(logger, LogFile(path, 2_000, 1))
    logger.info("ours")
    with open(path, "a", encoding="utf-8") as other:  # the window and a scheduled run share the file
        other.write("theirs\n" * 400)
    for n in range(5):
        logger.info("ours %d", n)
    assert path.with_name("mediaclean.log.1").exists()
    assert path.read_text(encoding="utf-8").count("theirs") == 0


def test_a_log_path_that_is_not_a_regular_file_is_never_rolled_over(logger, tmp_path):
    path = tmp_path / "mediaclean.log"
    path.symlink_to("/dev/null")
    _attach(logger, LogFile(path, 100, 2))
    for n in range(50):
        logger.info("event %d %s", n, "x" * 40)
    assert path.is_symlink() and str(path.readlink()) == "/dev/null"
    assert not path.with_name("mediaclean.log.1").exists()
