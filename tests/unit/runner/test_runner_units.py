from __future__ import annotations

from pathlib import Path

import pytest

from groot_ops.errors import ConfigError
from groot_ops.runner.events import EventRecorder, training_progress
from groot_ops.runner.invocation import RunRequest, parse_extravars, runner_kwargs
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
    assert parse_extravars(["wait=true", "n=3", "name=abc", f"@{extra}"]) == {
        "wait": True,
        "n": 3,
        "name": "abc",
        "a": 1,
        "b": ["x"],
    }
    with pytest.raises(ConfigError, match="key=value"):
        parse_extravars(["novalue"])


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
        == "dataset org/ds @ main -> abc: fetch (3 files, 2.0 KB)"
    )
    assert describe("groot_train", "t", {"changed": True, "action": "resume", "resume_step": 20}) == (
        "training: resume from step 20"
    )
    assert describe("ansible.builtin.copy", "Write", {"changed": False}) is None
