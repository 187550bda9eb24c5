/**
 * Reader preferences for content warnings, kept in this browser only.
 *
 * For each warning label a reader chooses "ask" (the default), "show" (open
 * such posts without asking) or "hide" (leave them out of lists). Two
 * choices cover every post: "always" (open every gate without asking;
 * hidden labels stay out of lists) and "hideText" (keep the labels
 * themselves out of sight until the reader asks). Choices live in
 * localStorage under STORAGE_KEY and OPTIONS_KEY and are never sent anywhere;
 * where storage is blocked, nothing is kept and every gate asks.
 */

export const STORAGE_KEY = "hearth.warnings";
export const OPTIONS_KEY = "hearth.warnings.options";
export const OPTION_NAMES = ["always", "hideText"];
export const ASK = "ask";
export const SHOW = "show";
export const HIDE = "hide";
const STORED_CHOICES = [SHOW, HIDE];

const SAVED = {
  [ASK]: (label) => `Saved: posts marked “${label}” will ask you first.`,
  [SHOW]: (label) => `Saved: posts marked “${label}” will open without asking.`,
  [HIDE]: (label) => `Saved: posts marked “${label}” are hidden from lists.`,
};
const OPTION_SAVED = {
  always: [
    "Saved: every post and passage opens without asking.",
    "Saved: posts and passages with warnings ask you first again.",
  ],
  hideText: [
    "Saved: warnings say only that there is one, until you ask to see them.",
    "Saved: warnings show their labels straight away.",
  ],
};
const NOT_SAVED =
  "This browser would not save your choice (its storage is off), so every warning will ask first.";
const RESET_DONE = "Back to the defaults: every warning asks you first.";

const NO_STORAGE =
  "This browser keeps no choices for this site (its storage is off), so every warning asks first.";

/** True when this browser lets the site keep choices (private modes may not). */
export function storageWorks() {
  try {
    const probe = `${STORAGE_KEY}.probe`;
    window.localStorage.setItem(probe, "1");
    window.localStorage.removeItem(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * The form labels are compared in: case and spacing do not matter.
 * @param {string} label
 * @returns {string}
 */
export function labelKey(label) {
  return String(label).split(/\s+/).filter(Boolean).join(" ").toLowerCase();
}

/**
 * The reader's choices, as a Map of label key -> "show" | "hide".
 * Anything unreadable counts as "ask": a broken store never opens a post.
 * @returns {Map<string, string>}
 */
export function readPreferences() {
  const prefs = new Map();
  let raw = null;
  try {
    raw = window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return prefs;
  }
  if (!raw) return prefs;
  try {
    const stored = JSON.parse(raw);
    if (stored && typeof stored === "object" && !Array.isArray(stored)) {
      for (const [key, choice] of Object.entries(stored)) {
        if (STORED_CHOICES.includes(choice)) prefs.set(labelKey(key), choice);
      }
    }
  } catch {
    // Not JSON: treat as no preferences at all.
  }
  return prefs;
}

function writePreferences(prefs) {
  try {
    if (prefs.size === 0) {
      window.localStorage.removeItem(STORAGE_KEY);
    } else {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(Object.fromEntries(prefs)));
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * The reader's choice for one label.
 * @param {string} label
 * @param {Map<string, string>} [prefs]
 * @returns {"ask" | "show" | "hide"}
 */
export function choiceFor(label, prefs = readPreferences()) {
  return prefs.get(labelKey(label)) ?? ASK;
}

/**
 * Store the reader's choice for one label; true when it was saved.
 * @param {string} label
 * @param {"ask" | "show" | "hide"} choice
 * @returns {boolean}
 */
export function setChoice(label, choice) {
  if (![ASK, ...STORED_CHOICES].includes(choice)) {
    throw new TypeError(`Unknown choice ${JSON.stringify(choice)}: use ask, show or hide.`);
  }
  const prefs = readPreferences();
  if (choice === ASK) {
    prefs.delete(labelKey(label));
  } else {
    prefs.set(labelKey(label), choice);
  }
  return writePreferences(prefs);
}

/**
 * The reader's choices for every post: {always, hideText}, false if unset
 * or unreadable (a broken store never opens a post).
 * @returns {{always: boolean, hideText: boolean}}
 */
export function readOptions() {
  const options = { always: false, hideText: false };
  try {
    const stored = JSON.parse(window.localStorage.getItem(OPTIONS_KEY) ?? "{}");
    for (const name of OPTION_NAMES) options[name] = stored?.[name] === true;
  } catch {
    // Blocked or not JSON: no options.
  }
  return options;
}

/**
 * Store one choice for every post; true when it was saved.
 * @param {"always" | "hideText"} name
 * @param {boolean} value
 * @returns {boolean}
 */
export function setOption(name, value) {
  if (!OPTION_NAMES.includes(name)) {
    throw new TypeError(`Unknown option ${JSON.stringify(name)}: use always or hideText.`);
  }
  const options = readOptions();
  options[name] = value === true;
  try {
    if (OPTION_NAMES.some((n) => options[n])) {
      window.localStorage.setItem(OPTIONS_KEY, JSON.stringify(options));
    } else {
      window.localStorage.removeItem(OPTIONS_KEY);
    }
    return readOptions()[name] === options[name];
  } catch {
    return false;
  }
}

/** Forget every choice: all labels ask again. */
export function resetPreferences() {
  let done = writePreferences(new Map());
  try {
    window.localStorage.removeItem(OPTIONS_KEY);
  } catch {
    done = false;
  }
  return done;
}

/**
 * What to do with a post carrying these labels: "hide" from lists if any
 * label is hidden, "show" if every label is shown or the reader chose
 * "always", else "ask".
 * @param {string[]} labels
 * @param {Map<string, string>} [prefs]
 * @param {{always?: boolean}} [options]
 * @returns {"ask" | "show" | "hide"}
 */
export function decide(labels, prefs = readPreferences(), options = readOptions()) {
  if (!labels.length) return ASK;
  const choices = labels.map((label) => choiceFor(label, prefs));
  if (choices.includes(HIDE)) return HIDE;
  if (options.always || choices.every((choice) => choice === SHOW)) return SHOW;
  return ASK;
}

/**
 * Wire the preferences form (theme/templates/preferences.html): load the
 * stored choices, save each change at once, and reset on request.
 * @param {HTMLFormElement} form
 */
export function initPreferencesForm(form) {
  const status = form.querySelector("[data-cw-status]");
  const groups = [...form.querySelectorAll("fieldset[data-cw-label]")];
  const say = (message) => {
    if (status) status.textContent = message;
  };
  const optionBoxes = [...form.querySelectorAll("input[type=checkbox][data-cw-option]")];
  const show = (prefs) => {
    for (const group of groups) {
      const choice = choiceFor(group.dataset.cwLabel, prefs);
      for (const radio of group.querySelectorAll("input[type=radio]")) {
        radio.checked = radio.value === choice;
      }
    }
    const options = readOptions();
    for (const box of optionBoxes) box.checked = options[box.dataset.cwOption] === true;
  };

  show(readPreferences());
  if (!storageWorks()) say(NO_STORAGE);
  for (const note of document.querySelectorAll("[data-cw-nojs]")) note.hidden = true;
  for (const fieldset of form.querySelectorAll("fieldset[disabled]")) fieldset.disabled = false;

  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", (event) => {
    const radio = event.target;
    if (optionBoxes.includes(radio)) {
      const name = radio.dataset.cwOption;
      const saved = setOption(name, radio.checked);
      say(saved ? OPTION_SAVED[name][radio.checked ? 0 : 1] : NOT_SAVED);
      return;
    }
    const group = radio.closest("fieldset[data-cw-label]");
    if (!group || radio.type !== "radio") return;
    const label = group.dataset.cwLabel;
    say(setChoice(label, radio.value) ? SAVED[radio.value](label) : NOT_SAVED);
  });
  form.querySelector("[data-cw-reset]")?.addEventListener("click", () => {
    const done = resetPreferences();
    show(readPreferences());
    say(done ? RESET_DONE : NOT_SAVED);
  });
}
