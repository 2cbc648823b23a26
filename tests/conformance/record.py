"""Re-record the fixtures under tests/fixtures/upstream/ from a real Isaac-GR00T checkout.

    GROOT_UPSTREAM_SRC=/path/to/Isaac-GR00T GROOT_UPSTREAM_PYTHON=/path/to/venv/bin/python \
        .venv/bin/python -m tests.conformance.record [--only TOPIC ...]

Each module of ``tests/conformance/recorders/`` exposes ``TOPIC`` and
``record(upstream, out_dir) -> list[Path]``; what they write is the output of running upstream code
(bytes, JSON, verdicts), never upstream source.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from tests.conformance import recorders
from tests.conformance.upstream import PINNED_COMMIT, Upstream, UpstreamMissing

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "upstream"


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--only", action="append", default=[], help="record only this topic (repeatable)")
    args = parser.parse_args(argv)
    try:
        upstream = Upstream.from_env()
    except UpstreamMissing as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 2
    if upstream.commit() != PINNED_COMMIT:
        print(f"record: {upstream.src} is not at n1.6.1-release ({PINNED_COMMIT})", file=sys.stderr)
        return 2
    for info in pkgutil.iter_modules(recorders.__path__):
        module = importlib.import_module(f"{recorders.__name__}.{info.name}")
        topic = getattr(module, "TOPIC", info.name)
        if args.only and topic not in args.only:
            continue
        out_dir = FIXTURES / topic
        out_dir.mkdir(parents=True, exist_ok=True)
        for path in module.record(upstream, out_dir):
            print(f"{topic}: {path.relative_to(FIXTURES.parents[1])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
