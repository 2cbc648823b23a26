"""The engine-side cleanup's decisions over a docker CLI answering in its own formats (the real engine:
tests/integration/disk).

The fake answers what `docker ps/image ls/network ls/inspect/system df` print, in their JSON formats, for
a small engine holding objects of this project and of others; it records every command, so a removal
that must not happen is caught as a command that was sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from groot_ops.disk import docker_prune as dp

ROLE = dp.ROLE_LABEL


@dataclass
class Obj:
    kind: str
    id: str
    name: str
    labels: dict[str, str]
    size: str = "0B"
    state: str = "exited"
    dangling: bool = False
    users: list[str] = field(default_factory=list)


class FakeEngine(dp.DockerCli):
    def __init__(self, objects: list[Obj]) -> None:
        super().__init__(None)
        self.objects = {o.id: o for o in objects}
        self.calls: list[tuple[str, ...]] = []

    def _match(self, obj: Obj, filters: list[str]) -> bool:
        for flt in filters:
            key, _, value = flt.partition("=")
            if key == "label":
                name, _, wanted = value.partition("=")
                if name not in obj.labels or (wanted and obj.labels[name] != wanted):
                    return False
        return True

    def run(self, *args: str) -> str:
        self.calls.append(args)
        filters = [args[i + 1] for i, a in enumerate(args) if a == "--filter"]
        labels = [f for f in filters if f.startswith("label")]
        if args[0] == "ps" and "-q" in args:
            image = next(f.split("=", 1)[1] for f in filters if f.startswith("ancestor="))
            return "\n".join(self.objects[image].users)
        if args[0] == "ps":
            states = {f.split("=", 1)[1] for f in filters if f.startswith("status=")}
            rows = [o for o in self.objects.values() if o.kind == "container" and o.state in states]
            return "\n".join(
                json.dumps({"ID": o.id, "Names": o.name, "Size": o.size})
                for o in rows
                if self._match(o, labels)
            )
        if args[:2] == ("image", "ls"):
            return "\n".join(
                o.id
                for o in self.objects.values()
                if o.kind == "image" and o.dangling and self._match(o, labels)
            )
        if args[:2] == ("system", "df"):
            images = [{"ID": o.id, "UniqueSize": o.size} for o in self.objects.values() if o.kind == "image"]
            return json.dumps({"Images": images})
        if args[:2] == ("network", "ls"):
            rows = [o for o in self.objects.values() if o.kind == "network" and self._match(o, labels)]
            return "\n".join(json.dumps({"ID": o.id, "Name": o.name}) for o in rows)
        if args[:2] == ("network", "inspect") and ".Containers" in args[3]:
            return json.dumps({u: {} for u in self.objects[args[-1]].users} or None)
        if args[1] == "inspect":
            obj = self.objects.get(args[-1])
            if obj is None:
                raise dp.DockerPruneError(f"no such object {args[-1]}")
            return json.dumps(obj.labels)
        if args[0] in ("rm", "image", "network") and args[-2] in ("rm",):
            del self.objects[args[-1]]
            return args[-1]
        raise AssertionError(f"unexpected docker {args}")

    def removed(self) -> list[str]:
        return [c[-1] for c in self.calls if c[-2] == "rm"]


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(
        [
            Obj("container", "c-old", "groot-ops-job-1", {ROLE: "job"}, size="30MB (virtual 1GB)"),
            Obj("container", "c-ws", "dm-workstation", {ROLE: "workstation"}, size="9GB (virtual 20GB)"),
            Obj("container", "c-srv", "groot-server", {ROLE: "server"}, size="1kB"),
            Obj("container", "c-other", "someone-elses", {"com.example": "x"}, size="5GB"),
            Obj("container", "c-running", "groot-ops-job-2", {ROLE: "job"}, state="running"),
            Obj("image", "sha256:aaa", "<none>", {ROLE: "image"}, size="200MB", dangling=True),
            Obj(
                "image", "sha256:bbb", "<none>", {ROLE: "image"}, size="300MB", dangling=True, users=["c-ws"]
            ),
            Obj("image", "sha256:ccc", "<none>", {}, size="1GB", dangling=True),
            Obj("network", "n-free", "groot-ops-net", {ROLE: "network"}),
            Obj("network", "n-used", "groot-ops-lab", {ROLE: "network"}, users=["c-running"]),
        ]
    )


def test_only_the_projects_unused_objects_are_candidates(engine: FakeEngine) -> None:
    found = dp.find_candidates(engine)
    assert [(c.kind, c.id, c.bytes) for c in found.candidates] == [
        ("container", "c-old", 30_000_000),
        ("image", "sha256:aaa", 200_000_000),
        ("network", "n-free", 0),
    ]
    # The workstation and the server are never candidates, nor the old image the workstation still uses.
    assert any("dm-workstation" in k and "workstation is protected" in k for k in found.kept)
    assert any("groot-server" in k for k in found.kept)
    assert any("sha256:bbb" in k and "c-ws" in k for k in found.kept)
    assert not [c for c in engine.calls if c[-2:-1] == ("rm",)]


def test_check_mode_names_each_candidate_with_its_size_and_removes_nothing(engine: FakeEngine) -> None:
    result = dp.prune(check=True, cli=engine)
    assert result["items"] == [
        "image <none> (sha256:aaa, role image): 200.0 MB",
        "container groot-ops-job-1 (c-old, role job): 30.0 MB",
        "network groot-ops-net (n-free, role network): 0 B",
    ]
    assert result["freed_bytes"] == 230_000_000 and result["reclaimable_bytes"] == 230_000_000
    assert engine.removed() == []


def test_clean_removes_the_candidates_and_nothing_else(engine: FakeEngine) -> None:
    result = dp.prune(cli=engine)
    assert sorted(engine.removed()) == ["c-old", "n-free", "sha256:aaa"]
    assert result["changed"] is True
    assert {"c-ws", "c-srv", "c-other", "c-running", "sha256:bbb", "sha256:ccc", "n-used"} <= set(
        engine.objects
    )
    again = dp.prune(cli=engine)
    assert again["changed"] is False and again["candidates"] == []


def test_an_object_relabelled_meanwhile_is_refused_at_removal(engine: FakeEngine) -> None:
    candidates = dp.find_candidates(engine).candidates
    engine.objects["c-old"].labels[ROLE] = "workstation"
    done = dp.remove_objects(engine, candidates)
    assert "c-old" not in engine.removed()
    assert any("refusing to remove container groot-ops-job-1" in k for k in done.kept)


def test_a_removal_the_engine_refuses_is_reported_and_the_rest_go_on(engine: FakeEngine) -> None:
    real_run = engine.run

    def refusing(*args: str) -> str:
        if args == ("rm", "c-old"):
            raise dp.DockerPruneError("docker rm c-old failed (1): container is running")
        return real_run(*args)

    engine.run = refusing  # type: ignore[method-assign]
    result = dp.prune(cli=engine)
    assert result["errors"] == ["container groot-ops-job-1: docker rm c-old failed (1): container is running"]
    assert "sha256:aaa" not in engine.objects and "n-free" not in engine.objects


def test_watermark_removes_the_largest_first_and_only_while_short(
    engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 1_000_000_000
    monkeypatch.setattr(dp, "free_bytes", lambda path: (total, 100_000_000))  # 10 % free
    result = dp.prune(target="watermark", act_below_percent=15, stop_at_percent=25, check=True, cli=engine)
    # 100 MB free + the 200 MB image = 30 % >= 25 %: the container is not needed.
    assert [c["id"] for c in result["removed"]] == ["sha256:aaa"]
    monkeypatch.setattr(dp, "free_bytes", lambda path: (total, 500_000_000))
    calm = dp.prune(target="watermark", cli=engine)
    assert calm["acted"] is False and calm["removed"] == [] and engine.removed() == []


def test_extra_filters_narrow_the_candidates(engine: FakeEngine) -> None:
    engine.objects["c-old"].labels["groot-ops-test"] = "disk"
    found = dp.find_candidates(engine, extra_filters=("label=groot-ops-test=disk",))
    assert [c.id for c in found.candidates] == ["c-old"]


def test_sizes_parse() -> None:
    assert dp.parse_size("0B") == 0
    assert dp.parse_size("12.5kB") == 12_500
    assert dp.parse_size("1.2GB (virtual 3GB)") == 1_200_000_000
    assert dp.parse_size("3MiB") == 3 * 2**20
    with pytest.raises(dp.DockerPruneError):
        dp.parse_size("n/a")
