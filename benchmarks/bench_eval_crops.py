"""Throughput of 144-crop evaluation: images/s, and the share of time outside the forward pass.

    python benchmarks/bench_eval_crops.py                      # irv1 at width 0.25, 75 px, CPU
    python benchmarks/bench_eval_crops.py --model v4 --width 1 --size 299 --images 64

Images are random, of ImageNet's typical 375x500 (landscape), already decoded: the time outside
the forward passes is cropping, normalising and moving crops to the device, not JPEG decoding.
"""

from __future__ import annotations

import argparse
import time

import torch
from rich.console import Console

from inception_cli.data.crops import make_crops_batch
from inception_cli.models import create_model
from inception_cli.tasks.evaluate import Member, Preprocessing, evaluate_members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="irv1")
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--size", type=int, default=75, help="network input size")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--height", type=int, default=375)
    parser.add_argument("--image-width", type=int, default=500)
    parser.add_argument("--crops", type=int, default=144, choices=(1, 10, 144))
    parser.add_argument("--batch-size", type=int, default=144, help="network inputs per pass")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    device = torch.device(args.device)
    model = create_model(args.model, num_classes=1000, width=args.width)
    preprocessing = Preprocessing(args.size, 0.875, "bilinear", (0.5,) * 3, (0.5,) * 3)
    member = Member(args.model, model, preprocessing, num_classes=1000)
    generator = torch.Generator().manual_seed(0)
    images = [
        (torch.rand(3, args.height, args.image_width, generator=generator), 0)
        for _ in range(args.images)
    ]

    # Warm-up: the first passes pay for kernel selection and memory allocation.
    evaluate_members(
        [member],
        images[:1],
        crops=args.crops,
        batch_size=args.batch_size,
        device=device,
        show_progress=False,
    )
    scores = evaluate_members(
        [member],
        images,
        crops=args.crops,
        batch_size=args.batch_size,
        device=device,
        console=Console(stderr=True),
        show_progress=False,
    )

    batch = torch.stack([image for image, _ in images]).to(device)
    start = time.perf_counter()
    make_crops_batch(batch, args.crops, args.size)
    if device.type == "cuda":
        torch.cuda.synchronize()
    crop_seconds = (time.perf_counter() - start) / args.images

    print(f"{args.model} width {args.width} at {args.size} px, {args.crops} crops, {device}")
    print(f"  {scores.images_per_s:.2f} images/s ({scores.images_per_s * args.crops:.0f} crops/s)")
    print(f"  {100 * scores.share_outside_forward:.1f}% of the time outside the forward passes")
    print(f"  cropping alone: {1000 * crop_seconds:.1f} ms per image")


if __name__ == "__main__":
    main()
