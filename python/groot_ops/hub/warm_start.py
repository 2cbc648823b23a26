"""Warm start from a model on the Hub: fetch it at a pinned revision, and decide whether that is safe.

Upstream keeps a fine-tuned checkpoint's own normalization statistics for its embodiment tag: the
trainer loads the new dataset's stats with ``set_statistics(..., override=False)``
(gr00t/data/state_action/state_action_processor.py ``StateActionProcessor.set_statistics``: a tag
already present is skipped with only a print), so a warm start from a model trained on other data
silently normalizes the new data with the old data's stats. :func:`warm_start_verdict` therefore
compares the training data recorded in the source's model card (ours carry dataset repos, SHAs and
the data fingerprint: :mod:`groot_ops.hub.modelcard`) with the recipe's, and refuses a mismatch unless
the recipe says ``accept_other_data: true``; a source without such a card is a warning.

Layout under ``root`` (on the training host): ``<owner>--<name>/<sha>/`` holds exactly the files of that
commit plus the marker ``.groot_ops_model.json``; downloads in progress live in
``<owner>--<name>/.staging-<sha>/`` (the client resumes there) and are renamed into place only when
complete, so a directory named by a SHA is always a whole model.

Before provision (``groot-ops plan`` on a machine whose training container does not exist yet) the
same decision is made from the controller (``pending=True``): the revision is resolved, the card read
into a temporary directory and compared with the recipe's dataset list; nothing under ``root`` and no
file of the training host is read (there is no host yet), nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groot_ops.atomic import write_json
from groot_ops.errors import GrootOpsError, InputError
from groot_ops.hub.retry import hub_failures
from groot_ops.hub.target import HubOptions, HubTarget
from groot_ops.units import binary_size

if TYPE_CHECKING:
    from typing_extensions import Unpack

MARKER = ".groot_ops_model.json"
CARD = "README.md"


def card_metadata(text: str) -> dict[str, Any] | None:
    """The ``groot_ops`` block of a model card's YAML front matter, or None when the card has none."""
    import yaml

    if not text.startswith("---"):
        return None
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        return None
    try:
        front = yaml.safe_load(parts[0][3:])
    except yaml.YAMLError:
        return None
    block = front.get("groot_ops") if isinstance(front, dict) else None
    return block if isinstance(block, dict) else None


def _pairs(datasets: Iterable[Any]) -> set[tuple[str, str | None]]:
    return {
        (str(d.get("repo_id")), d.get("sha") or None)
        for d in datasets
        if isinstance(d, dict) and d.get("repo_id")
    }


def warm_start_verdict(
    card: dict[str, Any] | None,
    recipe_data: dict[str, Any],
    *,
    source: str,
    accept_other_data: bool = False,
) -> dict[str, Any]:
    """``{"decision": "same"|"accepted"|"warn"|"refuse", "message"}`` for a warm start from ``source``;
    ``same`` also says on what ``basis`` (``fingerprint``, ``sha``, ``repo``), ``accepted`` what was
    ``trained`` and is ``wanted``.

    ``card`` is :func:`card_metadata` of the source's card; ``recipe_data`` is what the recipe trains on:
    ``{"datasets": [{repo_id, sha?}], "fingerprint": str | None}`` (the datasets role's provenance, or
    the recipe's dataset list when that is not written yet: repos without SHAs).
    """
    why = (
        "upstream keeps the source's normalization stats for its embodiment tag (set_statistics "
        "override=False), so this recipe's dataset stats would be ignored"
    )
    if card is None or not isinstance(card.get("datasets"), list):
        return {
            "decision": "warn",
            "message": f"WARNING: {source} has no groot-ops model card: its training data is unknown; {why} "
            "if it was trained on other data",
        }
    theirs = _pairs(card["datasets"])
    ours = _pairs(recipe_data.get("datasets") or [])
    fingerprint = recipe_data.get("fingerprint")
    if fingerprint and card.get("data_fingerprint") == fingerprint:
        same, basis = True, "fingerprint"
    elif all(sha for _, sha in ours):
        same, basis = theirs == ours, "sha"
    else:
        # Our SHAs are not known yet (the dataset stage has not run): the repos must at least match.
        same, basis = {repo for repo, _ in theirs} == {repo for repo, _ in ours}, "repo"
    if same:
        return {"decision": "same", "basis": basis, "message": f"{source} was trained on this recipe's data"}
    trained = ", ".join(sorted(f"{repo}@{(sha or '?')[:12]}" for repo, sha in theirs)) or "no datasets"
    wanted = ", ".join(sorted(f"{repo}@{(sha or '?')[:12]}" for repo, sha in ours)) or "no datasets"
    if accept_other_data:
        return {
            "decision": "accepted",
            "trained": trained,
            "wanted": wanted,
            "message": f"{source} was trained on {trained}, this recipe trains on {wanted}: accepted by "
            f"warm_start_from.accept_other_data ({why})",
        }
    return {
        "decision": "refuse",
        "message": f"warm start refused: {source} was trained on {trained} but this recipe trains on "
        f"{wanted}; {why}. Set warm_start_from.accept_other_data: true in the recipe to train anyway",
    }


def recipe_training_data(provenance_file: str | None, datasets: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """What the recipe trains on: the datasets role's record when written, else its dataset list."""
    if provenance_file:
        try:
            record = json.loads(Path(provenance_file).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict) and isinstance(record.get("datasets"), list):
            return {"datasets": record["datasets"], "fingerprint": record.get("fingerprint")}
    return {"datasets": [{"repo_id": d.get("repo_id")} for d in datasets], "fingerprint": None}


def model_dir(root: str | os.PathLike[str], repo_id: str, sha: str) -> Path:
    return Path(root) / repo_id.replace("/", "--") / sha


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _complete(path: Path) -> bool:
    marker = _read_json(path / MARKER)
    if not marker or not isinstance(marker.get("files"), list):
        return False
    return all(
        (path / f["path"]).is_file() and (path / f["path"]).stat().st_size == f["size"]
        for f in marker["files"]
    )


def _resolve(repo_id: str, revision: str, hub: HubTarget) -> str:
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    api = hub.api()
    try:
        info = hub.retry("revision lookup", repo_id, lambda: api.model_info(repo_id, revision=revision))
    except RevisionNotFoundError:
        raise InputError(
            f"warm_start_from: revision {revision!r} does not exist in model repo {repo_id} "
            f"on {hub.endpoint_url}"
        ) from None
    except RepositoryNotFoundError:
        raise InputError(
            f"warm_start_from: model repo {repo_id} not found on {hub.endpoint_url} "
            "(a private repo also needs the vault token)"
        ) from None
    if not info.sha:
        raise GrootOpsError(f"the Hub returned no commit sha for {repo_id}@{revision}")
    return str(info.sha)


def _files(repo_id: str, sha: str, hub: HubTarget) -> list[dict[str, Any]]:
    from huggingface_hub.hf_api import RepoFile

    api = hub.api()

    def listing() -> list[dict[str, Any]]:
        entries = api.list_repo_tree(repo_id, revision=sha, repo_type="model", recursive=True)
        return [{"path": e.path, "size": e.size} for e in entries if isinstance(e, RepoFile)]

    return sorted(hub.retry("tree listing", repo_id, listing), key=lambda f: f["path"])


def _fetch(repo_id: str, sha: str, dest: Path, hub: HubTarget, patterns: list[str] | None) -> None:
    from huggingface_hub import snapshot_download

    def fetch() -> str:
        return str(
            snapshot_download(
                repo_id=repo_id,
                repo_type="model",
                revision=sha,
                local_dir=str(dest),
                allow_patterns=patterns,
                token=hub.token,
                endpoint=hub.endpoint,
            )
        )

    hub.retry("snapshot download", repo_id, fetch)


def _card_text(repo_id: str, sha: str, local: Path | None, names: set[str], hub: HubTarget) -> str | None:
    """The card at that commit: from the local copy when complete, else fetched into a temporary dir."""
    if CARD not in names:
        return None
    if local is not None and _complete(local):
        return (local / CARD).read_text(encoding="utf-8", errors="replace")
    with tempfile.TemporaryDirectory(prefix="groot-ops-card-") as tmp:
        _fetch(repo_id, sha, Path(tmp), hub, [CARD])
        return (Path(tmp) / CARD).read_text(encoding="utf-8", errors="replace")


def decide_warm_start(
    repo_id: str,
    revision: str,
    hub: HubTarget,
    *,
    recipe_data: dict[str, Any],
    accept_other_data: bool = False,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The one decision of a warm start, on the training host and (``root`` None) from the controller.

    Resolves ``repo_id@revision`` to its commit, lists its files (a repo without ``*.safetensors`` is
    not a model), reads its card (from ``root``'s complete copy when there is one, else into a
    temporary directory) and applies :func:`warm_start_verdict` to ``recipe_data``
    (:func:`recipe_training_data`). Returns ``sha, files, verdict``; a refusal, a missing repo or
    revision is an :class:`InputError` naming the repo. Must run inside :func:`hub_failures`.
    """
    sha = _resolve(repo_id, revision, hub)
    files = _files(repo_id, sha, hub)
    names = {f["path"] for f in files}
    if not any(name.endswith(".safetensors") for name in names):
        raise InputError(f"warm_start_from: {repo_id}@{sha} holds no *.safetensors weights: not a model")
    local = model_dir(root, repo_id, sha) if root is not None else None
    verdict = warm_start_verdict(
        card_metadata(_card_text(repo_id, sha, local, names, hub) or ""),
        recipe_data,
        source=f"{repo_id}@{sha[:12]}",
        accept_other_data=accept_other_data,
    )
    if verdict["decision"] == "refuse":
        raise InputError(verdict["message"])
    return {"sha": sha, "files": files, "verdict": verdict}


BASIS = {
    "fingerprint": "same data fingerprint",
    "sha": "same dataset commits",
    "repo": "same dataset repos; their commits are compared at launch, once the dataset stage recorded them",
}


def summary_line(result: dict[str, Any], *, check: bool, pending: bool = False) -> str:
    """The plan's and the run's line for :func:`ensure_warm_start`'s ``result``:
    ``warm start from REPO@REV -> SHA (card matches: ... | other data acknowledged: ... | no card: ...);
    what is (or would be) fetched``."""
    verdict = result["verdict"]
    decision = verdict["decision"]
    if decision == "same":
        why = f"card matches: {BASIS.get(verdict.get('basis', ''), 'trained on this data')}"
    elif decision == "accepted":
        why = (
            f"other data acknowledged by accept_other_data: trained on {verdict.get('trained', '?')}, "
            f"this recipe trains on {verdict.get('wanted', '?')}; the source's normalization stats are kept"
        )
    else:
        why = "no card: its training data is unknown, and upstream keeps the source's normalization stats"
    size = f"{result['files']} files, {binary_size(result['bytes'])}"
    if pending:
        action = f"would fetch {size} into {result['path']} once provision created the training container"
    elif not result["changed"]:
        action = f"up to date in {result['path']}"
    else:
        action = f"{'would fetch' if check else 'fetched'} {size} into {result['path']}"
    return f"warm start from {result['repo_id']}@{result['revision']} -> {result['sha']} ({why}); {action}"


def ensure_warm_start(
    repo_id: str,
    revision: str,
    root: str | os.PathLike[str],
    *,
    datasets_provenance: str | None = None,
    datasets: Iterable[dict[str, Any]] = (),
    accept_other_data: bool = False,
    check: bool = False,
    pending: bool = False,
    **hub_options: Unpack[HubOptions],
) -> dict[str, Any]:
    """Decide on, then fetch, the warm-start model ``repo_id@revision`` into ``root``.

    The decision comes first (only the card is read), so a refused source costs no model download.
    ``pending``: the training host does not exist yet (plan before provision): decide from here with the
    recipe's ``datasets`` only, read nothing under ``root`` nor ``datasets_provenance`` (both are the
    host's), fetch nothing. Returns ``changed, repo_id, revision, sha, path, files, bytes, decision,
    message, summary, pending, warnings, diff``; a refusal is an :class:`InputError` carrying the
    verdict's message. ``hub_options``: endpoint, token, retry budget (:class:`HubOptions`).
    """
    if not repo_id or not revision:
        raise InputError("warm_start_from needs repo_id and a pinned revision (branch, tag or sha)")
    check = check or pending
    hub = HubTarget.from_params(hub_options)
    with hub_failures(repo_id, hub.endpoint_url):
        decided = decide_warm_start(
            repo_id,
            revision,
            hub,
            recipe_data=recipe_training_data(None if pending else datasets_provenance, datasets),
            accept_other_data=accept_other_data,
            root=None if pending else root,
        )
        sha, files, verdict = decided["sha"], decided["files"], decided["verdict"]
        final = model_dir(root, repo_id, sha)
        changed = pending or not _complete(final)
        if changed and not check:
            staging = final.parent / f".staging-{sha}"
            staging.mkdir(parents=True, exist_ok=True)
            _fetch(repo_id, sha, staging, hub, None)
            missing = [f["path"] for f in files if not (staging / f["path"]).is_file()]
            if missing:
                raise GrootOpsError(
                    f"download of {repo_id}@{sha} is incomplete, missing: {', '.join(missing[:5])}"
                )
            # The client's own bookkeeping is not part of the model.
            shutil.rmtree(staging / ".cache", ignore_errors=True)
            write_json(
                staging / MARKER, {"repo_id": repo_id, "revision": revision, "sha": sha, "files": files}
            )
            if final.exists():
                shutil.rmtree(final)
            staging.rename(final)
    after = {"repo_id": repo_id, "revision": revision, "sha": sha, "path": str(final)}
    result = {
        "changed": changed,
        **after,
        "files": len(files),
        "bytes": sum(int(f["size"]) for f in files),
        "decision": verdict["decision"],
        "message": verdict["message"],
        "pending": pending,
        "warnings": [verdict["message"]] if verdict["decision"] in ("warn", "accepted") else [],
        "endpoint": hub.endpoint_url,
        "retries": hub.retry_lines,
        "diff": {"before": None if changed else after, "after": after},
    }
    result["summary"] = summary_line({**result, "verdict": verdict}, check=check, pending=pending)
    return result


SOURCE_KEYS = frozenset({"repo_id", "revision", "accept_other_data"})


def parse_source(value: Any) -> dict[str, Any] | None:
    """A recipe's ``warm_start_from``: None (no warm start), ``{"path"}`` (a local checkpoint directory, as
    before) or ``{"repo_id", "revision", "accept_other_data"}`` (a model on the Hub). Anything else is an
    :class:`InputError` naming the key."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return {"path": value}
    if not isinstance(value, dict):
        raise InputError(f"warm_start_from must be a directory or {{repo_id, revision}}, got {value!r}")
    unknown = sorted(set(value) - SOURCE_KEYS)
    if unknown:
        raise InputError(
            f"warm_start_from has unknown key(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(SOURCE_KEYS))})"
        )
    repo_id, revision = value.get("repo_id"), value.get("revision")
    if not isinstance(repo_id, str) or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise InputError(
            f"warm_start_from.repo_id must be a Hub model repo such as owner/name, got {repo_id!r}"
        )
    if not isinstance(revision, str) or not revision.strip():
        raise InputError(
            f"warm_start_from.revision must pin a branch, tag or commit of {repo_id}, got {revision!r}"
        )
    accept = value.get("accept_other_data", False)
    if not isinstance(accept, bool):
        raise InputError(f"warm_start_from.accept_other_data must be true or false, got {accept!r}")
    return {"repo_id": repo_id, "revision": revision.strip(), "accept_other_data": accept}


def prepare_warm_start(value: Any, root: str | os.PathLike[str], **kwargs: Any) -> dict[str, Any]:
    """What the trainer starts from for a recipe's ``warm_start_from``: ``path`` ('' for none), ``source``
    (``{repo_id, revision, sha}`` for a Hub model, else None) plus :func:`ensure_warm_start`'s keys
    (``pending=True``: decided from the controller before provision, see there)."""
    parsed = parse_source(value)
    if parsed is None:
        return {
            "changed": False,
            "path": "",
            "source": None,
            "decision": "none",
            "message": "no warm start",
            "summary": "no warm start",
            "warnings": [],
            "diff": {},
        }
    if "path" in parsed:
        return {
            "changed": False,
            "path": parsed["path"],
            "source": None,
            "decision": "local",
            "message": f"warm start from the local checkpoint {parsed['path']}",
            "summary": f"warm start from the local checkpoint {parsed['path']}",
            "warnings": [],
            "diff": {},
        }
    result = ensure_warm_start(
        parsed["repo_id"], parsed["revision"], root, accept_other_data=parsed["accept_other_data"], **kwargs
    )
    return {**result, "source": {k: result[k] for k in ("repo_id", "revision", "sha")}}
