"""One way for a command to print its result: JSON with ``--json``, a human text otherwise.

Every command group printed the same either/or by hand. They still differ in JSON layout
(indent, whether Ansible's ``diff`` payload is left out) and the tests and scripts that read
the output depend on those layouts, so those choices are arguments here, not changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any


def emit(
    result: Mapping[str, Any],
    as_json: bool,
    human: str | Callable[[], str],
    *,
    indent: int | None = None,
    omit: Collection[str] = (),
) -> None:
    """Print ``result`` as one JSON document when ``as_json``, else the ``human`` text.

    ``human`` may be a callable so that text needing keys only present on some paths is only
    built when it is printed. ``omit`` names top-level keys left out of the JSON (the human
    text is free to use them). ``default=str`` keeps a stray Path or datetime in a result
    from turning a finished operation into a traceback.
    """
    if as_json:
        shown = {key: value for key, value in result.items() if key not in omit}
        print(json.dumps(shown, indent=indent, default=str))
    else:
        print(human() if callable(human) else human)
