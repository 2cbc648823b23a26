"""Run upstream's real ``gr00t/eval/run_gr00t_server.py`` (tyro, ServerConfig, PolicyServer) on a fake model.

    serve_with_fake_model.py [run_gr00t_server.py's own flags ...]

Only model loading and inference are replaced (fake_gr00t_model.py); the script itself, its command-line
parsing and its prints are upstream's, run as ``__main__`` from the checkout on ``PYTHONPATH``.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import fake_gr00t_model

if __name__ == "__main__":
    import gr00t

    fake_gr00t_model.install()
    script = Path(gr00t.__file__).resolve().parent / "eval" / "run_gr00t_server.py"
    sys.argv = [str(script), *sys.argv[1:]]
    runpy.run_path(str(script), run_name="__main__")
