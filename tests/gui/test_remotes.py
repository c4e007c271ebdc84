"""Preferences → Remotes against the real SeaweedFS: add, test the connection, edit, remove; no secret is stored."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.s3.remote import add_remote, get_remote, list_remotes
from mediaclean_gui.gui.prefs_dialog import PreferencesDialog
from mediaclean_gui.gui.remotes import RemoteDialog, RemotesPage

pytestmark = pytest.mark.s3


def _fill(dialog: RemoteDialog, **values: str) -> None:
    for field, value in values.items():
        getattr(dialog, field).setText(value)


def _test(qtbot, dialog: RemoteDialog) -> tuple[str, bool]:
    with qtbot.waitSignal(dialog.tested, timeout=30000) as sig:
        dialog.testButton.click()
    assert dialog.testResult.text() == sig.args[0]
    return sig.args[0], sig.args[1]


def test_add_a_remote_test_it_and_no_secret_reaches_the_catalog(s3_env, catalog_path, qtbot, monkeypatch):
    server = s3_env
    bucket = server.new_bucket("remote")
    catalog = Catalog(catalog_path)
    dialog_prefs = PreferencesDialog(catalog)
    qtbot.addWidget(dialog_prefs)
    page = dialog_prefs.remotes
    assert dialog_prefs.tabs.tabText(dialog_prefs.tabs.indexOf(page)) == "Remotes"
    qtbot.waitUntil(lambda: "No remote yet" in page.details.text(), timeout=5000)
    results: list[tuple[str, bool]] = []

    def fill_test_save(dialog: RemoteDialog) -> bool:
        qtbot.addWidget(dialog)
        assert "never asks for or stores keys" in dialog.findChild(type(dialog.testResult), "credentialsNote").text()
        _fill(dialog, name="clips", bucket=bucket, prefix="media", endpoint=server.endpoint_url,
              region=server.region)
        results.append(_test(qtbot, dialog))
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        results.append(_test(qtbot, dialog))
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
        _fill(dialog, bucket="no-such-bucket-here")
        results.append(_test(qtbot, dialog))
        _fill(dialog, bucket=bucket)
        with qtbot.waitSignal(dialog.saved, timeout=10000):
            dialog.accept()
        assert dialog.result() == QDialog.DialogCode.Accepted
        return True

    monkeypatch.setattr(page, "run_dialog", fill_test_save)
    page.addButton.click()
    (ok_text, ok), (creds_text, creds_ok), (bucket_text, bucket_ok) = results
    assert ok and ok_text == (f"Connected to bucket '{bucket}' at {server.endpoint_url} under 'media/' "
                              f"(versioning Unversioned).")
    assert not creds_ok and creds_text == (
        f"Connection test failed: the store rejected the credentials for bucket '{bucket}' "
        f"(check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the remote's profile).")
    assert not bucket_ok and bucket_text.startswith(
        f"Connection test failed: the bucket 'no-such-bucket-here' at {server.endpoint_url} does not exist")
    for text in (creds_text, bucket_text):
        assert "\n" not in text and "Traceback" not in text and "botocore" not in text

    qtbot.waitUntil(lambda: page.remotesList.count() == 1, timeout=5000)
    assert page.remotesList.item(0).text() == f"clips — s3://{bucket}/media/"
    assert page.status.text() == "Saved the remote 'clips'."
    remote = get_remote(catalog, "clips")
    assert (remote.bucket, remote.prefix, remote.endpoint_url) == (bucket, "media/", server.endpoint_url)

    # the selected remote's own Test connection button
    done: list[tuple[str, bool]] = []
    page.test(lambda text, good: done.append((text, good)))
    qtbot.waitUntil(lambda: bool(done), timeout=30000)
    assert done[0] == (ok_text, True) and page.status.text() == ok_text

    catalog.close()
    dialog_prefs.close()
    stored = b"".join(p.read_bytes() for p in catalog_path.parent.glob(catalog_path.name + "*"))
    assert bucket.encode() in stored  # the remote is there …
    for secret in (server.secret_key, server.access_key, "not-the-secret"):
        assert secret.encode() not in stored  # … its credentials are not (invariant 10)


def test_edit_keeps_the_remote_and_remove_leaves_the_bucket_alone(s3_env, catalog_path, qtbot, monkeypatch):
    server = s3_env
    bucket = server.new_bucket("edit")
    server.client().put_object(Bucket=bucket, Key="clips/a.mp4", Body=b"clip")
    catalog = Catalog(catalog_path)
    first = add_remote(catalog, "store", bucket=bucket, endpoint_url=server.endpoint_url)
    page = RemotesPage(catalog)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.remotesList.count() == 1, timeout=5000)
    assert f"endpoint: {server.endpoint_url}" in page.details.text()
    assert "credentials: the default chain" in page.details.text()

    def edit(dialog: RemoteDialog) -> bool:
        qtbot.addWidget(dialog)
        assert dialog.windowTitle() == "Edit remote 'store'" and dialog.bucket.text() == bucket
        _fill(dialog, name="bad name!")
        dialog.accept()
        qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=5000)
        assert dialog.error.text().startswith("'bad name!' is not a usable remote name")
        assert dialog.result() != QDialog.DialogCode.Accepted  # still open, nothing saved
        _fill(dialog, name="archive", prefix="clips", profile="work")
        with qtbot.waitSignal(dialog.saved, timeout=10000):
            dialog.accept()
        return True

    monkeypatch.setattr(page, "run_dialog", edit)
    page.editButton.click()
    qtbot.waitUntil(lambda: page.remotesList.count() == 1 and page.current_name() == "archive", timeout=5000)
    edited = get_remote(catalog, "archive")
    assert (edited.id, edited.prefix, edited.aws_profile) == (first.id, "clips/", "work")
    assert "credentials: AWS profile 'work'" in page.details.text()

    asked: list[str] = []
    monkeypatch.setattr(page, "ask", lambda text, title, action: asked.append(text) or True)
    page.removeButton.click()
    qtbot.waitUntil(lambda: page.remotesList.count() == 0, timeout=5000)
    assert "Nothing in the bucket is touched" in asked[0]
    assert page.status.text() == "Removed the remote 'archive'; the bucket was not touched."
    assert list_remotes(catalog) == []
    assert server.client().get_object(Bucket=bucket, Key="clips/a.mp4")["Body"].read() == b"clip"
    catalog.close()
