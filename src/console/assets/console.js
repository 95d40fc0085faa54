// The console's behaviour: local times, copy buttons, JSON checks before sending, the graph's
// pan/zoom and step details, and live updates of a running execution. Pages work without it
// (every action is a plain link or form); this only adds to them.

function localizeTimes(root) {
  for (const time of root.querySelectorAll("time[datetime]")) {
    const utc = time.getAttribute("datetime");
    if (!utc) continue;
    const date = new Date(utc);
    if (Number.isNaN(date.getTime())) continue;
    time.textContent = date.toLocaleString();
    time.title = `${utc} (UTC)`;
  }
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.dataset.copied = "";
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select and copy";
  }
}

function setUpCopyButtons(root) {
  for (const button of root.querySelectorAll("button[data-copy], button[data-copy-value]")) {
    button.addEventListener("click", () => {
      const target = button.dataset.copy && document.getElementById(button.dataset.copy);
      const text = target ? target.textContent : button.dataset.copyValue;
      copy(text || "", button);
    });
  }
}

// Input JSON is checked here first, so a typo does not cost a round trip.
function setUpJsonChecks() {
  for (const form of document.querySelectorAll("form[data-validate-json]")) {
    form.addEventListener("submit", (event) => {
      const field = form.elements.namedItem(form.dataset.validateJson);
      const report = document.getElementById("input-invalid");
      const text = field.value.trim();
      let problem = "";
      if (text !== "") {
        try {
          const value = JSON.parse(text);
          if (value === null || typeof value !== "object" || Array.isArray(value)) {
            problem = "The input must be a JSON object, such as {\"key\": \"value\"}.";
          }
        } catch (error) {
          problem = `The input is not valid JSON: ${error.message}`;
        }
      }
      if (problem) {
        event.preventDefault();
        report.textContent = problem;
        report.hidden = false;
        field.setAttribute("aria-invalid", "true");
        field.focus();
      }
    });
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

function setUpGraph() {
  const box = document.querySelector("[data-pan-zoom]");
  if (!box) return;
  const svg = box.querySelector("svg");
  const content = svg && svg.querySelector(":scope > g");
  if (content && window.panzoom) {
    window.panzoom(content, { smoothScroll: false, bounds: false, zoomDoubleClickSpeed: 1 });
  }
  const stepUrl = box.dataset.stepUrl;
  if (!stepUrl) return;
  const open = async (node, push) => {
    const answer = await fetch(`${stepUrl}?node=${encodeURIComponent(node)}`, { credentials: "same-origin" });
    if (!answer.ok) return;
    const panel = document.getElementById("step-panel");
    panel.innerHTML = await answer.text();
    localizeTimes(panel);
    for (const selected of box.querySelectorAll(".node.selected")) selected.classList.remove("selected");
    const element = box.querySelector(`[data-node="${CSS.escape(node)}"]`);
    if (element) element.classList.add("selected");
    if (push) {
      const url = new URL(window.location.href);
      url.searchParams.set("step", node);
      history.pushState({ step: node }, "", url);
    }
    panel.querySelector("h3")?.setAttribute("tabindex", "-1");
    panel.querySelector("h3")?.focus();
  };
  for (const node of box.querySelectorAll("[data-node]")) {
    const id = node.getAttribute("data-node");
    node.addEventListener("click", () => open(id, true));
    node.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        open(id, true);
      }
    });
  }
  window.addEventListener("popstate", () => {
    const step = new URL(window.location.href).searchParams.get("step");
    if (step) open(step, false);
    else document.getElementById("step-panel").innerHTML = "";
  });
}

function recolour(statuses) {
  for (const [node, status] of Object.entries(statuses || {})) {
    const element = document.querySelector(`[data-pan-zoom] [data-node="${CSS.escape(node)}"]`);
    if (!element) continue;
    const name = typeof status === "string" ? status : status.status;
    for (const old of [...element.classList]) {
      if (old.startsWith("status-")) element.classList.remove(old);
    }
    element.classList.add(`status-${name}`);
  }
}

function setUpLive() {
  const live = document.getElementById("live");
  const url = live && live.dataset.liveUrl;
  if (!url) return;
  const source = new EventSource(`${url}?after=${live.dataset.lastEvent || 0}`);
  source.addEventListener("history", (message) => {
    const update = JSON.parse(message.data);
    live.dataset.lastEvent = update.last;
    if (live.hasAttribute("data-live-rows") && update.rows) {
      const body = document.getElementById("history-rows");
      body.insertAdjacentHTML("beforeend", update.rows);
      localizeTimes(body);
    }
    recolour(update.statuses);
    const execution = update.execution;
    if (execution) {
      source.close();
      const status = document.getElementById("execution-status");
      status.textContent = execution.status;
      status.className = `status status-${execution.status}`;
      document.getElementById("execution-output").textContent = execution.output;
      if (execution.stopped) {
        const stopped = document.getElementById("execution-stopped");
        stopped.innerHTML = "";
        const time = document.createElement("time");
        time.setAttribute("datetime", execution.stopped);
        time.textContent = execution.stopped;
        stopped.append(time);
        localizeTimes(stopped);
      }
      for (const id of ["stop-box"]) document.getElementById(id)?.remove();
    }
  });
}

localizeTimes(document);
setUpCopyButtons(document);
setUpJsonChecks();
setUpGraph();
setUpLive();
