"""Run any stored plan with the executor for its kind (clean, temp, orphans, upload, sweep)."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from .catalog import Catalog
from .events import CancelToken, Progress
from .plan import load_plan


class RunOutcome(Protocol):
    """What every executor returns."""

    run_id: int
    status: str
    failed: list[dict[str, str]]

    def summary_line(self) -> str: ...

    def as_json(self) -> dict[str, Any]: ...


#: plan kind -> "module:function"; the function has execute_plan's signature.
EXECUTORS: dict[str, str] = {
    "clean": "mediaclean_gui.core.execute:execute_plan",
    "temp": "mediaclean_gui.core.execute:execute_plan",
    "orphans": "mediaclean_gui.core.execute:execute_plan",
    "upload": "mediaclean_gui.core.s3.upload_run:execute_upload_plan",
    "sweep": "mediaclean_gui.core.s3.sweep_run:execute_sweep_plan",
}


def execute_any(
    catalog: Catalog,
    plan_id: int,
    *,
    started_by: str = "user",
    confirm_large: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    **options: Any,
) -> RunOutcome:
    """Execute stored plan ``plan_id`` with its kind's executor; errors as that executor raises them."""
    kind = load_plan(catalog, plan_id, with_items=False).kind
    module_name, func_name = EXECUTORS[kind].split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    result: RunOutcome = func(catalog, plan_id, started_by=started_by, confirm_large=confirm_large,
                              progress=progress, cancel=cancel, **options)
    return result
