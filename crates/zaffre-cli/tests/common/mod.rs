//! What the CLI's integration tests share: a fresh store set up as first
//! start leaves it.

use std::path::Path;

use zaffre_domain::search::{Page, TicketFilter, TicketSort};
use zaffre_domain::{Account, NewUser, Role, Ticket, User};
use zaffre_store::DynStore;

/// A new SQLite database under `dir` with an account (`subdomain`), its
/// system fields and an admin, as first start makes it.
pub async fn fresh_account(dir: &Path, subdomain: &str) -> (DynStore, Account, User) {
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let store = zaffre_store::connect(&url).await.unwrap();
    let account = store.create_account(subdomain, subdomain).await.unwrap();
    store.ensure_system_fields(account.id).await.unwrap();
    let admin = store
        .create_user(
            account.id,
            &NewUser {
                name: "Admin".into(),
                email: "admin@example.com".into(),
                role: Role::Admin,
                organization_id: None,
                time_zone: "UTC".into(),
                locale: "en-US".into(),
                password_hash: None,
            },
        )
        .await
        .unwrap();
    (store, account, admin)
}

/// Every ticket of the account (tests make fewer than a page), by id.
pub async fn all_tickets(store: &DynStore, account: &Account) -> Vec<Ticket> {
    store
        .list_tickets(
            account.id,
            &TicketFilter::default(),
            TicketSort::Id,
            false,
            Page::Offset {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .unwrap()
        .items
}
