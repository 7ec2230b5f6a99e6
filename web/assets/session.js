// Who is signed in: the current user and account, filled from /auth/session or /auth/login.

/** @typedef {import('./directory.js').User} User */
/** @typedef {{subdomain?: string, name?: string}} Account */

/** @type {{user: User|null, account: Account|null}} */
export const session = { user: null, account: null };

/** @param {User|null} user @param {Account|null} account */
export function setSession(user, account) {
  session.user = user;
  session.account = account;
}

export function isAdmin() {
  return session.user?.role === 'admin';
}
