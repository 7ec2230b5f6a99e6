// Unsaved work kept in sessionStorage, keyed by ticket, so that a lost session (or an accidental
// reload) never costs the agent a typed reply or their field edits.

const PREFIX = 'zaffre.draft.';

/** @param {number|string} key ticket id, or "new" */
function storageKey(key) {
  return `${PREFIX}${key}`;
}

/**
 * @param {number|string} key
 * @param {{fields: Record<string, unknown>, comment: {text: unknown, type: unknown}}} draft
 */
export function saveDraft(key, draft) {
  const empty = Object.keys(draft.fields).length === 0 && !String(draft.comment.text ?? '').trim();
  try {
    if (empty) sessionStorage.removeItem(storageKey(key));
    else sessionStorage.setItem(storageKey(key), JSON.stringify({ ...draft, saved_at: new Date().toISOString() }));
  } catch {
    // Storage full or disabled: drafts are a convenience, the page still works.
  }
}

/**
 * @param {number|string} key
 * @returns {{fields?: Record<string, unknown>, comment?: {text?: unknown, type?: unknown}} | null}
 */
export function loadDraft(key) {
  try {
    const raw = sessionStorage.getItem(storageKey(key));
    if (!raw) return null;
    const parsed = JSON.parse(raw);
    return parsed && typeof parsed === 'object' ? parsed : null;
  } catch {
    return null;
  }
}

/** @param {number|string} key */
export function clearDraft(key) {
  try { sessionStorage.removeItem(storageKey(key)); } catch { /* see saveDraft */ }
}

/** Drops every draft: an explicit logout should not leave ticket text behind on a shared machine. */
export function clearAllDrafts() {
  try {
    for (let i = sessionStorage.length - 1; i >= 0; i--) {
      const k = sessionStorage.key(i);
      if (k && k.startsWith(PREFIX)) sessionStorage.removeItem(k);
    }
  } catch { /* see saveDraft */ }
}
