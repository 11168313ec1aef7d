"""Write the OpenAPI document the frontends build against: `python -m app.openapi_export`."""

import json
import sys
from pathlib import Path
from typing import Any

from app.config import Settings
from app.main import create_app

TARGET = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def document() -> dict[str, Any]:
    # Fixed settings: the document describes the code, not this machine's environment.
    settings = Settings(_env_file=None, env="development")
    return create_app(settings, configure_logs=False).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    TARGET.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET}\n")


if __name__ == "__main__":
    main()
