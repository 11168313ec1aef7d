// Step 1b: the SMS code InsurUp sent. A wrong code keeps the pending sign-in (try again);
// too many wrong codes, or no sign-in waiting, means starting over.

import { api } from "../api.js";
import { busy, clearProblems, field, h, hint, showProblem } from "../ui.js";

export function render(root, ctx) {
  const submit = h("button", { type: "submit", class: "primary" }, "Doğrula ", h("small", {}, "Verify"));
  const query = ctx.query.toString(); // keeps "next" for after the sign-in
  const back = h("a", { href: `#/sign-in${query ? `?${query}` : ""}` }, "Numarayı değiştir / kodu yeniden gönder");
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h1", {}, "SMS kodu ", h("small", {}, "Code from SMS")),
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
        showProblem(form, err);
        form.code.disabled = true;
        submit.hidden = true;
        return;
      }
      // mfa_invalid carries no errors[]: put its detail under the code input.
      if (err.code === "mfa_invalid") return showProblem(form, err, { mfa_invalid: "code" });
      ctx.fail(err, form);
    }
  });

  root.append(form);
  form.code.focus();
}
