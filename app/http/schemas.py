"""The base of every model the frontend sends or sees: camelCase, inputs never echoed."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, hide_input_in_errors=True
    )


# An insurance company, as quotes and policies show it.
class Insurer(ApiModel):
    id: int | None
    name: str
    logo_url: str | None
