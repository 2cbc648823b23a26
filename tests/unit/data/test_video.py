"""MP4 frame counting without decoding, and its decode fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from groot_ops.data.video import VideoWriter, decoded_frame_count, frame_count, mp4_frame_count
from groot_ops.errors import InputError


@pytest.mark.parametrize(("codec", "frames"), [("h264", 1), ("h264", 37), ("av1", 23)])
def test_box_count_equals_decoded_count(tmp_path: Path, codec: str, frames: int) -> None:
    path = tmp_path / f"{codec}.mp4"
    writer = VideoWriter(path, fps=30, width=64, height=48, codec=codec)
    for i in range(frames):
        writer.write(np.full((48, 64, 3), i * 5 % 256, dtype=np.uint8))
    writer.close()
    assert mp4_frame_count(path) == decoded_frame_count(path) == frames
    assert frame_count(path) == (frames, "mp4-boxes")


def test_unreadable_video_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40)
    with pytest.raises(InputError) as caught:
        frame_count(path)
    assert caught.value.path == str(path)


def test_truncated_video_falls_back_or_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "t.mp4"
    writer = VideoWriter(path, fps=30, width=64, height=48, codec="h264")
    for i in range(30):
        writer.write(np.full((48, 64, 3), i, dtype=np.uint8))
    writer.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises((InputError, ValueError)):
        mp4_frame_count(path)
