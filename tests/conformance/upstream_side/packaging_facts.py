"""Facts of the checkout's packaging that groot-ops builds on (run in upstream's interpreter, cwd = checkout).

Reads upstream's own files and prints what they say, as one JSON document: the pins and the
[tool.uv.sources] of pyproject.toml (where torch and flash-attn come from, for which Pythons), and of
each Dockerfile the base image, where the checkout is copied, the working directory, and whether it
needs BuildKit. Nothing of upstream is copied: these are readings.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import tomllib

DOCKERFILES = ("docker/Dockerfile", "scripts/deployment/spark/Dockerfile")
PYPROJECTS = ("pyproject.toml", "scripts/deployment/spark/pyproject.toml")


def _pin(deps: list[str], name: str) -> str | None:
    for dep in deps:
        match = re.match(rf"^{re.escape(name)}\s*==\s*([^;\s]+)", dep)
        if match:
            return match.group(1)
    return None


def pyproject_facts(path: Path) -> dict:
    data = tomllib.loads(path.read_text())
    project = data["project"]
    deps = project["dependencies"]
    uv = data.get("tool", {}).get("uv", {})
    indexes = {i["name"]: i["url"] for i in uv.get("index", [])}
    sources = uv.get("sources", {})

    def source(name: str) -> list[dict]:
        entries = sources.get(name, [])
        entries = entries if isinstance(entries, list) else [entries]
        out = []
        for entry in entries:
            item = {k: v for k, v in entry.items() if k in ("index", "marker")}
            if "index" in entry:
                item["url"] = indexes.get(entry["index"])
            if "url" in entry:
                item["wheel"] = entry["url"].rsplit("/", 1)[-1]
                item["python_tag"] = re.search(r"-(cp\d+)-", entry["url"]).group(1)
            out.append(item)
        return out

    return {
        "name": project["name"],
        "requires_python": project.get("requires-python"),
        "build_requires": data["build-system"]["requires"],
        "build_backend": data["build-system"]["build-backend"],
        "packages_include": data.get("tool", {})
        .get("setuptools", {})
        .get("packages", {})
        .get("find", {})
        .get("include"),
        "pins": {
            n: _pin(deps, n)
            for n in ("torch", "torchvision", "transformers", "flash-attn", "torchcodec", "deepspeed")
        },
        "sources": {n: source(n) for n in sorted(sources)},
    }


def dockerfile_facts(path: Path) -> dict:
    text = path.read_text()
    lines = [line.strip() for line in text.splitlines()]
    copies = [line.split()[1:] for line in lines if line.upper().startswith("COPY ")]
    return {
        "from": [line.split()[1] for line in lines if line.upper().startswith("FROM ")],
        "workdir": [line.split(None, 1)[1] for line in lines if line.upper().startswith("WORKDIR ")],
        "copies": copies,
        "syntax_directive": next((line for line in lines if line.startswith("# syntax=")), None),
        "heredocs": bool(re.search(r"^RUN .*<<\s*'?EOF", text, re.MULTILINE)),
        "mounts": "--mount=" in text,
        "path_env": [line for line in lines if line.startswith("ENV PATH=") or "VIRTUAL_ENV=" in line],
    }


def main() -> int:
    root = Path.cwd()
    facts = {
        "pyprojects": {p: pyproject_facts(root / p) for p in PYPROJECTS if (root / p).is_file()},
        "dockerfiles": {p: dockerfile_facts(root / p) for p in DOCKERFILES if (root / p).is_file()},
        "has_uv_lock": {p: (root / p).is_file() for p in ("uv.lock", "scripts/deployment/spark/uv.lock")},
    }
    print(json.dumps(facts, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
