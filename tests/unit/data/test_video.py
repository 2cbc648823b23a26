"""MP4 frame counting without decoding, and its decode fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from groot_ops.data.video import (
    VideoWriter,
    decoded_frame_count,
    frame_count,
    mp4_frame_count,
    timing_problems,
    track_timing,
)
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


def _write(path: Path, frames: int, *, codec: str = "h264", fps: int = 30) -> Path:
    writer = VideoWriter(path, fps=fps, width=32, height=32, codec=codec)
    for i in range(frames):
        writer.write(np.full((32, 32, 3), i % 256, dtype=np.uint8))
    writer.close()
    return path


def _recode_keeping_source_timestamps(source: Path, target: Path) -> None:
    """The writer as it was: decoded frames re-encoded with their source time base and no pts."""
    import av

    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for frame in inp.decode(video=0):
            frame.pts = None
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_decoded_frames_are_restamped_on_the_fps_grid(tmp_path: Path) -> None:
    import av

    source = _write(tmp_path / "src.mp4", 1500, codec="av1")
    writer = VideoWriter(tmp_path / "cut.mp4", fps=30, width=32, height=32, codec="h264")
    with av.open(str(source)) as container:
        for frame in container.decode(video=0):
            writer.write_frame(frame)
    writer.close()
    timing = track_timing(tmp_path / "cut.mp4")
    assert timing.frames == 1500 and timing.seconds == pytest.approx(50.0)
    assert timing_problems(tmp_path / "cut.mp4", frames=1500, fps=30) == []


def test_timing_problems_catch_what_the_loader_would_misread(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.mp4", 120)
    assert timing_problems(good, frames=120, fps=30) == []
    # Frames all at pts 0 (the old cut): what torchcodec refuses and random access misreads.
    stamped_zero = tmp_path / "zero.mp4"
    _recode_keeping_source_timestamps(good, stamped_zero)
    assert mp4_frame_count(stamped_zero) == 120
    problems = " ".join(timing_problems(stamped_zero, frames=120, fps=30))
    assert "do not strictly increase" in problems and "lasts" in problems
    # Right frame count, wrong rate: 120 frames that play for 8 s instead of 4 s.
    slow = _write(tmp_path / "slow.mp4", 120, fps=15)
    assert "lasts 8.000 s but 120 frames at 30 fps last 4.000 s" in " ".join(
        timing_problems(slow, frames=120, fps=30)
    )
