"""Mean-colour corrections after the decoder (byte format versions 22-24): the blocks, the tables, the bytes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cae_helpers import colour
from cae_helpers.codec import DEFAULT_MODEL, pretrained_codec
from cae_helpers.entropy import container
from cae_helpers.entropy.tables import TOTAL, laplace_table, mix_level_tables
from cae_helpers.errors import CodecError, OtherModelError
from cae_helpers.rescale import loss
from tiny import blocky_images


@pytest.fixture(scope="module")
def codec(default_codec):
    assert default_codec.writes_colour, "the default codec ships its mean-colour tables (tools/fit_colour_levels.py --write)"
    return default_codec


def smooth(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 3) uint8: a slow colour gradient, the content a mean-colour error is most visible on."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base, slope = rng.uniform(60, 190, 3), rng.uniform(-40, 40, (2, 3))
    return np.clip(base + yy[..., None] * slope[0] + xx[..., None] * slope[1], 0, 255).astype(np.uint8)


def test_block_means_cover_partial_edge_blocks():
    """A 40x70 error has 2x3 blocks; each block's mean equals the plain mean of its pixels, edge blocks partial."""
    err = np.random.default_rng(0).normal(size=(40, 70, 3))
    means = colour.block_means(err)
    assert means.shape == colour.block_grid(40, 70) + (3,) == (2, 3, 3)
    for i, (a, b) in enumerate(((0, 32), (32, 40))):
        for j, (c, d) in enumerate(((0, 32), (32, 64), (64, 70))):
            np.testing.assert_allclose(means[i, j], err[a:b, c:d].mean(axis=(0, 1)))


def test_corrections_remove_each_blocks_mean_error():
    """Applied, the rounded corrections leave every block's mean error within half a unit (no clipping here)."""
    rng = np.random.default_rng(1)
    original = rng.integers(40, 200, (48, 80, 3)).astype(np.uint8)
    decoded = np.clip(original.astype(int) + rng.integers(-9, 4, (2, 3, 3)).repeat(32, 0).repeat(32, 1)[:48, :80]
                      + rng.integers(-2, 3, original.shape), 0, 255).astype(np.uint8)
    symbols = colour.corrections(original, decoded)
    fixed = colour.apply(decoded, symbols)
    assert np.abs(colour.block_means(original.astype(float) - fixed)).max() <= 0.5 + 1e-9
    assert np.mean((fixed.astype(float) - original) ** 2) < np.mean((decoded.astype(float) - original) ** 2)
    with pytest.raises(ValueError, match="takes \\(2, 3, 3\\) corrections"):
        colour.apply(decoded, symbols[:1])
    with pytest.raises(ValueError, match="of one size"):
        colour.corrections(original, decoded[:32])


def test_laplace_table_and_mixing_are_integer_and_exact():
    """Tables sum to 2^16, are symmetric and fall off from 0; a mixed level is the integer formula, rows summing to 2^16."""
    t = laplace_table(1.5, colour.RADIUS)
    assert t.sum() == TOTAL and len(t) == 2 * colour.RADIUS + 2 and t.min() >= 1
    body = t[:-1]
    assert np.array_equal(body, body[::-1]) and np.all(np.diff(body[colour.RADIUS:]) <= 0) and body.argmax() == colour.RADIUS
    with pytest.raises(ValueError, match="scale > 0"):
        laplace_table(0.0, 5)
    levels = np.stack([laplace_table(s, colour.RADIUS) for s in (2.0, 0.5)])
    assert np.array_equal(mix_level_tables(levels, 16), levels[1])
    mixed = mix_level_tables(levels, 4)  # a quarter of the way
    expect = (12 * levels[0] + 4 * levels[1]) // 16
    assert mixed.sum() == TOTAL and np.array_equal(np.delete(mixed, mixed.argmax()), np.delete(expect, mixed.argmax()))
    two_d = mix_level_tables(np.stack([levels, levels[::-1]]), 8)  # (L, rows, n): each row on its own
    assert two_d.shape == levels.shape and np.all(two_d.sum(axis=1) == TOTAL)


def test_compress_adds_corrections_only_where_they_lower_the_loss(codec):
    """Smooth 32x32 images at quality 4: some strings carry corrections (lead 0xE7), each chosen string's loss is no more than
    the plain one's, the plain ones are byte for byte versions 19 with colour=False, and decoding gives the corrected pixels."""
    images = np.concatenate([np.stack([smooth(32, 32, s) for s in range(12)]), blocky_images(4, cells=4, seed=2)])
    quality = 4
    plain, chosen = codec.compress(images, quality, colour=False), codec.compress(images, quality)
    plain_px, chosen_px = codec.decompress(plain), codec.decompress(chosen)
    lmbda = codec.lmbda(codec.level16(quality) / 16)
    versions = [container.version_of(b) for b in chosen]
    assert set(versions) <= {19, 22} and 22 in versions and {container.version_of(b) for b in plain} == {19}
    for image, p, c, pp, cp, v in zip(images, plain, chosen, plain_px, chosen_px, versions):
        if v == 19:
            assert c == p and np.array_equal(cp, pp)
            continue
        assert c[0] == container.LEAD_COLOUR + 2 and c[1:2] == p[1:2] and len(c) >= len(p)
        np.testing.assert_array_equal(cp, colour.apply(pp, colour.corrections(image, pp)))
        assert loss(image, cp, len(c), lmbda) < loss(image, pp, len(p), lmbda)
    assert np.mean((chosen_px.astype(float) - images) ** 2) < np.mean((plain_px.astype(float) - images) ** 2)


def test_the_encoder_sees_the_pixels_the_decoder_gives(codec):
    """The pixels compress takes from its own symbols (no entropy decoding, no second h_s) to choose corrections and sizes
    are decompress's to the last one: 32x32 images at an integer and a fractional quality, a 48x80 copy at 3/4, resized back."""
    images = np.concatenate([np.stack([smooth(32, 32, s) for s in range(6)]), blocky_images(6, cells=4, seed=3)])
    for quality in (2, 3.4375):
        header = codec._header(codec.level16(quality), 32, 32)
        words, shown = codec._whole_coded(images, header, None, False, decode=True)
        np.testing.assert_array_equal(shown, codec.decompress([container.pack(header, w) for w in words]))
    header, _, blobs, shown = codec._rescaled_candidate(smooth(48, 80, 5)[None], codec.level16(3), 12, False)
    assert header.rescaled and shown.shape == (1, 48, 80, 3)
    np.testing.assert_array_equal(shown, codec.decompress(blobs))


@pytest.mark.parametrize("options, version", [({}, 22), ({"rescale": 0.5}, 24), ({"tiles": True}, 23)])
def test_every_layout_carries_corrections(codec, options, version):
    """Whole, rescaled and tiled strings of a 48x80 image, with corrections forced in (any gain kept): 22, 24, 23, decoded to the fix."""
    image = smooth(48, 80, 7)
    blob = codec.compress(image[None], 3, colour=False, **options)[0]
    decoded = codec.decompress([blob])[0]
    forced = codec._colour_corrected(image, blob, decoded, lmbda=1e9)
    header = codec.read_header(forced)
    assert container.version_of(forced) == version and header.colour and (header.height, header.width) == (48, 80)
    assert forced[0] == container.LEAD_COLOUR + 3 * (version - 22)  # not square
    np.testing.assert_array_equal(codec.decompress([forced])[0], colour.apply(decoded, colour.corrections(image, decoded)))
    assert container.check_head(header) == blob[:1] + forced[1:len(header.head)] and forced[1:len(header.head)] == blob[1:len(header.head)]


def test_damaged_or_relabelled_strings_are_refused(codec):
    """Cut, extended, a byte changed, the lead byte of the string under the corrections: CodecError, never other pixels."""
    image = smooth(32, 32, 3)
    blob = codec.compress(image[None], 3, colour=False)[0]
    forced = codec._colour_corrected(image, blob, codec.decompress([blob])[0], lmbda=1e9)
    assert container.version_of(forced) == 22
    rng = np.random.default_rng(0)
    bad = [forced[:-1], forced + b"\x03", bytes([container.LEAD_ONE_TILE]) + forced[1:], blob[:1] + forced[1:]]
    for _ in range(6):
        changed = bytearray(forced)
        spot = int(rng.integers(2, len(forced)))
        changed[spot] = (changed[spot] + int(rng.integers(1, 256))) % 256
        bad.append(bytes(changed))
    for b in bad:
        if b == forced:
            continue
        with pytest.raises(CodecError):
            codec.decompress([b])
    with pytest.raises(CodecError):  # the plain string relabelled as corrected
        codec.decompress([bytes([container.LEAD_COLOUR + 2]) + blob[1:]])


def test_a_codec_without_the_tables_refuses_and_names_the_default(codec):
    """Versions 22-24 need the tables: a codec without them says so and names the shipped codec that decodes the string."""
    image = smooth(32, 32, 4)
    blob = codec.compress(image[None], 3, colour=False)[0]
    forced = codec._colour_corrected(image, blob, codec.decompress([blob])[0], lmbda=1e9)
    other = replace(codec, colour_level_tables=None)
    assert not other.writes_colour and other.compress(image[None], 3) == [blob]
    with pytest.raises(OtherModelError, match=f"no tables for\\): the shipped codec '{DEFAULT_MODEL}' decodes it"):
        other.decompress([forced])
    with pytest.raises(ValueError, match="cannot add mean-colour corrections"):
        other.with_colour(image[None], [blob], 3)
    different = replace(codec, colour_level_tables=codec.colour_level_tables[::-1].copy())
    with pytest.raises(CodecError):
        different._decompress([forced])


def test_the_quality_codec_and_budget_pass_the_choice_on(codec):
    """pretrained_codec(colour=False) writes 19-21 only; a byte budget holds with corrections."""
    images = np.stack([smooth(32, 32, s) for s in range(6)])
    assert {container.version_of(b) for b in pretrained_codec(4, colour=False).compress(images)} == {19}
    within = codec.compress(images, 5, max_bytes=120)
    assert all(len(b) <= 120 for b in within)
    np.testing.assert_array_equal(codec.decompress(within)[0], codec.decompress(within[:1])[0])


def test_the_fitting_tool_fits_a_table_that_codes_its_corrections_and_records_it(codec, tmp_path):
    """tools/fit_colour_levels.py's parts: the grid's best scale codes the counted corrections in fewer bits than its
    neighbours; `finish` writes the record, and with --write stores the tables a reloaded codec uses."""
    import argparse
    import json
    import shutil

    from cae_helpers.codec import ZOO, HyperpriorCodec
    from tool_module import load_tool

    fit = load_tool("fit_colour_levels")
    symbols = fit.level_corrections(codec, np.stack([smooth(32, 32, s) for s in range(8)]), 2)
    assert symbols.shape == (24,)
    scale, bits = fit.best_scale(symbols)
    i = int(np.flatnonzero(fit.SCALE_GRID == scale)[0])
    for j in (i - 1, i + 1):
        if 0 <= j < len(fit.SCALE_GRID):
            other = fit.TableCoder([fit.laplace_table(fit.SCALE_GRID[j], colour.RADIUS)]).bits(symbols, np.zeros(24, np.int64))
            assert other >= bits * len(symbols)
    folder = tmp_path / "codec"
    shutil.copytree(ZOO / DEFAULT_MODEL, folder)
    heldout = load_tool("heldout_fit")
    tables = np.stack([laplace_table(1.0 + k, colour.RADIUS) for k in range(codec.levels)])
    args = argparse.Namespace(out=str(tmp_path / "fit.json"), codec=str(folder), write=True)
    heldout.finish(args, HyperpriorCodec.load(folder), "fit_colour_levels.py", {"levels": {1: {"scale": 1.0}}},
                   "colour_level_tables", tables, "tables")
    record = json.loads((tmp_path / "fit.json").read_text())
    assert record["codec"] == str(folder) and record["written"] and record["levels"] == {"1": {"scale": 1.0}} and "versions" in record
    assert np.array_equal(HyperpriorCodec.load(folder).colour_level_tables, tables)


def test_the_command_line_adds_corrections_says_so_and_leaves_them_out_when_asked(tmp_path, capsys):
    """compress on a smooth PNG at quality 4: format 22 and a summary line that names the corrections; --no-colour: 19; both decode."""
    from PIL import Image

    from cae_helpers.cli import main

    Image.fromarray(smooth(32, 32, 5)).save(tmp_path / "flat.png")
    args = ["-q", "4", "--compare", "none", "--rescale", "off"]  # full size: the command line may code a smaller copy otherwise
    assert main(["compress", str(tmp_path / "flat.png"), "-o", str(tmp_path / "on.cae"), *args]) == 0
    assert main(["compress", str(tmp_path / "flat.png"), "-o", str(tmp_path / "off.cae"), *args, "--no-colour"]) == 0
    text = capsys.readouterr().out
    on, off = (tmp_path / "on.cae").read_bytes(), (tmp_path / "off.cae").read_bytes()
    assert container.version_of(on) == 22 and container.version_of(off) == 19
    assert text.count("with mean-colour corrections") == 1 and "on.cae: 32x32 with mean-colour corrections" in text
    assert main(["decompress", str(tmp_path / "on.cae"), str(tmp_path / "off.cae")]) == 0
    original = smooth(32, 32, 5).astype(float)
    errors = [np.mean((np.asarray(Image.open(tmp_path / f"{n}.png")).astype(float) - original) ** 2) for n in ("on", "off")]
    assert errors[0] < errors[1]


def test_the_field_probe_measures_format_22s_blocks_as_the_codec_makes_them():
    """tools/colour_field_probe.py: its flat 32 values are `colour.corrections`' values, its smooth field interpolates
    (weights sum to 1, the block values at the centres) and fits a smooth error better than flat blocks do."""
    from tool_module import load_tool

    probe = load_tool("colour_field_probe")
    rng = np.random.default_rng(2)
    err = rng.normal(0, 4, (48, 80, 3))
    _, values = probe.field(err, "flat 32")
    assert np.array_equal(values, np.rint(colour.block_means(err)).astype(np.int64))
    weights = probe._interpolation(80, 32)
    assert weights.shape == (80, 3) and np.allclose(weights.sum(axis=1), 1) and weights[15, 0] + weights[16, 0] > 1.4
    yy, xx = np.mgrid[0:64, 0:64]
    ramp = np.repeat((0.2 * xx + 0.1 * yy)[..., None], 3, axis=2)  # a gradient: what flat blocks fit in steps
    flat, _ = probe.field(ramp, "flat 32")
    smooth_fit, _ = probe.field(ramp, "smooth 32")
    assert np.mean((ramp - smooth_fit) ** 2) < np.mean((ramp - flat) ** 2)
