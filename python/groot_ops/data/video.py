"""MP4 probing without decoding, and the few encode/cut operations the data engine needs.

The GR00T loader asserts that an episode's decoded frame count equals its parquet rows, and
checking that by decoding gigabytes of AV1 would take longer than the conversion itself. The
sample count of an MP4 video track is in its box tree (``moov/trak/mdia/minf/stbl/stsz``), so
reading a few kilobytes answers it. Decoding is the fallback for files the parser cannot read.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

from groot_ops.errors import InputError

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


class _BoxError(ValueError):
    pass


def _boxes(handle: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, payload_start, payload_end) of the boxes between ``start`` and ``end``."""
    pos = start
    while pos + 8 <= end:
        handle.seek(pos)
        header = handle.read(8)
        if len(header) < 8:
            raise _BoxError("truncated box header")
        size, kind = struct.unpack(">I4s", header)
        payload = pos + 8
        if size == 1:
            large = handle.read(8)
            if len(large) < 8:
                raise _BoxError("truncated large box header")
            size = struct.unpack(">Q", large)[0]
            payload = pos + 16
        elif size == 0:
            size = end - pos
        if size < payload - pos or pos + size > end:
            raise _BoxError(f"box {kind!r} overruns its parent")
        yield kind, payload, pos + size
        pos += size


def _find(handle: BinaryIO, start: int, end: int, kind: bytes) -> list[tuple[int, int]]:
    return [(s, e) for k, s, e in _boxes(handle, start, end) if k == kind]


@dataclass(frozen=True)
class TrackTiming:
    """The video track's sample table, read from the MP4 boxes (``mdhd``, ``stts``, ``ctts``, ``elst``)."""

    frames: int
    timescale: int
    duration: int  # mdhd duration, in timescale units
    pts: tuple[int, ...]  # presentation time of each sample in decode order, in timescale units

    @property
    def seconds(self) -> float:
        return self.duration / self.timescale if self.timescale else 0.0


def _read_u32s(handle: BinaryIO, offset: int, count: int) -> tuple[int, ...]:
    handle.seek(offset)
    data = handle.read(4 * count)
    if len(data) < 4 * count:
        raise _BoxError("truncated sample table")
    return struct.unpack(f">{count}I", data)


def _video_track(handle: BinaryIO, size: int) -> tuple[int, int]:
    moov = _find(handle, 0, size, b"moov")
    if not moov:
        raise _BoxError("no moov box (truncated or fragmented MP4)")
    if _find(handle, 0, size, b"moof"):
        raise _BoxError("fragmented MP4: sample tables are in fragments")
    for trak in _find(handle, *moov[0], b"trak"):
        for m_start, m_end in _find(handle, *trak, b"mdia"):
            hdlr = _find(handle, m_start, m_end, b"hdlr")
            if hdlr:
                handle.seek(hdlr[0][0] + 8)
                if handle.read(4) == b"vide":
                    return trak
    raise _BoxError("no video track")


def track_timing(path: str | os.PathLike[str]) -> TrackTiming:
    """Sample count, duration and presentation times of the first video track, without decoding."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        trak = _video_track(handle, size)
        mdia = _find(handle, *trak, b"mdia")[0]
        mdhd = _find(handle, *mdia, b"mdhd")
        if not mdhd:
            raise _BoxError("no mdhd box")
        handle.seek(mdhd[0][0])
        version = handle.read(1)[0]
        if version == 1:
            handle.seek(mdhd[0][0] + 4 + 16)
            timescale, duration = struct.unpack(">IQ", handle.read(12))
        else:
            handle.seek(mdhd[0][0] + 4 + 8)
            timescale, duration = struct.unpack(">II", handle.read(8))
        tables = [s for minf in _find(handle, *mdia, b"minf") for s in _find(handle, *minf, b"stbl")]
        stbl = tables[0] if tables else None
        if stbl is None:
            raise _BoxError("no sample table")
        stsz = _find(handle, *stbl, b"stsz")
        stts = _find(handle, *stbl, b"stts")
        if not stts:
            raise _BoxError("no stts box")
        (entries,) = _read_u32s(handle, stts[0][0] + 4, 1)
        table = _read_u32s(handle, stts[0][0] + 8, 2 * entries)
        deltas: list[int] = []
        for count, delta in zip(table[0::2], table[1::2], strict=True):
            deltas.extend([delta] * count)
        frames = _read_u32s(handle, stsz[0][0] + 8, 1)[0] if stsz else len(deltas)
        dts = [0]
        for delta in deltas[:-1]:
            dts.append(dts[-1] + delta)
        offsets = [0] * len(dts)
        ctts = _find(handle, *stbl, b"ctts")
        if ctts:
            handle.seek(ctts[0][0])
            signed = handle.read(1)[0] == 1
            (entries,) = _read_u32s(handle, ctts[0][0] + 4, 1)
            table = _read_u32s(handle, ctts[0][0] + 8, 2 * entries)
            position = 0
            for count, offset in zip(table[0::2], table[1::2], strict=True):
                value = offset - (1 << 32) if signed and offset >= 1 << 31 else offset
                for _ in range(count):
                    if position < len(offsets):
                        offsets[position] = value
                    position += 1
        pts = tuple(d + o for d, o in zip(dts, offsets, strict=True))
        return TrackTiming(frames=frames, timescale=timescale, duration=duration, pts=pts)


def mp4_frame_count(path: str | os.PathLike[str]) -> int:
    """Video sample count from the MP4 box tree; raises ValueError when the file cannot be parsed."""
    return track_timing(path).frames


def timing_problems(path: str | os.PathLike[str], *, frames: int, fps: float) -> list[str]:
    """Why a per-episode video would misplay in the GR00T loader (frame n must play at n / fps).

    Checked from the boxes: presentation times strictly increase (a muxer given pts 0 for every
    packet writes them all at 0), each frame plays within half a frame of n / fps, and the track lasts
    frames / fps (torchcodec refuses a track whose duration disagrees with its frames).
    """
    try:
        timing = track_timing(path)
    except (ValueError, OSError, struct.error) as exc:
        return [f"video timing unreadable: {exc}"]
    if not timing.timescale:
        return ["video track has no timescale"]
    problems = []
    ordered = sorted(timing.pts)
    repeats = sum(1 for a, b in itertools.pairwise(ordered) if b <= a)
    if repeats:
        problems.append(f"video presentation times do not strictly increase ({repeats} frames share a time)")
    elif ordered:
        frame_ticks = timing.timescale / fps
        worst = max(abs(t - ordered[0] - n * frame_ticks) for n, t in enumerate(ordered))
        if worst > frame_ticks / 2:
            problems.append(
                f"video frames are off the 1/{fps:g} s grid (by up to {worst / timing.timescale:.3f} s)"
            )
    expected = frames / fps
    if abs(timing.seconds - expected) > 0.5 / fps:
        problems.append(
            f"video lasts {timing.seconds:.3f} s but {frames} frames at {fps:g} fps last {expected:.3f} s"
        )
    return problems


def decoded_frame_count(path: str | os.PathLike[str]) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def frame_count(path: str | os.PathLike[str]) -> tuple[int, str]:
    """(frames, method): box parse first, decoding only when the box tree is unreadable."""
    try:
        return mp4_frame_count(path), "mp4-boxes"
    except (ValueError, OSError, struct.error):
        pass
    try:
        return decoded_frame_count(path), "decode"
    except Exception as exc:  # PyAV raises many types; every one means "unreadable video"
        raise InputError(f"unreadable video: {exc}", path=str(path)) from exc


def probe_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Codec, size, pixel format and rate of the first video stream (for info.json ``video_info``)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            "video.codec": stream.codec_context.codec.canonical_name,
            "video.height": stream.codec_context.height,
            "video.width": stream.codec_context.width,
            "video.pix_fmt": stream.codec_context.pix_fmt,
            "video.fps": float(stream.average_rate or 0),
        }


def video_feature_info(path: str | os.PathLike[str], *, fps: float) -> dict[str, Any]:
    """``features[...]["info"]`` of info.json describing the file as written (nothing kept from a source)."""
    probed = probe_info(path)
    return {
        "video.height": probed["video.height"],
        "video.width": probed["video.width"],
        "video.codec": probed["video.codec"],
        "video.pix_fmt": probed["video.pix_fmt"],
        "video.is_depth_map": False,
        "video.fps": fps,
        "video.channels": 3,
        "has_audio": False,
    }


# lp=1: SVT-AV1 with its default thread pool was seen to deadlock in get_packet on a loaded 2-core machine.
_ENCODERS = {
    "av1": ("libsvtav1", {"preset": "12", "svtav1-params": "lp=1"}),
    "h264": ("libx264", {"preset": "ultrafast"}),
}


class VideoWriter:
    """One MP4 file written frame by frame: frame n at pts n in a 1/fps time base, whatever its source.

    Decoded frames carry their source's pts and time base; a writer that left those (or cleared the
    pts) made every packet pts 0, which the MP4 muxer refuses after ~257 frames and which plays as a
    one-frame-long video below that. So every frame is stamped here.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, fps: int, width: int, height: int, codec: str
    ) -> None:
        import av

        name, options = _ENCODERS[codec]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._av = av
        self._time_base = Fraction(1, fps)
        self._container = av.open(str(path), "w")
        self._stream = self._container.add_stream(name, rate=fps)
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        self._stream.codec_context.time_base = self._time_base
        self._stream.options = dict(options)
        self.frames = 0

    def write(self, rgb: Any) -> None:
        self.write_frame(self._av.VideoFrame.from_ndarray(rgb, format="rgb24"))

    def write_frame(self, frame: Any) -> None:
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        frame.pts = self.frames
        frame.time_base = self._time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()


@dataclass(frozen=True)
class Segment:
    """Frames ``[first, end)`` of a concatenated source video, cut into ``path`` (one episode)."""

    first: int
    end: int
    path: Path
    episode: int


def cut_segments(source: str | os.PathLike[str], segments: Iterable[Segment], *, fps: int) -> dict[str, int]:
    """Cut each segment of ``source`` into a new H.264 file, decoding the source once.

    A frame's number is its presentation time (from the stream's start) on the 1/fps grid, so
    keyframe snapping cannot add or drop frames. Returns frames written per output path. Any decoder
    or muxer failure is an :class:`InputError` naming the source and the episode being written.
    """
    import av

    ordered = sorted(segments, key=lambda seg: seg.first)
    written: dict[str, int] = {str(seg.path): 0 for seg in ordered}
    if not ordered:
        return written
    current, writer, episode = 0, None, ordered[0].episode
    try:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            origin = None
            if stream.start_time is not None and stream.time_base is not None:
                origin = float(stream.start_time * stream.time_base)
            width, height = stream.codec_context.width, stream.codec_context.height
            for position, frame in enumerate(container.decode(stream)):
                if frame.time is None:
                    index = position
                else:
                    origin = float(frame.time) if origin is None else origin
                    index = round((float(frame.time) - origin) * fps)
                while current < len(ordered) and index >= ordered[current].end:
                    if writer is not None:
                        writer.close()
                        writer = None
                    current += 1
                if current >= len(ordered):
                    break
                segment = ordered[current]
                episode = segment.episode
                if index < segment.first:
                    continue
                if writer is None:
                    writer = VideoWriter(segment.path, fps=fps, width=width, height=height, codec="h264")
                writer.write_frame(frame)
                written[str(segment.path)] = writer.frames
        if writer is not None:
            writer.close()
            writer = None
    except av.FFmpegError as exc:
        raise InputError(f"cannot cut the video: {exc}", path=str(source), episode=episode) from exc
    finally:
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
    return written
