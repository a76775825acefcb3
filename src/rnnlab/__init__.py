"""rnnlab: character-level recurrent networks on PyTorch."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rnnlab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

from rnnlab.errors import UserError  # noqa: E402

__all__ = ["UserError", "__version__"]
