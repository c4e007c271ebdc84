"""``mediaclean project …`` and ``mediaclean scan``."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..core.catalog import Catalog
from ..core.errors import ConfigError
from ..core.importdb import import_generator_db
from ..core.projects import (
    add_project,
    auto_cleanup_effective,
    get_project,
    list_projects,
    remove_project,
    set_auto_cleanup,
)
from ..core.scan import scan_projects
from ..core.text import printable
from . import Outcome, argtypes, fmt, project_named


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    project = sub.add_parser("project", parents=[common], help="register, import, list and set projects")
    psub = project.add_subparsers(dest="project_command", metavar="ACTION")
    psub.required = True

    add = psub.add_parser("add", parents=[common], help="register a workspace folder with a layout profile")
    add.add_argument("root", type=argtypes.path, metavar="ROOT")
    add.add_argument("--profile", type=argtypes.name, required=True, metavar="NAME",
                     help="layout profile, e.g. ai-video-generator")
    add.add_argument("--name", type=argtypes.name, metavar="N")
    add.add_argument("--external-id", type=argtypes.name, metavar="ID",
                     help="the generator's own project id ({project} in the profile)")
    argtypes.allow_broad_root(add)
    add.set_defaults(handler=cmd_add)

    imp = psub.add_parser("import-db", parents=[common], help="import a generator database")
    imp.add_argument("dbfile", type=argtypes.path, metavar="DBFILE")
    imp.add_argument("--workspace", type=argtypes.path, required=True, metavar="ROOT")
    argtypes.allow_broad_root(imp)
    imp.set_defaults(handler=cmd_import)

    lst = psub.add_parser("list", parents=[common], help="projects with sizes and cleanup status")
    lst.set_defaults(handler=cmd_list)

    setp = psub.add_parser("set", parents=[common], help="change a project's settings")
    setp.add_argument("project", type=argtypes.project, metavar="PROJECT")
    setp.add_argument("--auto-cleanup", choices=("inherit", "on", "off"), required=True)
    setp.set_defaults(handler=cmd_set)

    rm = psub.add_parser("remove", parents=[common], help="forget a project (its files are not touched)")
    rm.add_argument("project", type=argtypes.project, metavar="PROJECT")
    rm.set_defaults(handler=cmd_remove)

    scan = sub.add_parser("scan", parents=[common], help="rescan sizes")
    scan.add_argument("project", nargs="?", type=argtypes.project, metavar="PROJECT")
    scan.set_defaults(handler=cmd_scan)


def _projects_json(catalog: Catalog, projects: list[Any] | None = None) -> list[dict[str, Any]]:
    prefs = catalog.prefs()
    projects = list_projects(catalog) if projects is None else projects
    return [p.as_json(auto_cleanup_effective(catalog, p, prefs)) for p in projects]


def _projects_text(projects: list[dict[str, Any]]) -> str:
    if not projects:
        return "No projects yet. Add one with 'mediaclean project add ROOT --profile NAME'."
    rows = [
        [str(p["id"]), p["name"], fmt.size(p["total_bytes"]), fmt.size(p["reclaimable_bytes"]), p["cleanup_status"],
         fmt.ago(p["cleanup_completed_at"]), p["auto_cleanup"], p["profile"]]
        for p in projects
    ]
    return fmt.table(rows, ["ID", "NAME", "SIZE", "RECLAIMABLE", "STATUS", "LAST CLEANUP", "AUTO", "PROFILE"])


def cmd_add(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    ids = add_project(catalog, args.root, args.profile, name=args.name, external_id=args.external_id)
    scan_projects(catalog, ids)
    projects = [get_project(catalog, i) for i in ids]
    text = "\n".join(f"Added project {p.id}: {printable(p.name)} ({printable(p.profile)}) at {printable(p.root)}"
                     for p in projects)
    return Outcome({"project_id": ids[0], "project_ids": ids, "projects": _projects_json(catalog, projects)}, text)


def cmd_import(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    if os.path.isdir(args.dbfile):
        raise ConfigError(f"{printable(args.dbfile)} is a folder, not a database file: give the path of the "
                          f"generator's SQLite database file.")
    if os.path.exists(args.dbfile) and not os.path.isfile(args.dbfile):
        raise ConfigError(f"{printable(args.dbfile)} is not a regular file: give the path of the generator's SQLite "
                          f"database file.")
    result = import_generator_db(catalog, args.dbfile, args.workspace)
    scan_projects(catalog, result.project_ids)
    text = f"Imported {result.imported} project(s) from {printable(args.dbfile)}."
    if result.outside_root:
        text += "\nReferences outside the workspace (kept back, never deleted):\n  " + "\n  ".join(map(printable, result.outside_root))
    return Outcome(
        {"imported": result.imported, "project_ids": result.project_ids, "outside_root": result.outside_root}, text
    )


def cmd_list(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    projects = _projects_json(catalog)
    return Outcome({"projects": projects}, _projects_text(projects))


def cmd_set(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    project = project_named(catalog, args.project)
    set_auto_cleanup(catalog, project.id, args.auto_cleanup)
    stored = get_project(catalog, project.id)
    return Outcome({"project": _projects_json(catalog, [stored])[0]},
                   f"Auto-cleanup of {printable(stored.name)}: {stored.auto_cleanup}")


def cmd_remove(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    project = project_named(catalog, args.project)
    remove_project(catalog, project.id)
    return Outcome({"removed": project.id}, f"Removed project {project.id} ({printable(project.name)}); its files were not "
                                                 f"touched.")


def cmd_scan(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    ids = [project_named(catalog, args.project).id] if args.project else None
    result = scan_projects(catalog, ids)
    projects = _projects_json(catalog, result.projects)
    text = _projects_text(projects) + f"\n\nScanned {result.files_scanned} files in {result.seconds:.2f} s."
    return Outcome({"projects": projects, "files_scanned": result.files_scanned, "seconds": round(result.seconds, 4)},
                   text)
