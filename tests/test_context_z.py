"""Context-adaptive coding of the hyper-latent z (byte format versions 7 and 8), and both adaptive coders' round trips."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers.entropy import context
from cae_helpers.entropy.adaptive import AdaptiveZCoder
from cae_helpers.entropy.context import ContextZCoder
from cae_helpers.entropy.tables import quantise_pmf


@pytest.fixture(scope="module")
def tables():
    rng = np.random.default_rng(0)
    return np.stack([quantise_pmf(rng.dirichlet(np.ones(9))) for _ in range(5)])  # 5 channels, 9 symbols


def _blobs(rng, shape, mode, k=9):
    """Symbols in spatial blobs: smooth areas at each channel's most likely value `mode` (Nz,), busy areas spread, as z on a photograph."""
    n, h, w, nz = shape
    busy = rng.random((n, h // 4 + 1, w // 4 + 1)) < 0.4
    busy = np.repeat(np.repeat(busy, 4, 1), 4, 2)[:, :h, :w, None]  # (n, h, w, 1)
    spread = rng.integers(0, k, shape)
    return np.where(busy, spread, mode)


@pytest.mark.parametrize("shape", [(1, 1, 1, 5), (1, 2, 2, 5), (3, 2, 2, 5), (1, 40, 17, 5)])  # one value .. past CAP counts
@pytest.mark.parametrize("kind", [AdaptiveZCoder, ContextZCoder])  # formats 5 and 6, 7 and 8
def test_round_trip_and_bits(tables, shape, kind):
    import constriction

    coder = kind(tables)
    symbols = _blobs(np.random.default_rng(1), shape, tables.argmax(1))
    ans = constriction.stream.stack.AnsCoder()
    coder.push(ans, symbols)
    words = ans.get_compressed()
    back = coder.pop(constriction.stream.stack.AnsCoder(words), shape)
    np.testing.assert_array_equal(back, symbols)
    assert coder.bits(symbols) <= 32 * len(words) <= coder.bits(symbols) + 64  # the information content, plus ANS's final state


def test_the_first_position_is_the_fixed_tables_and_contexts_beat_row_adaptation(tables):
    coder = ContextZCoder(tables)
    symbols = _blobs(np.random.default_rng(2), (1, 48, 48, 5), tables.argmax(1))
    fixed = -np.log2(tables[np.arange(5), symbols[0, 0, 0]] / 65536).sum()
    assert coder.bits(symbols[:, :1, :1]) == pytest.approx(fixed, rel=1e-12)
    assert 48 * 48 > context.CAP  # the halving path runs
    assert coder.bits(symbols) < 0.9 * AdaptiveZCoder(tables).bits(symbols)  # neighbours tell smooth from busy


def test_chunked_encoding_decodes_the_same(tables, monkeypatch):
    """The encoder holds one chunk of rows' probabilities at a time; the bytes do not depend on the chunk size."""
    import constriction

    coder = ContextZCoder(tables)
    symbols = _blobs(np.random.default_rng(4), (2, 13, 6, 5), tables.argmax(1))
    words = []
    for chunk in (context.CHUNK_VALUES, 6 * 5 * 9, 3 * 6 * 5 * 9):  # all rows at once, one row, three rows (13 = 4 x 3 + 1)
        monkeypatch.setattr(context, "CHUNK_VALUES", chunk)
        ans = constriction.stream.stack.AnsCoder()
        coder.push(ans, symbols)
        words.append(ans.get_compressed())
    assert all(np.array_equal(words[0], w) for w in words[1:])
    np.testing.assert_array_equal(coder.pop(constriction.stream.stack.AnsCoder(words[0]), symbols.shape), symbols)


def test_a_batch_on_its_own_coders_gives_each_image_the_bytes_it_gets_alone(tables, monkeypatch):
    """push_each / pop_each run the recurrence for groups of images together; each coder holds what its image alone would."""
    import constriction

    coder = ContextZCoder(tables)
    symbols = _blobs(np.random.default_rng(5), (7, 3, 4, 5), tables.argmax(1))
    monkeypatch.setattr(context, "GROUP", 3)  # groups of 3, 3 and 1
    coders = [constriction.stream.stack.AnsCoder() for _ in symbols]
    coder.push_each(coders, symbols)
    words = [c.get_compressed() for c in coders]
    for grid, w in zip(symbols, words):
        alone = constriction.stream.stack.AnsCoder()
        coder.push(alone, grid[None])
        np.testing.assert_array_equal(alone.get_compressed(), w)
    back = coder.pop_each([constriction.stream.stack.AnsCoder(w) for w in words], symbols.shape)
    np.testing.assert_array_equal(back, symbols)
    with pytest.raises(ValueError, match="6 coders for 7 images"):
        coder.push_each(coders[:6], symbols)


def test_each_image_is_coded_on_its_own(tables):
    """A batch costs the sum of its images: no counts carry from one image to the next."""
    coder = ContextZCoder(tables)
    symbols = _blobs(np.random.default_rng(3), (3, 6, 7, 5), tables.argmax(1))
    assert coder.bits(symbols) == pytest.approx(sum(coder.bits(s[None]) for s in symbols), rel=1e-12)


def test_out_of_range_symbols_and_shapes_are_refused(tables):
    import constriction

    coder = ContextZCoder(tables)
    with pytest.raises(ValueError, match="z symbols must be in 0..8"):
        coder.push(constriction.stream.stack.AnsCoder(), np.full((1, 1, 1, 5), 9))
    with pytest.raises(ValueError, match="expected z symbols"):
        coder.pop(constriction.stream.stack.AnsCoder(), (4, 5))


def test_the_floor_bounds_every_probability(tables):
    """No position can cost less than floor_bits, whatever came before: the payload-size check relies on it."""
    coder = ContextZCoder(tables)
    symbols = np.broadcast_to(tables.argmax(1), (30, 30, 5))  # the cheapest content there is: one context fills past CAP
    p = np.stack(list(coder._forward(symbols[None], coder._counts(), 0, 30)))[:, 0]  # (30, 30, 5, 9)
    per_position = -np.log2(np.take_along_axis(p, symbols[..., None], -1)).sum(axis=(-2, -1))
    assert coder.floor_bits > 0
    assert per_position.min() >= coder.floor_bits * (1 - 1e-9)
    assert per_position.min() <= coder.floor_bits * 1.05  # and the floor is nearly reached: it is not loose
