"""The Admin page: the admin disables someone and that person's open app is signed out
(ADM-01, AUTH-03); invites listed and revoked; the security log on the accounts
page (ADM-02). The admin is the shared server's first user, who signed up before anyone else."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, WebSocket, expect

from tests.fixtures.server import RunningServer, signed_up_user
from tests.pwa.helpers import Viewport, by_id, new_context, open_app, screenshot, sign_in, tap

ME = "{ me { email isAdmin } }"
SERIOUS = {"serious", "critical"}


def _admin_email(server: RunningServer) -> str:
    """The install's first user: the inviter, signed up before any test."""
    me = server.gql(ME, token=server.inviter_token)["data"]["me"]
    assert me["isAdmin"], me
    email: str = me["email"]
    return email


def _wait_until_listening(page: Page, frames: list[str | bytes]) -> None:
    """The app's WebSocket was acknowledged: its session is tracked by the server."""
    for _ in range(200):
        if any("connection_ack" in str(frame) for frame in frames):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"the app's WebSocket was never acknowledged: {frames}")


def _serious_violations(page: Page) -> list[str]:
    return [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]


def test_admin_disables_a_user_and_their_open_app_signs_out(
    pwa_server: RunningServer,
    browser: Browser,
    context: BrowserContext,
    page: Page,
    viewport: Viewport,
) -> None:
    """ADM-01: the admin taps Disable on the Admin page; the member's app, open on another
    device with its WebSocket listening, shows the sign-in screen by itself (4401)."""
    admin_email = _admin_email(pwa_server)
    member_email = f"member-{viewport.name}@example.com"
    signed_up_user(pwa_server, member_email)

    member_context = new_context(browser, viewport)
    try:
        member_page = member_context.new_page()
        frames: list[str | bytes] = []

        def watch(socket: WebSocket) -> None:
            socket.on("framereceived", lambda frame: frames.append(frame))

        member_page.on("websocket", watch)
        sign_in(member_context, pwa_server, member_email)
        open_app(member_page, pwa_server, "accounts")
        expect(by_id(member_page, "open-admin")).to_have_count(0)  # not an admin
        expect(by_id(member_page, "security-event").first).to_have_attribute(
            "data-kind", "SIGNED_IN"
        )
        _wait_until_listening(member_page, frames)

        sign_in(context, pwa_server, admin_email)
        open_app(page, pwa_server, "accounts")
        tap(viewport, by_id(page, "open-admin"))
        expect(by_id(page, "admin-page")).to_be_visible()
        row = page.locator(f'[data-testid="admin-user"][data-email="{member_email}"]')
        expect(row).to_have_attribute("data-disabled", "false")
        screenshot(page, viewport, "admin")
        assert _serious_violations(page) == []

        tap(viewport, row.get_by_test_id("admin-user-disable"))
        tap(viewport, by_id(page, "confirm-ok"))
        expect(row).to_have_attribute("data-disabled", "true")
        expect(by_id(member_page, "signin-form")).to_be_visible(timeout=5_000)

        # enabled again: the member can sign in once more
        tap(viewport, row.get_by_test_id("admin-user-enable"))
        expect(row).to_have_attribute("data-disabled", "false")
        sign_in(member_context, pwa_server, member_email)
    finally:
        member_context.close()


def test_admin_makes_and_revokes_an_invite(
    pwa_server: RunningServer, context: BrowserContext, page: Page, viewport: Viewport
) -> None:
    """ADM-01: a new invite shows as pending in the list; Revoke makes it revoked."""
    sign_in(context, pwa_server, _admin_email(pwa_server))
    open_app(page, pwa_server, "admin")
    expect(by_id(page, "admin-page")).to_be_visible()
    pending = page.locator('[data-testid="admin-invite"][data-status="PENDING"]')
    before = pending.count()
    tap(viewport, by_id(page, "create-invite"))
    expect(by_id(page, "invite-code")).to_be_visible()
    expect(pending).to_have_count(before + 1)
    newest = by_id(page, "admin-invite").first
    invite_id = newest.get_attribute("data-invite-id")
    tap(viewport, newest.get_by_test_id("admin-invite-revoke"))
    tap(viewport, by_id(page, "confirm-ok"))
    revoked = page.locator(f'[data-testid="admin-invite"][data-invite-id="{invite_id}"]')
    expect(revoked).to_have_attribute("data-status", "REVOKED")
