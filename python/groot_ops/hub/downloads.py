"""Download every dataset of a recipe, one after the other, in one process with one progress file.

The datasets role runs this as one ``async`` job and polls its progress file (see
:mod:`groot_ops.hub.progress`), so the operator sees each retry while the job waits instead of
minutes of silence. One job for all datasets also costs one module start instead of one per dataset.

A dataset that fails does not stop the others (each result says ``failed`` and why, the role reports
them all), except when the Hub is unreachable: then the remaining datasets are not attempted, since
each would wait out the same budget against the same dead endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groot_ops.errors import GrootOpsError
from groot_ops.hub.download import download_dataset
from groot_ops.hub.progress import append_record, start_job
from groot_ops.hub.retry import HubUnreachableError, endpoint_of

# Keys of one dataset entry: those of the datasets role's resolved items.
ITEM_KEYS = ("name", "repo_id", "aliases", "revision", "raw_dir", "ego_camera", "subfolder")


def _failure(item: dict[str, Any], message: str, retries: Sequence[str] = ()) -> dict[str, Any]:
    return {"item": item, "failed": True, "changed": False, "msg": message, "retries": list(retries)}


def download_datasets(
    datasets: Sequence[dict[str, Any]],
    *,
    endpoint: str | None = None,
    token: str | None = None,
    check: bool = False,
    max_retries: int | None = None,
    backoff_s: float = 1.0,
    retry_budget_s: float = 900.0,
    unreachable_budget_s: float = 120.0,
    progress_file: str | None = None,
    job: str | None = None,
) -> dict[str, Any]:
    """Download each ``{name, repo_id, aliases, revision, raw_dir, ego_camera, subfolder}`` in order.

    Returns ``changed``, ``in_place`` (every dataset already at its resolved commit with its files) and
    ``results``: per dataset, the :func:`download_dataset` result plus
    ``item`` (the entry as given), or ``{item, failed: True, msg, retries}``.
    """
    hub_url = endpoint_of(endpoint)
    if progress_file:
        start_job(progress_file, job or "", f"downloading {len(datasets)} dataset(s) from {hub_url}")
    results: list[dict[str, Any]] = []
    unreachable: str | None = None
    for item in datasets:
        name = item.get("name", item.get("repo_id"))
        if unreachable is not None:
            results.append(_failure(item, f"not attempted: {unreachable}"))
            continue
        if progress_file:
            verb = "resolving" if check else "downloading"
            append_record(
                progress_file,
                "step",
                f"{name}: {verb} {item['repo_id']}@{item['revision']} from {hub_url}",
                dataset=name,
            )
        try:
            result = download_dataset(
                item["repo_id"],
                str(item["revision"]),
                item["raw_dir"],
                aliases=item.get("aliases") or (),
                token=token,
                endpoint=endpoint,
                ego_camera=item.get("ego_camera") or None,
                subfolder=item.get("subfolder") or None,
                check=check,
                max_retries=max_retries,
                backoff_s=backoff_s,
                retry_budget_s=retry_budget_s,
                unreachable_budget_s=unreachable_budget_s,
                progress_file=progress_file,
            )
        except GrootOpsError as exc:
            results.append(_failure(item, str(exc), getattr(exc, "retry_lines", ())))
            if isinstance(exc, HubUnreachableError):
                unreachable = f"the Hub {hub_url} is unreachable (see {name})"
            continue
        results.append({**result, "item": item})
    # Every dataset at its resolved commit with its files: no download job is needed (also in check mode).
    in_place = bool(results) and not any(r.get("failed") or r.get("changed") for r in results)
    summary = _summary(results, check=check and not in_place)
    outcome = {
        "changed": any(r.get("changed") for r in results),
        "in_place": in_place,
        "results": results,
        "msg": summary,
    }
    if progress_file:
        append_record(progress_file, "done", summary, result=outcome)
    return outcome


def _summary(results: list[dict[str, Any]], *, check: bool) -> str:
    """One line: every failed dataset with its repo, revision and error, else how many are in place."""
    failed = [r for r in results if r.get("failed")]
    if failed:
        return "Download failed for " + " | ".join(
            f"{r['item'].get('name')} ({r['item'].get('repo_id')}@{r['item'].get('revision')}): {r['msg']}"
            for r in failed
        )
    return f"{len(results)} dataset(s) {'resolved' if check else 'in place'}"
