"""The model registry over HTTP: what is registered, its card, and promotion (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse

from api import audit
from api.deps import EngineDep, SettingsDep, permitted, reject_unknown_query
from api.problems import problem_responses
from api.schemas import ModelDetail, ModelSummary
from api.security import User
from models import registry
from models.evaluate import recorded_gates
from models.jobs import model_card_html, promote_checked

router = APIRouter(prefix="/v1", tags=["models"], dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[User, Depends(permitted("read_models"))]
Promoter = Annotated[User, Depends(permitted("promote_models"))]
Version = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", examples=["v20251230-101500-3fa2"])]


def summary(model: registry.RegisteredModel) -> dict:
    metrics = model.manifest.get("metrics", {})
    passed, _ = recorded_gates(model.manifest)
    return {
        "version": model.version, "created_at": model.created_at, "serving": model.serving,
        "training_window": [str(day) for day in model.manifest.get("training_window", [])],
        "average_precision": metrics.get("model_average_precision"),
        "baseline_average_precision": metrics.get("baseline_average_precision"),
        "gates_passed": passed if "backtest" in model.manifest else None,
    }


def _get(engine, user: User, version: str, action: str) -> registry.RegisteredModel:  # noqa: ANN001 - Engine
    try:
        return registry.get_version(engine, version)
    except registry.UnknownVersion as exc:
        audit.record_by(engine, user, action=action, resource=f"/v1/models/{version}", outcome="not_found")
        raise HTTPException(404, str(exc)) from exc


@router.get("/models", response_model=list[ModelSummary], responses=problem_responses(401, 403, 422, 503),
            summary="Registered model versions, newest first")
def list_models(engine: EngineDep, user: Reader) -> list[ModelSummary]:
    models = registry.list_versions(engine)
    audit.record_by(engine, user, action="list_models", resource="/v1/models", outcome="ok",
                 detail=f"{len(models)} versions")
    return [ModelSummary(**summary(model)) for model in models]


@router.get("/models/{version}", response_model=ModelDetail, responses=problem_responses(401, 403, 404, 422, 503),
            summary="A version's manifest, gates and a link to its card")
def read_model(engine: EngineDep, user: Reader, version: Version) -> ModelDetail:
    model = _get(engine, user, version, "read_model")
    _, reasons = recorded_gates(model.manifest)
    audit.record_by(engine, user, action="read_model", resource=f"/v1/models/{version}", outcome="ok")
    return ModelDetail(**summary(model), sha256=model.sha256, manifest=model.manifest, gate_reasons=reasons,
                       card_url=f"/v1/models/{version}/card")


@router.get("/models/{version}/card", response_class=HTMLResponse, responses=problem_responses(401, 403, 404, 422, 503),
            summary="A version's model card (HTML with plots)")
def read_model_card(engine: EngineDep, user: Reader, version: Version) -> HTMLResponse:
    model = _get(engine, user, version, "read_model_card")
    try:
        html = model_card_html(model)
    except ValueError as exc:
        audit.record_by(engine, user, action="read_model_card", resource=f"/v1/models/{version}/card", outcome="not_found")
        raise HTTPException(404, str(exc)) from exc
    audit.record_by(engine, user, action="read_model_card", resource=f"/v1/models/{version}/card", outcome="ok")
    return HTMLResponse(html)


@router.post("/models/{version}/promote", response_model=ModelDetail, responses=problem_responses(401, 403, 404, 409, 422, 503),
             summary="Serve this version (admin); refused unless its file checks out and it passed its gates")
def post_promote(request: Request, engine: EngineDep, settings: SettingsDep, user: Promoter, version: Version) -> ModelDetail:
    resource = f"/v1/models/{version}/promote"
    _get(engine, user, version, "promote_model")
    try:
        model = promote_checked(engine, registry_dir=settings.registry_dir, version=version)
    except registry.ArtifactRejected as exc:
        audit.record_by(engine, user, action="promote_model", resource=resource, outcome="refused", detail=str(exc))
        raise HTTPException(409, str(exc)) from exc
    audit.record_by(engine, user, action="promote_model", resource=resource, outcome="ok")
    request.app.state.metrics.set_serving(model.version)
    _, reasons = recorded_gates(model.manifest)
    return ModelDetail(**summary(model), sha256=model.sha256, manifest=model.manifest, gate_reasons=reasons,
                       card_url=f"/v1/models/{version}/card")
