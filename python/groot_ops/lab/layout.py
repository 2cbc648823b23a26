"""Names and paths of everything the lab creates, in one place so that ``down`` removes exactly them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

NETWORK = "groot-ops-lab"
# Published loopback ports need a non-internal network; the lab network itself stays internal so
# that nothing the pipeline starts there can reach beyond the lab.
EDGE_NETWORK = "groot-ops-lab-edge"
HOST_IMAGE = "groot-ops-lab-host:latest"
HUB_IMAGE = "groot-ops-lab-hub:latest"
HUB_CONTAINER = "groot-ops-lab-hub"
HUB_PORT = 8080
LABEL = "io.groot-ops.lab=1"


@dataclass(frozen=True)
class LabHost:
    name: str  # container name, inventory host name and ssh alias at once
    ssh_port: int  # published on 127.0.0.1
    role: str  # "workstation" | "inference"


HOSTS: tuple[LabHost, ...] = (
    LabHost("lab-ws", 22021, "workstation"),
    LabHost("lab-ws2", 22022, "workstation"),
    LabHost("lab-spark", 22023, "inference"),
)
HUB_LOCAL_PORT = 28080


@dataclass(frozen=True)
class LabPaths:
    """Everything under ``<repo>/.lab``; bind mounts use these engine-host paths unchanged."""

    repo: Path

    @property
    def root(self) -> Path:
        return self.repo / ".lab"

    @property
    def ssh_dir(self) -> Path:
        return self.root / "ssh"

    @property
    def private_key(self) -> Path:
        return self.ssh_dir / "id_ed25519"

    @property
    def authorized_keys(self) -> Path:
        return self.ssh_dir / "authorized_keys"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_dir / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.ssh_dir / "config"

    @property
    def home(self) -> Path:
        # HOME of ansible-playbook in the lab: paramiko (docker_api over ssh://) reads only
        # ~/.ssh/config and ~/.ssh/known_hosts, so the lab gives it a home of its own.
        return self.root / "home"

    @property
    def vault_password_file(self) -> Path:
        return self.root / "vault-pass"

    @property
    def vault_file(self) -> Path:
        return self.root / "vault.yml"

    @property
    def hub_data(self) -> Path:
        return self.root / "hub"

    @property
    def hub_tokens(self) -> Path:
        return self.root / "hub-token"

    @property
    def git(self) -> Path:
        return self.root / "git"

    @property
    def standin_repo(self) -> Path:
        return self.git / "Isaac-GR00T.git"

    @property
    def seed(self) -> Path:
        return self.root / "seed"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def state_file(self) -> Path:
        return self.root / "lab.json"

    @property
    def wheelhouse(self) -> Path:
        # Under .cache, not .lab: `lab down` keeps it, like the images.
        return self.repo / ".cache" / "wheelhouse"

    def host_data(self, host: str) -> Path:
        """The data root of one lab host (its ``/workspace`` stand-in)."""
        return self.root / "hosts" / host
