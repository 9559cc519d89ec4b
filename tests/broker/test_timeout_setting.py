"""BROKER_TIMEOUT_SECONDS (TRADE-05, ISO-01): how long a broker call waits for each read of
its answer, the wait for the account's turn included; a bad value stops start-up with one
line that names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.broker import BrokerGateway
from api.config import ConfigError, Settings, load_settings
from api.vault import Vault
from tests.fixtures.postgres import TEST_CREDENTIALS_KEY


def _settings(home: Path, **env: str) -> Settings:
    return load_settings({"ALPACA_CHAT_HOME": str(home), **env})


def test_the_gateway_waits_as_long_as_it_is_told(tmp_path: Path) -> None:
    vault = Vault([TEST_CREDENTIALS_KEY])
    told = BrokerGateway(_settings(tmp_path, BROKER_TIMEOUT_SECONDS="2.5"), vault)
    default = BrokerGateway(_settings(tmp_path), vault)
    try:
        assert told.pool.timeouts.read == 2.5
        assert default.pool.timeouts.read == 10.0
    finally:
        told.close()
        default.close()


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_timeout_that_is_not_a_positive_number_stops_start_up(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="BROKER_TIMEOUT_SECONDS"):
        _settings(tmp_path, BROKER_TIMEOUT_SECONDS=value)
