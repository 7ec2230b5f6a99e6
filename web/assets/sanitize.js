// Allow-list HTML sanitizer for comment bodies. Ticket content is untrusted: the HTML is parsed
// into an inert document (DOMParser never runs scripts or loads images) and rebuilt node by node
// into a fresh fragment, keeping only a few formatting elements and safe links.

const ALLOWED = new Set(['P', 'BR', 'B', 'STRONG', 'I', 'EM', 'U', 'A', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'CODE', 'PRE']);
/** Elements whose content is dropped with them (not unwrapped into text). */
const DROP_WITH_CONTENT = new Set(['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'SVG', 'MATH', 'TEMPLATE',
  'NOSCRIPT', 'TEXTAREA', 'SELECT', 'HEAD', 'TITLE', 'FRAME', 'FRAMESET', 'NOEMBED', 'NOFRAMES', 'XMP']);
const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
/** Wrappers that are unwrapped but still end a line (divs from rich-text editors, table rows…). */
const LINE_BREAKING = new Set(['DIV', 'TR', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'SECTION', 'ARTICLE', 'HEADER', 'FOOTER']);
/** Kept elements that already end a line, so no extra break is needed after them. */
const BLOCKS = new Set(['P', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'PRE', 'BR']);

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
  copyEach(from, to, depth);
  // A break we added after the last wrapper would only add an empty line at the end.
  while (to.lastChild && synthesized.has(/** @type {Element} */ (to.lastChild))) to.removeChild(to.lastChild);
}

/** Line breaks the sanitizer added itself (not from the source). @type {WeakSet<Node>} */
const synthesized = new WeakSet();

/**
 * @param {Node} from
 * @param {Node} to
 * @param {number} depth
 */
function copyEach(from, to, depth) {
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
      const last = to.lastChild;
      if (LINE_BREAKING.has(tag) && last && !(last.nodeType === Node.ELEMENT_NODE && BLOCKS.has(/** @type {Element} */ (last).tagName))) {
        const br = document.createElement('br');
        synthesized.add(br);
        to.appendChild(br);
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
