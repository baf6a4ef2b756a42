"""How close the coder's one float decision comes to flipping between machines: a probe of h_s in float64.

    python tools/hs_determinism_probe.py --data ../shared/data/cifar-100-python.tar.gz > results/hs-determinism/probe.log

Both sides of the hyperprior codec compute each latent's mean and scale from the decoded hyper-latent with `h_s` in
NumPy float64 (`HyperpriorCodec.hyper_raw`), then pick the scale's table by rounding u = (log sigma - log s_0) / step
(`entropy.tables.scale_indexes`). Symbols decode only if both sides pick the same table; a machine whose BLAS sums in
another order, or whose NumPy takes exp and log by other SIMD code, gets a u that differs in its last bits, and a u
that close to a half-integer would round the other way. Here the same hyper-latents (the default codec's, of the
first IMAGES CIFAR-100 test images and scikit-learn's two photographs coded whole, at every integer quality) go
through h_s in child processes that stand in for other machines on this one: OpenBLAS forced to other CPUs' kernels
(`OPENBLAS_CORETYPE`: other blocking and summation orders, with and without FMA) and NumPy's AVX-512 and AVX2 code
paths turned off (`NPY_DISABLE_CPU_FEATURES`: other exp and log). Reported per environment against this machine's
defaults: table indexes that differ (a desynchronised string), the largest |du|, and the values' smallest distance
to a rounding boundary, with the share of values within each distance (u's fractional part is close to uniform, so
that share estimates how often a difference of that size would flip a table).

With --integer-hs the children run the exact h_s instead (`cae_helpers.integer_hs`: the one `hyperprior-exact` ships,
the default's network, handed to them as its tables.npz holds it): reported per environment, the output values that differ
from this machine's in any bit, and the table indexes that differ (both should be none, by construction).

    python tools/hs_determinism_probe.py --data ../shared/data/cifar-100-python.tar.gz --integer-hs > results/hs-determinism/integer.log
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ENVIRONMENTS = {  # name -> environment variables a child runs under (this machine's defaults first)
    "default": {},
    "blas Haswell (AVX2, FMA)": {"OPENBLAS_CORETYPE": "Haswell"},
    "blas Sandybridge (AVX, no FMA)": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "blas Nehalem (SSE only)": {"OPENBLAS_CORETYPE": "Nehalem"},
    "numpy without AVX-512, blas Haswell": {"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL"},
    "numpy baseline (SSE4.2), blas Nehalem": {"OPENBLAS_CORETYPE": "Nehalem", "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL"},
}
QUALITIES = tuple(range(1, 9))
DISTANCES = (1e-3, 1e-6, 1e-9, 1e-12)


def hyper_latents(data: str, images: int) -> dict[str, np.ndarray]:
    """{f"{set} q{quality}": integer z_hat (N, h, w, Nz)} of the default codec's encoder (this process, this machine)."""
    from sklearn.datasets import load_sample_images

    from cae_helpers.codec import _pad, shipped_codec
    from cae_helpers.data import load_cifar100
    from cae_helpers.pixels import to_float

    codec = shipped_codec()
    sets = {"cifar": load_cifar100(data).test.images[:images]}
    sets |= {f"photo{i}": photo[None] for i, photo in enumerate(load_sample_images().images)}
    out = {}
    for name, x in sets.items():
        for q in QUALITIES:
            level = codec.level16(q) / 16
            z = codec.gained_latents(_pad(to_float(x)), level)[1]
            out[f"{name} q{q}"] = (codec._z_symbols(z) + codec.z_low).astype(np.float64)
    return out


def child(z_path: str, out_path: str, integer_path: str | None = None) -> None:
    """In this process's environment: u = (log sigma - log s_0) / step of every value, from the saved hyper-latents;
    with `integer_path` (an integer h_s's arrays) that h_s's exact output and table indexes instead."""
    from cae_helpers.codec import _mean_scale, shipped_codec
    from cae_helpers.entropy.tables import scale_positions
    from cae_helpers.integer_hs import IntegerHyperSynthesis

    codec = shipped_codec().with_float_hs()  # the float64 h_s whose jitter this measures (the default ships an integer one)
    zs = np.load(z_path)
    exact = None
    if integer_path:
        with np.load(integer_path) as f:
            exact = IntegerHyperSynthesis.from_npz(f)
    out = {}
    for key in zs.files:
        level16 = codec.level16(int(key.split("q")[-1]))
        if exact is not None:
            out[f"{key} raw"] = exact.raw(zs[key], level16)
            out[f"{key} index"] = exact.indexes(np.split(out[f"{key} raw"], 2, axis=-1)[1], level16)
            continue
        sigma = _mean_scale(codec.hyper_raw(zs[key], level16 / 16), codec.gains(level16 / 16)[0])[1]
        out[key] = scale_positions(sigma)  # what scale_indexes rounds
    np.savez(out_path, **out)
    Path(out_path).with_suffix(".json").write_text(json.dumps(running_on()))


def integer_arrays(path: Path) -> Path:
    """The shipped integer h_s (`hyperprior-exact`'s: the default's network), saved for the children to load as they load a tables.npz."""
    from cae_helpers.codec import shipped_codec

    np.savez(path, **shipped_codec("hyperprior-exact").integer_hs.arrays())
    return path


def running_on() -> dict:
    """What this process runs on: OpenBLAS's kernels and NumPy's enabled AVX-512 / AVX2 dispatch (proof the variables took)."""
    from threadpoolctl import threadpool_info

    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    blas = [f"{i.get('internal_api')} {i.get('architecture')}" for i in threadpool_info() if i.get("user_api") == "blas"]
    return {"blas": blas, "numpy_simd_dispatched": [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]}  # as np.show_runtime


def table_index(u: np.ndarray) -> np.ndarray:
    """The table each u picks (as `scale_indexes` rounds and clips it)."""
    from cae_helpers.entropy.tables import indexes_at

    return indexes_at(u)


def compare(reference: dict, other: dict) -> dict:
    """Indexes that differ, |du| (largest, mean), and the differences expected from |du| over all sets and qualities.

    A value flips where a boundary lies within its |du|; with u's fractional part uniform (density 2 per unit of
    distance to the nearest boundary, `margins` shows it) a value flips with probability about 2 |du|, so the
    expected number of flips is 2 x the sum of |du|.
    """
    flips = sum(int(np.sum(table_index(reference[k]) != table_index(other[k]))) for k in reference)
    du = np.concatenate([np.abs(reference[k] - other[k]).ravel() for k in reference])
    return {"index_differences": flips, "max_abs_du": float(du.max()), "mean_abs_du": float(du.mean()),
            "expected_index_differences": 2 * float(du.sum()), "per_value_flip_probability": 2 * float(du.mean())}


def compare_exact(reference: dict, other: dict) -> dict:
    """The integer h_s's output values that differ in any bit, and the table indexes that differ."""
    differ = lambda suffix: sum(int(np.sum(reference[k] != other[k])) for k in reference if k.endswith(suffix))  # noqa: E731
    return {"values_differing_in_any_bit": differ(" raw"), "index_differences": differ(" index"),
            "values": sum(int(reference[k].size) for k in reference if k.endswith(" raw"))}


def margins(reference: dict) -> dict:
    """Distances of each u between the first and last table (0 < u < 63, where a boundary 0.5 .. 62.5 is nearest; the rest
    are clipped to a table at least half a step from any) to the nearest rounding boundary (a half-integer): the smallest,
    and shares within DISTANCES."""
    m = np.concatenate([np.abs(np.abs(u - np.rint(u)) - 0.5)[(u > 0) & (u < 63)].ravel() for u in reference.values()])
    return {"values": int(m.size), "smallest": float(m.min()),
            "share_within": {f"{d:g}": float(np.mean(m < d)) for d in DISTANCES}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="the CIFAR-100 archive (default: CIFAR100_PATH)")
    parser.add_argument("--images", type=int, default=1000, help="first N CIFAR-100 test images (default 1000)")
    parser.add_argument("--integer-hs", action="store_true", help="run the exact integer h_s in the children instead")
    parser.add_argument("--child", nargs="+", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        z_path = Path(tmp) / "z.npz"
        np.savez(z_path, **hyper_latents(args.data or os.environ.get("CIFAR100_PATH"), args.images))
        integer = [str(integer_arrays(Path(tmp) / "integer.npz"))] if args.integer_hs else []
        results, seen = {}, {}
        for i, (name, extra) in enumerate(ENVIRONMENTS.items()):
            out = Path(tmp) / f"u{i}.npz"
            subprocess.run([sys.executable, __file__, "--child", str(z_path), str(out), *integer], check=True,
                           env=os.environ | extra | {"TF_CPP_MIN_LOG_LEVEL": "3"})
            with np.load(out) as u:
                results[name] = {k: u[k] for k in u.files}
            seen[name] = json.loads(out.with_suffix(".json").read_text())
    reference = results["default"]
    measure = compare_exact if args.integer_hs else compare
    report = {"images": f"first {args.images} CIFAR-100 test images, scikit-learn's two photographs whole",
              "qualities": QUALITIES, "h_s": "integer (cae_helpers.integer_hs)" if args.integer_hs else "float64",
              "default": seen["default"],
              "environments": {name: {"variables": ENVIRONMENTS[name], "ran_on": seen[name]} | measure(reference, u)
                               for name, u in results.items() if name != "default"}}
    if not args.integer_hs:
        report["margins"] = margins(reference)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
