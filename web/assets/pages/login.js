// The sign-in page. After signing in the agent returns to where they were (the `next` parameter),
// which is how a draft typed before a session expired gets back in front of them.
import { request, ApiError } from '../api.js';
import { h } from '../dom.js';
import { startSession, safeNext } from '../app.js';

/** @param {import('../app.js').PageContext} ctx */
export function renderLogin(ctx) {
  ctx.setTitle('Sign in');
  const expired = ctx.query.get('expired') === '1';
  const error = h('p', { class: 'login-error', id: 'login-error', role: 'alert', hidden: true });
  const email = h('input', { id: 'login-email', name: 'email', type: 'email', autocomplete: 'username', required: true,
    'aria-describedby': 'login-error', autofocus: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, 'aria-describedby': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  const form = h('form', { class: 'login-form', 'aria-label': 'Sign in', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'login-email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    error, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (!email.value || !password.value) {
      error.textContent = 'Enter your email and password.';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const data = await request('POST', '/auth/login', { email: email.value.trim(), password: password.value },
        { authRedirect: false });
      startSession(data);
      ctx.navigate(safeNext(ctx.query.get('next')), { replace: true });
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? 'That email and password do not match an account.'
        : err instanceof Error ? err.message : String(err);
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
  ctx.main.append(h('div', { class: 'login-page' },
    h('main', { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('img', { src: '/assets/logo.svg', alt: '', width: 40, height: 40 }),
        h('div', null, h('h1', null, 'zaffre'), h('p', null, 'Agent workspace'))),
      expired ? h('div', { class: 'banner banner-warn', role: 'status', id: 'session-expired' },
        'Your session expired. Sign in again to continue; your unsaved draft is kept.') : null,
      form),
    h('p', { class: 'login-foot' }, 'Self-hosted helpdesk · Zendesk Apps Framework compatible')));
  setTimeout(() => email.focus(), 0);
}
