//! Zendesk's search syntax, parsed into filters the store can run.
//!
//! `type:ticket status<solved tags:vip -tags:spam requester:ann@example.com
//! "refund request" printer` becomes a [`SearchQuery`], and for tickets a
//! [`TicketFilter`]. References to people stay symbolic ([`UserRef::Email`])
//! so the store can resolve them in the same query that filters tickets; `me`
//! is resolved here because the caller knows who is asking.

use chrono::{NaiveDate, TimeZone, Utc};

use crate::ids::*;
use crate::model::*;
use crate::tags;

/// Longest query accepted, in bytes.
pub const MAX_QUERY_LEN: usize = 2048;

/// Why a query could not be understood; the message is shown to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SearchError(pub String);

/// Which kind of record a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultType {
    Ticket,
    User,
    Organization,
    Group,
}

/// A comparison in a `key<op>value` term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

/// One term of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A word or quoted phrase matched against text.
    Text(String),
    /// `key:value`, `key<value`, …
    Field { key: String, op: Op, value: String },
}

/// A parsed query: the result type and the terms, each possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub result_type: Option<ResultType>,
    pub terms: Vec<(bool, Term)>,
}

impl SearchQuery {
    /// Splits a query into terms. Quotes group words; a leading `-` negates.
    pub fn parse(query: &str) -> Result<Self, SearchError> {
        if query.len() > MAX_QUERY_LEN {
            return Err(SearchError(format!(
                "The query is too long (maximum is {MAX_QUERY_LEN} bytes)"
            )));
        }
        let mut result_type = None;
        let mut terms = Vec::new();
        for token in tokenize(query)? {
            let (negated, body) = match token.strip_prefix('-') {
                Some(rest) if !rest.is_empty() => (true, rest.to_owned()),
                _ => (false, token),
            };
            let term = parse_term(&body);
            if let Term::Field {
                key,
                op: Op::Eq,
                value,
            } = &term
            {
                if key == "type" {
                    let kind = match value.as_str() {
                        "ticket" => ResultType::Ticket,
                        "user" => ResultType::User,
                        "organization" => ResultType::Organization,
                        "group" => ResultType::Group,
                        // Zendesk lets `type:` name a ticket type too.
                        other => match TicketType::parse(other) {
                            Some(_) => {
                                terms.push((
                                    negated,
                                    Term::Field {
                                        key: "ticket_type".into(),
                                        op: Op::Eq,
                                        value: other.into(),
                                    },
                                ));
                                continue;
                            }
                            None => return Err(SearchError(format!("Unknown type '{other}'"))),
                        },
                    };
                    result_type = Some(kind);
                    continue;
                }
            }
            terms.push((negated, term));
        }
        Ok(SearchQuery { result_type, terms })
    }
}

fn tokenize(query: &str) -> Result<Vec<String>, SearchError> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c if c.is_control() => {}
            c => current.push(c),
        }
    }
    if quoted {
        return Err(SearchError("A quote is not closed".into()));
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    Ok(tokens)
}

fn parse_term(token: &str) -> Term {
    // The first operator character splits key and value; `a:b:c` keeps `b:c`.
    let split = token
        .char_indices()
        .find(|(_, c)| matches!(c, ':' | '<' | '>'));
    let Some((at, c)) = split else {
        return Term::Text(token.to_owned());
    };
    let key = &token[..at];
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Term::Text(token.to_owned());
    }
    let rest = &token[at + 1..];
    let (op, value) = match (c, rest.strip_prefix('=')) {
        (':', _) => (Op::Eq, rest),
        ('<', Some(v)) => (Op::Le, v),
        ('>', Some(v)) => (Op::Ge, v),
        ('<', None) => (Op::Lt, rest),
        (_, None) => (Op::Gt, rest),
        (_, Some(v)) => (Op::Ge, v),
    };
    Term::Field {
        key: key.to_ascii_lowercase(),
        op,
        value: value.to_owned(),
    }
}

/// A person named in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// Nobody (`assignee:none`).
    None,
    Id(UserId),
    /// Matched case-insensitively against users' emails in the same account.
    Email(String),
    /// Matched case-insensitively against users' names.
    Name(String),
}

/// A group or organization named in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamedRef<Id> {
    None,
    Id(Id),
    Name(String),
}

/// Which tickets a list or search returns. Every condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    /// Allowed statuses; `None` allows all.
    pub statuses: Option<Vec<TicketStatus>>,
    pub priorities: Option<Vec<Option<TicketPriority>>>,
    pub types: Option<Vec<Option<TicketType>>>,
    /// The ticket has every one of these tags.
    pub tags_all: Vec<String>,
    /// The ticket has none of these tags.
    pub tags_none: Vec<String>,
    pub requester: Option<UserRef>,
    pub assignee: Option<UserRef>,
    pub submitter: Option<UserRef>,
    pub group: Option<NamedRef<GroupId>>,
    pub organization: Option<NamedRef<OrganizationId>>,
    pub created_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
    pub updated_after: Option<Timestamp>,
    pub updated_before: Option<Timestamp>,
    /// Each must appear (case-insensitively) in the subject, description or a comment.
    pub text: Vec<String>,
    pub ids: Option<Vec<TicketId>>,
    /// Set by authorization, never by a query: end-users see only tickets they requested.
    pub visible_to_requester: Option<UserId>,
}

impl TicketFilter {
    /// Builds a ticket filter from a parsed query; `me` is who is searching.
    pub fn from_query(query: &SearchQuery, me: UserId) -> Result<Self, SearchError> {
        let mut f = TicketFilter::default();
        for (negated, term) in &query.terms {
            match term {
                Term::Text(text) if *negated => {
                    return Err(SearchError(format!(
                        "Excluding text ('-{text}') is not supported"
                    )))
                }
                Term::Text(text) => f.text.push(text.to_lowercase()),
                Term::Field { key, op, value } => f.add_field(key, *op, value, *negated, me)?,
            }
        }
        Ok(f)
    }

    fn add_field(
        &mut self,
        key: &str,
        op: Op,
        value: &str,
        negated: bool,
        me: UserId,
    ) -> Result<(), SearchError> {
        let value_lc = value.to_lowercase();
        let only_eq = |what: &str| -> Result<(), SearchError> {
            if op != Op::Eq || negated {
                Err(SearchError(format!(
                    "'{what}' supports only '{what}:value'"
                )))
            } else {
                Ok(())
            }
        };
        match key {
            "status" => {
                let pivot = TicketStatus::parse(&value_lc)
                    .ok_or_else(|| SearchError(format!("Unknown status '{value}'")))?;
                let chosen = select(TicketStatus::ALL, pivot, op, negated);
                intersect(&mut self.statuses, chosen);
            }
            "priority" => {
                let chosen: Vec<Option<TicketPriority>> = if value_lc == "none" {
                    only_eq(key)?;
                    vec![None]
                } else {
                    let pivot = TicketPriority::parse(&value_lc)
                        .ok_or_else(|| SearchError(format!("Unknown priority '{value}'")))?;
                    let mut chosen: Vec<_> = select(TicketPriority::ALL, pivot, op, negated)
                        .into_iter()
                        .map(Some)
                        .collect();
                    if negated {
                        chosen.push(None);
                    }
                    chosen
                };
                intersect(&mut self.priorities, chosen);
            }
            "ticket_type" => {
                let pivot = TicketType::parse(&value_lc)
                    .ok_or_else(|| SearchError(format!("Unknown type '{value}'")))?;
                if op != Op::Eq {
                    return Err(SearchError("'type' supports only 'type:value'".into()));
                }
                let mut chosen: Vec<Option<TicketType>> =
                    select(TicketType::ALL, pivot, op, negated)
                        .into_iter()
                        .map(Some)
                        .collect();
                if negated {
                    chosen.push(None);
                }
                intersect(&mut self.types, chosen);
            }
            "tags" | "tag" => {
                if op != Op::Eq {
                    return Err(SearchError("'tags' supports only 'tags:value'".into()));
                }
                let parsed = tags::normalize([value])
                    .map_err(|t| SearchError(format!("'{t}' is not a valid tag")))?;
                if negated {
                    &mut self.tags_none
                } else {
                    &mut self.tags_all
                }
                .extend(parsed);
            }
            "requester" | "assignee" | "submitter" => {
                only_eq(key)?;
                let r = user_ref(&value_lc, me);
                match key {
                    "requester" => self.requester = Some(r),
                    "assignee" => self.assignee = Some(r),
                    _ => self.submitter = Some(r),
                }
            }
            "group" => {
                only_eq(key)?;
                self.group = Some(named_ref(&value_lc, GroupId));
            }
            "organization" | "org" => {
                only_eq(key)?;
                self.organization = Some(named_ref(&value_lc, OrganizationId));
            }
            "created" | "updated" => {
                if negated {
                    return Err(SearchError(format!("'-{key}' is not supported")));
                }
                let day = NaiveDate::parse_from_str(value, "%Y-%m-%d")
                    .map_err(|_| SearchError(format!("'{value}' is not a date (YYYY-MM-DD)")))?;
                let start =
                    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"));
                let end = start + chrono::Duration::days(1);
                let (after, before) = match key {
                    "created" => (&mut self.created_after, &mut self.created_before),
                    _ => (&mut self.updated_after, &mut self.updated_before),
                };
                // Bounds are inclusive-after, exclusive-before.
                match op {
                    Op::Eq => {
                        *after = Some(start);
                        *before = Some(end);
                    }
                    Op::Gt => *after = Some(end),
                    Op::Ge => *after = Some(start),
                    Op::Lt => *before = Some(start),
                    Op::Le => *before = Some(end),
                }
            }
            "subject" | "description" | "comment" => {
                only_eq(key)?;
                self.text.push(value_lc);
            }
            other => return Err(SearchError(format!("Unknown search keyword '{other}'"))),
        }
        Ok(())
    }
}

/// The values of an ordered enum that satisfy `value op pivot`, or its negation.
fn select<T: Copy + Ord>(all: &[T], pivot: T, op: Op, negated: bool) -> Vec<T> {
    all.iter()
        .copied()
        .filter(|v| {
            let hit = match op {
                Op::Eq => *v == pivot,
                Op::Lt => *v < pivot,
                Op::Gt => *v > pivot,
                Op::Le => *v <= pivot,
                Op::Ge => *v >= pivot,
            };
            hit != negated
        })
        .collect()
}

fn intersect<T: PartialEq>(slot: &mut Option<Vec<T>>, chosen: Vec<T>) {
    *slot = Some(match slot.take() {
        None => chosen,
        Some(prev) => prev.into_iter().filter(|v| chosen.contains(v)).collect(),
    });
}

fn user_ref(value: &str, me: UserId) -> UserRef {
    match value {
        "me" => UserRef::Id(me),
        "none" => UserRef::None,
        v if v.contains('@') => UserRef::Email(v.to_owned()),
        v => match v.parse::<i64>() {
            Ok(id) => UserRef::Id(UserId(id)),
            Err(_) => UserRef::Name(v.to_owned()),
        },
    }
}

fn named_ref<Id>(value: &str, make: fn(i64) -> Id) -> NamedRef<Id> {
    match value {
        "none" => NamedRef::None,
        v => match v.parse::<i64>() {
            Ok(id) => NamedRef::Id(make(id)),
            Err(_) => NamedRef::Name(v.to_owned()),
        },
    }
}

/// Which users a user search returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    pub roles: Option<Vec<Role>>,
    pub organization_id: Option<OrganizationId>,
    /// Each must appear (case-insensitively) in the name or email.
    pub text: Vec<String>,
}

impl UserFilter {
    /// Builds a user filter from a `type:user` query.
    pub fn from_query(query: &SearchQuery) -> Result<Self, SearchError> {
        let mut f = UserFilter::default();
        for (negated, term) in &query.terms {
            if *negated {
                return Err(SearchError(
                    "Excluding terms is not supported in user searches".into(),
                ));
            }
            match term {
                Term::Text(t) => f.text.push(t.to_lowercase()),
                Term::Field {
                    key,
                    op: Op::Eq,
                    value,
                } if key == "role" => {
                    let role = Role::parse(&value.to_lowercase())
                        .ok_or_else(|| SearchError(format!("Unknown role '{value}'")))?;
                    intersect(&mut f.roles, vec![role]);
                }
                Term::Field {
                    key,
                    op: Op::Eq,
                    value,
                } if key == "email" || key == "name" => f.text.push(value.to_lowercase()),
                Term::Field {
                    key,
                    op: Op::Eq,
                    value,
                } if key == "organization" => {
                    let id = value.parse().map_err(|_| {
                        SearchError("'organization' takes an id in user searches".into())
                    })?;
                    f.organization_id = Some(OrganizationId(id));
                }
                Term::Field { key, .. } => {
                    return Err(SearchError(format!(
                        "Unknown search keyword '{key}' for users"
                    )))
                }
            }
        }
        Ok(f)
    }
}

/// How to order a list of tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketSort {
    #[default]
    Id,
    CreatedAt,
    UpdatedAt,
    Status,
    Priority,
    TicketType,
    Subject,
}

impl TicketSort {
    /// Parses Zendesk's `sort_by` values.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "id" => TicketSort::Id,
            "created_at" => TicketSort::CreatedAt,
            "updated_at" => TicketSort::UpdatedAt,
            "status" => TicketSort::Status,
            "priority" => TicketSort::Priority,
            "ticket_type" | "type" => TicketSort::TicketType,
            "subject" => TicketSort::Subject,
            _ => return None,
        })
    }
}

/// A page of a list: by offset (Zendesk's `page`/`per_page`) or by cursor
/// (`page[size]`/`page[after]`), which pages on id and ignores the sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Offset {
        offset: u64,
        limit: u32,
    },
    /// Rows with ids strictly after (ascending) or before (descending) `after`.
    Cursor {
        after: Option<i64>,
        limit: u32,
        descending: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(q: &str) -> TicketFilter {
        TicketFilter::from_query(&SearchQuery::parse(q).unwrap(), UserId(7)).unwrap()
    }

    #[test]
    fn parses_types_statuses_and_text() {
        let q =
            SearchQuery::parse(r#"type:ticket status<solved "refund request" printer"#).unwrap();
        assert_eq!(q.result_type, Some(ResultType::Ticket));
        let f = TicketFilter::from_query(&q, UserId(1)).unwrap();
        assert_eq!(
            f.statuses,
            Some(vec![
                TicketStatus::New,
                TicketStatus::Open,
                TicketStatus::Pending,
                TicketStatus::Hold
            ])
        );
        assert_eq!(f.text, ["refund request", "printer"]);
    }

    #[test]
    fn negation_and_intersection() {
        let f = filter("status:open -status:open");
        assert_eq!(f.statuses, Some(vec![]));
        let f = filter("-tags:Spam tags:vip");
        assert_eq!(f.tags_none, ["spam"]);
        assert_eq!(f.tags_all, ["vip"]);
    }

    #[test]
    fn people_references() {
        let f = filter("assignee:me requester:Ann@Example.com submitter:none");
        assert_eq!(f.assignee, Some(UserRef::Id(UserId(7))));
        assert_eq!(f.requester, Some(UserRef::Email("ann@example.com".into())));
        assert_eq!(f.submitter, Some(UserRef::None));
    }

    #[test]
    fn dates_are_day_ranges() {
        let f = filter("created>2024-01-02");
        assert_eq!(
            f.created_after.unwrap().to_rfc3339(),
            "2024-01-03T00:00:00+00:00"
        );
    }

    #[test]
    fn clear_errors() {
        for bad in [
            "status:bogus",
            "\"open",
            "frobnicate:1",
            "type:widget",
            "created:yesterday",
            "-assignee:me",
        ] {
            let parsed =
                SearchQuery::parse(bad).and_then(|q| TicketFilter::from_query(&q, UserId(1)));
            assert!(parsed.is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn type_names_a_ticket_type_too() {
        let f = filter("type:incident");
        assert_eq!(f.types, Some(vec![Some(TicketType::Incident)]));
    }
}
