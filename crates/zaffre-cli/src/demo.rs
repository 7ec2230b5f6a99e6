//! The demo helpdesk that `zaffre serve --demo` seeds on first start.
//!
//! Someone trying zaffre (or an app developer testing a Zendesk app against
//! it) should land in a helpdesk that looks lived in: a few customer
//! organizations, agents working in groups, end-users, custom ticket fields of
//! every type, and about thirty tickets in every status with conversations of
//! public replies and internal notes.
//!
//! Every ticket is written the way the API writes one: a JSON `ticket` object
//! is parsed by [`TicketPatch::parse`] against the account's fields, turned
//! into a ticket by [`build_new`] or [`apply_update`], and stored with its
//! audit events. So the demo data obeys exactly the rules real writes do (a
//! closed ticket is solved first and closed last, since closed tickets cannot
//! change), and a demo that seeds is itself a small end-to-end check of those
//! rules.
//!
//! The content is fixed, so every seeded helpdesk is the same. People, groups,
//! organizations and custom fields that already exist (by email, name or
//! title) are reused rather than duplicated; tickets are always created, so the
//! caller decides when seeding is wanted (zaffre does it only while the
//! account has no tickets).

use anyhow::{bail, Context as _};
use serde_json::{json, Map, Value};
use zaffre_domain::search::Page;
use zaffre_domain::ticket::{apply_update, build_new, TicketPatch};
use zaffre_domain::{
    AccountId, FieldType, GroupId, NewComment, NewGroup, NewOrganization, NewTicketField, NewUser,
    OrganizationId, Role, Ticket, TicketField, TicketFieldId, User, UserId,
};
use zaffre_store::{Store, StoreError, TicketWrite};

/// What [`seed`] created, for the message printed at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSummary {
    /// Customer organizations.
    pub organizations: usize,
    /// Agents (the admin is not counted).
    pub agents: usize,
    /// End-users, most of them members of an organization.
    pub end_users: usize,
    /// Tickets, each with its conversation.
    pub tickets: usize,
}

/// Seeds the demo helpdesk into `account`. `admin` is the already-created
/// admin user; a couple of demo tickets are assigned to them so the person
/// exploring the demo finds work of their own.
///
/// The account's system ticket fields must exist
/// ([`Store::ensure_system_fields`]). Fails on the first error, naming what
/// was being created.
pub async fn seed(
    store: &dyn Store,
    account: AccountId,
    admin: UserId,
) -> anyhow::Result<DemoSummary> {
    let organizations = seed_organizations(store, account).await?;
    let groups = seed_groups(store, account).await?;
    let agents = seed_users(store, account, AGENTS, Role::Agent, &organizations).await?;
    let end_users = seed_users(store, account, END_USERS, Role::EndUser, &organizations).await?;
    let (fields, field_ids) = seed_ticket_fields(store, account).await?;

    let cast = Cast {
        admin,
        agents: agents.iter().map(|u| u.id).collect(),
        end_users,
        groups,
        field_ids,
    };
    let specs = tickets();
    for spec in &specs {
        seed_ticket(store, account, &cast, &fields, spec)
            .await
            .with_context(|| format!("could not seed the demo ticket {:?}", spec.subject))?;
    }

    Ok(DemoSummary {
        organizations: organizations.len(),
        agents: agents.len(),
        end_users: cast.end_users.len(),
        tickets: specs.len(),
    })
}

// ---------------------------------------------------------------------------
// Organizations, groups and people
// ---------------------------------------------------------------------------

/// A customer organization: name, details, notes, domain names, tags.
struct OrgSpec {
    name: &'static str,
    details: &'static str,
    notes: &'static str,
    domains: &'static [&'static str],
    tags: &'static [&'static str],
}

// Indexes into ORGANIZATIONS, for END_USERS.
const NORTHWIND: usize = 0;
const BLUEBIRD: usize = 1;
const HARBOR: usize = 2;
const KESTREL: usize = 3;

// Reserved `.example` domains: the demo never names a real company or mailbox.
const ORGANIZATIONS: &[OrgSpec] = &[
    OrgSpec {
        name: "Northwind Traders",
        details: "Wholesale food distributor, 250 seats on the Business plan.",
        notes: "Renews every March. Priya Natarajan is the account owner and our champion.",
        domains: &["northwind.example"],
        tags: &["enterprise", "emea"],
    },
    OrgSpec {
        name: "Bluebird Bakery",
        details: "Family bakery with three shops, Starter plan, 5 seats.",
        notes: "Prefers email over phone. Uses the label printer integration.",
        domains: &["bluebird-bakery.example"],
        tags: &["smb", "retail"],
    },
    OrgSpec {
        name: "Harbor Health Clinic",
        details: "Non-profit clinic network, 120 seats, SSO via their own identity provider.",
        notes: "VIP: answer within 2 hours. A BAA is required for anything touching patient data.",
        domains: &["harborhealth.example", "harborhealth-foundation.example"],
        tags: &["enterprise", "healthcare", "vip"],
    },
    OrgSpec {
        name: "Kestrel Logistics",
        details: "Freight forwarder in Tokyo and Sydney, 40 seats, heavy API user.",
        notes: "Nightly sync through the API; watch their rate limits.",
        domains: &["kestrel-logistics.example"],
        tags: &["midmarket", "apac", "api"],
    },
];

async fn seed_organizations(
    store: &dyn Store,
    account: AccountId,
) -> anyhow::Result<Vec<OrganizationId>> {
    let mut ids = Vec::with_capacity(ORGANIZATIONS.len());
    for spec in ORGANIZATIONS {
        let new = NewOrganization {
            name: spec.name.to_owned(),
            details: spec.details.to_owned(),
            notes: spec.notes.to_owned(),
            domain_names: strings(spec.domains),
            tags: strings(spec.tags),
        };
        let id = match store.create_organization(account, &new).await {
            Ok(org) => org.id,
            Err(StoreError::Conflict(_)) => find_organization(store, account, spec.name).await?,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("could not create the demo organization {}", spec.name)
                })
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

/// The existing organization named `name`, for a demo seeded into an account
/// that already has it.
async fn find_organization(
    store: &dyn Store,
    account: AccountId,
    name: &str,
) -> anyhow::Result<OrganizationId> {
    let listing = store
        .list_organizations(
            account,
            &[name.to_lowercase()],
            Page::Offset {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .with_context(|| format!("could not look up the organization {name}"))?;
    match listing
        .items
        .iter()
        .find(|o| o.name.eq_ignore_ascii_case(name))
    {
        Some(org) => Ok(org.id),
        None => bail!("the organization {name} exists but could not be found by name"),
    }
}

/// The groups tickets are routed to.
#[derive(Debug, Clone, Copy)]
enum Grp {
    Support,
    Billing,
    Engineering,
}

/// Name and description of each [`Grp`], in its order.
const GROUPS: &[(&str, &str)] = &[
    (
        "Support",
        "First line: how-to questions, logins, anything not yet triaged.",
    ),
    (
        "Billing",
        "Invoices, plans, renewals, refunds and discounts.",
    ),
    (
        "Engineering",
        "Bugs and outages escalated by Support; replies come from the developers.",
    ),
];

async fn seed_groups(store: &dyn Store, account: AccountId) -> anyhow::Result<Vec<GroupId>> {
    let existing = store
        .list_groups(account)
        .await
        .context("could not list the groups")?;
    let mut ids = Vec::with_capacity(GROUPS.len());
    for (name, description) in GROUPS {
        if let Some(group) = existing.iter().find(|g| g.name.eq_ignore_ascii_case(name)) {
            ids.push(group.id);
            continue;
        }
        let new = NewGroup {
            name: (*name).to_owned(),
            description: (*description).to_owned(),
        };
        let group = store
            .create_group(account, &new)
            .await
            .with_context(|| format!("could not create the demo group {name}"))?;
        ids.push(group.id);
    }
    Ok(ids)
}

/// A person: name, email, organization (index into [`ORGANIZATIONS`]), time zone, locale.
struct PersonSpec {
    name: &'static str,
    email: &'static str,
    org: Option<usize>,
    time_zone: &'static str,
    locale: &'static str,
}

const fn person(
    name: &'static str,
    email: &'static str,
    org: Option<usize>,
    time_zone: &'static str,
    locale: &'static str,
) -> PersonSpec {
    PersonSpec {
        name,
        email,
        org,
        time_zone,
        locale,
    }
}

/// The agents, in [`Staff`] order. They have no password: they exist to be
/// assignees and authors, not to sign in.
const AGENTS: &[PersonSpec] = &[
    person(
        "Maya Okafor",
        "maya.okafor@helpdesk.example",
        None,
        "Europe/London",
        "en-GB",
    ),
    person(
        "Tomás Rivera",
        "tomas.rivera@helpdesk.example",
        None,
        "America/Mexico_City",
        "es-MX",
    ),
    person(
        "Lena Fischer",
        "lena.fischer@helpdesk.example",
        None,
        "Europe/Berlin",
        "de-DE",
    ),
    person(
        "Arjun Mehta",
        "arjun.mehta@helpdesk.example",
        None,
        "Asia/Kolkata",
        "en-IN",
    ),
];

/// Who on the staff writes or is assigned. `Admin` is the account's admin.
#[derive(Debug, Clone, Copy)]
enum Staff {
    Maya,
    Tomas,
    Lena,
    Arjun,
    Admin,
}

// Indexes into END_USERS, for the tickets' requesters.
const PRIYA: usize = 0;
const DANIEL: usize = 1;
const SOFIA: usize = 2;
const HANNAH: usize = 3;
const MARCUS: usize = 4;
const AMARA: usize = 5;
const KEVIN: usize = 6;
const RACHEL: usize = 7;
const KENJI: usize = 8;
const CHLOE: usize = 9;
const OLU: usize = 10;
const EMMA: usize = 11;

const END_USERS: &[PersonSpec] = &[
    person(
        "Priya Natarajan",
        "priya@northwind.example",
        Some(NORTHWIND),
        "Europe/London",
        "en-GB",
    ),
    person(
        "Daniel Brooks",
        "daniel.brooks@northwind.example",
        Some(NORTHWIND),
        "Europe/London",
        "en-GB",
    ),
    person(
        "Sofia Marchetti",
        "sofia.marchetti@northwind.example",
        Some(NORTHWIND),
        "Europe/Rome",
        "it-IT",
    ),
    person(
        "Hannah Lee",
        "hannah@bluebird-bakery.example",
        Some(BLUEBIRD),
        "America/Chicago",
        "en-US",
    ),
    person(
        "Marcus Webb",
        "marcus@bluebird-bakery.example",
        Some(BLUEBIRD),
        "America/Chicago",
        "en-US",
    ),
    person(
        "Dr. Amara Osei",
        "amara.osei@harborhealth.example",
        Some(HARBOR),
        "America/New_York",
        "en-US",
    ),
    person(
        "Kevin Tran",
        "kevin.tran@harborhealth.example",
        Some(HARBOR),
        "America/New_York",
        "en-US",
    ),
    person(
        "Rachel Goldberg",
        "rachel.goldberg@harborhealth.example",
        Some(HARBOR),
        "America/New_York",
        "en-US",
    ),
    person(
        "Kenji Watanabe",
        "kenji.watanabe@kestrel-logistics.example",
        Some(KESTREL),
        "Asia/Tokyo",
        "ja-JP",
    ),
    person(
        "Chloe Martin",
        "chloe.martin@kestrel-logistics.example",
        Some(KESTREL),
        "Australia/Sydney",
        "en-AU",
    ),
    person(
        "Olu Adebayo",
        "olu.adebayo@mail.example",
        None,
        "Africa/Lagos",
        "en-NG",
    ),
    person(
        "Emma Johansson",
        "emma.johansson@mail.example",
        None,
        "Europe/Stockholm",
        "sv-SE",
    ),
];

async fn seed_users(
    store: &dyn Store,
    account: AccountId,
    people: &[PersonSpec],
    role: Role,
    organizations: &[OrganizationId],
) -> anyhow::Result<Vec<User>> {
    let mut users = Vec::with_capacity(people.len());
    for spec in people {
        let organization_id = match spec.org {
            Some(i) => Some(
                *organizations
                    .get(i)
                    .with_context(|| format!("{} names an unknown organization", spec.name))?,
            ),
            None => None,
        };
        let new = NewUser {
            name: spec.name.to_owned(),
            email: spec.email.to_lowercase(),
            role,
            organization_id,
            time_zone: spec.time_zone.to_owned(),
            locale: spec.locale.to_owned(),
            password_hash: None,
        };
        let user = match store.get_user_by_email(account, &new.email).await {
            Ok(user) => user,
            Err(StoreError::NotFound) => store
                .create_user(account, &new)
                .await
                .with_context(|| format!("could not create the demo user {}", spec.email))?,
            Err(e) => {
                return Err(e).with_context(|| format!("could not look up the user {}", spec.email))
            }
        };
        users.push(user);
    }
    Ok(users)
}

// ---------------------------------------------------------------------------
// Custom ticket fields
// ---------------------------------------------------------------------------

/// The demo's custom fields, one of every custom type.
#[derive(Debug, Clone, Copy)]
enum Field {
    OrderNumber,
    StepsToReproduce,
    VipCustomer,
    RenewalDate,
    Seats,
    RefundAmount,
    Product,
}

/// A custom field to create: type, title, description, dropdown options.
struct FieldSpec {
    field_type: FieldType,
    title: &'static str,
    description: &'static str,
    options: &'static [(&'static str, &'static str)],
}

/// The fields in [`Field`] order. None is required, so any ticket can be solved.
const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        field_type: FieldType::Text,
        title: "Order number",
        description: "The order or invoice number the customer refers to, e.g. INV-2291.",
        options: &[],
    },
    FieldSpec {
        field_type: FieldType::Textarea,
        title: "Steps to reproduce",
        description: "For bugs: what to do, step by step, to see the problem.",
        options: &[],
    },
    FieldSpec {
        field_type: FieldType::Checkbox,
        title: "VIP customer",
        description: "Answer within two hours.",
        options: &[],
    },
    FieldSpec {
        field_type: FieldType::Date,
        title: "Renewal date",
        description: "When the customer's subscription renews.",
        options: &[],
    },
    FieldSpec {
        field_type: FieldType::Integer,
        title: "Seats",
        description: "Seats on the customer's plan.",
        options: &[],
    },
    FieldSpec {
        field_type: FieldType::Decimal,
        title: "Refund amount",
        description: "In US dollars.",
        options: &[],
    },
    FieldSpec {
        field_type: FieldType::Tagger,
        title: "Product",
        description: "Which product the request is about.",
        options: &[
            ("Widgets Cloud", "product_widgets"),
            ("Gadget Hub", "product_gadgets"),
            ("Insights Analytics", "product_insights"),
            ("Mobile App", "product_mobile"),
        ],
    },
];

/// Creates the custom fields (reusing any with the same type and title) and
/// returns every field of the account with the demo fields' ids in [`Field`] order.
async fn seed_ticket_fields(
    store: &dyn Store,
    account: AccountId,
) -> anyhow::Result<(Vec<TicketField>, Vec<TicketFieldId>)> {
    let existing = store
        .list_ticket_fields(account)
        .await
        .context("could not list the ticket fields")?;
    let mut position = existing.iter().map(|f| f.position).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(FIELDS.len());
    for spec in FIELDS {
        if let Some(field) = existing
            .iter()
            .find(|f| f.field_type == spec.field_type && f.title.eq_ignore_ascii_case(spec.title))
        {
            ids.push(field.id);
            continue;
        }
        position += 1;
        let new = NewTicketField {
            field_type: spec.field_type,
            title: spec.title.to_owned(),
            description: spec.description.to_owned(),
            active: true,
            required: false,
            position,
            options: spec
                .options
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        };
        let field = store
            .create_ticket_field(account, &new)
            .await
            .with_context(|| format!("could not create the demo field {}", spec.title))?;
        ids.push(field.id);
    }
    // Read them back: option ids and the system fields come from the store.
    let fields = store
        .list_ticket_fields(account)
        .await
        .context("could not list the ticket fields")?;
    Ok((fields, ids))
}

// ---------------------------------------------------------------------------
// Tickets
// ---------------------------------------------------------------------------

/// Who writes one step of a ticket's life.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// The ticket's requester.
    Requester,
    Staff(Staff),
}

/// One write to a ticket: its creation or an update, as a client would send
/// it. Everything is optional except the author.
#[derive(Debug)]
struct Write {
    by: Who,
    /// `(public, body)`.
    comment: Option<(bool, &'static str)>,
    html: Option<&'static str>,
    status: Option<&'static str>,
    priority: Option<&'static str>,
    kind: Option<&'static str>,
    group: Option<Grp>,
    assignee: Option<Staff>,
    /// Tags on creation, additional tags on an update.
    tags: &'static [&'static str],
    fields: Vec<(Field, Value)>,
}

impl Write {
    fn new(by: Who, comment: Option<(bool, &'static str)>) -> Self {
        Write {
            by,
            comment,
            html: None,
            status: None,
            priority: None,
            kind: None,
            group: None,
            assignee: None,
            tags: &[],
            fields: Vec::new(),
        }
    }
}

/// A demo ticket: its creation and the updates that follow, in order.
///
/// Built fluently: [`TicketSpec::new`] or [`TicketSpec::phoned`] writes the
/// first comment, [`reply`](Self::reply), [`note`](Self::note),
/// [`answer`](Self::answer) and [`close`](Self::close) add updates, and the
/// other methods set properties on the latest write (the creation until an
/// update is added).
#[derive(Debug)]
struct TicketSpec {
    subject: &'static str,
    /// Index into [`END_USERS`].
    requester: usize,
    first: Write,
    updates: Vec<Write>,
}

impl TicketSpec {
    /// A ticket the requester submitted themselves.
    fn new(subject: &'static str, requester: usize, body: &'static str) -> Self {
        TicketSpec {
            subject,
            requester,
            first: Write::new(Who::Requester, Some((true, body))),
            updates: Vec::new(),
        }
    }

    /// A ticket an agent logged for the requester during a phone call.
    fn phoned(by: Staff, subject: &'static str, requester: usize, body: &'static str) -> Self {
        TicketSpec {
            subject,
            requester,
            first: Write::new(Who::Staff(by), Some((true, body))),
            updates: Vec::new(),
        }
    }

    fn last(&mut self) -> &mut Write {
        match self.updates.last_mut() {
            Some(w) => w,
            None => &mut self.first,
        }
    }

    /// A public reply from an agent.
    fn reply(mut self, by: Staff, body: &'static str) -> Self {
        self.updates
            .push(Write::new(Who::Staff(by), Some((true, body))));
        self
    }

    /// An internal note from an agent.
    fn note(mut self, by: Staff, body: &'static str) -> Self {
        self.updates
            .push(Write::new(Who::Staff(by), Some((false, body))));
        self
    }

    /// A public reply from the requester.
    fn answer(mut self, body: &'static str) -> Self {
        self.updates
            .push(Write::new(Who::Requester, Some((true, body))));
        self
    }

    /// Closes a solved ticket, without a comment: nothing may follow.
    fn close(mut self, by: Staff) -> Self {
        let mut write = Write::new(Who::Staff(by), None);
        write.status = Some("closed");
        self.updates.push(write);
        self
    }

    fn html(mut self, html: &'static str) -> Self {
        self.last().html = Some(html);
        self
    }

    fn status(mut self, status: &'static str) -> Self {
        self.last().status = Some(status);
        self
    }

    fn priority(mut self, priority: &'static str) -> Self {
        self.last().priority = Some(priority);
        self
    }

    fn kind(mut self, kind: &'static str) -> Self {
        self.last().kind = Some(kind);
        self
    }

    fn group(mut self, group: Grp) -> Self {
        self.last().group = Some(group);
        self
    }

    fn assign(mut self, group: Grp, assignee: Staff) -> Self {
        let last = self.last();
        last.group = Some(group);
        last.assignee = Some(assignee);
        self
    }

    fn tags(mut self, tags: &'static [&'static str]) -> Self {
        self.last().tags = tags;
        self
    }

    fn field(mut self, field: Field, value: Value) -> Self {
        self.last().fields.push((field, value));
        self
    }
}

/// Ids the ticket specs refer to symbolically.
struct Cast {
    admin: UserId,
    /// In [`Staff`] order.
    agents: Vec<UserId>,
    /// In [`END_USERS`] order.
    end_users: Vec<User>,
    /// In [`Grp`] order.
    groups: Vec<GroupId>,
    /// In [`Field`] order.
    field_ids: Vec<TicketFieldId>,
}

impl Cast {
    fn staff(&self, who: Staff) -> anyhow::Result<UserId> {
        let index = match who {
            Staff::Admin => return Ok(self.admin),
            Staff::Maya => 0,
            Staff::Tomas => 1,
            Staff::Lena => 2,
            Staff::Arjun => 3,
        };
        self.agents
            .get(index)
            .copied()
            .with_context(|| format!("no demo agent for {who:?}"))
    }

    fn end_user(&self, index: usize) -> anyhow::Result<&User> {
        self.end_users
            .get(index)
            .with_context(|| format!("no demo end-user #{index}"))
    }

    fn group(&self, group: Grp) -> anyhow::Result<GroupId> {
        self.groups
            .get(group as usize)
            .copied()
            .with_context(|| format!("no demo group for {group:?}"))
    }

    fn field(&self, field: Field) -> anyhow::Result<TicketFieldId> {
        self.field_ids
            .get(field as usize)
            .copied()
            .with_context(|| format!("no demo field for {field:?}"))
    }

    fn author(&self, who: Who, requester: &User) -> anyhow::Result<UserId> {
        match who {
            Who::Requester => Ok(requester.id),
            Who::Staff(s) => self.staff(s),
        }
    }
}

/// The JSON `ticket` object a client would send for `write`.
fn write_json(
    cast: &Cast,
    spec: &TicketSpec,
    write: &Write,
    creating: bool,
) -> anyhow::Result<Map<String, Value>> {
    let requester = cast.end_user(spec.requester)?;
    let mut obj = Map::new();
    if creating {
        obj.insert("subject".into(), json!(spec.subject));
        obj.insert("requester_id".into(), json!(requester.id.get()));
        if let Some(org) = requester.organization_id {
            obj.insert("organization_id".into(), json!(org.get()));
        }
        if !write.tags.is_empty() {
            obj.insert("tags".into(), json!(write.tags));
        }
    } else if !write.tags.is_empty() {
        obj.insert("additional_tags".into(), json!(write.tags));
    }
    if let Some((public, body)) = write.comment {
        let mut comment = Map::new();
        comment.insert("body".into(), json!(body));
        comment.insert("public".into(), json!(public));
        if let Some(html) = write.html {
            comment.insert("html_body".into(), json!(html));
        }
        obj.insert("comment".into(), Value::Object(comment));
    }
    if let Some(status) = write.status {
        obj.insert("status".into(), json!(status));
    }
    if let Some(priority) = write.priority {
        obj.insert("priority".into(), json!(priority));
    }
    if let Some(kind) = write.kind {
        obj.insert("type".into(), json!(kind));
    }
    if let Some(group) = write.group {
        obj.insert("group_id".into(), json!(cast.group(group)?.get()));
    }
    if let Some(assignee) = write.assignee {
        obj.insert("assignee_id".into(), json!(cast.staff(assignee)?.get()));
    }
    if !write.fields.is_empty() {
        let mut values = Vec::with_capacity(write.fields.len());
        for (field, value) in &write.fields {
            values.push(json!({ "id": cast.field(*field)?.get(), "value": value }));
        }
        obj.insert("custom_fields".into(), Value::Array(values));
    }
    Ok(obj)
}

/// The comment a parsed write adds, if any. A comment sent without HTML gets
/// the HTML rendering of its text, as Zendesk stores one for every comment.
fn new_comment(patch: &TicketPatch, author_id: UserId) -> Option<NewComment> {
    patch.comment.as_ref().map(|c| NewComment {
        author_id,
        public: c.public,
        body: c.body.clone(),
        html_body: c.html_body.clone().unwrap_or_else(|| text_to_html(&c.body)),
    })
}

/// Plain text as HTML: escaped, blank lines separate paragraphs, single line
/// breaks become `<br>`.
pub(crate) fn text_to_html(text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(escape).collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect()
}

/// Creates one ticket and plays its updates through the domain rules.
async fn seed_ticket(
    store: &dyn Store,
    account: AccountId,
    cast: &Cast,
    fields: &[TicketField],
    spec: &TicketSpec,
) -> anyhow::Result<Ticket> {
    let requester = cast.end_user(spec.requester)?;

    let submitter = cast.author(spec.first.by, requester)?;
    let input = write_json(cast, spec, &spec.first, true)?;
    let patch = TicketPatch::parse(&input, fields).context("the creation is not valid")?;
    let (new, events) =
        build_new(&patch, submitter, fields).context("the creation is not accepted")?;
    let Some(first_comment) = new_comment(&patch, submitter) else {
        bail!("the ticket has no first comment");
    };
    let mut ticket = store
        .create_ticket(account, &new, &first_comment, &events)
        .await
        .context("could not store the new ticket")?;

    for (n, write) in spec.updates.iter().enumerate() {
        let author_id = cast.author(write.by, requester)?;
        let input = write_json(cast, spec, write, false)?;
        let patch = TicketPatch::parse(&input, fields)
            .with_context(|| format!("update {} is not valid", n + 1))?;
        let applied = apply_update(&ticket, &patch, fields)
            .with_context(|| format!("update {} is not accepted", n + 1))?;
        let comment = new_comment(&patch, author_id);
        ticket = store
            .update_ticket(
                account,
                TicketWrite {
                    ticket: &applied.ticket,
                    author_id,
                    events: &applied.events,
                    comment: comment.as_ref(),
                },
            )
            .await
            .with_context(|| format!("could not store update {}", n + 1))?;
    }
    Ok(ticket)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The demo tickets, oldest first. Statuses: 5 new, 6 open, 5 pending,
/// 4 on hold, 6 solved, 4 closed.
fn tickets() -> Vec<TicketSpec> {
    use Field::*;
    use Grp::*;
    use Staff::*;

    vec![
        // 1 — solved
        TicketSpec::new(
            "Can't log in after resetting my password",
            DANIEL,
            "Hi,\n\nI reset my password this morning but the new one is rejected with \"Invalid email or password\". I've tried twice, same result. Can you help? I have a report due at noon.\n\nDaniel",
        )
        .priority("high")
        .kind("incident")
        .tags(&["login", "password_reset"])
        .field(Product, json!("product_widgets"))
        .reply(
            Tomas,
            "Hi Daniel,\n\nSorry about that! Reset links expire after 60 minutes and only the newest link works, so an older email can set a password that is then replaced. I've sent you a fresh link just now. Could you open it in a private browser window and try again?\n\nTomás",
        )
        .assign(Support, Tomas)
        .status("pending")
        .answer("That worked, thank you! The first email had been sitting in our spam quarantine for an hour.")
        .status("open")
        .reply(
            Tomas,
            "Great to hear! I'll mark this as solved; just reply here if anything else comes up.",
        )
        .status("solved"),
        // 2 — closed
        TicketSpec::new(
            "Invoice INV-2291 charged twice",
            HANNAH,
            "Hello, our card statement shows two charges of $49.00 for invoice INV-2291 on the same day. Please refund one of them.",
        )
        .priority("urgent")
        .kind("incident")
        .tags(&["billing", "double_charge"])
        .field(OrderNumber, json!("INV-2291"))
        .field(Product, json!("product_widgets"))
        .note(
            Lena,
            "Payment provider shows two captures 14 seconds apart: the checkout retried after a gateway timeout. Refunding the second capture.",
        )
        .assign(Billing, Lena)
        .field(RefundAmount, json!("49.00"))
        .reply(
            Lena,
            "Hi Hannah, you're right, the card was charged twice. I've refunded the duplicate charge of $49.00; it should appear on your statement within 5 to 10 business days. Sorry for the trouble!",
        )
        .html("<p>Hi Hannah,</p><p>You're right, the card was charged <strong>twice</strong>. I've refunded the duplicate charge of <strong>$49.00</strong>; it should appear on your statement within 5 to 10 business days.</p><p>Sorry for the trouble!</p>")
        .tags(&["refund"])
        .status("solved")
        .close(Lena),
        // 3 — hold
        TicketSpec::new(
            "Feature request: export reports to CSV",
            KENJI,
            "Our finance team copies the monthly reports into spreadsheets by hand. An \"Export to CSV\" button on each report would save us hours every month.",
        )
        .priority("low")
        .kind("task")
        .tags(&["feature_request", "reporting"])
        .field(Product, json!("product_insights"))
        .reply(
            Admin,
            "Thanks for the suggestion, Kenji! CSV export is planned for next quarter. I've linked your request to it, so this ticket will hear about it the day it ships.",
        )
        .assign(Support, Admin)
        .status("hold")
        .note(
            Admin,
            "Linked to roadmap item FR-118 (CSV export). Nine customers have asked for it so far.",
        ),
        // 4 — open
        TicketSpec::new(
            "Dashboard charts not loading in Safari",
            AMARA,
            "Since yesterday the charts on our Insights dashboard spin forever in Safari. Chrome works. Most of our clinicians use iPads, so this is a real problem for us.",
        )
        .priority("high")
        .kind("problem")
        .tags(&["bug", "safari", "vip"])
        .field(VipCustomer, json!(true))
        .field(Product, json!("product_insights"))
        .field(
            StepsToReproduce,
            json!("1. Open Safari 17.4 on macOS or iPadOS\n2. Sign in and go to Insights > Dashboard\n3. The charts stay on the loading spinner\n4. The console shows \"ResizeObserver loop completed with undelivered notifications\""),
        )
        .note(
            Arjun,
            "Reproduced on Safari 17.4. The chart library's polyfill is tree-shaken out of the Safari bundle since Tuesday's release. Fix in review (PR #4821).",
        )
        .assign(Engineering, Arjun)
        .reply(
            Arjun,
            "Hi Dr. Osei, we've reproduced the problem and a fix is in review. Until it ships, the dashboard displays correctly in Chrome and Firefox, including on iPad.",
        )
        .answer("Thanks. Please let us know as soon as the fix is live, our morning rounds depend on it."),
        // 5 — solved
        TicketSpec::new(
            "How do I add a new user to our account?",
            MARCUS,
            "We hired a new shop manager. How do I give her access?",
        )
        .kind("question")
        .field(Product, json!("product_widgets"))
        .reply(
            Tomas,
            "Hi Marcus, admins can invite people from Settings > Team > Invite. Each invitation uses one seat; you currently have 3 of 5 seats in use.",
        )
        .html("<p>Hi Marcus,</p><p>Admins can invite people from <strong>Settings &rarr; Team &rarr; Invite</strong>. Each invitation uses one seat; you currently have <em>3 of 5</em> seats in use.</p>")
        .assign(Support, Tomas)
        .priority("normal")
        .status("solved"),
        // 6 — pending
        TicketSpec::new(
            "Refund for unused seats",
            SOFIA,
            "We reduced our team and have about 20 seats we no longer use. Can we get a refund for them until the renewal?",
        )
        .priority("normal")
        .kind("question")
        .tags(&["billing", "refund", "seats"])
        .field(OrderNumber, json!("ORD-88310"))
        .field(Seats, json!(20))
        .field(RenewalDate, json!("2027-03-01"))
        .reply(
            Lena,
            "Hi Sofia, we can credit unused seats prorated to your renewal date (1 March). For 20 seats that would be about $1,200. Could you confirm the exact number of seats to remove, and whether you'd like a credit or a refund to the card?",
        )
        .assign(Billing, Lena)
        .field(RefundAmount, json!("1200.00"))
        .status("pending"),
        // 7 — open
        TicketSpec::new(
            "Android app crashes when I attach a photo",
            OLU,
            "Every time I try to attach a photo to an order from the camera, the app closes. Attaching from the gallery works.",
        )
        .priority("high")
        .kind("incident")
        .tags(&["bug", "android"])
        .field(Product, json!("product_mobile"))
        .field(
            StepsToReproduce,
            json!("1. Open the Android app (version 3.2.0)\n2. Open any order and tap Attach > Camera\n3. Take a photo\n4. The app closes immediately"),
        )
        .reply(
            Tomas,
            "Thanks for the detailed report, Olu! Could you tell us which phone model and Android version you're using?",
        )
        .assign(Support, Tomas)
        .status("pending")
        .answer("Pixel 6a, Android 14.")
        .status("open")
        .note(
            Tomas,
            "Matches the crash cluster in the Play Console (camera intent on Android 14). Escalating to Engineering.",
        )
        .assign(Engineering, Arjun)
        .tags(&["escalated"]),
        // 8 — pending
        TicketSpec::phoned(
            Lena,
            "Renewal quote for 2027",
            PRIYA,
            "Priya called: she needs a renewal quote for 250 seats before their budget meeting on Friday, same plan as this year.",
        )
        .assign(Billing, Lena)
        .priority("normal")
        .kind("task")
        .tags(&["renewal", "quote"])
        .field(RenewalDate, json!("2027-03-01"))
        .field(Seats, json!(250))
        .field(VipCustomer, json!(true))
        .reply(
            Lena,
            "Hi Priya, as promised on the phone I've emailed you the renewal quote for 250 seats. This year's price is locked in if the quote is signed before 1 February. Let me know if you have any questions!",
        )
        .status("pending"),
        // 9 — closed
        TicketSpec::new(
            "SSO login fails with \"Invalid SAML response\"",
            KEVIN,
            "Nobody at the clinic can sign in through single sign-on since this morning. The error says \"Invalid SAML response\". This is blocking 120 staff.",
        )
        .priority("urgent")
        .kind("incident")
        .tags(&["sso", "saml", "login", "vip"])
        .field(VipCustomer, json!(true))
        .field(Product, json!("product_widgets"))
        .note(
            Maya,
            "Harbor's IT rotated their identity provider certificate yesterday (per Rachel). Routing to Arjun.",
        )
        .assign(Engineering, Arjun)
        .reply(
            Arjun,
            "Hi Kevin, your identity provider signed the response with a certificate we don't have on file, most likely the one rotated yesterday. Could you upload the new certificate under Settings > Security > SAML?",
        )
        .status("pending")
        .answer("Uploaded the new certificate and logins work again. Thanks for the fast answer!")
        .status("open")
        .reply(
            Arjun,
            "Glad it's working! We'll also start emailing admins two weeks before a SAML certificate expires, so this doesn't catch you off guard next time.",
        )
        .status("solved")
        .close(Arjun),
        // 10 — new
        TicketSpec::new(
            "Where can I download last year's invoices?",
            EMMA,
            "Hi! My accountant needs all invoices from last year. Is there a way to download them in one go?",
        )
        .kind("question")
        .priority("low")
        .group(Billing),
        // 11 — hold
        TicketSpec::new(
            "Bulk product import stops at row 500",
            CHLOE,
            "I'm importing our product catalogue (about 1,200 rows) under Inventory > Import. It always stops with \"Unexpected error\" at row 500. The file opens fine in Excel.",
        )
        .priority("normal")
        .kind("problem")
        .tags(&["import", "bug"])
        .field(Product, json!("product_widgets"))
        .field(
            StepsToReproduce,
            json!("1. Inventory > Import\n2. Upload a CSV with more than 500 rows\n3. Import stops with \"Unexpected error\" at row 500"),
        )
        .reply(
            Tomas,
            "Hi Chloe, sorry about that. Could you share the file through the secure upload link I've just emailed you? Then we can reproduce it with your exact data.",
        )
        .assign(Support, Tomas)
        .status("pending")
        .answer("Done, the file is uploaded as catalogue-2026.csv.")
        .status("open")
        .note(
            Tomas,
            "Reproduced with her file: the import worker times out after 30 s, around row 500. Escalating.",
        )
        .assign(Engineering, Arjun)
        .reply(
            Arjun,
            "Hi Chloe, we found the cause: large imports hit a time limit on our side. The fix is scheduled for next week's release. Until then, splitting the file into parts of 400 rows works. I'll keep this ticket on hold and update you when it ships.",
        )
        .status("hold"),
        // 12 — solved
        TicketSpec::new(
            "Change the billing address on our invoices",
            MARCUS,
            "We moved our head office. Please put 221 Elm Street, Springfield on future invoices.",
        )
        .priority("low")
        .kind("task")
        .tags(&["billing"])
        .reply(
            Lena,
            "Done! Future invoices will be addressed to 221 Elm Street, Springfield. If you need past invoices reissued with the new address, just let me know.",
        )
        .assign(Billing, Lena)
        .status("solved"),
        // 13 — pending
        TicketSpec::new(
            "Two-factor codes not arriving by SMS",
            RACHEL,
            "I haven't received a single two-factor code by SMS today, so I'm locked out. My number hasn't changed.",
        )
        .priority("high")
        .kind("incident")
        .tags(&["2fa", "sms", "login"])
        .field(VipCustomer, json!(true))
        .reply(
            Maya,
            "Hi Rachel, our SMS provider reports delays for some US carriers today. While they fix it you can sign in with one of your backup codes, or switch to an authenticator app under Profile > Security. Did a backup code work for you?",
        )
        .assign(Support, Maya)
        .status("pending")
        .note(
            Maya,
            "Provider status page: degraded delivery to two US carriers since 09:10 ET.",
        ),
        // 14 — new
        TicketSpec::new(
            "Please add a dark mode",
            EMMA,
            "I work late and the white background is hard on the eyes. A dark theme would be lovely!",
        )
        .kind("task")
        .priority("low")
        .tags(&["feature_request"]),
        // 15 — open
        TicketSpec::new(
            "Seat count on the latest invoice is wrong",
            DANIEL,
            "Invoice INV-3107 bills us for 250 seats, but we deactivated five people last month. We should be at 245.",
        )
        .priority("normal")
        .kind("problem")
        .tags(&["billing", "seats"])
        .field(OrderNumber, json!("INV-3107"))
        .field(Seats, json!(245))
        .note(
            Lena,
            "Deactivated users count until the end of the billing period, so INV-3107 is technically right, but it confuses everyone. Asking Finance for a goodwill credit.",
        )
        .assign(Billing, Lena)
        .reply(
            Lena,
            "Hi Daniel, deactivated users are billed until the end of the billing period in which they were deactivated, which is why INV-3107 still shows 250 seats. Your next invoice will show 245. I've asked our finance team whether we can credit the difference, and will get back to you by Thursday.",
        ),
        // 16 — solved
        TicketSpec::new(
            "API returns 429 during our nightly sync",
            KENJI,
            "Our nightly sync has been failing with HTTP 429 Too Many Requests for three nights. We didn't change anything on our side.",
        )
        .priority("high")
        .kind("problem")
        .tags(&["api", "rate_limit"])
        .field(Product, json!("product_insights"))
        .reply(
            Arjun,
            "Hi Kenji, your sync now sends about 900 requests per minute at its peak; the limit on your plan is 700. Please honour the Retry-After header of 429 responses, or spread the sync over a longer window.",
        )
        .html("<p>Hi Kenji,</p><p>Your sync now sends about 900 requests per minute at its peak; the limit on your plan is 700:</p><ul><li>Plan limit: 700 requests/minute</li><li>Peak observed: 912 requests/minute</li></ul><p>Please honour the <code>Retry-After</code> header of <code>429</code> responses, or spread the sync over a longer window.</p>")
        .assign(Engineering, Arjun)
        .status("pending")
        .answer("We added a backoff on Retry-After and last night's sync finished without errors. Thank you!")
        .status("open")
        .reply(
            Arjun,
            "Excellent, thanks for confirming. Marking this as solved.",
        )
        .status("solved"),
        // 17 — closed
        TicketSpec::new(
            "Cancel my subscription at the end of the term",
            EMMA,
            "I'm closing my small business at the end of the year. Please cancel my subscription so it doesn't renew.",
        )
        .kind("question")
        .priority("normal")
        .tags(&["cancellation"])
        .field(RenewalDate, json!("2026-12-31"))
        .reply(
            Lena,
            "Hi Emma, sorry to see you go, and best of luck with what comes next! I've turned off the renewal: your subscription stays active until 31 December and you won't be charged again. You can export your data at any time before then under Settings > Export.",
        )
        .assign(Billing, Lena)
        .status("solved")
        .close(Lena),
        // 18 — pending
        TicketSpec::new(
            "Mobile app only shows yesterday's orders",
            HANNAH,
            "On my phone the order list stops at yesterday evening. On the computer I can see this morning's orders.",
        )
        .priority("normal")
        .kind("incident")
        .tags(&["sync"])
        .field(Product, json!("product_mobile"))
        .reply(
            Tomas,
            "Hi Hannah, could you pull down on the order list to refresh it, and tell me whether the new orders appear? If they don't, please send me the app version from Settings > About.",
        )
        .assign(Support, Tomas)
        .status("pending"),
        // 19 — new
        TicketSpec::new(
            "Password reset email never arrives",
            SOFIA,
            "I've requested a password reset three times but no email arrives, not even in spam.",
        )
        .priority("normal")
        .kind("incident")
        .tags(&["login", "email"])
        .group(Support),
        // 20 — hold
        TicketSpec::new(
            "HIPAA compliance and a signed BAA",
            AMARA,
            "Before we roll out the patient-intake form we need a signed Business Associate Agreement. Can you send one?",
        )
        .priority("normal")
        .kind("question")
        .tags(&["compliance", "vip"])
        .field(VipCustomer, json!(true))
        .note(
            Maya,
            "Legal is updating the BAA template; expected by the end of the month. Do not promise a date before then.",
        )
        .assign(Support, Maya)
        .reply(
            Maya,
            "Hi Dr. Osei, our legal team is finalising the updated BAA and I'll send it to you for signature as soon as it's ready, by the end of the month at the latest. I'm keeping this ticket open on our side until then.",
        )
        .status("hold"),
        // 21 — open
        TicketSpec::new(
            "Report totals don't match invoice totals",
            PRIYA,
            "The revenue report for October shows $182,340 but our invoices for October add up to $185,115. Which one is right?",
        )
        .priority("normal")
        .kind("problem")
        .tags(&["reporting"])
        .field(Product, json!("product_insights"))
        .field(
            StepsToReproduce,
            json!("1. Insights > Reports > Revenue, period October\n2. Compare the total with the sum of October invoices under Billing > Invoices"),
        )
        .reply(
            Maya,
            "Thanks Priya, we see the same difference on our side. I've passed it to our engineers and will update you as soon as we know more.",
        )
        .assign(Engineering, Arjun)
        .status("open")
        .note(
            Arjun,
            "The report groups by order date, invoices by payment date: orders paid after month end move between months. Both are 'right'; proposing a toggle in the report.",
        ),
        // 22 — solved
        TicketSpec::new(
            "Make Kenji an admin",
            CHLOE,
            "Could you give Kenji Watanabe admin rights? He'll manage our integrations from now on.",
        )
        .priority("low")
        .kind("task")
        .note(
            Tomas,
            "Checked that Chloe is an account owner before changing any roles.",
        )
        .assign(Support, Tomas)
        .reply(
            Tomas,
            "Hi Chloe, done: Kenji is now an admin. He'll see the Admin menu the next time he signs in.",
        )
        .status("solved"),
        // 23 — hold
        TicketSpec::new(
            "Japanese characters garbled in exported PDF invoices",
            KENJI,
            "Customer names in Japanese come out as empty boxes in the PDF invoices. The web view shows them correctly.",
        )
        .priority("normal")
        .kind("problem")
        .tags(&["bug", "pdf", "i18n"])
        .field(Product, json!("product_widgets"))
        .field(
            StepsToReproduce,
            json!("1. Create a customer named 渡辺 健二\n2. Issue an invoice for them\n3. Download the PDF: the name renders as empty boxes"),
        )
        .reply(
            Arjun,
            "Thanks Kenji! The font embedded in our PDFs has no Japanese glyphs. We're adding Noto Sans JP in the next release and I'll let you know here when it's out.",
        )
        .assign(Engineering, Arjun)
        .status("hold"),
        // 24 — new
        TicketSpec::new(
            "Can I extend my trial by two weeks?",
            OLU,
            "I'm still evaluating Widgets Cloud with my team and we need a bit more time. Is a two-week extension possible?",
        )
        .priority("low")
        .kind("question")
        .tags(&["trial"])
        .group(Billing),
        // 25 — pending
        TicketSpec::new(
            "Webhook deliveries failing with timeouts",
            DANIEL,
            "The delivery log shows most of our order webhooks as \"failed: timeout\" since Monday.",
        )
        .priority("high")
        .kind("incident")
        .tags(&["webhooks"])
        .field(Product, json!("product_widgets"))
        .reply(
            Arjun,
            "Hi Daniel, your endpoint has been taking about 12 seconds to answer since Monday, and we give up after 10. Could you answer with 200 right away and do the processing in the background? Failed deliveries are retried for 24 hours, so nothing is lost yet.",
        )
        .assign(Engineering, Arjun)
        .status("pending"),
        // 26 — solved
        TicketSpec::new(
            "Do you offer a non-profit discount?",
            RACHEL,
            "Harbor Health Clinic is a registered non-profit. Do you have discounted pricing for organisations like ours?",
        )
        .priority("normal")
        .kind("question")
        .tags(&["billing", "discount"])
        .reply(
            Lena,
            "Hi Rachel, yes: registered non-profits get 30% off any plan. Could you send us a copy of your registration certificate?",
        )
        .assign(Billing, Lena)
        .status("pending")
        .answer("Sent it to your billing address a minute ago. Thanks!")
        .status("open")
        .reply(
            Lena,
            "Received, thank you! The discount applies from your next invoice.",
        )
        .status("solved"),
        // 27 — open
        TicketSpec::new(
            "Label printer prints blank labels",
            MARCUS,
            "Since last week our label printer spits out blank labels when we print from Gadget Hub. Test pages from the printer itself are fine.",
        )
        .priority("normal")
        .kind("problem")
        .tags(&["printer", "integration"])
        .field(Product, json!("product_gadgets"))
        .reply(
            Tomas,
            "Hi Marcus, could you tell me the printer model and its firmware version? You'll find both on the printer's configuration label.",
        )
        .assign(Support, Tomas)
        .status("pending")
        .answer("It's a ZD421, firmware V84.20.13.")
        .status("open")
        .note(
            Tomas,
            "Known issue with ZPL mode on firmware V84.20; the vendor fix is due next month. Workaround: switch the printer to EPL.",
        )
        .reply(
            Tomas,
            "Thanks! This firmware has a known problem with the label format we send. Switching the printer to EPL mode (Settings > Printer language) works around it; I'll follow up when the permanent fix is out.",
        ),
        // 28 — open
        TicketSpec::phoned(
            Maya,
            "Gadget Hub sensors offline since this morning",
            CHLOE,
            "Chloe called: all 14 temperature sensors in the Sydney warehouse show \"offline\" in Gadget Hub since about 06:30 local time. Cold-chain shipments are affected.",
        )
        .assign(Support, Maya)
        .priority("urgent")
        .kind("incident")
        .tags(&["outage", "sensors"])
        .field(Product, json!("product_gadgets"))
        .field(OrderNumber, json!("ORD-77120"))
        .note(
            Maya,
            "Part of incident INC-42 (Sydney region message broker). Engineering is on it.",
        )
        .reply(
            Maya,
            "Hi Chloe, following up on our call: we're having an outage in the Sydney region that affects sensor connections. Your sensors keep their readings locally and will upload them once the connection is back. I'll update you here at least every hour.",
        ),
        // 29 — closed
        TicketSpec::new(
            "Typo on the pricing page",
            SOFIA,
            "Small thing: the pricing page says \"anual billing\" instead of \"annual billing\".",
        )
        .priority("low")
        .kind("task")
        .tags(&["website"])
        .reply(
            Admin,
            "Good catch, thank you Sofia! It's fixed.",
        )
        .assign(Support, Admin)
        .status("solved")
        .close(Admin),
        // 30 — new
        TicketSpec::new(
            "Slack integration shows an error",
            HANNAH,
            "The Integrations page shows a red \"Authorization expired\" banner on Slack, and we stopped getting order notifications in our channel.",
        )
        .html("<p>The <strong>Integrations</strong> page shows a red <em>\"Authorization expired\"</em> banner on Slack, and we stopped getting order notifications in our channel.</p>")
        .priority("normal")
        .kind("incident")
        .tags(&["integration", "slack"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_escaped_paragraphs() {
        assert_eq!(
            text_to_html("Hi <b>,\nline two\n\nA & B"),
            "<p>Hi &lt;b&gt;,<br>line two</p><p>A &amp; B</p>"
        );
    }

    #[test]
    fn tables_line_up_with_their_enums() {
        assert_eq!(GROUPS.len(), Grp::Engineering as usize + 1);
        assert_eq!(FIELDS.len(), Field::Product as usize + 1);
        assert_eq!(AGENTS.len(), Staff::Arjun as usize + 1);
        assert_eq!(END_USERS.len(), EMMA + 1);
    }

    #[test]
    fn about_thirty_tickets_each_closed_last() {
        let specs = tickets();
        assert!(specs.len() >= 25, "{}", specs.len());
        for spec in &specs {
            let closes = spec.updates.iter().position(|w| w.status == Some("closed"));
            if let Some(i) = closes {
                assert_eq!(i + 1, spec.updates.len(), "{}", spec.subject);
            }
            assert!(spec.requester < END_USERS.len());
        }
    }
}
