"""The ``groot-ops`` command line. Each sub-command group lives in its own module."""
