"""The decoded-pixel limit of the loaders (`data.max_image_pixels`; null: Pillow's own
`Image.MAX_IMAGE_PIXELS`, 89,478,485 pixels, about 9459 x 9459).

An image whose header states more pixels than the limit is refused before any of it is
decoded: one 30000 x 30000 PNG would take 2.7 GB as RGB in a loader worker. Pillow reads the
size from the header alone (`Image.open` decodes nothing). The loaders skip such an image with
a warning naming it, as they skip a file that cannot be decoded; `inception data pack` leaves
it out. Pillow itself refuses to open an image over twice its own limit, whatever this limit
says. Torch-free.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

LIMIT_KEY = "data.max_image_pixels"


class ImageTooLarge(ValueError):
    """An image over the pixel limit; the message names it and its size."""


def pixel_limit(configured: int | None = None) -> int:
    """The limit in pixels: the configured one, else Pillow's."""
    if configured is not None:
        return int(configured)
    return int(Image.MAX_IMAGE_PIXELS or 0) or 89_478_485  # Pillow's, if it was switched off


def image_size(data: bytes, name: str) -> tuple[int, int]:
    """(width, height) from the image's header, nothing decoded. OSError (Pillow's
    UnidentifiedImageError) when Pillow does not know the format."""
    with warnings.catch_warnings():
        # Between Pillow's limit and twice it, Pillow only warns: the limit here decides.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                return image.size
        except Image.DecompressionBombError as error:
            raise ImageTooLarge(f"{name}: {error}") from None


def check_pixels(data: bytes, name: str, limit: int | None = None) -> tuple[int, int]:
    """(width, height) of the encoded image `data`; ImageTooLarge when it holds more pixels
    than `limit` (None: Pillow's)."""
    width, height = image_size(data, name)
    most = pixel_limit(limit)
    if width * height > most:
        raise ImageTooLarge(
            f"{name} is {width} x {height} = {width * height:,} pixels, over the limit of "
            f"{most:,} ({LIMIT_KEY})"
        )
    return width, height
