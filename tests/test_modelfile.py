"""Model files: truncated, corrupt, foreign, pickled or too new files are refused clearly."""

from __future__ import annotations

import json
import pickle
import struct

import pytest
import torch
from safetensors.torch import save_file

from synthvae import ModelFileError, Synthesizer
from synthvae.modelfile import FORMAT_VERSION

from conftest import rewritten_model


@pytest.fixture(scope="module")
def model_bytes(fitted_penguins, tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "p.synthvae"
    fitted_penguins.save(path)
    return path.read_bytes()


def test_model_file_holds_no_pickle(model_bytes):
    header_len = struct.unpack("<Q", model_bytes[:8])[0]
    header = json.loads(model_bytes[8 : 8 + header_len])
    assert header["__metadata__"]["format"] == "synthvae-model"
    payload = json.loads(header["__metadata__"]["payload"])
    assert {"schema", "preprocessor", "vae_config", "train_config"} <= set(payload)


@pytest.mark.parametrize("cut", [0, 5, 100, -1000, -1])
def test_truncated_file(model_bytes, tmp_path, cut):
    path = tmp_path / "t.synthvae"
    path.write_bytes(model_bytes[:cut])
    with pytest.raises(ModelFileError, match=r"t\.synthvae.*(truncated|corrupt)"):
        Synthesizer.load(path)


def test_corrupt_payload(model_bytes, tmp_path):
    data = bytearray(model_bytes)
    start = data.find(b'"vae_config')
    data[start : start + 11] = b'"vae_cXnfig'
    path = tmp_path / "c.synthvae"
    path.write_bytes(bytes(data))
    # Edited bytes break the checksum (a payload missing a key: tests/test_files.py).
    with pytest.raises(ModelFileError, match=r"c\.synthvae' is corrupt: its contents do not match the checksum"):
        Synthesizer.load(path)


def test_foreign_safetensors_file(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ModelFileError, match="not a synthvae model"):
        Synthesizer.load(path)


def test_future_format_version(model_bytes, tmp_path):
    text = model_bytes.replace(f'"format_version":"{FORMAT_VERSION}"'.encode(), b'"format_version":"9"')
    assert text != model_bytes
    path = tmp_path / "future.synthvae"
    path.write_bytes(text)
    with pytest.raises(ModelFileError, match="format version 9, newer than this synthvae reads"):
        Synthesizer.load(path)


class _Exploit:
    def __reduce__(self):
        return (exec, ("open(__import__('os').environ['SYNTHVAE_PWNED'], 'w').write('x')",))


def test_crafted_pickle_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("SYNTHVAE_PWNED", str(marker))
    for name, blob in {
        "raw.synthvae": pickle.dumps(_Exploit()),
        "torch.synthvae": None,
    }.items():
        path = tmp_path / name
        if blob is None:
            torch.save({"x": _Exploit()}, path)
        else:
            path.write_bytes(blob)
        with pytest.raises(ModelFileError, match="not a synthvae model file"):
            Synthesizer.load(path)
    assert not marker.exists()


def test_deeply_nested_payload_is_a_model_file_error(model_bytes, tmp_path):
    from safetensors import safe_open

    source = tmp_path / "ok.synthvae"
    source.write_bytes(model_bytes)
    with safe_open(str(source), framework="pt") as handle:
        metadata, tensors = handle.metadata(), {name: handle.get_tensor(name) for name in handle.keys()}
    metadata = {k: v for k, v in metadata.items() if k != "checksum"}
    metadata["payload"] = "[" * 100_000 + "]" * 100_000  # a RecursionError traceback before
    save_file(tensors, str(tmp_path / "deep.synthvae"), metadata=metadata)
    with pytest.raises(ModelFileError, match=r"deep\.synthvae' has an unreadable payload: RecursionError"):
        Synthesizer.load(tmp_path / "deep.synthvae")


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        Synthesizer.load(tmp_path / "none.synthvae")
    # A path that exists but is no file was called missing.
    with pytest.raises(ModelFileError, match="'/dev/null' is not a regular file"):
        Synthesizer.load("/dev/null")


def test_loaded_model_samples_the_fitted_rows_bit_for_bit(tmp_path):
    """A fitted mixture prior's Cholesky factors came column-major and the loaded ones
    row-major: the products summed in another order, and a loaded model's unrounded floats
    differed from the fitted model's in the last bits."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(list("ab"), 3000)})
    syn = Synthesizer(seed=0, epochs=2).fit(frame)
    path = tmp_path / "m.synthvae"
    syn.save(path)
    loaded = Synthesizer.load(path)
    pd.testing.assert_frame_equal(syn.sample(500, seed=3), loaded.sample(500, seed=3), check_exact=True)


def test_the_same_fit_gives_the_same_bytes(penguins, tmp_path):
    # Two fits of the same data and seed gave files of other bytes: the header's keys in the
    # order of a hash map (another order at every save, even of one model) and the fit's wall
    # seconds; a content-addressed pipeline saw a new model every run (a user review).
    files = []
    for run in range(2):
        syn = Synthesizer(seed=4, epochs=2).fit(penguins)
        for copy in range(2):
            files.append(syn.save(tmp_path / f"m{run}{copy}.synthvae").read_bytes())
    assert all(blob == files[0] for blob in files[1:])
    loaded = Synthesizer.load(tmp_path / "m00.synthvae")
    assert loaded.fit_info_.seconds == 0.0 and syn.fit_info_.seconds > 0
    assert loaded.fit_info_.epochs_run == syn.fit_info_.epochs_run


@pytest.mark.parametrize("edit, words", [
    # 600 KB asking for 25,000-wide layers: load allocated 5.3 GB before it refused the file.
    (lambda p: p["vae_config"].update(hidden_dims=[25000, 25000]), "vae_config makes a network of"),
    (lambda p: p["preprocessor"].update(max_categories=float("inf")), "OverflowError"),
    (lambda p: p.update(extra=int("9" * 5000)), "has an unreadable payload: ValueError"),
])
def test_a_crafted_payload_is_a_model_file_error_at_once(model_bytes, tmp_path, edit, words):
    import sys

    source = tmp_path / "ok.synthvae"
    source.write_bytes(model_bytes)
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        rewritten_model(source, tmp_path / "crafted.synthvae", payload=edit)
    finally:
        sys.set_int_max_str_digits(limit)
    with pytest.raises(ModelFileError, match=words):
        Synthesizer.load(tmp_path / "crafted.synthvae")


@pytest.mark.parametrize("seen", ["x", [], [None, 1.0], ["x", 1], [5.0, 1.0], [1.0, 2.0, 3.0], [True, 2.0]])
def test_an_edited_range_of_a_rebuilt_column_is_refused_at_load(tmp_path, seen):
    # A date learned as calendar parts keeps the training range ("seen") in the file: edited,
    # the file loaded and sample died with a TypeError deep in the range's clip.
    import pandas as pd

    from conftest import dataset_path
    from synthvae.modelfile import load_model_file, save_model_file

    weather = pd.read_csv(dataset_path("seattle_weather.csv"))
    Synthesizer(seed=0, epochs=1, conditional=False).fit(weather).save(tmp_path / "w.synthvae")
    tensors, payload = load_model_file(tmp_path / "w.synthvae")
    ranged = [part for part in payload["constraints"]["transforms"] if part.get("seen") is not None]
    assert ranged
    ranged[0]["seen"] = seen
    save_model_file(tmp_path / "edited.synthvae", tensors, payload)
    with pytest.raises(ModelFileError, match=r"is corrupt: ValueError: the range of 'date' \('seen'\) must be two finite"):
        Synthesizer.load(tmp_path / "edited.synthvae")


@pytest.mark.parametrize("tail", ["x", [1.0], [0.0, "x"], [0.0, 1.0e9]])
def test_edited_tails_of_a_top_coded_column_are_refused_at_load(tmp_path, tail):
    # min_tail_rows keeps a codec's tails, its range; an edited pair would clip the rows the
    # model sees at one place and the sampled values at another.
    import pandas as pd

    from conftest import dataset_path
    from synthvae.modelfile import load_model_file, save_model_file

    weather = pd.read_csv(dataset_path("seattle_weather.csv"))
    Synthesizer(seed=0, epochs=1, conditional=False, min_tail_rows=5).fit(weather).save(tmp_path / "w.synthvae")
    tensors, payload = load_model_file(tmp_path / "w.synthvae")
    codecs = [state for state in payload["preprocessor"]["codecs"] if "tail" in state]
    assert len(codecs) >= 4 and payload["preprocessor"]["min_tail_rows"] == 5
    codecs[0]["tail"] = tail
    save_model_file(tmp_path / "edited.synthvae", tensors, payload)
    with pytest.raises(ModelFileError, match=r"the codec's tails .* are not its range"):
        Synthesizer.load(tmp_path / "edited.synthvae")
