"""Re-save a finished run's Keras model without its optimizer state (about a third of the size), for committing.

    python tools/slim_model.py results/notebook-zen2/run/autoencoder.keras

A finished run (`autoencoder.keras` + `history.json` in a run folder) is loaded, not trained again, by
`cae_helpers.train`; loading needs the weights only, and Adam's two moments per weight add twice their size.
The weights are kept bit for bit (checked before the file is replaced).
"""

import argparse
import os
import tempfile
from pathlib import Path

import keras
import numpy as np

import cae_helpers  # noqa: F401  (registers the package's custom layers for loading)


def slim(path: Path) -> tuple[int, int]:
    """Replace the model at `path` by the same weights without optimizer; (bytes before, bytes after)."""
    model = keras.models.load_model(path, compile=False)  # compile=False: no optimizer, so none is saved
    fd, tmp = tempfile.mkstemp(suffix=".keras", dir=path.parent)
    os.close(fd)
    model.save(tmp)
    again = keras.models.load_model(tmp, compile=False)
    if not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), again.get_weights(), strict=True)):
        os.remove(tmp)
        raise RuntimeError(f"{path}: the re-saved weights differ; the original is left as it was")
    before = path.stat().st_size
    os.replace(tmp, path)
    return before, path.stat().st_size


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help="saved .keras models to slim in place")
    for path in parser.parse_args(argv).models:
        if not path.is_file():
            parser.error(f"no saved model at {path}")
        before, after = slim(path)
        print(f"{path}: {before:,} -> {after:,} bytes")


if __name__ == "__main__":
    main()
