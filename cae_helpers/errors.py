"""Project exceptions: each names what was expected and what came."""


class DataError(ValueError):
    """The CIFAR-100 data set is missing, corrupt, or not in the official python layout."""


class CodecError(ValueError):
    """A byte string that is not a valid image of this codec: empty, truncated, foreign or corrupt."""
