// Step 1: who is buying. POST /session starts InsurUp's login-or-register with the consents
// the customer gave (KVKK is required, ETK optional; GET /consents lists them with the notice
// to read); InsurUp then texts a code (202 mfa_required) or, rarely, signs the customer in at
// once (200).

import { api } from "../api.js";
import { CONSENTS } from "../messages.js";
import { busy, clearProblems, field, h, hint, uid } from "../ui.js";

// The identity number's label and keyboard depend on the customer type.
const TYPES = {
  individual: { label: "T.C. Kimlik No", hint: "11 hane", inputmode: "numeric", birthDate: true },
  company: { label: "Vergi No", hint: "10 hane", inputmode: "numeric", birthDate: false },
  foreign: { label: "Yabancı kimlik / pasaport no", hint: "harf ve rakam", inputmode: "text", birthDate: true },
};

// What sign-in asks for when GET /consents cannot be read: the same two, without links.
const FALLBACK_CONSENTS = [
  { type: "KVKK", required: true, noticeUrl: null },
  { type: "ETK", required: false, noticeUrl: null },
];

export async function render(root, ctx) {
  const typeChoice = h(
    "fieldset",
    { class: "choice", "data-field": "customerType" },
    h("legend", {}, "Müşteri tipi"),
    ...Object.entries({ individual: "Bireysel", company: "Kurumsal", foreign: "Yabancı uyruklu" }).map(([value, text]) =>
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
  const birthDate = field("birthDate", "Doğum tarihi", null, {
    type: "date",
    autocomplete: "bday",
    max: new Date().toISOString().slice(0, 10),
  });
  const phone = field("phoneNumber", "Cep telefonu", "SMS ile doğrulama kodu gelecek", {
    type: "tel",
    inputmode: "tel",
    autocomplete: "tel",
    placeholder: "05xx xxx xx xx",
    required: true,
  });
  const consents = h("fieldset", { class: "consents", "data-field": "consents", "data-testid": "consents" }, h("legend", {}, "Onaylar"));
  const submit = h("button", { type: "submit", class: "primary" }, "Devam et");

  // novalidate: the gateway is the one validator (TCKN checksum, phone rules, KVKK consent);
  // its problems appear next to the inputs, in Turkish, the same in every browser.
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h1", {}, "Kasko teklifi alın"),
    h("p", { class: "lead" }, "Bilgilerinizi girin, size SMS ile bir doğrulama kodu gönderelim. Ardından aracınız için sigorta şirketlerinden teklifleri karşılaştırın."),
    typeChoice,
    identity,
    birthDate,
    phone,
    consents,
    submit,
    hint("TCKN 11111111110", "doğum 01.01.1990", "telefon 0532 123 45 67"),
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
      consents: [...consents.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value),
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

  let offered = FALLBACK_CONSENTS;
  try {
    offered = await api.get("/consents");
  } catch {
    // The built-in list: sign-in still works, and the gateway still checks the consents.
  }
  if (!ctx.active) return;
  consents.append(...offered.map(consentBox), h("p", { class: "field-error", id: "consents-error", "data-testid": "error-consents" }));
}

/** One consent: its checkbox, and the notice it refers to (a link, or built-in text). */
function consentBox({ type, required, noticeUrl }) {
  const words = CONSENTS[type] ?? { label: `${type} iznini veriyorum.`, notice: type, text: [] };
  const id = uid(`consent-${type}`);
  const notice = noticeUrl
    ? h("a", { href: noticeUrl, target: "_blank", rel: "noopener", "data-testid": `notice-${type}` }, `${words.notice} (yeni sekmede açılır)`)
    : h(
        "details",
        { class: "notice", "data-testid": `notice-${type}` },
        h("summary", {}, `${words.notice}: metni okuyun`),
        ...words.text.map((line) => h("p", {}, line)),
      );
  return h(
    "div",
    { class: "consent", "data-consent": type },
    h(
      "div",
      { class: "check" },
      h("input", { type: "checkbox", id, name: "consents", value: type, "aria-describedby": "consents-error", "data-testid": `consent-${type}` }),
      h("label", { for: id }, words.label, " ", h("strong", { class: required ? "required" : "optional" }, required ? "(zorunlu)" : "(isteğe bağlı)")),
    ),
    notice,
  );
}
