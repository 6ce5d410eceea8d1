"""The Voila dashboard: the New Import wizard and Import History of seed 000, in the browser.

`App(client)` is the whole page; `notebooks/dashboard.ipynb` builds it with
`App.from_environment()`, and `launch.start_voila()` serves that notebook.
"""

from bulkassist.dashboard.app import App
from bulkassist.dashboard.launch import RunningVoila, start_voila

__all__ = ["App", "RunningVoila", "start_voila"]
