"""Permission classes: "is signed in" and "is the admin". Row visibility is PostgreSQL's
job (RLS); the admin's directory functions check the admin again inside (ADM-01)."""

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


class IsAdmin(BasePermission):
    """The install's admin (ADM-01); list after IsAuthenticated, which answers the signed out."""

    message = "Only the admin can do this"
    error_extensions = {"code": ErrorCode.FORBIDDEN.value}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            return False
        user = await info.context.auth.current_user(principal)
        return user is not None and user.is_admin
