"""The PWA is installable and its shell loads offline (MOB-04), on a phone and on
a desktop. Chrome answers installability questions only for a non-incognito
profile, so these tests use a persistent context of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Playwright, expect

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import RunningServer
from tests.pwa.conftest import LAUNCH_ARGS
from tests.pwa.helpers import Viewport, by_id, open_app, screenshot, seed_user, sign_in


@pytest.fixture
def profile(
    playwright: Playwright, chromium_path: str, viewport: Viewport, tmp_path: Path
) -> Iterator[BrowserContext]:
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=chromium_path,
        args=LAUNCH_ARGS,
        **{**viewport.context_options(), "service_workers": "allow"},
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


def test_chrome_reports_no_installability_errors(
    pwa_server: RunningServer, profile: BrowserContext
) -> None:
    """MOB-04: manifest, icons and service worker satisfy Chrome (Page.getInstallabilityErrors)."""
    page = profile.pages[0] if profile.pages else profile.new_page()
    page.goto(pwa_server.url + "/")
    expect(by_id(page, "signin-form")).to_be_visible()
    assert page.evaluate("() => navigator.serviceWorker.ready.then((r) => !!r.active)")
    cdp = profile.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest.get("errors") == [], manifest.get("errors")
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors


def test_shell_loads_offline_after_one_visit(
    fresh_server: RunningServer,
    sandbox: SandboxHandle,
    profile: BrowserContext,
    viewport: Viewport,
) -> None:
    """MOB-04: after one visit, with the network gone (browser offline and the server
    stopped), a reload shows the app shell with the last known account and the
    offline notice; trading is disabled."""
    user = seed_user(fresh_server, sandbox, "offline@example.com")
    user.activate(user.paper_id)
    sign_in(profile, fresh_server, user.email)
    page = profile.pages[0] if profile.pages else profile.new_page()
    open_app(page, fresh_server)
    expect(by_id(page, "cash")).to_have_attribute("data-value", "25000.00")
    page.evaluate("() => navigator.serviceWorker.ready")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")  # clients.claim()

    profile.set_offline(True)
    fresh_server.stop()
    page.reload()
    expect(by_id(page, "app")).to_be_visible()
    expect(by_id(page, "offline-notice")).to_be_visible()
    expect(by_id(page, "stale-indicator")).to_be_visible()
    expect(by_id(page, "account-nickname")).to_have_text("Main")
    expect(by_id(page, "cash")).to_have_attribute("data-value", "25000.00")
    screenshot(page, viewport, "offline")
    page.goto(fresh_server.url + "/#/trade")
    expect(by_id(page, "ticket-submit")).to_be_disabled()
