// Allow-list HTML sanitizer for comment bodies. Ticket content is untrusted: the HTML is parsed
// into an inert document (DOMParser never runs scripts or loads images) and rebuilt node by node
// into a fresh fragment, keeping only a few formatting elements and safe links.

const ALLOWED = new Set(['P', 'BR', 'B', 'STRONG', 'I', 'EM', 'U', 'A', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'CODE', 'PRE']);
/** Elements whose content is dropped with them (not unwrapped into text). */
const DROP_WITH_CONTENT = new Set(['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'SVG', 'MATH', 'TEMPLATE',
  'NOSCRIPT', 'TEXTAREA', 'SELECT', 'HEAD', 'TITLE', 'FRAME', 'FRAMESET', 'NOEMBED', 'NOFRAMES', 'XMP']);
const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/**
 * Returns a safe fragment for the given untrusted HTML.
 * @param {string} html
 * @returns {DocumentFragment}
 */
export function sanitizeHtml(html) {
  const parsed = new DOMParser().parseFromString(String(html), 'text/html');
  const out = document.createDocumentFragment();
  copyChildren(parsed.body, out, 0);
  return out;
}

/**
 * @param {Node} from
 * @param {Node} to
 * @param {number} depth
 */
function copyChildren(from, to, depth) {
  if (depth > 40) return; // pathological nesting: stop rather than recurse forever
  for (const node of Array.from(from.childNodes)) {
    if (node.nodeType === Node.TEXT_NODE) {
      to.appendChild(document.createTextNode(node.nodeValue ?? ''));
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue; // comments, processing instructions
    const el = /** @type {Element} */ (node);
    const tag = el.tagName.toUpperCase();
    if (DROP_WITH_CONTENT.has(tag)) continue;
    if (!ALLOWED.has(tag)) {
      // Unknown wrappers (div, span, font, table…) keep their text but lose themselves.
      copyChildren(el, to, depth + 1);
      if (tag === 'DIV' || tag === 'TR' || tag === 'H1' || tag === 'H2' || tag === 'H3') {
        to.appendChild(document.createElement('br'));
      }
      continue;
    }
    const copy = document.createElement(tag.toLowerCase());
    if (tag === 'A') {
      const href = safeHref(el.getAttribute('href'));
      if (href) {
        copy.setAttribute('href', href);
        copy.setAttribute('rel', 'noopener noreferrer nofollow');
        copy.setAttribute('target', '_blank');
      }
    }
    copyChildren(el, copy, depth + 1);
    to.appendChild(copy);
  }
}

/**
 * The href if it is an absolute http, https or mailto URL; null otherwise.
 * @param {string|null} raw
 */
export function safeHref(raw) {
  if (!raw) return null;
  try {
    const url = new URL(raw.trim());
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}
