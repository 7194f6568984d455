"""Record uploads over HTTP, with exactly the semantics of ``concord load``.

The body is streamed to a file under the data directory (never held whole
in memory), capped at ``max_upload_bytes``, then loaded in one transaction
or refused with every row error named. The same bytes twice add nothing.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path as PathParam, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError

from api import audit
from api.deps import EngineDep, SettingsDep, permitted, reject_unknown_query
from api.problems import problem_responses
from api.regions import is_root, region_area_ids
from api.schemas import UploadReport
from api.security import User
from features.contracts import KINDS
from features.ingest import BatchRejected, load_file, load_json_lines

CSV_TYPES = ("text/csv", "application/csv", "application/vnd.apache.parquet", "application/octet-stream")
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/jsonlines")
HIERARCHY_KINDS = ("areas", "adjacency")
UPLOAD_PREFIX = "/v1/records/"  # capped at ``max_upload_bytes`` by ``api.middleware.BodyLimit``
Uploader = Annotated[User, Depends(permitted("upload_records"))]
Kind = Annotated[str, PathParam(description="the record kind", pattern="^(" + "|".join(KINDS) + ")$", examples=["petitions"])]
REQUEST_BODY = {
    "required": True,
    "description": "A CSV (UTF-8 or GB18030; or Parquet bytes) or JSON lines, by Content-Type.",
    "content": {
        "text/csv": {"schema": {"type": "string"}, "example": "petition_id,area_id,received_on,category\nP1,C0012,2025-12-30,labour_wages\n"},
        "application/x-ndjson": {"schema": {"type": "string"},
                                 "example": '{"petition_id": "P1", "area_id": "C0012", "received_on": "2025-12-30", "category": "labour_wages"}\n'},
    },
}


router = APIRouter(prefix="/v1", tags=["records"], dependencies=[Depends(reject_unknown_query)])


@router.post("/records/{kind}", response_model=UploadReport, status_code=200,
             responses=problem_responses(400, 401, 403, 413, 415, 422, 503), openapi_extra={"requestBody": REQUEST_BODY},
             summary="Upload a batch of records: all of it or none of it")
async def post_records(request: Request, engine: EngineDep, settings: SettingsDep, user: Uploader, kind: Kind) -> UploadReport:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CSV_TYPES + JSONL_TYPES:
        raise HTTPException(415, f"Content-Type must be text/csv or application/x-ndjson, not {content_type or 'missing'!r}")
    resource = f"/v1/records/{kind}"
    with engine.connect() as connection:
        scope = region_area_ids(connection, region_id=user.region_id)
        if kind in HIERARCHY_KINDS and not is_root(connection, area_id=user.region_id):
            raise HTTPException(403, f"{kind} change the area hierarchy: only a user whose region is the whole city may upload them")
    uploads = settings.data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=uploads, prefix=f"{kind}-", suffix=".part", delete=False) as handle:
        path = Path(handle.name)
        digest = hashlib.sha256()
        try:
            async for chunk in request.stream():
                handle.write(chunk)
                digest.update(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    try:
        source = f"upload:{user.name}:{digest.hexdigest()[:12]}"
        key = settings.hash_key.get_secret_value().encode("utf-8")
        loader = load_json_lines if content_type in JSONL_TYPES else load_file
        report = await run_in_threadpool(loader, engine, kind, path, hash_key=key, loaded_by=f"api:{user.name}",
                                         source=source, area_scope=scope)
    except BatchRejected as exc:
        audit.record_by(engine, user, action="upload_records", resource=resource,
                     outcome="rejected", detail=f"{len(exc.errors)} error(s)")
        raise RequestValidationError([upload_error(error, jsonl=content_type in JSONL_TYPES) for error in exc.errors]) from exc
    finally:
        path.unlink(missing_ok=True)
    audit.record_by(engine, user, action="upload_records", resource=resource,
                 outcome="ok", detail=report.summary())
    return UploadReport(kind=report.kind, batch_id=report.batch_id, rows_in=report.rows_in, added=report.added,
                        corrected=report.corrected, unchanged=report.unchanged, already_loaded=report.already_loaded,
                        summary=report.summary())



def upload_error(error, *, jsonl: bool) -> dict:  # noqa: ANN001 - features.ingest.RowError
    """A row error as a validation entry: location ``body``, then the row (or line) and column."""
    where: list[str] = ["body"]
    if error.row is not None:
        where.append(f"line {error.row - 1}" if jsonl else f"row {error.row}")
    if error.column is not None:
        where.append(error.column)
    value = "" if error.value is None else f" (value {str(error.value)[:80]!r})"
    return {"loc": tuple(where), "msg": error.reason + value, "type": "row_error"}
