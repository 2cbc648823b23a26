# Shows the progress lines of groot-ops jobs as they arrive (plain ansible-playbook output).
from __future__ import annotations

DOCUMENTATION = r"""
name: groot_progress
type: notification
short_description: Print the progress lines of groot-ops jobs while their poll task waits
description:
  - A long groot-ops job (the datasets stage's downloads) runs as an async task; module C(groot_progress)
    polls its progress file in an C(until) loop and returns the lines that are new since the last poll.
  - This callback prints those lines under the poll's C(FAILED - RETRYING) heartbeat, so that a retry
    (a rate limit waited out, an unreachable Hub) is visible while it happens, not only at the end.
  - Enabled in the repository's ansible.cfg (C(callbacks_enabled)).
"""

from ansible.plugins.callback import CallbackBase  # noqa: E402  (after the docs, as in modules)

_POLL_ACTIONS = frozenset({"groot_progress", "ansible.legacy.groot_progress"})


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "groot_progress"
    CALLBACK_NEEDS_ENABLED = True

    def _show(self, result) -> None:
        if result._task.action not in _POLL_ACTIONS:
            return
        lines = result._result.get("lines") or []
        host = result._host.get_name()
        for line in lines:
            self._display.display(f"  {host} | {line}")

    def v2_runner_retry(self, result) -> None:
        self._show(result)

    def v2_runner_on_ok(self, result) -> None:
        self._show(result)
