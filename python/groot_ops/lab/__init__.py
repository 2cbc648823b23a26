"""The lab: a complete stand-in of production on the local Docker engine (``groot-ops lab``)."""
