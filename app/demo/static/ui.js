// Small DOM helpers shared by the views. `h()` builds elements the way JSX does, with text
// always inserted as text (never as HTML), so data from the API cannot inject markup.

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

/**
 * A labelled input with a slot for the gateway's message about it. `name` is the field as
 * the API names it in `errors[].field` ("identityNumber", "card.number"), so a
 * problem+json answer finds its input by that name alone.
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
    h("p", { class: "field-error", id: `${id}-error`, "data-testid": `error-${name}`, "aria-live": "polite" }),
  );
}

const banner = () => document.getElementById("banner");

/** Show a message that belongs to no input. */
export function showBanner(message, requestId) {
  const el = banner();
  el.replaceChildren(message, requestId ? h("small", { class: "request-id" }, ` (${requestId})`) : "");
  el.hidden = false;
  el.scrollIntoView({ block: "nearest" });
}

export function clearBanner() {
  banner().hidden = true;
  banner().replaceChildren();
}

/** Forget the previous attempt's messages before a new one. */
export function clearProblems(form) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  clearBanner();
}

/**
 * Put an ApiError on the page: each `errors[]` entry next to its input, the rest (and any
 * field this form has no input for) in the banner with the problem's `detail`.
 * `codeFields` maps codes that carry no `errors[]` onto an input, e.g. {mfa_invalid: "code"}.
 */
export function showProblem(form, err, codeFields = {}) {
  clearProblems(form);
  const entries = [...(err.errors || [])];
  if (codeFields[err.code]) entries.push({ field: codeFields[err.code], message: err.detail });
  const unplaced = [];
  let first = null;
  for (const { field: name, message } of entries) {
    const box = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!box) {
      unplaced.push(message);
      continue;
    }
    box.querySelector(".field-error").textContent = message;
    const control = box.querySelector("input, select");
    control?.setAttribute("aria-invalid", "true");
    first ??= control;
  }
  if (!entries.length || unplaced.length) {
    showBanner([err.detail, ...unplaced].join(" "), err.requestId);
  }
  first?.focus();
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
  return h("aside", { class: "hint", "data-testid": "hint" }, h("strong", {}, "Sandbox: "), ...items);
}

/** Wait without blocking, for the views' polling loops. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
