"""Permission classes: only "is signed in". Row visibility is PostgreSQL's job (RLS)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from api.errors import ErrorCode
from schema.context import Info


class IsAuthenticated(BasePermission):
    message = "Sign in to do this"
    error_extensions = {"code": ErrorCode.UNAUTHENTICATED.value}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal is not None
