// The login (api.auth users): POST /login sets the session cookie; a wrong password says so.
import { api } from "./api.js";
import { h, fill, notice } from "./dom.js";

export function renderLogin(main, done) {
  const message = h("div", { role: "alert", class: "login-message" });
  const name = h("input", { id: "login-name", name: "name", autocomplete: "username", required: true, autocapitalize: "off", spellcheck: "false" });
  const password = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit", class: "primary" }, "Log in");
  const form = h("form", {
    class: "login",
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      fill(message);
      try {
        const session = await api("/login", { method: "POST", body: { name: name.value, password: password.value } });
        await done(session);
      } catch (error) {
        fill(message, notice("error", error.status === 401 ? "Wrong user name or password." : error.message));
        password.select();
        button.disabled = false;
      }
    },
  },
  h("h1", { tabindex: "-1" }, "Log in"),
  h("p", { class: "muted" }, "This daemon asks for a user of api.auth.users."),
  h("div", { class: "field" }, h("label", { for: "login-name" }, "User name"), name),
  h("div", { class: "field" }, h("label", { for: "login-password" }, "Password"), password),
  message, button);
  fill(main, form);
  name.focus();
}
