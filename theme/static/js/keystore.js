/**
 * Where Hearth's browser code keeps readers' keys: always non-extractable
 * CryptoKeys in IndexedDB ("hearth"), usable by scripts, never readable.
 * The session store is shared by every tab of one browser session (named
 * by a session cookie) and emptied when a new session starts; the device
 * store keeps keys the reader asked to remember. unlock.js (private posts)
 * and lockshell.js (a locked site) share it.
 */
import { toBase64url } from "./envelope.js";

const SESSION_PREFIX = "hearth-key:";
const DB_NAME = "hearth";
const DB_STORE = "audience-keys";

// -- the session store: non-extractable CryptoKeys, shared by the tabs ---------
//
// One browser session is named by a session cookie (no expiry: the browser
// drops it when the session ends, and every tab of the session sees it).
// Keys live in IndexedDB under that name, as CryptoKeys scripts can use but
// never read. A page that finds no cookie starts a new session and first
// deletes every key of an earlier one. The cookie holds a random name, no key.

const SESSION_COOKIE = "hearth-session";
const SESSION_STORE = "session-keys";
let sessionName = null;

function currentSession() {
  if (sessionName) return sessionName;
  const found = document.cookie
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${SESSION_COOKIE}=`));
  if (found) {
    sessionName = found.slice(SESSION_COOKIE.length + 1);
    return sessionName;
  }
  sessionName = toBase64url(crypto.getRandomValues(new Uint8Array(16)));
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${SESSION_COOKIE}=${sessionName}; Path=/; SameSite=Strict${secure}`;
  sessionStale = true;
  return sessionName;
}
let sessionStale = false;

async function withSessionStore(mode, work) {
  const session = currentSession();
  const db = await openDb();
  if (!db) return null;
  try {
    const tx = db.transaction(SESSION_STORE, mode);
    const store = tx.objectStore(SESSION_STORE);
    if (sessionStale && mode === "readwrite") {
      // A new session: what an earlier one kept is forgotten first.
      for (const name of await request(store.getAllKeys())) {
        if (!String(name).startsWith(`${session}:`)) await request(store.delete(name));
      }
      sessionStale = false;
    }
    const result = await work(store, session);
    if (mode === "readwrite") {
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
    }
    return result;
  } catch {
    return null;
  } finally {
    db.close();
  }
}

export async function sessionGet(name) {
  const key = await withSessionStore("readonly", (store, session) =>
    request(store.get(`${session}:${name}`)),
  );
  return key instanceof CryptoKey ? key : null;
}

export async function sessionPut(name, key) {
  // Storage off: the post stays open in this page, and asks again later.
  await withSessionStore("readwrite", (store, session) =>
    request(store.put(key, `${session}:${name}`)),
  );
}

export async function sessionForget(audiences) {
  await withSessionStore("readwrite", async (store, session) => {
    for (const name of await request(store.getAllKeys())) {
      const rest = String(name).slice(session.length + 1);
      if (audiences.some((a) => rest.startsWith(`${a}:`))) await request(store.delete(name));
    }
  });
  try {
    // Earlier versions kept raw key bytes in sessionStorage: never again.
    for (let index = sessionStorage.length - 1; index >= 0; index--) {
      const name = sessionStorage.key(index);
      if (name?.startsWith(SESSION_PREFIX)) sessionStorage.removeItem(name);
    }
  } catch {
    // No session storage: nothing to forget there.
  }
}

export async function sessionHas(audience) {
  const names = await withSessionStore("readonly", (store) => request(store.getAllKeys()));
  const session = currentSession();
  return (names ?? []).some((name) => String(name).startsWith(`${session}:${audience}:`));
}

// -- the device store: non-extractable CryptoKeys in IndexedDB ---------------

export function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function openDb() {
  if (!globalThis.indexedDB) return null;
  try {
    const opening = indexedDB.open(DB_NAME, 2);
    opening.onupgradeneeded = () => {
      const names = opening.result.objectStoreNames;
      if (!names.contains(DB_STORE)) opening.result.createObjectStore(DB_STORE);
      if (!names.contains(SESSION_STORE)) opening.result.createObjectStore(SESSION_STORE);
    };
    return await request(opening);
  } catch {
    return null;
  }
}

export async function deviceGet(name) {
  const db = await openDb();
  if (!db) return null;
  try {
    return (await request(db.transaction(DB_STORE).objectStore(DB_STORE).get(name))) ?? null;
  } catch {
    return null;
  } finally {
    db.close();
  }
}

export async function devicePut(name, key) {
  const db = await openDb();
  if (!db) return false;
  try {
    const tx = db.transaction(DB_STORE, "readwrite");
    tx.objectStore(DB_STORE).put(key, name);
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    return true;
  } catch {
    return false;
  } finally {
    db.close();
  }
}

export async function deviceForget(audiences) {
  const db = await openDb();
  if (!db) return;
  try {
    const store = db.transaction(DB_STORE, "readwrite").objectStore(DB_STORE);
    for (const name of await request(store.getAllKeys())) {
      if (audiences.some((a) => String(name).startsWith(`${a}:`))) {
        await request(store.delete(name));
      }
    }
  } catch {
    // Nothing stored, nothing to forget.
  } finally {
    db.close();
  }
}

/**
 * Forget every remembered key of these audiences, in the session and on
 * the device.
 * @param {string[]} audiences
 */
export async function forgetKeys(audiences) {
  await sessionForget(audiences);
  await deviceForget(audiences);
}


/** Is a key of this audience kept in the session or on the device? */
export async function hasRememberedKey(audience) {
  if (await sessionHas(audience)) return true;
  const prefix = `${audience}:`;
  const db = await openDb();
  if (!db) return false;
  try {
    const names = await request(db.transaction(DB_STORE).objectStore(DB_STORE).getAllKeys());
    return names.some((name) => String(name).startsWith(prefix));
  } catch {
    return false;
  } finally {
    db.close();
  }
}
