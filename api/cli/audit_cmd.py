"""``concord audit export``: the audit trail written out for an inspector, streamed, never edited."""

from __future__ import annotations

import csv
import datetime as dt
import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer

from api import audit
from api.cli.common import console, current_user, fail, load_settings, open_database
from features.storage.tables import audit_log

audit_app = typer.Typer(help="The append-only audit trail.", no_args_is_help=True)
COLUMNS = [column.name for column in audit_log.columns]


class ExportFormat(str, Enum):
    csv = "csv"
    jsonl = "jsonl"


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option(help="file to write (replaced atomically)", dir_okay=False)],
    since: Annotated[dt.datetime | None, typer.Option(help="first moment to include (ISO)")] = None,
    until: Annotated[dt.datetime | None, typer.Option(help="moment to stop before (ISO)")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl")] = ExportFormat.csv,
) -> None:
    """Write the audit entries between ``since`` and ``until``, oldest first; the export itself is audited."""
    if since and until and since >= until:
        raise fail("--since must be before --until", code=2)
    engine = open_database(load_settings())
    query = sa.select(audit_log).order_by(audit_log.c.entry_id)
    if since is not None:
        query = query.where(audit_log.c.at >= _aware(since))
    if until is not None:
        query = query.where(audit_log.c.at < _aware(until))
    tmp = out.with_name(out.name + ".part")
    rows = 0
    with engine.connect() as connection, tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle) if fmt is ExportFormat.csv else None
        if writer is not None:
            writer.writerow(COLUMNS)
        for row in connection.execution_options(yield_per=5000).execute(query):
            values = [row._mapping[name] for name in COLUMNS]
            if writer is not None:
                writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, dt.datetime) else v) for v in values])
            else:
                handle.write(json.dumps(dict(zip(COLUMNS, values, strict=True)), default=str, ensure_ascii=False) + "\n")
            rows += 1
    tmp.replace(out)
    audit.record(engine, actor=current_user(), role="admin", action="export_audit", resource=str(out), outcome="ok",
                 detail=f"{rows} entries, since={since}, until={until}")
    console.print(f"{rows} audit entries written to {out}")


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
