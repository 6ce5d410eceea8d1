"""The Voila dashboard: the New Import wizard and Import History of seed 000, in the browser.

`Dashboard` is the page: each visitor signs in, then gets `App(client)` as that user;
`notebooks/dashboard.ipynb` builds it with `Dashboard.from_environment()`, and
`launch.start_voila()` serves that notebook with kernels that end (`KernelCulling`).
"""

from bulkassist.dashboard.app import App
from bulkassist.dashboard.launch import KernelCulling, RunningVoila, start_voila
from bulkassist.dashboard.signin import Dashboard

__all__ = ["App", "Dashboard", "KernelCulling", "RunningVoila", "start_voila"]
