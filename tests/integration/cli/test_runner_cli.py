"""The operator CLI (plan/run/status) driving real ansible-playbook runs through ansible-runner.

A small throwaway project (ansible.cfg, playbooks, an inventory with localhost, a vault) stands in
for the repository so these tests exercise the CLI itself; the lab end-to-end tests drive the
real playbooks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

VAULT_PASSWORD = "lab-vault-password-for-tests"
SECRET = "hf_TopSecretTokenValue123456789"

STATUS_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
def main():
    module = AnsibleModule(argument_spec=dict(step=dict(type="int"), max_steps=dict(type="int")),
                           supports_check_mode=True)
    p = module.params
    module.exit_json(changed=False, recipe="demo", state="running", step=p["step"],
                     max_steps=p["max_steps"], loss=0.125, it_s=2.0, eta_s=10.0,
                     deployed_revision="abc123", disk_free_bytes=123456789)
main()
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    out = tmp_path / "out"
    _write(
        root / "ansible.cfg",
        """\
        [defaults]
        library = library
        host_key_checking = True
        retry_files_enabled = False
        """,
    )
    (root / "library").mkdir()
    (root / "library" / "fake_status.py").write_text(STATUS_MODULE)
    interp = sys.executable
    _write(
        root / "inventory" / "hosts.yml",
        f"""\
        all:
          hosts:
            localhost:
              ansible_connection: local
              ansible_python_interpreter: {interp}
        """,
    )
    _write(
        root / "playbooks" / "site.yml",
        f"""\
        - name: Site
          hosts: all
          gather_facts: false
          tasks:
            - name: Create the output directory
              ansible.builtin.file:
                path: {out}
                state: directory
                mode: "0755"
            - name: Write the marker
              ansible.builtin.copy:
                content: "recipe={{{{ recipe }}}} foo={{{{ foo | default('unset') }}}}\\n"
                dest: {out}/marker.txt
                mode: "0644"
            - name: Use the token
              ansible.builtin.copy:
                content: "{{{{ vault_hf_token }}}}"
                dest: {out}/token.txt
                mode: "0600"
              no_log: true
            - name: Fail on request
              ansible.builtin.fail:
                msg: "asked to fail for {{{{ recipe }}}}"
              when: fail_now | default(false) | bool
        """,
    )
    _write(
        root / "playbooks" / "status.yml",
        """\
        - name: Status
          hosts: all
          gather_facts: false
          tasks:
            - name: Read training status
              fake_status:
                step: 40
                max_steps: 100
        """,
    )
    vars_dir = root / "inventory" / "group_vars" / "all"
    vars_dir.mkdir(parents=True)
    plain = vars_dir / "vault.yml"
    plain.write_text(f"vault_hf_token: {SECRET}\n")
    pw = tmp_path / "vault-pass"
    pw.write_text(VAULT_PASSWORD + "\n")
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-vault"),
            "encrypt",
            "--vault-password-file",
            str(pw),
            str(plain),
        ],
        check=True,
        capture_output=True,
    )
    assert SECRET not in plain.read_text()
    return root


def _cli(project: Path, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(GROOT_OPS_REPO=str(project), NO_COLOR="1", GROOT_OPS_STATE_DIR=str(tmp_path / "state"))
    # ansible-runner copies ANSIBLE_CONFIG from its envvars; make sure the test project's is used.
    return subprocess.run(
        [sys.executable, "-m", "groot_ops", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=project,
    )


def _args(project: Path, tmp_path: Path) -> list[str]:
    return ["-i", str(project / "inventory"), "--vault-password-file", str(tmp_path / "vault-pass")]


def _grep_tree(root: Path, needle: str) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            hits.append(path)
    return hits


def test_run_streams_progress_writes_events_and_never_leaks_the_vault_secret(
    project: Path, tmp_path: Path
) -> None:
    result = _cli(project, "run", "site", "demo", *_args(project, tmp_path), "-vvv", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "marker.txt").read_text() == "recipe=demo foo=unset\n"
    assert (tmp_path / "out" / "token.txt").read_text() == SECRET  # the vault really was decrypted
    assert "PLAY Site" in result.stdout and "TASK Write the marker" in result.stdout
    assert "\x1b" not in result.stdout, "non-TTY output must carry no control characters"
    assert "localhost" in result.stdout and "changed=3" in result.stdout
    runs = list((tmp_path / "state" / "runs").iterdir())
    assert len(runs) == 1
    events = [json.loads(line) for line in (runs[0] / "events.jsonl").read_text().splitlines()]
    assert {e["event"] for e in events} >= {"playbook_on_start", "runner_on_ok", "playbook_on_stats"}
    assert SECRET not in result.stdout + result.stderr
    assert _grep_tree(tmp_path / "state", SECRET) == []
    assert _grep_tree(tmp_path / "state", VAULT_PASSWORD) == []
    assert not (runs[0] / "env").exists() or not any((runs[0] / "env").iterdir())


def test_failing_task_returns_nonzero_naming_task_host_and_message(project: Path, tmp_path: Path) -> None:
    result = _cli(
        project, "run", "site", "demo", *_args(project, tmp_path), "-e", "fail_now=true", tmp_path=tmp_path
    )
    assert result.returncode != 0
    assert "FAILED localhost | Site | Fail on request: asked to fail for demo" in result.stdout


def test_run_json_ends_with_per_host_counts(project: Path, tmp_path: Path) -> None:
    result = _cli(project, "run", "site", "demo", *_args(project, tmp_path), "--json", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["hosts"]["localhost"]["changed"] == 3
    assert summary["hosts"]["localhost"]["failed"] == 0
    assert summary["rc"] == 0


def test_two_runs_do_not_leak_options_into_each_other(project: Path, tmp_path: Path) -> None:
    first = _cli(
        project,
        "run",
        "site",
        "demo",
        *_args(project, tmp_path),
        "-e",
        "foo=bar",
        "--check",
        tmp_path=tmp_path,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert not (tmp_path / "out" / "marker.txt").exists(), "--check must not write"
    second = _cli(project, "run", "site", "other", *_args(project, tmp_path), tmp_path=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert (tmp_path / "out" / "marker.txt").read_text() == "recipe=other foo=unset\n"
    assert len(list((tmp_path / "state" / "runs").iterdir())) == 2


def test_plan_changes_nothing_and_lists_the_work(project: Path, tmp_path: Path) -> None:
    result = _cli(project, "plan", "demo", *_args(project, tmp_path), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Plan for recipe demo" in result.stdout
    assert "Write the marker: would change" in result.stdout
    assert not (tmp_path / "out").exists()


def test_status_json_reports_training_and_deployment(project: Path, tmp_path: Path) -> None:
    result = _cli(project, "status", "demo", *_args(project, tmp_path), "--json", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(result.stdout)
    assert status["recipe"] == "demo"
    assert (status["state"], status["step"], status["max_steps"]) == ("running", 40, 100)
    assert status["loss"] == pytest.approx(0.125)
    assert status["deployed_revision"] == "abc123"
    human = _cli(project, "status", "demo", *_args(project, tmp_path), tmp_path=tmp_path)
    assert "40/100" in human.stdout and "loss 0.1250" in human.stdout


def test_secrets_on_the_command_line_are_refused(project: Path, tmp_path: Path) -> None:
    result = _cli(
        project, "run", "site", "demo", *_args(project, tmp_path), "-e", "vault_hf_token=x", tmp_path=tmp_path
    )
    assert result.returncode == 1
    assert "secrets come from the vault" in result.stderr


def test_status_without_a_recipe_follows_the_last_run(project: Path, tmp_path: Path) -> None:
    none_yet = _cli(project, "status", *_args(project, tmp_path), "--json", tmp_path=tmp_path)
    assert none_yet.returncode == 1
    assert "no recipe given and no earlier run" in none_yet.stdout + none_yet.stderr
    ran = _cli(project, "run", "site", "other", *_args(project, tmp_path), tmp_path=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = _cli(project, "status", *_args(project, tmp_path), "--json", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(result.stdout)
    assert status["recipe"] == "other"
    assert [run["recipe"] for run in status["last_runs"]][:2] == ["other", "other"]


def test_secret_like_keys_are_refused_before_anything_runs(project: Path, tmp_path: Path) -> None:
    # Issue 16 item 7: only vault_* was refused; groot_hf_token=... reached ansible-playbook's argv.
    token_like = "hf_" + "Ab3" * 12  # what a Hugging Face access token looks like, under an innocent key
    for pair in (f"groot_hf_token={SECRET}", f"db_password={SECRET}", f"foo={token_like}"):
        result = _cli(
            project, "run", "site", "demo", *_args(project, tmp_path), "-e", pair, tmp_path=tmp_path
        )
        assert result.returncode == 1, pair
        assert f"refusing -e {pair.split('=')[0]}" in result.stderr
        assert SECRET not in result.stdout + result.stderr and token_like not in result.stderr
    assert not (tmp_path / "out").exists()
    if (tmp_path / "state").exists():
        assert _grep_tree(tmp_path / "state", SECRET) == []


def test_extra_vars_file_reaches_ansible_as_a_file_never_on_argv(project: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra.yml"
    extra.write_text(f"foo: {SECRET}\n")
    result = _cli(
        project, "run", "site", "demo", *_args(project, tmp_path), "-e", f"@{extra}", tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "marker.txt").read_text() == f"recipe=demo foo={SECRET}\n"
    run = next((tmp_path / "state" / "runs").iterdir())
    command = json.loads((run / "artifacts" / "run" / "command").read_text())
    argv = command["command"]
    assert f"@{extra.resolve()}" in argv
    assert not any(SECRET in arg for arg in argv), argv
    assert json.loads((run / "request.json").read_text())["extra_vars_files"] == [str(extra.resolve())]


def test_a_failing_loop_item_is_named_with_its_message_in_the_summary(project: Path, tmp_path: Path) -> None:
    # Issue 16 item 14: the summary said only "One or more items failed".
    _write(
        project / "playbooks" / "datasets.yml",
        """\
        - name: Datasets
          hosts: all
          gather_facts: false
          tasks:
            - name: Convert each dataset
              ansible.builtin.command:
                argv: [sh, -c, 'test {{ item.name }} != wipe || { echo "$M" >&2; exit 3; }']
              environment:
                M: unreadable parquet (file data/x.parquet)
              loop: [{name: towel}, {name: wipe}, {name: fold}]
              loop_control:
                label: "{{ item.name }}"
              changed_when: false
        """,
    )
    result = _cli(project, "run", "datasets", "demo", *_args(project, tmp_path), tmp_path=tmp_path)
    assert result.returncode != 0
    assert (
        "FAILED localhost | Datasets | Convert each dataset: wipe: unreadable parquet (file data/x.parquet)"
        in result.stdout
    ), result.stdout
    assert "One or more items failed" not in result.stdout


def test_a_wrong_vault_password_is_named_in_the_summary_and_in_status(project: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong-pass"
    wrong.write_text("not-the-password\n")
    args = ["-i", str(project / "inventory"), "--vault-password-file", str(wrong)]
    result = _cli(project, "run", "site", "demo", *args, tmp_path=tmp_path)
    assert result.returncode != 0
    vault = project / "inventory" / "group_vars" / "all" / "vault.yml"
    # Live, then in the summary with what to do; no host was reached, nothing ran.
    assert "ERROR: Decryption failed (no vault secrets were found that could decrypt)" in result.stdout
    summary = result.stdout[result.stdout.index("Summary per host:") :]
    assert "no host was reached" in summary
    assert "Decryption failed" in summary
    # Ansible does not say which file when it decrypts inventory vars: the CLI finds the encrypted ones.
    assert (
        f"what to do: the vault password file {wrong} does not decrypt {vault}: pass the right one" in summary
    )
    assert "not-the-password" not in result.stdout + result.stderr
    assert not (tmp_path / "out").exists()
    # status runs into the same wall: it says so, instead of "no run found".
    status = _cli(project, "status", "demo", *args, tmp_path=tmp_path)
    assert status.returncode != 0
    assert "Training: no run found" not in status.stdout
    assert "Training: unknown, the status run failed" in status.stdout
    assert f"what to do: the vault password file {wrong} does not decrypt" in status.stdout
    # The failed run is listed with its reason.
    assert re.search(r"run site demo rc=[1-9]\d* .*: Decryption failed", status.stdout), status.stdout
    as_json = json.loads(_cli(project, "status", "demo", *args, "--json", tmp_path=tmp_path).stdout)
    assert as_json["rc"] != 0 and as_json["errors"][0].startswith("Decryption failed")


def test_plan_shows_progress_from_its_first_line_and_each_task_as_it_starts(
    project: Path, tmp_path: Path
) -> None:
    result = _cli(project, "plan", "demo", *_args(project, tmp_path), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    # Said before Ansible has started, then every task of the play as it starts (no TTY: plain lines).
    assert lines[0] == "plan: dry run of site.yml for recipe demo (--check --diff), nothing is changed"
    tasks = [line.split("] ", 1)[1] for line in lines if "] TASK " in line]
    assert tasks == [
        "TASK Create the output directory",
        "TASK Write the marker",
        "TASK Use the token",
        "TASK Fail on request",
    ]
    assert "\x1b" not in result.stderr
    assert "raw Ansible log" in result.stdout


def test_a_finished_run_ends_with_what_it_produced_and_the_raw_log(project: Path, tmp_path: Path) -> None:
    result = _cli(project, "run", "site", "demo", *_args(project, tmp_path), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = next((tmp_path / "state" / "runs").iterdir())
    raw = run_dir / "artifacts" / "run" / "stdout"
    assert f"raw Ansible log {raw}" in result.stdout
    # ansible-playbook's own output, as it printed it.
    assert "PLAY RECAP" in raw.read_text() and "TASK [Write the marker]" in raw.read_text()
