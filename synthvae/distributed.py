"""Data-parallel training on PyTorch's own engine (``torch.distributed``), started by ``torchrun``.

``torchrun --nproc-per-node K -m synthvae fit ...`` starts K processes with ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address in their environment;
:meth:`Parallel.from_environment` reads them, joins the process group (gloo on the CPU, NCCL on
CUDA) and wraps the VAE in ``DistributedDataParallel``. Every process reads the same input and
fits the same codecs; each trains on its own share of every batch, and gradients are averaged
across processes at each step, so the steps are those of one process with the whole batch.
Only rank 0 writes files.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
from dataclasses import dataclass

import torch
import torch.distributed as dist

from synthvae.errors import DataError, ParameterError, preview

logger = logging.getLogger(__name__)
# Seconds a process waits for the others before it says so.
_SAY_WAITING_AFTER = 60


@dataclass
class Parallel:
    """This process's place among the data-parallel processes.

    Attributes:
        rank: This process's number, 0 to ``world - 1``.
        world: Processes in all.
        local_rank: Its number on this machine (which GPU it uses).
    """

    rank: int
    world: int
    local_rank: int = 0

    @classmethod
    def from_environment(cls) -> "Parallel | None":
        """The group ``torchrun`` started this process in, or ``None`` when it runs alone.

        Raises:
            ParameterError: ``WORLD_SIZE`` is not a whole number, or above 1 without a
                whole-number ``RANK`` below it.
        """
        how = "start data-parallel runs with torchrun --nproc-per-node K -m synthvae ..., or unset WORLD_SIZE"
        text = os.environ.get("WORLD_SIZE", "1") or "1"
        try:
            world = int(text)
        except ValueError:
            raise ParameterError(f"WORLD_SIZE is {text!r}, not a whole number; {how}") from None
        if world <= 1:
            return None
        try:
            rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
        except (KeyError, ValueError):
            raise ParameterError(f"WORLD_SIZE is {world} but RANK is {os.environ.get('RANK')!r}; {how}") from None
        if not 0 <= rank < world:
            raise ParameterError(f"RANK is {rank}, outside 0 to {world - 1} (WORLD_SIZE is {world}); {how}")
        return cls(rank=rank, world=world, local_rank=local_rank)

    def device(self, device: torch.device) -> torch.device:
        """The device of this process: its own GPU (``cuda:LOCAL_RANK``) when training on CUDA."""
        if device.type == "cuda":
            count = torch.cuda.device_count()
            if count == 1:
                return torch.device("cuda", 0)  # one GPU seen by each process (CUDA_VISIBLE_DEVICES per rank)
            if self.local_rank >= count:
                # NCCL refuses two processes on one GPU ("Duplicate GPU detected"), mid-start.
                raise ParameterError(
                    f"process {self.local_rank} of this machine has no GPU of its own ({count} here): start at most "
                    f"{count} processes a machine (torchrun --nproc-per-node {count}), or fit on the CPU")
            return torch.device("cuda", self.local_rank)
        return device

    def start(self, device: torch.device) -> None:
        """Join the process group (once per process): NCCL for CUDA, gloo for the CPU.

        Raises:
            ParameterError: ``MASTER_ADDR`` or ``MASTER_PORT`` (where the processes meet, set
                by ``torchrun``) is not set.
        """
        if dist.is_initialized():
            return
        missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if not os.environ.get(name)]
        if missing:
            raise ParameterError(
                f"WORLD_SIZE is {self.world} but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set "
                f"(the address at which the processes meet): start data-parallel fits with torchrun --nproc-per-node K "
                f"-m synthvae fit ..., or unset WORLD_SIZE to fit in one process"
            )
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        # Started by hand with a peer missing, the meeting waited its 30 minutes without a word.
        waiting = threading.Timer(_SAY_WAITING_AFTER, logger.warning, args=(
            "process %d of %d has waited %d s for the others at %s:%s (torchrun starts them all; started by hand, each "
            "needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT); it gives up after 30 minutes",
            self.rank, self.world, _SAY_WAITING_AFTER, os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"]))
        waiting.daemon = True
        waiting.start()
        try:
            dist.init_process_group(backend=backend, timeout=datetime.timedelta(minutes=30))
        finally:
            waiting.cancel()

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The model in ``DistributedDataParallel`` (which also copies rank 0's weights to all)."""
        from torch.nn.parallel import DistributedDataParallel

        device = next(model.parameters()).device
        return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)

    def mean(self, value: float) -> float:
        """The mean of ``value`` over the processes."""
        device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
        tensor = torch.tensor([float(value)], dtype=torch.float64, device=device)
        dist.all_reduce(tensor)
        return float(tensor.item()) / self.world

    def gather(self, item) -> list:
        """``item`` of every process, in rank order (pickled between this run's own processes)."""
        items: list = [None] * self.world
        dist.all_gather_object(items, item)
        return items

    def agree(self, what: str, facts: dict) -> None:
        """Refuse, in every process alike, ``facts`` (of the data each process read) that differ
        from rank 0's: processes that read different tables trained until DDP stopped them with
        "params[0] in this process with sizes [5] appears not to match" (a review)."""
        everyone = self.gather(facts)
        for rank, theirs in enumerate(everyone):
            differ = [f"{key} {preview(theirs[key]) if isinstance(theirs[key], list) else theirs[key]} against "
                      f"{preview(everyone[0][key]) if isinstance(everyone[0][key], list) else everyone[0][key]}"
                      for key in facts if theirs[key] != everyone[0][key]]
            if differ:
                raise DataError(f"process {rank} of {self.world} read another {what} than process 0 ({'; '.join(differ)}): "
                                f"every process of a data-parallel fit reads the same data; give each the same file")

    def barrier(self) -> None:
        """Wait for every process."""
        dist.barrier()

    @property
    def is_main(self) -> bool:
        """Whether this process writes files (rank 0)."""
        return self.rank == 0

    def stop(self) -> None:
        """Leave the process group."""
        if dist.is_initialized():
            dist.destroy_process_group()
