"""A small Hugging Face Hub-compatible server for tests and the lab (see hub-protocol.md).

It speaks the client-side protocol of the pinned ``huggingface_hub`` version: repos, commits,
branches and tags, tree listing, resolve (HEAD/GET with Range), LFS batch + PUT, preupload with
``oid``, NDJSON commits, Xet write tokens for hf_xet's ``local://`` CAS, private repos, and fault
injection. It is not a Hub: it exists so that the real client can be exercised offline.

Tree listings are paginated with the Hub's page sizes as the pinned client documents them:
``tree_page_size`` entries a page (1000 by default, at most 50 with ``expand=true``; settable per
server, ``--tree-page-size`` standalone), and each page that has a successor carries
``Link: <next url>; rel="next"`` with an opaque ``cursor``. The cursor pins the commit the first
page was listed from; one the server did not issue for that listing is a 400.
"""

from tests.hub_server.server import Fault, HubServer, RecordedRequest

__all__ = ["Fault", "HubServer", "RecordedRequest"]
