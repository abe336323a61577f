"""refeed: aggregate RSS/Atom/JSON feeds into one SQLite timeline and republish filtered feeds."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("refeed")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

PROJECT_URL = "https://github.com/refeed/refeed"
USER_AGENT = f"refeed/{__version__} (+{PROJECT_URL})"

__all__ = ["PROJECT_URL", "USER_AGENT", "__version__"]
