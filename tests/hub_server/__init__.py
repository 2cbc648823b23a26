"""A small Hugging Face Hub-compatible server for tests and the lab (see hub-protocol.md).

It speaks the client-side protocol of the pinned ``huggingface_hub`` version: repos, commits,
branches and tags, tree listing, resolve (HEAD/GET with Range), LFS batch + PUT, preupload with
``oid``, NDJSON commits, Xet write tokens for hf_xet's ``local://`` CAS, private repos, and fault
injection. It is not a Hub: it exists so that the real client can be exercised offline.
"""

from tests.hub_server.server import Fault, HubServer, RecordedRequest

__all__ = ["Fault", "HubServer", "RecordedRequest"]
