/**
 * The unlock panel of a private post: ask for the passphrase, derive the
 * audience key, open the envelope (envelope.js) and show the post in the
 * site's normal article layout, with a "Lock again" button.
 *
 * The browser keeps the reader's key (derived from the passphrase, or a
 * link's), never the passphrase, and always as a non-extractable CryptoKey
 * in IndexedDB: usable, never readable.
 * - for this browser session by default, shared by all its tabs (a reader
 *   tapping links in a chat app opens new tabs) and forgotten when the
 *   session ends: the session is named by a session cookie, and a page that
 *   finds none deletes what an earlier session kept;
 * - on this device when the reader ticks "Remember on this device".
 * "Lock again" forgets the keys of the post's audiences in both places.
 *
 * A link that unlocks carries an audience key in the fragment (#k=...),
 * which never reaches the server; the page strips it from the address bar.
 */
import {
  DamagedError,
  decryptAttachment,
  decryptPayload,
  deriveKey,
  fromBase64url,
  importAudienceKey,
  NewerVersionError,
  parseEnvelope,
  unwrapContentKey,
  WrongKeyError,
} from "./envelope.js";
import {
  deviceGet,
  devicePut,
  forgetKeys,
  hasRememberedKey,
  sessionGet,
  sessionPut,
} from "./keystore.js";

export { forgetKeys };

// The fragment of a link that unlocks is read and removed from the address
// bar before anything else runs, on every path: an insecure page, a damaged
// envelope, a thrown error, a page without a panel. Nothing below can keep it.
const LINK_FRAGMENT = takeLinkFragment();

function takeLinkFragment() {
  const hash = globalThis.location?.hash ?? "";
  if (!hash.startsWith("#k=")) return "";
  try {
    history.replaceState(history.state, "", location.pathname + location.search);
  } catch {
    location.hash = ""; // leaves a bare "#", but never the key
  }
  return hash;
}

const PANEL_ID = "hearth-private";
const ENVELOPE_ID = "hearth-envelope";
const LINK_KEY = /^#k=([A-Za-z0-9_-]{43})$/;

const MESSAGES = {
  insecure:
    "This post can only be unlocked on a secure (https://) address. " +
    "Open the https:// version of this page to read it.",
  newer: "This post needs a newer version of this page. Reload the page and try again.",
  damaged: "This post could not be opened. It may have been damaged on its way here.",
  empty: "Type the passphrase first.",
  wrong: "That passphrase didn't open this post. Check it and try again.",
  working: "Unlocking… this takes a moment.",
  badLink: "This link didn't unlock the post. You can type the passphrase instead.",
  locked: "Locked again. This browser has forgotten the key.",
};

/**
 * The address the envelope is bound to: the path as location.pathname shows
 * it, without a trailing "index.html" (docs/format.md, "Associated data").
 * @param {Location|URL} where
 * @returns {string}
 */
export function pageAddress(where = location) {
  return where.pathname.replace(/index\.html$/, "");
}

/** Where a remembered key lives: one name per audience, salt and work. */
function keyName(entry) {
  return `${entry.audience}:${entry.saltId}:${entry.iterations}`;
}

// -- opening ------------------------------------------------------------------

/**
 * Try a key on every entry of its audience; the content key, or null when
 * the key is wrong. Damaged and newer-version errors go to the caller.
 */
async function tryKey(envelope, key, audience) {
  try {
    return await unwrapContentKey(envelope, key, audience);
  } catch (error) {
    if (error instanceof WrongKeyError) return null;
    throw error;
  }
}

/**
 * Where an audience's keyring is: p/k/<salt id> beside the page's own p/
 * (docs/format.md, "Readers and the keyring"), or null for a page that is
 * neither a private post nor a list.
 */
export function keyringAddress(address, entry) {
  const match = /^(.*\/)p\/(?:[0-9a-f]{16}\/|i\/[a-z0-9]+)$/.exec(address);
  return match ? `${match[1]}p/k/${entry.saltId}` : null;
}

const keyrings = new Map(); // address -> parsed keyring, once per page

async function fetchKeyring(address) {
  if (!keyrings.has(address)) {
    keyrings.set(
      address,
      (async () => {
        const response = await fetch(address, { credentials: "same-origin" });
        return response.ok ? parseEnvelope(await response.text()) : null;
      })().catch(() => null),
    );
  }
  return keyrings.get(address);
}

/**
 * A reader's key (derived from their passphrase, or a link's) opens the
 * post directly (an audience's shared passphrase does) or through the
 * audience's keyring: the reader's key opens the audience key, which opens
 * the post. The content key, or null.
 */
async function openWith(envelope, key, entry, address) {
  const direct = await tryKey(envelope, key, entry.audience);
  if (direct) return direct;
  const ringAddress = keyringAddress(address, entry);
  const ring = ringAddress && (await fetchKeyring(ringAddress));
  if (!ring) return null;
  const ringKey = await tryKey(ring, key, entry.audience);
  if (!ringKey) return null;
  const raw = await decryptPayload(ring, ringKey, ringAddress);
  if (raw.length !== 32) return null;
  const audienceKey = await importAudienceKey(raw);
  raw.fill(0);
  return tryKey(envelope, audienceKey, entry.audience);
}

/** The distinct (audience, salt, iterations) entries, in envelope order. */
function distinctEntries(envelope) {
  const seen = new Map();
  for (const entry of envelope.recipients) {
    if (!seen.has(keyName(entry))) seen.set(keyName(entry), entry);
  }
  return [...seen.values()];
}

/**
 * A key remembered in this session or on this device that opens the post.
 * The session's keys come first: they need no trip to IndexedDB.
 */
async function rememberedContentKey(envelope, address) {
  const entries = distinctEntries(envelope);
  for (const entry of entries) {
    const stored = await sessionGet(keyName(entry));
    if (!stored) continue;
    const contentKey = await openWith(envelope, stored, entry, address);
    if (contentKey) return contentKey;
  }
  for (const entry of entries) {
    const stored = await deviceGet(keyName(entry));
    if (!(stored instanceof CryptoKey)) continue;
    const contentKey = await openWith(envelope, stored, entry, address);
    if (contentKey) return contentKey;
  }
  return null;
}

/** Open with the key a link carries; it is kept for this session. */
async function linkContentKey(envelope, raw, address) {
  const key = await importAudienceKey(raw);
  for (const entry of distinctEntries(envelope)) {
    const contentKey = await openWith(envelope, key, entry, address);
    if (contentKey) {
      await sessionPut(keyName(entry), key);
      return contentKey;
    }
  }
  return null;
}

/**
 * Derive a key from the passphrase for each distinct salt until one opens
 * the post; remember it where the reader chose.
 */
async function passphraseContentKey(envelope, passphrase, remember, address) {
  for (const entry of distinctEntries(envelope)) {
    // Never extractable: the key can open posts but no script can read it.
    const key = await deriveKey(passphrase, entry.salt, entry.iterations, false);
    const contentKey = await openWith(envelope, key, entry, address);
    if (!contentKey) continue;
    const name = keyName(entry);
    // On the device only when the reader asked; if IndexedDB refuses it
    // there, the session keeps it rather than nothing.
    if (!remember || !(await devicePut(name, key))) await sessionPut(name, key);
    return contentKey;
  }
  return null;
}

// -- showing the post ---------------------------------------------------------

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * Parse the post's HTML inertly and swap each private attachment for a blob
 * URL of its decrypted bytes, before anything is inserted or fetched.
 */
async function renderBody(payload, blobUrls) {
  const template = document.createElement("template");
  template.innerHTML = String(payload.content ?? "");
  const attachments = payload.attachments ?? {};
  const jobs = [];
  for (const node of template.content.querySelectorAll("[src], [href], [poster]")) {
    for (const attribute of ["src", "href", "poster"]) {
      const value = node.getAttribute(attribute);
      if (!value) continue;
      const address = new URL(value, location.href).pathname;
      const meta = Object.hasOwn(attachments, address) ? attachments[address] : null;
      if (!meta) continue;
      node.removeAttribute(attribute);
      jobs.push(
        (async () => {
          const response = await fetch(address, { credentials: "same-origin" });
          if (!response.ok) throw new DamagedError("An attachment is missing.");
          const bytes = await decryptAttachment(await response.arrayBuffer(), address, meta.key);
          const url = URL.createObjectURL(new Blob([bytes], { type: meta.type }));
          blobUrls.push(url);
          node.setAttribute(attribute, url);
        })(),
      );
    }
  }
  await Promise.all(jobs);
  return template.content;
}

/** gate.js (content warnings), when the page loads it; else null. */
async function gateModule() {
  const script = document.querySelector('script[type="module"][src$="/gate.js"]');
  if (!script) return null;
  try {
    return await import(script.src);
  } catch {
    return null;
  }
}

/** The content-warning gate (gate.js), if the page has it; else a notice. */
async function gateWarnings(body, warnings, note) {
  if (!Array.isArray(warnings) || warnings.length === 0) return;
  const gate = await gateModule();
  if (typeof gate?.renderGate === "function") {
    gate.renderGate(body, warnings, { note: typeof note === "string" ? note : "" });
    return;
  }
  // Without gate.js the reader still sees the warning, before the text.
  const labels = warnings.map((w) => w.label).filter(Boolean).join(", ");
  body.prepend(element("p", { class: "cw-notice" }, `Content warning: ${labels}.`));
}

async function renderPost(payload) {
  const blobUrls = [];
  const body = element("div", { class: "entry-content" });
  body.append(await renderBody(payload, blobUrls));
  await gateWarnings(body, payload.warnings, payload.warnings_note);

  const heading = element("h1", { class: "post-title", tabindex: "-1" }, String(payload.title ?? ""));
  const meta = element("p", { class: "entry-meta" });
  if (payload.date) {
    meta.append(element("time", { datetime: payload.date }, String(payload.locale_date || payload.date)));
  }
  if (Array.isArray(payload.tags) && payload.tags.length) {
    meta.append(element("span", { class: "entry-tags" }, ` · ${payload.tags.join(", ")}`));
  }
  const lockButton = element("button", { type: "button", class: "secondary lock-again" }, "Lock again");
  const post = element(
    "div",
    { class: "post-unlocked" },
    element("header", {}, heading, meta),
    body,
    element("p", { class: "lock-again-row" }, lockButton),
  );
  return { post, heading, lockButton, blobUrls };
}

// -- the panel ----------------------------------------------------------------

/**
 * Wire up the locked panel in `root`.
 * @param {HTMLElement} root  the element with id "hearth-private"
 */
/**
 * The panel's states, exactly one at a time, shown as root's data-state.
 * `form`: the passphrase form is shown; `busy`: the button is disabled;
 * `error`: the status reads as an error; `final`: nothing can be opened on
 * this page, so no state follows; `next`: the states it may go to.
 */
export const STATES = Object.freeze({
  locked: { form: true, busy: false, error: false, final: false, next: ["deriving", "open", "wrong", "damaged", "newer"] },
  deriving: { form: true, busy: true, error: false, final: false, next: ["open", "wrong", "damaged", "newer"] },
  open: { form: false, busy: false, error: false, final: false, next: ["locked"] },
  wrong: { form: true, busy: false, error: true, final: false, next: ["deriving", "open", "wrong", "damaged", "newer"] },
  damaged: { form: false, busy: false, error: true, final: true, next: [] },
  newer: { form: false, busy: false, error: true, final: true, next: [] },
  insecure: { form: false, busy: false, error: true, final: true, next: [] },
});
const STATE_MESSAGES = {
  locked: "",
  deriving: MESSAGES.working,
  open: "",
  wrong: MESSAGES.wrong,
  damaged: MESSAGES.damaged,
  newer: MESSAGES.newer,
  insecure: MESSAGES.insecure,
};

export async function initPanel(root) {
  const panel = root.querySelector(".locked-panel");
  const form = root.querySelector(".unlock-form");
  const field = form.querySelector('input[name="passphrase"]');
  const remember = form.querySelector('input[name="remember"]');
  const button = form.querySelector('button[type="submit"]');
  const status = root.querySelector(".unlock-status");
  const buttonText = button.textContent;
  const lockedTitle = document.title;
  let shown = null;
  let state = null;

  /** The one way the panel changes: enter a state (with its own words). */
  const enter = (next, message = STATE_MESSAGES[next]) => {
    if (state !== null && !STATES[state].next.includes(next)) {
      if (STATES[state].final) return; // nothing follows a final state
      if (next !== state) throw new Error(`unlock: no way from ${state} to ${next}`);
    }
    const spec = STATES[next];
    state = next;
    root.dataset.state = next;
    form.hidden = !spec.form;
    button.disabled = spec.busy;
    button.setAttribute("aria-busy", String(spec.busy));
    button.textContent = spec.busy ? "Unlocking…" : buttonText;
    status.textContent = message;
    status.classList.toggle("is-error", spec.error);
  };
  const failed = (error) => enter(error instanceof NewerVersionError ? "newer" : "damaged");

  // Browsers give WebCrypto only to secure contexts (https, or localhost).
  if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) {
    enter("insecure");
    return;
  }

  let envelope;
  try {
    envelope = parseEnvelope(document.getElementById(ENVELOPE_ID)?.textContent ?? "");
  } catch (error) {
    failed(error);
    return;
  }
  const audiences = [...new Set(envelope.recipients.map((entry) => entry.audience))];
  const address = pageAddress();

  const show = async (contentKey) => {
    const payload = JSON.parse(
      new TextDecoder().decode(await decryptPayload(envelope, contentKey, address)),
    );
    shown = await renderPost(payload);
    enter("open");
    panel.hidden = true;
    root.append(shown.post);
    root.classList.add("post-is-unlocked");
    const site = lockedTitle.includes(" · ") ? lockedTitle.slice(lockedTitle.lastIndexOf(" · ")) : "";
    document.title = `${payload.title}${site}`;
    shown.lockButton.addEventListener("click", lock);
    shown.heading.focus();
  };

  const lock = async () => {
    await forgetKeys(audiences);
    if (shown) {
      for (const url of shown.blobUrls) URL.revokeObjectURL(url);
      shown.post.remove();
      shown = null;
    }
    root.classList.remove("post-is-unlocked");
    document.title = lockedTitle;
    panel.hidden = false;
    field.value = "";
    remember.checked = false;
    enter("locked", MESSAGES.locked);
    field.focus();
  };

  // Turns every failure into a calm sentence; never a blank page. True when
  // the attempt ended the search (opened, or found the post damaged).
  const attempt = async (open) => {
    try {
      const contentKey = await open();
      if (!contentKey) return false;
      await show(contentKey);
      return true;
    } catch (error) {
      failed(error);
      return true;
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (STATES[state].final || state === "deriving") return;
    const passphrase = field.value;
    if (!passphrase.trim()) {
      enter("wrong", MESSAGES.empty);
      field.focus();
      return;
    }
    enter("deriving");
    const opened = await attempt(() =>
      passphraseContentKey(envelope, passphrase, remember.checked, address),
    );
    if (!opened) {
      enter("wrong");
      field.focus();
      field.select();
    } else if (shown) {
      field.value = "";
    }
  });

  const link = LINK_KEY.exec(LINK_FRAGMENT);
  if (link) {
    let raw = null;
    try {
      raw = fromBase64url(link[1]);
    } catch {
      raw = null;
    }
    enter("deriving");
    if (raw?.length === 32 && (await attempt(() => linkContentKey(envelope, raw, address)))) return;
  }
  if (LINK_FRAGMENT) {
    enter("wrong", MESSAGES.badLink);
    return;
  }
  if (await attempt(() => rememberedContentKey(envelope, address))) return;
  enter("locked");
}

// -- the home page and archives, once an audience is unlocked ---------------


/** Open the lists of the audiences this browser holds a key for. */
async function unlockedEntries(lists) {
  const entries = new Map();
  for (const { audience, url } of lists) {
    // Nothing is fetched for an audience this browser has no key for.
    // Nor for a list the page does not name (an audience with hidden posts only).
    if (!audience || !(await hasRememberedKey(audience))) continue;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) continue;
      const envelope = parseEnvelope(await response.text());
      const contentKey = await rememberedContentKey(envelope, url);
      if (!contentKey) continue;
      const bytes = await decryptPayload(envelope, contentKey, url);
      for (const entry of JSON.parse(new TextDecoder().decode(bytes)).entries ?? []) {
        entries.set(entry.url, entry);
      }
    } catch {
      // A list that cannot be opened stays locked; the page is unchanged.
    }
  }
  return [...entries.values()];
}

function timeOf(item) {
  const time = item.querySelector("time[datetime]");
  return time ? Date.parse(time.getAttribute("datetime")) : Number.NaN;
}

function linkTo(item, url) {
  return [...item.querySelectorAll("a[href]")].find(
    (a) => new URL(a.getAttribute("href"), location.href).pathname === url,
  );
}

function labelsOf(entry) {
  return (Array.isArray(entry.warnings) ? entry.warnings : [])
    .map((w) => w?.label)
    .filter((label) => typeof label === "string" && label);
}

/** The summary, behind the same list gate public entries have (gate.js). */
function summaryOf(entry) {
  const template = document.createElement("template");
  template.innerHTML = String(entry.summary ?? "");
  const summary = element("div", { class: "entry-summary" }, template.content);
  const labels = labelsOf(entry);
  if (!labels.length) return summary;
  return element(
    "div",
    {
      class: "cw-gate cw-gate-summary",
      "data-cw-gate": "summary",
      "data-cw-labels": JSON.stringify(labels),
    },
    element("p", { class: "cw-line" }, element("strong", {}, "Content warning:"), ` ${labels.join(", ")}`),
    element(
      "details",
      { class: "cw-details" },
      element(
        "summary",
        { class: "cw-show" },
        "Show the summary",
        element("span", { class: "visually-hidden" }, ` of “${entry.title}”`),
      ),
      element("div", { class: "cw-content", tabindex: "-1" }, summary),
    ),
  );
}

function newItem(entry, isArchive) {
  const time = element("time", { datetime: entry.date }, String(entry.locale_date || entry.date));
  const link = element("a", { href: entry.url }, String(entry.title));
  const mark = element("span", { class: "unlocked-mark" }, " · private");
  if (isArchive) {
    const item = element("li", { class: "entry-unlocked" }, time, " ", link, mark);
    const labels = labelsOf(entry);
    if (labels.length) {
      item.append(
        " ",
        element("span", { class: "cw-tag", "data-cw-labels": JSON.stringify(labels) }, `Content warning: ${labels.join(", ")}`),
      );
    }
    return item;
  }
  return element(
    "article",
    { class: "entry entry-unlocked" },
    element("h2", { class: "entry-title" }, link),
    element("p", { class: "entry-meta" }, time, mark),
    summaryOf(entry),
  );
}

/**
 * Put unlocked private posts in their places: a locked entry takes its real
 * title and summary; a hidden post joins the list by date, within the dates
 * this page of the list covers.
 */
function placeEntries(entries, page) {
  const placed = [];
  const isArchive = page !== "index";
  const list = document.querySelector(isArchive ? "ul.archive" : "section.entries");
  if (!list) return;
  const items = () => [...list.children].filter((item) => !Number.isNaN(timeOf(item)));
  const dates = items().map(timeOf);
  if (dates.length === 0) return;
  const newest = Math.max(...dates);
  const oldest = Math.min(...dates);
  // A period archive covers only its own dates; the home page's pages
  // cover everything between the first page's top and the last's bottom.
  const pages = document.querySelector(".pagination");
  const open = page !== "period_archives";
  const first = open && (page === "archives" || !pages?.querySelector('a[rel="prev"]'));
  const last = open && (page === "archives" || !pages?.querySelector('a[rel="next"]'));
  for (const entry of entries) {
    const when = Date.parse(entry.date);
    const locked = items().find((item) => linkTo(item, entry.url));
    if (locked) {
      const replacement = newItem(entry, isArchive);
      locked.replaceWith(replacement);
      placed.push(replacement);
      continue;
    }
    if ((when > newest && !first) || (when < oldest && !last)) continue;
    const before = items().find((item) => timeOf(item) < when);
    const item = newItem(entry, isArchive);
    if (before) before.before(item);
    else items().at(-1).after(item);
    placed.push(item);
  }
  return placed;
}

const root = document.getElementById(PANEL_ID);
if (root) {
  initPanel(root).catch(() => {
    // Last resort: nothing may leave the reader with a blank or silent page.
    const status = root.querySelector(".unlock-status");
    if (status) status.textContent = MESSAGES.damaged;
  });
}

const indexes = document.getElementById("hearth-indexes");
if (indexes && globalThis.isSecureContext && globalThis.crypto?.subtle) {
  let lists = [];
  try {
    lists = JSON.parse(indexes.textContent);
  } catch {
    lists = [];
  }
  unlockedEntries(lists)
    .then(async (entries) => {
      if (!entries.length) return;
      const placed = placeEntries(entries, indexes.dataset.page) ?? [];
      // The reader's warning preferences apply to these entries too.
      const gate = await gateModule();
      if (typeof gate?.applyPreferences === "function") {
        for (const item of placed) gate.applyPreferences(item);
      }
    })
    .catch(() => {
      // The public list stays as it is.
    });
}
