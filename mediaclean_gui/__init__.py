"""mediaclean: preview and safely reclaim the disk and bucket space video pipelines leave behind."""

__version__ = "0.1.0"
