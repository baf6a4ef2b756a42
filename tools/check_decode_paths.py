"""Check that decoding through `predict` (codec.decode_latents) gives the same pixels as direct calls.

    python tools/check_decode_paths.py /path/to/cifar-100-python.tar.gz [weights/learned/lmbda-0.007]

Codes all 10,000 test images with a shipped learned codec, decodes the symbols both ways and
prints the mean PSNR of each and the share of pixels that differ.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cae_helpers.entropy.coder import codec_from_prior, compress, decode_latents, decode_symbols  # noqa: E402
from cae_helpers.data import load_cifar100  # noqa: E402
from cae_helpers.learned import load_learned  # noqa: E402
from cae_helpers.metrics import psnr_per_image  # noqa: E402


def main(data_path: str, codec_dir: str = "weights/learned/lmbda-0.007") -> None:
    images = load_cifar100(data_path).test.images
    model, _ = load_learned(codec_dir)
    codec = codec_from_prior(model.analysis, model.synthesis, model.prior)
    blobs = compress(images, codec)
    latents = np.stack([decode_symbols(b, codec) for b in blobs]).astype(np.float32) * np.float32(codec.step)
    latents = latents.reshape((len(latents),) + tuple(codec.decoder.input.shape[1:]))
    via_predict = decode_latents(codec.decoder, latents)
    direct = np.concatenate([np.asarray(codec.decoder(latents[i:i + 500], training=False), np.float32)
                             for i in range(0, len(latents), 500)])
    direct = np.clip(np.rint(direct * 255.0), 0, 255).astype(np.uint8)
    psnr = lambda rec: float(np.mean(psnr_per_image(images / 255.0, rec / 255.0)))  # noqa: E731
    print(f"{codec_dir}: {len(images)} test images, {8 * np.mean([len(b) for b in blobs]) / 1024:.3f} bpp; "
          f"mean PSNR predict {psnr(via_predict):.4f} dB, direct {psnr(direct):.4f} dB; "
          f"pixels differing {np.mean(via_predict != direct):.6f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
