// A tiny hash router. The hash keeps every id a view needs ("#/quotes/<quoteId>"), so a
// reload, the back button, or the payment callback's redirect lands on the right view
// with nothing kept in storage. In React, react-router's HashRouter plays this part.

/** "#/pay/q1/p2?installment=3" -> { name: "pay", params: ["q1", "p2"], query, path } */
export function parseHash(hash = window.location.hash) {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name = "", ...params] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { name, params, query: new URLSearchParams(search), path: `/${path}${search ? `?${search}` : ""}` };
}

/** Go to a view, e.g. go("/quotes/" + quoteId). */
export function go(path) {
  const hash = `#${path}`;
  if (window.location.hash === hash) {
    // Same hash: the browser fires no hashchange, but the caller wants the view redrawn.
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    window.location.hash = hash;
  }
}

/** Call `show(route)` now and on every hash change. */
export function startRouter(show) {
  window.addEventListener("hashchange", () => show(parseHash()));
  show(parseHash());
}
