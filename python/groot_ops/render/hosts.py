"""What each host of an inventory would get, from the roles' own task arguments and groot_ops' own functions.

Each renderer templates the arguments a role passes to its module (community.docker.docker_container,
groot_python_env, groot_train, groot_server_image, groot_server_probe) with the host's variables, then
asks the same groot_ops function the module calls (:mod:`groot_ops.envsetup`, :mod:`groot_ops.train`,
:mod:`groot_ops.serverimage`) what it would run. Values only known at run time (the model's commit, the
registered results of earlier tasks) are stood in for by what the role would register, and say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from groot_ops import __version__, deploy, envsetup, serverimage
from groot_ops.errors import ConfigError
from groot_ops.render.ansible_view import AnsibleView, PlayInfo
from groot_ops.render.tasks import TaskRef, find_task, find_tasks

CONNECTION_KEYS = ("ansible_connection", "ansible_host", "ansible_user", "ansible_docker_docker_host")
TRAIN_KEYS = (
    "recipe", "runs_root", "isaac_groot_dir", "python", "dataset_path", "output_dir", "base_model_path",
    "embodiment_tag", "flags", "nnodes", "node_rank", "nproc_per_node", "rdzv_endpoint", "rdzv_backend",
    "warm_start_from", "env",
)  # fmt: skip
PLAN_KEYS = ("context", "commit", "arch", "profile", "name", "network", "build_args", "labels", "docker")
MODEL_PLACEHOLDER = "<commit of {repo}@{revision}, resolved at deploy>"


def _role(view: AnsibleView, name: str) -> Path:
    return view.repo / "roles" / name


def _value(view: AnsibleView, expr: str, variables: dict[str, Any]) -> Any:
    return view.template("{{ " + expr + " }}", variables)


def _args(view: AnsibleView, ref: TaskRef, variables: dict[str, Any]) -> Any:
    return view.template(ref.args, {**variables, **view.trust(ref.vars)})


def _play(view: AnsibleView, role: str, host: str) -> PlayInfo:
    play = view.play_with_role(role, host)
    if play is None:
        raise ConfigError(f"no play of {view.repo / 'playbooks/site.yml'} runs role {role} on {host}")
    return play


def connection(view: AnsibleView, host: str) -> dict[str, Any]:
    variables = view.host_vars(host)
    found = {}
    for key in CONNECTION_KEYS:
        if key in variables:
            found[key] = view.template(variables[key], variables)
    return found


def render_workstation(view: AnsibleView, host: str) -> dict[str, Any]:
    """The dm-workstation container the workstation role creates on this engine host."""
    play = _play(view, "workstation", host)
    base = view.host_vars(host, play)
    ref = find_task(_role(view, "workstation"), "community.docker.docker_container")
    container = _args(view, ref, {**base, "_workstation_dry_run": False})
    container.pop("check_mode", None)
    return {
        "role": "workstation",
        "container": container,
        "image_source": _value(view, "workstation_image_source", base),
        "run_marker": _value(view, "workstation_run_marker", base),
        "data_root": _value(view, "workstation_data_root", base),
    }


def env_spec(view: AnsibleView, host: str) -> tuple[envsetup.EnvSpec, dict[str, Any], dict[str, Any]]:
    """The EnvSpec the groot_env role hands groot_python_env on this trainer, its base vars and stand-ins."""
    play = _play(view, "groot_env", host)
    base = view.host_vars(host, play)
    commit = _value(view, "groot_env_isaac_commit", base)
    wheel_dir = _value(view, "groot_env_wheel_build_dir", base)
    registered = {
        # What the role registers before the module: the built wheel and the pinned checkout.
        "_groot_env_wheel": {"path": f"{wheel_dir}/digest/groot_ops-{__version__}-py3-none-any.whl"},
        "_groot_env_isaac": {"after": commit, "before": commit, "changed": False},
    }
    ref = find_task(_role(view, "groot_env"), "groot_python_env")
    # The env's checks are rendered from their own tasks (render_trainer), not from the key they feed.
    install_args = {key: value for key, value in ref.args.items() if key != "checks"}
    args = view.template(install_args, {**base, **registered, **view.trust(ref.vars)})
    return envsetup.EnvSpec(**args), base, registered


def render_trainer(view: AnsibleView, host: str) -> dict[str, Any]:
    """The training env (checkout, install commands, checks) and the torchrun command of one trainer."""
    spec, base, registered = env_spec(view, host)
    steps = envsetup.plan(spec, envsetup.Observed(env_exists=False), check=True)
    # The env's checks name the interpreter the role's in-place check returned.
    result_stub = {"_groot_env_now": {"python": spec.env_python, "current": False}}
    verify = []
    for ref in find_tasks(_role(view, "groot_env"), "ansible.builtin.command"):
        if "_groot_env_now" not in str(ref.args):
            continue
        variables = {**base, **registered, **result_stub}
        items = view.template(ref.task["loop"], variables) if "loop" in ref.task else [None]
        for item in items:
            argv = _args(view, ref, {**variables, "item": item})["argv"]
            verify.append({"name": ref.name, "argv": argv, "gpu_only": "gpu" in (ref.task.get("tags") or [])})
    rendered = {
        "role": "groot_env",
        "interpreter": _value(view, "ansible_python_interpreter", base),
        "isaac_groot": {
            "repo_url": _value(view, "groot_env_isaac_repo_url", base),
            "ref": _value(view, "groot_env_isaac_ref", base),
            "commit": _value(view, "groot_env_isaac_commit", base),
            "dir": spec.project,
        },
        "env": {
            "manager": spec.manager,
            "prefix": spec.prefix,
            "python": spec.env_python,
            "python_version": spec.python_version,
            "system_packages": _value(view, "groot_env_system_packages", base),
            "install_fresh": [{"name": s["name"], "why": s["why"], "argv": s["argv"]} for s in steps],
            "note": "commands on a fresh env; an existing env runs only what its install record and Python "
            "need (groot-ops plan shows them, with the installer's dry run)",
        },
        "verify": verify,
    }
    rendered.update(render_training(view, host))
    return rendered


def _warm_start_stub(view: AnsibleView, base: dict[str, Any]) -> dict[str, Any]:
    """What groot_warm_start would register: a Hub source's directory is named by the SHA resolved later."""
    from groot_ops.hub.warm_start import model_dir, parse_source

    parsed = parse_source(_value(view, "finetune_warm_start_from", base))
    if parsed is None:
        return {"path": "", "source": None}
    if "path" in parsed:
        return {"path": parsed["path"], "source": None}
    sha = f"<commit of {parsed['repo_id']}@{parsed['revision']}, resolved at train>"
    return {
        "path": str(model_dir(_value(view, "finetune_warm_start_root", base), parsed["repo_id"], sha)),
        "source": None,
    }


def render_training(view: AnsibleView, host: str) -> dict[str, Any]:
    """The torchrun argv the finetune role's groot_train task would launch on this node."""
    play = _play(view, "finetune", host)
    base = view.host_vars(host, play)
    facts: dict[str, Any] = {}
    for ref in find_tasks(_role(view, "finetune"), "ansible.builtin.set_fact", name_contains="this node"):
        facts.update(_args(view, ref, {**base, **facts}))
    ref = find_task(_role(view, "finetune"), "groot_train", name_contains="launch")
    variables = {**base, **facts, "_finetune_warm_start": _warm_start_stub(view, base)}
    values: dict[str, Any] = {}
    for key in TRAIN_KEYS:
        if key in ref.args:
            template_vars = {**variables, **view.trust(ref.vars)}
            value = view.template({key: ref.args[key]}, template_vars)
            values.update(value)
    values.setdefault("python", _value(view, "ansible_python_interpreter", base))
    from groot_ops.train.command import torchrun_argv
    from groot_ops.train.spec import load_spec

    spec = load_spec(values)
    return {
        "finetune_python": _value(view, "finetune_python", base),
        "torchrun": torchrun_argv(spec),
        "node": {"rank": spec.node_rank, "nodes": spec.nnodes, "rdzv_endpoint": spec.rdzv_endpoint or None},
    }


def render_inference(view: AnsibleView, host: str) -> dict[str, Any]:
    """The server image (named, or built: checkout, Dockerfile, command), the container, the probe target."""
    play = _play(view, "groot_server", host)
    base = view.host_vars(host, play)
    named = _value(view, "groot_server_image", base)
    image_info: dict[str, Any]
    if named:
        image = named
        image_info = {"mode": "named", "image": named, "pull": _value(view, "groot_server_image_pull", base)}
    else:
        arch = _value(view, "groot_server_arch", base)
        ref = find_task(_role(view, "groot_server"), "groot_server_image", name_contains="start")
        checkout = {
            "repo_url": _value(view, "groot_server_isaac_repo_url", base),
            "ref": _value(view, "groot_server_isaac_ref", base),
            "commit": _value(view, "groot_server_isaac_commit", base),
            "dir": _value(view, "groot_server_isaac_dir", base),
        }
        arches = ["x86_64", "aarch64"] if arch == "auto" else [arch]
        plans = {}
        for candidate in arches:
            args = _args(view, ref, {**base, "_groot_server_uname": {"stdout": candidate}})
            plans[candidate] = serverimage.build_plan(
                **{k: args[k] for k in PLAN_KEYS if k in args}
            ).to_dict()
        chosen = plans[arches[0]]
        image = chosen["image"] if arch != "auto" else "<decided on the host by uname -m>"
        image_info = {
            "mode": "build",
            "image": image,
            "arch": arch,
            "checkout": checkout,
            "log_dir": _value(view, "groot_server_build_log_dir", base),
            **({"build": chosen} if arch != "auto" else {"builds_by_arch": plans}),
        }
    model = MODEL_PLACEHOLDER.format(
        repo=_value(view, "groot_server_model_repo_id", base),
        revision=_value(view, "groot_server_model_revision", base),
    )
    # The container's command comes from the deploy plan the role registers (groot_ops.deploy); offline it is
    # the same function's command for a stand-in revision, from the options the role passes to it.
    state_ref = find_task(_role(view, "groot_server"), "groot_server_state")
    server = _args(view, state_ref, {**base, "groot_server_fetch": {"commit": model}})["server"]
    plan = {"command": deploy.server_command(model, server), "restart": False, "revision": model}
    ref = find_task(_role(view, "groot_server"), "community.docker.docker_container")
    stand_in = {"groot_server_image": image, "_groot_server_state": {"plan": plan}}
    container = _args(view, ref, {**base, **stand_in})
    probe = find_task(_role(view, "groot_server"), "groot_server_probe")
    # Offline there is no statistics.json to read on the host: the probe's statistics are left out.
    probe_args = _args(view, probe, {**base, "_groot_server_statistics": {"skipped": True}})
    return {
        "role": "groot_server",
        "server_image": image_info,
        "container": container,
        "probe": {k: probe_args.get(k) for k in ("host", "port", "embodiment", "startup_timeout_s")},
    }
