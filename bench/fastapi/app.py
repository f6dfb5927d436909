"""The FastAPI + XGBoost baseline of `npm run bench:serve`: the same work as our POST /v1/predict.

Per request: pydantic validates the body (schemas.py), the bearer key is checked, the 101 features of
spec 1.2.0 are computed from the model's fitted statistics (features.py), an XGBoost booster trained
with our GBDT's settings on the same matrix predicts, and the answer has our response's shape.

A model directory (written by bench/fastapi-service.ts) holds:
    booster.json              the XGBoost model (xgboost.Booster.save_model)
    feature-statistics.json   the statistics artifact of the registry version it mirrors
    serving.json              { modelVersion, featureSpec: { version, names }, classes, vocabularies }

Run it with serve.py (uvicorn, N worker processes); `create_app` is uvicorn's factory. Settings from
the environment: RETAIL_MLOPS_FASTAPI_MODEL (the directory), RETAIL_MLOPS_API_KEYS (comma-separated).
"""

import json
import os
import secrets
import uuid
from pathlib import Path
from typing import Optional

import numpy as np
import xgboost as xgb
from fastapi import Depends, FastAPI, Header, HTTPException, Response

from features import CLASSES, FEATURE_NAMES, FEATURE_SPEC_VERSION, VOCABULARIES, BasketFeatures, encode_basket
from schemas import Basket, PredictResponse


class Model:
    """A booster and the feature function it was trained on."""

    def __init__(self, directory: Path) -> None:
        serving = json.loads((directory / "serving.json").read_text(encoding="utf-8"))
        problems = []
        if serving["featureSpec"]["version"] != FEATURE_SPEC_VERSION or tuple(serving["featureSpec"]["names"]) != FEATURE_NAMES:
            problems.append(f"the model's feature spec {serving['featureSpec']['version']} is not this service's {FEATURE_SPEC_VERSION}")
        if tuple(serving["classes"]) != CLASSES:
            problems.append(f"the model's classes {serving['classes']} are not {list(CLASSES)}")
        if {name: tuple(values) for name, values in serving["vocabularies"].items()} != VOCABULARIES:
            problems.append("the model's vocabularies differ from this service's")
        if problems:
            raise RuntimeError(f"refusing the model in {directory}: {'; '.join(problems)}")
        self.version: str = serving["modelVersion"]
        self.features = BasketFeatures(json.loads((directory / "feature-statistics.json").read_text(encoding="utf-8")))
        self.booster = xgb.Booster(model_file=str(directory / "booster.json"))
        # one thread per worker process: uvicorn runs one worker per core
        self.booster.set_param({"nthread": 1})

    def predict(self, basket: Basket) -> np.ndarray:
        """Class probabilities (LA, MM, UM) of one basket."""
        row = self.features.compute(encode_basket(basket.context, basket.lines))
        return self.booster.inplace_predict(row.reshape(1, -1))[0]


def create_app() -> FastAPI:
    model = Model(Path(os.environ["RETAIL_MLOPS_FASTAPI_MODEL"]))
    api_keys = [key.strip().encode() for key in os.environ.get("RETAIL_MLOPS_API_KEYS", "").split(",") if key.strip()]
    if not api_keys:
        raise RuntimeError("RETAIL_MLOPS_API_KEYS is empty: set at least one API key")
    app = FastAPI(title="retail-mlops FastAPI + XGBoost baseline", version=model.version)

    # async (no thread-pool hop): the checks are a few microseconds of CPU
    async def authorize(authorization: Optional[str] = Header(default=None)) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        presented = token.strip().encode()
        if scheme.lower() != "bearer" or not any(secrets.compare_digest(presented, key) for key in api_keys):
            raise HTTPException(status_code=401, detail="missing or wrong API key", headers={"WWW-Authenticate": "Bearer"})

    @app.post("/v1/predict", response_model=PredictResponse, dependencies=[Depends(authorize)])
    async def predict(basket: Basket, response: Response, x_request_id: Optional[str] = Header(default=None)) -> dict:
        probabilities = model.predict(basket)
        request_id = x_request_id or str(uuid.uuid4())
        response.headers["X-Request-Id"] = request_id
        return {
            "label": CLASSES[int(probabilities.argmax())],
            "probabilities": dict(zip(CLASSES, probabilities.tolist())),
            "modelVersion": model.version,
            "featureSpecVersion": FEATURE_SPEC_VERSION,
            "requestId": request_id,
        }

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "alive"}

    @app.on_event("startup")
    async def announce() -> None:
        print(json.dumps({"event": "ready", "pid": os.getpid(), "modelVersion": model.version}), flush=True)

    return app
