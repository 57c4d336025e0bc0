// Personal API tokens: create one (shown once) and revoke them.
import { api, announce } from "../lib/api.js";

const form = document.getElementById("token-form");
const box = document.getElementById("new-token");

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const token = await api("POST", "/api/tokens", { name: new FormData(form).get("name") });
    box.hidden = false;
    const field = box.querySelector("input");
    field.value = token.token;
    field.select();
    form.reset();
    announce("Token created. Copy it now.");
  } catch (err) {
    announce(err.message);
    alert(err.message);
  }
});

document.getElementById("token-list")?.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-revoke-token]");
  if (!button) return;
  await api("DELETE", `/api/tokens/${button.dataset.revokeToken}`);
  button.replaceWith(Object.assign(document.createElement("span"), { className: "badge badge-failed", textContent: "Revoked" }));
  announce("Token revoked.");
});
