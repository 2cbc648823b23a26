"""tests/ansible_helpers.py: the PLAY RECAP parser other parts rely on."""

from __future__ import annotations

from tests.ansible_helpers import AnsibleResult, parse_recap

OUTPUT = """
PLAY [x] ***********************************************************************
TASK [y] ***********************************************************************
changed: [trainer-1]

PLAY RECAP *********************************************************************
localhost       : ok=4    changed=0    unreachable=0    failed=0    skipped=0    rescued=0   ignored=0
trainer-1       : ok=17   changed=3    unreachable=0    failed=1    skipped=5    rescued=0   ignored=0
\x1b[0;33mlab-ws\x1b[0m : ok=1 changed=1 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0
"""


def test_parse_recap_per_host() -> None:
    recap = parse_recap(OUTPUT)
    assert set(recap) == {"localhost", "trainer-1", "lab-ws"}
    assert recap["trainer-1"]["changed"] == 3 and recap["trainer-1"]["skipped"] == 5


def test_result_totals() -> None:
    result = AnsibleResult(2, OUTPUT, "", parse_recap(OUTPUT))
    assert result.changed() == 4 and result.changed("localhost") == 0
    assert result.failed() == 2 and result.failed("lab-ws") == 1


def test_no_recap_when_the_run_stopped_early() -> None:
    assert parse_recap("ERROR! the playbook could not be found") == {}
