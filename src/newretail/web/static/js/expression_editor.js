// The expression editor the audience builder and the store selection share: a textarea whose count
// is refreshed 250 ms after the user stops typing (POST /api/v1/audiences/count); the server's
// error shown with the offending word underlined and a caret under it, and its hints as chips that
// replace that word; a searchable tag picker that inserts a tag (or an enum value) at the cursor.
// Each count is announced to the page with an "expression:counted" event on the textarea
// ({text, data}); an invalid or empty text with "expression:invalid".
(function () {
  "use strict";
  const DEBOUNCE_MS = 250;
  const MAX_SHOWN = 80;
  const MAX_VALUES = 24;

  // The span of the word the error points at: a quoted string (with '' inside), an identifier or a
  // run of operator characters; an empty span at the end of the text.
  const tokenAt = (text, offset) => {
    if (offset >= text.length) return [text.length, text.length];
    if (text[offset] === "'") {
      let i = offset + 1;
      while (i < text.length) {
        if (text[i] === "'" && text[i + 1] === "'") { i += 2; continue; }
        if (text[i] === "'") return [offset, i + 1];
        i += 1;
      }
      return [offset, text.length];
    }
    const rest = text.slice(offset);
    const word = /^[A-Za-z0-9_]+/.exec(rest) || /^[<>=!]+/.exec(rest) || /^\S/.exec(rest);
    return [offset, offset + (word ? word[0].length : 0)];
  };

  // Monospace columns: CJK characters take two.
  const columns = (text) => [...text].reduce((n, ch) => n + (ch.codePointAt(0) >= 0x2e80 ? 2 : 1), 0);

  // Edit distance, to offer the allowed values nearest the mistyped one first.
  const distance = (a, b) => {
    let row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i += 1) {
      const next = [i];
      for (let j = 1; j <= b.length; j += 1) {
        next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
      row = next;
    }
    return row[b.length];
  };

  const quote = (value) => `'${value.replace(/'/g, "''")}'`;

  // Which hints can replace the word: names and values always; among a syntax error's expected
  // tokens only the literal ones (keywords, operators), not descriptions such as "an integer".
  const usable = (code, hint) =>
    code !== "audience.syntax" || /^([A-Za-z_][A-Za-z0-9_]*|[()=<>!,]+)$/.test(hint);

  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    node.append(...children);
    return node;
  };

  NR.expressionEditor = function (state) {
    const area = document.getElementById("expression");
    const entity = area.dataset.entity;
    const msg = state.messages;
    const $ = (id) => document.getElementById(id);
    const size = $("count-size"), share = $("count-share"), universe = $("count-universe");
    const asOf = $("count-as-of"), status = $("count-state"), bar = $("count-bar");
    const box = $("expr-error"), message = $("expr-message"), mark = $("expr-mark"), hints = $("expr-hints");
    let sequence = 0;
    let controller = null;
    let counts = 0;

    const announce = (name, detail) =>
      area.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));

    const clearProblem = () => { box.hidden = true; area.classList.remove("invalid"); };

    const showCount = (data, text) => {
      clearProblem();
      size.textContent = NR.number.format(data.size);
      size.dataset.size = String(data.size);
      share.textContent = NR.percent.format(data.share);
      universe.textContent = NR.number.format(data.universe);
      asOf.textContent = data.as_of;
      if (bar) bar.style.width = `${Math.max(0, Math.min(100, data.share * 100)).toFixed(2)}%`;
      status.textContent = "";
      area.dataset.state = "ok";
      counts += 1;
      document.body.dataset.counts = String(counts);
      announce("expression:counted", { text, data });
    };

    const showProblem = (problem, text) => {
      size.textContent = "—";
      size.dataset.size = "";
      share.textContent = "—";
      if (bar) bar.style.width = "0%";
      status.textContent = "";
      area.dataset.state = "invalid";
      area.classList.add("invalid");
      message.textContent = NR.problemText(problem, msg.failed);
      mark.replaceChildren();
      hints.replaceChildren();
      const offset = typeof problem.offset === "number" ? problem.offset : null;
      mark.hidden = offset === null;
      let span = [text.length, text.length];
      if (offset !== null) {
        span = tokenAt(text, offset);
        const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
        let lineEnd = text.indexOf("\n", offset);
        if (lineEnd === -1) lineEnd = text.length;
        const end = Math.min(span[1], lineEnd);
        const before = text.slice(lineStart, offset);
        const bad = el("span", { className: "bad", textContent: text.slice(offset, end) || " " });
        const caret = el("span", { className: "caret", textContent: `\n${" ".repeat(columns(before))}^` });
        mark.append(before, bad, text.slice(end, lineEnd), caret);
      }
      const word = text.slice(span[0], span[1]);
      const typed = word.replace(/^'|'$/g, "").toLowerCase();
      let offered = problem.hints || [];
      if (problem.code === "audience.unknown_value" && typed) {
        offered = offered.map((hint, i) => [distance(typed, hint.toLowerCase()), i, hint])
          .sort((x, y) => x[0] - y[0] || x[1] - y[1]).map((x) => x[2]);
      }
      for (const hint of offered) {
        if (!usable(problem.code, hint)) {
          hints.append(el("span", { className: "chip muted", textContent: hint }));
          continue;
        }
        const quoted = problem.code === "audience.unknown_value" || word.startsWith("'");
        // At the end of the text the hint is inserted, after a space if the text lacks one.
        const pad = span[0] === span[1] && span[0] > 0 && !/\s/.test(text[span[0] - 1]) ? " " : "";
        const shown = quoted ? quote(hint) : hint;
        const chip = el("button", { type: "button", className: "chip hint", textContent: shown, title: msg.insert_hint });
        chip.dataset.hint = hint;
        chip.addEventListener("click", () => replace(span[0], span[1], pad + shown));
        hints.append(chip);
      }
      box.hidden = false;
      announce("expression:invalid", { text, problem });
    };

    const clear = () => {
      clearProblem();
      size.textContent = "—";
      size.dataset.size = "";
      share.textContent = "—";
      if (bar) bar.style.width = "0%";
      status.textContent = msg.empty;
      area.dataset.state = "empty";
      announce("expression:invalid", { text: "", problem: null });
    };

    const count = async () => {
      const text = area.value;
      sequence += 1;
      const mine = sequence;
      if (controller) controller.abort();
      if (!text.trim()) { clear(); return; }
      controller = new AbortController();
      status.textContent = msg.counting;
      let answer;
      try {
        answer = await NR.call("POST", "/api/v1/audiences/count", { text, entity }, { signal: controller.signal });
      } catch (error) {
        if (error.name !== "AbortError" && mine === sequence) status.textContent = msg.failed;
        return;
      }
      if (mine !== sequence) return; // a newer text is being counted
      if (answer.ok) showCount(answer.data, text);
      else if (answer.status === 404) { clear(); status.textContent = NR.problemText(answer.data, msg.no_snapshot); }
      else showProblem(answer.data || {}, text);
    };
    const later = NR.debounce(count, DEBOUNCE_MS);

    // Replace [from, to) with the text and count at once (a hint or a pick is a finished edit).
    const replace = (from, to, text) => {
      if (area.readOnly) return;
      area.value = area.value.slice(0, from) + text + area.value.slice(to);
      const caret = from + text.length;
      area.focus();
      area.setSelectionRange(caret, caret);
      count();
    };

    const insertAtCursor = (snippet) => {
      const start = area.selectionStart ?? area.value.length;
      const end = area.selectionEnd ?? start;
      const before = area.value.slice(0, start), after = area.value.slice(end);
      const lead = before && !/[\s(]$/.test(before) ? " " : "";
      const trail = after && !/^[\s),]/.test(after) ? " " : "";
      replace(start, end, lead + snippet + trail);
    };

    // The picker: tags whose id, name or category matches the search, enum values as chips.
    const search = $("picker-q"), list = $("picker-list");
    const item = (tag) => {
      const pick = el("button", { type: "button", className: "pick", title: tag.name },
        el("span", { className: "mono", textContent: tag.id }),
        el("span", { className: "pick-name", textContent: tag.name }),
        el("span", { className: `tag type-${tag.type}`, textContent: tag.unit ? `${tag.type_label} · ${tag.unit}` : tag.type_label }));
      pick.dataset.insert = tag.id;
      pick.addEventListener("click", () => insertAtCursor(tag.id));
      const row = el("li", { className: "picker-item" }, pick);
      row.dataset.tag = tag.id;
      if (tag.values.length) {
        const values = el("div", { className: "values" });
        for (const [value, label] of tag.values.slice(0, MAX_VALUES)) {
          const chip = el("button", { type: "button", className: "chip value", textContent: label === value ? value : `${label} · ${value}` });
          chip.dataset.insert = quote(value);
          chip.addEventListener("click", () => insertAtCursor(quote(value)));
          values.append(chip);
        }
        if (tag.values.length > MAX_VALUES) values.append(el("span", { className: "muted", textContent: "…" }));
        row.append(values);
      }
      return row;
    };
    const render = () => {
      const q = search.value.trim().toLowerCase();
      const found = state.tags.filter((tag) => !q ||
        `${tag.id} ${tag.name} ${tag.category_label}`.toLowerCase().includes(q));
      list.replaceChildren(...found.slice(0, MAX_SHOWN).map(item));
      if (!found.length) list.append(el("li", { className: "muted", textContent: msg.no_tags }));
    };
    search.addEventListener("input", NR.debounce(render, 120));
    render();

    area.addEventListener("input", later);
    if (area.value.trim()) count(); else clear();
    return { area, count, entity };
  };
})();
