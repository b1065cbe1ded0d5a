() => {
  // The page's own script (launch(js=...)): messages next to failed actions; bertviz frames sized to their views.
  // A failed action's message stays next to the button that started it, until that button runs again (the toast
  // that gradio shows fades). The text is copied with textContent: it is never markup.
  let lastButton = null;
  const noteFor = (button) => {
    const next = button.nextElementSibling;
    return next && next.classList.contains("action-error") ? next : null;
  };
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
        note.textContent = text;
      }
    }
  }).observe(document.body, {childList: true, subtree: true});
  // A bertviz frame (sandboxed, so it cannot resize itself) says how tall its views are; the frame takes that height.
  window.addEventListener("message", (event) => {
    const height = event.data && Number(event.data.bertvizHeight);
    if (!height || height < 100 || height > 5000) return;
    for (const frame of document.querySelectorAll("iframe.bertviz-frame")) {
      if (frame.contentWindow === event.source) frame.style.height = `${Math.ceil(height) + 12}px`;
    }
  });
}
