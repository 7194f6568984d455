"""``concord review PROPOSAL.json|yaml``: assess a proposed decision, store the review, write its report.

The proposal file has the fields of ``POST /v1/policy-reviews`` (see
docs/policy-review.md). A bad file exits 2 naming each field at fault; the
review is stored as a new review (or, with ``--edit``, the next version of
one), audited, and its HTML and PDF reports are written to ``--out``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
import yaml
from pydantic import ValidationError

from api import audit
from api.cli.common import (
    console,
    current_user,
    err_console,
    fail,
    load_settings,
    open_database,
)
from api.regions import region_area_ids
from api.review_schemas import ProposalIn, review_params, to_proposal
from features.storage.tables import areas
from models import registry
from models.policy.evidence import EvidenceCache
from models.policy.report import render_html, render_pdf
from models.policy.review import Context, assess
from models.policy.store import get_review, new_review_id, save_version


def read_proposal(path: Path) -> ProposalIn:
    """Parse and validate a proposal file, or exit 2 naming every field at fault."""
    try:
        text = path.read_text(encoding="utf-8")
        data: Any = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise fail(f"cannot read {path}: {exc}", code=2) from exc
    try:
        return ProposalIn.model_validate(data)
    except ValidationError as exc:
        err_console.print(f"[bold red]Invalid proposal[/] in {path}:")
        for error in exc.errors():
            err_console.print(f"  {'.'.join(str(p) for p in error['loc']) or 'proposal'}: {error['msg']}")
        raise typer.Exit(2) from exc


def _root(connection: sa.Connection) -> str:
    root = connection.execute(sa.select(areas.c.area_id).where(sa.or_(areas.c.parent_id.is_(None), areas.c.parent_id == ""))
                              .order_by(areas.c.area_id).limit(1)).scalar()
    if root is None:
        raise fail("no areas are loaded; run `concord load` first")
    return root


def review_command(
    proposal_file: Annotated[Path, typer.Argument(help="the proposal, as JSON or YAML", exists=True, dir_okay=False)],
    region: Annotated[str | None, typer.Option(help="region the review is filed for (default: the whole city)")] = None,
    edit: Annotated[str | None, typer.Option(help="store as the next version of this review id")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for the HTML and PDF reports (default: DATA_DIR/reports)",
                                             file_okay=False)] = None,
) -> None:
    """Assess a proposal: risk level before and after mitigations, forecasts, analogues, uplift, report."""
    body = read_proposal(proposal_file)
    settings = load_settings()
    engine = open_database(settings)
    actor = current_user()
    with engine.connect() as connection:
        region_id = region or _root(connection)
        inside = frozenset(region_area_ids(connection, region_id=region_id))
        names = dict(connection.execute(sa.select(areas.c.area_id, areas.c.name).where(areas.c.area_id.in_(body.areas))).all())
    unknown = [f"areas.{i}: unknown area_id {a!r}" for i, a in enumerate(body.areas) if a not in names]
    if unknown:
        raise fail("; ".join(unknown), code=2)
    if not inside:
        raise fail(f"region {region_id!r} is not a known area_id", code=2)
    if not set(body.areas) <= inside:
        raise fail(f"areas outside region {region_id}: {', '.join(sorted(set(body.areas) - inside))}", code=2)
    if edit is not None and get_review(engine, edit) is None:
        raise fail(f"no policy review {edit!r} to edit")
    params = review_params(settings)
    as_of = dt.date.today()
    with console.status("estimating the effects of past decisions..."):
        evidence = EvidenceCache().get(engine, as_of=as_of, design=params.design, week_start=settings.week_start)
    if len(evidence.history.positions(body.areas)) == 0:
        raise fail("areas: none of these areas has records to forecast from", code=2)
    serving = registry.serving_version(engine)
    result = assess(evidence.history, evidence.effects, to_proposal(body), params=params, context=Context(
        as_of=as_of, model_version=serving.version if serving else None, visible_areas=None, area_names=names))
    review = save_version(engine, review_id=edit or new_review_id(), proposal=body.model_dump(mode="json"), result=result,
                          title=body.title, policy_type=body.type, region_id=region_id, area_ids=list(body.areas),
                          created_by=actor)
    audit.record(engine, actor=actor, role="admin", action="edit_policy_review" if edit else "file_policy_review",
                 resource=f"policy-reviews/{review.review_id}", area_ids=review.area_ids, outcome="ok",
                 detail=f"version {review.version}, level {review.level_before} -> {review.level_after}")
    view = {"review_id": review.review_id, "version": review.version, "title": review.title,
            "policy_type": review.policy_type, "created_by": review.created_by,
            "created_at": review.created_at.isoformat(timespec="seconds"), "proposal": review.proposal, "result": review.result}
    folder = out or settings.data_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"policy-review-{review.review_id}-v{review.version}"
    stem.with_suffix(".html").write_text(render_html(view), encoding="utf-8")
    stem.with_suffix(".pdf").write_bytes(render_pdf(view))
    console.print(f"review {review.review_id} version {review.version}: level {review.level_before.upper()} before "
                  f"mitigations, {review.level_after.upper()} after")
    console.print(f"rule: {result['level_rule']}")
    for warning in result["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"report: {stem.with_suffix('.html')} and {stem.with_suffix('.pdf')}")


def register(app: typer.Typer) -> None:
    app.command("review")(review_command)
