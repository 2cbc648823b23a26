"""What a finished run produced, for the operator's last screen: the model trained, published, served.

Read from the task results the run recorded (nothing is asked again): the training status that
``groot_train`` returns, the upload that ``groot_hub_upload`` made or found, and the probe that
``groot_server_probe`` passed, each with what to run next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from groot_ops.runner.events import EventRecorder


def _short(commit: Any) -> str:
    return str(commit)[:12] if commit else "?"


@dataclass
class Outcome:
    trained: list[str]
    published: list[str]
    served: list[str]

    def lines(self) -> list[str]:
        out: list[str] = []
        for label, entries in (
            ("Model", self.trained),
            ("Published", self.published),
            ("Serving", self.served),
        ):
            for index, entry in enumerate(entries):
                out.append(f"{label + ':' if index == 0 else '':<11}{entry}")
        return out


def _module(entry: dict[str, Any]) -> str:
    return str(entry.get("action") or "").rsplit(".", 1)[-1]


def _items(res: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in res.get("results") or [] if isinstance(item, dict)] or [res]


def _trained(recorder: EventRecorder, recipe: str | None) -> list[str]:
    lines = []
    for host, progress in sorted(recorder.training.items()):
        if recipe is not None and progress.recipe not in (None, recipe):
            continue
        loss = (
            f", final loss {progress.loss:.4f}" if progress.loss is not None and not progress.failed else ""
        )
        text = f"{progress.state or '?'} at step {progress.step}/{progress.max_steps}{loss} on {host}"
        if progress.failed and progress.failure:
            text += f" ({progress.failure.get('class', '?')}: {progress.failure.get('message', '')})"
        lines.append(text)
        if progress.loss_plot:
            fetch = (
                f"groot-ops status {recipe} --plot loss.png" if recipe else "groot-ops status --plot loss.png"
            )
            lines.append(f"loss plot {progress.loss_plot} on {host} ({fetch})")
    return lines


def _published(res: dict[str, Any]) -> str:
    what = f"{len(res.get('uploaded_files') or [])} files uploaded" if res.get("changed") else "unchanged"
    tag = f", tag {res['tag']}" if res.get("tag") else ""
    url = f" {res['url']}" if res.get("url") else ""
    return f"{res.get('repo_id', '?')} @ {_short(res['commit'])}{tag} ({what}){url}"


# The publish role's report of a no_log upload: "REPO step-N: uploaded K files, commit C" / "...: up to date".
_UPLOAD_REPORT = re.compile(
    r"^(?P<repo>\S+) (?P<tag>step-\d+): "
    r"(?:uploaded (?P<files>\d+) files, commit (?P<commit>\w+)|(?P<current>up to date))"
)


def _reported_upload(task: str, res: dict[str, Any]) -> tuple[str, str] | None:
    """(repo, line) from the publish role's "| report the upload" debug task, when its upload was no_log."""
    if "| report the upload" not in task or not isinstance(res.get("msg"), str):
        return None
    match = _UPLOAD_REPORT.match(" ".join(res["msg"].split()))
    if match is None:
        return None
    if match["current"]:
        return match["repo"], f"{match['repo']}, tag {match['tag']} (up to date, nothing uploaded)"
    return match[
        "repo"
    ], f"{match['repo']} @ {_short(match['commit'])}, tag {match['tag']} ({match['files']} files uploaded)"


def _served(host: str, res: dict[str, Any], revision: str | None) -> str:
    # The probe runs as an action plugin: its result names the endpoint, and carries no invocation.
    endpoint = str(res.get("endpoint") or "")
    target, _, port = endpoint.removeprefix("tcp://").rpartition(":")
    model = f"serves {revision} and " if revision else ""
    return f"{host}: groot-server {model}answers on {endpoint}; query it: groot-ops probe {target} {port}"


def outcome(recorder: EventRecorder, *, recipe: str | None = None) -> Outcome:
    # Keyed so that a later result replaces an earlier one: a rolled-back deploy probes twice.
    published: dict[str, str] = {}
    served: dict[str, str] = {}
    for entry in recorder.results:
        if entry["event"] != "runner_on_ok" or not isinstance(entry["res"], dict):
            continue
        name = _module(entry)
        for res in _items(entry["res"]):
            reported = _reported_upload(str(entry["task"]), res)
            if name == "groot_hub_upload" and res.get("commit"):
                published[str(res.get("repo_id"))] = _published(res)
            elif reported is not None and reported[0] not in published:
                published[reported[0]] = reported[1]
            elif name == "groot_server_probe" and res.get("ok"):
                served[entry["host"]] = _served(entry["host"], res, _served_revision(recorder, entry["host"]))
    return Outcome(
        trained=_trained(recorder, recipe), published=list(published.values()), served=list(served.values())
    )


def _served_revision(recorder: EventRecorder, host: str) -> str | None:
    """The model the deploy of ``host`` recorded as current (repo@revision), the newest result first."""
    for entry in reversed(recorder.results):
        if entry["host"] != host:
            continue
        res = entry["res"] if isinstance(entry["res"], dict) else {}
        facts = res.get("ansible_facts") or {}
        current = facts.get("groot_server_current") if isinstance(facts, dict) else None
        if isinstance(current, dict) and current.get("revision"):
            repo = f"{current['repo_id']}@" if current.get("repo_id") else ""
            return f"{repo}{_short(current['revision'])}"
        if res.get("deployed_revision"):
            repo = f"{res['repo_id']}@" if res.get("repo_id") else ""
            return f"{repo}{_short(res['deployed_revision'])}"
    return None
