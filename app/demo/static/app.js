// The app shell: asks the gateway who the visitor is, then shows one view per hash route.
// Each view is a module exporting `render(root, ctx)`; in React each would be a component
// and `ctx` its props/context.

import { api } from "./api.js";
import { go, startRouter } from "./router.js";
import { problemText } from "./messages.js";
import { clearBanner, h, showBanner, showError, showProblem } from "./ui.js";
import * as signIn from "./views/sign-in.js";
import * as sms from "./views/sms.js";
import * as vehicle from "./views/vehicle.js";
import * as quotes from "./views/quotes.js";
import * as pay from "./views/pay.js";
import * as result from "./views/result.js";

const VIEWS = { "sign-in": signIn, sms, vehicle, quotes, pay, "payment-result": result };
// Which step of the progress bar each view belongs to.
const STEPS = { "sign-in": "sign-in", sms: "sign-in", vehicle: "vehicle", quotes: "quotes", pay: "pay", "payment-result": "result" };

let session = null; // GET /session's answer; null when signed out
let leaving = []; // clean-ups of the view on screen (close streams, stop polls)
let shown = 0; // counts renders, so a slow, replaced view knows it is stale
let flash = null; // a message to show on the next view (e.g. "signed out")

/** Where a route must go instead, given the session; null to show it. */
function redirectFor(route) {
  const status = session?.status;
  const next = route.query.get("next");
  if (route.name === "sign-in" || route.name === "sms") {
    if (status === "authenticated") return next || "/vehicle";
    if (route.name === "sms" && status !== "mfa_required") return `/sign-in${keepNext(next)}`;
    return null;
  }
  if (status === "mfa_required") return `/sms${keepNext(route.path)}`;
  if (status !== "authenticated") return `/sign-in${keepNext(route.path)}`;
  return VIEWS[route.name] ? null : "/vehicle";
}

/** "?next=..." so that after signing in the customer lands where they were going. */
function keepNext(path) {
  return path && path !== "/" && path !== "/sign-in" ? `?next=${encodeURIComponent(path)}` : "";
}

async function show(route) {
  const elsewhere = redirectFor(route);
  if (elsewhere) return go(elsewhere);

  for (const fn of leaving.splice(0)) fn();
  const ticket = ++shown;
  clearBanner();
  if (flash) showBanner(flash.message, { tone: flash.tone });
  flash = null;
  markStep(STEPS[route.name]);

  const root = document.getElementById("page");
  const page = h("section", { class: `view view-${route.name}`, "data-testid": `view-${route.name}` });
  root.replaceChildren(page);
  const ctx = {
    params: route.params,
    query: route.query,
    session,
    go,
    get active() {
      return ticket === shown;
    },
    /** Register a clean-up; runs at once if the customer already moved on. */
    onLeave(fn) {
      if (ticket === shown) leaving.push(fn);
      else fn();
    },
    /** A session answer from sign-in: show the greeting and go on. */
    signedIn(answer) {
      session = answer;
      drawHeader();
      go(route.query.get("next") || "/vehicle");
    },
    pendingSms() {
      session = { status: "mfa_required" };
      go(`/sms${keepNext(route.query.get("next"))}`);
    },
    /**
     * The way every view reports an error it does not handle itself, in Turkish; `actions`
     * are offered with it (a "Tekrar dene" button).
     */
    fail(err, form, actions = []) {
      if (!ctx.active) return;
      if (err?.name === "AbortError") return;
      if (err?.needsSignIn) return signedOut(problemText(err), route.path);
      if (!err?.code) console.error(err); // a bug of the page, not a problem of the gateway
      if (form) return showProblem(form, err, { actions });
      showError(err, actions);
    },
  };
  try {
    await VIEWS[route.name].render(page, ctx);
  } catch (err) {
    ctx.fail(err, null, [h("button", { type: "button", onclick: () => go(route.path) }, "Tekrar dene")]);
  }
  // Keyboard and screen-reader users start on the new view: its first input when the view
  // focused one, else its heading.
  if (ctx.active && !page.contains(document.activeElement)) {
    const heading = page.querySelector("h1");
    heading?.setAttribute("tabindex", "-1");
    heading?.focus({ preventScroll: true });
  }
}

/** The session is gone (401): sign in again, then come back here. */
function signedOut(message, returnTo, tone = "error") {
  session = null;
  drawHeader();
  flash = message ? { message, tone } : null;
  go(`/sign-in${keepNext(returnTo)}`);
}

function markStep(step) {
  for (const li of document.querySelectorAll(".steps li")) {
    if (li.dataset.step === step) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  }
}

function drawHeader() {
  const greeting = document.querySelector("[data-testid=greeting]");
  const signedIn = session?.status === "authenticated";
  greeting.textContent = signedIn ? `Merhaba, ${session.customerName || "müşterimiz"}` : "";
  greeting.hidden = !signedIn;
  document.getElementById("sign-out").hidden = !signedIn;
}

async function signOut() {
  try {
    await api.del("/session");
  } catch {
    // Already gone on the server: signing out locally is all that is left to do.
  }
  signedOut("Çıkış yaptınız.", null, "info");
}

async function boot() {
  document.getElementById("sign-out").addEventListener("click", signOut);
  try {
    session = await api.get("/session");
  } catch (err) {
    // 401 is the normal "not signed in"; anything else is worth telling, then sign in.
    session = null;
    if (!err.needsSignIn) flash = { message: problemText(err), tone: "error" };
  }
  drawHeader();
  startRouter(show);
}

boot();
