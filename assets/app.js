() => {
  // The page's own script (launch(js=...)): what a running action is doing and why a failed one failed, next to the
  // button that started it; bertviz frames sized to their views.
  // A failed action's message stays next to the button that started it, until that button runs again (the toast
  // that gradio shows fades). While it runs (after its first second), the progress its outputs show (often below the
  // fold) is repeated under the button: "Loading mini-bert…", "Guessing…". Text is copied with textContent: it is
  // never markup.
  let lastButton = null;
  const noteFor = (button) => {
    const next = button.nextElementSibling;
    return next && next.classList.contains("action-error") ? next : null;
  };
  const progressText = (panel) => {
    const visible = (el) => el.offsetParent !== null;
    // several outputs show the same progress, some a step behind: the most advanced one is current
    const levels = [...panel.querySelectorAll(".progress-level-inner")].filter(visible)
      .map((el) => el.textContent.trim()).filter(Boolean)
      .map((text) => [parseFloat((text.match(/([0-9.]+)%$/) || [0, "0"])[1]), text.replace(/\s*-\s*[0-9.]+%$/, "")]);
    if (levels.length) return levels.sort((a, b) => b[0] - a[0])[0][1];
    const timer = [...panel.querySelectorAll(".progress-text")].find(visible);
    if (!timer) return "";
    const seconds = timer.textContent.trim().match(/[0-9.]+s/);
    return seconds ? `Working… ${seconds[0]}` : "Working…";
  };
  // One floating line under the running action's button (absolutely placed, so the layout never shifts).
  const progressNote = document.createElement("div");
  progressNote.className = "action-progress";
  progressNote.setAttribute("role", "status");
  let busySince = 0;   // shown for work that has run a second or more: a quick request does not flash it
  setInterval(() => {
    const running = lastButton && lastButton.isConnected && lastButton.offsetParent !== null;
    const text = running ? progressText(lastButton.closest("[role=tabpanel]") || document.body) : "";
    if (!text) { busySince = 0; progressNote.remove(); return; }
    busySince = busySince || performance.now();
    if (performance.now() - busySince < 1000) return;
    const box = lastButton.getBoundingClientRect();
    progressNote.style.top = `${box.bottom + window.scrollY + 4}px`;
    progressNote.style.left = `${box.left + window.scrollX}px`;
    progressNote.style.minWidth = `${box.width}px`;
    if (progressNote.textContent !== text) progressNote.textContent = text;
    if (!progressNote.isConnected) document.body.appendChild(progressNote);
  }, 200);
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.getAttribute("role") === "tab" || button.closest("[data-testid=toast-body]")) return;
    if (!button.id && !button.classList.contains("primary")) return;  // actions: the app's named or primary buttons
    lastButton = button;
    const old = noteFor(button);
    if (old) old.remove();
  }, true);
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) {
      if (node.nodeType !== 1) continue;
      const toasts = node.matches("[data-testid=toast-body].error") ? [node]
        : [...node.querySelectorAll("[data-testid=toast-body].error")];
      for (const toast of toasts) {
        const text = (toast.querySelector("[data-testid=toast-text]") || toast).textContent.trim();
        if (!lastButton || !lastButton.isConnected || !text) continue;
        let note = noteFor(lastButton);
        if (!note) {
          note = document.createElement("div");
          note.className = "action-error";
          note.setAttribute("role", "alert");
          lastButton.insertAdjacentElement("afterend", note);
        }
        // the first line is for the user; what follows (a developer's detail) is folded below it
        const [first, ...rest] = text.split("\n");
        note.textContent = first;
        if (rest.join("").trim()) {
          const more = document.createElement("details");
          const summary = document.createElement("summary");
          summary.textContent = "More";
          more.append(summary, document.createTextNode(rest.join("\n").trim()));
          note.append(more);
        }
        // said once: the note beside the button the user is looking at replaces the toast
        const box = lastButton.getBoundingClientRect();
        if (box.bottom > 0 && box.top < window.innerHeight) toast.style.display = "none";
      }
    }
  }).observe(document.body, {childList: true, subtree: true});
  // Results from an older text are marked as such until the action runs again. A section's results depend on the
  // text boxes of its panel and those of the tab around it (a family tab's shared text); their values when its
  // action starts are what it ran on. A word clicked to mask it runs the action on the text it is about to set:
  // what it ran on follows that change.
  const boxesOf = (panel) => {
    const outer = panel.parentElement && panel.parentElement.closest("[role=tabpanel]");
    const boxes = [...panel.querySelectorAll("textarea:not([disabled])")];
    if (outer) boxes.unshift(...[...outer.querySelectorAll("textarea:not([disabled])")]
      .filter((box) => box.closest("[role=tabpanel]") === outer));
    return boxes;
  };
  const valuesOf = (boxes) => boxes.map((box) => box.value).join("\u0000");
  // panel -> {boxes (found once, when its action first runs), done: their values then, stale: shown as stale}
  const ran = new Map();
  const following = new Map(); // panel -> [values before a word click, when]
  const actionOf = (panel) => panel.querySelector("button.primary[id], button[id$=-run]");
  const markStale = () => {
    for (const [panel, entry] of ran) {
      if (!panel.isConnected) { ran.delete(panel); continue; }
      const now = valuesOf(entry.boxes);
      const follow = following.get(panel);
      if (follow && (now !== follow[0] || performance.now() - follow[1] > 10000)) {
        following.delete(panel);
        if (now !== follow[0]) entry.done = now;
      }
      const stale = now !== entry.done;
      if (stale === entry.stale) continue;           // the page is touched only when the state changes
      entry.stale = stale;
      panel.classList.toggle("stale", stale);
      const note = panel.querySelector(":scope > .stale-note");
      if (stale && !note) {
        const made = document.createElement("div");
        made.className = "stale-note";
        made.setAttribute("role", "status");
        const button = actionOf(panel);
        made.textContent = "The results below were computed from an earlier text" +
          (button ? ` — press “${button.textContent.trim()}” to update them.` : ".");
        panel.prepend(made);
      } else if (!stale && note) note.remove();
    }
  };
  setInterval(markStale, 500);
  const started = (panel) => {
    if (!panel) return;
    const entry = ran.get(panel) || {boxes: boxesOf(panel), stale: false};
    entry.done = valuesOf(entry.boxes);
    ran.set(panel, entry);
    markStale();
  };
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.getAttribute("role") === "tab" || !(button.id || button.classList.contains("primary"))) return;
    started(button.closest("[role=tabpanel]"));
  }, true);
  document.addEventListener("change", (event) => {
    const panel = event.target.closest("[role=tabpanel]");
    if (event.target.type === "radio" && panel && ran.has(panel))
      following.set(panel, [valuesOf(ran.get(panel).boxes), performance.now()]);
  }, true);
  // Enter in a box that submits runs the action too. Enter in a family tab's text (above its sections) presses the
  // action of the section on show: every section reads that text.
  document.addEventListener("keydown", (event) => {
    const panel = event.target.closest && event.target.closest("[role=tabpanel]");
    if (event.key !== "Enter" || event.shiftKey || event.target.tagName !== "TEXTAREA" || !panel) return;
    const shown = [...panel.querySelectorAll("[role=tabpanel]")].find((inner) => inner.offsetParent !== null);
    const action = shown && !shown.contains(event.target) && actionOf(shown);
    if (action) { event.preventDefault(); action.click(); return; }
    setTimeout(() => [panel, shown].forEach((p) => p && ran.has(p) && started(p)), 0);
  }, true);
  // A cell of an attention view's head statistics ticks that head (or unticks it) in "Switch heads off" below. Plotly
  // gives a plot a new event emitter (_ev) when it draws it afresh: the click is bound once per emitter.
  const boundTo = new WeakMap();
  setInterval(() => {
    for (const plot of document.querySelectorAll("[id$=-attention-stats] .js-plotly-plot")) {
      if (typeof plot.on !== "function" || boundTo.get(plot) === plot._ev) continue;
      boundTo.set(plot, plot._ev);
      const key = plot.closest("[id$=-attention-stats]").id.replace(/-attention-stats$/, "");
      plot.on("plotly_click", (data) => {
        const point = data && data.points && data.points[0];
        const box = point && document.querySelector(
          `#${CSS.escape(key)}-heads-grid input[name="${CSS.escape(`L${point.y} H${point.x}`)}"]`);
        if (box) box.click();
      });
      plot.dataset.headClicks = "on";
    }
  }, 500);
  // A bertviz frame (sandboxed, so it cannot resize itself) says how tall its views are; the frame takes that height.
  window.addEventListener("message", (event) => {
    const height = event.data && Number(event.data.bertvizHeight);
    if (!height || height < 100 || height > 5000) return;
    for (const frame of document.querySelectorAll("iframe.bertviz-frame")) {
      if (frame.contentWindow === event.source) frame.style.height = `${Math.ceil(height) + 12}px`;
    }
  });
}
