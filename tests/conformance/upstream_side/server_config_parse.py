"""Parse argument vectors with upstream's real ``ServerConfig`` (tyro), as run_gr00t_server.py does.

    server_config_parse.py ARGVS_JSON

ARGVS_JSON is a JSON list of argument lists (without the script name). Prints one JSON list, one entry per
argv: ``{"argv", "ok": true, "config": {field: value}}`` (enum members by name) or
``{"argv", "ok": false, "exit_code", "error"}`` with the first line of tyro's complaint that names the
problem.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import io
import json
import re
import sys

import fake_gr00t_model


def parse(argv: list[str]) -> dict:
    import tyro
    from gr00t.eval.run_gr00t_server import ServerConfig

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            config = tyro.cli(ServerConfig, args=argv)
    except SystemExit as exc:
        return {"argv": argv, "ok": False, "exit_code": exc.code, "error": _complaint(stderr.getvalue())}
    values = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        values[field.name] = value.name if isinstance(value, enum.Enum) else value
    return {"argv": argv, "ok": True, "config": values}


def _complaint(text: str) -> str:
    """tyro draws a box; keep its words: the lines that name what is wrong, without the frame."""
    lines = [re.sub(r"[│╭╮╰╯─┃━]+", " ", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("For full helptext")]
    return " | ".join(lines[:6])


if __name__ == "__main__":
    fake_gr00t_model.add_stubs()
    print(json.dumps([parse(argv) for argv in json.loads(sys.argv[1])]))
