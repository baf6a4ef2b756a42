"""The learned codec a user calls: `pretrained_codec(quality)`, then `compress` / `decompress`.

    codec = cae_helpers.pretrained_codec(quality=4)   # 1 (fewest bytes) .. 8 (best quality)
    blobs = codec.compress(images)                    # uint8 (N, H, W, 3) -> list[bytes]
    images = codec.decompress(blobs)                  # -> uint8 (N, H, W, 3)

`HyperpriorCodec` wraps a trained `hyperprior.HyperpriorModel` with its integer tables
(built once by `HyperpriorCodec.from_model`, shipped with the weights). Per image:
y = g_a(x) * gain, z = round(h_a(y) * zgain) coded under per-channel tables, then
(mu, sigma) = h_s(z) computed in NumPy float64 from the shipped float16 weights, so both
sides compute them the same way whatever the Keras backend or precision (or, where the codec
ships an integer h_s, `integer_hs`, exactly: the same tables on every machine by construction);
each symbol round(y - mu) is coded under the table of scales nearest sigma (or, by default, the integer next to
y - mu with fewer bits + a weight x its squared error: `entropy.rounding`). The decoder adds mu back and
runs g_s. A model with channel context (`context_slices` S > 1) codes y in S channel slices,
each slice's (mu, sigma) refined in NumPy float64 from the slices already decoded
(`_latent_chain`, the mirror of `HyperpriorModel.latent_parameters`). A model with `coded_channels`
C < M codes y's first C channels (shapes below: C); its hyper-analysis reads all M. Where the codec ships
mean-colour tables, the encoder then takes the pixels its bytes decode to (through the synthesis from the symbols in
hand) and adds each 32x32 block's mean error where that lowers the image's loss (`colour`). Byte format: `entropy.container`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import colour as colour_
from . import rescale as rescale_
from . import tiling
from .entropy import container
from .entropy.adaptive import AdaptiveZCoder
from .entropy.context import ContextZCoder
from .entropy.rounding import RD_ROUNDING_WEIGHT, rd_round
from .entropy.tables import TableCoder, bin_mean_offsets, gaussian_tables, mix_level_tables, quantise_pmf, scale_indexes
from .errors import CodecError, OtherModelError, StateCheckError
from .integer_hs import LAYERS as HS_LAYERS, IntegerHyperSynthesis
from .numpy_convs import conv_same
from .pixels import to_float, to_uint8

if TYPE_CHECKING:
    from .refine import RefineSettings

ZOO = Path(__file__).resolve().parent / "zoo"
DEFAULT_MODEL = "hyperprior-exact"  # hyperprior-continuous's weights and tables with h_s in exact integer arithmetic,
# the default from 2026-12-07; "hyperprior-continuous" (hyperprior-coded-long trained 20 epochs more on quality levels
# drawn from a continuous range) from 2026-12-06, "hyperprior-coded-long" (hyperprior-coded, 40 of 128 latent channels
# coded, trained 100 epochs more) from 2026-12-05, "hyperprior-coded" until then, "hyperprior" (all 128 channels) until
# 2026-12-02: each still decodes the strings it made
Z_TAIL = 1e-9
PAD_MULTIPLE = 16  # images are edge-padded to multiples of the transforms' total stride (16: y at 1/4, z at 1/16)
REFINE_PIXELS = 256 * 32 * 32  # padded pixels refined at once (memory of one backward pass through the decoder)


@dataclass
class HyperpriorCodec:
    """A trained hyperprior model plus its shipped integer tables: compress / decompress real bytes."""

    model: object  # hyperprior.HyperpriorModel
    z_tables: np.ndarray  # (Nz, n) integer frequencies of z - z_low, per channel
    z_low: int
    y_tables: list[np.ndarray] = field(default_factory=gaussian_tables)
    batch_size: int = 256
    # per level, how far versions 10-15 move each value from its bin's centre toward its bin's mean (1: all the way);
    # fitted on held-out training images (tools/fit_bin_means.py), shipped in tables.npz; None: 1 at every level
    bin_mean_weights: np.ndarray | None = None
    # per level, z's own integer tables (L, Nz, n), as z_tables; fitted on held-out training images (tools/fit_z_levels.py),
    # shipped in tables.npz; where present `compress` writes versions 19-21 and codes z under them; None: versions 13-15
    z_level_tables: np.ndarray | None = None
    # per level, the mean-colour corrections' integer table (L, 2 R + 2) (`colour`; tools/fit_colour_levels.py), shipped in
    # tables.npz; where present `compress` adds corrections where they pay (versions 22-24); None: never
    colour_level_tables: np.ndarray | None = None
    # h_s in exact integer arithmetic (`integer_hs`), shipped in tables.npz: where present both sides compute h_s and the
    # table indexes with it (the same tables on every machine by construction); None: h_s in float64 (`numpy_convs`)
    integer_hs: IntegerHyperSynthesis | None = None
    # the encoder's choice of each latent symbol (`entropy.rounding.rd_round`): bits + weight x squared error over the two
    # integers around y - mu; 0: the nearest integer (as every codec encoded before 2026-12-08). Decoding ignores it.
    rounding_weight: float = RD_ROUNDING_WEIGHT

    # --- construction -----------------------------------------------------------------
    @classmethod
    def from_model(cls, model, tail: float = Z_TAIL) -> "HyperpriorCodec":
        """Build the integer tables from a trained model (CompressAI's `update()`)."""
        wide = model.z_prior.pmf_table(-256, 256)  # (Nz, 513)
        inside = np.flatnonzero(wide.max(axis=0) > tail)
        lo, hi = -256 + int(inside[0]), -256 + int(inside[-1])
        z_tables = np.stack([quantise_pmf(p) for p in model.z_prior.pmf_table(lo, hi)])
        return cls(model, z_tables, lo)

    @classmethod
    def load(cls, directory) -> "HyperpriorCodec":
        """A codec saved by `save` (weights.npz, config.json, tables.npz); no network needed."""
        from .hyperprior import load_hyperprior

        directory = Path(directory)
        if not (directory / "tables.npz").is_file():
            raise FileNotFoundError(f"{directory / 'tables.npz'} is missing: not a codec saved by HyperpriorCodec.save")
        model = load_hyperprior(directory)
        with np.load(directory / "tables.npz") as f:
            y_tables = [f[f"y{j}"] for j in range(int(f["y_count"]))]
            weights = np.asarray(f["bin_mean_weights"], np.float64) if "bin_mean_weights" in f.files else None
            levels = np.asarray(f["z_levels"], np.int64) if "z_levels" in f.files else None
            colours = np.asarray(f["colour_levels"], np.int64) if "colour_levels" in f.files else None
            return cls(model, f["z"], int(f["z_low"]), y_tables, bin_mean_weights=weights, z_level_tables=levels,
                       colour_level_tables=colours, integer_hs=IntegerHyperSynthesis.from_npz(f))

    def save(self, directory, info: dict | None = None) -> None:
        """weights.npz and config.json (float16 weights), tables.npz (the integer tables both sides use)."""
        from .hyperprior import save_hyperprior

        save_hyperprior(self.model, directory, info)
        self.save_tables(directory)

    def save_tables(self, directory) -> None:
        """tables.npz alone: the integer tables and the bin-mean weights, what decoding needs besides the weights."""
        from .io import atomic_write

        arrays = {"z": self.z_tables, "z_low": self.z_low, "y_count": len(self.y_tables)}
        arrays |= {f"y{j}": t for j, t in enumerate(self.y_tables)}
        if self.bin_mean_weights is not None:
            arrays["bin_mean_weights"] = np.asarray(self.bin_mean_weights, np.float64)
        if self.z_level_tables is not None:
            arrays["z_levels"] = np.asarray(self.z_level_tables, np.int64)
        if self.colour_level_tables is not None:
            arrays["colour_levels"] = np.asarray(self.colour_level_tables, np.int64)
        if self.integer_hs is not None:
            arrays |= self.integer_hs.arrays()

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)

        atomic_write(Path(directory) / "tables.npz", write)

    # --- fixed parts, computed once -------------------------------------------------------
    @property
    def levels(self) -> int:
        """Number of trained quality levels; quality runs from 1 to this."""
        return self.model.config.levels

    @cached_property
    def hs_weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """h_s's (kernel, bias) per layer in float64, in `integer_hs.LAYERS`' order."""
        return [(np.asarray(layer.kernel, np.float64), np.asarray(layer.bias, np.float64))
                for layer in self.model.hyper_synthesis.layers if hasattr(layer, "kernel")]

    @cached_property
    def _context_weights(self) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        return [[(np.asarray(layer.kernel, np.float64), np.asarray(layer.bias, np.float64))
                 for layer in net.layers if hasattr(layer, "kernel")] for net in self.model.context]

    @cached_property
    def _log_gains(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(self.model.y_gain.log_gains, np.float64), np.asarray(self.model.z_gain.log_gains, np.float64))

    @cached_property
    def model_id(self) -> bytes:
        return container.model_id(self._identity_arrays)

    @cached_property
    def level_model_id(self) -> bytes | None:
        """The identity versions 16-18 carry: the first 2 bytes of `level_identity` (None: the codec has no per-level tables)."""
        return None if self.level_identity is None else self.level_identity[:2]

    @cached_property
    def level_identity(self) -> bytes | None:
        """SHA-256 over `model_id`'s arrays and the per-level z tables: what versions 19-21's check word covers (None: no such tables)."""
        if self.z_level_tables is None:
            return None
        return container.identity_digest(self._identity_arrays + [np.asarray(self.z_level_tables, np.int64)])

    def _coder(self, header: container.Header):
        """An ANS coder to push a byte string's values onto: started from the check word in versions 19-21, else empty."""
        import constriction

        if not header.state_check:
            return constriction.stream.stack.AnsCoder()
        return constriction.stream.stack.AnsCoder(np.array([self._state_word(header)], np.uint32))

    def _state_word(self, header: container.Header) -> int:
        """The check word a byte string of versions 19-24 with this header starts from (and its decoder must end at)."""
        if self.level_identity is None:
            raise CodecError("versions 19 to 21 need per-level z tables, which this codec does not have")
        return container.state_word(self.level_identity, header)

    def _check_end(self, coder, header: container.Header) -> None:
        """CodecError unless the decoder used exactly the payload: left empty (versions 3-18) or holding only the check word (19-24)."""
        if not header.state_check:
            _check_empty(coder)
            return
        left = [int(w) for w in coder.get_compressed()]
        if left != [self._state_word(header)]:
            raise StateCheckError(f"the byte string fails its check (format version {container.version_of(header.head) or 'of this header'}: "
                                  "the decoder did not end at the check word the model and header give): it is damaged, truncated "
                                  "or extended, or was made by another model than this codec's")

    @property
    def _identity_arrays(self) -> list[np.ndarray]:
        """What `model_id` hashes: every weight, the z tables and offset, the y tables, and the integer h_s where shipped."""
        weights = [w for part in self.model.parts().values() for w in part.get_weights()]
        exact = [] if self.integer_hs is None else self.integer_hs.identity_arrays()
        return weights + [self.z_tables, np.array([self.z_low])] + list(self.y_tables) + exact

    def z_level_table(self, level16: int) -> np.ndarray:
        """(Nz, n) int64 z tables at a quality byte: its level's own, or the two levels' around it mixed in sixteenths (`mix_level_tables`)."""
        return mix_level_tables(self.z_level_tables, level16)

    @cached_property
    def _level_z_coders(self) -> dict[int, ContextZCoder]:
        return {}

    def _level_z_coder(self, level16: int) -> ContextZCoder:
        """z per context under the tables of a quality byte (versions 16-21), built once per quality byte."""
        if level16 not in self._level_z_coders:
            self._level_z_coders[level16] = ContextZCoder(self.z_level_table(level16))
        return self._level_z_coders[level16]

    def _z_writer(self, level16: int) -> ContextZCoder:
        """The z coder `compress` uses at a quality byte: the level's own tables where the codec has them, else the shared ones."""
        return self.z_context if self.z_level_tables is None else self._level_z_coder(level16)

    def _z_reader(self, header: container.Header) -> ContextZCoder:
        """The z coder a byte string of z per context names: its level's tables (versions 16-21) or the shared ones."""
        return self._level_z_coder(header.level16) if header.level_z else self.z_context

    def _header(self, level16: int, height: int, width: int, tiled: bool = False, scale16: int = 16) -> container.Header:
        """The header `compress` writes: versions 19-21 (check word under the ANS state) where the codec has per-level z tables, else 13-15."""
        if self.z_level_tables is None:
            return container.Header(self.model_id, level16, height, width, tiled, scale16=scale16)
        header = container.Header(b"", level16, height, width, tiled, scale16=scale16, level_z=True, state_check=True)
        return replace(header, head=container.state_head(header))

    @property
    def writes_colour(self) -> bool:
        """Whether `compress` adds mean-colour corrections where they pay: tables for them, and versions 19-21 to add them to."""
        return self.colour_level_tables is not None and self.z_level_tables is not None  # saved: COLOUR_KEYS in tables.npz

    @cached_property
    def colour_coder(self) -> "colour_.ColourCoder | None":
        """The mean-colour corrections' coder (versions 22-24); None where the codec ships no tables for them."""
        return None if self.colour_level_tables is None else colour_.ColourCoder(self.colour_level_tables)

    @cached_property
    def y_coder(self) -> TableCoder:
        return TableCoder(self.y_tables, centred=True)

    @cached_property
    def z_coder(self) -> TableCoder:
        """z under the fixed tables: byte format versions 3 and 4 (decoded, no longer written)."""
        return TableCoder(list(self.z_tables), centred=False)

    @cached_property
    def z_rows(self) -> AdaptiveZCoder:
        """z under the tables adapted row by row to the rows before: versions 5 and 6 (decoded, no longer written)."""
        return AdaptiveZCoder(self.z_tables)

    @cached_property
    def z_context(self) -> ContextZCoder:
        """z under counts kept per context of the neighbours already coded: versions 7, 8 and 10 to 12 (what `compress` writes)."""
        return ContextZCoder(self.z_tables)

    @cached_property
    def _min_bits(self) -> tuple[float, dict[str, float]]:
        """Fewest bits any y value and any z position (all channels, per z coding) can cost: a payload's floor."""
        y = min(-np.log2(t.max() / t.sum()) for t in self.y_tables)
        z = sum(-np.log2(t.max() / t.sum()) for t in self.z_tables)
        return float(y), {"fixed": float(z), "rows": self.z_rows.floor_bits, "context": self.z_context.floor_bits}

    def _check_payload_size(self, header: container.Header, words: np.ndarray) -> None:
        """Refuse a header whose image needs more bits than the payload has, before decoding anything.

        Every coded value costs at least -log2 of its table's largest probability, so the declared
        size sets a floor on the payload (1 % and 64 bits of slack for ANS's final state); a mutated
        or hostile size fails here instead of decoding a large image out of a few bytes.
        """
        y_shape, z_shape = self._latent_shapes(header)
        y_bits, z_floor = self._min_bits
        z_bits = self._z_reader(header).floor_bits if header.z_coding == "context" else z_floor[header.z_coding]
        floor = np.prod(y_shape) * y_bits + np.prod(z_shape[:-1]) * z_bits
        if 32 * len(words) + 64 < 0.99 * floor:
            raise CodecError(f"a {header.height}x{header.width} image needs at least {floor / 8:,.0f} bytes of payload, "
                             f"this one has {4 * len(words):,}: corrupt header")

    def _check_level_and_size(self, header: container.Header, words: np.ndarray) -> None:
        """CodecError for a quality byte past the model's levels or a payload too short for the header's size (`_check_payload_size`)."""
        if header.level16 > (self.levels - 1) * 16:
            raise CodecError(f"quality byte {header.level16} is past this model's {self.levels} levels")
        self._check_payload_size(header, words)

    def _latent_shapes(self, header: container.Header) -> tuple[tuple, tuple]:
        """(y shape, z shape) a payload holds: (H/4, W/4, C), (H/16, W/16, Nz) of the padded image, or per tile (T, 8, 8, C), (T, 2, 2, Nz)."""
        c, nz = self.model.config.coded, self.z_tables.shape[0]
        if header.tiled:
            t = int(np.prod(tiling.tile_grid(header.height, header.width)))
            return (t, tiling.TILE // 4, tiling.TILE // 4, c), (t, tiling.TILE // 16, tiling.TILE // 16, nz)
        hp, wp = _padded_sides(header.height, header.width)
        return (hp // 4, wp // 4, c), (hp // 16, wp // 16, nz)

    def gains(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(y gain (C,) of the coded channels, z gain (Nz,)) at a level in [0, K - 1], float64."""
        gy, gz = self._all_gains(level)
        return gy[:self.model.config.coded], gz

    def _all_gains(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(y gain (M,) of every analysis channel, as the hyper-analysis reads them, z gain (Nz,)), log-linear between levels."""
        log_gy, log_gz = self.log_gains_at(level)
        return np.exp(log_gy), np.exp(log_gz)

    def log_gains_at(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(log y gain (M,), log z gain (Nz,)) at a level: linear between the trained levels' log-gains (IEEE +, x only)."""
        out = []
        for log_g in self._log_gains:
            lo = int(np.floor(level))
            hi, t = min(lo + 1, len(log_g) - 1), level - lo
            out.append((1 - t) * log_g[lo] + t * log_g[hi])
        return out[0], out[1]

    def bin_mean_weight(self, level: float) -> float:
        """How far (0..) versions 10-15 move a value from its bin's centre toward its mean at `level`: linear between levels."""
        if self.bin_mean_weights is None:
            return 1.0
        return float(np.interp(level, np.arange(len(self.bin_mean_weights)), self.bin_mean_weights))

    def hyper_raw(self, z_hat: np.ndarray, level: float) -> np.ndarray:
        """h_s's output (N, 4h, 4w, 2C): ungained mean and log-scale of y, from integer z_hat (N, h, w, Nz), in NumPy float64.

        With an integer h_s, its exact output (a level on the quality bytes' grid of sixteenths only).
        """
        if self.integer_hs is not None:
            return self.integer_hs.raw(z_hat, _level16_of(level))
        h = z_hat / self.gains(level)[1]
        for (conv, relu), (k, b) in zip(HS_LAYERS, self.hs_weights):
            h = conv(h, k, b)
            h = np.maximum(h, 0) if relu else h
        return h

    def with_float_hs(self) -> "HyperpriorCodec":
        """The same codec with h_s in float64 from its float weights (another identity: for probes comparing the two)."""
        return replace(self, integer_hs=None)

    def hyper_parameters(self, z_hat: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(mu, sigma) of the gained latent from integer z_hat (N, h, w, Nz), before any channel context."""
        return _mean_scale(self.hyper_raw(z_hat, level), self.gains(level)[0])

    def hyper_rows(self, z_hat: np.ndarray, level: float, start: int, stop: int) -> np.ndarray:
        """`hyper_raw` of latent rows [start, stop) of one image from its integer z_hat (h, w, Nz), computed on the z rows they need.

        Both sides call it with the same rows (`tiling.coding_strips`), so encoder and decoder see identical values.
        """
        return tiling.rows_of(lambda z: self.hyper_raw(z, level), z_hat[None], 4, start, stop, halo=16)[0]  # radius 12 y rows

    def mean_and_indexes(self, raw: np.ndarray, gain: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(mu, table index) of gained latents from h_s's output (..., 2C) and the gain (C,): by the integer h_s's rule where shipped."""
        if self.integer_hs is not None:
            mu_raw, log_sigma = np.split(raw, 2, axis=-1)
            return mu_raw * gain, self.integer_hs.indexes(log_sigma, _level16_of(level))
        mu, sigma = _mean_scale(raw, gain)
        return mu, scale_indexes(sigma)

    def _latent_chain(self, raw: np.ndarray, level: float, quantise) -> np.ndarray:
        """y_hat / gy (N, h, w, C), the synthesis' input, slice by slice from h_s's output `raw` (N, h, w, 2C); NumPy float64.

        quantise(s, mu_s, table_index_s) -> y_hat_s of slice s (the encoder rounds and records symbols,
        the decoder pops them); slice s > 0 first adds its context network's residual, computed
        from the slices before it (zero-padded at the edges of `raw`'s rows, on both sides).
        """
        k, gy = self.model.config.slices, self.gains(level)[0]
        mus, log_sigmas = (np.split(p, k, axis=-1) for p in np.split(raw, 2, axis=-1))
        gains, seen = np.split(gy, k), []
        for s in range(k):
            p = np.concatenate([mus[s], log_sigmas[s]], axis=-1)
            if s:
                (k0, b0), (k1, b1) = self._context_weights[s - 1]
                h = np.maximum(conv_same(np.concatenate([p] + seen, axis=-1), k0, b0), 0)
                p = p + conv_same(h, k1, b1)
            y_hat = quantise(s, *self.mean_and_indexes(p, gains[s], level))
            seen.append(y_hat / gains[s])
        return np.concatenate(seen, axis=-1)

    def _slices(self, values: np.ndarray) -> list[np.ndarray]:
        """The channel slices of y-shaped values (..., C), in coding order."""
        return np.split(values, self.model.config.slices, axis=-1)

    def _latent_symbols(self, y: np.ndarray, raw: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(symbols, table indexes, mu) of gained latents y (N, h, w, C) given h_s's output for them (the encoder's chain)."""
        y_s, sym, idx, mu = self._slices(y), [], [], []

        def quantise(s: int, m: np.ndarray, index: np.ndarray) -> np.ndarray:
            sym.append(self._rounded(y_s[s] - m, index, level))
            idx.append(index)
            mu.append(m)
            return sym[-1] + m

        self._latent_chain(raw, level, quantise)
        return np.concatenate(sym, -1).astype(np.int64), np.concatenate(idx, -1), np.concatenate(mu, -1)

    def _rounded(self, r: np.ndarray, indexes: np.ndarray, level: float) -> np.ndarray:
        """The symbols (float64, the shape of r) the encoder codes for values r = y - mu under table `indexes` at `level`."""
        toward = self.bin_mean_weight(level) if self.rounding_weight > 0 else 0.0  # where the decoder puts each symbol
        return rd_round(r, indexes, self.y_coder, self.rounding_weight, toward)

    # --- quality <-> level ------------------------------------------------------------------
    def level16(self, quality: float) -> int:
        """The header's quality byte: (quality - 1) x 16, checked against the trained range."""
        if not 1 <= quality <= self.levels:
            raise ValueError(f"quality must be in 1..{self.levels}, got {quality!r}")
        return int(round((quality - 1) * 16))

    @property
    def tiles_by_default(self) -> bool:
        """Whether larger images are coded as 32x32 tiles by default: the model never saw inputs larger than 32x32.

        Such a model's hyperprior meets interior positions only on larger images, and its rate there
        is far off (measured: +235 % BD-rate against WebP whole, +25 % in tiles, on scikit-learn's photos).
        """
        return not self.model.config.large_patch

    # --- coding ---------------------------------------------------------------------------------
    def compress(self, images: np.ndarray, quality: float = 4, progress: bool = False, tiles: bool | None = None,
                 refine: "int | RefineSettings" = 0, rescale: "str | float | None" = None,
                 max_bytes: int | None = None, colour: bool = True, rounding: float | None = None) -> list[bytes]:
        """One byte string per uint8 image (N, H, W, 3), any H and W (padded to a multiple of 16 and cropped back).

        `max_bytes`: a budget per image: each image is coded at the highest quality, in 1/16 steps up to
        `quality`, whose byte string a bisection finds within it (`compress_within`).

        `tiles`: code each image as independent 32x32 tiles (byte format version 14; 17 with per-level z
        tables) or whole (version 13; 16); None: whole, except that a codec trained on 32x32 inputs alone
        (`tiles_by_default`) codes images larger than one tile as tiles. Whole images up to one
        megapixel go through the networks in batches; larger ones
        one at a time in strips (`tiling`), so memory stays bounded by the strip size, not the image
        size (`progress`: a bar over those strips, tile groups or refinement steps).

        `refine`: Adam steps of encoder-side latent refinement (`refine.RefineSettings` for the
        other knobs; 0: none). Same decoder and byte format, fewer bytes and higher PSNR, at about
        the cost of a training step per image per step (images up to one megapixel).

        `rescale`: code each image whole at a smaller size, resized back by the decoder (byte format
        version 15, 18 with per-level z tables, `rescale`): a scale such as 0.75 or 0.5, or "auto" to let the encoder choose per
        image among full size, 3/4 and 1/2 by rate-distortion cost, less a size that pads to the same
        latent grid as a larger one (3/4 of a 32x32 image; `rescale.distinct_grids`): about 2.5x the
        encoding time; pays at low rates, most on photographs. None: full size.

        `colour`: where the codec ships tables for them (`colour_level_tables`), take each byte string's decoded pixels
        and add a mean-colour correction per 32x32 block where it lowers the image's loss, bits/pixel + lambda x MSE
        (byte format versions 22-24, `with_colour`); pays on smooth content from about quality 3. The pixels come from
        the encoder's own symbols through the synthesis (images up to a megapixel coded whole; free where the size
        choice made them) or, for tiles and larger images, from a decode. False: versions 19-21 as before.

        `rounding`: the weight of rate-distortion rounding (`entropy.rounding.rd_round`; 0: each latent value to the
        nearest integer, as before 2026-12-08); None: the codec's `rounding_weight`. The same decoder and byte format.
        """
        if rounding is not None and _checked_rounding(rounding) != self.rounding_weight:
            return replace(self, rounding_weight=float(rounding)).compress(
                images, quality, progress, tiles, refine, rescale, max_bytes, colour)
        if max_bytes is not None:
            return self.compress_within(images, max_bytes, quality, progress=progress, tiles=tiles, refine=refine,
                                        rescale=rescale, colour=colour)
        images = _checked_batch(images)
        colour = colour and self.writes_colour
        blobs, decoded = self._compress_plain(images, quality, progress, tiles, refine, rescale, decode=colour)
        return self.with_colour(images, blobs, quality, progress, decoded) if colour else blobs

    def _compress_plain(self, images: np.ndarray, quality: float, progress: bool, tiles: bool | None,
                        refine: "int | RefineSettings", rescale: "str | float | None", decode: bool = False) -> tuple[list[bytes], list]:
        """`compress` without a budget or colour corrections: (one byte string per image of a checked batch, each one's
        decoded image (H, W, 3) where it came for free: from the encoder's own symbols (`decode`, or to choose a size)
        for images coded whole in batches; else None)."""
        code = self.level16(quality)
        settings = _refine_settings(refine)
        scales = rescale_.candidate_scales(rescale)
        height, width = images.shape[1:3]
        if tiles is None:
            tiles = self.tiles_by_default and (height > tiling.TILE or width > tiling.TILE) and scales == (16,)
        if tiles and scales != (16,):
            raise ValueError("rescale codes images whole: it cannot be combined with tiles")
        header = self._header(code, height, width, bool(tiles))
        if scales != (16,):
            return self._compress_rescaled(images, code, scales, settings, progress, decode)
        if tiles:
            blobs = [container.pack(header, self._compress_tiled(image, header, progress, settings)) for image in images]
            return blobs, [None] * len(blobs)
        words, decoded = self._whole_coded(images, header, settings, progress, decode)
        return [container.pack(header, w) for w in words], _rows_or_nones(decoded, len(words))

    def compress_within(self, images: np.ndarray, max_bytes: int, quality: float | None = None, **options) -> list[bytes]:
        """One byte string per image, each at most `max_bytes` long: the highest quality up to `quality` (default: the top) that fits.

        Per image, a bisection over the quality bytes 0 .. (quality - 1) x 16 (1/16 steps): about 7 codings of
        each image instead of 1. Bytes grow with quality almost always; where they do not, the string found
        still fits, at a quality that may not be the highest that would. `options`: `compress`'s tiles,
        refine, rescale, colour, progress. ValueError, naming them, if some images do not fit even at quality 1.
        """
        images = _checked_batch(images)
        _check_max_bytes(max_bytes)
        top = self.level16(self.levels if quality is None else quality)
        found: list[bytes | None] = [None] * len(images)
        low = np.full(len(images), -1)  # the highest quality byte known to fit (-1: none yet)
        high = np.full(len(images), top + 1)  # the lowest known not to
        todo, mid = np.arange(len(images)), np.full(len(images), top)  # first every image at the top quality
        while todo.size:
            for level16 in np.unique(mid):
                rows = todo[mid == level16]
                for i, blob in zip(rows, self.compress(images[rows], 1 + level16 / 16, **options)):
                    if len(blob) <= max_bytes:
                        low[i], found[i] = level16, blob
                    else:
                        high[i] = level16
            todo = np.flatnonzero(high - low > 1)
            mid = (low[todo] + high[todo]) // 2
        misses = [i for i, blob in enumerate(found) if blob is None]
        if misses:
            raise ValueError(f"{len(misses)} of {len(images)} images do not fit in {max_bytes} bytes even at quality 1 "
                             f"(images {misses[:10]}{' ...' if len(misses) > 10 else ''}): give them more bytes")
        return found

    def with_colour(self, images: np.ndarray, blobs: list[bytes], quality: float, progress: bool = False,
                    decoded: list | None = None) -> list[bytes]:
        """Byte strings of versions 19-21 of images (N, H, W, 3), each with mean-colour corrections added where they pay (22-24).

        Each string is decoded as the decoder will; the corrections (`colour.corrections`) are pushed on top of its ANS
        stack, and the longer string kept where its loss, bits/pixel + lambda x 255^2 x MSE of [0, 1] pixels at
        `quality`'s lambda, is lower. The rest are returned as they came (`progress`: the decoder's bar, for large images).
        `decoded`: each string's decoded image (H, W, 3) where the caller has it already, else None (decoded here).
        """
        if not self.writes_colour:
            raise ValueError("this codec cannot add mean-colour corrections: it needs their tables (colour_level_tables) and "
                             "per-level z tables (versions 19-21 to add them to)")
        lmbda = self.lmbda(self.level16(quality) / 16)
        decoded = list(decoded) if decoded is not None else [None] * len(blobs)
        todo = [i for i, back in enumerate(decoded) if back is None]
        if todo:
            for i, back in zip(todo, self.decompress([blobs[i] for i in todo], progress)):
                decoded[i] = back
        return [self._colour_corrected(image, blob, back, lmbda) for image, blob, back in zip(images, blobs, decoded)]

    def _colour_corrected(self, image: np.ndarray, blob: bytes, decoded: np.ndarray, lmbda: float) -> bytes:
        """One byte string with its corrections (version 22-24) if they lower its loss, else as it came."""
        header, words = container.unpack(blob, self.model_id, self.level_model_id)
        if not header.state_check or header.colour:
            raise ValueError(f"mean-colour corrections go on byte strings of versions 19-21, not {container.version_of(blob)}")
        symbols = colour_.corrections(image, decoded)  # (bh, bw, 3)
        if not symbols.any():
            return blob
        import constriction

        coder = constriction.stream.stack.AnsCoder(words)
        self.colour_coder.push(coder, symbols, header.level16)
        corrected_header = replace(header, colour=True, head=b"")
        longer = container.pack(corrected_header, coder.get_compressed())
        before = rescale_.loss(image, decoded, len(blob), lmbda)
        after = rescale_.loss(image, colour_.apply(decoded, symbols), len(longer), lmbda)
        return longer if after < before else blob

    def _whole_words(self, images: np.ndarray, header: container.Header, settings: "RefineSettings | None",
                     progress: bool) -> list[np.ndarray]:
        """Payload words of images (N, H, W, 3) coded whole under `header` (its quality byte, its check word): batched, or in strips if large."""
        return self._whole_coded(images, header, settings, progress)[0]

    def _whole_coded(self, images: np.ndarray, header: container.Header, settings: "RefineSettings | None",
                     progress: bool, decode: bool = False) -> tuple[list[np.ndarray], "np.ndarray | None"]:
        """(`_whole_words`, and where `decode` and the images go through the networks in one batch, the uint8 images
        (N, H, W, 3) the decoder will give, from the symbols in hand: no entropy decoding, no second h_s; else None)."""
        height, width = images.shape[1:3]
        if _padded_pixels(height, width) > tiling.NETWORK_STRIP_PIXELS:
            if settings:
                raise ValueError(f"latent refinement takes images up to {tiling.NETWORK_STRIP_PIXELS:,} pixels (after padding to "
                                 f"multiples of 16); this one is {height}x{width}: compress it without refinement, or as tiles")
            return [self._compress_large(image, header, progress) for image in images], None
        level = header.level16 / 16
        y_sym, y_idx, z_sym, mu = self._analysed(images, level, settings, progress)
        words = self._payloads(y_sym, y_idx, z_sym, header)
        if not decode:
            return words, None
        x = self.model.synthesis.predict(self.synthesis_input(y_sym, y_idx, mu, level), batch_size=self.batch_size, verbose=0)
        return words, to_uint8(np.asarray(x, np.float32))[:, :height, :width]  # as `_decompress_batch` gives them

    def _compress_rescaled(self, images: np.ndarray, code: int, scales: tuple[int, ...], settings: "RefineSettings | None",
                           progress: bool, decode: bool = False) -> tuple[list[bytes], list]:
        """Images (N, H, W, 3) each coded whole at the scale (in sixteenths) of least loss at quality byte `code`, refined after the choice.

        Each candidate scale is coded and decoded for the whole batch at once (decoded from the encoder's symbols where
        the copies are coded in one batch); the choice is per image. Returns the byte strings and each one's decoded
        image (H, W, 3) where it came for free (a choice, or `decode` for a fixed scale; None: refined after the choice,
        or a copy coded in strips).
        """
        # a copy that pads to a larger copy's grid is not worth coding (one fixed scale passes unchanged)
        scales = rescale_.distinct_grids(scales, *images.shape[1:3], PAD_MULTIPLE)
        if len(scales) == 1:  # a fixed scale: nothing to choose, so each copy is coded once (refined or not)
            header, smalls = self._rescaled_copies(images, code, scales[0])
            words, shown = self._whole_coded(smalls, header, settings, progress, decode)
            return [container.pack(header, w) for w in words], _rows_or_nones(self._resized_back(shown, header), len(words))
        candidates = [self._rescaled_candidate(images, code, k, progress) for k in scales]  # [(header, copies, byte strings, shown)]
        lmbda = self.lmbda(code / 16)
        costs = np.stack([self._rescaled_losses(images, blobs, lmbda, shown) for _, _, blobs, shown in candidates])  # (S, N)
        choice = np.argmin(costs, axis=0)  # ties keep the earlier (larger) scale
        chosen: list[bytes] = [b""] * len(images)
        decoded: list = [None] * len(images)
        for c, (header, smalls, blobs, shown) in enumerate(candidates):
            rows = np.flatnonzero(choice == c)
            if settings and len(rows):  # refine the chosen copies (the choice is made on plain latents: refinement costs far more)
                refined = self._whole_words(smalls[rows], header, settings, progress)
                blobs = dict(zip(rows, (container.pack(header, words) for words in refined)))
            for i in rows:
                chosen[i], decoded[i] = blobs[i], None if settings or shown is None else shown[i]
        return chosen, decoded

    def _rescaled_copies(self, images: np.ndarray, code: int, k: int) -> tuple[container.Header, np.ndarray]:
        """(header, copies (N, h, w, 3)) of images resized to k / 16 of each side, the header at the level of lambda / s^2."""
        height, width = images.shape[1:3]
        level16 = code if k == 16 else rescale_.level16_at_scale(self.model.config.lambdas, code, k)
        header = self._header(level16, height, width, scale16=k)
        coded = header.coded()
        return header, np.stack([rescale_.resize(image, coded.height, coded.width) for image in images])

    def _rescaled_candidate(self, images: np.ndarray, code: int, k: int, progress: bool) -> tuple:
        """(header, copies (N, h, w, 3), byte strings, what the decoder shows (N, H, W, 3) or None: copies coded in strips)
        of images coded plain at k / 16 of each side (`_rescaled_copies`)."""
        header, smalls = self._rescaled_copies(images, code, k)
        words, shown = self._whole_coded(smalls, header, None, progress, decode=True)
        return header, smalls, [container.pack(header, w) for w in words], self._resized_back(shown, header)

    @staticmethod
    def _resized_back(smalls: "np.ndarray | None", header: container.Header) -> "np.ndarray | None":
        """Decoded copies (N, h, w, 3) at the header's full size (N, H, W, 3), as `_decompress_rescaled` gives them; None stays None."""
        if smalls is None or not header.rescaled:
            return smalls
        return np.stack([rescale_.resize(small, header.height, header.width) for small in smalls])

    def _rescaled_losses(self, images: np.ndarray, blobs: list[bytes], lmbda: float, decoded: np.ndarray | None = None) -> np.ndarray:
        """Per image (N,): bpp + lambda x 255^2 x MSE of each image's byte string, decoded as the decoder would (`decoded`: already)."""
        decoded = self.decompress(blobs) if decoded is None else decoded
        return np.array([rescale_.loss(image, back, len(blob), lmbda) for image, back, blob in zip(images, decoded, blobs)])

    def _payloads(self, y_sym: np.ndarray, y_idx: np.ndarray, z_sym: np.ndarray, header: container.Header) -> list[np.ndarray]:
        """ANS words of each image of a batch under one header, from `_symbols`' output: each its latent, then all their z together."""
        level16 = header.level16
        coders = [self._coder(header) for _ in range(len(y_sym))]
        for i, coder in enumerate(coders):
            self._push_strips(coder, lambda a, b: (y_sym[i:i + 1, a:b], y_idx[i:i + 1, a:b]), y_sym.shape[1:])  # noqa: B023 (called now)
        self._z_writer(level16).push_each(coders, z_sym)  # (N, h, w, Nz), pushed last: decoded first
        return [coder.get_compressed() for coder in coders]

    def _symbols(self, images: np.ndarray, level: float, refine: "RefineSettings | None" = None,
                 progress: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Batched analysis of uint8 images (N, H, W, 3): y symbols and table indexes (N, H/4, W/4, C), z symbols."""
        return self._analysed(images, level, refine, progress)[:3]

    def _analysed(self, images: np.ndarray, level: float, refine: "RefineSettings | None" = None,
                  progress: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """`_symbols`, then the means mu (N, H/4, W/4, C) the decoder will add back."""
        x = _pad(to_float(images))
        y, z = self.gained_latents(x, level)
        if refine:
            y, z = self._refined(images, x, y, z, level, refine, progress)
        return self._quantised(y, z, level)

    def gained_latents(self, x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(y (N, H/4, W/4, C), z) gained at `level`, float64, of float images x (N, H, W, 3) in [0, 1], H and W multiples of 16."""
        gy, gz = self._all_gains(level)
        y = np.asarray(self.model.analysis.predict(x, batch_size=self.batch_size, verbose=0), np.float64) * gy
        z = np.asarray(self.model.hyper_analysis.predict(y.astype(np.float32), batch_size=self.batch_size, verbose=0), np.float64) * gz
        return y[..., :self.model.config.coded], z  # h_a read all M channels; only the first C are coded

    def _quantised(self, y: np.ndarray, z: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(y symbols, table indexes, z symbols, mean mu) of gained latents y (N, h, w, C) and z (N, h/4, w/4, Nz)."""
        z_sym = self._z_symbols(z)
        y_sym, y_idx, mu = self._latent_symbols(y, self.hyper_raw(z_sym + self.z_low, level), level)
        return y_sym, y_idx, z_sym, mu

    def lmbda(self, level: float) -> float:
        """The rate-distortion trade-off lambda at a level, log-linear between the trained levels (as the gains)."""
        return float(np.exp(np.interp(level, np.arange(self.levels), np.log(np.asarray(self.model.config.lambdas)))))

    def _refined(self, images: np.ndarray, x: np.ndarray, y: np.ndarray, z: np.ndarray, level: float,
                 settings: "RefineSettings", progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Refined gained latents (`refine.refine_latents`) in chunks of about REFINE_PIXELS; an image keeps its plain ones where they measure better."""
        from tqdm.auto import tqdm

        from .refine import better_of, refine_latents

        per_chunk = max(1, REFINE_PIXELS // (x.shape[1] * x.shape[2]))
        chunks = tiling.spans(len(x), per_chunk)
        y_out, z_out = y.copy(), z.copy()
        with tqdm(total=len(chunks) * settings.steps, desc="refine steps", leave=False, disable=not progress) as bar:
            for a, b in chunks:
                refined = refine_latents(self.model, x[a:b], y[a:b], z[a:b], self.gains(level), self.lmbda(level), settings, bar.update,
                                         toward_means=self.bin_mean_weight(level))
                plain_loss = self._measured_loss(images[a:b], y[a:b], z[a:b], level)
                refined_loss = self._measured_loss(images[a:b], *refined, level)
                y_out[a:b], z_out[a:b] = better_of((y[a:b], z[a:b]), refined, plain_loss, refined_loss)
        return y_out, z_out

    def _measured_loss(self, images: np.ndarray, y: np.ndarray, z: np.ndarray, level: float) -> np.ndarray:
        """Per image (N,): bits as the byte format codes them per pixel + lambda * 255^2 * MSE of the decoded image, before uint8 rounding."""
        y_sym, y_idx, z_sym, mu = self._quantised(y, z, level)
        z_coder = self._z_writer(int(round(16 * level)))
        rate = np.array([self.y_coder.bits(y_sym[i], y_idx[i]) + z_coder.bits(z_sym[i:i + 1]) for i in range(len(y))])
        x_hat = np.clip(np.asarray(self.model.synthesis.predict(self.synthesis_input(y_sym, y_idx, mu, level),
                                                                batch_size=self.batch_size, verbose=0)), 0, 1)
        height, width = images.shape[1:3]
        mse = np.mean(np.square(x_hat[:, :height, :width].astype(np.float64) - to_float(images)), axis=(1, 2, 3))
        return rate / (height * width) + self.lmbda(level) * 255.0**2 * mse

    def synthesis_input(self, y_sym: np.ndarray, y_idx: np.ndarray, mu: np.ndarray, level: float,
                        weight: float | None = None) -> np.ndarray:
        """The synthesis' input (N, h, w, C) float32 as byte format 10 decodes it: (symbol + mean + w x bin-mean offset) / gain.

        `weight`: how far toward the bins' means (None: the codec's fitted weight at `level`).
        """
        w = self.bin_mean_weight(level) if weight is None else weight
        gy = self.gains(level)[0]
        y = (y_sym + mu) / gy  # (N, h, w, C); the decoder's float64 steps (`_pop_y`), so the same float32 values
        return (y + w * bin_mean_offsets(y_sym, y_idx) / gy if w else y).astype(np.float32)

    def byte_budget(self, images: np.ndarray, quality: float = 4) -> dict[str, np.ndarray]:
        """Where each image's bytes go (float64 arrays (N,)): header (with the check byte before version 19), hyper-latent z, latent y, ANS.

        z and y are the exact information content under the tables the byte format uses (z's adapted
        per context, `entropy.context`; y's the shipped ones); "ans" is what the
        whole byte string adds on top (the coder's final state, as stored). Images up to a
        megapixel (the batched path), as the benchmarks use.
        """
        images = _checked_batch(images)
        if _padded_pixels(*images.shape[1:3]) > tiling.NETWORK_STRIP_PIXELS:
            raise ValueError(f"byte_budget takes images up to {tiling.NETWORK_STRIP_PIXELS:,} pixels; got {images.shape[1]}x{images.shape[2]}")
        code = self.level16(quality)
        header = self._header(code, *images.shape[1:3])
        y_sym, y_idx, z_sym = self._symbols(images, code / 16)  # one analysis pass serves the bytes and the counts
        payloads = self._payloads(y_sym, y_idx, z_sym, header)
        z = np.array([self._z_writer(code).bits(z_sym[i:i + 1]) for i in range(len(images))]) / 8
        y = np.array([self.y_coder.bits(y_sym[i], y_idx[i]) for i in range(len(images))]) / 8
        total = np.array([len(container.pack(header, w)) for w in payloads], np.float64)
        head = total - np.array([len(container.payload_bytes(w, not header.legacy)) for w in payloads], np.float64)  # header fields (and the check byte before version 19)
        return {"total": total, "header": head, "z": z, "y": y, "ans": total - head - z - y}

    def _compress_large(self, image: np.ndarray, header: container.Header, progress: bool = False) -> np.ndarray:
        """Payload words of one large image under a header, every transform run in strips (peak memory set by the strip size)."""
        level16 = header.level16
        level = level16 / 16
        gy, gz = self._all_gains(level)
        x = _pad(to_float(image[None]))  # (1, Hp, Wp, 3)
        hy, wp = x.shape[1] // 4, x.shape[2]
        rows_a, rows_h = _net_rows(4 * wp, 4), _net_rows(16 * wp, 1)
        coded = self.model.config.coded
        strips = tiling.coding_strips(hy, wp // 4, coded)
        total = len(tiling.spans(hy, rows_a)) + len(tiling.spans(hy // 4, rows_h)) + len(strips)
        with _strip_bar(total, "compress", progress) as bar:
            g_a = lambda t: self.model.analysis(t, training=False)  # noqa: E731
            y = tiling.map_rows(g_a, x, 1 / 4, rows_a, halo=4, tick=bar.update)  # (1, Hp/4, Wp/4, M); receptive radius 3 rows
            y *= gy.astype(np.float32)
            h_a = lambda t: self.model.hyper_analysis(t, training=False)  # noqa: E731
            z = tiling.map_rows(h_a, y, 1 / 4, rows_h, halo=2, tick=bar.update).astype(np.float64)  # receptive radius 8 y rows
            z_sym = self._z_symbols(z * gz)[0]

            def symbols(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
                raw = self.hyper_rows(z_sym + self.z_low, level, a, b)
                bar.update()
                return self._latent_symbols(y[:, a:b, :, :coded].astype(np.float64), raw[None], level)[:2]

            return self._encode(symbols, y.shape[1:3] + (coded,), z_sym, header)

    def _compress_tiled(self, image: np.ndarray, header: container.Header, progress: bool = False,
                        refine: "RefineSettings | None" = None) -> np.ndarray:
        """Payload words of one image coded as independent 32x32 tiles under a tiled header, `TILE_GROUP` tiles at a time."""
        level = header.level16 / 16
        tiles = tiling.to_tiles(image)  # (T, 32, 32, 3) uint8, raster order
        groups = tiling.spans(len(tiles), tiling.TILE_GROUP)
        coder, z_parts = self._coder(header), []
        with _strip_bar(len(groups), "compress", progress and len(groups) > 1, "tile group") as bar:
            for a, b in reversed(groups):  # a stack: the last group is pushed first, decoded last
                y_sym, y_idx, z_sym = self._symbols(tiles[a:b], level, refine)  # (n, 8, 8, C) twice, (n, 2, 2, Nz)
                self._push_y(coder, y_sym, y_idx)
                z_parts.append(z_sym)
                bar.update()
        z_tiles = np.concatenate(z_parts[::-1])  # (T, 2, 2, Nz) in tile order
        z_grid = _tile_z_grid(z_tiles, *image.shape[:2])  # one (1, 2 rows, 2 columns, Nz) grid; decoded first
        self._z_writer(header.level16).push(coder, z_grid)
        return coder.get_compressed()

    def _z_symbols(self, z: np.ndarray) -> np.ndarray:
        """Integer symbols of the gained hyper-latent z, clipped to the z tables."""
        return np.clip(np.rint(z) - self.z_low, 0, self.z_tables.shape[1] - 1).astype(np.int64)

    def _encode(self, symbols, y_shape: tuple, z_sym: np.ndarray, header: container.Header) -> np.ndarray:
        """ANS words of one image under a header: the latent strip by strip, then its z (h, w, Nz) under the header's z tables."""
        coder = self._coder(header)
        self._push_strips(coder, symbols, y_shape)
        self._z_writer(header.level16).push_each([coder], z_sym[None])  # pushed last: decoded first
        return coder.get_compressed()

    def _push_strips(self, coder, symbols, y_shape: tuple) -> None:
        """Push a latent (h, w, C) strip by strip: `symbols(a, b)` gives rows a..b's symbols and table indexes, (1, b - a, w, C)."""
        for a, b in reversed(tiling.coding_strips(*y_shape)):  # a stack: pushed last, decoded first
            self._push_y(coder, *symbols(a, b))

    def _push_y(self, coder, y_sym: np.ndarray, y_idx: np.ndarray) -> None:
        """Push latent symbols (N, h, w, C) so that `_pop_y` decodes them slice by slice, first slice first."""
        for sym, idx in reversed(list(zip(self._slices(y_sym), self._slices(y_idx)))):
            self.y_coder.push(coder, sym, idx)

    def decompress(self, blobs, progress: bool = False) -> np.ndarray:
        """uint8 images (N, H, W, 3) from byte strings of this codec (all of one size; else use decompress_image)."""
        if isinstance(blobs, (bytes, bytearray, memoryview)):
            raise TypeError("decompress takes a list of byte strings; wrap a single one in a list")
        blobs = list(blobs)
        if not blobs:
            raise ValueError("no byte strings to decompress")
        try:
            return self._decompress(blobs, progress)
        except CodecError as err:  # versions 19-24 carry no model identity: name a shipped codec that decodes the string
            if len(blobs) == 1 and container.version_of(blobs[0]) in container.STATE_VERSIONS:
                maker = zoo_model_decoding(blobs[0], exclude=self)
                if maker is not None:
                    raise OtherModelError(f"{err}: the shipped codec {maker!r} decodes it; decode it with "
                                          f"pretrained_codec(name={maker!r}) or --codec {ZOO / maker}", maker) from None
            raise

    def _decompress(self, blobs: list, progress: bool = False) -> np.ndarray:
        """`decompress` without the search for another shipped codec on failure."""
        parsed, colours = zip(*(self._pop_colour(*self._unpack(b)) for b in blobs))
        images = self._decompress_parsed(list(parsed), progress)
        for i, symbols in enumerate(colours):
            if symbols is not None:
                images[i] = colour_.apply(images[i], symbols)
        return images

    def _pop_colour(self, header: container.Header, words: np.ndarray) -> tuple[tuple[container.Header, np.ndarray], "np.ndarray | None"]:
        """((header, words) of the version 19-21 string under a 22-24 string's corrections, the corrections (bh, bw, 3)); else as given, None."""
        if not header.colour:
            return (header, words), None
        if self.colour_coder is None:
            raise OtherModelError("made by another model (format version 22-24: mean-colour corrections, which this codec has no tables for)")
        inner = header.uncorrected()
        self._check_level_and_size(inner, words)  # before popping a number of corrections the header declares
        import constriction

        coder = constriction.stream.stack.AnsCoder(words)
        try:
            symbols = self.colour_coder.pop(coder, colour_.block_grid(header.height, header.width) + (3,), header.level16)
            rest = np.asarray(coder.get_compressed(), np.uint32)
        except (ValueError, RuntimeError, AssertionError) as err:
            raise CodecError(f"corrupt payload ({err})") from err
        if not len(rest) or rest[-1] == 0:
            raise StateCheckError("the byte string fails its check: nothing, or no valid ANS state, is left under its corrections")
        return (inner, rest), symbols

    def _decompress_parsed(self, parsed: list, progress: bool = False) -> np.ndarray:
        """uint8 images (N, H, W, 3) from (header, words) pairs of versions 3-21 of one size: the path their headers name."""
        sizes = {(h.height, h.width) for h, _ in parsed}
        if len(sizes) > 1:
            raise ValueError(f"byte strings of {len(sizes)} image sizes: decompress them one size at a time")
        height, width = sizes.pop()
        if any(h.tiled for h, _ in parsed) or _padded_pixels(height, width) > tiling.NETWORK_STRIP_PIXELS:
            return np.stack([self._decompress_one(h, words, progress) for h, words in parsed])
        if any(h.rescaled for h, _ in parsed):
            return self._decompress_rescaled(parsed)
        return self._decompress_batch(parsed)

    def _decompress_rescaled(self, parsed: list) -> np.ndarray:
        """uint8 images (N, H, W, 3), some coded at a smaller size: one batch per coded size, each copy resized back."""
        height, width = parsed[0][0].height, parsed[0][0].width
        out = np.empty((len(parsed), height, width, 3), np.uint8)
        scales = np.array([h.scale16 for h, _ in parsed])
        for k in np.unique(scales):
            rows = np.flatnonzero(scales == k)
            smalls = self._decompress_batch([(parsed[i][0].coded(), parsed[i][1]) for i in rows])
            out[rows] = [rescale_.resize(small, height, width) for small in smalls]
        return out

    def _decompress_batch(self, parsed: list) -> np.ndarray:
        """uint8 images (N, H, W, 3) coded whole, of one size up to a megapixel, from (header, words) pairs: batched."""
        height, width = parsed[0][0].height, parsed[0][0].width
        coders, z_hat = self._decode_zs(parsed)  # phase 1: hyper-latents
        levels = np.array([h.level16 / 16 for h, _ in parsed])
        y_hat = None
        for lv in np.unique(levels):  # phase 2: h_s in one batch per level; phase 3: the latents, slice by slice
            rows = np.flatnonzero(levels == lv)
            y = self._pop_y([coders[i] for i in rows], self.hyper_raw(z_hat[rows], lv), lv,
                            [self._shift_weight(parsed[i][0]) for i in rows])
            if y_hat is None:
                y_hat = np.zeros((len(parsed),) + y.shape[1:], np.float32)
            y_hat[rows] = y
        for (header, _), coder in zip(parsed, coders):
            self._check_end(coder, header)
        x = self.model.synthesis.predict(y_hat, batch_size=self.batch_size, verbose=0)
        return to_uint8(np.asarray(x, np.float32))[:, :height, :width]

    def read_header(self, blob) -> container.Header:
        """A byte string's header, validated against this codec (CodecError if it is not this model's, or damaged)."""
        return self._unpack(blob)[0]

    def _unpack(self, blob) -> tuple[container.Header, np.ndarray]:
        """container.unpack against this model; a byte string of another shipped codec is refused with that codec's name."""
        try:
            return container.unpack(blob, self.model_id, self.level_model_id)
        except OtherModelError as err:
            if container.version_of(blob) in container.STATE_VERSIONS:
                raise  # no model named in the header: `decompress` looks for a shipped codec that decodes it
            maker = zoo_model_named_in(blob)
            if maker is not None:
                raise OtherModelError(f"{err}: the shipped codec {maker!r} made it; decode it with pretrained_codec(name={maker!r}) "
                                      f"or --codec {ZOO / maker}", maker) from None
            found = container.model_field(blob)
            retired = next((n for n, (_, mid) in RETIRED.items() if found is not None and found.hex() == mid), None)
            if retired is None:
                raise
            raise CodecError(f"{err}: the retired codec {retired!r} made it; {_restore(retired)} brings it back, "
                             f"then decode with --codec {ZOO / retired}") from None

    def _decompress_one(self, header: container.Header, words: np.ndarray, progress: bool = False) -> np.ndarray:
        """One image (H, W, 3) uint8 by the path its header names: tiles, whole (in strips if large), or at a smaller size resized."""
        if header.tiled:
            return self._decompress_tiled(header, words, progress)
        if header.rescaled:
            small = self._decompress_one(header.coded(), words, progress)
            return rescale_.resize(small, header.height, header.width)
        if _padded_pixels(header.height, header.width) > tiling.NETWORK_STRIP_PIXELS:
            return self._decompress_large(header, words, progress)
        return self._decompress_batch([(header, words)])[0]

    def _decompress_tiled(self, header: container.Header, words: np.ndarray, progress: bool = False) -> np.ndarray:
        """One image (H, W, 3) uint8 from a tiled payload (versions 4, 6, 8, 11): all tiles' z, then each group's y, mean and scale, synthesis."""
        coder, z_hat = self._decode_z(header, words)  # (T, 2, 2, Nz)
        level = header.level16 / 16
        tiles = np.empty((len(z_hat), tiling.TILE, tiling.TILE, 3), np.uint8)
        groups = tiling.spans(len(z_hat), tiling.TILE_GROUP)
        with _strip_bar(len(groups), "decompress", progress and len(groups) > 1, "tile group") as bar:
            for a, b in groups:
                y_hat = self._pop_y([coder], self.hyper_raw(z_hat[a:b], level), level, self._shift_weight(header))  # (n, 8, 8, C)
                x = self.model.synthesis.predict(y_hat, batch_size=self.batch_size, verbose=0)
                tiles[a:b] = to_uint8(np.asarray(x, np.float32))
                bar.update()
        self._check_end(coder, header)
        return tiling.from_tiles(tiles, header.height, header.width)

    def _decompress_large(self, header: container.Header, words: np.ndarray, progress: bool = False) -> np.ndarray:
        """One large image (H, W, 3) uint8, every transform run in strips."""
        coder, z_hat = self._decode_z(header, words)
        level = header.level16 / 16
        y_shape = (4 * z_hat.shape[0], 4 * z_hat.shape[1], self.model.config.coded)
        rows_s = _net_rows(4 * y_shape[1], 16)
        total = len(tiling.coding_strips(*y_shape)) + len(tiling.spans(4 * y_shape[0], rows_s))
        with _strip_bar(total, "decompress", progress) as bar:
            y_hat = np.empty(y_shape, np.float32)
            for a, b in tiling.coding_strips(*y_shape):
                y_hat[a:b] = self._pop_y([coder], self.hyper_rows(z_hat, level, a, b)[None], level, self._shift_weight(header))[0]
                bar.update()
            self._check_end(coder, header)
            g_s = lambda t: self.model.synthesis(t, training=False)  # noqa: E731
            x = tiling.map_rows(g_s, y_hat[None], 4, rows_s, halo=32, tick=bar.update)  # receptive radius 4 y rows
        return to_uint8(x[0])[:header.height, :header.width]

    def _decode_z(self, header: container.Header, words: np.ndarray):
        """(coder positioned after z, integer z_hat (h, w, Nz), or (T, 2, 2, Nz) for tiles) of one byte string."""
        coders, z_hat = self._decode_zs([(header, words)])
        return coders[0], z_hat[0]

    def _decode_zs(self, parsed: list) -> tuple[list, np.ndarray]:
        """(coders positioned after z, integer z_hat (N, h, w, Nz)) of byte strings [(header, words)] of one size.

        Whole images with z per context (versions 7, 9, 10, 12) decode their z together (`ContextZCoder.pop_each`); the rest one by one.
        """
        import constriction

        coders = []
        for header, words in parsed:
            self._check_level_and_size(header, words)
            coders.append(constriction.stream.stack.AnsCoder(words))
        z_shape = self._latent_shapes(parsed[0][0])[1]
        z_sym = np.zeros((len(parsed),) + z_shape, np.int64)
        whole = [i for i, (h, _) in enumerate(parsed) if h.z_coding == "context" and not h.tiled]
        tables = [(parsed[i][0].level_z, parsed[i][0].level16 if parsed[i][0].level_z else 0) for i in whole]
        try:
            for key in sorted(set(tables)):  # one batch per z table: the shared one, or each quality byte's own
                batch = [i for i, k in zip(whole, tables) if k == key]
                z_coder = self._z_reader(parsed[batch[0]][0])
                z_sym[batch] = z_coder.pop_each([coders[i] for i in batch], (len(batch),) + z_shape)
            for i in sorted(set(range(len(parsed))) - set(whole)):
                z_sym[i] = self._pop_z(coders[i], parsed[i][0], z_shape)
        except (ValueError, RuntimeError, AssertionError) as err:
            raise CodecError(f"corrupt payload ({err})") from err
        return coders, (z_sym + self.z_low).astype(np.float64)

    def _pop_z(self, coder, header: container.Header, z_shape: tuple) -> np.ndarray:
        """One byte string's z symbols (h, w, Nz), or (T, 2, 2, Nz) for tiles, by the coding its header names."""
        if header.z_coding == "context" and header.tiled:  # the tiles' z as one grid
            rows, cols = tiling.tile_grid(header.height, header.width)
            grid = self._z_reader(header).pop(coder, (1, 2 * rows, 2 * cols, z_shape[-1]))[0]
            return tiling.to_tiles(grid, tiling.TILE // 16)  # (T, 2, 2, Nz) in tile order
        if header.z_coding == "context":
            return self._z_reader(header).pop(coder, (1,) + z_shape)[0]
        if header.z_coding == "rows":
            return self.z_rows.pop(coder, z_shape if header.tiled else (1,) + z_shape).reshape(z_shape)
        return self.z_coder.pop(coder, np.broadcast_to(np.arange(z_shape[-1]), z_shape))

    def _shift_weight(self, header: container.Header) -> float:
        """How far a byte string's values move toward their bins' means: 0 in versions 3-9, `bin_mean_weight` in 10-12."""
        return 0.0 if header.legacy else self.bin_mean_weight(header.level16 / 16)

    def _pop_y(self, coders: list, raw: np.ndarray, level: float, toward_means) -> np.ndarray:
        """Latent values y_hat / gy (N, h, w, C) float32, slice by slice, given h_s's output `raw` (N, h, w, 2C).

        One coder per image, or one coder for all N (tiles, pushed together); CodecError if corrupt.
        `toward_means` (a float, or one per coder): how far each value moves from its bin's centre toward
        its bin's mean under its Gaussian (0: the centre, versions 3-9). The channel context, if any, sees
        the centres on both sides.
        """
        shifts, weight = [], np.asarray(toward_means, np.float64)

        def quantise(s: int, mu: np.ndarray, idx: np.ndarray) -> np.ndarray:
            try:
                if len(coders) == 1:
                    sym = self.y_coder.pop(coders[0], idx)
                else:
                    sym = np.stack([self.y_coder.pop(c, i) for c, i in zip(coders, idx)])
            except (ValueError, RuntimeError, AssertionError) as err:
                raise CodecError(f"corrupt payload ({err})") from err
            if weight.any():  # weight 0 (versions 3-9, or a level fitted to the centres): no offsets to compute
                shifts.append(bin_mean_offsets(sym, idx))
            return sym + mu

        y = self._latent_chain(raw, level, quantise)
        if not weight.any():
            return y.astype(np.float32)
        gy = self.gains(level)[0]
        return (y + weight.reshape(weight.shape + (1,) * (y.ndim - weight.ndim)) * np.concatenate(shifts, -1) / gy).astype(np.float32)

    def compress_image(self, image, quality: float = 4, progress: bool = False, tiles: bool | None = None,
                       refine: "int | RefineSettings" = 0, rescale: "str | float | None" = None,
                       max_bytes: int | None = None, colour: bool = True, rounding: float | None = None) -> bytes:
        """One uint8 image (H, W, 3), or an image file's path, -> one byte string (`tiles` ... `rounding`: as in `compress`)."""
        if isinstance(image, (str, os.PathLike)):
            from .files import read_image

            image = read_image(image)
        return self.compress(np.asarray(image)[None], quality, progress, tiles, refine, rescale, max_bytes, colour, rounding)[0]

    def decompress_image(self, blob: bytes, progress: bool = False) -> np.ndarray:
        """One byte string -> uint8 (H, W, 3)."""
        return self.decompress([blob], progress)[0]


def _mean_scale(raw: np.ndarray, gain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) of the gained latent from h_s's raw output (..., 2C) and the gain (C,): `hyperprior.mean_scale` in NumPy."""
    mu, log_sigma = np.split(raw, 2, axis=-1)
    return mu * gain, np.exp(np.clip(log_sigma, -10, 10)) * gain


def _level16_of(level: float) -> int:
    """The quality byte of a level (level x 16), which must lie on the grid of sixteenths (the integer h_s's tables)."""
    level16 = int(round(16 * level))
    if abs(16 * level - level16) > 1e-9:
        raise ValueError(f"level {level} is not a multiple of 1/16: the integer h_s has tables for quality bytes only")
    return level16


def _tile_z_grid(z_tiles: np.ndarray, height: int, width: int) -> np.ndarray:
    """The tiles' z (T, 2, 2, Nz) in tile order as one grid (1, 2 x tile rows, 2 x tile columns, Nz): `tiling.from_tiles`."""
    rows, cols = tiling.tile_grid(height, width)
    return tiling.from_tiles(z_tiles, 2 * rows, 2 * cols)[None]


def _check_empty(coder) -> None:
    """CodecError unless the decoder used exactly the payload's words."""
    if not coder.is_empty():
        raise CodecError("corrupt payload: the decoder did not end where the data does")


def _checked_rounding(weight) -> float:
    """A rate-distortion rounding weight as a float, or ValueError naming the problem (it must be finite and >= 0)."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float, np.integer, np.floating)) or not (np.isfinite(weight) and weight >= 0):
        raise ValueError(f"rounding must be a finite weight >= 0 (0: each latent value to the nearest integer), got {weight!r}")
    return float(weight)


def _check_max_bytes(value) -> None:
    """ValueError unless a byte budget is a positive whole number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value != int(value) or value < 1:
        raise ValueError(f"max_bytes must be a positive whole number of bytes, got {value!r}")


def _refine_settings(refine) -> "RefineSettings | None":
    """None for no refinement (0), else RefineSettings (an int is the number of steps)."""
    from .refine import RefineSettings

    if isinstance(refine, RefineSettings):
        return refine
    if isinstance(refine, bool) or not isinstance(refine, (int, np.integer)) or refine < 0:
        raise ValueError(f"refine must be a number of steps (0: none) or a RefineSettings, got {refine!r}")
    return RefineSettings(steps=int(refine)) if refine else None


def _strip_bar(total: int, what: str, progress: bool, unit: str = "strip"):
    """A progress bar over the strips (or tile groups) of one large image (tqdm; silent unless `progress`)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{what} {unit}s", unit=unit, leave=False, disable=not progress)


def _checked_batch(images) -> np.ndarray:
    """A non-empty uint8 (N, H, W, 3) array, or ValueError naming what it got."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8 or len(images) == 0:
        raise ValueError(f"images must be a non-empty uint8 array (N, H, W, 3); got {images.dtype} {images.shape}")
    return images


def _padded_sides(height: int, width: int) -> tuple[int, int]:
    """Height and width rounded up to the transforms' multiple, 16 (what `_pad` pads to)."""
    return -(-height // PAD_MULTIPLE) * PAD_MULTIPLE, -(-width // PAD_MULTIPLE) * PAD_MULTIPLE


COLOUR_KEYS = frozenset({"colour_levels", "z_levels"})  # tables.npz arrays a codec needs to write versions 22-24


def saved_codec_writes_colour(folder) -> bool:
    """`HyperpriorCodec.writes_colour` of the codec saved in `folder`, from its tables.npz's names alone (no model loaded)."""
    path = Path(folder) / "tables.npz"
    if not path.is_file():
        return False
    with np.load(path) as f:
        return COLOUR_KEYS <= set(f.files)


def _rows_or_nones(images: "np.ndarray | None", n: int) -> list:
    """The rows of decoded images (N, H, W, 3) as a list, or N Nones where there are none."""
    return [None] * n if images is None else list(images)


def _padded_pixels(height: int, width: int) -> int:
    hp, wp = _padded_sides(height, width)
    return hp * wp


def _net_rows(pixels_per_row: int, multiple: int) -> int:
    """Output rows per network strip, a multiple of `multiple`, when each output row stands for `pixels_per_row` image pixels."""
    return tiling.strip_rows(pixels_per_row, tiling.NETWORK_STRIP_PIXELS, multiple)


def _pad(x: np.ndarray, multiple: int = PAD_MULTIPLE) -> np.ndarray:
    """Edge-pad (N, H, W, C) on the bottom and right to sides that are multiples of `multiple`."""
    h, w = x.shape[1:3]
    return np.pad(x, ((0, 0), (0, -h % multiple), (0, -w % multiple), (0, 0)), mode="edge")


def pretrained_codec(quality: int | None = None, name: str = DEFAULT_MODEL, refine: int = 0,
                     rescale: "str | float | None" = None, max_bytes: int | None = None, colour: bool = True,
                     rounding: float | None = None) -> "QualityCodec":
    """The shipped hyperprior codec at a quality from 1 (fewest bytes) to 8 (best), loaded with no network.

    `refine`: encoder-side latent refinement steps (0: none; about 100 pays on photographs, at the
    cost of about a training step per image per step). `rescale`: "auto" or a scale to code images
    whole at a smaller size (`HyperpriorCodec.compress`; None: full size). `max_bytes`: a budget per
    image, each coded at the highest quality up to `quality` that fits (`HyperpriorCodec.compress_within`). `colour`:
    mean-colour corrections where they pay (`HyperpriorCodec.compress`; False: none). `rounding`: the weight of the
    encoder's rate-distortion rounding (0: the nearest integer; None: the codec's default, `entropy.rounding`).
    """
    codec = shipped_codec(name)
    return QualityCodec(codec, codec.levels // 2 if quality is None else quality, ZOO / name, refine, rescale, max_bytes, colour,
                        rounding)


_CACHE: dict[str, HyperpriorCodec] = {}
# zoo models taken out: the last commit that has them, and their model identity (bytes 2-3 of their byte strings)
RETIRED = {"hyperprior-v2": ("639d155", "85d6"), "hyperprior-pruned": ("639d155", "0c66")}


def shipped_codec(name: str = DEFAULT_MODEL) -> HyperpriorCodec:
    """A shipped codec by its zoo name, every quality, loaded once per process with no network."""
    folder = ZOO / name
    if not (folder / "weights.npz").is_file():
        why = (f"it was retired; {_restore(name)} restores it" if name in RETIRED
               else "train one with `python -m cae_helpers train-codec`")
        raise FileNotFoundError(f"no shipped codec {name!r} in {ZOO} (shipped: {', '.join(zoo_names())}): {why}")
    if name not in _CACHE:
        _CACHE[name] = HyperpriorCodec.load(folder)
    return _CACHE[name]


def _restore(name: str) -> str:
    """The command that brings a retired zoo model back."""
    return f"`git checkout {RETIRED[name][0]} -- cae_helpers/zoo/{name}`"


def zoo_names() -> list[str]:
    """The shipped codecs' names (the zoo's folders), the default first."""
    names = sorted(p.name for p in ZOO.iterdir() if (p / "weights.npz").is_file())
    return sorted(names, key=lambda n: n != DEFAULT_MODEL)


def zoo_model_for(blob, exclude: HyperpriorCodec | None = None) -> str | None:
    """The name of the shipped codec that made a byte string (None: no shipped codec's; `exclude`: one not to try).

    Versions 3-18 name it in their header (`zoo_model_named_in`); 19-24 carry none, so the shipped codecs
    try to decode the string (`zoo_model_decoding`).
    """
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        return None
    if container.version_of(blob) in container.STATE_VERSIONS:
        return zoo_model_decoding(blob, exclude)
    return zoo_model_named_in(blob)


def zoo_model_named_in(blob) -> str | None:
    """The shipped codec whose model identity a byte string's header (versions 3-18) carries, else None: no decoding."""
    model = container.model_field(blob)
    if model is None:
        return None
    return next((n for n in zoo_names() if model in (shipped_codec(n).model_id, shipped_codec(n).level_model_id)), None)


def zoo_model_decoding(blob, exclude: HyperpriorCodec | None = None) -> str | None:
    """The first shipped codec with per-level z tables (not one with `exclude`'s tables) that decodes a byte string of versions 19-24 to its check word."""
    for name in zoo_names():
        codec = shipped_codec(name)
        if codec.level_identity is None or (exclude is not None and _same_tables(codec, exclude)):
            continue
        try:
            codec._decompress([bytes(blob)])
        except CodecError:
            continue
        return name
    return None


def _same_tables(a: HyperpriorCodec, b: HyperpriorCodec) -> bool:
    """Whether two codecs decode versions 19-24 alike: one level identity, and the same mean-colour tables or none."""
    colours = [None if c.colour_level_tables is None else np.asarray(c.colour_level_tables, np.int64) for c in (a, b)]
    same_colour = colours[0] is None and colours[1] is None or (all(c is not None for c in colours) and np.array_equal(*colours))
    return a.level_identity == b.level_identity and same_colour


@dataclass
class QualityCodec:
    """A HyperpriorCodec bound to one quality: compress(images) / decompress(blobs)."""

    codec: HyperpriorCodec
    quality: float
    folder: Path | None = None  # where its weights came from (for `info`)
    refine: int = 0  # encoder-side latent refinement steps (`HyperpriorCodec.compress`); 0: none
    rescale: "str | float | None" = None  # "auto" or a scale: coded whole at a smaller size (`HyperpriorCodec.compress`)
    max_bytes: int | None = None  # a budget per image: the highest quality up to `quality` that fits (None: `quality` itself)
    colour: bool = True  # mean-colour corrections where they pay, if the codec ships tables for them (`HyperpriorCodec.compress`)
    rounding: float | None = None  # the encoder's rate-distortion rounding weight (0: nearest integer; None: the codec's own)

    def __post_init__(self) -> None:
        self.codec.level16(self.quality)  # checks the range
        _refine_settings(self.refine)  # and the refinement steps
        rescale_.candidate_scales(self.rescale)  # and the scale
        if self.max_bytes is not None:
            _check_max_bytes(self.max_bytes)
        if self.rounding is not None:
            _checked_rounding(self.rounding)

    def compress(self, images: np.ndarray) -> list[bytes]:
        """uint8 (N, H, W, 3) -> one byte string per image."""
        return self.codec.compress(images, self.quality, refine=self.refine, rescale=self.rescale, max_bytes=self.max_bytes,
                                   colour=self.colour, rounding=self.rounding)

    def decompress(self, blobs) -> np.ndarray:
        """Byte strings (any quality of this model) -> uint8 (N, H, W, 3)."""
        return self.codec.decompress(blobs)

    def compress_image(self, image, progress: bool = False) -> bytes:
        """uint8 (H, W, 3), or an image file's path, -> one byte string."""
        return self.codec.compress_image(image, self.quality, progress, refine=self.refine, rescale=self.rescale,
                                         max_bytes=self.max_bytes, colour=self.colour, rounding=self.rounding)

    def decompress_image(self, blob: bytes, progress: bool = False) -> np.ndarray:
        """One byte string -> uint8 (H, W, 3)."""
        return self.codec.decompress_image(blob, progress)

    def info(self) -> dict:
        """The loaded model's config.json (command, training time and steps, versions)."""
        return json.loads((Path(self.folder or ZOO / DEFAULT_MODEL) / "config.json").read_text())


def codec_from_run(run_dir, latest: bool = False) -> tuple[HyperpriorCodec, dict]:
    """The best epoch so far of a (possibly unfinished) `train-codec` run, as a codec with its tables (`latest`: its last epoch).

    Weights are rounded to float16 first, as they ship, so the tables are built from the
    model that is measured. Returns the codec and what the run has done (epochs, steps, time).
    """
    from .hyperprior import HyperpriorConfig, build_hyperprior

    backup = Path(run_dir) / "backup"
    for name in ("state.json", "settings.json"):
        if not (backup / name).is_file():
            raise FileNotFoundError(f"{backup / name} is missing: not a train-codec run with a checkpoint")
    state = json.loads((backup / "state.json").read_text())
    settings = json.loads((backup / "settings.json").read_text())
    fit_images = settings.pop("fit_images")
    config = HyperpriorConfig(**settings)
    model = build_hyperprior(config)
    if latest:  # the resumable checkpoint, Keras' own format
        model.load_weights(backup / state["weights"])
        weights = model.get_weights()
    else:
        with np.load(backup / state["best_weights"]) as f:
            weights = [f[f"w{i}"] for i in range(len(f.files))]
    model.set_weights([np.asarray(w, np.float16).astype(np.float32) for w in weights])
    history = state["history"]
    steps_per_epoch = -(-fit_images * config.passes // config.batch_size)
    info = {"best_epoch": state["best_epoch"] + 1, "epochs_done": state["epoch"], "epochs_planned": config.epochs,
            "steps_done": state["epoch"] * steps_per_epoch, "fit_images": fit_images, "train_wall_time_s": sum(history.get("epoch_time_s", [])),
            "val_loss_best": state["best"], "history": history}
    return HyperpriorCodec.from_model(model), info
