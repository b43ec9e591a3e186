// The catalogue's "add a tag" form: POST /api/v1/tags with an Idempotency-Key, then the new tag's
// page (it is computed from the next tag refresh on). The server checks everything; its message
// is shown as is.
(function () {
  "use strict";
  const form = document.getElementById("tag-form");
  if (!form) return;
  const error = document.getElementById("tag-error");
  let key = NR.newKey();
  form.addEventListener("input", () => { key = NR.newKey(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(form).entries());
    const body = {
      id: fields.id.trim(),
      name_zh: fields.name_zh.trim(),
      name_en: fields.name_en.trim(),
      category: fields.category,
      entity: form.dataset.entity,
      value_type: fields.value_type,
      values: fields.value_type === "enum"
        ? fields.values.split(/[,，]/).map((v) => v.trim()).filter(Boolean) : [],
      unit: fields.unit.trim() || null,
      definition: fields.definition.trim(),
      description_zh: fields.description_zh.trim(),
      description_en: fields.description_en.trim(),
    };
    const button = document.getElementById("tag-create");
    button.disabled = true;
    try {
      const answer = await NR.call("POST", "/api/v1/tags", body, { key });
      if (answer.ok) {
        window.location.assign(`/console/tags/${body.entity}/${encodeURIComponent(body.id)}`);
        return;
      }
      error.textContent = NR.problemText(answer.data, String(answer.status));
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
})();
