/**
 * Hearth's envelope in the browser: parse, unwrap, decrypt, inflate.
 *
 * Implements docs/format.md (version 1) with WebCrypto (crypto.subtle) only.
 * No imports and no DOM: the unlock panel imports this module and does the
 * talking to readers. Errors are a small family under EnvelopeError, named
 * for what the reader is told; caller mistakes throw TypeError or RangeError.
 */

export const VERSION = 1;
export const ITERATION_FLOOR = 600000;
export const ITERATION_CAP = 10000000;
export const KDF = "pbkdf2-sha256";
export const MAX_RECIPIENTS = 64;
// A payload inflates to at most this many bytes (docs/format.md, "Padding"):
// a small envelope cannot make a tab allocate gigabytes.
export const MAX_PAYLOAD = 8 * 1024 * 1024;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SALT_ID_BYTES = 9;
const WRAPPED_BYTES = KEY_BYTES + TAG_BYTES;
const MIN_PADDED = 256;
const PAD_MARKER = 0x80;
const ATTACHMENT_MAGIC = "hearth";
const ATTACHMENT_HEADER = ATTACHMENT_MAGIC.length + 1 + NONCE_BYTES;

// Every version starts with this prefix, so a newer one can be named
// without understanding the rest of it.
const VERSION_PREFIX = /^\{"hearth":(0|[1-9][0-9]*)[,}]/;
// The only characters of a version 1 envelope: no whitespace, no escapes.
const ENVELOPE_CHARS = /^[A-Za-z0-9_\-":,{}[\]]*$/;
const AUDIENCE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const B64_ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Character code -> value for decoding; 255 marks a character not in the alphabet.
const B64_VALUES = new Uint8Array(128).fill(255);
for (let value = 0; value < 64; value++) {
  B64_VALUES[B64_ALPHABET.charCodeAt(value)] = value;
}
const ENVELOPE_MEMBERS = ["hearth", "recipients", "nonce", "ciphertext"];
const RECIPIENT_MEMBERS = [
  "audience",
  "kdf",
  "salt_id",
  "salt",
  "iterations",
  "nonce",
  "wrapped_key",
];

/** An envelope that cannot be opened. The message is safe to show. */
export class EnvelopeError extends Error {
  constructor(message) {
    super(message);
    this.name = "EnvelopeError";
  }
}

/** No entry for this audience opens with this key: a wrong passphrase. */
export class WrongKeyError extends EnvelopeError {
  constructor(message) {
    super(message);
    this.name = "WrongKeyError";
  }
}

/** Not a well-formed envelope, or its payload was changed or moved. */
export class DamagedError extends EnvelopeError {
  constructor(message) {
    super(message);
    this.name = "DamagedError";
  }
}

/** The envelope is a newer format version than this reader knows. */
export class NewerVersionError extends EnvelopeError {
  constructor(message) {
    super(message);
    this.name = "NewerVersionError";
  }
}

/**
 * @typedef {object} Recipient
 * @property {string} audience
 * @property {string} kdf          always "pbkdf2-sha256" in version 1
 * @property {string} saltId       b64url(SHA-256(salt)[0:9]), 12 characters
 * @property {Uint8Array} salt     16 bytes
 * @property {number} iterations   between ITERATION_FLOOR and ITERATION_CAP
 * @property {Uint8Array} nonce    12 bytes
 * @property {Uint8Array} wrappedKey  48 bytes
 */

/**
 * @typedef {object} Envelope
 * @property {number} version      1
 * @property {Recipient[]} recipients  in the envelope's order
 * @property {Uint8Array} nonce    12 bytes
 * @property {Uint8Array} ciphertext
 */

/**
 * Parse an envelope strictly, before any cryptography (docs/format.md,
 * decrypting steps 1-2). Synchronous: list `recipients` to learn which
 * audiences can open the page.
 * @param {string} text
 * @returns {Envelope}
 * @throws {DamagedError|NewerVersionError}
 */
export function parseEnvelope(text) {
  if (typeof text !== "string") {
    throw new TypeError("parseEnvelope: text must be a string.");
  }
  const match = VERSION_PREFIX.exec(text);
  if (!match) throw new DamagedError("This is not a Hearth envelope.");
  if (match[1] !== "1") {
    if (match[1] === "0") {
      throw new DamagedError("This envelope has version 0, which does not exist.");
    }
    throw new NewerVersionError(
      `This page was locked with a newer version of Hearth (format ${match[1]}); ` +
        `this page's script knows version ${VERSION}.`,
    );
  }
  if (!ENVELOPE_CHARS.test(text)) {
    throw new DamagedError("The envelope contains characters it may not contain.");
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    throw new DamagedError("The envelope is not valid JSON.");
  }
  if (JSON.stringify(data) !== text) {
    throw new DamagedError("The envelope is not in its one canonical spelling.");
  }
  // The prefix has already read "hearth" as the integer 1.
  checkMembers(data, ENVELOPE_MEMBERS, "The envelope");
  const entries = data.recipients;
  if (
    !Array.isArray(entries) ||
    entries.length < 1 ||
    entries.length > MAX_RECIPIENTS
  ) {
    throw new DamagedError(
      `The envelope must list 1 to ${MAX_RECIPIENTS} recipients.`,
    );
  }
  const recipients = entries.map(parseEntry);
  const ciphertext = unb64(data.ciphertext, null, "ciphertext");
  if (!isPaddedLength(ciphertext.length - TAG_BYTES)) {
    throw new DamagedError("The ciphertext's length is not a padded length.");
  }
  return Object.freeze({
    version: VERSION,
    recipients: Object.freeze(recipients),
    nonce: unb64(data.nonce, NONCE_BYTES, "nonce"),
    ciphertext,
  });
}

function parseEntry(entry) {
  checkMembers(entry, RECIPIENT_MEMBERS, "A recipient");
  const { audience, kdf, iterations } = entry;
  if (typeof audience !== "string" || !AUDIENCE.test(audience)) {
    throw new DamagedError("A recipient's audience is not a valid audience name.");
  }
  if (kdf !== KDF) throw new DamagedError(`A recipient's kdf is not "${KDF}".`);
  if (
    !Number.isInteger(iterations) ||
    iterations < ITERATION_FLOOR ||
    iterations > ITERATION_CAP
  ) {
    throw new DamagedError(
      `A recipient's iterations are not between ${ITERATION_FLOOR} and ${ITERATION_CAP}.`,
    );
  }
  return Object.freeze({
    audience,
    kdf,
    saltId: toBase64url(unb64(entry.salt_id, SALT_ID_BYTES, "salt_id")),
    salt: unb64(entry.salt, SALT_BYTES, "salt"),
    iterations,
    nonce: unb64(entry.nonce, NONCE_BYTES, "nonce"),
    wrappedKey: unb64(entry.wrapped_key, WRAPPED_BYTES, "wrapped_key"),
  });
}

/**
 * Derive an audience key from a passphrase: PBKDF2-HMAC-SHA256 over the
 * NFC-normalised passphrase. Slow on purpose (about half a second); derive
 * once and keep the key, never the passphrase.
 * @param {string} passphrase
 * @param {Uint8Array|ArrayBuffer} salt  16 bytes (a recipient's `salt`)
 * @param {number} iterations  a recipient's `iterations`
 * @param {boolean} [extractable=false]  true to allow exportAudienceKey
 * @returns {Promise<CryptoKey>} an AES-GCM key for unwrapContentKey
 * @throws {TypeError|RangeError} for a caller mistake
 */
export async function deriveKey(passphrase, salt, iterations, extractable = false) {
  if (typeof passphrase !== "string") {
    throw new TypeError("deriveKey: passphrase must be a string.");
  }
  if (passphrase.trim() === "") {
    throw new TypeError("deriveKey: the passphrase is empty.");
  }
  const saltBytes = asBytes(salt, SALT_BYTES, "deriveKey: salt");
  checkIterations(iterations);
  // docs/format.md, "Keys": a pasted trailing space or newline is no part of
  // the passphrase (ASCII space, tab, CR, LF only, as hearth/envelope.py trims).
  const trimmed = passphrase.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(trimmed.normalize("NFC")),
    "PBKDF2",
    false,
    ["deriveKey"],
  );
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt: saltBytes, iterations },
    material,
    { name: "AES-GCM", length: 256 },
    Boolean(extractable),
    ["unwrapKey"],
  );
}

/**
 * Import a remembered audience key (32 raw bytes, e.g. from session storage
 * or a link that unlocks) for unwrapContentKey.
 * @param {Uint8Array|ArrayBuffer} rawBytes
 * @param {boolean} [extractable=false]
 * @returns {Promise<CryptoKey>}
 */
export async function importAudienceKey(rawBytes, extractable = false) {
  const raw = asBytes(rawBytes, KEY_BYTES, "importAudienceKey: rawBytes");
  return crypto.subtle.importKey(
    "raw",
    raw,
    { name: "AES-GCM" },
    Boolean(extractable),
    ["unwrapKey"],
  );
}

/**
 * Export an extractable audience key as its 32 raw bytes (to remember it).
 * @param {CryptoKey} audienceKey  derived or imported with extractable = true
 * @returns {Promise<Uint8Array>}
 */
export async function exportAudienceKey(audienceKey) {
  checkCryptoKey(audienceKey, "exportAudienceKey: audienceKey");
  if (!audienceKey.extractable) {
    throw new TypeError(
      "exportAudienceKey: the key is not extractable; derive or import it with extractable = true.",
    );
  }
  return new Uint8Array(await crypto.subtle.exportKey("raw", audienceKey));
}

/**
 * Unwrap the content key with an audience key (decrypting steps 3-5): try
 * each entry of `audience` in order.
 * @param {Envelope|string} envelope  parsed, or text to parse
 * @param {CryptoKey} audienceKey
 * @param {string} audience
 * @returns {Promise<CryptoKey>} the content key, not extractable
 * @throws {WrongKeyError|DamagedError|NewerVersionError}
 */
export async function unwrapContentKey(envelope, audienceKey, audience) {
  const parsed = asEnvelope(envelope);
  checkCryptoKey(audienceKey, "unwrapContentKey: audienceKey");
  checkAudience(audience, "unwrapContentKey");
  // Step 3, which needs WebCrypto's asynchronous SHA-256: every salt id must
  // match its salt before any entry is used.
  for (const entry of parsed.recipients) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", entry.salt));
    if (toBase64url(digest.subarray(0, SALT_ID_BYTES)) !== entry.saltId) {
      throw new DamagedError("A recipient's salt_id does not match its salt.");
    }
  }
  const entries = parsed.recipients.filter((entry) => entry.audience === audience);
  if (entries.length === 0) {
    throw new WrongKeyError(`This envelope has no key for audience "${audience}".`);
  }
  for (const entry of entries) {
    try {
      return await crypto.subtle.unwrapKey(
        "raw",
        entry.wrappedKey,
        audienceKey,
        {
          name: "AES-GCM",
          iv: entry.nonce,
          additionalData: keyAd(entry.audience, entry.salt, entry.iterations),
        },
        { name: "AES-GCM" },
        false,
        ["decrypt"],
      );
    } catch (error) {
      if (error?.name !== "OperationError") {
        throw new TypeError(
          `unwrapContentKey: audienceKey cannot unwrap keys (${error?.name}); ` +
            "make it with deriveKey or importAudienceKey.",
        );
      }
    }
  }
  throw new WrongKeyError(
    `The key for audience "${audience}" does not open this envelope (wrong passphrase).`,
  );
}

/**
 * Decrypt, unpad and inflate the payload (decrypting steps 6-8).
 * @param {Envelope|string} envelope  parsed, or text to parse
 * @param {CryptoKey} contentKey  from unwrapContentKey
 * @param {string} url  the page's URL as the writer bound it
 * @returns {Promise<Uint8Array>} the payload bytes (JSON for a post)
 * @throws {DamagedError|NewerVersionError}
 */
export async function decryptPayload(envelope, contentKey, url) {
  const parsed = asEnvelope(envelope);
  checkCryptoKey(contentKey, "decryptPayload: contentKey");
  checkUrl(url, "decryptPayload");
  let padded;
  try {
    padded = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: parsed.nonce, additionalData: ad("payload", utf8(url)) },
      contentKey,
      parsed.ciphertext,
    );
  } catch (error) {
    if (error?.name !== "OperationError") throw error;
    throw new DamagedError(
      "The payload was changed, or this envelope belongs to another page.",
    );
  }
  return inflate(unpad(new Uint8Array(padded)));
}

/**
 * Open an envelope in one call: parse, unwrap, decrypt, inflate.
 * @param {string} text  the envelope text
 * @param {string} url  the page's URL as the writer bound it
 * @param {CryptoKey} audienceKey
 * @param {string} audience
 * @returns {Promise<Uint8Array>} the payload bytes
 * @throws {WrongKeyError|DamagedError|NewerVersionError}
 */
export async function openEnvelope(text, url, audienceKey, audience) {
  checkUrl(url, "openEnvelope");
  const parsed = parseEnvelope(text);
  const contentKey = await unwrapContentKey(parsed, audienceKey, audience);
  return decryptPayload(parsed, contentKey, url);
}

/**
 * Decrypt a private-only attachment blob (docs/format.md, "Attachments").
 * @param {Uint8Array|ArrayBuffer} blob  the fetched bytes
 * @param {string} url  its name in the payload's "attachments" map
 * @param {Uint8Array|string} key  32 raw bytes, or the map's base64url "key"
 * @returns {Promise<Uint8Array>} the attachment's bytes
 * @throws {DamagedError|NewerVersionError}
 */
export async function decryptAttachment(blob, url, key) {
  const bytes = asBytes(blob, null, "decryptAttachment: blob");
  checkUrl(url, "decryptAttachment");
  const raw = typeof key === "string" ? fromBase64url(key) : key;
  const keyBytes = asBytes(raw, KEY_BYTES, "decryptAttachment: key");
  const magic = new TextEncoder().encode(ATTACHMENT_MAGIC);
  if (
    bytes.length < magic.length + 1 ||
    magic.some((byte, index) => bytes[index] !== byte)
  ) {
    throw new DamagedError("This is not a Hearth attachment.");
  }
  const version = bytes[magic.length];
  if (version > VERSION) {
    throw new NewerVersionError(
      `This attachment is format version ${version}; this page's script knows version ${VERSION}.`,
    );
  }
  if (version !== VERSION) {
    throw new DamagedError("This attachment has version 0, which does not exist.");
  }
  if (!isPaddedLength(bytes.length - ATTACHMENT_HEADER - TAG_BYTES)) {
    throw new DamagedError("The attachment's length is not a padded length.");
  }
  const attachmentKey = await crypto.subtle.importKey(
    "raw",
    keyBytes,
    { name: "AES-GCM" },
    false,
    ["decrypt"],
  );
  let padded;
  try {
    padded = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: bytes.subarray(magic.length + 1, ATTACHMENT_HEADER),
        additionalData: ad("attachment", utf8(url)),
      },
      attachmentKey,
      bytes.subarray(ATTACHMENT_HEADER),
    );
  } catch (error) {
    if (error?.name !== "OperationError") throw error;
    throw new DamagedError(
      "The attachment was changed, or is not the one this post names.",
    );
  }
  return unpad(new Uint8Array(padded));
}

/**
 * Encode bytes as base64url without padding (the format's encoding).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function toBase64url(bytes) {
  const data = asBytes(bytes, null, "toBase64url: bytes");
  let text = "";
  let index = 0;
  for (; index + 2 < data.length; index += 3) {
    const n = (data[index] << 16) | (data[index + 1] << 8) | data[index + 2];
    text +=
      B64_ALPHABET[n >> 18] +
      B64_ALPHABET[(n >> 12) & 63] +
      B64_ALPHABET[(n >> 6) & 63] +
      B64_ALPHABET[n & 63];
  }
  const rest = data.length - index;
  if (rest === 1) {
    const n = data[index] << 16;
    text += B64_ALPHABET[n >> 18] + B64_ALPHABET[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (data[index] << 16) | (data[index + 1] << 8);
    text +=
      B64_ALPHABET[n >> 18] + B64_ALPHABET[(n >> 12) & 63] + B64_ALPHABET[(n >> 6) & 63];
  }
  return text;
}

/**
 * Decode canonical base64url without padding (e.g. a key in a link).
 * @param {string} text
 * @returns {Uint8Array}
 * @throws {TypeError} if the text is not canonical base64url
 */
export function fromBase64url(text) {
  const data = decodeB64(text);
  if (data === null) throw new TypeError("fromBase64url: not canonical base64url.");
  return data;
}

// -- private helpers ---------------------------------------------------------

function decodeB64(text) {
  if (typeof text !== "string" || text.length % 4 === 1) return null;
  const length = text.length;
  const data = new Uint8Array(Math.floor((length * 3) / 4));
  const whole = length - (length % 4);
  let out = 0;
  for (let index = 0; index < whole; index += 4) {
    const n =
      (sextet(text, index) << 18) |
      (sextet(text, index + 1) << 12) |
      (sextet(text, index + 2) << 6) |
      sextet(text, index + 3);
    if (n < 0) return null;
    data[out++] = n >> 16;
    data[out++] = (n >> 8) & 0xff;
    data[out++] = n & 0xff;
  }
  const rest = length - whole;
  if (rest === 0) return data;
  const first = sextet(text, whole);
  const second = sextet(text, whole + 1);
  const third = rest === 3 ? sextet(text, whole + 2) : 0;
  if ((first | second | third) < 0) return null;
  const n = (first << 18) | (second << 12) | (third << 6);
  data[out++] = n >> 16;
  if (rest === 3) data[out++] = (n >> 8) & 0xff;
  // Canonical: the unused bits of the last character are zero.
  return (rest === 2 ? n & 0xffff : n & 0xff) === 0 ? data : null;
}

// The value of the base64url character at text[index], or -1 if it is not one.
function sextet(text, index) {
  const code = text.charCodeAt(index);
  const value = code < 128 ? B64_VALUES[code] : 255;
  return value === 255 ? -1 : value;
}

function unb64(text, length, field) {
  const data = decodeB64(text);
  if (data === null) {
    throw new DamagedError(`The envelope's ${field} is not canonical base64url.`);
  }
  if (length !== null && data.length !== length) {
    throw new DamagedError(`The envelope's ${field} is not ${length} bytes long.`);
  }
  return data;
}

function checkMembers(data, members, what) {
  const ok =
    data !== null &&
    typeof data === "object" &&
    !Array.isArray(data) &&
    Object.keys(data).join(",") === members.join(",");
  if (!ok) throw new DamagedError(`${what} does not have exactly its members.`);
}

// AD(label, f1, ..., fn) = utf8("hearth/1/" + label) || 0x00 || u32(len) || f ...
// Length prefixes make the fields unambiguous.
function ad(label, ...fields) {
  const head = utf8(`hearth/${VERSION}/${label}`);
  const size = fields.reduce((sum, field) => sum + 4 + field.length, head.length + 1);
  const out = new Uint8Array(size);
  out.set(head, 0);
  let offset = head.length + 1;
  for (const field of fields) {
    new DataView(out.buffer).setUint32(offset, field.length);
    out.set(field, offset + 4);
    offset += 4 + field.length;
  }
  return out;
}

function keyAd(audience, salt, iterations) {
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, iterations);
  return ad("key", utf8(audience), salt, count);
}

// Padmé with a 256-byte floor (docs/format.md, "Padding"). Integer
// arithmetic only: no Math.log2 rounding, no 32-bit bit operators.
function paddedLength(n) {
  if (n <= MIN_PADDED) return MIN_PADDED;
  const e = floorLog2(n);
  const step = 2 ** (e - (floorLog2(e) + 1));
  return Math.ceil(n / step) * step;
}

function floorLog2(n) {
  let e = 0;
  while (2 ** (e + 1) <= n) e++;
  return e;
}

function isPaddedLength(m) {
  return m >= MIN_PADDED && paddedLength(m) === m;
}

function unpad(padded) {
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  if (end === 0 || padded[end - 1] !== PAD_MARKER) {
    throw new DamagedError("The padding is malformed.");
  }
  const data = padded.subarray(0, end - 1);
  if (paddedLength(data.length + 1) !== padded.length) {
    throw new DamagedError("The padding has the wrong length.");
  }
  return data;
}

async function inflate(compressed) {
  const reader = new Blob([compressed])
    .stream()
    .pipeThrough(new DecompressionStream("deflate-raw"))
    .getReader();
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_PAYLOAD) {
        reader.cancel().catch(() => {});
        throw new DamagedError(
          `The payload inflates to more than ${MAX_PAYLOAD} bytes, the format's limit.`,
        );
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof DamagedError) throw error;
    // Truncated, followed by data, or not DEFLATE at all.
    throw new DamagedError("The payload is not a valid DEFLATE stream.");
  }
  const payload = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    payload.set(chunk, offset);
    offset += chunk.length;
  }
  return payload;
}

function utf8(text) {
  return new TextEncoder().encode(text);
}

function asEnvelope(envelope) {
  if (typeof envelope === "string") return parseEnvelope(envelope);
  if (!envelope || !Array.isArray(envelope.recipients)) {
    throw new TypeError("envelope must be a parsed envelope or its text.");
  }
  return envelope;
}

function asBytes(value, length, name) {
  let bytes;
  if (value instanceof Uint8Array) bytes = value;
  else if (value instanceof ArrayBuffer) bytes = new Uint8Array(value);
  else throw new TypeError(`${name} must be a Uint8Array or ArrayBuffer.`);
  if (length !== null && bytes.length !== length) {
    throw new TypeError(`${name} must be ${length} bytes, not ${bytes.length}.`);
  }
  return bytes;
}

function checkIterations(iterations) {
  if (!Number.isInteger(iterations)) {
    throw new TypeError("deriveKey: iterations must be an integer.");
  }
  if (iterations < ITERATION_FLOOR || iterations > ITERATION_CAP) {
    throw new RangeError(
      `deriveKey: iterations must be between ${ITERATION_FLOOR} and ${ITERATION_CAP}, not ${iterations}.`,
    );
  }
}

function checkCryptoKey(key, name) {
  if (!(key instanceof CryptoKey)) throw new TypeError(`${name} must be a CryptoKey.`);
}

function checkAudience(audience, where) {
  if (typeof audience !== "string" || !AUDIENCE.test(audience)) {
    throw new TypeError(`${where}: audience must be an audience name.`);
  }
}

function checkUrl(url, where) {
  if (typeof url !== "string" || url === "") {
    throw new TypeError(`${where}: url must be the page's URL, a non-empty string.`);
  }
}
