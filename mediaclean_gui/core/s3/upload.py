"""F3, upload, verify, then delete the local copy (seeds 000, 001): the names the command line and the window use.

The work is split by what it does: :mod:`.upload_plan` (the planner: which outputs go to
which object keys, and what the store already holds there), :mod:`.transfer` (hash, put,
multipart, proof), :mod:`.upload_run` (the executor: claims, outcomes, on the one run lifecycle) and
:mod:`.local_copies` (the local copy: the guarded delete, emptied folders, the reconcile after a crash).
"""

from __future__ import annotations

from .remote import S3Error
from .upload_plan import existing_at, key_of, object_key, output_folder, plan_upload, upload_total_line
from .upload_run import execute_upload_plan, upload_summary

__all__ = ["S3Error", "execute_upload_plan", "existing_at", "key_of", "object_key", "output_folder",
           "plan_upload", "upload_summary", "upload_total_line"]
