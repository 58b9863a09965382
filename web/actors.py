"""Who is calling, as the API routes name it (built on `web/auth.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from komunikator.web.auth import Principal, Staff, current_user

#: The signed-in user, or None (routes open to everyone: submitting a report).
OptionalActor = Annotated[Principal | None, Depends(current_user)]
#: A signed-in staff member (401 without credentials, 403 for residents).
StaffActor = Staff

__all__ = ["OptionalActor", "Principal", "StaffActor"]
