// The places in the workspace where ZAF apps live, and small helpers to open the panes that hold
// them. The host runtime (host/bridge.js) finds each place by its data-app-location attribute;
// this module keeps those names in one list so the layout and the runtime agree, and builds the
// collapsible box a sidebar app sits in.
import { h, icon } from './dom.js';

/** Every app location the workspace reserves, as ZAF names them. */
export const APP_LOCATIONS = /** @type {const} */ ([
  'ticket_sidebar', 'new_ticket_sidebar', 'user_sidebar', 'organization_sidebar',
  'nav_bar', 'top_bar', 'modal', 'background',
]);

/** @typedef {typeof APP_LOCATIONS[number]} AppLocation */

/**
 * The element apps of a location render into, if the current page has it.
 * Sidebars exist only on their pages; nav_bar, top_bar, modal and background always exist.
 * @param {AppLocation} location
 * @returns {HTMLElement|null}
 */
export function appLocationElement(location) {
  return document.querySelector(`[data-app-location="${location}"]`);
}

/**
 * The box a sidebar app sits in: a title button that collapses and expands it (the agent's
 * control behind ZAF's `app.collapsed` / `app.expanded`) and a body the iframe goes into.
 * A box created collapsed has no iframe yet when the app is `autoLoad: false`: the host creates
 * it on the first expansion (`onToggle`).
 * @param {{title: string, installationId: number, collapsed: boolean, onToggle: (expanded: boolean) => void}} o
 * @returns {{box: HTMLElement, body: HTMLElement}}
 */
export function appBox(o) {
  const body = h('div', { class: 'app-box-body', id: `app-box-${o.installationId}-${++boxes}`, hidden: o.collapsed });
  const toggle = h('button', { type: 'button', class: 'app-box-toggle', 'aria-expanded': String(!o.collapsed),
    'aria-controls': body.id }, icon('chevron-down', 'icon app-box-chevron'), h('span', null, o.title));
  toggle.addEventListener('click', () => {
    const expanded = body.hidden;
    body.hidden = !expanded;
    toggle.setAttribute('aria-expanded', String(expanded));
    o.onToggle(expanded);
  });
  const box = h('section', { class: 'app-box', 'aria-label': o.title, 'data-installation-id': o.installationId },
    h('h3', { class: 'app-box-title' }, toggle), body);
  return { box, body };
}
let boxes = 0;

/**
 * Shows or hides the full pane a nav_bar app opens into (over the main area).
 * @param {boolean} open
 * @returns {HTMLElement} the pane
 */
export function setNavPane(open) {
  const pane = /** @type {HTMLElement} */ (document.getElementById('nav-app-pane'));
  pane.hidden = !open;
  return pane;
}

/**
 * Shows or hides the popover a top_bar app opens into.
 * @param {boolean} open
 * @returns {HTMLElement} the popover
 */
export function setTopBarPopover(open) {
  const pop = /** @type {HTMLElement} */ (document.getElementById('top-bar-popover'));
  pop.hidden = !open;
  return pop;
}

/**
 * Shows or hides the modal layer; Escape and a click on the backdrop close it.
 * @param {boolean} open
 * @returns {HTMLElement} the layer
 */
export function setModal(open) {
  const layer = /** @type {HTMLElement} */ (appLocationElement('modal'));
  layer.hidden = !open;
  return layer;
}

document.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape') return;
  const layer = appLocationElement('modal');
  if (layer && !layer.hidden) setModal(false);
  const pop = document.getElementById('top-bar-popover');
  if (pop && !pop.hidden) setTopBarPopover(false);
});
document.addEventListener('click', (ev) => {
  const layer = appLocationElement('modal');
  if (layer && !layer.hidden && ev.target === layer) setModal(false);
});
