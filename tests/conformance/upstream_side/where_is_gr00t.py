"""Print where ``gr00t`` is imported from (the checkout, not an installed copy)."""

import json
import os

import gr00t

print(json.dumps({"gr00t": os.path.dirname(os.path.abspath(gr00t.__file__))}))
