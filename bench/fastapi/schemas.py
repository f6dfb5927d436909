"""The request and response bodies of POST /v1/predict, as server/schemas.ts defines them, in pydantic.

Debian's python3-fastapi (0.92) runs on pydantic 1.x, so these use pydantic 1's constrained types.
Like the zod schemas: codes must match the LGSR patterns (ASCII digits, whole string), categories
their vocabularies, numbers are JSON numbers (no strings; integers where an integer is meant),
1–200 lines, unknown keys are ignored; the optional BASKET_ID is 15 digits as a string (not null).
"""

from typing import Any, Literal, Optional

from pydantic import BaseModel, Field, conint, conlist, constr, validator

from features import BASKET_MISSIONS, BASKET_TYPES, CLASSES, STORE_FORMATS, STORE_REGIONS

MAX_LINES_PER_BASKET = 200
MAX_QUANTITY = 10_000
MAX_SPEND = 1e9


def _code(prefix: str, digits: int) -> Any:
    # \Z, not $: `$` also matches before a trailing newline
    return constr(strict=True, regex=rf"^{prefix}[0-9]{{{digits}}}\Z")


class BasketContext(BaseModel):
    STORE_CODE: _code("STORE", 5)
    STORE_FORMAT: Literal[STORE_FORMATS]
    STORE_REGION: Literal[STORE_REGIONS]
    SHOP_WEEKDAY: conint(strict=True, ge=1, le=7)
    SHOP_HOUR: conint(strict=True, ge=0, le=23)
    BASKET_TYPE: Literal[BASKET_TYPES]
    BASKET_DOMINANT_MISSION: Literal[BASKET_MISSIONS]
    BASKET_ID: Optional[_code("", 15)] = None

    @validator("BASKET_ID", pre=True)
    def basket_id_is_not_null(cls, value: Any) -> Any:  # noqa: N805 (pydantic passes the class)
        # zod's optional() refuses an explicit null; pydantic's Optional would take it
        if value is None:
            raise TypeError("must be a string of 15 digits")
        return value


class BasketLine(BaseModel):
    PROD_CODE: _code("PRD", 7)
    PROD_CODE_10: _code("CL", 5)
    PROD_CODE_20: _code("DEP", 5)
    PROD_CODE_30: _code("G", 5)
    PROD_CODE_40: _code("D", 5)
    QUANTITY: conint(strict=True, ge=1, le=MAX_QUANTITY)
    SPEND: float = Field(..., ge=0, le=MAX_SPEND)

    @validator("SPEND", pre=True)
    def spend_is_a_number(cls, value: Any) -> Any:  # noqa: N805 (pydantic passes the class)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("must be a number")
        return value


class Basket(BaseModel):
    context: BasketContext
    lines: conlist(BasketLine, min_items=1, max_items=MAX_LINES_PER_BASKET)


class Probabilities(BaseModel):
    LA: float
    MM: float
    UM: float


class PredictResponse(BaseModel):
    label: Literal[CLASSES]
    probabilities: Probabilities
    modelVersion: str
    featureSpecVersion: str
    requestId: str
