// Coming back after a dropped connection (issue #30): the resume token the server sent
// with the session, kept per tab, and the back-off between attempts to come back.
//
// The server holds a dropped interview for `reconnect_grace_seconds` from the drop and
// takes the candidate back with `?resume=<token>` (one use; each return brings a new
// token). sessionStorage (this tab only) keeps the latest token, keyed by the page's
// WebSocket URL, so a reloaded tab can come back too; it is cleared when the interview ends.

const KEY_PREFIX = "interview-resume:";
export const RETRY_DELAYS_MS = Object.freeze([500, 1000, 2000, 4000, 8000]); // then every 8 s

/** The latest resume token of this tab's interview at `url`: {token, graceSeconds, receivedAt, droppedAt}. */
export class ResumeStore {
  constructor(url, storage = window.sessionStorage) {
    this._key = KEY_PREFIX + url;
    this._storage = storage;
  }

  save(token, graceSeconds) {
    if (!token || !(graceSeconds > 0)) return this.clear(); // the server cannot take us back
    this._write({ token, graceSeconds, receivedAt: Date.now(), droppedAt: null });
  }

  /** The connection is gone (or the tab is going): the grace window starts now, once. */
  markDropped(at = Date.now()) {
    const saved = this._read();
    if (saved && saved.droppedAt === null) this._write({ ...saved, droppedAt: at });
    return this._read();
  }

  /** The saved token, or null when there is none or its window has passed. */
  load(now = Date.now()) {
    const saved = this._read();
    if (saved && saved.droppedAt !== null && now >= windowEnd(saved)) {
      this.clear();
      return null;
    }
    return saved;
  }

  clear() {
    this._storage.removeItem(this._key);
  }

  _read() {
    try {
      const saved = JSON.parse(this._storage.getItem(this._key) ?? "null");
      return typeof saved?.token === "string" ? saved : null;
    } catch {
      return null;
    }
  }

  _write(value) {
    this._storage.setItem(this._key, JSON.stringify(value));
  }
}

/** When the server stops holding the interview (ms since the epoch). */
export function windowEnd(saved) {
  return (saved.droppedAt ?? Date.now()) + saved.graceSeconds * 1000;
}

/** Delays between attempts (0.5, 1, 2, 4, 8, 8, … s), none that would start after `deadline`. */
export class Backoff {
  constructor(deadline) {
    this.deadline = deadline;
    this.tries = 0;
  }

  /** Milliseconds to wait before the next attempt, or null when the window has passed. */
  next(now = Date.now()) {
    const delay = RETRY_DELAYS_MS[Math.min(this.tries, RETRY_DELAYS_MS.length - 1)];
    if (now + delay >= this.deadline) return null;
    this.tries += 1;
    return delay;
  }
}

/** The socket URL with `resume=<token>` added (the launcher's `token=` is added by the SDK after it). */
export function resumeUrl(url, token) {
  const separator = url.includes("?") ? "&" : "?";
  return `${url}${separator}resume=${encodeURIComponent(token)}`;
}
