"""Atomic writes and the provenance (versions, machine) recorded with every results file."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

PACKAGES = ("keras", "tensorflow", "tensorflow-cpu", "jax", "torch", "numpy", "scikit-image", "pillow", "constriction")


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call write(tmp_path) on a file beside `path`, then rename it over `path` (a kill leaves no half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the temporary name ends in the real name: Keras checks suffixes such as ".weights.h5"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=f"-{path.name}")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are for everyone to read
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write `obj` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False, default=_jsonable) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def _jsonable(value: Any) -> Any:
    """NumPy scalars and arrays, paths -> plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def save_model(model, path: str | os.PathLike) -> Path:
    """Save a Keras model in the .keras format, atomically."""
    return atomic_write(path, model.save)


def command_line(prog: str, argv: list[str] | None) -> str:
    """The shell command that ran `prog` with `argv` (sys.argv[1:] when None), quoted to be pasted back."""
    import shlex

    return " ".join([prog] + [shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)])


def versions() -> dict[str, str]:
    """Python, platform, Keras backend and the installed versions of the packages that matter."""
    import keras

    found = {"python": sys.version.split()[0], "platform": platform.platform(), "keras_backend": keras.backend.backend()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    found["git_commit"] = _git_commit()
    found["cpu"] = _cpu_name()
    found["cpu_count"] = str(os.cpu_count())
    if "tensorflow" in sys.modules:  # whether its oneDNN kernels ran (speed figures differ by up to 1.9x on one CPU)
        from .conv_grads import onednn_on

        found["tensorflow_onednn"] = str(onednn_on())
    return found


def _git_commit() -> str:
    """The commit of the checkout holding this package, "+dirty" with uncommitted changes; "unknown" outside git."""
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit + ("+dirty" if dirty else "")) if commit else "unknown"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up log lines (oneDNN, CPU features) kept off stderr.

    They are written by absl before any log level applies, so stderr is pointed at
    /dev/null at the file-descriptor level for the import only. Set CAE_TF_LOGS=1 to see them.
    """
    if os.environ.get("CAE_TF_LOGS") or "tensorflow" in sys.modules or os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf
    except ImportError:  # another backend: nothing to silence
        return
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    tf.get_logger().setLevel("ERROR")  # e.g. retracing notes when a file codec meets images of new sizes
