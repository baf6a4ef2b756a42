"""Other Keras backends: the NumPy data path matches tf.data's, and the hyperprior codec trains and decodes on JAX."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cae_helpers.training.loop import ArrayBatches, crop_resize_numpy

ROOT = Path(__file__).resolve().parents[1]


def test_numpy_crops_match_tf_crop_and_resize():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.random((5, 32, 32, 3)).astype(np.float32)
    side = np.array([1.0, 0.5, 0.25, 0.7, 0.3])
    top, left = rng.random(5) * (1 - side), rng.random(5) * (1 - side)
    flip = np.array([False, True, False, True, False])
    x1, x2 = np.where(flip, left + side, left), np.where(flip, left, left + side)
    boxes = np.stack([top, x1, top + side, x2], axis=1).astype(np.float32)
    expected = tf.image.crop_and_resize(x, boxes, np.arange(5), (32, 32), method="bilinear").numpy()
    np.testing.assert_allclose(crop_resize_numpy(x, top, left, side, flip), expected, atol=1e-5)
    np.testing.assert_array_equal(crop_resize_numpy(x[:1], np.zeros(1), np.zeros(1), np.ones(1), np.zeros(1, bool)), x[:1])


def test_array_batches_are_a_function_of_seed_epoch_and_batch():
    images = np.random.default_rng(1).integers(0, 256, (50, 32, 32, 3), dtype=np.uint8)
    a, b = ArrayBatches(images, 16, True, seed=3, augment=0.5), ArrayBatches(images, 16, True, seed=3, augment=0.5)
    b.set_epoch(1)
    b.set_epoch(0)  # back to epoch 0: same order and augmentation as a fresh one
    assert len(a) == 4
    for k in range(len(a)):
        np.testing.assert_array_equal(a[k][0], b[k][0])
    a.set_epoch(1)
    assert not np.array_equal(a[0][0], b[0][0])
    plain = ArrayBatches(images, 16, False)
    np.testing.assert_array_equal(plain[0][0], images[:16] / np.float32(255))


JOB = """
import json, sys, numpy as np, keras
from cae_helpers.codec import HyperpriorCodec
out = sys.argv[1]
codec = HyperpriorCodec.load(out + "/tf-codec")
blobs = [open(f"{out}/blob{i}.cae", "rb").read() for i in range(3)]
decoded = codec.decompress(blobs)
np.save(out + "/jax-decoded.npy", decoded)
mine = codec.compress(np.load(out + "/images.npy"), 2)
json.dump({"backend": keras.backend.backend(), "same_bytes": [a == b for a, b in zip(mine, blobs)]}, open(out + "/jax.json", "w"))
"""


def _jax_env() -> dict:
    pytest.importorskip("jax")
    return dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")


@pytest.fixture(scope="module")
def jax_env(tmp_path_factory) -> dict:
    """`_jax_env` with a compilation cache shared by this module's JAX processes that run one after another.

    Every compilation is kept, the many small eager ones of building a model included, so a resumed or
    evaluating process loads what the one before compiled (train-codec, resume, export: 150 s -> 73 s).
    Not for processes that run side by side: without `filelock` the cache does not lock its files.
    """
    cache = str(tmp_path_factory.mktemp("jax-cache"))
    return _jax_env() | {"JAX_COMPILATION_CACHE_DIR": cache, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}


@pytest.mark.parametrize("slices", [0, 2])
def test_bytes_made_on_tensorflow_decode_on_jax(tmp_path, slices, jax_env):
    """Same symbols on both backends (the entropy decode is NumPy, channel context included); pixels differ by g_s's rounding at most."""
    env = jax_env
    import keras

    from cae_helpers.codec import HyperpriorCodec
    from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior

    keras.utils.set_random_seed(0)
    cfg = HyperpriorConfig(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.001, 0.01), precision="float32",
                           context_slices=slices)
    model = build_hyperprior(cfg)
    for net in model.context:  # context networks start at zero: give them weights that change mu and sigma
        net.set_weights([np.random.default_rng(1).normal(0, 0.3, w.shape).astype(np.float32) for w in net.get_weights()])
    HyperpriorCodec.from_model(model).save(tmp_path / "tf-codec")
    codec = HyperpriorCodec.load(tmp_path / "tf-codec")  # the float16-rounded weights both sides load
    images = np.random.default_rng(2).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    blobs = codec.compress(images, 2)
    for i, b in enumerate(blobs):
        (tmp_path / f"blob{i}.cae").write_bytes(b)
    done = subprocess.run([sys.executable, "-c", JOB, str(tmp_path)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "jax.json").read_text())
    assert result["backend"] == "jax"
    jax_pixels = np.load(tmp_path / "jax-decoded.npy")
    assert np.abs(jax_pixels.astype(int) - codec.decompress(blobs).astype(int)).max() <= 1
    assert sum(result["same_bytes"]) >= 2  # encoders on two backends agree unless a latent sits on a rounding edge


REFINE_JOB = """
import sys, numpy as np, keras
from cae_helpers.codec import shipped_codec
assert keras.backend.backend() == "jax"
codec = shipped_codec()
blob = codec.compress(np.load(sys.argv[1] + "/photo.npy")[None], 3, refine=30)[0]
open(sys.argv[1] + "/refined.cae", "wb").write(blob)
"""


def test_latent_refinement_runs_on_jax_and_its_bytes_decode_on_tensorflow(tmp_path, jax_env):
    """Refinement's gradients come from jax.value_and_grad there; the bytes are ordinary: any backend decodes them."""
    env = jax_env
    from cae_helpers.bench.photos import sample_photos
    from cae_helpers.codec import shipped_codec

    photo = np.ascontiguousarray(sample_photos("sklearn")["china.jpg"][200:264, 300:396])
    np.save(tmp_path / "photo.npy", photo)
    done = subprocess.run([sys.executable, "-c", REFINE_JOB, str(tmp_path)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    codec = shipped_codec()
    refined, plain = (tmp_path / "refined.cae").read_bytes(), codec.compress(photo[None], 3)[0]
    lam = codec.lmbda(2.0)

    def loss(blob: bytes) -> float:
        mse = np.mean((codec.decompress([blob])[0].astype(np.float64) - photo) ** 2)
        return 8 * len(blob) / photo[..., 0].size + lam * mse

    assert loss(refined) < loss(plain)


def test_train_codec_command_runs_and_resumes_on_jax(tiny_archive, tmp_path, jax_env):
    env = jax_env
    args = [sys.executable, "-m", "cae_helpers", "train-codec", "--data", str(tiny_archive), "--out", str(tmp_path / "run"),
            "--filters", "8", "--latent-channels", "8", "--hyper-filters", "8", "--hyper-channels", "4",
            "--lambdas", "0.001,0.01", "--batch-size", "16", "--precision", "float32"]
    for epochs in ("1", "2"):  # the second call resumes the first
        done = subprocess.run(args + ["--epochs", epochs] if epochs == "2" else args + ["--epochs", "2", "--time-limit", "0.00001"],
                              env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
    hist = json.loads((tmp_path / "run" / "history.json").read_text())
    assert hist["epochs_done"] == 2 and hist["resumed_from_epoch"] == 1 and hist["finished"]
    done = subprocess.run([sys.executable, "-m", "cae_helpers", "export-codec", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "c")],
                          env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "c" / "tables.npz").is_file()


DP_JOB = """
import sys, numpy as np, keras
from cae_helpers.hyperprior import HyperpriorConfig
from cae_helpers.training.loop import init_multihost
from cae_helpers.training.codec import train_hyperprior
init_multihost()
imgs = np.random.default_rng(0).integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
cfg = HyperpriorConfig(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.001, 0.01), epochs=1,
                       batch_size=32, precision="float32", augment=0.5)
model, _ = train_hyperprior(cfg, imgs[:192], imgs[192:], None)
if sys.argv[2] == "0":
    np.savez(sys.argv[1], *model.get_weights())
"""


def _start_job(tmp_path, name: str, extra_env: dict, processes: int) -> list[subprocess.Popen]:
    env = _jax_env() | extra_env
    return [subprocess.Popen([sys.executable, "-c", DP_JOB, str(tmp_path / f"{name}.npz"), str(i)],
                             env=env | ({"CAE_PROCESS_ID": str(i)} if processes > 1 else {}),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(processes)]


def _finish_job(tmp_path, name: str, procs: list[subprocess.Popen]) -> dict:
    for p in procs:
        _, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-3000:]
    with np.load(tmp_path / f"{name}.npz") as f:
        return {k: f[k] for k in f.files}


def _max_relative_difference(a: dict, b: dict) -> float:
    return max(float(np.abs(a[k] - b[k]).max() / (np.abs(a[k]).max() + 1e-12)) for k in a)


def test_data_parallel_on_two_devices_and_two_processes_matches_one(tmp_path):
    """keras.distribution.DataParallel: 2 CPU devices in one process, and 2 processes on 127.0.0.1 forming one job,
    each trained on the same global batches as a single device: the same weights to float32 rounding (1e-5)."""
    jobs = {"single": ({}, 1), "devices": ({"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}, 1),
            "hosts": ({"CAE_COORDINATOR": "127.0.0.1:12357", "CAE_NUM_PROCESSES": "2"}, 2)}
    running = {name: _start_job(tmp_path, name, env, n) for name, (env, n) in jobs.items()}  # side by side: compiling is serial
    single, devices, hosts = (_finish_job(tmp_path, name, procs) for name, procs in running.items())
    assert _max_relative_difference(single, devices) < 1e-5
    assert _max_relative_difference(single, hosts) < 1e-5


def test_reference_model_trains_and_evaluates_on_jax(tiny_archive, tmp_path, jax_env):
    """The reference autoencoder on JAX: the fast layers fall back to plain Keras; train then evaluate through the CLI."""
    env = jax_env
    out = tmp_path / "ref"
    for args in (["train", "--out", str(out), "--epochs", "1", "--protocol", "heldout"],
                 ["evaluate", "--out", str(tmp_path / "ev"), "--model-path", str(out / "autoencoder.keras")]):
        done = subprocess.run([sys.executable, "-m", "cae_helpers", *args, "--data", str(tiny_archive), "--smoke", "2"],
                              env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
    trained = json.loads((out / "metrics.json").read_text())
    evaluated = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert trained["versions"]["keras_backend"] == "jax" and trained["code_bytes"] == 512
    assert evaluated["psnr_mean_float"] == pytest.approx(trained["psnr_mean_float"], abs=1e-4)


def test_the_determinism_probe_counts_flips_expects_them_and_rounds_what_the_codec_rounds(tmp_path, default_codec):
    """tools/hs_determinism_probe.py: a u moved across a half-integer is one flip, the expected count is 2 x sum |du|, margins
    are distances to the nearest half-integer; and a child's u rounds to the tables the codec picks for the same z."""
    from tool_module import load_tool

    from cae_helpers.codec import _mean_scale
    from cae_helpers.entropy.tables import scale_indexes

    probe = load_tool("hs_determinism_probe")
    ref, other = {"a": np.array([1.2, 2.4999999, 3.0])}, {"a": np.array([1.2, 2.5000001, 3.0 + 1e-12])}
    got = probe.compare(ref, other)
    assert got["index_differences"] == 1 and got["max_abs_du"] == pytest.approx(2e-7)
    assert got["expected_index_differences"] == pytest.approx(2 * (2e-7 + 1e-12))
    margins = probe.margins(ref)
    assert margins["values"] == 3 and margins["smallest"] == pytest.approx(1e-7) and margins["share_within"]["1e-06"] == pytest.approx(1 / 3)
    z = np.random.default_rng(0).integers(-3, 4, (4, 2, 2, default_codec.z_tables.shape[0])).astype(np.float64)
    np.savez(tmp_path / "z.npz", **{"cifar q3": z})
    probe.child(str(tmp_path / "z.npz"), str(tmp_path / "u.npz"))
    level = default_codec.level16(3) / 16
    sigma = _mean_scale(default_codec.with_float_hs().hyper_raw(z, level), default_codec.gains(level)[0])[1]
    with np.load(tmp_path / "u.npz") as u:
        np.testing.assert_array_equal(probe.table_index(u["cifar q3"]), scale_indexes(sigma))
    assert "blas" in json.loads((tmp_path / "u.json").read_text())
    # --integer-hs: a child loads the integer h_s as shipped and gives the codec's output and tables; one bit is counted
    from cae_helpers.integer_hs import IntegerHyperSynthesis

    exact = IntegerHyperSynthesis.from_codec(default_codec)
    probe.child(str(tmp_path / "z.npz"), str(tmp_path / "e.npz"), str(probe.integer_arrays(tmp_path / "i.npz")))
    with np.load(tmp_path / "e.npz") as e:
        got = {k: e[k] for k in e.files}
    np.testing.assert_array_equal(got["cifar q3 raw"], exact.raw(z, default_codec.level16(3)))
    np.testing.assert_array_equal(got["cifar q3 index"], exact.indexes(np.split(got["cifar q3 raw"], 2, axis=-1)[1], default_codec.level16(3)))
    moved = dict(got) | {"cifar q3 raw": np.nextafter(got["cifar q3 raw"], np.inf)}
    assert probe.compare_exact(got, moved) == {"values_differing_in_any_bit": got["cifar q3 raw"].size, "index_differences": 0,
                                              "values": got["cifar q3 raw"].size}
