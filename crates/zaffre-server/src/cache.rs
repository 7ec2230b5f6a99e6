//! Short-lived in-process caches in front of the store, for what nearly every
//! API request reads and almost nothing writes: the account's ticket fields
//! (every ticket shape and every ticket write needs them) and the user an API
//! token belongs to (every token-authenticated request).
//!
//! # How stale an answer can be
//! zaffre runs as one or many stateless nodes over one database, so a cache
//! here cannot know about writes made elsewhere (another node, or the CLI
//! writing to the same database). Every entry is therefore served for at most
//! its TTL after the store was read ([`FIELDS_TTL`], [`TOKENS_TTL`]); then the
//! next request reads the store again.
//!
//! Writes made through this node's API invalidate at once: a ticket field
//! created, changed or deleted (also by an app's requirements) drops the
//! account's fields, and a user update (role, organization, name…) drops every
//! token entry of that user (an organization's deletion, every entry of the
//! account), so the very next request on this node sees the change.
//! A read that raced with such an invalidation is not stored (each cache
//! carries a generation number that invalidation bumps), so an answer read
//! before a write can never be cached after it.
//!
//! Failures are never cached: an unknown or revoked token costs a store
//! lookup every time, as before, and cannot fill the cache.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use zaffre_domain::{AccountId, TicketField, User, UserId};
use zaffre_store::{DynStore, StoreResult};

/// How long an account's ticket fields are reused without asking the store.
/// Bounds how long a field changed on *another* node (or by the CLI) takes to
/// show here; changes through this node's API show at once.
pub const FIELDS_TTL: Duration = Duration::from_secs(2);

/// How long a token's user is reused without asking the store. Bounds how long
/// a deactivation or role change made on *another* node (or by the CLI) takes
/// to apply here; changes through this node's API apply at once.
pub const TOKENS_TTL: Duration = Duration::from_secs(5);

/// Most accounts whose fields are kept.
const MAX_ACCOUNTS: usize = 1_000;
/// Most tokens whose users are kept.
const MAX_TOKENS: usize = 10_000;

/// A map whose entries expire, with a generation number so that a value read
/// from the store before an invalidation is not stored after it. Also used by
/// the proxy's installation contexts ([`crate::api::proxy`]).
pub(crate) struct TtlMap<K, V> {
    ttl: Duration,
    max_entries: usize,
    inner: RwLock<Inner<K, V>>,
}

struct Inner<K, V> {
    generation: u64,
    /// Each value with the instant the store was asked for it.
    entries: HashMap<K, (V, Instant)>,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    pub(crate) fn new(ttl: Duration, max_entries: usize) -> Self {
        TtlMap {
            ttl,
            max_entries,
            inner: RwLock::new(Inner {
                generation: 0,
                entries: HashMap::new(),
            }),
        }
    }

    /// The fresh value for `key`, if any.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner
            .entries
            .get(key)
            .filter(|(_, asked)| asked.elapsed() < self.ttl)
            .map(|(value, _)| value.clone())
    }

    /// Call before asking the store; pass the result to [`TtlMap::insert`].
    pub(crate) fn generation(&self) -> u64 {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .generation
    }

    /// Stores a value the store gave when asked at `asked`, unless something
    /// was invalidated since `generation` was taken.
    pub(crate) fn insert(&self, key: K, value: V, generation: u64, asked: Instant) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= self.max_entries {
            let ttl = self.ttl;
            inner.entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if inner.entries.len() >= self.max_entries {
                inner.entries.clear();
            }
        }
        inner.entries.insert(key, (value, asked));
    }

    /// Drops every entry `doomed` picks and makes reads in flight unstorable.
    pub(crate) fn invalidate(&self, mut doomed: impl FnMut(&K, &V) -> bool) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.retain(|k, (v, _)| !doomed(k, v));
    }
}

/// Each account's ticket fields (with their options), as
/// [`zaffre_store::Store::list_ticket_fields`] gives them. Cheap to clone.
#[derive(Clone)]
pub struct FieldCache {
    map: Arc<TtlMap<AccountId, Arc<Vec<TicketField>>>>,
}

impl Default for FieldCache {
    fn default() -> Self {
        FieldCache {
            map: Arc::new(TtlMap::new(FIELDS_TTL, MAX_ACCOUNTS)),
        }
    }
}

impl FieldCache {
    /// The account's fields, from the cache when they were read less than
    /// [`FIELDS_TTL`] ago.
    pub async fn get(
        &self,
        store: &DynStore,
        account: AccountId,
    ) -> StoreResult<Arc<Vec<TicketField>>> {
        if let Some(fields) = self.map.get(&account) {
            return Ok(fields);
        }
        self.fresh(store, account).await
    }

    /// The account's fields read from the store now (and cached).
    pub async fn fresh(
        &self,
        store: &DynStore,
        account: AccountId,
    ) -> StoreResult<Arc<Vec<TicketField>>> {
        let generation = self.map.generation();
        let asked = Instant::now();
        let fields = Arc::new(store.list_ticket_fields(account).await?);
        self.map
            .insert(account, Arc::clone(&fields), generation, asked);
        Ok(fields)
    }

    /// Forgets the account's fields: call after any write to them.
    pub fn invalidate(&self, account: AccountId) {
        self.map.invalidate(|a, _| *a == account);
    }
}

/// The user behind each recently used API token, keyed by the account and the
/// token's SHA-256 digest (the token itself is never kept). Cheap to clone.
#[derive(Clone)]
pub struct TokenCache {
    map: Arc<TtlMap<(AccountId, String), User>>,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            map: Arc::new(TtlMap::new(TOKENS_TTL, MAX_TOKENS)),
        }
    }
}

impl TokenCache {
    /// The active user whose token has this digest in `account`, from the
    /// cache when it was looked up less than [`TOKENS_TTL`] ago. Misses
    /// (`NotFound`) are not cached.
    pub async fn user(
        &self,
        store: &DynStore,
        account: AccountId,
        token_sha256: String,
    ) -> StoreResult<User> {
        let key = (account, token_sha256);
        if let Some(user) = self.map.get(&key) {
            return Ok(user);
        }
        let generation = self.map.generation();
        let asked = Instant::now();
        let user = store.user_for_api_token(account, &key.1).await?;
        self.map.insert(key, user.clone(), generation, asked);
        Ok(user)
    }

    /// Forgets every token of the user: call after changing the user (a
    /// deactivation or a role change must apply to their next request).
    pub fn invalidate_user(&self, account: AccountId, user: UserId) {
        self.map
            .invalidate(|(a, _), cached| *a == account && cached.id == user);
    }

    /// Forgets every token of the account: call after a write that changes
    /// many users at once (deleting an organization clears its members').
    pub fn invalidate_account(&self, account: AccountId) {
        self.map.invalidate(|(a, _), _| *a == account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_their_ttl() {
        let map = TtlMap::new(Duration::from_secs(60), 10);
        let g = map.generation();
        map.insert(1, "fresh", g, Instant::now());
        assert_eq!(map.get(&1), Some("fresh"));
        // Asked long ago: stored, but already too old to serve.
        let long_ago = Instant::now()
            .checked_sub(Duration::from_secs(61))
            .expect("the monotonic clock is past a minute");
        map.insert(2, "old", g, long_ago);
        assert_eq!(map.get(&2), None);
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_stored() {
        let map = TtlMap::new(Duration::from_secs(60), 10);
        let before = map.generation();
        // A write invalidates while the read is still waiting on the store.
        map.invalidate(|k: &i32, _: &&str| *k == 1);
        map.insert(1, "read before the write", before, Instant::now());
        assert_eq!(map.get(&1), None);
        let after = map.generation();
        map.insert(1, "read after the write", after, Instant::now());
        assert_eq!(map.get(&1), Some("read after the write"));
    }

    #[test]
    fn invalidation_drops_only_what_it_picks() {
        let map = TtlMap::new(Duration::from_secs(60), 10);
        let g = map.generation();
        map.insert(1, "a", g, Instant::now());
        map.insert(2, "b", g, Instant::now());
        map.invalidate(|k, _| *k == 1);
        assert_eq!(map.get(&1), None);
        assert_eq!(map.get(&2), Some("b"));
    }

    #[test]
    fn the_map_stays_within_its_size() {
        let map = TtlMap::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            let g = map.generation();
            map.insert(i, i, g, Instant::now());
        }
        let inner = map.inner.read().unwrap();
        assert!(inner.entries.len() <= 3, "{}", inner.entries.len());
        assert_eq!(inner.entries.get(&9).map(|(v, _)| *v), Some(9));
    }
}
