"""The model file: one safetensors file holding weights plus a JSON payload.

The payload (schema, codec state, configs, history) is plain JSON in the safetensors header's
metadata; the weights are raw float32 tensors. Two SHA-256 checksums in the metadata tell a file
damaged after it was written: ``index_checksum`` of the header's index of the tensors (names,
dtypes, shapes, offsets), and ``checksum`` of the rest of the metadata and the tensors' bytes
(what readers before the index checksum check, so they still read new files). Loading parses JSON and copies numbers: no pickle, so no
code from a model file ever runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_save

from synthvae.errors import ModelFileError, ParameterError
from synthvae.io import CSV_SUFFIXES, PARQUET_SUFFIXES, atomic_write_bytes

FORMAT_NAME = "synthvae-model"
# 2: a model may hold its continuous outputs' noise correlation (``noise.factor``), which
# version 1's readers refused as an unexpected weight.
FORMAT_VERSION = 2


def save_model_file(path: str | os.PathLike, tensors: dict[str, torch.Tensor], payload: dict[str, Any],
                    version: int = FORMAT_VERSION) -> Path:
    """Write weights and payload to ``path`` atomically.

    Args:
        path: Target file (by convention ``*.synthvae`` or ``*.safetensors``).
        tensors: Named tensors (moved to the CPU, made contiguous).
        payload: JSON-serialisable dict.
        version: The format version the file needs (the oldest that reads it: a file without
            what a later version added stays readable by the readers before it).
    """
    if str(path).lower().endswith(CSV_SUFFIXES + PARQUET_SUFFIXES):
        # save("data.csv") replaced the training table by a model (the CLI refused the name).
        raise ParameterError(f"{str(path)!r}: a model file named like a table would be taken for one (and may be the "
                             f"table itself); name it *.synthvae")
    cpu = {name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(int(version)),
        "payload": json.dumps(payload, allow_nan=False, separators=(",", ":")),
    }
    # The tensors' bytes and index come out the same with or without the checksums in the header.
    blob = safetensors_save(cpu, metadata=metadata)
    metadata["index_checksum"] = _index_checksum(blob)
    metadata["checksum"] = _checksum(metadata, blob)
    atomic_write_bytes(path, _sorted_header(safetensors_save(cpu, metadata=metadata)))
    return Path(path)


def _sorted_header(blob: bytes) -> bytes:
    """A safetensors file's bytes with its header's keys in sorted order, padded to 8 bytes:
    safetensors writes the metadata from a hash map, in an order that changed from process to
    process, so the same fit gave files of other bytes (a user review). The tensors' bytes and
    offsets are unchanged."""
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.dumps(json.loads(blob[8 : 8 + header_len]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + blob[8 + header_len :]


def load_model_file(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read weights and payload back from :func:`save_model_file`'s file.

    Raises:
        ModelFileError: The file is missing, truncated, corrupt, not a synthvae model, or from a
            newer format version.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{str(path)!r} is a folder, not a model file")
    if not path.exists():
        raise ModelFileError(f"no such model file: {str(path)!r}")
    if not path.is_file():  # /dev/null, a pipe, a socket: "no such file" of a path that exists misled
        raise ModelFileError(f"{str(path)!r} is not a regular file (a device, pipe or socket), so no model file")
    _check_header(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            _check_metadata(path, metadata)
            # Each copied into memory of its own, aligned as a tensor computed in the process
            # is: the file's tensors lie at offsets a matrix product's kernels read in another
            # order (a loaded mixture prior's factors at 36 bytes past a 64-byte boundary gave
            # sampled values that differed from the fitted model's in the 11th digit).
            tensors = {name: handle.get_tensor(name).clone() for name in handle.keys()}
        _check_checksum(path, metadata)
        odd = sorted(name for name, tensor in tensors.items() if tensor.dtype != torch.float32)
        if odd:  # every weight is saved as float32: another dtype is a damaged or crafted index
            raise ModelFileError(f"model file {str(path)!r} is corrupt: tensors {odd[:5]} are not float32, as every "
                                 f"weight a synthvae model saves is")
    except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"model file {str(path)!r} is corrupt or truncated: {exc}") from None
    try:
        payload = json.loads(metadata["payload"])
    except (KeyError, ValueError, RecursionError) as exc:  # deep nesting, a 5,000-digit number: a crafted file
        raise ModelFileError(f"model file {str(path)!r} has an unreadable payload: {type(exc).__name__}: {exc}") from None
    return tensors, payload


def _index_and_data(blob: bytes) -> tuple[dict, bytes]:
    """The header's index of the tensors (name: dtype, shape, offsets) and the tensors' bytes of a
    safetensors file."""
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + header_len])
    return {k: v for k, v in header.items() if k != "__metadata__"}, blob[8 + header_len :]


def _index_checksum(blob: bytes) -> str:
    """SHA-256 of the header's index of the tensors: a one-byte change of a dtype (F32 to I32), or
    two offsets swapped, loaded as other numbers (a user review)."""
    return "sha256:" + hashlib.sha256(json.dumps(_index_and_data(blob)[0], sort_keys=True).encode()).hexdigest()


def _checksum(metadata: dict[str, str], blob: bytes) -> str:
    """SHA-256 of the metadata (but the checksum itself) and the tensors' bytes."""
    digest = hashlib.sha256(json.dumps({k: v for k, v in metadata.items() if k != "checksum"}, sort_keys=True).encode())
    digest.update(_index_and_data(blob)[1])
    return "sha256:" + digest.hexdigest()


def _check_checksum(path: Path, metadata: dict[str, str]) -> None:
    """Refuse a file whose bytes changed after it was written (files without a checksum pass;
    files without an index checksum, written before it, are checked without it)."""
    if "checksum" not in metadata:
        return
    blob = path.read_bytes()
    index = _index_checksum(blob)
    if _checksum(metadata, blob) != metadata["checksum"] or metadata.get("index_checksum", index) != index:
        raise ModelFileError(
            f"model file {str(path)!r} is corrupt: its contents do not match the checksum written "
            f"with it (the file was damaged or edited after it was saved); restore a copy of it, or fit the model again"
        )


def _check_header(path: Path) -> None:
    """Refuse files that are not safetensors before handing them to the parser."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(9)
    if len(head) < 9:
        raise ModelFileError(f"model file {str(path)!r} is truncated ({size} bytes)")
    (header_len,) = struct.unpack("<Q", head[:8])
    if head[8:9] != b"{" or header_len > size - 8:
        # A pickle, or torch.save's zip of pickles: never loaded.
        hint = " (it looks like a pickle: synthvae never loads those)" if head[:1] == b"\x80" or head[:4] == b"PK\x03\x04" else ""
        if path.name.lower().endswith((".csv", ".csv.gz", ".tsv", ".parquet", ".pq", ".zip")):
            # impute DATA MODEL said only that the table was no model file.
            hint = " (it looks like a table: commands take the model first, e.g. synthvae impute MODEL DATA)"
        raise ModelFileError(
            f"{str(path)!r} is not a synthvae model file, or it is truncated{hint}; "
            f"save one with Synthesizer.save or synthvae fit"
        )


def _check_metadata(path: Path, metadata: dict[str, str]) -> None:
    if metadata.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{str(path)!r} is a safetensors file but not a synthvae model")
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        raise ModelFileError(f"model file {str(path)!r} has no valid format version") from None
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"model file {str(path)!r} has format version {version}, newer than this synthvae "
            f"reads ({FORMAT_VERSION}); upgrade synthvae"
        )
    if version < 1:
        raise ModelFileError(f"model file {str(path)!r} has unknown format version {version}")
