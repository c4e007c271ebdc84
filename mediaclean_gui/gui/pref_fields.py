"""The preferences the window shows: each key's label, kind and tip, by tab (no widgets here).

The preferences dialog lays them out; ``wording`` names a preference by its tab and label
when a core message mentions its key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrefField:
    key: str
    label: str
    kind: str  # bool | int | share | choice | minutes
    tip: str
    suffix: str = ""
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
                  "Render temp folders older than this are offered for deletion", " h"),
        PrefField("orphan_older_than_hours", "Orphan files older than", "int",
                  "Files no catalog entry knows, older than this, are offered for deletion", " h"),
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
                  "S3 sweep: clips newer than this are kept", " days"),
        PrefField("grace_hours", "Grace period", "int",
                  "S3 sweep: other objects are deleted only once older than this", " h"),
    ],
    "Schedule": [
        PrefField("schedule_auto_minutes", "Auto-cleanup check every", "minutes",
                  "While the window is open: clean every project whose final output has settled", " min"),
        PrefField("schedule_temp_minutes", "Temp sweep every", "minutes",
                  "Delete orphaned render temp folders in the temp roots below", " min"),
        PrefField("schedule_orphans_minutes", "Orphan report every", "minutes",
                  "Look for orphan files and report them; nothing is deleted without your preview", " min"),
        PrefField("schedule_sweep_minutes", "Bucket sweep every", "minutes",
                  "Run the retention sweep of every remote (old clips, finished jobs' sources); above the delete "
                  "limits it does not run",
                  " min"),
    ],
}


def field_name(key: str) -> str | None:
    """``Preferences › Safety › “Ask again above”`` for a preference key, or ``None``."""
    for tab, fields in TABS.items():
        for f in fields:
            if f.key == key:
                return f"Preferences › {tab} › “{f.label}”"
    return None
