from __future__ import annotations

from pathlib import Path

import pytest

from groot_ops.errors import ConfigError
from groot_ops.runner.events import EventRecorder, _result_message, training_progress
from groot_ops.runner.invocation import (
    RunRequest,
    parse_extra_args,
    parse_extravars,
    runner_kwargs,
    secret_like,
)
from groot_ops.runner.plan import describe
from groot_ops.runner.render import progress_bar


def _project(tmp_path: Path) -> Path:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "site.yml").write_text("[]\n")
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    return tmp_path


def test_parse_extravars_types_and_files(tmp_path: Path) -> None:
    extra = tmp_path / "x.yml"
    extra.write_text("a: 1\nb: [x]\n")
    values, files = parse_extra_args(["wait=true", "n=3", "name=abc", f"@{extra}"])
    assert values == {"wait": True, "n": 3, "name": "abc"}
    # The file is passed on as a file (it may hold secrets or be vault-encrypted), never read into argv.
    assert files == [str(extra.resolve())]
    with pytest.raises(ConfigError, match="key=value"):
        parse_extravars(["novalue"])
    with pytest.raises(ConfigError, match="not found"):
        parse_extra_args([f"@{tmp_path / 'missing.yml'}"])


@pytest.mark.parametrize(
    "key",
    ["vault_hf_token", "groot_hf_token", "HF_TOKEN", "db_password", "wandb-api-key", "apikey", "my_secret",
     "aws_secret_access_key", "ssh_private_key", "registry.passwd", "credentials"],
)  # fmt: skip
def test_secret_like_keys(key: str) -> None:
    assert secret_like(key)


@pytest.mark.parametrize(
    "key",
    ["recipe", "wait", "publish_step", "max_tokens", "tokenizer", "groot_server_model_revision", "keyboard"],
)
def test_ordinary_keys_are_not_secret_like(key: str) -> None:
    assert not secret_like(key)


def test_secret_extravars_are_refused_with_every_offending_key(tmp_path: Path) -> None:
    root = _project(tmp_path)
    extravars = {
        "groot_hf_token": "x",
        "deploy": {"auth": {"password": "y"}},
        "note": "hf_" + "a" * 34,
        "wait": True,
    }
    with pytest.raises(ConfigError) as refused:
        runner_kwargs(RunRequest(stage="site", recipe="x", extravars=extravars), root, tmp_path / "r")
    assert "groot_hf_token, deploy.auth.password, note" in str(refused.value)
    assert "hf_aaaa" not in str(refused.value), "the refusal must not print the secret it refuses"


def test_extra_vars_files_go_on_the_command_line_as_paths(tmp_path: Path) -> None:
    import shlex

    root = _project(tmp_path)
    extra = tmp_path / "secret vars.yml"
    extra.write_text("groot_hf_token: hf_notontheargv\n")
    kwargs = runner_kwargs(
        RunRequest(stage="site", recipe="x", extra_vars_files=[str(extra)]), root, tmp_path / "r"
    )
    args = shlex.split(kwargs["cmdline"])
    assert args[args.index("-e") + 1] == f"@{extra.resolve()}"
    assert "hf_notontheargv" not in kwargs["cmdline"] and "groot_hf_token" not in str(kwargs["extravars"])


def test_loop_failures_name_each_failing_item_and_its_message() -> None:
    res = {
        "msg": "One or more items failed",
        "results": [
            {"failed": False, "item": {"name": "towel"}, "_ansible_item_label": "towel"},
            {"failed": True, "msg": "unreadable parquet (file a.parquet)", "_ansible_item_label": "wipe"},
            {"failed": True, "msg": "non-zero return code", "stderr": "x\nboom", "item": "fold"},
        ],
    }
    assert _result_message(res) == "wipe: unreadable parquet (file a.parquet); fold: boom"
    assert _result_message(
        {"msg": "MODULE FAILURE\nSee stdout", "module_stderr": "Traceback\nKeyError: 'x'"}
    ) == ("KeyError: 'x'")
    assert _result_message({"msg": "plain"}) == "plain"


def test_runner_kwargs_never_write_env_files_and_keep_host_key_checking(tmp_path: Path) -> None:
    root = _project(tmp_path)
    request = RunRequest(stage="site", recipe="demo", check=True, diff=True, vault_password="pw")
    kwargs = runner_kwargs(request, root, tmp_path / "run")
    assert kwargs["suppress_env_files"] is True
    assert kwargs["envvars"]["ANSIBLE_HOST_KEY_CHECKING"] == "True"
    assert kwargs["extravars"] == {"recipe": "demo"}
    assert "--check" in kwargs["cmdline"] and "--diff" in kwargs["cmdline"]
    assert "pw" not in kwargs["cmdline"] and list(kwargs["passwords"].values()) == ["pw"]


def test_unknown_stage_and_vault_extravars_are_refused(tmp_path: Path) -> None:
    root = _project(tmp_path)
    with pytest.raises(ConfigError, match="unknown stage"):
        runner_kwargs(RunRequest(stage="nope", recipe="x"), root, tmp_path / "r")
    with pytest.raises(ConfigError, match=r"playbooks/train\.yml not found"):
        runner_kwargs(RunRequest(stage="train", recipe="x"), root, tmp_path / "r")
    with pytest.raises(ConfigError, match="vault"):
        runner_kwargs(
            RunRequest(stage="site", recipe="x", extravars={"vault_hf_token": "t"}), root, tmp_path / "r"
        )


def test_recorder_tracks_failures_stats_and_scrubs_secrets(tmp_path: Path) -> None:
    recorder = EventRecorder(tmp_path / "events.jsonl", secrets=("s3cret",))
    events = [
        {"event": "playbook_on_play_start", "event_data": {"play": "P"}},
        {
            "event": "runner_on_failed",
            "event_data": {"host": "h1", "task": "T", "play": "P", "res": {"msg": "bad s3cret"}},
        },
        {
            "event": "playbook_on_stats",
            "event_data": {"ok": {"h1": 2}, "changed": {"h1": 1}, "failures": {"h1": 1}},
        },
    ]
    for event in events:
        assert recorder(event) is True  # False would make ansible-runner drop events
    recorder.close()
    assert recorder.failures[0].line() == "FAILED h1 | P | T: bad ********"
    assert recorder.host_summary()["h1"] == {
        "ok": 2,
        "changed": 1,
        "failed": 1,
        "unreachable": 0,
        "skipped": 0,
    }
    assert "s3cret" not in (tmp_path / "events.jsonl").read_text()


def test_training_progress_and_bar() -> None:
    progress = training_progress(
        "h", {"status": {"step": 50, "max_steps": 100, "loss": 0.5, "state": "running"}}
    )
    assert progress is not None and progress.step == 50
    assert progress_bar(progress, width=10).startswith("[#####.....] 50/100 loss 0.5000")
    assert training_progress("h", {"changed": True}) is None


def test_plan_describe_phrases_module_results() -> None:
    assert (
        describe(
            "groot_dataset",
            "t",
            {
                "changed": True,
                "repo_id": "org/ds",
                "revision": "main",
                "sha": "abc",
                "files": 3,
                "bytes": 2048,
            },
        )
        == "dataset org/ds @ main -> abc: fetch (3 files, 2.0 KiB)"
    )
    resume = {"changed": True, "action": "resume", "resume_step": 20, "status": {"max_steps": 40}}
    assert describe("groot_train", "t", resume) == "training: resume from step 20 to 40"
    done = {"action": "noop", "status": {"state": "finished", "step": 40, "max_steps": 40}}
    assert describe("groot_train", "t", done) == "training: nothing to do (finished at step 40/40)"
    assert describe("ansible.builtin.copy", "Write", {"changed": False}) is None


def _lab_project(tmp_path: Path, *, up: bool = True) -> Path:
    root = _project(tmp_path)
    (root / "inventory" / "lab").mkdir(parents=True)
    (root / "inventory" / "production").mkdir(parents=True)
    if up:
        (root / ".lab").mkdir()
        (root / ".lab" / "vault.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n")
        (root / ".lab" / "vault-pass").write_text("pw\n")
    return root


def test_runs_on_the_lab_inventory_adopt_the_lab_context(tmp_path: Path) -> None:
    import shlex

    root = _lab_project(tmp_path)
    for inventory in (None, str(root / "inventory" / "lab"), str(root / "inventory" / "lab") + "/"):
        kwargs = runner_kwargs(
            RunRequest(stage="site", recipe="d", inventory=inventory), root, tmp_path / "r"
        )
        args = shlex.split(kwargs["cmdline"])
        assert kwargs["envvars"]["HOME"] == str(root / ".lab" / "home")
        assert args[args.index("-e") + 1] == f"@{root / '.lab' / 'vault.yml'}"
        assert args[args.index("--vault-password-file") + 1] == str(root / ".lab" / "vault-pass")
        assert kwargs["skip_tags"] == "gpu"
        assert "vault.yml" not in str(kwargs["extravars"])
    # The operator's own choices win or add up.
    own = tmp_path / "my-pass"
    own.write_text("x\n")
    kwargs = runner_kwargs(
        RunRequest(stage="site", recipe="d", skip_tags="slow", vault_password_file=str(own)),
        root,
        tmp_path / "r",
    )
    args = shlex.split(kwargs["cmdline"])
    assert args[args.index("--vault-password-file") + 1] == str(own)
    assert args.count("--vault-password-file") == 1
    assert kwargs["skip_tags"] == "slow,gpu"
    asked = runner_kwargs(RunRequest(stage="site", recipe="d", vault_password="pw"), root, tmp_path / "r")
    assert "--vault-password-file" not in asked["cmdline"] and "--ask-vault-pass" in asked["cmdline"]


def test_runs_on_another_inventory_get_nothing_of_the_lab(tmp_path: Path) -> None:
    root = _lab_project(tmp_path)
    kwargs = runner_kwargs(
        RunRequest(stage="site", recipe="d", inventory=str(root / "inventory" / "production")),
        root,
        tmp_path / "r",
    )
    assert "HOME" not in kwargs["envvars"]
    assert "skip_tags" not in kwargs
    assert "cmdline" not in kwargs


def test_a_lab_run_before_lab_up_says_how_to_bring_it_up(tmp_path: Path) -> None:
    from groot_ops.errors import GrootOpsError

    root = _lab_project(tmp_path, up=False)
    with pytest.raises(GrootOpsError, match=r"the lab is not up .*groot-ops lab up"):
        runner_kwargs(RunRequest(stage="site", recipe="d"), root, tmp_path / "r")


def test_plan_lines_of_pending_containers_reports_and_preflight(tmp_path: Path) -> None:
    from groot_ops.runner.plan import plan_lines

    recorder = EventRecorder(tmp_path / "events.jsonl")

    def ok(host: str, task: str, action: str, res: dict[str, object]) -> None:
        data = {"host": host, "task": task, "play": "P", "resolved_action": action, "res": res}
        recorder({"event": "runner_on_ok", "event_data": data})

    ok("ws", "Preflight | verdict", "groot_preflight", {
        "budget": {"total_bytes": 2 * 1024**3},
        "checks": [{"name": "disk:datasets", "ok": False, "observed": {"free_bytes": 1024**3}}],
        "failed_checks": [{"name": "disk:datasets"}],
    })  # fmt: skip
    ok("c", "Container gate | report a container", "ansible.builtin.debug", {
        "msg": {"container_pending": "c", "note": "container c does not exist\n yet"},
    })  # fmt: skip
    ok("c", "Datasets | report what would be fetched", "ansible.builtin.debug", {
        "results": [{"msg": "a: org/a@main -> 1234, would fetch"},
                    {"msg": "b: org/b@v1 -> 5678, up to date"}],
    })  # fmt: skip
    ok("c", "Datasets | download", "groot_dataset", {"censored": "hidden", "changed": True})
    ok("c", "Datasets | build", "groot_training_dataset", {"changed": True, "lines": ["a: would convert x"]})
    ok("c", "Datasets | report each dataset and step", "ansible.builtin.debug", {
        "msg": ["a: would convert x -> y", "would merge a, b -> m"],
    })  # fmt: skip
    ok("c", "Some | debug", "ansible.builtin.debug", {"msg": "not plan-worthy"})
    recorder.close()
    assert [line["plan"] for line in plan_lines(recorder)] == [
        "preflight: REFUSED (disk:datasets); disk budget 2.0 GiB vs 1.0 GiB free -> DOES NOT FIT",
        "container c does not exist yet",
        "a: org/a@main -> 1234, would fetch",
        "b: org/b@v1 -> 5678, up to date",
        "a: would convert x -> y",
        "would merge a, b -> m",
    ]


def test_plan_lines_of_a_warm_start_come_from_its_report(tmp_path: Path) -> None:
    from groot_ops.runner.plan import plan_lines

    recorder = EventRecorder(tmp_path / "events.jsonl")
    line = "r: warm start from o/m@main -> 0123 (card matches: same dataset repos); would fetch 2 files"

    def ok(task: str, action: str, res: dict[str, object]) -> None:
        data = {"host": "c", "task": task, "play": "Train", "resolved_action": action, "res": res}
        recorder({"event": "runner_on_ok", "event_data": data})

    # Without a token the module's result is visible: it must not add a "would change" line of its own.
    ok(
        "Finetune | decide the warm start from the controller",
        "groot_warm_start",
        {"changed": True, "summary": line.split(": ", 1)[1], "pending": True},
    )
    ok("Finetune | report the warm start", "ansible.builtin.debug", {"msg": line})
    recorder.close()
    assert [entry["plan"] for entry in plan_lines(recorder)] == [line]


def test_non_tty_output_prints_each_task_as_it_starts_changes_and_training_polls(tmp_path: Path) -> None:
    import io

    from groot_ops.runner.render import LiveRenderer

    out = io.StringIO()
    recorder = EventRecorder(tmp_path / "events.jsonl", on_update=LiveRenderer(out))
    status = {
        "status": {"step": 5, "max_steps": 20, "loss": 0.25, "it_s": 1.5, "eta_s": 10, "state": "running"}
    }
    for event in (
        {"event": "playbook_on_play_start", "event_data": {"play": "Train"}},
        {"event": "playbook_on_task_start", "event_data": {"task": "Skipped one"}},
        {"event": "runner_on_skipped", "event_data": {"host": "h", "task": "Skipped one"}},
        {"event": "playbook_on_task_start", "event_data": {"task": "Wait"}},
    ):
        recorder(event)
    # Printed when it starts, before any result: a long task is visible while it runs.
    assert out.getvalue().endswith("] TASK Wait\n")
    for event in (
        {"event": "runner_retry", "event_data": {"host": "h", "task": "Wait", "res": status}},
        {"event": "runner_on_ok", "event_data": {"host": "h", "task": "Wait", "res": {"changed": True}}},
    ):
        recorder(event)
    recorder.close()
    text = out.getvalue()
    assert text.count("TASK Skipped one") == 1
    assert text.count("TASK Wait") == 1
    assert "h: [######..................] 5/20 loss 0.2500 1.50 it/s ETA 10s running (training" in text
    assert "changed: h | Wait" in text
    assert "\x1b" not in text
    assert recorder.training["h"].step == 5


def test_status_takes_the_served_revision_from_nested_results(tmp_path: Path) -> None:
    from groot_ops.runner.status import collect_status

    recorder = EventRecorder(tmp_path / "events.jsonl")
    served = {"deployed_revision": "c0ffee", "repo_id": "org/model", "previous_revision": None}
    for host, msg in (("spark-a", {"deployed_revision": None, "repo_id": None}), ("spark-b", served)):
        data = {"host": host, "task": "Status | deployed revision", "play": "P", "res": {"msg": msg}}
        recorder({"event": "runner_on_ok", "event_data": data})
    train = {"results": [{"status": {"step": 3, "max_steps": 9, "disk_free_bytes": 42, "state": "running"}}]}
    recorder({"event": "runner_on_ok", "event_data": {"host": "ws", "task": "T", "play": "P", "res": train}})
    recorder.close()
    status = collect_status(recorder, "demo")
    assert (status["deployed_revision"], status["deployed_repo_id"]) == ("c0ffee", "org/model")
    assert status["disk_free_bytes"] == 42


def test_a_terminal_gets_one_line_redrawn_with_each_hosts_task_and_training_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from groot_ops.runner.render import LiveRenderer

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("COLUMNS", "200")
    out = Terminal()
    recorder = EventRecorder(tmp_path / "events.jsonl", on_update=LiveRenderer(out))
    status = {"status": {"step": 6, "max_steps": 12, "eta_s": 30, "state": "running"}}
    for event in (
        {"event": "playbook_on_play_start", "event_data": {"play": "Train"}},
        {"event": "playbook_on_task_start", "event_data": {"task": "Wait"}},
        {"event": "runner_on_start", "event_data": {"host": "ws1", "task": "Wait"}},
        {"event": "runner_on_start", "event_data": {"host": "ws2", "task": "Wait"}},
        {"event": "runner_retry", "event_data": {"host": "ws1", "task": "Wait", "res": status}},
    ):
        recorder(event)
    recorder.close()
    screen = out.getvalue().rsplit("\r\x1b[2K", 1)[-1]
    assert screen.endswith("ws1: [######......] 6/12 ETA 30s running | ws2: Wait"), repr(screen)
    assert "\n" not in screen  # redrawn in place, not a new line per poll
    assert "\x1b[1mPLAY Train\x1b[0m\n" in out.getvalue()


def test_a_failed_run_carries_its_failure_and_no_eta() -> None:
    failure = {"class": "killed", "message": "killed by signal 9 (SIGKILL): exit code -9", "advice": "re-run"}
    status = {
        "recipe": "r",
        "state": "failed:killed",
        "step": 12,
        "max_steps": 40,
        "eta_s": None,
        "failure": failure,
        "nonfinite": None,
    }
    progress = training_progress("h", {"status": status})
    assert progress is not None and progress.failure == failure and progress.eta_s is None
    assert "ETA" not in progress_bar(progress)
