"""What the CLI says at the end of a run and when Ansible itself fails: errors, outcome, failures, timing."""

from __future__ import annotations

import json
from pathlib import Path

from groot_ops.runner.events import EventRecorder, TaskFailure
from groot_ops.runner.outcome import outcome
from groot_ops.runner.render import failure_lines, progress_bar, summary_lines
from groot_ops.runner.timing import per_play, slowest, task_times


def _verbose(text: str) -> dict:
    return {"event": "verbose", "stdout": text}


def test_ansible_playbook_s_own_error_and_its_origin_are_recorded_with_advice(tmp_path: Path) -> None:
    recorder = EventRecorder(tmp_path / "events.jsonl", secrets=("pw123",))
    for event in (
        _verbose("\x1b[1;35m[WARNING]: No inventory was parsed, only implicit localhost is available\x1b[0m"),
        _verbose(
            "\x1b[0;31m[ERROR]: Decryption failed (no vault secrets were found that could decrypt).\x1b[0m"
        ),
        _verbose("\x1b[0;31mOrigin: /repo/inventory/group_vars/all/vault.yml\x1b[0m"),
        _verbose("\x1b[0;31m\x1b[0m"),
        _verbose("unrelated pw123 line"),
    ):
        recorder(event)
    recorder.close()
    assert recorder.errors == [
        "Decryption failed (no vault secrets were found that could decrypt).\n"
        "Origin: /repo/inventory/group_vars/all/vault.yml"
    ]
    assert recorder.warnings == ["No inventory was parsed, only implicit localhost is available"]
    text = "\n".join(summary_lines(recorder, 1, vault_source="the vault password file /tmp/pw"))
    assert "no host was reached" in text
    assert "  Decryption failed (no vault secrets were found that could decrypt).\n" in text
    assert "    Origin: /repo/inventory/group_vars/all/vault.yml" in text
    vault = "/repo/inventory/group_vars/all/vault.yml"
    assert f"what to do: the vault password file /tmp/pw does not decrypt {vault}" in text
    assert text.endswith("Exit code: 1")


def test_an_error_once_plays_run_is_recorded_and_the_encrypted_files_are_named(tmp_path: Path) -> None:
    from groot_ops.runner.explain import advice, find_vault_files

    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "group_vars" / "all" / "vault.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n3132\n")
    (inventory / "group_vars" / "all" / "plain.yml").write_text("a: 1\n")
    extra = tmp_path / "lab-vault.yml"
    extra.write_text("$ANSIBLE_VAULT;1.1;AES256\n3334\n")
    found = find_vault_files(inventory, [str(extra), str(tmp_path / "missing.yml")])
    assert found == [str(extra), str(inventory / "group_vars" / "all" / "vault.yml")]
    recorder = EventRecorder(tmp_path / "events.jsonl")
    # Decrypting inventory vars fails inside a play: an `error` event, and no file named.
    recorder({"event": "playbook_on_play_start", "event_data": {"play": "Site"}})
    recorder(
        {
            "event": "error",
            "stdout": "[ERROR]: Decryption failed (no vault secrets were found that could decrypt).",
        }
    )
    recorder.close()
    assert recorder.errors == ["Decryption failed (no vault secrets were found that could decrypt)."]
    assert advice(recorder.errors[0], vault_source="the vault password file /p", vault_files=found) == (
        f"the vault password file /p does not decrypt {extra} / {inventory}/group_vars/all/vault.yml: "
        "pass the right one (--vault-password-file FILE or --ask-vault-pass); nothing ran."
    )


def test_a_failure_of_several_lines_keeps_them_indented_under_the_task() -> None:
    failure = TaskFailure(
        "spark", "Probe", "Deploy", "probe failed: ping: no reply\nserver log:\nKeyError: x"
    )
    assert failure.line() == (
        "FAILED spark | Deploy | Probe: probe failed: ping: no reply\n    server log:\n    KeyError: x"
    )


def _ok(recorder: EventRecorder, host: str, task: str, action: str, res: dict) -> None:
    data = {"host": host, "task": task, "play": "P", "resolved_action": action, "res": res}
    recorder({"event": "runner_on_ok", "event_data": data})


def test_a_finished_site_run_says_what_was_trained_published_and_served(tmp_path: Path) -> None:
    recorder = EventRecorder(tmp_path / "events.jsonl")
    status = {"recipe": "demo", "state": "finished", "step": 20, "max_steps": 20, "loss": 0.0421,
              "eta_s": 0, "loss_plot": "/ws/runs/demo/loss.png"}  # fmt: skip
    _ok(recorder, "ws-c", "Train | wait", "groot_train", {"status": status})
    upload = {"changed": True, "repo_id": "org/m", "commit": "0123456789abcdef0123", "tag": "demo-step-20",
              "uploaded_files": ["a", "b"], "url": "http://hub/org/m"}  # fmt: skip
    _ok(recorder, "ws-c", "Publish | upload", "groot_ops.local.groot_hub_upload", upload)
    facts = {
        "ansible_facts": {"groot_server_current": {"revision": "0123456789abcdef0123", "repo_id": "org/m"}}
    }
    _ok(recorder, "spark", "Groot server | work out", "ansible.builtin.set_fact", facts)
    # As the probe's action plugin returns it: the endpoint, no invocation.
    probe = {"ok": True, "endpoint": "tcp://10.1.1.1:5555", "stages": ["ping", "get_modality_config"]}
    _ok(recorder, "spark", "Groot server | probe", "groot_server_probe", probe)
    recorder.close()
    assert outcome(recorder, recipe="demo").lines() == [
        "Model:     finished at step 20/20, final loss 0.0421 on ws-c",
        "           loss plot /ws/runs/demo/loss.png on ws-c (groot-ops status demo --plot loss.png)",
        "Published: org/m @ 0123456789ab, tag demo-step-20 (2 files uploaded) http://hub/org/m",
        "Serving:   spark: groot-server serves org/m@0123456789ab and answers on tcp://10.1.1.1:5555; "
        "query it: groot-ops probe 10.1.1.1 5555",
    ]


def test_a_no_log_upload_is_published_as_the_publish_role_reports_it(tmp_path: Path) -> None:
    recorder = EventRecorder(tmp_path / "events.jsonl")
    _ok(recorder, "ws-c", "Publish | upload privately and tag step-N", "groot_hub_upload",
        {"censored": "the output has been hidden", "changed": True})  # fmt: skip
    _ok(recorder, "ws-c", "Publish | report the upload", "ansible.builtin.debug",
        {"msg": "lab/m step-20: uploaded 7 files, commit 0123456789abcdef0123"})  # fmt: skip
    recorder.close()
    assert outcome(recorder).published == ["lab/m @ 0123456789ab, tag step-20 (7 files uploaded)"]
    again = EventRecorder(tmp_path / "again.jsonl")
    _ok(
        again,
        "ws-c",
        "Publish | report the upload",
        "ansible.builtin.debug",
        {"msg": "lab/m step-20: up to date"},
    )
    again.close()
    assert outcome(again).published == ["lab/m, tag step-20 (up to date, nothing uploaded)"]


def test_a_failed_training_shows_its_class_message_and_advice_and_no_eta(tmp_path: Path) -> None:
    recorder = EventRecorder(tmp_path / "events.jsonl")
    failure = {"class": "cuda_oom", "message": "CUDA out of memory. Tried to allocate 2.00 GiB",
               "advice": "lower the batch size", "retryable": False}  # fmt: skip
    status = {"recipe": "demo", "state": "failed:cuda_oom", "step": 7, "max_steps": 20, "it_s": 1.0,
              "eta_s": 13.0, "failure": failure}  # fmt: skip
    _ok(recorder, "ws-c", "Train", "groot_train", {"status": status})
    recorder.close()
    progress = recorder.training["ws-c"]
    assert progress_bar(progress) == "[########................] 7/20 failed:cuda_oom"
    assert failure_lines(progress) == [
        "Failure: cuda_oom: CUDA out of memory. Tried to allocate 2.00 GiB",
        "  what to do: lower the batch size",
    ]
    from groot_ops.runner.status import collect_status

    status_out = collect_status(recorder, "demo")
    assert status_out["eta_s"] is None and status_out["failure"]["class"] == "cuda_oom"
    assert outcome(recorder, recipe="demo").trained == [
        "failed:cuda_oom at step 7/20 on ws-c (cuda_oom: CUDA out of memory. Tried to allocate 2.00 GiB)"
    ]


def test_task_times_come_from_the_events_between_task_starts(tmp_path: Path) -> None:
    events = [
        ("playbook_on_play_start", "2026-01-01T00:00:00+00:00", {"play": "A"}),
        ("playbook_on_task_start", "2026-01-01T00:00:01+00:00", {"task": "a1"}),
        ("runner_on_ok", "2026-01-01T00:00:02+00:00", {"task": "a1"}),
        ("playbook_on_task_start", "2026-01-01T00:00:04+00:00", {"task": "a2"}),
        ("playbook_on_play_start", "2026-01-01T00:00:05+00:00", {"play": "B"}),
        ("playbook_on_task_start", "2026-01-01T00:00:05.500000+00:00", {"task": "a1"}),
        ("playbook_on_stats", "2026-01-01T00:00:09+00:00", {}),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text(
        "".join(json.dumps({"event": e, "created": t, "event_data": d}) + "\n" for e, t, d in events)
    )
    times = task_times(path)
    assert [(t.play, t.task, t.seconds) for t in times] == [
        ("A", "a1", 3.0),
        ("A", "a2", 1.0),
        ("B", "a1", 3.5),
    ]
    assert per_play(times) == {"A": 4.0, "B": 3.5}
    assert [(t.task, t.seconds) for t in slowest(times, 2)] == [("a1", 3.5), ("a1", 3.0)]


def test_a_terminal_sees_the_clock_tick_before_ansible_says_anything(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io
    import time

    from groot_ops.runner.render import LiveRenderer

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    out = Terminal()
    renderer = LiveRenderer(out, tick_s=0.05)
    renderer.say("plan: dry run")
    time.sleep(0.4)
    renderer.finish()
    text = out.getvalue()
    assert text.startswith("\x1b[1mplan: dry run\x1b[0m\n")
    # Redrawn in place several times while nothing else happened, then cleared.
    assert text.count("\r\x1b[2K[0s] plan: dry run") >= 3
    assert text.endswith("\r\x1b[2K")


def test_a_long_job_s_progress_lines_are_shown_as_each_poll_brings_them(tmp_path: Path) -> None:
    import io

    from groot_ops.runner.render import LiveRenderer

    out = io.StringIO()
    recorder = EventRecorder(tmp_path / "events.jsonl", on_update=LiveRenderer(out))
    polls = [
        ("runner_retry", ["downloading 2 datasets", "retry 1/∞ in 2.0s: http://hub:8080 unreachable"]),
        ("runner_retry", []),
        ("runner_on_ok", ["done: 2 datasets"]),
    ]
    for kind, lines in polls:
        res = {"lines": lines, "done": kind == "runner_on_ok", "changed": False}
        data = {"host": "ws", "task": "Datasets | progress", "resolved_action": "groot_progress", "res": res}
        recorder({"event": kind, "event_data": data})
    recorder.close()
    assert out.getvalue().splitlines() == [
        "  ws: downloading 2 datasets",
        "  ws: retry 1/∞ in 2.0s: http://hub:8080 unreachable",
        "  ws: done: 2 datasets",
    ]


def test_status_shows_what_the_deploy_status_says_of_the_server() -> None:
    from groot_ops.cli.runner_cmd import _serving_details

    deployed = {
        "deployed_revision": "abc",
        "container": "restarting (5 restarts)",
        "answering": False,
        "probe_error": "ping: no reply within 10.0s\nserver log: KeyError",
        "note": "differs from deployed.json",
    }
    assert _serving_details(deployed) == (
        " (container restarting (5 restarts); NOT answering the probe; ping: no reply within 10.0s; "
        "differs from deployed.json)"
    )
    assert (
        _serving_details({"container": "running", "answering": True})
        == " (container running; answering the probe)"
    )
    assert _serving_details({}) == ""


def test_inventory_warnings_that_only_echo_the_error_are_not_shown_before_it(tmp_path: Path) -> None:
    import io

    from groot_ops.runner.render import LiveRenderer

    # As ansible-core 2.19 prints them when the lab vault (-e @.lab/vault.yml) does not decrypt.
    lines = [
        "[WARNING]: Failed to parse inventory with 'yaml' plugin: Decryption failed (no vault secrets were "
        "found that could decrypt).",
        "Origin: /lab/.lab/vault.yml",
        "[WARNING]: Unable to parse /lab/inventory/lab as an inventory source",
        "[WARNING]: No inventory was parsed, only implicit localhost is available",
        "[ERROR]: Decryption failed (no vault secrets were found that could decrypt).",
        "Origin: /lab/.lab/vault.yml",
    ]
    out = io.StringIO()
    renderer = LiveRenderer(out)
    recorder = EventRecorder(tmp_path / "events.jsonl", on_update=renderer)
    for line in lines:
        recorder({"event": "verbose", "stdout": line})
    renderer.finish()
    recorder.close()
    assert out.getvalue().splitlines() == [
        "ERROR: Decryption failed (no vault secrets were found that could decrypt).",
        "  Origin: /lab/.lab/vault.yml",
    ]
    assert len(recorder.warnings) == 3  # still recorded
    # When the run goes on regardless, they are shown as the first play starts.
    out = io.StringIO()
    renderer = LiveRenderer(out)
    recorder = EventRecorder(tmp_path / "again.jsonl", on_update=renderer)
    recorder({"event": "verbose", "stdout": lines[3]})
    recorder({"event": "playbook_on_play_start", "event_data": {"play": "P"}})
    recorder.close()
    assert out.getvalue().splitlines() == [
        "warning: No inventory was parsed, only implicit localhost is available",
        "PLAY P",
    ]
