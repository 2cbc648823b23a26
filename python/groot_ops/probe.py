"""Health probe of a GR00T N1.6 policy server (``gr00t/eval/run_gr00t_server.py``).

Four stages, each a real request in upstream's protocol (``groot_ops.policy_wire``):

1. ``ping``, retried while the server loads its model (no reply yet) until the start-up deadline;
2. ``get_modality_config``: the ModalityConfigs must name the UNITREE_G1 groups (keys and order of
   ``groot_ops.data.schema``), a 30-step action horizon and one language key;
3. ``get_action`` with an all-zero observation of batch 1, in the layout the server was started with:
   nested ``{"video": {...}, "state": {...}, "language": {key: [[text]]}}`` for ``Gr00tPolicy``, flat
   ``video.<key>`` / ``state.<group>`` keys and ``{key: [text]}`` with ``--use-sim-policy-wrapper``
   (``Gr00tSimPolicyWrapper``). The reply must hold every action group (``action.<group>`` under the
   wrapper) as float32 (1, 30, width) with finite values;
4. ``reset``, answered with a map (``{}`` from ``Gr00tPolicy``).

The server's modality config carries no group widths (upstream's processor takes each group's width
from the checkpoint's ``statistics.json``). For UNITREE_G1 the probe checks the served keys against
``groot_ops.data.schema``, the one home of that layout, and takes the widths from it. For any other tag
(NEW_EMBODIMENT) the observation is built from the served config itself: its keys, its delta indices, its
one language key, and each group's width from the model's ``statistics.json`` (``statistics``), as
upstream's StateActionProcessor reads it; a served key without statistics fails the stage naming it.
Every stage records what the server answered, so a failed probe says which stage failed and why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from groot_ops import policy_wire
from groot_ops.errors import InputError
from groot_ops.policy_wire import ModalityConfig, NoReply, ServerError, WireError

PROBE_IMAGE_SIZE = (480, 640)  # the Unitree G1 head camera's frames (height, width)
PROBE_TASK = "groot-ops health probe"
NESTED = "nested"
FLAT = "flat (--use-sim-policy-wrapper)"
# What upstream answers when an observation arrives in the other layout
# (gr00t/policy/gr00t_policy.py: Gr00tPolicy.check_observation, Gr00tSimPolicyWrapper.check_observation).
_NESTED_SERVER_ON_FLAT = "Observation must contain a 'video' key"
_FLAT_SERVER_ON_NESTED = "must be in observation"
HINT_SERVER_IS_FLAT = (
    "the server runs with --use-sim-policy-wrapper and wants flat keys: "
    "probe with sim_policy_wrapper=true (groot_server_use_sim_policy_wrapper)"
)
HINT_SERVER_IS_NESTED = (
    "the server runs without --use-sim-policy-wrapper and wants the nested observation: "
    "probe with sim_policy_wrapper=false"
)


@dataclass(frozen=True)
class Embodiment:
    """What the probe expects of a server: group keys in model order, their widths, the horizon."""

    tag: str
    video: tuple[str, ...]
    state: dict[str, int]
    action: dict[str, int]
    language: str
    horizon: int


class StageFailure(Exception):
    """A stage did not pass; ``reply`` is what the server answered, ``hint`` a likely cause."""

    def __init__(self, message: str, reply: Any = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.reply = reply
        self.hint = hint


def unitree_g1() -> Embodiment:
    from groot_ops.data import schema

    modality = schema.modality_json()
    (annotation,) = modality["annotation"]
    return Embodiment(
        tag="unitree_g1",
        video=tuple(modality["video"]),
        state={name: end - start for name, start, end in schema.STATE_GROUPS},
        action={name: end - start for name, start, end in schema.ACTION_GROUPS},
        language=f"annotation.{annotation}",
        horizon=schema.ACTION_HORIZON,
    )


EMBODIMENTS = {"unitree_g1": unitree_g1}


def embodiment_spec(embodiment: str) -> Embodiment:
    key = embodiment.lower()
    if key not in EMBODIMENTS:
        raise InputError(f"unknown embodiment {embodiment!r}; known: {sorted(EMBODIMENTS)}")
    return EMBODIMENTS[key]()


def widths_from_statistics(statistics: Any, tag: str) -> dict[str, dict[str, int]]:
    """Each state/action group's width in a checkpoint's ``statistics.json`` for ``tag``.

    Upstream's file is ``{tag: {"state" | "action" | "relative_action": {group: {"min", "max", "mean",
    "std", "q01", "q99"}}}}`` (Gr00tN1d6Processor.save_pretrained); StateActionProcessor takes a group's
    width ("dim") from the length of its min/max lists, and so does this.
    """
    tag = tag.lower()
    if not isinstance(statistics, dict) or not isinstance(statistics.get(tag), dict):
        has = sorted(statistics) if isinstance(statistics, dict) else type(statistics).__name__
        raise InputError(f"statistics.json has no statistics for embodiment {tag!r} (has: {has})")
    widths: dict[str, dict[str, int]] = {}
    for modality in ("state", "action"):
        groups = statistics[tag].get(modality)
        if not isinstance(groups, dict):
            raise InputError(f"statistics.json: {tag}.{modality} is missing or not a map")
        widths[modality] = {}
        for group, stats in groups.items():
            values = next((stats[s] for s in ("min", "max", "q01", "mean") if s in stats), None)
            if not isinstance(values, list) or not values or isinstance(values[0], list):
                raise InputError(f"statistics.json: {tag}.{modality}.{group} has no 1-D min/max list")
            widths[modality][group] = len(values)
    return widths


def served_spec(
    reply: Any, tag: str, widths: dict[str, dict[str, int]]
) -> tuple[dict[str, ModalityConfig], Embodiment]:
    """The server's configs and what the probe builds from them: keys, horizon and language as served,
    widths from the model's statistics (any embodiment; UNITREE_G1 keeps check_modality_config)."""
    configs = _modality_configs(reply)
    built: dict[str, dict[str, int]] = {}
    for modality in ("state", "action"):
        keys = configs[modality].modality_keys
        if not keys:
            raise StageFailure(f"{modality} config names no keys", reply)
        unknown = [key for key in keys if key not in widths[modality]]
        if unknown:
            raise StageFailure(
                f"served {modality} keys {unknown} have no statistics for {tag} in the model's "
                f"statistics.json (it has {sorted(widths[modality])})",
                reply,
                hint="the server serves another model or embodiment tag than the probe was given",
            )
        built[modality] = {key: widths[modality][key] for key in keys}
    if not configs["video"].modality_keys:
        raise StageFailure("video config names no keys", reply)
    language = configs["language"].modality_keys
    if len(language) != 1:
        # Gr00tPolicy.__init__ asserts exactly one language key.
        raise StageFailure(f"language keys {language}: the server takes exactly one", reply)
    horizon = len(configs["action"].delta_indices)
    if horizon < 1:
        raise StageFailure("action config has no delta indices", reply)
    spec = Embodiment(
        tag=tag,
        video=tuple(configs["video"].modality_keys),
        state=built["state"],
        action=built["action"],
        language=language[0],
        horizon=horizon,
    )
    return configs, spec


# ---------------------------------------------------------------------------------------------------
# get_modality_config


def check_modality_config(reply: Any, spec: Embodiment) -> dict[str, ModalityConfig]:
    """The server's configs for video/state/action/language, checked against ``spec``."""
    configs = _modality_configs(reply)
    for modality, expected in (("state", list(spec.state)), ("action", list(spec.action))):
        keys = configs[modality].modality_keys
        if keys != expected:
            raise StageFailure(
                f"{modality} groups {keys} differ from {spec.tag}'s {expected} (keys and order)",
                reply,
                hint="the model was not fine-tuned for this embodiment, or the server runs another tag",
            )
    unknown = [key for key in configs["video"].modality_keys if key not in spec.video]
    if unknown or not configs["video"].modality_keys:
        raise StageFailure(f"video keys {configs['video'].modality_keys} are not {list(spec.video)}", reply)
    if configs["language"].modality_keys != [spec.language]:
        raise StageFailure(
            f"language keys {configs['language'].modality_keys} are not ['{spec.language}']", reply
        )
    horizon = len(configs["action"].delta_indices)
    if horizon != spec.horizon:
        raise StageFailure(
            f"action horizon {horizon} is not {spec.tag}'s {spec.horizon} (an N1.6 model serves 30 steps)",
            reply,
        )
    return configs


def _modality_configs(reply: Any) -> dict[str, ModalityConfig]:
    if not isinstance(reply, dict):
        raise StageFailure(f"expected a map of modality configs, got {type(reply).__name__}", reply)
    configs: dict[str, ModalityConfig] = {}
    for modality in ("video", "state", "action", "language"):
        config = reply.get(modality)
        if not isinstance(config, ModalityConfig):
            what = "missing" if config is None else f"not a ModalityConfig ({type(config).__name__})"
            raise StageFailure(f"modality '{modality}' is {what}", reply)
        configs[modality] = config
    return configs


# ---------------------------------------------------------------------------------------------------
# get_action


def canned_observation(
    configs: dict[str, ModalityConfig], spec: Embodiment, *, sim_policy_wrapper: bool = False
) -> dict[str, Any]:
    """All-zero observation of batch 1 in the server's layout, T from the configs' delta indices."""
    import numpy as np

    height, width = PROBE_IMAGE_SIZE
    video_t = len(configs["video"].delta_indices)
    state_t = len(configs["state"].delta_indices)
    video = {
        key: np.zeros((1, video_t, height, width, 3), np.uint8) for key in configs["video"].modality_keys
    }
    state = {
        key: np.zeros((1, state_t, spec.state[key]), np.float32) for key in configs["state"].modality_keys
    }
    (language_key,) = configs["language"].modality_keys
    if sim_policy_wrapper:
        # Gr00tSimPolicyWrapper: flat keys; the language under its own key as a list of B strings.
        return {
            **{f"video.{k}": v for k, v in video.items()},
            **{f"state.{k}": v for k, v in state.items()},
            language_key: [PROBE_TASK],
        }
    # Gr00tPolicy: nested by modality; language as B lists of one string.
    return {"video": video, "state": state, "language": {language_key: [[PROBE_TASK]]}}


def check_action(reply: Any, spec: Embodiment, *, sim_policy_wrapper: bool = False) -> str:
    import numpy as np

    if not (isinstance(reply, list | tuple) and len(reply) == 2 and isinstance(reply[0], dict)):
        raise StageFailure("expected [actions, info]", reply)
    actions = reply[0]
    prefix = "action." if sim_policy_wrapper else ""
    for group, width in spec.action.items():
        key = prefix + group
        value = actions.get(key)
        if value is None:
            other = group if sim_policy_wrapper else f"action.{group}"
            hint = None
            if other in actions:  # the answer is in the other layout's keys
                hint = HINT_SERVER_IS_NESTED if sim_policy_wrapper else HINT_SERVER_IS_FLAT
            raise StageFailure(f"reply has no action group '{key}' (keys: {sorted(actions)})", reply, hint)
        dtype, shape = getattr(value, "dtype", None), getattr(value, "shape", None)
        if shape != (1, spec.horizon, width) or dtype != np.float32:
            raise StageFailure(
                f"'{key}' is {dtype}{shape}, expected float32(1, {spec.horizon}, {width})", reply
            )
        if not np.all(np.isfinite(value)):
            raise StageFailure(f"'{key}' contains non-finite values", reply)
    return f"{len(spec.action)} action groups of {spec.horizon} steps"


def layout_hint(error: str, *, sim_policy_wrapper: bool) -> str | None:
    """Name the likely cause when the server refused the observation's layout."""
    if not sim_policy_wrapper and _FLAT_SERVER_ON_NESTED in error and "video." in error:
        return HINT_SERVER_IS_FLAT
    # --no-strict skips the check: Gr00tPolicy._unbatch_observation then fails on the missing "video" key.
    if sim_policy_wrapper and (_NESTED_SERVER_ON_FLAT in error or error == "'video'"):
        return HINT_SERVER_IS_NESTED
    return None


# ---------------------------------------------------------------------------------------------------
# the probe


def probe_server(
    host: str,
    port: int,
    *,
    embodiment: str = "unitree_g1",
    request_timeout_s: float = 10.0,
    startup_timeout_s: float = 600.0,
    api_token: str | None = None,
    retry_interval_s: float = 1.0,
    sim_policy_wrapper: bool = False,
    statistics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """ping (retried until ``startup_timeout_s``), get_modality_config, a canned get_action, reset.

    ``statistics``: the served model's ``statistics.json``; required for any embodiment but UNITREE_G1
    (its group widths). Returns ``{ok, changed: False, endpoint, layout, stages: [{name, ok, seconds,
    detail | error, reply, hint}], attempts, seconds, failed_stage, error, hint}``.
    """
    tag = embodiment.lower()
    if tag in EMBODIMENTS:
        fixed = embodiment_spec(tag)

        def read_config(reply: Any) -> tuple[dict[str, ModalityConfig], Embodiment]:
            return check_modality_config(reply, fixed), fixed
    else:
        if statistics is None:
            raise InputError(
                f"probing embodiment {tag!r} needs the served model's statistics.json (statistics / "
                f"--statistics): the group widths are only there"
            )
        widths = widths_from_statistics(statistics, tag)

        def read_config(reply: Any) -> tuple[dict[str, ModalityConfig], Embodiment]:
            return served_spec(reply, tag, widths)

    probe = _Probe(host, port, request_timeout_s, api_token)
    attempts = _ping(probe, startup_timeout_s, retry_interval_s)
    if probe.passed:
        served = probe.stage("get_modality_config", None, read_config)
        if served is not None:
            configs, spec = served
            observation = canned_observation(configs, spec, sim_policy_wrapper=sim_policy_wrapper)
            probe.stage(
                "get_action",
                {"observation": observation, "options": None},
                lambda reply: check_action(reply, spec, sim_policy_wrapper=sim_policy_wrapper),
                sim_policy_wrapper=sim_policy_wrapper,
            )
        if probe.passed:
            probe.stage("reset", {"options": None}, _check_reset)
    return probe.result(attempts, FLAT if sim_policy_wrapper else NESTED)


def _check_reset(reply: Any) -> str:
    if not isinstance(reply, dict):
        raise StageFailure(f"expected a map, got {type(reply).__name__}", reply)
    return f"answered {policy_wire.describe(reply)}"


def _check_ping(reply: Any) -> str:
    if not (isinstance(reply, dict) and reply.get("status") == "ok"):
        raise StageFailure("expected status 'ok'", reply)
    return str(reply.get("message", "ok"))


def _ping(probe: _Probe, startup_timeout_s: float, retry_interval_s: float) -> int:
    """Retry only while nothing answers (the model is loading); a server that answers badly fails now."""
    deadline = probe.started + startup_timeout_s
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        timeout_s = max(0.1, min(probe.timeout_s, remaining))
        entry, outcome = probe.attempt("ping", None, _check_ping, timeout_s=timeout_s)
        gave_up = outcome is _Probe.NO_REPLY and time.monotonic() + retry_interval_s >= deadline
        if outcome is not _Probe.NO_REPLY or gave_up:
            if gave_up:
                entry["error"] += f" (gave up after {attempts} attempts, {startup_timeout_s:.0f}s)"
            entry["seconds"] = round(time.monotonic() - probe.started, 3)  # the whole wait for the model
            probe.stages.append(entry)
            return attempts
        time.sleep(retry_interval_s)


class _Probe:
    NO_REPLY = object()

    def __init__(self, host: str, port: int, timeout_s: float, api_token: str | None) -> None:
        self.host, self.port, self.timeout_s, self.api_token = host, port, timeout_s, api_token
        self.started = time.monotonic()
        self.stages: list[dict[str, Any]] = []

    @property
    def passed(self) -> bool:
        return bool(self.stages) and all(s["ok"] for s in self.stages)

    def stage(
        self, name: str, data: dict[str, Any] | None, check: Any, *, sim_policy_wrapper: bool = False
    ) -> Any:
        """Run and record one stage; the check's value when it passed, else None."""
        entry, outcome = self.attempt(name, data, check, sim_policy_wrapper=sim_policy_wrapper)
        self.stages.append(entry)
        return outcome if entry["ok"] else None

    def attempt(
        self,
        name: str,
        data: dict[str, Any] | None,
        check: Any,
        *,
        timeout_s: float | None = None,
        sim_policy_wrapper: bool = False,
    ) -> tuple[dict[str, Any], Any]:
        """One request and its check: (stage entry, the check's value | None | NO_REPLY)."""
        started = time.monotonic()
        entry: dict[str, Any] = {"name": name, "ok": False}
        outcome: Any = None
        try:
            reply = policy_wire.call(
                self.host,
                self.port,
                name,
                data,
                timeout_s=timeout_s or self.timeout_s,
                api_token=self.api_token,
            )
            outcome = check(reply)
            detail = outcome if isinstance(outcome, str) else _config_detail(outcome[0])
            entry.update(ok=True, detail=detail)
        except NoReply as exc:
            entry.update(error=str(exc), reply=None)
            outcome = self.NO_REPLY
        except ServerError as exc:
            entry.update(error=str(exc), reply=policy_wire.describe(exc.reply))
            if name == "get_action":
                text = str(exc.reply.get("error")) if isinstance(exc.reply, dict) else ""
                entry["hint"] = layout_hint(text, sim_policy_wrapper=sim_policy_wrapper)
        except (WireError, StageFailure) as exc:
            entry.update(error=str(exc), reply=policy_wire.describe(exc.reply))
            entry["hint"] = getattr(exc, "hint", None)
        if entry.get("hint") is None:
            entry.pop("hint", None)
        entry["seconds"] = round(time.monotonic() - started, 3)
        return entry, outcome

    def result(self, attempts: int, layout: str) -> dict[str, Any]:
        failed = next((s for s in self.stages if not s["ok"]), None)
        endpoint = f"tcp://{self.host}:{self.port}"
        return {
            "ok": failed is None,
            "changed": False,
            "endpoint": endpoint,
            "layout": layout,
            "stages": self.stages,
            "attempts": attempts,
            "seconds": round(time.monotonic() - self.started, 3),
            "failed_stage": failed["name"] if failed else None,
            "error": f"{failed['name']} failed at {endpoint}: {failed['error']}" if failed else None,
            "hint": failed.get("hint") if failed else None,
        }


def _config_detail(configs: dict[str, ModalityConfig]) -> str:
    state, action = len(configs["state"].modality_keys), len(configs["action"].modality_keys)
    horizon = len(configs["action"].delta_indices)
    return (
        f"{state} state / {action} action groups, horizon {horizon}, video {configs['video'].modality_keys}"
    )
