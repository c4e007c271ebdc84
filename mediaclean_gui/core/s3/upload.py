"""F3, upload, verify, then delete the local copy (seeds 000, 001): the names the command line and the window use.

The work is split by what it does: :mod:`.upload_plan` (the planner: which outputs go to
which object keys, and what the store already holds there), :mod:`.transfer` (hash, put,
multipart, proof) and :mod:`.upload_run` (the executor: claims, outcomes, the local delete).
"""

from __future__ import annotations

from .remote import S3Error
from .upload_plan import existing_at, key_of, object_key, output_folder, plan_upload, upload_total_line
from .upload_run import UploadResult, execute_upload_plan

__all__ = ["S3Error", "UploadResult", "execute_upload_plan", "existing_at", "key_of", "object_key", "output_folder",
           "plan_upload", "upload_total_line"]
