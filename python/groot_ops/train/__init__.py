"""The training supervisor: launches torchrun detached, resumes, classifies failures, reports status.

Runs inside the training container. ``supervisor`` is the API the Ansible module and the CLI call;
``supervise`` is the detached process that owns one run.
"""
