//! The records zaffre stores, as plain data.
//!
//! These are the domain's view of the data, not the wire format: the server
//! maps them to Zendesk's JSON shapes, the store maps them to rows. Enums carry
//! their Zendesk spelling so both mappings are one `as_str` away.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::*;

/// A point in time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// Defines a string-backed enum with its wire spelling, `as_str`, `parse`,
/// `ALL`, `Display` and serde, so the spelling lives in one place.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in their natural order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Zendesk spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the Zendesk spelling (exact, lowercase).
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// What a person may do.
    Role {
        /// Sees only their own tickets.
        EndUser => "end-user",
        /// Works every ticket of the account.
        Agent => "agent",
        /// An agent who also manages users, fields, apps and settings.
        Admin => "admin",
    }
);

impl Role {
    /// Agents and admins work tickets; end-users only ask.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
}

string_enum!(
    /// A ticket's status. The order is Zendesk's, which `status<solved` relies on.
    TicketStatus {
        New => "new",
        Open => "open",
        Pending => "pending",
        Hold => "hold",
        Solved => "solved",
        Closed => "closed",
    }
);

string_enum!(
    /// A ticket's priority, lowest first.
    TicketPriority {
        Low => "low",
        Normal => "normal",
        High => "high",
        Urgent => "urgent",
    }
);

string_enum!(
    /// A ticket's type.
    TicketType {
        Problem => "problem",
        Incident => "incident",
        Question => "question",
        Task => "task",
    }
);

string_enum!(
    /// The kind of a ticket field. The first seven are the system fields every
    /// account has; the rest are custom fields an admin creates.
    FieldType {
        Subject => "subject",
        Description => "description",
        Status => "status",
        Priority => "priority",
        TicketType => "tickettype",
        Group => "group",
        Assignee => "assignee",
        Text => "text",
        Textarea => "textarea",
        Checkbox => "checkbox",
        Date => "date",
        Integer => "integer",
        Decimal => "decimal",
        /// A dropdown: Zendesk calls it `tagger` because picking an option adds its tag.
        Tagger => "tagger",
    }
);

impl FieldType {
    /// System fields exist in every account and cannot be removed.
    pub fn is_system(self) -> bool {
        matches!(
            self,
            FieldType::Subject
                | FieldType::Description
                | FieldType::Status
                | FieldType::Priority
                | FieldType::TicketType
                | FieldType::Group
                | FieldType::Assignee
        )
    }
}

/// A tenant of this zaffre installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    /// Unique, lowercase; apps see it as `currentAccount.subdomain`.
    pub subdomain: String,
    pub name: String,
    pub created_at: Timestamp,
}

/// A person known to an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub account_id: AccountId,
    pub name: String,
    /// Unique within the account, stored lowercase.
    pub email: String,
    pub role: Role,
    pub organization_id: Option<OrganizationId>,
    /// An IANA zone name such as `Europe/Paris`.
    pub time_zone: String,
    /// A BCP 47 tag such as `en-US`.
    pub locale: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What it takes to create a user.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub organization_id: Option<OrganizationId>,
    pub time_zone: String,
    pub locale: String,
    /// An argon2id PHC string, never a password.
    pub password_hash: Option<String>,
}

/// A partial change to a user; `None` leaves a property as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<Role>,
    /// `Some(None)` removes the user from their organization.
    pub organization_id: Option<Option<OrganizationId>>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub active: Option<bool>,
}

/// An organization of end-users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub account_id: AccountId,
    pub name: String,
    pub details: String,
    pub notes: String,
    pub domain_names: Vec<String>,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What it takes to create an organization.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewOrganization {
    pub name: String,
    pub details: String,
    pub notes: String,
    pub domain_names: Vec<String>,
    pub tags: Vec<String>,
}

/// A partial change to an organization.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationPatch {
    pub name: Option<String>,
    pub details: Option<String>,
    pub notes: Option<String>,
    pub domain_names: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
}

/// A group of agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub account_id: AccountId,
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What it takes to create a group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewGroup {
    pub name: String,
    pub description: String,
}

/// One option of a dropdown field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldOption {
    pub id: FieldOptionId,
    /// What agents see.
    pub name: String,
    /// What is stored and searched: a tag-like string.
    pub value: String,
}

/// A system or custom ticket field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketField {
    pub id: TicketFieldId,
    pub account_id: AccountId,
    pub field_type: FieldType,
    pub title: String,
    pub description: String,
    pub active: bool,
    /// Agents must fill it in before solving a ticket.
    pub required: bool,
    pub position: i64,
    pub options: Vec<FieldOption>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What it takes to create a ticket field. Option ids are assigned by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicketField {
    pub field_type: FieldType,
    pub title: String,
    pub description: String,
    pub active: bool,
    pub required: bool,
    pub position: i64,
    /// `(name, value)` pairs for dropdowns.
    pub options: Vec<(String, String)>,
}

/// A partial change to a ticket field. Its type cannot change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketFieldPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub required: Option<bool>,
    pub position: Option<i64>,
    /// Replaces every option; existing option ids are kept for unchanged values.
    pub options: Option<Vec<(String, String)>>,
}

/// A custom field's value on a ticket. `Null` means not set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldValue {
    pub id: TicketFieldId,
    pub value: serde_json::Value,
}

/// A support request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub account_id: AccountId,
    pub subject: String,
    /// The first comment's plain text, as Zendesk keeps it.
    pub description: String,
    pub status: TicketStatus,
    pub priority: Option<TicketPriority>,
    pub ticket_type: Option<TicketType>,
    pub requester_id: UserId,
    pub submitter_id: UserId,
    pub assignee_id: Option<UserId>,
    pub group_id: Option<GroupId>,
    pub organization_id: Option<OrganizationId>,
    pub tags: Vec<String>,
    /// Only fields that have a value, ordered by field id.
    pub custom_fields: Vec<CustomFieldValue>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped by every update; the store refuses an update computed from a stale revision.
    pub revision: i64,
}

/// A comment on a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub id: CommentId,
    pub account_id: AccountId,
    pub ticket_id: TicketId,
    pub author_id: UserId,
    /// A public reply (true) or an internal note (false).
    pub public: bool,
    /// Plain text.
    pub body: String,
    /// HTML as submitted, sanitized by whoever renders it.
    pub html_body: String,
    pub created_at: Timestamp,
}

/// A comment to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewComment {
    pub author_id: UserId,
    pub public: bool,
    pub body: String,
    pub html_body: String,
}

/// One recorded change within an audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AuditEvent {
    /// A property set when the ticket was created.
    Create {
        field_name: String,
        value: serde_json::Value,
    },
    /// A property changed by an update.
    Change {
        field_name: String,
        value: serde_json::Value,
        previous_value: serde_json::Value,
    },
    /// A comment added by the update.
    Comment { comment_id: CommentId, public: bool },
}

/// Everything one create or update did to a ticket: who, when, what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    pub id: AuditId,
    pub account_id: AccountId,
    pub ticket_id: TicketId,
    pub author_id: UserId,
    pub created_at: Timestamp,
    pub events: Vec<AuditEvent>,
}

/// A stored API token. The token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub account_id: AccountId,
    pub user_id: UserId,
    pub description: String,
    pub created_at: Timestamp,
}

/// A browser session. The cookie value is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub account_id: AccountId,
    pub user_id: UserId,
    /// Sent back by the page in `X-CSRF-Token` with every write.
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}
