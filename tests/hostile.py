"""Bodies a careless client sends: numbers JSON has no words for (NaN, Infinity, 1e999 parse in
Python as non-finite floats) in every JSON route's fields. Shared by the auth-mode suites."""
from __future__ import annotations

import json

JSON = {"content-type": "application/json"}
NON_FINITE = [b"NaN", b"Infinity", b"-Infinity", b"1e999"]
# (method, path, body template: {} is where the number goes)
NON_FINITE_ROUTES = [
    ("POST", "/api/recommendations", '{{"user_id": {}}}'),
    ("POST", "/api/recommendations", '{{"user_id": "u00001", "num_recommendations": {}}}'),
    ("POST", "/api/playlists", '{{"name": {}}}'),
    ("POST", "/api/playlists", '{{"name": "x", "tracks": {}}}'),
    ("PATCH", "/api/playlists/pl0001", '{{"tracks": {}}}'),
    ("POST", "/api/users", '{{"name": {}}}'),
    ("POST", "/api/users", '[{}]'),
]
NON_FINITE_CASES = [(method, path, template.format(number.decode()).encode())
                    for method, path, template in NON_FINITE_ROUTES for number in NON_FINITE]
# One number per route (cycling through them): few enough to stay inside any write quota.
NON_FINITE_SAMPLE = [(method, path, template.format(NON_FINITE[i % 4].decode()).encode())
                     for i, (method, path, template) in enumerate(NON_FINITE_ROUTES)]


def strict_json(text: str):
    """`text` as JSON proper: NaN and Infinity are Python's extensions, not JSON."""
    def refuse(word):
        raise ValueError(f"not JSON: {word}")
    return json.loads(text, parse_constant=refuse)
