//! Typed ids.
//!
//! Every table has its own id type so that a ticket id can never be passed
//! where a user id is expected: in a multi-tenant host mixing ids up is how data
//! leaks across accounts. Ids are database-assigned 64-bit integers, as
//! Zendesk's are, and serialize as bare numbers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw number, for URLs and SQL.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<i64> for $name {
            fn from(raw: i64) -> Self {
                $name(raw)
            }
        }
    };
}

define_id!(
    /// A tenant: every other row belongs to exactly one account.
    AccountId
);
define_id!(
    /// A person: end-user, agent or admin.
    UserId
);
define_id!(
    /// An organization of end-users.
    OrganizationId
);
define_id!(
    /// A group of agents tickets can be assigned to.
    GroupId
);
define_id!(
    /// A ticket.
    TicketId
);
define_id!(
    /// A comment on a ticket (public reply or internal note).
    CommentId
);
define_id!(
    /// A system or custom ticket field.
    TicketFieldId
);
define_id!(
    /// An option of a dropdown ticket field.
    FieldOptionId
);
define_id!(
    /// One audit of a ticket: the set of changes one update made.
    AuditId
);
define_id!(
    /// An API token.
    ApiTokenId
);
define_id!(
    /// An app (a ZAF package uploaded to an account).
    AppId
);
define_id!(
    /// One installation of an app, with its settings.
    InstallationId
);
define_id!(
    /// An uploaded app package waiting to become an app or a new version of one.
    UploadId
);
define_id!(
    /// A job status (`POST /api/v2/apps.json` answers with one).
    JobId
);
define_id!(
    /// One row of the egress proxy's audit log (one proxied call).
    ProxyAuditId
);
