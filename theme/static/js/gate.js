/**
 * Content-warning gate: the post's text stays behind a warning until the
 * reader chooses to see it, as the server renders it
 * (theme/templates/partials/warning_gate.html).
 *
 * Without JavaScript the gate is a native <details>; this module makes
 * "Show the post" reveal the text in place and move focus to its start,
 * applies the reader's preferences (prefs.js) on every page, and exports
 * renderGate() for text that arrives later (a decrypted private post).
 * Passages with their own warning (`::: warning:` in Markdown) are gates too.
 */
import {
  HIDE,
  SHOW,
  decide,
  initPreferencesForm,
  readOptions,
  readPreferences,
} from "./prefs.js";

const GATE_SELECTOR = "[data-cw-gate]";
// What "hide these posts from lists" removes: list entries carrying labels.
const LISTED_SELECTOR = '[data-cw-gate="summary"], .cw-tag[data-cw-labels]';
const LIST_ITEM_SELECTOR = "article, li";
const HOME_LINK_SELECTOR = ".site-name a";
const PREFS_LINK_SELECTOR = "[data-cw-prefs-link]";
// The words of a warning, kept out of sight when the reader chose "hide
// warning text until I ask".
const TEXT_SELECTOR = "[data-cw-text]";
// Not a label: the writer's choice not to list warnings (hearth/warnings.py).
export const CHOSE_NOT_TO_WARN = "chose not to warn";
const CHOSE_NOT_TO_WARN_TEXT = "The writer has chosen not to list warnings for this post.";

let headingCount = 0;

function element(name, attributes = {}, ...children) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function gateLabels(gate) {
  try {
    const labels = JSON.parse(gate.dataset.cwLabels ?? "[]");
    return Array.isArray(labels) ? labels.filter((l) => typeof l === "string") : [];
  } catch {
    return [];
  }
}

function uniqueHeadingId() {
  let id;
  do {
    headingCount += 1;
    id = `cw-heading-js-${headingCount}`;
  } while (document.getElementById(id));
  return id;
}

/**
 * Open a gate: the hidden text takes the place of the closed <details>.
 * @param {HTMLElement} gate
 * @param {boolean} moveFocus  true when the reader chose to see the text
 */
function reveal(gate, moveFocus) {
  const details = gate.querySelector(":scope > .cw-details");
  const content = details?.querySelector(":scope > .cw-content");
  if (!details || !content) return;
  details.replaceWith(content);
  gate.querySelector(":scope > .cw-back")?.remove();
  gate.classList.add("cw-revealed");
  if (moveFocus) content.focus();
}

/**
 * Make one server-rendered (or renderGate-built) gate reveal in place, and
 * open it at once when the reader chose "show without asking" for all its
 * labels.
 * @param {HTMLElement} gate
 * @param {Map<string, string>} [prefs]
 */
export function enhanceGate(gate, prefs = readPreferences(), options = readOptions()) {
  if (gate.dataset.cwReady !== undefined) return;
  const details = gate.querySelector(":scope > .cw-details");
  const summary = details?.querySelector(":scope > summary");
  if (!details || !summary) return;
  gate.dataset.cwReady = "";
  summary.addEventListener("click", (event) => {
    event.preventDefault();
    reveal(gate, true);
  });
  // Opened some other way (find in page): reveal, but leave focus alone.
  details.addEventListener("toggle", () => {
    if (details.open) reveal(gate, false);
  });
  if (decide(gateLabels(gate), prefs, options) === SHOW) reveal(gate, false);
}

/**
 * Keep a gate's or a tag's warning text out of sight until the reader asks:
 * "Content warning" stays, the labels and the writer's note wait behind a
 * "Show the warnings" button.
 * @param {HTMLElement} marked  a gate, or a list's .cw-tag
 */
function hideWarningText(marked) {
  const texts = [...marked.querySelectorAll(TEXT_SELECTOR)].filter(
    (text) => text.closest(".cw-content") === null,
  );
  if (!texts.length || marked.dataset.cwTextHidden !== undefined) return;
  marked.dataset.cwTextHidden = "";
  for (const text of texts) text.hidden = true;
  if (!marked.matches(GATE_SELECTOR)) return; // a list's tag: the post can ask
  const button = element(
    "button",
    { type: "button", class: "cw-reveal-text secondary" },
    "Show the warnings",
  );
  button.addEventListener("click", () => {
    for (const text of texts) text.hidden = false;
    texts[0].setAttribute("tabindex", "-1");
    button.remove();
    texts[0].focus();
  });
  texts[0].after(button);
}

/**
 * Apply the reader's preferences to a page: enhance every gate, and leave
 * out of lists the entries whose labels the reader hides.
 * @param {ParentNode} [root]
 */
export function applyPreferences(root = document) {
  const prefs = readPreferences();
  const options = readOptions();
  for (const gate of root.querySelectorAll(GATE_SELECTOR)) {
    enhanceGate(gate, prefs, options);
    if (options.hideText) hideWarningText(gate);
  }
  if (options.hideText) {
    for (const tag of root.querySelectorAll(".cw-tag")) hideWarningText(tag);
  }

  const hiddenPerList = new Map();
  for (const marked of root.querySelectorAll(LISTED_SELECTOR)) {
    if (decide(gateLabels(marked), prefs, options) !== HIDE) continue;
    const item = marked.closest(LIST_ITEM_SELECTOR);
    if (!item?.parentElement || item.hidden) continue;
    item.hidden = true;
    hiddenPerList.set(item.parentElement, (hiddenPerList.get(item.parentElement) ?? 0) + 1);
  }
  for (const [list, count] of hiddenPerList) {
    const note = element(
      "p",
      { class: "cw-hidden-note" },
      `${count === 1 ? "1 post is" : `${count} posts are`} hidden here by your reading preferences.`,
    );
    const prefsLink = document.querySelector(PREFS_LINK_SELECTOR);
    if (prefsLink) {
      note.append(" ", element("a", { href: prefsLink.getAttribute("href") }, "Change them"));
    }
    list.before(note);
  }
}

/** Passage gates inside text that arrived later (a decrypted post's body). */
function enhancePassages(container) {
  const prefs = readPreferences();
  const options = readOptions();
  for (const passage of container.querySelectorAll('[data-cw-gate="passage"]')) {
    enhanceGate(passage, prefs, options);
    if (options.hideText) hideWarningText(passage);
  }
}

/**
 * Wrap the children of `container` behind the same gate the server renders
 * for public posts. unlock.js calls it after decrypting a private post that
 * carries warnings. Returns the gate element (focus its ".cw-show" summary,
 * or the container if the reader's preferences opened it at once), or null
 * when there are no warnings and the text stays as it is. Passages with their
 * own warning inside the text get the reader's preferences either way.
 *
 * @param {HTMLElement} container
 * @param {{label: string, description?: string}[]} warnings
 * @param {{homeUrl?: string, preferencesUrl?: string, noun?: string, note?: string}} [options]
 *   note: the writer's own words, shown before the labels
 * @returns {HTMLElement | null}
 */
export function renderGate(container, warnings, options = {}) {
  enhancePassages(container);
  const valid = (Array.isArray(warnings) ? warnings : []).filter(
    (w) => w && typeof w.label === "string" && w.label.trim(),
  );
  if (!valid.length) return null;
  const noun = options.noun ?? "post";
  const homeUrl =
    options.homeUrl ?? document.querySelector(HOME_LINK_SELECTOR)?.getAttribute("href") ?? "/";
  const preferencesUrl =
    options.preferencesUrl ?? document.querySelector(PREFS_LINK_SELECTOR)?.getAttribute("href");
  const headingId = uniqueHeadingId();

  const labelled = valid.filter((w) => w.label !== CHOSE_NOT_TO_WARN);
  const withheld = valid.find((w) => w.label === CHOSE_NOT_TO_WARN);
  const text = element("div", { class: "cw-text", "data-cw-text": "" });
  if (labelled.length) {
    const list = element("ul", { class: "cw-list" });
    for (const { label, description } of labelled) {
      const item = element("li", {}, element("span", { class: "cw-label" }, label));
      if (typeof description === "string" && description) {
        item.append(element("span", { class: "cw-description" }, ` — ${description}`));
      }
      list.append(item);
    }
    text.append(element("p", { class: "cw-intro" }, `This ${noun} talks about:`), list);
  }
  const writerNote = typeof options.note === "string" ? options.note.trim() : "";
  if (writerNote) text.prepend(element("p", { class: "cw-writer-note" }, writerNote));
  const note = element(
    "p",
    { class: "cw-note" },
    "You can read it now, later, or not at all.",
  );
  if (preferencesUrl) {
    note.append(
      " Choose how warnings work for you in ",
      element("a", { href: preferencesUrl }, "reading preferences"),
      ".",
    );
  }
  const content = element("div", { class: "cw-content", tabindex: "-1" });
  content.append(...container.childNodes);

  const gate = element(
    "div",
    {
      class: "cw-gate",
      "data-cw-gate": "post",
      "data-cw-labels": JSON.stringify(valid.map((w) => w.label)),
    },
    element(
      "section",
      { class: "cw-panel", "aria-labelledby": headingId },
      element("h2", { class: "cw-heading", id: headingId }, "Content warning"),
      ...(labelled.length || writerNote ? [text] : []),
      ...(withheld
        ? [
            element(
              "p",
              { class: "cw-withheld" },
              typeof withheld.description === "string" && withheld.description
                ? withheld.description
                : CHOSE_NOT_TO_WARN_TEXT,
            ),
          ]
        : []),
      note,
    ),
    element(
      "details",
      { class: "cw-details" },
      element("summary", { class: "cw-show" }, `Show the ${noun}`),
      content,
    ),
    element("p", { class: "cw-back" }, element("a", { href: homeUrl }, "Go back to the home page")),
  );
  container.replaceChildren(gate);
  enhanceGate(gate);
  if (readOptions().hideText) hideWarningText(gate);
  return gate;
}

applyPreferences(document);
const preferencesForm = document.querySelector("[data-cw-prefs]");
if (preferencesForm) initPreferencesForm(preferencesForm);
