// Step 1: who is buying. POST /session starts InsurUp's login-or-register; InsurUp then
// texts a code (202 mfa_required) or, rarely, signs the customer in at once (200).

import { api } from "../api.js";
import { busy, clearProblems, field, h, hint } from "../ui.js";

// The identity number's label and keyboard depend on the customer type.
const TYPES = {
  individual: { label: "T.C. Kimlik No", hint: "TCKN, 11 hane", inputmode: "numeric", birthDate: true },
  company: { label: "Vergi No", hint: "VKN, 10 hane", inputmode: "numeric", birthDate: false },
  foreign: { label: "Yabancı kimlik / pasaport no", hint: "Foreign ID", inputmode: "text", birthDate: true },
};

export function render(root, ctx) {
  const typeChoice = h(
    "fieldset",
    { class: "choice", "data-field": "customerType" },
    h("legend", {}, "Müşteri tipi ", h("small", {}, "Customer type")),
    ...Object.entries({ individual: "Bireysel", company: "Kurumsal", foreign: "Yabancı" }).map(([value, text]) =>
      h("label", {}, h("input", { type: "radio", name: "customerType", value, checked: value === "individual" }), text),
    ),
    h("p", { class: "field-error" }),
  );
  const identity = field("identityNumber", TYPES.individual.label, TYPES.individual.hint, {
    inputmode: "numeric",
    autocomplete: "off", // an id number is not something browsers should offer to refill
    maxlength: 20,
    required: true,
  });
  const birthDate = field("birthDate", "Doğum tarihi", "Birth date", {
    type: "date",
    autocomplete: "bday",
    max: new Date().toISOString().slice(0, 10),
  });
  const phone = field("phoneNumber", "Cep telefonu", "Mobile, SMS kodu gelecek", {
    type: "tel",
    inputmode: "tel",
    autocomplete: "tel",
    placeholder: "+90 5xx xxx xx xx",
    required: true,
  });
  const submit = h("button", { type: "submit", class: "primary" }, "Devam et ", h("small", {}, "Continue"));

  // novalidate: the gateway is the one validator (TCKN checksum, phone rules); its
  // messages appear next to the inputs, the same in every browser.
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h1", {}, "Kasko teklifi alın ", h("small", {}, "Sign in")),
    typeChoice,
    identity,
    birthDate,
    phone,
    submit,
    hint("TCKN 11111111110", "doğum 1990-01-01", "telefon +90 532 123 45 67"),
  );

  // Company customers have no birth date; foreign ids may contain letters.
  typeChoice.addEventListener("change", () => {
    const type = TYPES[form.customerType.value];
    identity.querySelector("label").firstChild.textContent = type.label;
    identity.querySelector("small").textContent = ` ${type.hint}`;
    form.identityNumber.inputMode = type.inputmode;
    birthDate.hidden = !type.birthDate;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form);
    const customerType = form.customerType.value;
    const body = {
      customerType,
      identityNumber: form.identityNumber.value.trim(),
      phoneNumber: form.phoneNumber.value.trim(), // the gateway accepts spaces and +90 / 0 prefixes
    };
    if (TYPES[customerType].birthDate && form.birthDate.value) body.birthDate = form.birthDate.value;
    try {
      const answer = await busy(submit, () => api.post("/session", body));
      if (answer.status === "authenticated") ctx.signedIn(answer);
      else ctx.pendingSms();
    } catch (err) {
      ctx.fail(err, form);
    }
  });

  root.append(form);
  form.identityNumber.focus();
}
