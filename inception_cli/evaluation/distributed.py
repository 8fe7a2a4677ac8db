"""Several processes sharing one evaluation: one per GPU (or a share of the CPU cores each).

Processes come from `--devices N` (started here, on this machine) or from a launcher that sets
RANK, WORLD_SIZE, LOCAL_RANK and MASTER_ADDR/MASTER_PORT (torchrun; under SLURM, srun with
those set from SLURM_PROCID, SLURM_NTASKS and SLURM_LOCALID, see docs/eval.md). Each process
scores its share of the images; at the end each sends what it computed to the first process
once, over gloo (CPU tensors, any machine), and the first one writes the result.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from inception_cli.errors import InputError

# The final gather waits for the slowest process; a shard of ImageNet at 144 crops can take
# hours on a slow device, longer than torch's default of 30 minutes.
GATHER_TIMEOUT = timedelta(hours=12)


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise InputError(f"{name}={value!r} is not a number") from None


def world_from_env() -> World:
    """The process's place among those a launcher started; one process alone without one."""
    size = _env_int("WORLD_SIZE", 1)
    if size <= 1:
        return World()
    local_size = _env_int("LOCAL_WORLD_SIZE", size)
    return World(_env_int("RANK", 0), size, _env_int("LOCAL_RANK", 0), local_size)


def launched() -> bool:
    return world_from_env().size > 1


def device_for(world: World) -> torch.device:
    """This process's GPU (LOCAL_RANK), else the CPU."""
    if not torch.cuda.is_available():
        return torch.device("cpu")
    count = torch.cuda.device_count()
    if count >= world.local_size:
        index = world.local_rank
    elif count == 1:
        index = 0  # the launcher gave each process its own GPU (CUDA_VISIBLE_DEVICES)
    else:
        raise InputError(
            f"{world.local_size} processes on this machine but it has {count} GPUs; "
            "start one process per GPU"
        )
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def share_cpu_threads(world: World) -> None:
    """Processes on one machine's CPU split its cores instead of each taking all of them; an
    explicit OMP_NUM_THREADS caps each process's share."""
    if world.local_size == 1:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    share = max(1, (cores or os.cpu_count() or 1) // world.local_size)
    cap = os.environ.get("OMP_NUM_THREADS", "").split(",")[0]
    torch.set_num_threads(max(1, min(share, int(cap) if cap.isdigit() else share)))


def join(world: World) -> None:
    if world.size == 1:
        return
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        if not os.environ.get(name):
            raise InputError(f"WORLD_SIZE={world.size} but {name} is not set")
    dist.init_process_group("gloo", rank=world.rank, world_size=world.size, timeout=GATHER_TIMEOUT)


def leave(world: World) -> None:
    if world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.size > 1:
        dist.barrier()


def gather_to_main(world: World, item: Any) -> list[Any]:
    """Every process's `item`, in rank order, on the first process (an empty list elsewhere)."""
    if world.size == 1:
        return [item]
    gathered: list[Any] = [None] * world.size if world.is_main else []
    dist.gather_object(item, gathered if world.is_main else None, dst=0)
    return gathered


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_rank(
    local_rank: int, work: Callable[[Any], Any], request: Any, size: int, port: int
) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(local_rank),
        LOCAL_RANK=str(local_rank),
        WORLD_SIZE=str(size),
        LOCAL_WORLD_SIZE=str(size),
    )
    work(request)


def run_processes(work: Callable[[Any], Any], request: Any, size: int) -> None:
    """`work(request)` in `size` new processes on this machine, as ranks 0 ... size - 1."""
    mp.spawn(_start_rank, args=(work, request, size, free_port()), nprocs=size, join=True)


def check_devices(devices: int) -> None:
    if devices < 1:
        raise InputError(f"--devices {devices} must be at least 1")
    if torch.cuda.is_available() and devices > torch.cuda.device_count():
        raise InputError(
            f"--devices {devices}: this machine has {torch.cuda.device_count()} GPU(s)"
        )
