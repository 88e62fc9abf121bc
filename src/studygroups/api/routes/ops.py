"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from studygroups.api.bodies import HEALTHY
from studygroups.api.schemas import HealthAnswer, ReadinessAnswer

router = APIRouter(tags=["operations"])

ReadinessCheck = Callable[[], Awaitable[str]]  # "ok", or what is wrong


@router.get("/healthz", response_model=HealthAnswer)
async def healthz() -> dict[str, str]:
    return dict(HEALTHY)


@router.get(
    "/readyz",
    response_model=ReadinessAnswer,
    responses={503: {"model": ReadinessAnswer, "description": "A check failed"}},
)
async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, ReadinessCheck] = request.app.state.readiness
    results = {name: await check() for name, check in checks.items()}
    ready = all(said == "ok" for said in results.values())
    body = {"status": "ready" if ready else "not ready", "checks": results}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics
    return Response(registry.render(), media_type=registry.content_type)
