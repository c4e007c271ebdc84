"""Plans: the frozen result of a dry run (items and kept-back items), stored in the catalog."""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from stat import S_ISDIR, S_ISLNK
from typing import Any, Generic, TypeVar

import humanize

from .catalog import Catalog, from_db_path, iso, to_db_path
from .errors import NotFound

T = TypeVar("T")


class Action(str, enum.Enum):
    DELETE_FILE = "delete_file"
    DELETE_DIR = "delete_dir"  # remove a folder the plan has emptied (never a recursive delete)
    TRASH = "trash"
    UPLOAD_THEN_DELETE = "upload_then_delete"
    UPLOAD = "upload"  # upload and verify, keep the local copy (F3 without --delete-after-upload)
    DELETE_OBJECT = "delete_object"


class Reason(str, enum.Enum):
    """Why an item is kept back (SPEC section 1)."""

    PROTECTED = "protected"
    REFERENCED = "referenced by another project"
    CHANGED = "changed since scan"
    OUTSIDE_ROOT = "outside root"
    SYMLINK = "symbolic link"
    NOT_VERIFIED = "upload not verified"
    TOO_NEW = "newer than the retention period"
    EXCLUDED = "excluded by the user"
    FINAL_MISSING = "final output missing"
    UNREFERENCED_CACHE = "not referenced by any imported project"
    MOUNT_POINT = "mount point"
    UNREADABLE = "cannot be read"
    IN_USE = "still being written"
    UNFINISHED_JOB = "belongs to an unfinished job"
    NO_FINAL_RULE = "profile has no final output"
    FINAL_INCOMPLETE = "final render incomplete or unreadable"
    UNSAFE_NAME = "not a usable folder name"


@dataclass
class PlanItem:
    """One thing the plan will do. ``size`` in bytes; ``fingerprint`` from :func:`safety.fingerprint`
    (or ETag/LastModified/VersionId for objects); ``target`` a path or an object key."""

    action: Action
    target: str
    size: int
    role: str
    rule: str
    fingerprint: dict[str, Any]
    root: str = ""
    project_id: int | None = None
    group: str = ""
    id: int | None = None
    selected: bool = True

    def as_json(self) -> dict[str, Any]:
        from .catalog import display_path

        return {
            "id": self.id,
            "action": self.action.value,
            "target": display_path(self.target),
            "size": self.size,
            "role": self.role,
            "project_id": self.project_id,
            "rule": self.rule,
            "group": self.group,
            "selected": self.selected,
        }


@dataclass
class KeptBack:
    """One thing the plan leaves alone, and why."""

    target: str
    reason: Reason
    size: int = 0
    role: str = ""
    detail: str = ""
    project_id: int | None = None
    group: str = ""

    def as_json(self) -> dict[str, Any]:
        from .catalog import display_path

        return {
            "target": display_path(self.target),
            "reason": self.reason.value,
            "detail": self.detail,
            "size": self.size,
            "role": self.role,
            "project_id": self.project_id,
        }


@dataclass
class Plan:
    """A stored plan. ``items``/``kept`` are loaded for local plans; large (S3) plans
    page through :func:`iter_items` instead."""

    id: int
    kind: str
    created_at: str
    status: str
    summary: str
    params: dict[str, Any]
    preconditions: list[dict[str, Any]]
    item_count: int
    total_bytes: int
    kept_count: int
    items: list[PlanItem] = field(default_factory=list)
    kept: list[KeptBack] = field(default_factory=list)

    @property
    def file_count(self) -> int:
        return sum(1 for i in self.items if i.action is not Action.DELETE_DIR)

    def selected_items(self) -> list[PlanItem]:
        return [i for i in self.items if i.selected]

    def total_line(self) -> str:
        """``Will delete 152 files · 1.2 GB · 3 kept`` for the selected items (``Will upload`` for an
        upload plan, objects for a sweep)."""
        return total_line(self.selected_items(), self.kept_count, self.kind)


def total_line(items: list[PlanItem], kept_count: int, kind: str | None = None) -> str:
    """The preview's total line for the selected ``items`` (SPEC section 5).

    ``Will delete 152 files · 1.2 GB · 3 kept`` for local plans; ``objects``
    instead of files for a sweep (kind ``sweep`` or ``delete_object`` items);
    ``Will upload 12 files · 40.0 MB · 3 kept`` for an upload plan (kind
    ``upload`` or upload items). Folder removals are not counted as files.
    Sizes with ``humanize.naturalsize`` (decimal units).
    """
    from .run.model import Counts, counts_sentence

    files = sum(1 for i in items if i.action is not Action.DELETE_DIR)
    nbytes = sum(i.size for i in items)
    objects = kind == "sweep" or (bool(items) and items[0].action is Action.DELETE_OBJECT)
    upload = kind == "upload" or (bool(items) and items[0].action in (Action.UPLOAD, Action.UPLOAD_THEN_DELETE))
    if upload:
        noun = "file" + ("" if files == 1 else "s")
        return f"Will upload {files:,} {noun} · {humanize.naturalsize(nbytes)} · {kept_count:,} kept"
    return counts_sentence(Counts(deleted=files, freed_bytes=nbytes, noun="object" if objects else "file"),
                           planned=True, kept=kept_count)


class PlanBuilder:
    """Write a plan to the catalog as it is made, in batches, so memory does not grow
    with the plan (used for bucket sweeps of any size).

    Its commits do not wait for the disk (``synchronous = NORMAL`` until :meth:`finish` or
    :meth:`abandon`): a killed process loses none of them (WAL), a power loss may lose a plan still
    being made, and a run makes its plan durable with its own first commit (``start_run``).
    """

    def __init__(self, catalog: Catalog, kind: str, params: dict[str, Any] | None = None, batch: int = 1000) -> None:
        self.catalog = catalog
        self.kind = kind
        self.batch = batch
        self._items: list[tuple[Any, ...]] = []  # rows of plan_items, ready to insert
        self._kept: list[KeptBack] = []
        self._roots: dict[str, bytes] = {}  # one workspace root for thousands of items: encoded once
        self.item_count = 0
        self.kept_count = 0
        self.total_bytes = 0
        self.preconditions: list[dict[str, Any]] = []
        self._sync = int(catalog.conn.execute("PRAGMA synchronous").fetchone()[0])
        catalog.conn.execute("PRAGMA synchronous = NORMAL")
        stored = dict(params or {})
        # the newest run when this plan was made: a later run on its files makes the preview stale
        stored.setdefault("after_run", catalog.conn.execute("SELECT ifnull(max(id), 0) FROM runs").fetchone()[0])
        cur = catalog.conn.execute(
            "INSERT INTO plans(kind, created_at, status, params) VALUES (?, ?, 'building', ?)",
            (kind, iso(), json.dumps(stored, default=str)),
        )
        self.plan_id = int(cur.lastrowid or 0)

    def _root(self, root: str) -> bytes:
        found = self._roots.get(root)
        if found is None:
            found = self._roots[root] = to_db_path(root)
        return found

    def add(self, item: PlanItem) -> None:
        self._items.append((self.plan_id, self.item_count, item.action.value, to_db_path(item.target),
                            self._root(item.root), item.size, item.role, item.project_id, item.rule,
                            *_fingerprint_columns(item.fingerprint, item.group, int(item.selected))))
        self.item_count += 1
        self.total_bytes += item.size
        if len(self._items) >= self.batch:
            self.flush()

    def add_object(self, key: str, size: int, role: str, rule: str, fingerprint: str, root: str,
                   group: str) -> None:
        """:meth:`add` for an object to delete (``delete_object``), its fingerprint already JSON (ETag,
        LastModified, size: :meth:`..s3.retention.ListedObject.fingerprint_json`), without building a
        :class:`PlanItem` (sweeps add hundreds of thousands of these)."""
        self._items.append((self.plan_id, self.item_count, "delete_object", to_db_path(key), self._root(root),
                            size, role, None, rule, fingerprint, group, 1, None, None, None, None, None))
        self.item_count += 1
        self.total_bytes += size
        if len(self._items) >= self.batch:
            self.flush()

    def add_path(self, action: Action, target: str, size: int, role: str, rule: str, st: os.stat_result,
                 root: str, project_id: int | None, group: str) -> None:
        """:meth:`add` for a local path and its ``lstat``, without building a :class:`PlanItem` (planners
        add hundreds of thousands of these)."""
        mode = st.st_mode
        if S_ISDIR(mode):
            fp: tuple[Any, ...] = (st.st_dev, st.st_ino, None, None, "dir")
        else:
            fp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, "link" if S_ISLNK(mode) else "file")
        self._items.append((self.plan_id, self.item_count, action.value, os.fsencode(target), self._root(root), size,
                            role, project_id, rule, "{}", group, 1, *fp))
        self.item_count += 1
        self.total_bytes += size
        if len(self._items) >= self.batch:
            self.flush()

    def keep(self, kept: KeptBack) -> None:
        self._kept.append(kept)
        self.kept_count += 1
        if len(self._kept) >= self.batch:
            self.flush()

    def flush(self) -> None:
        conn = self.catalog.conn
        with self.catalog.transaction():
            if self._items:
                conn.executemany(
                    "INSERT INTO plan_items(plan_id, seq, action, target, root, size, role, project_id, rule, "
                    "fingerprint, grp, selected, fp_dev, fp_ino, fp_size, fp_mtime_ns, fp_kind) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", self._items)
            if self._kept:
                conn.executemany(
                    "INSERT INTO plan_kept(plan_id, target, size, role, project_id, reason, detail, grp) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    [
                        (self.plan_id, to_db_path(k.target), k.size, k.role, k.project_id, k.reason.value, k.detail, k.group)
                        for k in self._kept
                    ],
                )
        self._items.clear()
        self._kept.clear()

    def finish(self, status: str = "ready", summary: str = "") -> int:
        """Flush, record totals and preconditions, and mark the plan ``ready`` (or ``refused``)."""
        self.flush()
        self.catalog.conn.execute(
            "UPDATE plans SET status = ?, summary = ?, item_count = ?, total_bytes = ?, kept_count = ?, "
            "preconditions = ? WHERE id = ?",
            (status, summary, self.item_count, self.total_bytes, self.kept_count,
             json.dumps(self.preconditions), self.plan_id),
        )
        self._restore()
        return self.plan_id

    def abandon(self) -> None:
        """Delete the plan being made (planning failed or was cancelled)."""
        self.catalog.conn.execute("DELETE FROM plans WHERE id = ?", (self.plan_id,))
        self._restore()

    def _restore(self) -> None:
        self.catalog.conn.execute(f"PRAGMA synchronous = {self._sync:d}")


_ACTIONS = {a.value: a for a in Action}


def _fingerprint_columns(fp: dict[str, Any], group: str, selected: int) -> tuple[Any, ...]:
    """``(fingerprint JSON, grp, selected, fp_dev, fp_ino, fp_size, fp_mtime_ns, fp_kind)``: a local
    fingerprint goes to the integer columns (the JSON stays ``{}``), an object's to the JSON."""
    if "ino" in fp:
        return "{}", group, selected, fp.get("dev"), fp.get("ino"), fp.get("size"), fp.get("mtime_ns"), fp.get("kind")
    return json.dumps(fp), group, selected, None, None, None, None, None


def fingerprint_of_row(row: Any) -> dict[str, Any]:
    kind = row["fp_kind"]
    if kind is None:
        value: dict[str, Any] = json.loads(row["fingerprint"])
        return value
    fp: dict[str, Any] = {"dev": row["fp_dev"], "ino": row["fp_ino"], "kind": kind}
    if kind != "dir":
        fp["size"] = row["fp_size"]
        fp["mtime_ns"] = row["fp_mtime_ns"]
    return fp


def _item(row: Any, roots: dict[bytes, str] | None = None) -> PlanItem:
    raw_root = row["root"]
    root = roots.get(raw_root) if roots is not None else None
    if root is None:
        root = from_db_path(raw_root)
        if roots is not None:
            roots[raw_root] = root
    return PlanItem(
        action=_ACTIONS[row["action"]],
        target=from_db_path(row["target"]),
        size=row["size"],
        role=row["role"],
        rule=row["rule"],
        fingerprint=fingerprint_of_row(row),
        root=root,
        project_id=row["project_id"],
        group=row["grp"],
        id=row["id"],
        selected=bool(row["selected"]),
    )


def _kept(row: Any) -> KeptBack:
    return KeptBack(
        target=from_db_path(row["target"]),
        reason=Reason(row["reason"]),
        size=row["size"],
        role=row["role"],
        detail=row["detail"],
        project_id=row["project_id"],
        group=row["grp"],
    )


def load_plan(catalog: Catalog, plan_id: int, *, with_items: bool = True) -> Plan:
    """The stored plan ``plan_id``; :class:`NotFound` if there is none."""
    row = catalog.conn.execute("SELECT * FROM plans WHERE id = ?", (plan_id,)).fetchone()
    if row is None or row["status"] == "building":
        raise NotFound(f"No plan {plan_id}. Make a new one with a dry run.")
    plan = Plan(
        id=row["id"], kind=row["kind"], created_at=row["created_at"], status=row["status"],
        summary=row["summary"], params=json.loads(row["params"]), preconditions=json.loads(row["preconditions"]),
        item_count=row["item_count"], total_bytes=row["total_bytes"], kept_count=row["kept_count"],
    )
    if with_items:
        plan.items = list(iter_items(catalog, plan_id))
        plan.kept = list(iter_kept(catalog, plan_id))
    return plan


def iter_items(catalog: Catalog, plan_id: int, batch: int = 1000) -> Iterator[PlanItem]:
    """The plan's items in order, read ``batch`` rows at a time."""
    last = -1
    roots: dict[bytes, str] = {}
    while True:
        rows = catalog.conn.execute(
            "SELECT * FROM plan_items WHERE plan_id = ? AND seq > ? ORDER BY seq LIMIT ?", (plan_id, last, batch)
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield _item(row, roots)
        last = rows[-1]["seq"]


def iter_kept(catalog: Catalog, plan_id: int) -> Iterator[KeptBack]:
    for row in catalog.conn.execute("SELECT * FROM plan_kept WHERE plan_id = ? ORDER BY id", (plan_id,)):
        yield _kept(row)


def set_selected(catalog: Catalog, plan_id: int, item_ids: list[int], selected: bool) -> None:
    """Leave items out of (or put them back into) a plan before it runs. Items left out join the
    keep-list (invariant 14): every later plan keeps them back as "kept by you" until put back."""
    from .keeplist import remember_selection

    with catalog.transaction() as conn:
        conn.executemany(
            "UPDATE plan_items SET selected = ? WHERE plan_id = ? AND id = ?",
            [(int(selected), plan_id, i) for i in item_ids],
        )
        remember_selection(catalog, plan_id, list(item_ids), selected)


# ---------------------------------------------------------------- pages (the window's preview of large plans)


@dataclass
class Page(Generic[T]):
    """One page of a plan's rows; pass ``cursor`` as ``after`` to read the next page (``rows`` is
    empty at the end)."""

    rows: list[T]
    cursor: int


def group_items_page(catalog: Catalog, plan_id: int, group: str, after: int = -1, limit: int = 500) -> Page[PlanItem]:
    """The items of one group (``grp``) of plan ``plan_id`` whose ``seq`` is above ``after``, in plan
    order, at most ``limit``; the cursor is the last item's ``seq``.

    An indexed range read (``idx_plan_items_group``, migration 0006), so the tenth page of a
    100,000-item sweep group costs what the first one does.
    """
    rows = catalog.conn.execute(
        "SELECT * FROM plan_items WHERE plan_id = ? AND grp = ? AND seq > ? ORDER BY seq LIMIT ?",
        (plan_id, group, after, limit)).fetchall()
    return Page([_item(r) for r in rows], int(rows[-1]["seq"]) if rows else after)


def kept_page(catalog: Catalog, plan_id: int, group: str | None = None, after: int = -1,
              limit: int = 500) -> Page[KeptBack]:
    """The kept-back items of plan ``plan_id`` (of one ``group`` when given) whose row id is above
    ``after``, in the order they were kept, at most ``limit``; the cursor is the last row's id."""
    if group is None:
        rows = catalog.conn.execute("SELECT * FROM plan_kept WHERE plan_id = ? AND id > ? ORDER BY id LIMIT ?",
                                    (plan_id, after, limit)).fetchall()
    else:
        rows = catalog.conn.execute(
            "SELECT * FROM plan_kept WHERE plan_id = ? AND grp = ? AND id > ? ORDER BY id LIMIT ?",
            (plan_id, group, after, limit)).fetchall()
    return Page([_kept(r) for r in rows], int(rows[-1]["id"]) if rows else after)


def kept_groups(catalog: Catalog, plan_id: int) -> list[tuple[str, int, int, str]]:
    """``(group, count, bytes, reasons)`` of the plan's kept-back items, in the order they were first
    kept; ``reasons`` lists each reason with its count (``newer than the retention period (3)``)."""
    out = []
    for row in catalog.conn.execute(
            "SELECT grp, count(*) AS n, ifnull(sum(size), 0) AS b, min(id) AS first FROM plan_kept "
            "WHERE plan_id = ? GROUP BY grp ORDER BY first", (plan_id,)).fetchall():
        reasons = "; ".join(f"{r['reason']} ({r['n']})" for r in catalog.conn.execute(
            "SELECT reason, count(*) AS n FROM plan_kept WHERE plan_id = ? AND grp = ? GROUP BY reason "
            "ORDER BY n DESC", (plan_id, row["grp"])))
        out.append((str(row["grp"]), int(row["n"]), int(row["b"]), reasons))
    return out


def set_group_selected(catalog: Catalog, plan_id: int, group: str, selected: bool) -> int:
    """Leave a whole group of a plan out (or put it back) before it runs; returns how many items changed."""
    from .keeplist import remember_selection

    with catalog.transaction() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM plan_items WHERE plan_id = ? AND grp = ? AND selected != ?",
                                          (plan_id, group, int(selected)))]
        conn.execute("UPDATE plan_items SET selected = ? WHERE plan_id = ? AND grp = ? AND selected != ?",
                     (int(selected), plan_id, group, int(selected)))
        for start in range(0, len(ids), 500):
            remember_selection(catalog, plan_id, ids[start:start + 500], selected)
    return len(ids)


# ---------------------------------------------------------------- a page of a stored plan (the CLI's output)


@dataclass
class PlanPage:
    """What a plan's listing needs without loading its items: totals counted in SQL, and the first
    ``limit`` items and kept-back items (in plan order).

    ``files``/``nbytes`` count the selected items that are not folders (bytes); ``groups`` is
    ``[(group, items, bytes)]`` in plan order; ``items_count``/``kept_count`` are totals.
    """

    plan: Plan
    files: int
    nbytes: int
    items_count: int
    groups: list[tuple[str, int, int]]
    items: list[PlanItem]
    kept: list[KeptBack]

    @property
    def truncated(self) -> bool:
        return len(self.items) < self.items_count or len(self.kept) < self.plan.kept_count

    def total_line(self) -> str:
        """:meth:`Plan.total_line` from the SQL totals."""
        from .run.model import Counts, counts_sentence

        if self.plan.kind == "upload":
            noun = "file" + ("" if self.files == 1 else "s")
            return f"Will upload {self.files:,} {noun} · {humanize.naturalsize(self.nbytes)} · " \
                   f"{self.plan.kept_count:,} kept"
        noun = "object" if self.plan.kind == "sweep" else "file"
        return counts_sentence(Counts(deleted=self.files, freed_bytes=self.nbytes, noun=noun), planned=True,
                               kept=self.plan.kept_count)


def plan_page(catalog: Catalog, plan_id: int, limit: int = 1000, plan: Plan | None = None) -> PlanPage:
    """A :class:`PlanPage` of stored plan ``plan_id`` (``plan``: its header, when already loaded): a few
    queries whatever the plan's size. Raises :class:`NotFound`."""
    plan = plan or load_plan(catalog, plan_id, with_items=False)
    conn = catalog.conn
    rows = conn.execute(  # one pass: per group, and the plan's totals as the sums of its groups
        "SELECT grp, count(*), ifnull(sum(size), 0), min(seq) AS first, "
        "ifnull(sum(selected AND action != 'delete_dir'), 0), ifnull(sum(CASE WHEN selected THEN size ELSE 0 END), 0) "
        "FROM plan_items WHERE plan_id = ? GROUP BY grp ORDER BY first", (plan_id,)).fetchall()
    groups = [(str(r[0]), int(r[1]), int(r[2])) for r in rows]
    files, nbytes, count = sum(int(r[4]) for r in rows), sum(int(r[5]) for r in rows), sum(int(r[1]) for r in rows)
    items = [_item(r) for r in conn.execute(
        "SELECT * FROM plan_items WHERE plan_id = ? ORDER BY seq LIMIT ?", (plan_id, limit))]
    kept = [_kept(r) for r in conn.execute(
        "SELECT * FROM plan_kept WHERE plan_id = ? ORDER BY id LIMIT ?", (plan_id, limit))]
    return PlanPage(plan, files, nbytes, count, groups, items, kept)
