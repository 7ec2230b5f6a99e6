// Formatting of dates, names and labels shown across the workspace.

/** @type {Record<string, string>} */
export const STATUS_LABELS = { new: 'New', open: 'Open', pending: 'Pending', hold: 'On-hold', solved: 'Solved', closed: 'Closed' };
/** @type {Record<string, string>} */
export const PRIORITY_LABELS = { low: 'Low', normal: 'Normal', high: 'High', urgent: 'Urgent' };
/** @type {Record<string, string>} */
export const TYPE_LABELS = { question: 'Question', incident: 'Incident', problem: 'Problem', task: 'Task' };

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayMonth = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

/** Full date and time, for tooltips. @param {string|null|undefined} iso */
export function fullDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateTime.format(d);
}

/**
 * Short, human time: "just now", "5 minutes ago", "Today 14:02", "12 Mar".
 * @param {string|null|undefined} iso
 * @param {Date} [now]
 */
export function relativeTime(iso, now = new Date()) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const sec = Math.round((now.getTime() - d.getTime()) / 1000);
  if (sec < 45) return 'just now';
  if (sec < 3600) return `${Math.max(1, Math.round(sec / 60))} min ago`;
  if (sec < 6 * 3600) return `${Math.round(sec / 3600)} h ago`;
  const sameDay = d.toDateString() === now.toDateString();
  if (sameDay) return `Today ${timeOnly.format(d)}`;
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (d.toDateString() === yesterday.toDateString()) return `Yesterday ${timeOnly.format(d)}`;
  if (d.getFullYear() === now.getFullYear()) return dayMonth.format(d);
  return d.toLocaleDateString();
}

/** Two-letter initials for an avatar. @param {string|null|undefined} name */
export function initials(name) {
  const parts = String(name ?? '?').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}

/** A stable, calm avatar colour for a name. @param {string|null|undefined} seed */
export function avatarHue(seed) {
  let hash = 0;
  for (const ch of String(seed ?? '')) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return hash % 360;
}

/** @param {string|null|undefined} s */
export function statusLabel(s) {
  return (s && STATUS_LABELS[s]) || (s ?? '');
}
