"""Project exceptions: each names what was expected and what came."""


class DataError(ValueError):
    """The CIFAR-100 data set is missing, corrupt, or not in the official python layout."""
