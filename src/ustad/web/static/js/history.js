// The history panel: what this learner practised, from GET /v1/learners/{id}/progress.

export class History {
  /**
   * @param {string} learnerId
   * @param {Record<string, string>} headers the learner's credentials, if any
   * @param {{summary: HTMLElement, list: HTMLElement, empty: HTMLElement}} elements
   */
  constructor(learnerId, headers, elements) {
    this.learnerId = learnerId;
    this.headers = headers;
    this.elements = elements;
    this.dates = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  async refresh() {
    try {
      const response = await fetch(
        `/v1/learners/${encodeURIComponent(this.learnerId)}/progress`,
        { headers: this.headers },
      );
      if (!response.ok) return;
      this.render(await response.json());
    } catch {
      // offline: keep what is shown; the next refresh after reconnecting fills it in
    }
  }

  render(progress) {
    const { summary, list, empty } = this.elements;
    const count = progress.sentences.length;
    summary.textContent =
      `${plural(count, "sentence")} · ${plural(progress.total_attempts, "attempt")} · ` +
      plural(progress.sessions, "session");
    empty.hidden = count > 0;
    list.replaceChildren(...progress.sentences.map((sentence) => this.item(sentence)));
  }

  item(sentence) {
    const li = document.createElement("li");
    li.className = "history-item";
    const english = element("p", "history-english", sentence.english);
    english.lang = "en";
    const urdu = element("p", "history-urdu urdu-text", sentence.urdu);
    urdu.lang = "ur";
    urdu.dir = "rtl";
    const facts = element("p", "history-facts", "");
    const badge = element(
      "span",
      `badge ${sentence.passed ? "badge-pass" : "badge-open"}`,
      sentence.passed ? "✓ Passed" : "Keep practising",
    );
    const best = sentence.best_score === null ? "no score yet" : `best ${Math.round(sentence.best_score)}`;
    const when = this.dates.format(new Date(sentence.last_practised));
    facts.append(badge, ` ${best} · ${plural(sentence.attempts, "attempt")} · ${when}`);
    li.append(english, urdu, facts);
    return li;
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
