// The simulation page's run form: posts a new simulation to the API's job endpoint (with the
// session's CSRF token and a fresh Idempotency-Key), then polls the job every two seconds; when the
// report is saved the page opens it, when the job fails or the server refuses, the server's own
// message is shown beside the form.
(function () {
  "use strict";
  const form = document.getElementById("run-simulation");
  if (!form) return;
  const status = document.getElementById("sim-status");
  const messages = NR.json("sim-messages");
  const button = form.querySelector("button[type=submit]");
  const POLL_MS = 2000;

  const say = (state, text) => {
    status.dataset.state = state;
    status.className = state === "failed" ? "error" : state === "done" ? "notice good" : "notice";
    status.textContent = text;
    status.hidden = false;
  };

  const fail = (text) => { button.disabled = false; say("failed", text); };

  const poll = async (url) => {
    const answer = await NR.call("GET", url);
    if (!answer.ok) { fail(NR.problemText(answer.data, messages.failed)); return; }
    const job = answer.data;
    if (job.status === "running") {
      say("running", messages.running.replace("{id}", job.id));
      setTimeout(() => poll(url), POLL_MS);
    } else if (job.status === "done") {
      say("done", messages.done);
      window.location.assign(`/console/supply/simulation?report=${encodeURIComponent(job.report_id)}`);
    } else {
      fail(`${job.error.message} (${job.error.code})`);
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const levels = form.elements.service_levels.value.split(/[\s,]+/).filter(Boolean).map(Number);
    const body = {
      weeks: Number(form.elements.weeks.value),
      service_levels: levels,
      currency: form.elements.currency.value.trim().toUpperCase(),
    };
    button.disabled = true;
    say("running", messages.starting);
    const answer = await NR.call("POST", "/api/v1/supply/simulations", body, { key: NR.newKey() });
    if (!answer.ok) { fail(NR.problemText(answer.data, messages.failed)); return; }
    poll(answer.data.poll);
  });
})();
