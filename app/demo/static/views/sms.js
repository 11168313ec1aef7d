// Step 1b: the SMS code InsurUp sent. A wrong code keeps the pending sign-in (try again);
// too many wrong codes, or no sign-in waiting, means starting over. The answer sets a new
// session cookie (the session id changes here): the browser keeps it, nothing to do.

import { api } from "../api.js";
import { busy, clearProblems, field, h, hint, showProblem } from "../ui.js";

export function render(root, ctx) {
  const submit = h("button", { type: "submit", class: "primary" }, "Doğrula");
  const query = ctx.query.toString(); // keeps "next" for after the sign-in
  const back = h("a", { href: `#/sign-in${query ? `?${query}` : ""}` }, "Numarayı değiştir ya da yeni kod iste");
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h1", {}, "SMS kodu"),
    h("p", {}, "Telefonunuza gönderilen 6 haneli kodu girin."),
    field("code", "Doğrulama kodu", "6 hane", {
      inputmode: "numeric",
      autocomplete: "one-time-code", // lets phones offer the code straight from the SMS
      maxlength: 6,
      pattern: "[0-9]*",
      required: true,
    }),
    submit,
    h("p", {}, back),
    hint("kod 123456"),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form);
    try {
      const session = await busy(submit, () => api.post("/session/mfa", { code: form.code.value.trim() }));
      ctx.signedIn(session);
    } catch (err) {
      if (err.code === "mfa_not_pending" || err.code === "rate_limited") {
        // The pending sign-in is gone (expired, or 5 wrong codes): start again.
        const again = h("a", { class: "button", href: `#/sign-in${query ? `?${query}` : ""}` }, "Girişi baştan yap");
        showProblem(form, err, { actions: [again] });
        form.code.disabled = true;
        submit.hidden = true;
        return;
      }
      // mfa_invalid carries no errors[]: its message goes under the code input.
      if (err.code === "mfa_invalid") {
        showProblem(form, err, { codeFields: { mfa_invalid: "code" } });
        form.code.select();
        return;
      }
      ctx.fail(err, form);
    }
  });

  root.append(form);
  form.code.focus();
}
