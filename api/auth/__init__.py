"""Users, passwords, sessions, invites and abuse limits (AUTH-01..04).

`AuthService` (api.auth.service) is the one door the GraphQL layer uses.
"""

from api.auth.service import AuthService, Principal, SignedIn, UserInfo

__all__ = ["AuthService", "Principal", "SignedIn", "UserInfo"]
