"""Training checkpoints: resume a killed fit and end with the same model as an uninterrupted one.

A checkpoint holds everything the training loop carries from one epoch to the next: the weights,
Adam's moments and step counts, the random generator's state, the history, and the best epoch's
weights and loss (early stopping). It is one safetensors file, ``checkpoint.safetensors`` in the
checkpoint folder, written atomically (a kill leaves the previous checkpoint), with JSON metadata
and no pickle: loading one never runs code. A SHA-256 checksum of the tensors' bytes and the
metadata, stored in the metadata, tells a checkpoint damaged after it was written (one flipped
bit turned a weight of -0.04 into -1.4e37, and the resumed fit went on from it), and a checkpoint
holding NaN or infinite values is refused too: resuming from either would end in a broken model.

A checkpoint is tied to its run by a fingerprint of the encoded training matrix, the initial
weights and the training configuration, so ``resume`` refuses one written for other data or
settings instead of silently mixing runs. Torch only; no pandas.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_save

from synthvae.errors import DataError, ModelFileError, ParameterError, is_real, preview
from synthvae.io import atomic_write_bytes
from synthvae.optim import Adam

logger = logging.getLogger(__name__)

FORMAT_NAME = "synthvae-checkpoint"
# 2: a checksum in the metadata (version 1 checkpoints, without one, are still read).
FORMAT_VERSION = 2
FILE_NAME = "checkpoint.safetensors"


@dataclass
class LoopState:
    """What the training loop carries across epochs (besides weights, optimiser and generator).

    Attributes:
        epoch: Epochs done.
        history: One dict per epoch done.
        best_loss: Best validation loss so far (without a split: the last epoch's training loss).
        best_epoch: Its epoch (without a split: the last epoch, whose weights a fit keeps).
        best_state: The weights of the best epoch (``None`` without a validation split).
        finished: Training ended (all epochs, or early stopping); resuming only restores.
    """

    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    best_loss: float = float("inf")
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    finished: bool = False


# Bytes of a tensor hashed at a time: a matrix is hashed in place (or, off the CPU, copied a
# chunk at a time), never copied whole.
_HASH_CHUNK_BYTES = 16 << 20


def fingerprint(data: torch.Tensor, model: torch.nn.Module, config: dict) -> str:
    """A hash of the training matrix, the initial weights and the training configuration.

    The matrix is hashed where it lies, in chunks of rows: the encoded training matrix is the
    largest thing a fit holds, and a copy of it (``tobytes()``, as before) added a second one that
    the memory check does not count (400,000 rows x 181: peak 954 -> 1,192 MB). The digest is the
    same as that of the copy, so checkpoints written before still match their fits.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps(config, sort_keys=True).encode())
    digest.update(str(tuple(data.shape)).encode())
    _hash_tensor(digest, data)
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        _hash_tensor(digest, tensor)
    return digest.hexdigest()


def _hash_tensor(digest, tensor: torch.Tensor) -> None:
    """Feed ``tensor``'s bytes (row-major, as ``tensor.numpy().tobytes()`` gives them) to
    ``digest``, ``_HASH_CHUNK_BYTES`` of rows at a time, without copying a CPU tensor."""
    tensor = tensor.detach()
    if tensor.dim() == 0:
        tensor = tensor.reshape(1)
    if not tensor.numel():
        return
    row_bytes = tensor[0].numel() * tensor.element_size()
    step = max(1, _HASH_CHUNK_BYTES // max(1, row_bytes))
    for start in range(0, tensor.shape[0], step):
        chunk = tensor[start : start + step].to("cpu").contiguous()  # no copy of a contiguous CPU tensor
        digest.update(chunk.reshape(-1).view(torch.uint8).numpy())


def checkpoint_interval(seconds) -> float:
    """``checkpoint_every`` as a float, checked: a number of seconds, at least 0 (``math.inf``:
    only after the last epoch).

    Raises:
        ParameterError: Text, ``None``, a bool, NaN or a negative number ("30" and None raised
            raw TypeErrors, NaN was taken).
    """
    if not (is_real(seconds) or (isinstance(seconds, (float, np.floating)) and seconds == math.inf)) or seconds < 0:
        raise ParameterError(
            f"checkpoint_every must be a number of seconds of at least 0 (0: after every epoch), got {seconds!r}"
        )
    return float(seconds)


def _epoch_note(path: Path) -> str:
    """`` (epoch N)`` of the checkpoint at ``path`` from its header alone, or nothing when it
    cannot be read."""
    try:
        with safe_open(str(path), "pt") as handle:
            return f" (epoch {int(json.loads(handle.metadata()['loop'])['epoch'])})"
    except Exception:  # noqa: BLE001 - only a note: a damaged file is refused when resumed
        return ""


class Checkpointer:
    """Saves and restores the training loop's state in a folder.

    Args:
        folder: Where ``checkpoint.safetensors`` lives; created (and a file written to it and
            removed) here, before any training, so that a folder that cannot be written is
            refused up front rather than after the fit.
        every_seconds: Least time between two checkpoints (0: after every epoch). The last
            epoch is always saved.
        resume: Restore from the folder's checkpoint when there is one.

    Raises:
        ParameterError: ``folder`` is a file, or ``every_seconds`` is not a number of seconds.
        DataError: ``folder`` cannot be created or written to.
    """

    def __init__(self, folder: str | os.PathLike, every_seconds: float = 30.0, resume: bool = False) -> None:
        self.every_seconds = checkpoint_interval(every_seconds)
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ParameterError(f"checkpoint folder {str(self.folder)!r} is a file; give a folder")
        self._check_writable()
        self.path = self.folder / FILE_NAME
        if self.path.exists() and not self.path.is_file():
            # Found only when the last epoch's checkpoint was written: the fit lost.
            raise DataError(f"cannot write checkpoints to {str(self.path)!r}: it is a folder; remove it or give "
                            f"another checkpoint folder")
        self.resume = resume
        self._last_saved = time.monotonic()
        self._fingerprint: str | None = None
        self._settings = "{}"  # the run's settings, as JSON (start)
        self._write_failed = False
        if not resume and self.path.is_file():
            # The same command without --resume started over and replaced a killed fit's
            # checkpoint (of epoch 31, by one of epoch 6) without a word.
            logger.warning("%s holds the checkpoint of an earlier fit%s: this fit starts from the beginning and replaces it "
                           "at its first checkpoint; to continue that fit instead, stop this one and pass resume=True "
                           "(--resume)", self.path, _epoch_note(self.path))

    def _check_writable(self) -> None:
        """Create the folder and write (and remove) a file in it, as a checkpoint will be written.

        A folder that could not be made ('afile/ck', where 'afile' is a file) was found only when
        the first checkpoint was written, after the last epoch of a fast fit: raw
        ``NotADirectoryError``, the trained model lost.
        """
        missing = [self.folder, *self.folder.parents]
        # The folders this fit makes (the outermost last), removed again if it fails before its
        # first checkpoint (see discard): a fit refused on its input left the tree behind.
        self._made = missing[: next((i for i, f in enumerate(missing) if f.exists()), len(missing))]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, probe = tempfile.mkstemp(prefix=".synthvae-write-test.", suffix=".tmp", dir=self.folder)
            os.close(handle)
            os.unlink(probe)
        except OSError as exc:
            raise DataError(
                f"cannot write checkpoints to folder {str(self.folder)!r} ({exc.strerror or exc}); "
                f"give a checkpoint folder that can be created and written to"
            ) from None

    def discard(self) -> None:
        """Remove the folders this checkpointer made, if they are still empty (a fit that failed
        before its first checkpoint)."""
        for folder in self._made:
            try:
                folder.rmdir()
            except OSError:  # not empty (a checkpoint, another file), or already gone
                return

    def start(self, data: torch.Tensor, model: torch.nn.Module, config: dict, rows: int | None = None) -> None:
        """Bind the checkpointer to a run (before any training step); ``rows``: its training
        rows, named by the message of a refused resume (not hashed: checkpoints written before
        it was kept still match their fits)."""
        self._fingerprint = fingerprint(data, model, config)
        self._settings = json.dumps(config if rows is None else {**config, "rows": rows}, sort_keys=True)
        self._last_saved = time.monotonic()

    def due(self, final: bool) -> bool:
        """Whether the epoch just done should be saved."""
        return final or time.monotonic() - self._last_saved >= self.every_seconds

    def save(
        self,
        model: torch.nn.Module,
        optimizer: Adam,
        generator: torch.Generator,
        state: LoopState,
    ) -> None:
        """Write the checkpoint atomically.

        A checkpoint that cannot be written (the folder was removed or the disk filled since the
        fit began, where it was checked) is logged as a warning and the fit goes on: its model is
        what the checkpoint only guards (with checkpoints on, a full disk at the last epoch's
        checkpoint failed the whole fit, which without them wrote its model).
        """
        tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
        if state.best_state is not None:
            tensors.update({f"best.{k}": v for k, v in state.best_state.items()})
        optim = optimizer.state_dict()
        for index, slots in optim["state"].items():
            for key, value in slots.items():
                if not isinstance(value, torch.Tensor):
                    value = torch.tensor(value)
                tensors[f"optim.{index}.{key}"] = value
        tensors["generator"] = generator.get_state()
        loop = {
            "epoch": state.epoch,
            "history": state.history,
            "best_loss": state.best_loss if state.best_loss != float("inf") else None,
            "best_epoch": state.best_epoch,
            "finished": state.finished,
        }
        metadata = {
            "format": FORMAT_NAME,
            "format_version": str(FORMAT_VERSION),
            "fingerprint": self._fingerprint or "",
            "settings": self._settings,
            "loop": json.dumps(loop, allow_nan=False),
        }
        cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        metadata["checksum"] = _checksum(metadata, cpu)
        self._last_saved = time.monotonic()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)  # removed while the fit ran
            atomic_write_bytes(self.path, safetensors_save(cpu, metadata=metadata))
        except (OSError, DataError) as exc:
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            # Once as a warning; a checkpoint after every epoch would repeat it for each.
            log = logger.info if self._write_failed else logger.warning
            log("the checkpoint of epoch %d could not be written to %s (%s): training goes on, but a fit stopped "
                "now resumes from %s", state.epoch, self.path, message,
                "the last checkpoint written" if self.path.is_file() else "the beginning")
            self._write_failed = True
            return
        logger.info("checkpoint of epoch %d written to %s", state.epoch, self.path)

    def restore(
        self,
        model: torch.nn.Module,
        optimizer: Adam,
        generator: torch.Generator,
    ) -> LoopState | None:
        """Load the folder's checkpoint into ``model``, ``optimizer`` and ``generator``.

        Returns:
            The loop state, or ``None`` when not resuming or there is no checkpoint yet.

        Raises:
            ModelFileError: The checkpoint is unreadable, damaged after it was written (its
                checksum does not match), holds NaN or infinite values, or is of a newer format.
            ParameterError: The checkpoint belongs to another run (other data or settings).
        """
        if not self.resume or not self.path.is_file():
            if self.resume:
                logger.info("no checkpoint in %s yet: training from the start", self.folder)
            return None
        tensors, metadata = self._read()
        if metadata.get("fingerprint") != self._fingerprint:
            raise ParameterError(
                f"the checkpoint {str(self.path)!r} was written by a fit of {_what_differs(metadata.get('settings'), self._settings)}; "
                f"resume with the same ones, or delete it to start again"
            )
        state = tensors.get("generator")
        if state is not None and state.numel() != generator.get_state().numel():
            # A CPU generator's state is 5,056 bytes, a CUDA one's 16: set_state's error read as
            # a damaged file, with the advice to delete a sound one.
            raise ParameterError(
                f"the checkpoint {str(self.path)!r} was written by a fit on another kind of device (its random "
                f"state does not fit this fit's {generator.device.type} generator); resume on the device it was "
                f"written on, or delete it to start again"
            )
        try:
            return self._load_into(tensors, metadata, model, optimizer, generator)
        except (KeyError, ValueError, TypeError, RuntimeError, IndexError) as exc:
            raise ModelFileError(
                f"checkpoint {str(self.path)!r} is damaged ({type(exc).__name__}: {exc}); delete it to start again"
            ) from None

    def _load_into(self, tensors, metadata, model, optimizer, generator) -> LoopState:
        device = next(model.parameters()).device
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        fresh = optimizer.state_dict()
        slots: dict[int, dict] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, index, name = key.split(".", 2)
                # Adam keeps its step counts on the CPU; moments go with the parameters.
                slots.setdefault(int(index), {})[name] = value if name == "step" else value.to(device)
        _check_slots(slots, list(model.parameters()))
        optimizer.load_state_dict({"state": slots, "param_groups": fresh["param_groups"]})
        generator.set_state(tensors["generator"])
        loop = _checked_loop(json.loads(metadata["loop"]))
        best = {k[5:]: v.to(device) for k, v in tensors.items() if k.startswith("best.")}
        logger.info("resuming from the checkpoint of epoch %d in %s", loop["epoch"], self.path)
        return LoopState(
            epoch=int(loop["epoch"]),
            history=list(loop["history"]),
            best_loss=float(loop["best_loss"]) if loop["best_loss"] is not None else float("inf"),
            best_epoch=int(loop["best_epoch"]),
            best_state=best or None,
            finished=bool(loop["finished"]),
        )

    def _read(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        try:
            with safe_open(str(self.path), framework="pt", device="cpu") as handle:
                metadata = handle.metadata() or {}
                tensors = {name: handle.get_tensor(name).clone() for name in handle.keys()}  # aligned: see modelfile
        except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
            raise ModelFileError(
                f"checkpoint {str(self.path)!r} is corrupt or truncated ({exc}); delete it to start again"
            ) from None
        if metadata.get("format") != FORMAT_NAME:
            raise ModelFileError(f"{str(self.path)!r} is not a synthvae checkpoint; delete it or give another folder")
        version = metadata.get("format_version", "")
        if not (version.isascii() and version.isdigit()) or int(version) > FORMAT_VERSION:
            raise ModelFileError(
                f"checkpoint {str(self.path)!r} has format version {version!r}, which this synthvae "
                f"does not read ({FORMAT_VERSION}); upgrade synthvae or delete it"
            )
        if int(version) >= 2 and metadata.get("checksum") != _checksum(metadata, tensors):
            raise ModelFileError(
                f"checkpoint {str(self.path)!r} is corrupt: its contents do not match the checksum "
                f"written with it (it was damaged or edited after it was written); delete it to start again"
            )
        broken = [name for name, tensor in tensors.items()
                  if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
        if broken:
            raise ModelFileError(
                f"checkpoint {str(self.path)!r} holds NaN or infinite values (in {preview(sorted(broken))}): "
                f"a fit cannot go on from them; delete it to start again"
            )
        return tensors, metadata


def _check_slots(slots: dict[int, dict], params: list[torch.Tensor]) -> None:
    """Refuse Adam state that the optimiser would fail on mid-training (ValueError: a checkpoint
    edited with its checksum written again): a slot of no parameter, moments of another shape,
    a step count that is not a whole number of at least 0, or a missing part."""
    for index, slot in slots.items():
        if not 0 <= index < len(params):
            raise ValueError(f"optimiser state for parameter {index}, of {len(params)}")
        if set(slot) != {"step", "exp_avg", "exp_avg_sq"}:
            raise ValueError(f"optimiser state of parameter {index} holds {sorted(slot)}")
        if any(slot[k].shape != params[index].shape for k in ("exp_avg", "exp_avg_sq")):
            raise ValueError(f"optimiser moments of shape {tuple(slot['exp_avg'].shape)} for a parameter of shape {tuple(params[index].shape)}")
        step = slot["step"]
        if step.numel() != 1 or not float(step) >= 0 or float(step) != int(float(step)):
            raise ValueError(f"optimiser step count {step.tolist()}")


def _checked_loop(loop) -> dict:
    """The loop state of a checkpoint's metadata, refused (ValueError) unless it is one a fit
    writes: whole epochs of at least 0, one history entry each, a finite best loss (or none), a
    best epoch among those done, a truth value for finished (edited, epoch -5 ran 14 epochs of 9
    and a string history was taken as one letter per epoch)."""
    def whole(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    if not isinstance(loop, dict):
        raise ValueError(f"loop state {loop!r}")
    epoch, history, best = loop.get("epoch"), loop.get("history"), loop.get("best_loss")
    if not whole(epoch):
        raise ValueError(f"epoch {epoch!r}")
    if not isinstance(history, list) or len(history) != epoch or not all(isinstance(h, dict) for h in history):
        what = f"{len(history)} entries" if isinstance(history, list) else f"type {type(history).__name__}"
        raise ValueError(f"a history of {what} for {epoch} epochs")
    if best is not None and not (is_real(best) and math.isfinite(best)):
        raise ValueError(f"best_loss {best!r}")
    if not whole(loop.get("best_epoch")) or loop["best_epoch"] > epoch:
        raise ValueError(f"best_epoch {loop.get('best_epoch')!r} of {epoch} epochs")
    if not isinstance(loop.get("finished"), bool):
        raise ValueError(f"finished {loop.get('finished')!r}")
    return loop


def _what_differs(written: str | None, now: str) -> str:
    """What sets the checkpoint's fit apart from this one, for the refusal: the settings that
    differ (``epochs 6, now 10``), or, where they agree, the rows or the seed; the plain list of
    candidates for a checkpoint written without its settings."""
    try:
        before, after = _flat(json.loads(written)), _flat(json.loads(now))
    except (TypeError, ValueError):
        return "other data or other settings (seed, schema, epochs, network...)"
    def shown(value) -> str:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."

    rows = before.pop("rows", None), after.pop("rows", None)
    keys = [key for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
    other_rows = ""
    if None not in rows and rows[0] != rows[1]:
        other_rows = f"other training rows ({rows[0]:,}, now {rows[1]:,})"
        if not keys:
            return other_rows
        other_rows += " and "
    if not keys:
        return "the same settings but other training rows or another seed (its initial weights differ)"
    # The encoded layout follows the data: one new category moved every index after it.
    layout = [key for key in keys if key in _LAYOUT_KEYS]
    changed = [f"{key} {shown(before.get(key))}, now {shown(after.get(key))}"
               + (" (by default it follows the rows)" if other_rows and key in _ROW_KEYS else "")
               for key in keys if key not in _LAYOUT_KEYS]
    if layout:
        width = (f": the encoded width {before.get('model.data_dim')}, now {after.get('model.data_dim')}"
                 if before.get("model.data_dim") != after.get("model.data_dim") else "")
        data = f"other data (its columns, types or categories changed{width})"
        if not changed:
            return other_rows + data
        changed.append(f"and {data}")
    if any(key.startswith("stream.files") for key in keys):
        changed.append("(a file's path, size or modification time: touching or copying it counts)")
    return other_rows + "other settings: " + "; ".join(changed[:4]) + (f"; and {len(changed) - 4} more" if len(changed) > 4 else "")


# Settings that the number of training rows sets when the user leaves them to their defaults.
_ROW_KEYS = {"model.autoregressive"}

# Settings that the data's columns and categories fix, not the user.
_LAYOUT_KEYS = {"model.data_dim", "model.continuous_index", "model.one_hot_index", "model.one_hot_segment"}


def _flat(settings, prefix: str = "") -> dict:
    """Nested settings as ``{"train.epochs": 6, ...}`` (lists kept whole)."""
    if not isinstance(settings, dict):
        return {prefix.rstrip("."): settings}
    out = {}
    for key, value in settings.items():
        out.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


def _checksum(metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the metadata (but the checksum) and every tensor's name, dtype, shape and bytes."""
    digest = hashlib.sha256(json.dumps({k: v for k, v in metadata.items() if k != "checksum"}, sort_keys=True).encode())
    for name in sorted(tensors):
        tensor = tensors[name]
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        _hash_tensor(digest, tensor)
    return "sha256:" + digest.hexdigest()


__all__ = ["Checkpointer", "LoopState", "checkpoint_interval", "fingerprint"]
