"""Kernels that end: Voila serving the dashboard with a short idle timeout and a cap on kernels, loaded
again and again like `curl` does (no page ever connects), against a real server."""

from __future__ import annotations

import time

import pytest
import requests

from bulkassist.dashboard import KernelCulling, start_voila
from bulkassist.dashboard.launch import REFILL_DELAY, WEBSOCKET_MAX_MESSAGE_BYTES, voila_config

# No xdist group: this test starts its own Voila and no browser, so it may run on either worker.
pytestmark = [pytest.mark.browser]

# Every load starts a kernel: 5 loads and the pool's pre-heated kernel would be 6 kernels without the cap.
# (3 loads against a cap of 2 could leave only the pre-heated kernel once the cap had ended the others, and
# then the culler had nothing to end.)
CAP, IDLE, LOADS = 3, 4, 5


def test_page_loads_leave_at_most_the_cap_of_kernels_and_idle_ones_end(sqlite_server: object) -> None:
    culling = KernelCulling(idle_timeout=IDLE, cull_interval=1, max_kernels=CAP)
    with start_voila(sqlite_server.url, culling=culling, timeout=120) as voila:
        most = 0
        for _ in range(LOADS):
            page = requests.get(voila.url, timeout=120)
            assert page.status_code == 200
            most = max(most, len(voila.kernels()))
        assert most <= CAP  # without the cap every load would leave one more kernel running
        # After the idle timeout only the pre-heated kernel waiting for the next visitor is left.
        deadline = time.monotonic() + IDLE + 30

        def culled() -> bool:  # jupyter_server's culler says why it ended a kernel
            log = voila.log_path.read_text()
            return "due to" in log and "seconds of inactivity" in log

        while (len(voila.kernels()) > 1 or not culled()) and time.monotonic() < deadline:
            time.sleep(0.5)
        alive = voila.kernels()
        assert len(alive) <= 1, f"{len(alive)} kernels alive {IDLE} s after the last of {LOADS} page loads"
        assert culled(), voila.log_path.read_text()[-2000:]  # the culler ended them, not only the cap
        assert requests.get(voila.url, timeout=120).status_code == 200  # and the dashboard still serves


def test_voila_config_sets_the_websocket_size_culling_and_cap() -> None:
    config = voila_config(KernelCulling(idle_timeout=600, cull_interval=30, cull_connected=False, max_kernels=7))
    assert config["Voila"]["tornado_settings"]["websocket_max_message_size"] == WEBSOCKET_MAX_MESSAGE_BYTES
    assert config["MappingKernelManager"] == {"cull_idle_timeout": 600, "cull_interval": 30,
                                              "cull_connected": False}
    assert config["CappedKernelManager"] == {"max_kernels": 7}
    assert config["VoilaKernelManager"] == {"fill_delay": REFILL_DELAY}
    assert config["VoilaConfiguration"]["multi_kernel_manager_class"].endswith("kernels.CappedKernelManager")
