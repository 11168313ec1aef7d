// Small DOM helpers shared by the views. `h()` builds elements the way JSX does, with text
// always inserted as text (never as HTML), so data from the API cannot inject markup.

import { fieldText, insurerWords, problemText } from "./messages.js";

/** h("button", { class: "primary", onclick: fn }, "Öde") */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, ""); // boolean attributes: hidden, checked…
    else if (key in el && !key.includes("-")) el[key] = value; // properties: value, type…
    else el.setAttribute(key, String(value)); // the rest: class, for, inputmode, data-*…
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

let ids = 0;
/** A page-unique id for aria-describedby / aria-controls pairs. */
export const uid = (prefix) => `${prefix}-${++ids}`;

/**
 * A labelled input with a slot for the message about it. `name` is the field as the API names
 * it in `errors[].field` ("identityNumber", "card.number"), so a problem+json answer finds its
 * input by that name alone.
 */
export function field(name, label, hint, inputAttrs = {}) {
  const id = `f-${name.replace(/\W/g, "-")}`;
  const tag = inputAttrs.tag || "input";
  const { tag: _omit, options = [], ...attrs } = inputAttrs;
  const control = h(tag, { id, name: name.split(".").pop(), "aria-describedby": `${id}-error`, ...attrs }, ...options);
  return h(
    "div",
    { class: "field", "data-field": name },
    h("label", { for: id }, label, hint ? h("small", {}, ` ${hint}`) : null),
    control,
    h("p", { class: "field-error", id: `${id}-error`, "data-testid": `error-${name}` }),
  );
}

const banner = () => document.getElementById("banner");

/**
 * Show a message that belongs to no input. `actions` are buttons or links offered with it
 * ("Tekrar dene"); `requestId` is quoted for support.
 */
export function showBanner(message, { requestId, actions = [], tone = "error" } = {}) {
  const el = banner();
  el.dataset.tone = tone;
  const parts = [h("p", {}, message)];
  if (requestId) parts.push(h("p", { class: "request-id" }, `Hata numarası: ${requestId}`));
  if (actions.length) parts.push(h("div", { class: "actions" }, ...actions));
  el.replaceChildren(...parts);
  el.hidden = false;
  el.scrollIntoView({ block: "nearest" });
}

export function clearBanner() {
  banner().hidden = true;
  banner().replaceChildren();
}

/** The Turkish text for a problem, with InsurUp's own (Turkish) words when it sent some. */
export function describe(err) {
  const words = insurerWords(err);
  return words ? `${problemText(err)} Sigorta şirketinin açıklaması: “${words}”` : problemText(err);
}

/** Quote a request id only where support would need it (our failures, not the customer's). */
const supportId = (err) => (err?.status >= 500 || err?.status === 0 ? err.requestId || undefined : undefined);

/** Forget the previous attempt's messages before a new one. */
export function clearProblems(form) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  clearBanner();
}

/**
 * Put a problem on the page: each `errors[]` entry next to its input (in Turkish, by field
 * name), the rest in the banner. `codeFields` maps codes that carry no `errors[]` onto an
 * input, e.g. {mfa_invalid: "code"}.
 */
export function showProblem(form, err, { codeFields = {}, actions = [] } = {}) {
  clearProblems(form);
  const entries = (err.errors || []).map(({ field: name, message }) => ({ name, text: fieldText(name, message) }));
  if (codeFields[err.code]) entries.push({ name: codeFields[err.code], text: problemText(err) });
  const unplaced = [];
  let first = null;
  for (const { name, text } of entries) {
    const box = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!box) {
      unplaced.push(text);
      continue;
    }
    const slot = box.querySelector(":scope > .field-error") ?? box.querySelector(".field-error");
    if (!slot.textContent.includes(text)) slot.textContent = [slot.textContent, text].filter(Boolean).join(" ");
    const controls = box.matches("fieldset") ? box.querySelectorAll("input") : box.querySelectorAll("input, select");
    for (const control of controls) control.setAttribute("aria-invalid", "true");
    first ??= controls[0] ?? null;
  }
  if (!entries.length || unplaced.length) {
    const message = entries.length ? [problemText(err), ...unplaced].join(" ") : describe(err);
    showBanner(message, { requestId: supportId(err), actions });
  }
  first?.focus();
}

/** A problem that belongs to no form, in the banner. */
export function showError(err, actions = []) {
  showBanner(describe(err), { requestId: supportId(err), actions });
}

/** Run `work` with the button disabled, so a double tap cannot send the request twice. */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/**
 * A visible "working on it" line for calls that wait on InsurUp: a spinner and `text`, then,
 * past a few seconds, how long it has been and that InsurUp is slow. `stop()` removes it.
 */
export function progress(text, { slowAfterMs = 3000, testid = "progress" } = {}) {
  const started = Date.now();
  const label = h("span", {}, text);
  const slow = h("span", { class: "slow" });
  const el = h(
    "p",
    { class: "progress", role: "status", "data-testid": testid },
    h("span", { class: "spinner", "aria-hidden": "true" }),
    " ",
    label,
    slow,
  );
  const timer = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    if (Date.now() - started >= slowAfterMs) {
      el.dataset.slow = "true";
      slow.textContent = ` Sigorta şirketleri yavaş yanıt veriyor, lütfen bekleyin (${seconds} sn).`;
    }
  }, 1000);
  return {
    el,
    stop() {
      clearInterval(timer);
      el.remove();
    },
  };
}

/** While `work` runs, show `text` as progress inside `where` (after the button, say). */
export async function withProgress(where, text, work, options) {
  const shown = progress(text, options);
  where.append(shown.el);
  try {
    return await work();
  } finally {
    shown.stop();
  }
}

const formats = new Map();

/** 9258.67, "TRY" -> "₺9.258,67" in Turkish notation. */
export function money(amount, currency = "TRY") {
  if (amount === null || amount === undefined) return "–";
  if (!formats.has(currency)) {
    formats.set(currency, new Intl.NumberFormat("tr-TR", { style: "currency", currency }));
  }
  return formats.get(currency).format(amount);
}

/** "2026-12-01" -> "01.12.2026" (dates are plain dates: no time zone shift). */
export function date(iso) {
  if (!iso) return "–";
  const [y, m, d] = iso.split("-");
  return `${d}.${m}.${y}`;
}

/** The installment plan as a customer reads it. */
export function planLabel(installmentNumber) {
  return installmentNumber === 1 ? "Peşin" : `${installmentNumber} taksit`;
}

/** Sandbox test data, shown as a hint under a form (drop these in a real shop). */
export function hint(...lines) {
  const items = lines.flatMap((line, i) => [i ? " · " : "", h("span", {}, line)]);
  return h("p", { class: "hint", "data-testid": "hint" }, h("strong", {}, "Deneme ortamı: "), ...items);
}

/** Wait without blocking, for the views' polling loops. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
