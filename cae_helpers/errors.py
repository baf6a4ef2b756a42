"""Project exceptions: each names what was expected and what came."""


class DataError(ValueError):
    """The CIFAR-100 data set is missing, corrupt, or not in the official python layout."""


class CodecError(ValueError):
    """A byte string that is not a valid image of this codec: empty, truncated, foreign or corrupt."""


class OtherModelError(CodecError):
    """A byte string that another model made; `maker`: the shipped codec that did, where one is known (else None)."""

    def __init__(self, message: str, maker: str | None = None):
        super().__init__(message)
        self.maker = maker


class StateCheckError(CodecError):
    """A byte string of versions 19-24 whose decoder did not end at its check word: damaged, or another model's."""


class CheckpointError(RuntimeError):
    """A resumable training checkpoint that cannot be read back."""


class RunLockedError(RuntimeError):
    """Another process is training into the same output folder."""


class SettingsMismatchError(ValueError):
    """A checkpoint made with other settings than the run that would resume it."""
