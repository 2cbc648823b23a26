"""groot-ops: reproducible GR00T N1.6 fine-tuning for the Unitree G1.

All logic lives in this package; Ansible modules under ``library/`` are thin adapters.
Heavy optional dependencies (torch, huggingface_hub, zmq, av) are imported lazily by the
sub-modules that need them so that ``import groot_ops`` works on every side.
"""

__version__ = "0.1.0"
