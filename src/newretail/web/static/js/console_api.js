// What the tag and audience pages share: calls to the JSON API with the session cookie, the
// session's CSRF token on writes and an Idempotency-Key per user action; problem+json answers come
// back as data (never thrown), so each page shows the server's message. Also number formatting in
// the page's language and a debounce.
(function () {
  "use strict";
  const lang = document.documentElement.lang;
  const meta = document.querySelector('meta[name="csrf-token"]');
  const number = new Intl.NumberFormat(lang);
  const percent = new Intl.NumberFormat(lang, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });

  // One key per user action: a retried click sends the same key, a new click a new one.
  // crypto.randomUUID exists only in secure contexts; getRandomValues everywhere.
  const newKey = () => {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  const call = async (method, url, body, options) => {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && meta) headers["X-CSRF-Token"] = meta.content;
    if (opts.key) headers["Idempotency-Key"] = opts.key;
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      signal: opts.signal,
    });
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    return { ok: response.ok, status: response.status, data };
  };

  // The sentence to show for a refused call: the problem's detail, else its first field error.
  const problemText = (data, fallback) => {
    if (data && data.errors && data.errors.length) {
      return data.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join("; ");
    }
    return (data && (data.detail || data.title)) || fallback;
  };

  const debounce = (fn, ms) => {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  };

  const json = (id) => {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  };

  window.NR = { call, newKey, problemText, debounce, json, number, percent, lang };
})();
