/**
 * The unlock page of a locked site (`invoke lock`).
 *
 * Every page of a locked site is this shell, carrying the real page in an
 * envelope for the `site` audience, bound to the page's output path
 * ("2026/a-post/index.html"). A reader types the site passphrase once; the
 * derived key (never the passphrase) is kept as a non-extractable CryptoKey
 * (keystore.js), for the browser session and all its tabs, or on this device
 * if the reader ticks "Remember on this device", so every other page opens
 * by itself. Opening a page replaces this document with the decrypted one,
 * its images and files decrypted into blob: URLs, and a "Lock again" button
 * that forgets the key, as on private posts.
 */

import {
  decryptAttachment,
  deriveKey,
  NewerVersionError,
  openEnvelope,
  parseEnvelope,
  WrongKeyError,
} from "./envelope.js";
import { deviceGet, devicePut, forgetKeys, sessionGet, sessionPut } from "./keystore.js";

const AUDIENCE = "site";
// The theme's scripts sit at <root>/theme/js/: the site root is two levels up.
const ROOT = new URL("../../", import.meta.url);
const MESSAGES = {
  unlocking: "Unlocking…",
  wrong: "That passphrase does not open this blog. Check it and try again.",
  newer: "This blog was locked with a newer version of Hearth. Reload the page.",
  damaged: "This page could not be opened. Reload it, or ask the writer.",
};

/**
 * The output path this page's envelope is bound to, from the address bar
 * (the 404 page, served at any address, says its own).
 * @param {HTMLElement} carrier
 * @returns {string}
 */
export function pagePath(carrier, pathname = location.pathname) {
  if (carrier.hasAttribute("data-fallback")) return carrier.dataset.url;
  const root = decodeURIComponent(ROOT.pathname);
  let path = decodeURIComponent(pathname);
  if (path.startsWith(root)) path = path.slice(root.length);
  if (path === "" || path.endsWith("/")) path += "index.html";
  return path;
}

function storageKey(entry) {
  return `${AUDIENCE}:${entry.saltId}:${entry.iterations}`;
}

/** The reader can lock the site again from any opened page. */
function addLockAgain() {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "lockshell-lock-again";
  button.textContent = "Lock again";
  button.addEventListener("click", async () => {
    await forgetKeys([AUDIENCE]);
    location.reload();
  });
  document.body.prepend(button);
}

/** "Remember on this device", beside the passphrase (the shell needs JS anyway). */
function addRemember(form) {
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.name = "remember";
  label.append(box, " Remember on this device");
  form.querySelector('button[type="submit"]')?.before(label);
  return box;
}

function sitePath(value) {
  let url;
  try {
    url = new URL(value, location.href);
  } catch {
    return null;
  }
  if (url.origin !== location.origin) return null;
  const root = decodeURIComponent(ROOT.pathname);
  const path = decodeURIComponent(url.pathname);
  return path.startsWith(root) ? path.slice(root.length) : null;
}

/** Decrypt the locked files a page uses and point it at blob: URLs. */
async function swapAssets(doc, assets) {
  const cache = new Map();
  async function blobUrl(rel) {
    if (!cache.has(rel)) {
      const info = assets[rel];
      cache.set(
        rel,
        (async () => {
          const response = await fetch(new URL(info.src, ROOT));
          if (!response.ok) throw new Error(`${info.src}: ${response.status}`);
          const bytes = new Uint8Array(await response.arrayBuffer());
          const plain = await decryptAttachment(bytes, rel, info.key);
          return URL.createObjectURL(new Blob([plain], { type: info.type }));
        })(),
      );
    }
    return cache.get(rel);
  }
  const jobs = [];
  for (const el of doc.querySelectorAll("[src], [href], [poster], [srcset]")) {
    for (const attr of ["src", "href", "poster"]) {
      const rel = sitePath(el.getAttribute(attr) ?? "");
      if (rel !== null && Object.hasOwn(assets, rel)) {
        jobs.push(blobUrl(rel).then((url) => el.setAttribute(attr, url)));
      }
    }
    if (el.hasAttribute("srcset")) {
      const parts = el
        .getAttribute("srcset")
        .split(",")
        .map((part) => part.trim().split(/\s+/));
      jobs.push(
        Promise.all(
          parts.map(async ([value, ...descriptor]) => {
            const rel = sitePath(value);
            const url = rel !== null && Object.hasOwn(assets, rel) ? await blobUrl(rel) : value;
            return [url, ...descriptor].join(" ");
          }),
        ).then((list) => el.setAttribute("srcset", list.join(", "))),
      );
    }
  }
  await Promise.all(jobs);
}

/** Replace this document with the decrypted page, and run its scripts. */
async function showPage(payloadBytes) {
  const payload = JSON.parse(new TextDecoder().decode(payloadBytes));
  const doc = new DOMParser().parseFromString(payload.html, "text/html");
  await swapAssets(doc, payload.assets ?? {});
  if (!doc.querySelector('link[rel~="icon"]')) {
    // Without an icon the browser asks for /favicon.ico, which a locked
    // site answers with this shell: ask for nothing instead.
    const icon = doc.createElement("link");
    icon.rel = "icon";
    icon.href = "data:,";
    doc.head.append(icon);
  }
  // Swap head and body, not the root element: Chromium takes a root without
  // a head for a page without an icon, and asks for /favicon.ico.
  const html = document.documentElement;
  for (const { name } of [...html.attributes]) html.removeAttribute(name);
  for (const { name, value } of doc.documentElement.attributes) html.setAttribute(name, value);
  document.head.replaceChildren(...[...doc.head.childNodes].map((n) => document.adoptNode(n)));
  document.body.replaceWith(document.adoptNode(doc.body));
  // Scripts parsed by DOMParser never run; fresh copies do (same origin,
  // so the Content-Security-Policy's script-src 'self' allows them).
  for (const old of html.querySelectorAll("script")) {
    const fresh = document.createElement("script");
    for (const { name, value } of old.attributes) fresh.setAttribute(name, value);
    fresh.textContent = old.textContent;
    old.replaceWith(fresh);
  }
  if (location.hash) {
    document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
  }
}

async function main() {
  const carrier = document.getElementById("hearth-locked-page");
  const form = document.querySelector(".lockshell-form");
  if (!carrier || !form) return;
  const input = form.querySelector("input");
  const status = form.querySelector(".lockshell-status");
  const text = carrier.textContent.trim();
  const path = pagePath(carrier);
  let entry;
  try {
    entry = parseEnvelope(text).recipients.find((r) => r.audience === AUDIENCE);
    if (!entry) throw new WrongKeyError("no entry for the site audience");
  } catch (error) {
    form.hidden = false;
    status.textContent = error instanceof NewerVersionError ? MESSAGES.newer : MESSAGES.damaged;
    return;
  }
  for (const remembered of [
    await sessionGet(storageKey(entry)),
    await deviceGet(storageKey(entry)),
  ]) {
    if (!(remembered instanceof CryptoKey)) continue;
    try {
      await showPage(await openEnvelope(text, path, remembered, AUDIENCE));
      addLockAgain();
      return;
    } catch {
      // A key from before the passphrase changed: try the next, then ask.
    }
  }
  const remember = addRemember(form);
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = MESSAGES.unlocking;
    try {
      const key = await deriveKey(input.value, entry.salt, entry.iterations, false);
      const payload = await openEnvelope(text, path, key, AUDIENCE);
      const name = storageKey(entry);
      if (!remember.checked || !(await devicePut(name, key))) await sessionPut(name, key);
      await showPage(payload);
      addLockAgain();
    } catch (error) {
      if (error instanceof WrongKeyError || error instanceof TypeError) {
        status.textContent = MESSAGES.wrong;
      } else if (error instanceof NewerVersionError) {
        status.textContent = MESSAGES.newer;
      } else {
        status.textContent = MESSAGES.damaged;
      }
      input.select();
    }
  });
}

main();
