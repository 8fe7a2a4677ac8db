"""One image as it goes into a shard: its file's bytes, or re-encoded as an RGB JPEG.

An image is re-encoded when its longer side is over --max-side (it is shrunk to that, as FFCV
stores ImageNet at 256-512 px: a 320 px image decodes several times faster than a 500 px one
and the network's 299 px crops lose little), and when its file is neither a JPEG nor a PNG or
its pixels are not RGB or grey (CMYK JPEGs, palette PNGs), so that every decoder, nvJPEG
included, reads every shard. Every image is decoded once here: a file that cannot be is left
out and counted, never packed; so is one that would decode to more pixels than Pillow's limit
(data/pixel_limit.py), checked on its header before any decoding (a JPEG shrunk to --max-side
decodes at a fraction of its size, and is checked at that size).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from inception_cli.data.pixel_limit import ImageTooLarge, pixel_limit

JPEG_QUALITY = 90  # FFCV's default; 4:2:0 chroma subsampling, libjpeg's default at this quality
# Huffman tables fitted to each image: the same pixels in about 4% fewer bytes, so less to read
# and to entropy-decode at every epoch, for a second pass at packing time.
OPTIMIZED_HUFFMAN_TABLES = True
KEPT_FORMATS = {"JPEG": "jpg", "PNG": "png"}
KEPT_MODES = ("RGB", "L")


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    extension: str  # "jpg" or "png": the member's name in the shard says how to decode it
    height: int
    width: int


def shrunk_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _check_pixels(image: Image.Image, limit: int) -> None:
    """Before `load()` or `convert()`: the size the decoder would produce."""
    if image.width * image.height > limit:
        raise ImageTooLarge(f"{image.width} x {image.height} pixels, over the limit of {limit:,}")


def _reencode(image: Image.Image, max_side: int | None, limit: int) -> EncodedImage:
    if max_side is not None and max(image.size) > max_side:
        target = shrunk_size(*image.size, max_side)
        image.draft("RGB", target)  # JPEG: decode at 1/2, 1/4 or 1/8 scale when that is enough
        _check_pixels(image, limit)
        image = image.convert("RGB").resize(target, Image.Resampling.LANCZOS)
    else:
        _check_pixels(image, limit)
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=OPTIMIZED_HUFFMAN_TABLES)
    return EncodedImage(out.getvalue(), "jpg", image.height, image.width)


def encode_image(
    path: Path, max_side: int | None, max_pixels: int | None = None
) -> EncodedImage | None:
    """The image at `path` as it goes into a shard, or None when it cannot be decoded or would
    decode to more than `max_pixels` (None: Pillow's limit)."""
    limit = pixel_limit(max_pixels)
    try:
        data = path.read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit decides
            image = Image.open(io.BytesIO(data))
        with image:
            fits = max_side is None or max(image.size) <= max_side
            if fits and image.format in KEPT_FORMATS and image.mode in KEPT_MODES:
                _check_pixels(image, limit)
                image.load()  # decodes: a truncated or corrupt file fails here
                return EncodedImage(data, KEPT_FORMATS[image.format], image.height, image.width)
            return _reencode(image, max_side, limit)
    except (OSError, ValueError, Image.DecompressionBombError):  # ImageTooLarge included
        return None


def encode_job(job: tuple[str, int | None]) -> EncodedImage | None:
    """`encode_image` for a process pool (one picklable argument)."""
    path, max_side = job
    return encode_image(Path(path), max_side)
