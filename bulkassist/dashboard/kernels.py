"""Kernels that end: the culling settings and the cap on kernels of the Voila process serving the dashboard.

Voila starts one kernel (a Python process of a few hundred MB) per page load and, left alone, keeps it
until Voila stops: a plain `curl` of the page leaves one behind. jupyter_server's own culler ends kernels
idle for `MappingKernelManager.cull_idle_timeout` seconds, checked every `cull_interval` seconds; with
`cull_connected` it also ends a kernel whose page is still open but idle (the visitor reloads and signs in
again). jupyter_server has no cap on kernels, so `CappedKernelManager` adds one: a page load that would go
over `max_kernels` first shuts down the least recently active kernel that has no page connected (never a
pre-heated one waiting for the next visitor), and is refused with 503 when every kernel has a page open.

Voila loads this module by name (`launch.KernelCulling.config()`); the dashboard's kernels never import it.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Integer


class CappedKernelManager(AsyncMappingKernelManager):
    """jupyter_server's kernel manager with a cap on running kernels (Voila's pre-heating wraps it)."""

    max_kernels = Integer(0, config=True, help="Most kernels running at once (0: no cap). A new page over the "
                                               "cap first ends the least recently active kernel without a page.")

    # jupyter_server's manager starts kernels asynchronously; jupyter_client's base class declares it sync.
    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        if self.max_kernels > 0 and len(self._kernels) >= self.max_kernels:
            await self._make_room()
        return await super().start_kernel(*args, **kwargs)

    async def _make_room(self) -> None:
        waiting = self._preheated()
        spare = [kid for kid, kernel in self._kernels.items()
                 if not self._kernel_connections.get(kid) and kid not in waiting
                 and getattr(kernel, "execution_state", "") != "busy"]
        if not spare:
            raise web.HTTPError(503, f"The dashboard is serving its most visitors at once ({self.max_kernels}); "
                                     f"try again in a few minutes.")
        oldest = min(spare, key=lambda kid: self._kernels[kid].last_activity)
        self.log.info("Shutting down kernel %s: %s kernels are running, the cap", oldest, len(self._kernels))
        await self.shutdown_kernel(oldest)

    def _preheated(self) -> set[str]:
        """Kernels Voila has pre-heated for the next visitors (`_pools` exists only when it pre-heats)."""
        ready = set()
        for pool in getattr(self, "_pools", {}).values():
            for task in pool:
                if task.done() and not task.cancelled() and task.exception() is None:
                    ready.add(task.result().get("kernel_id"))
        return ready
