"""Hugging Face Hub side of groot-ops: pinned dataset downloads, inference-only export, model card, upload."""
