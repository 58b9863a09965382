"""Photos: checked by content, re-encoded without metadata, thumbnailed, stored behind one interface.

`images.py` talks to Pillow (the only module that does), `storage.py` holds
the blobs, `settings.py` the limits. The service layer
(`engine/service/attachments.py`) ties them to tickets.
"""
