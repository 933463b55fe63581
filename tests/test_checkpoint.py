"""Checkpoint and resume: a fit killed with SIGKILL and resumed ends with the uninterrupted model.

The kills are real: ``synthvae fit`` runs in a subprocess, the test watches its checkpoint and
sends SIGKILL at several points (before the first checkpoint, after the first, mid-way, after
the last epoch while the priors are fitted), then runs the same command with ``--resume``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from click.testing import CliRunner

from synthvae import DataError, ModelFileError, ParameterError, Synthesizer, TrainingError
from synthvae.cli import cli
from synthvae.checkpoint import FILE_NAME, fingerprint
from synthvae.datasets import load_penguins
from synthvae.modelfile import load_model_file

from conftest import dataset_path

EPOCHS = 16


@pytest.fixture(scope="module")
def churn_file(tmp_path_factory) -> Path:
    """1,000 churn rows: about 0.05 s an epoch here, slow enough to kill between epochs (the
    watch loop polls every 5 ms)."""
    path = tmp_path_factory.mktemp("data") / "churn.csv"
    pd.read_csv(dataset_path("churn.csv")).iloc[:1000].to_csv(path, index=False)
    return path


def _fit_command(data: Path, model: Path, checkpoints: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "synthvae", "fit", str(data), "-o", str(model), "--epochs", str(EPOCHS),
        "--seed", "5", "--checkpoint-dir", str(checkpoints), "--checkpoint-every", "0", "-q", *extra,
    ]


def _checkpoint_state(folder: Path) -> dict | None:
    """The loop state of the folder's checkpoint, or ``None`` while there is none."""
    path = folder / FILE_NAME
    if not path.exists():
        return None
    with safe_open(str(path), framework="pt") as handle:
        return json.loads(handle.metadata()["loop"])


@pytest.fixture(scope="module")
def uninterrupted(churn_file, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("uninterrupted")
    model = folder / "model.synthvae"
    subprocess.run(_fit_command(churn_file, model, folder / "ck"), check=True, capture_output=True)
    return model


def _same_model(a: Path, b: Path) -> None:
    tensors_a, payload_a = load_model_file(a)
    tensors_b, payload_b = load_model_file(b)
    assert tensors_a.keys() == tensors_b.keys()
    for name in tensors_a:
        assert torch.equal(tensors_a[name], tensors_b[name]), name
    assert payload_a["history"] == payload_b["history"]
    assert payload_a["preprocessor"] == payload_b["preprocessor"]


@pytest.mark.parametrize(
    "kill_when",
    ["before_first_checkpoint", "after_epoch_1", "mid_way", "after_last_epoch"],
)
def test_sigkill_then_resume_gives_the_uninterrupted_model(kill_when, churn_file, uninterrupted, tmp_path):
    model, checkpoints = tmp_path / "model.synthvae", tmp_path / "ck"
    log = tmp_path / "fit.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(_fit_command(churn_file, model, checkpoints), stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            state = _checkpoint_state(checkpoints)
            epoch = state["epoch"] if state else 0
            if (
                # Half a second in: the fit (about 1.2 s for 16 epochs here) is still starting,
                # so no checkpoint can exist yet.
                (kill_when == "before_first_checkpoint" and epoch == 0 and time.monotonic() > deadline - 119.5)
                or (kill_when == "after_epoch_1" and epoch >= 1)
                or (kill_when == "mid_way" and epoch >= EPOCHS // 2)
                or (kill_when == "after_last_epoch" and state is not None and state["finished"])
            ):
                break
            assert process.poll() is None, f"the fit ended before the kill point: {log.read_text()}"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    killed_at = _checkpoint_state(checkpoints)
    if kill_when == "before_first_checkpoint":
        assert killed_at is None
    elif kill_when == "mid_way":
        assert EPOCHS // 2 <= killed_at["epoch"] < EPOCHS
    assert not model.exists(), "a killed fit must not leave a model file"

    resumed = subprocess.run(_fit_command(churn_file, model, checkpoints, "--resume"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    _same_model(model, uninterrupted)
    a = Synthesizer.load(model).sample(300, seed=2)
    b = Synthesizer.load(uninterrupted).sample(300, seed=2)
    pd.testing.assert_frame_equal(a, b)


def test_resume_refuses_a_checkpoint_of_another_run(churn_file, uninterrupted, tmp_path):
    checkpoints = uninterrupted.parent / "ck"
    other = _fit_command(churn_file, tmp_path / "m.synthvae", checkpoints, "--resume")
    other[other.index("--seed") + 1] = "6"
    result = subprocess.run(other, capture_output=True, text=True)
    assert result.returncode == 1
    assert "written by a fit of the same settings but other training rows or another seed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "m.synthvae").exists()
    # Other settings are named, with both values (the refusal said only "other data or settings").
    other = _fit_command(churn_file, tmp_path / "m.synthvae", checkpoints, "--resume")
    other[other.index("--epochs") + 1] = str(EPOCHS + 4)
    result = subprocess.run(other, capture_output=True, text=True)
    assert result.returncode == 1 and f"other settings: train.epochs {EPOCHS}, now {EPOCHS + 4}" in result.stderr


def test_in_process_resume_matches_and_early_stopping_state_survives(tmp_path):
    frame = load_penguins()
    # A high learning rate makes the validation loss noisy: early stopping keeps epoch 26 of 28.
    settings = dict(epochs=40, patience=2, learning_rate=0.03, hidden_dims=(32,), latent_dim=4, seed=1, conditional=False)
    plain = Synthesizer(**settings).fit(frame)
    assert (plain.fit_info_.epochs_run, plain.fit_info_.best_epoch) == (28, 26)

    class Stop(Exception):
        pass

    def stop_after_27(progress):
        if progress.epoch == 27:
            raise Stop

    # Interrupted after the best epoch: the checkpoint must carry the best weights too.
    with pytest.raises(Stop):
        Synthesizer(**settings).fit(frame, callback=stop_after_27, checkpoint_dir=tmp_path, checkpoint_every=0)
    assert _checkpoint_state(tmp_path)["epoch"] == 27
    resumed_epochs = []
    resumed = Synthesizer(**settings).fit(
        frame, checkpoint_dir=tmp_path, resume=True, callback=lambda p: resumed_epochs.append(p.epoch)
    )
    assert resumed_epochs == [28]  # the callback sees only the epochs run after resuming
    assert resumed.history_ == plain.history_
    assert resumed.fit_info_.best_epoch == plain.fit_info_.best_epoch
    pd.testing.assert_frame_equal(resumed.sample(200, seed=0), plain.sample(200, seed=0))


def test_checkpoint_errors(tmp_path):
    frame = load_penguins()
    with pytest.raises(ParameterError, match="resume=True needs the checkpoint_dir"):
        Synthesizer(epochs=1).fit(frame, resume=True)
    with pytest.raises(ParameterError, match="private fit cannot be checkpointed"):
        Synthesizer(privacy=1.0).fit(frame, checkpoint_dir=tmp_path)
    (tmp_path / FILE_NAME).write_bytes(b"\x80\x04garbage")
    with pytest.raises(ModelFileError, match="corrupt or truncated.*delete it"):
        Synthesizer(epochs=1).fit(frame, checkpoint_dir=tmp_path, resume=True)
    # A real checkpoint cut in half (a disk that lost its tail): refused, not half-loaded.
    settings = dict(epochs=2, hidden_dims=(8,), latent_dim=2, conditional=False)
    (tmp_path / FILE_NAME).unlink()
    Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, checkpoint_every=0)
    whole = (tmp_path / FILE_NAME).read_bytes()
    (tmp_path / FILE_NAME).write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ModelFileError, match="delete it to start again"):
        Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, resume=True)
    afile = tmp_path / "a_file"
    afile.write_text("x")
    with pytest.raises(ParameterError, match="is a file"):
        Synthesizer(epochs=1).fit(frame, checkpoint_dir=afile)


def test_divergence_stops_clearly_and_saves_nothing(tmp_path):
    frame = load_penguins()
    with pytest.raises(TrainingError, match=r"the loss became (nan|inf) at epoch 1; lower the learning rate"):
        Synthesizer(epochs=3, learning_rate=1e8).fit(frame, checkpoint_dir=tmp_path, checkpoint_every=0)
    assert not (tmp_path / FILE_NAME).exists(), "no checkpoint of a diverged epoch"
    # A loss that grows without becoming NaN: learning rates 0.3-3 "fitted" to losses of 1e8-1e20
    # (the untrained model's: 266), and 10 on one epoch failed in the prior's Cholesky factor.
    for rate, epochs in ((0.3, 8), (10.0, 1)):
        with pytest.raises(TrainingError, match=r"training diverged: the loss ended at .* above the untrained model's"):
            Synthesizer(epochs=epochs, learning_rate=rate, seed=0).fit(frame.head(200))
    # A model that went bad after fitting is refused by save, and nothing is written.
    synth = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2, conditional=False).fit(frame)
    with torch.no_grad():
        next(synth.model_.parameters()).view(-1)[0] = float("nan")
    with pytest.raises(TrainingError, match="NaN or infinite weights"):
        synth.save(tmp_path / "broken.synthvae")
    assert os.listdir(tmp_path) == []
    assert np.isnan(next(synth.model_.parameters()).view(-1)[0].item())


def test_the_fingerprint_hashes_the_matrix_without_copying_it_and_keeps_its_value():
    # The value the fingerprint had when it hashed a copy (tobytes): checkpoints written then
    # still match their fits.
    data = torch.arange(12 * 5, dtype=torch.float32).reshape(12, 5) / 7
    model = torch.nn.Linear(5, 2)
    with torch.no_grad():
        model.weight.copy_(torch.arange(10, dtype=torch.float32).reshape(2, 5) / 3)
        model.bias.fill_(-0.5)
    assert fingerprint(data, model, {"train": {"epochs": 3}}) == (
        "7366252f9e886ce4556eb24f4e09a4f0f45b0ec0b4261e67835190f3e6fec423"
    )
    # A 64 MB matrix: the copy was a second matrix the memory check did not count.
    matrix = torch.ones(250_000, 64)
    tracemalloc.start()
    try:
        first = fingerprint(matrix, model, {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"the fingerprint allocated {peak / 1e6:.1f} MB"
    assert fingerprint(matrix.t().contiguous().t(), model, {}) == first  # the same rows laid out otherwise


def _same_weights(a: Synthesizer, b: Synthesizer) -> bool:
    state_a, state_b = a.model_.state_dict(), b.model_.state_dict()
    return state_a.keys() == state_b.keys() and all(torch.equal(state_a[k], state_b[k]) for k in state_a)


def test_a_damaged_checkpoint_is_refused_and_one_of_version_1_still_resumes(tmp_path):
    frame = load_penguins()
    settings = dict(epochs=3, hidden_dims=(8,), latent_dim=2, conditional=False, seed=3)
    plain = Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, checkpoint_every=0)
    path = tmp_path / FILE_NAME
    good = path.read_bytes()
    (header_len,) = struct.unpack("<Q", good[:8])
    header = json.loads(good[8 : 8 + header_len])
    name = "best.encoder.0.weight"
    # One flipped bit in the exponent of a best-epoch weight: -0.04 became -1.4e37 and the
    # resumed fit returned it.
    damaged = bytearray(good)
    damaged[8 + header_len + header[name]["data_offsets"][0] + 3] ^= 0x40
    path.write_bytes(bytes(damaged))
    with pytest.raises(ModelFileError, match=r"checkpoint .* is corrupt: its contents do not match the checksum.*delete it"):
        Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, resume=True)

    # A checkpoint written before checksums (format version 1) is still read...
    copy = tmp_path / "good.safetensors"
    copy.write_bytes(good)
    with safe_open(str(copy), framework="pt") as handle:
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        metadata = {key: value for key, value in handle.metadata().items() if key != "checksum"}
    metadata["format_version"] = "1"
    save_file(tensors, str(path), metadata=metadata)
    resumed = Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, resume=True)
    assert _same_weights(resumed, plain)
    # ... but not with a NaN among its weights: the fit returned NaN weights.
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[0] = float("nan")
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(ModelFileError, match=r"holds NaN or infinite values \(in \['best.encoder.0.weight'\]\).*delete it"):
        Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, resume=True)


def test_an_edited_checkpoint_is_refused_with_what_is_wrong(tmp_path):
    # Without a checksum (version 1, or one written again after the edit) nonsense was taken:
    # epoch -5 ran 14 epochs of 9, a string history was one letter per epoch, and NaN
    # best_loss, misshapen Adam moments or a negative step count failed mid-fit as raw errors.
    frame = load_penguins()
    settings = dict(epochs=3, hidden_dims=(8,), latent_dim=2, conditional=False, seed=3)
    Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, checkpoint_every=0)
    path = tmp_path / FILE_NAME
    with safe_open(str(path), framework="pt") as handle:
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        metadata = {key: value for key, value in handle.metadata().items() if key != "checksum"}
    metadata["format_version"] = "1"
    loop = json.loads(metadata["loop"])
    edits = {
        "epoch -5": ({"epoch": -5}, {}), "a string history": ({"history": "abc"}, {}),
        "best_loss NaN": ({"best_loss": float("nan")}, {}), "finished true": ({"finished": "yes"}, {}),
        "moments of another shape": ({}, {"optim.0.exp_avg": torch.zeros(3, 3)}),
        "a negative step": ({}, {"optim.0.step": torch.tensor(-7.0)}),
        "a slot of no parameter": ({}, {"optim.999.step": torch.tensor(1.0)}),
    }
    messages = {
        "epoch -5": "epoch -5", "a string history": "a history of type str for 3 epochs", "best_loss NaN": "best_loss nan",
        "finished true": "finished 'yes'", "moments of another shape": "optimiser moments of shape (3, 3)",
        "a negative step": "optimiser step count -7.0", "a slot of no parameter": "optimiser state for parameter 999",
    }
    for name, (loop_edit, tensor_edit) in edits.items():
        save_file({**tensors, **tensor_edit}, str(path), metadata={**metadata, "loop": json.dumps({**loop, **loop_edit})})
        with pytest.raises(ModelFileError, match=r"checkpoint .* is damaged \(ValueError: " + re.escape(messages[name]) + r".*delete it"):
            Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, resume=True)
    metadata["format_version"] = "\u00b2"  # a digit to str.isdigit, none to int()
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(ModelFileError, match="has format version"):
        Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, resume=True)


def test_a_checkpoint_folder_that_cannot_be_written_is_refused_before_training(tmp_path):
    frame = load_penguins()
    (tmp_path / "afile").write_text("x")
    folder = tmp_path / "afile" / "ck"  # under a file: it can never be made
    epochs = []
    # It was found when the first checkpoint was written, after the last epoch: raw
    # NotADirectoryError, the trained model lost.
    with pytest.raises(DataError, match=r"cannot write checkpoints to folder '.*afile/ck' \(Not a directory\)"):
        Synthesizer(epochs=5).fit(frame, checkpoint_dir=folder, callback=lambda p: epochs.append(p.epoch))
    assert epochs == []
    model = tmp_path / "m.synthvae"
    result = CliRunner().invoke(cli, ["fit", str(dataset_path("penguins.csv")), "-o", str(model), "--epochs", "5",
                                      "--checkpoint-dir", str(folder), "-q"])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("Error: cannot write checkpoints to folder") and str(folder) in result.output
    assert not model.exists()
    # A folder where the checkpoint file goes was refused only after the last epoch.
    (tmp_path / "ck2" / FILE_NAME).mkdir(parents=True)
    with pytest.raises(DataError, match=r"it is a folder"):
        Synthesizer(epochs=5).fit(frame, checkpoint_dir=tmp_path / "ck2", callback=lambda p: epochs.append(p.epoch))
    assert epochs == []
    # A folder that does not exist yet is made, and nothing but the checkpoint is left in it.
    Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2, conditional=False).fit(
        frame, checkpoint_dir=tmp_path / "new" / "ck")
    assert os.listdir(tmp_path / "new" / "ck") == [FILE_NAME]


def test_a_checkpoint_that_cannot_be_written_warns_once_and_the_fit_goes_on(tmp_path, caplog):
    # A disk that filled (or a folder removed) after the fit began failed the whole fit at the
    # last epoch's checkpoint, where the same fit without checkpoints wrote its model.
    frame = load_penguins()
    folder = tmp_path / "ck"

    def break_the_folder(progress):
        if progress.epoch == 1:
            (folder / FILE_NAME).unlink()
            folder.rmdir()
            folder.write_text("no longer a folder")

    settings = dict(epochs=4, hidden_dims=(8,), latent_dim=2, conditional=False, seed=1)
    with caplog.at_level("INFO", logger="synthvae.checkpoint"):
        fitted = Synthesizer(**settings).fit(frame, checkpoint_dir=folder, checkpoint_every=0, callback=break_the_folder)
    failures = [r for r in caplog.records if "could not be written" in r.getMessage()]
    assert len(failures) == 3 and [r.levelname for r in failures] == ["WARNING", "INFO", "INFO"]
    assert "training goes on" in failures[0].getMessage() and "resumes from the beginning" in failures[0].getMessage()
    plain = Synthesizer(**settings).fit(frame)
    assert fitted.sample(50, seed=0).equals(plain.sample(50, seed=0))


def test_a_fit_without_resume_says_it_replaces_an_earlier_checkpoint(tmp_path, caplog):
    frame = load_penguins()
    settings = dict(epochs=3, hidden_dims=(8,), latent_dim=2, conditional=False)
    Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, checkpoint_every=0)
    with caplog.at_level("WARNING", logger="synthvae.checkpoint"):
        Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path)
    assert any("holds the checkpoint of an earlier fit (epoch 3)" in r.getMessage() and "--resume" in r.getMessage()
               for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="synthvae.checkpoint"):
        Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, resume=True)
    assert not caplog.records
    # New data is said to be new data, not a list of the encoded layout's indices as "settings".
    changed = frame.assign(island=frame["island"].astype(object).where(frame.index > 0, "Atlantis"))
    with pytest.raises(ParameterError, match=r"written by a fit of other data \(its columns, types or categories changed: "
                                             r"the encoded width \d+, now \d+\); resume"):
        Synthesizer(**settings).fit(changed, checkpoint_dir=tmp_path, resume=True)


def test_a_resume_on_fewer_rows_says_so_not_a_setting_the_rows_set(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"c": rng.choice(list("abcde"), 3000), "x": rng.normal(size=3000)})
    settings = dict(epochs=1, hidden_dims=(8,), latent_dim=2, conditional=False)
    Synthesizer(**settings).fit(frame, checkpoint_dir=tmp_path, checkpoint_every=0)
    # It said "the same settings but other training rows or another seed" here, and with the
    # default network "other settings: model.autoregressive 30, now 10", a setting the user
    # never gave (the autoregressive units follow the rows by default).
    with pytest.raises(ParameterError, match=r"written by a fit of other training rows \(3,000, now 1,000\); resume"):
        Synthesizer(**settings).fit(frame.head(1000), checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ParameterError, match=r"other training rows \(3,000, now 1,000\) and other settings: "
                                             r"train.epochs 1, now 2; resume"):
        Synthesizer(**settings | {"epochs": 2}).fit(frame.head(1000), checkpoint_dir=tmp_path, resume=True)


def test_checkpoint_and_callback_arguments_are_checked_before_training(tmp_path):
    frame = load_penguins()
    with pytest.raises(ParameterError, match="callback must be a function"):
        Synthesizer(epochs=1).fit(frame, callback=5)
    for folder in ("", 123):
        with pytest.raises(ParameterError, match="checkpoint_dir must be the path of a folder"):
            Synthesizer(epochs=1).fit(frame, checkpoint_dir=folder)
    model = tmp_path / "m.synthvae"
    result = CliRunner().invoke(cli, ["fit", str(dataset_path("penguins.csv")), "-o", str(model), "--epochs", "2",
                                      "--checkpoint-dir", str(model), "-q"])
    assert result.exit_code == 2 and "is the model file -o" in result.output and not model.exists()
    # A fit refused on its input leaves no checkpoint folders behind (the tree was made first);
    # a folder that was there already stays.
    (tmp_path / "kept").mkdir()
    for folder in (tmp_path / "a" / "b" / "ck", tmp_path / "kept" / "ck"):
        with pytest.raises(DataError):
            Synthesizer(epochs=1).fit(frame.assign(when=[{"a": 1}] * len(frame)), checkpoint_dir=folder)
    assert sorted(os.listdir(tmp_path)) == ["kept"] and os.listdir(tmp_path / "kept") == []


def test_the_readme_names_the_fits_that_cannot_be_checkpointed_and_they_refuse(tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    long_fits = readme[readme.index("**Long fits**"):].split("\n\n")[0]
    assert "Private fits (`--epsilon`) and data-parallel fits (`torchrun`) cannot be checkpointed" in long_fits
    frame = load_penguins()
    with pytest.raises(ParameterError, match="private fit cannot be checkpointed"):
        Synthesizer(privacy=1.0).fit(frame, checkpoint_dir=tmp_path)
    # What torchrun sets; refused before the process group is joined.
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(ParameterError, match=r"data-parallel fit \(torchrun\) cannot be private or checkpointed"):
        Synthesizer(epochs=1).fit(frame, checkpoint_dir=tmp_path)


def test_the_command_line_says_when_there_is_no_checkpoint_to_resume_and_the_bar_resumes(tmp_path):
    # A mistyped folder trained from scratch with nothing to show it.
    model = tmp_path / "m.synthvae"
    args = ["fit", str(dataset_path("penguins.csv")), "-o", str(model), "--epochs", "4", "--checkpoint-dir",
            str(tmp_path / "ck"), "--checkpoint-every", "0"]
    result = CliRunner().invoke(cli, args + ["--resume", "-q"])
    assert result.exit_code == 0 and f"no checkpoint in '{tmp_path / 'ck'}' to resume from" in result.output
    again = CliRunner().invoke(cli, args + ["--resume", "-q"])
    assert again.exit_code == 0 and "no checkpoint" not in again.output
