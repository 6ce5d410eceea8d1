"""The upload area: drag and drop a file, or click to browse (seed 000, Step 3).

ipywidgets' FileUpload is a button only, with no drop target, and it ships a
file of any size over the websocket before Python can refuse it. This small
anywidget does both in the browser: the drop area and the browse dialog feed
the same path, and a file over `max_bytes` is refused there, with its name
and size, without being sent.
"""

from __future__ import annotations

from collections.abc import Callable

import anywidget
import traitlets

_ESM = r"""
function render({ model, el }) {
  const input = document.createElement("input");
  input.type = "file";
  input.style.display = "none";
  const area = document.createElement("div");
  area.className = "ba-drop-area";
  area.tabIndex = 0;
  area.setAttribute("role", "button");
  area.innerHTML = '<div class="ba-drop-icon">⇪</div>'
    + '<div class="ba-drop-title">Drag and drop your file here</div>'
    + '<div class="ba-drop-or">or</div><span class="ba-browse">Browse Files</span>'
    + '<div class="ba-drop-accept"></div>';
  const accept = () => {
    input.accept = model.get("accept");
    area.querySelector(".ba-drop-accept").textContent = model.get("hint");
  };
  accept();
  model.on("change:accept", accept);
  model.on("change:hint", accept);
  el.classList.add("ba-dropzone");
  el.append(input, area);

  async function send(file) {
    if (!file) return;
    const max = model.get("max_bytes");
    if (max > 0 && file.size > max) {
      model.send({ event: "too_large", name: file.name, size: file.size });
      return;
    }
    model.send({ event: "reading", name: file.name, size: file.size });
    const buffer = await file.arrayBuffer();
    model.send({ event: "file", name: file.name, size: file.size }, undefined, [buffer]);
  }
  area.addEventListener("click", () => input.click());
  area.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
  input.addEventListener("change", () => { send(input.files[0]); input.value = ""; });
  area.addEventListener("dragover", (e) => { e.preventDefault(); area.classList.add("ba-drag"); });
  area.addEventListener("dragleave", () => area.classList.remove("ba-drag"));
  area.addEventListener("drop", (e) => {
    e.preventDefault();
    area.classList.remove("ba-drag");
    send(e.dataTransfer.files[0]);
  });
}
export default { render };
"""

FileHandler = Callable[[str, bytes], None]
RefusalHandler = Callable[[str, int], None]


class FileDrop(anywidget.AnyWidget):
    """A drop area with a Browse Files button; calls `on_file(name, content)` for each file received."""

    _esm = _ESM
    accept = traitlets.Unicode(".csv,.xlsx,.txt").tag(sync=True)
    hint = traitlets.Unicode("CSV or XLSX").tag(sync=True)
    max_bytes = traitlets.Int(0).tag(sync=True)  # 0: no limit

    def __init__(self, on_file: FileHandler, on_too_large: RefusalHandler,
                 on_reading: RefusalHandler | None = None, **kwargs: object):
        super().__init__(**kwargs)
        self._on_file, self._on_too_large, self._on_reading = on_file, on_too_large, on_reading
        self.on_msg(self._message)

    def _message(self, _: object, content: dict, buffers: list) -> None:
        event = content.get("event")
        if event == "file" and buffers:
            self._on_file(content["name"], bytes(buffers[0]))
        elif event == "too_large":
            self._on_too_large(content["name"], int(content["size"]))
        elif event == "reading" and self._on_reading is not None:
            self._on_reading(content["name"], int(content["size"]))
