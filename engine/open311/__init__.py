"""Open311 GeoReport v2: the city as a server (services, requests, tokens) and external units as clients.

- `errors.py`  the spec's error (an HTTP status, a code, a description)
- `keys.py`    client applications and their api keys (hashed, tenant-scoped, audited)
- `services.py` categories as services and service definitions
- `fields.py`  a ticket as a service request (the status rule, public fields only)
- `posting.py` a POST requests form → the intake every channel goes through
- `remote.py`  the client half: tasks of a unit with `open311:` posted through the outbox, polled back

The HTTP side is `web/open311/`; the developers' documentation `docs/open311.md`.
"""
