"""Policy reviews: file a proposal, read it back, edit it (a new version), download its report.

Reviewers and admins only (403 for other roles). A review is visible only
to users whose region holds every one of its areas; anything else answers
404, the same as a review that does not exist. A proposal naming an area
that does not exist or lies outside the filer's region is a validation
error on the field that names it (422), with the same message for both, so
filing cannot be used to learn which area ids exist elsewhere. Every read
and write is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Set
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Connection, Engine

from api import audit
from api.deps import EngineDep, SettingsDep, permitted, reject_unknown_query
from api.problems import problem, problem_responses
from api.regions import region_area_ids
from api.review_schemas import (
    ProposalIn,
    ReviewList,
    ReviewOut,
    ReviewSummary,
    review_params,
    to_proposal,
)
from api.security import User
from api.settings import Settings
from features.storage.tables import areas
from models import registry
from models.policy.evidence import EvidenceCache
from models.policy.findings import shown_proposal
from models.policy.history import History
from models.policy.report import render_html, render_pdf
from models.policy.review import Context, assess
from models.policy.store import (
    StoredReview,
    VersionConflict,
    get_review,
    list_latest,
    list_versions,
    new_review_id,
    save_version,
)

router = APIRouter(prefix="/v1/policy-reviews", tags=["policy reviews"], dependencies=[Depends(reject_unknown_query)])
Reviewer = Annotated[User, Depends(permitted("policy_reviews"))]
ReviewId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$", examples=["5f0c2a9e1b7d4c3a"])]
VersionQuery = Annotated[int | None, Query(ge=1, le=1_000_000, description="a version; default: the latest")]
READ_ERRORS = problem_responses(401, 403, 404, 422)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 503)


def get_evidence_cache(request: Request) -> EvidenceCache:
    """One cache per app: the effects of past decisions are estimated once per snapshot of the records."""
    cache = getattr(request.app.state, "policy_review_evidence", None)
    if cache is None:
        cache = request.app.state.policy_review_evidence = EvidenceCache()
    return cache


CacheDep = Annotated[EvidenceCache, Depends(get_evidence_cache)]


def _visible(review: StoredReview, region: Set[str]) -> bool:
    return bool(review.area_ids) and set(review.area_ids) <= region


def _out(review: StoredReview) -> ReviewOut:
    base = f"/v1/policy-reviews/{review.review_id}"
    return ReviewOut(
        review_id=review.review_id, version=review.version, title=review.title, policy_type=review.policy_type,
        region_id=review.region_id, created_by=review.created_by, created_at=review.created_at,
        level_before=review.level_before, level_after=review.level_after,
        proposal=shown_proposal(review.proposal, review.result["suppression_k"]),
        result=review.result, report_html=f"{base}/report.html?version={review.version}",
        report_pdf=f"{base}/report.pdf?version={review.version}")


def _summary(review: StoredReview) -> ReviewSummary:
    return ReviewSummary(review_id=review.review_id, version=review.version, title=review.title,
                         policy_type=review.policy_type, level_before=review.level_before,
                         level_after=review.level_after, created_by=review.created_by, created_at=review.created_at)


def _check_areas(connection: Connection, body: ProposalIn, region: Set[str]) -> dict[str, str]:
    """Names of the proposal's areas; 422 naming each one that is unknown or outside the region (alike)."""
    rows = dict(connection.execute(sa.select(areas.c.area_id, areas.c.name).where(areas.c.area_id.in_(body.areas))).all())
    refused = [(i, a) for i, a in enumerate(body.areas) if a not in rows or a not in region]
    if refused:
        raise RequestValidationError([{"loc": ("body", "areas", i), "msg": f"no area {a!r} in your region", "type": "unknown_area"}
                                      for i, a in refused])
    return rows


def _assess_and_store(*, engine: Engine, settings: Settings, cache: EvidenceCache, user: User, body: ProposalIn,
                      review_id: str) -> StoredReview:
    with engine.connect() as connection:
        region = region_area_ids(connection, region_id=user.region_id)
        names = _check_areas(connection, body, region)
    params = review_params(settings)
    as_of = dt.date.today()
    evidence = cache.get(engine, as_of=as_of, design=params.design, week_start=settings.week_start)
    if len(evidence.history.positions(body.areas)) == 0:
        raise RequestValidationError([{"loc": ("body", "areas"), "msg": "none of these areas has records to forecast from",
                                       "type": "no_records"}])
    serving = registry.serving_version(engine)
    result = assess(evidence.history, evidence.effects, to_proposal(body), params=params, context=Context(
        as_of=as_of, model_version=serving.version if serving else None, visible_areas=region,
        area_names={**names, **_names_below(engine, evidence.history, body.areas)}))
    try:
        return save_version(engine, review_id=review_id, proposal=body.model_dump(mode="json"), result=result,
                            title=body.title, policy_type=body.type, region_id=user.region_id, area_ids=list(body.areas),
                            created_by=user.name)
    except VersionConflict as exc:
        raise HTTPException(409, str(exc)) from exc


def _names_below(engine: Engine, history: History, listed: list[str]) -> dict[str, str]:
    ids = [str(history.area_ids[i]) for i in history.positions(listed)]
    with engine.connect() as connection:
        return dict(connection.execute(sa.select(areas.c.area_id, areas.c.name).where(areas.c.area_id.in_(ids))).all())


def _find(engine: Engine, user: User, review_id: str, version: int | None) -> StoredReview | None:
    """The review if it exists and lies within the user's region, else None (answered as 404)."""
    review = get_review(engine, review_id, version)
    with engine.connect() as connection:
        region = region_area_ids(connection, region_id=user.region_id)
    return review if review is not None and _visible(review, region) else None


def _readable(engine: Engine, user: User, review_id: str, version: int | None, action: str) -> StoredReview:
    review = _find(engine, user, review_id, version)
    resource = f"/v1/policy-reviews/{review_id}" + (f"?version={version}" if version else "")
    if review is None:
        audit.record_by(engine, user, action=action, resource=resource, outcome="not_found")
        raise HTTPException(404, f"no policy review {review_id!r}" + (f" version {version}" if version else "") + " in your region")
    audit.record_by(engine, user, action=action, resource=resource, area_ids=review.area_ids,
                 outcome="ok", detail=f"version {review.version}")
    return review


@router.post("", response_model=ReviewOut, status_code=201, responses=WRITE_ERRORS, summary="File a proposal for review")
def file_review(engine: EngineDep, settings: SettingsDep, cache: CacheDep, user: Reviewer, body: ProposalIn) -> ReviewOut:
    """Assess a proposed decision: levels with the rule, forecasts, analogues, uplift, priorities, findings."""
    review_id = new_review_id()
    try:
        review = _assess_and_store(engine=engine, settings=settings, cache=cache, user=user, body=body, review_id=review_id)
    except HTTPException as exc:
        audit.record_by(engine, user, action="file_policy_review", resource="/v1/policy-reviews",
                     area_ids=body.areas, outcome="not_found" if exc.status_code == 404 else "refused", detail=str(exc.detail))
        raise
    audit.record_by(engine, user, action="file_policy_review",
                 resource=f"/v1/policy-reviews/{review.review_id}", area_ids=review.area_ids, outcome="ok",
                 detail=f"version 1, level {review.level_before} -> {review.level_after}")
    return _out(review)


@router.put("/{review_id}", response_model=ReviewOut, responses=WRITE_ERRORS, summary="Edit a review: a new version")
def edit_review(engine: EngineDep, settings: SettingsDep, cache: CacheDep, user: Reviewer, review_id: ReviewId,
                body: ProposalIn) -> ReviewOut:
    """Re-assess the edited proposal and store it as the next version; earlier versions stay readable."""
    resource = f"/v1/policy-reviews/{review_id}"
    if _find(engine, user, review_id, None) is None:
        audit.record_by(engine, user, action="edit_policy_review", resource=resource,
                     outcome="not_found")
        raise HTTPException(404, f"no policy review {review_id!r} in your region")
    try:
        review = _assess_and_store(
            engine=engine, settings=settings, cache=cache, user=user, body=body, review_id=review_id)
    except HTTPException as exc:
        audit.record_by(engine, user, action="edit_policy_review", resource=resource,
                     area_ids=body.areas, outcome="not_found" if exc.status_code == 404 else "refused", detail=str(exc.detail))
        raise
    audit.record_by(engine, user, action="edit_policy_review",
                 resource=resource, area_ids=review.area_ids, outcome="ok",
                 detail=f"version {review.version}, level {review.level_before} -> {review.level_after}")
    return _out(review)


@router.get("", response_model=ReviewList, responses=READ_ERRORS, summary="Reviews in your region (latest versions)")
def read_reviews(engine: EngineDep, user: Reviewer,
                 limit: Annotated[int, Query(ge=1, le=500, description="how many reviews")] = 50) -> ReviewList:
    with engine.connect() as connection:
        region = region_area_ids(connection, region_id=user.region_id)
    items = [r for r in list_latest(engine) if _visible(r, region)][:limit]
    audit.record_by(engine, user, action="list_policy_reviews", resource="/v1/policy-reviews",
                 area_ids=sorted({a for r in items for a in r.area_ids}), outcome="ok")
    return ReviewList(items=[_summary(r) for r in items])


@router.get("/{review_id}", response_model=ReviewOut, responses=READ_ERRORS, summary="One review (a version)")
def read_review(engine: EngineDep, user: Reviewer, review_id: ReviewId, version: VersionQuery = None) -> ReviewOut:
    return _out(_readable(engine, user, review_id, version, "read_policy_review"))


@router.get("/{review_id}/versions", response_model=ReviewList, responses=READ_ERRORS, summary="Every version of a review")
def read_versions(engine: EngineDep, user: Reviewer, review_id: ReviewId) -> ReviewList:
    _readable(engine, user, review_id, None, "read_policy_review_versions")
    return ReviewList(items=[_summary(r) for r in list_versions(engine, review_id)])


def _view(review: StoredReview) -> dict:
    return {"review_id": review.review_id, "version": review.version, "title": review.title,
            "policy_type": review.policy_type, "created_by": review.created_by,
            "created_at": review.created_at.isoformat(timespec="seconds"), "proposal": review.proposal,
            "result": review.result}


@router.get("/{review_id}/report.html", response_class=HTMLResponse, responses=READ_ERRORS,
            summary="The review report (HTML, self-contained)")
def read_report_html(engine: EngineDep, user: Reviewer, review_id: ReviewId, version: VersionQuery = None) -> HTMLResponse:
    return HTMLResponse(render_html(_view(_readable(engine, user, review_id, version, "read_policy_review_report"))))


@router.get("/{review_id}/report.pdf", response_class=Response, responses={
    **READ_ERRORS, 200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
                         "description": "the report as PDF"}}, summary="The review report (PDF)")
def read_report_pdf(engine: EngineDep, user: Reviewer, review_id: ReviewId, version: VersionQuery = None) -> Response:
    review = _readable(engine, user, review_id, version, "read_policy_review_report")
    return Response(render_pdf(_view(review)), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="policy-review-{review.review_id}-v{review.version}.pdf"'})


def _method_not_allowed(allowed: str) -> Callable[[], Response]:
    """405 naming every method the path takes: GET and POST (or PUT) are separate routes, and without
    this Starlette's 405 would list only the first route's method in ``Allow``."""

    def handler() -> Response:
        return problem(405, "Method Not Allowed", f"this resource allows {allowed}", headers={"Allow": allowed})

    return handler


_OTHER = ["DELETE", "PATCH", "OPTIONS", "TRACE"]
router.add_api_route("", _method_not_allowed("GET, POST"), methods=[*_OTHER, "PUT"], include_in_schema=False)
router.add_api_route("/{review_id}", _method_not_allowed("GET, PUT"), methods=[*_OTHER, "POST"], include_in_schema=False)
