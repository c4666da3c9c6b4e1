"""Write (or check) the committed skeleton of Etsy's OpenAPI document.

    python scripts/openapi_skeleton.py [SPEC] [--check]

SPEC is Etsy's full document (default: ETSY_OPENAPI_SPEC, else ../shared/etsy/openapi.json); download it from
https://www.etsy.com/openapi/generated/oas/3.0.0.json. The skeleton goes to
etsy_pipeline/emulator/spec/etsy_openapi_skeleton.json (see etsy_pipeline.emulator.spec.skeleton for what it
keeps). `--check` writes nothing and exits 1 when the committed skeleton differs from SPEC's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from etsy_pipeline.emulator.spec import skeleton  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("ETSY_OPENAPI_SPEC") or "../shared/etsy/openapi.json"
    parser.add_argument("spec", nargs="?", default=default, help="Etsy's full OpenAPI document (JSON)")
    parser.add_argument("--check", action="store_true", help="only compare with the committed skeleton")
    args = parser.parse_args(argv)
    source = Path(args.spec)
    source = source if source.is_absolute() else (ROOT / source).resolve()
    if not source.is_file():
        print(f"no OpenAPI document at {source}: pass its path or set ETSY_OPENAPI_SPEC", file=sys.stderr)
        return 2
    derived = skeleton.derive(json.loads(source.read_text(encoding="utf-8")))
    if args.check:
        if skeleton.PATH.is_file() and skeleton.load() == derived:
            print(f"{skeleton.PATH.relative_to(ROOT)} matches {source}")
            return 0
        print(f"{skeleton.PATH.relative_to(ROOT)} has drifted from {source}: run this script without --check")
        return 1
    skeleton.PATH.write_text(skeleton.dumps(derived), encoding="utf-8")
    operations = sum(m in skeleton.METHODS for ops in derived["paths"].values() for m in ops)
    schemas = len(derived["components"]["schemas"])
    print(f"wrote {skeleton.PATH.relative_to(ROOT)}: {operations} operations, {schemas} schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
