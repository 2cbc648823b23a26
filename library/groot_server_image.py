#!/usr/bin/python
# Thin adapter: the Dockerfile choice, tag and detached build live in groot_ops.serverimage
# (module_utils/groot_ops_serverimage.py; the inference host has Docker and Python, not groot_ops).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_server_image
short_description: Build the groot-server image from the pinned Isaac-GR00T checkout, upstream's Dockerfile
description:
  - Picks upstream's Dockerfile for the host's architecture (C(scripts/deployment/spark/Dockerfile) for
    aarch64 / DGX Spark, C(docker/Dockerfile) for x86_64), tags the image C(<name>:<profile>-<commit>) and
    builds it from the checkout root the way upstream's C(docker/build.sh) does
    (C(DOCKER_BUILDKIT=1 docker build --network host -f <Dockerfile> -t <tag> <checkout>)).
  - Nothing is built when the tag exists, so the image is rebuilt exactly when the commit changes.
  - The build runs detached in its own session on the host (C(build.log), C(pid), C(exit_code) under
    O(log_root)); with O(wait=false) a missing build is started and the module returns at once, with
    O(wait=true) it reports the build's state and fails with the log's tail when the build failed, so a
    task can poll it with C(until).
  - Needs the docker CLI on the host (standard library Python only).
version_added: "0.1.0"
author: groot-ops
options:
  context:
    description: The Isaac-GR00T checkout on the host, the build context (upstream builds from the repo root).
    type: path
    required: true
  commit:
    description: The checkout's commit (40 hex), part of the tag and a label.
    type: str
    required: true
  arch:
    description:
      - The architecture the inventory expects (C(groot_server_arch)); C(auto) takes the host's own
        (C(uname -m), read by the module, so no separate task). Another value than the host's fails
        naming both.
    type: str
    default: auto
  profile:
    description: C(auto) (aarch64 -> spark, x86_64 -> default) or an upstream profile.
    type: str
    choices: [auto, default, spark]
    default: auto
  name:
    description: Repository of the built image.
    type: str
    default: groot-server
  network:
    description: Network of the build (upstream's build.sh uses host); empty leaves Docker's default.
    type: str
    default: host
  build_args:
    description: Build arguments (C(--build-arg KEY=VALUE)).
    type: dict
    default: {}
  labels:
    description: Extra labels of the image (the lab marks its own, so that C(lab down --images) finds them).
    type: dict
    default: {}
  docker:
    description: The docker CLI.
    type: str
    default: docker
  log_root:
    description: Directory on the host holding one build directory per image.
    type: path
    required: true
  wait:
    description: Report the build's state (fail when it failed) instead of starting it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports the image, Dockerfile, build command and whether it would build; builds nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Start the image build (returns at once)
  groot_server_image:
    context: /srv/groot-server/Isaac-GR00T
    commit: 5dc80c4afd726b34faad1d8f7e007a13b34e4c88
    arch: aarch64
    log_root: /srv/groot-server/state/image-builds
  register: image

- name: Wait for it
  groot_server_image:
    context: /srv/groot-server/Isaac-GR00T
    commit: 5dc80c4afd726b34faad1d8f7e007a13b34e4c88
    arch: aarch64
    log_root: /srv/groot-server/state/image-builds
    wait: true
  register: image_wait
  until: image_wait.exists
  retries: 480
  delay: 30
  when: not image.exists
"""

RETURN = r"""
image:
  description: The image reference (C(groot-server:spark-<commit>)).
  type: str
  returned: always
exists:
  description: Whether the image is present on the host's engine now.
  type: bool
  returned: always
dockerfile:
  description: The Dockerfile used (absolute path in the checkout).
  type: str
  returned: always
argv:
  description: The build command.
  type: list
  elements: str
  returned: always
build:
  description: The image's build directory (state none/running/failed/succeeded, exit_code, log, tail).
  type: dict
  returned: always
started:
  description: Whether this call started a build.
  type: bool
  returned: always
"""

import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_serverimage import build_plan, ensure_image, host_arch


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "context": {"type": "path", "required": True},
            "commit": {"type": "str", "required": True},
            "arch": {"type": "str", "default": "auto"},
            "profile": {"type": "str", "choices": ["auto", "default", "spark"], "default": "auto"},
            "name": {"type": "str", "default": "groot-server"},
            "network": {"type": "str", "default": "host"},
            "build_args": {"type": "dict", "default": {}},
            "labels": {"type": "dict", "default": {}},
            "docker": {"type": "str", "default": "docker"},
            "log_root": {"type": "path", "required": True},
            "wait": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    p = module.params

    def run(argv):
        return module.run_command(list(argv))

    try:
        plan = build_plan(
            context=p["context"],
            commit=p["commit"],
            arch=host_arch(p["arch"], host=socket.gethostname()),
            profile=p["profile"],
            name=p["name"],
            network=p["network"],
            build_args={str(k): str(v) for k, v in p["build_args"].items()},
            labels={str(k): str(v) for k, v in p["labels"].items()},
            docker=p["docker"],
        )
        result = ensure_image(
            plan, log_root=p["log_root"], run=run, check=module.check_mode, wait=p["wait"], docker=p["docker"]
        )
    except Exception as exc:  # ConfigError: groot_ops' own where installed, else its ValueError stand-in
        module.fail_json(msg=f"groot_server_image: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
