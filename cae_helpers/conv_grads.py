"""2-D 'same' convolutions whose slow passes run as forward convolutions (TensorFlow, channels-last, float32).

Without oneDNN's fast paths (TensorFlow enables them by default only on CPUs with AVX-512 VNNI / BF16 or AMX; an
AMD EPYC Zen 2 has AVX2 only; `TF_ENABLE_ONEDNN_OPTS=1` turns them on, as the command line's training commands
do there since `cli.onednn_restart_wanted`, and then these forms stand aside),
TensorFlow's Eigen kernels for a convolution's input gradient and for a transposed convolution run 2-4x slower than
a forward convolution of the same multiply-adds (README, "Training speed"). The three are adjoints of one another,
so each slow one is written as a fast one:

- stride 1, odd kernel: d/dx conv(x, w) = conv(dy, w flipped in space, in/out swapped), and a stride-1 transposed
  conv is that conv too;
- transposed, stride 2: every output pixel (2i + a, 2j + b) sums the input's 3x3 neighbourhood of (i, j) under the
  taps of phase (a, b), so the whole transposed convolution is one stride-1 3x3 convolution to 4x the channels,
  interleaved by depth_to_space (`phase_kernel`);
- stride 2: d/dx conv(x, w) = conv_transpose(dy, w) (the phase form); d/dx conv_transpose(x, w) = conv(dy, w, 2).

Kernel gradients stay TensorFlow's Conv2DBackpropFilter. The maths is the stock ops' (float32 sums in another order:
tests/test_conv_grads.py compares values and gradients with them).
"""

from __future__ import annotations

import functools

import numpy as np


def fast_conv_supported(kernel_size, strides, dilation_rate, groups: int, data_format: str, dtype) -> bool:
    """Whether `conv2d` / `conv2d_transpose` below cover a Keras layer's settings (else: its stock call).

    TensorFlow on a CPU with oneDNN's kernels off only (measured there; with them on, as TensorFlow sets them for
    CPUs with AVX-512 VNNI / BF16 or AMX or as `TF_ENABLE_ONEDNN_OPTS=1` does, its own passes are as fast as forward
    ones and these measured 1-5 % slower; a GPU's kernels are another matter), float32 compute only, odd square
    kernels, equal strides of 1 or 2.
    """
    import keras

    k, s = tuple(kernel_size), tuple(strides)
    if not (keras.backend.backend() == "tensorflow" and str(dtype) == "float32" and data_format == "channels_last"
            and groups == 1 and tuple(dilation_rate) == (1, 1) and k[0] == k[1] and k[0] % 2 == 1
            and s[0] == s[1] and s[0] in (1, 2)):
        return False
    return not onednn_on() and not _gpu_visible()


@functools.lru_cache(maxsize=None)
def onednn_on() -> bool:
    """Whether TensorFlow runs oneDNN's kernels in this process (decided when it was imported)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:  # a TensorFlow without the flag: assume its defaults, which these forms were measured under
        return False
    return bool(_pywrap_util_port.IsMklEnabled())


def _gpu_visible() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU"))


@functools.lru_cache(maxsize=None)
def _phase_taps(k: int) -> tuple[np.ndarray, int]:
    """(taps (r, r, 4) into the flattened k*k kernel, k*k where a tap is empty; r) for a stride-2 'same' transposed conv.

    Output pixel 2i + a takes input pixel i + d under tap a - 2d + off (off = (k - 2) // 2, TensorFlow's padding
    before); r = 2 * max|d| + 1 covers every d that meets a tap.
    """
    off = (k - 2) // 2
    reach = max(abs(d) for a in (0, 1) for d in range(-k, k + 1) if 0 <= a - 2 * d + off < k)
    r = 2 * reach + 1
    taps = np.full((r, r, 4), k * k, np.int32)
    for a in (0, 1):
        for b in (0, 1):
            for dy in range(-reach, reach + 1):
                for dx in range(-reach, reach + 1):
                    ty, tx = a - 2 * dy + off, b - 2 * dx + off
                    if 0 <= ty < k and 0 <= tx < k:
                        taps[dy + reach, dx + reach, 2 * a + b] = ty * k + tx
    return taps, r


def phase_kernel(w):
    """(r, r, in, 4 out) stride-1 kernel of the stride-2 transposed conv with kernel w (k, k, out, in); depth = phase * out + c."""
    import tensorflow as tf

    k, out_c, in_c = w.shape[0], w.shape[2], w.shape[3]
    taps, r = _phase_taps(int(k))
    flat = tf.concat([tf.reshape(w, (k * k, out_c, in_c)), tf.zeros((1, out_c, in_c), w.dtype)], axis=0)
    picked = tf.gather(flat, taps.reshape(-1))  # (r * r * 4, out, in)
    picked = tf.transpose(tf.reshape(picked, (r, r, 4, out_c, in_c)), (0, 1, 4, 2, 3))  # (r, r, in, 4, out)
    return tf.reshape(picked, (r, r, in_c, 4 * out_c))


def _transpose2(x, w):
    """conv2d_transpose(x, w, stride 2, 'same'): x (B, H, W, in), w (k, k, out, in) -> (B, 2H, 2W, out)."""
    import tensorflow as tf

    return tf.nn.depth_to_space(tf.nn.conv2d(x, phase_kernel(w), 1, "SAME"), 2)


def _filter_grad(x, w, dy, stride: int):
    import tensorflow as tf

    return tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=tf.shape(w), out_backprop=dy,
                                           strides=[1, stride, stride, 1], padding="SAME")


def _flipped(w):
    """w (k, k, a, b) -> (k, k, b, a) flipped in space: the kernel of a stride-1 'same' conv's adjoint (k odd)."""
    import tensorflow as tf

    return tf.transpose(tf.reverse(w, [0, 1]), (0, 1, 3, 2))


def _strided_input_grad(x, w, dy):
    """d/dx of conv(x, w, 2, 'same') given dy: the phase form where x's height and width are even (statically or
    at run time), else TensorFlow's kernel (odd sizes pad one pixel more before, which the phase taps do not
    follow)."""
    import tensorflow as tf

    def stock():
        return tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(x), filter=w, out_backprop=dy,
                                              strides=[1, 2, 2, 1], padding="SAME")

    h, wd = x.shape[1], x.shape[2]
    if h is not None and wd is not None:
        return _transpose2(dy, w) if h % 2 == 0 and wd % 2 == 0 else stock()
    even = tf.logical_and(tf.equal(tf.shape(x)[1] % 2, 0), tf.equal(tf.shape(x)[2] % 2, 0))
    return tf.ensure_shape(tf.cond(even, lambda: _transpose2(dy, w), stock), x.shape)


def conv2d(x, w, stride: int):
    """tf.nn.conv2d(x, w, stride, 'SAME'), w (k, k, in, out), k odd, stride 1 or 2; its input gradient as a forward conv."""
    import tensorflow as tf

    @tf.custom_gradient
    def op(x, w):
        def grad(dy):
            dx = tf.nn.conv2d(dy, _flipped(w), 1, "SAME") if stride == 1 else _strided_input_grad(x, w, dy)
            return dx, _filter_grad(x, w, dy, stride)

        return tf.nn.conv2d(x, w, stride, "SAME"), grad

    return op(tf.convert_to_tensor(x), tf.convert_to_tensor(w))  # a variable's value, so the gradient reaches it


def conv2d_transpose(x, w, stride: int):
    """conv2d_transpose(x, w, stride, 'same') -> (B, sH, sW, out), w (k, k, out, in), k odd, stride 1 or 2; both passes
    as forward convs (stride 1: the conv with the flipped kernel; stride 2: the phase form)."""
    import tensorflow as tf

    @tf.custom_gradient
    def op(x, w):
        def grad(dy):  # the forward conv this one is the adjoint of, with dy as its input
            return tf.nn.conv2d(dy, w, stride, "SAME"), _filter_grad(dy, w, x, stride)

        y = tf.nn.conv2d(x, _flipped(w), 1, "SAME") if stride == 1 else _transpose2(x, w)
        return y, grad

    return op(tf.convert_to_tensor(x), tf.convert_to_tensor(w))
