//! Validation errors in the shape Zendesk reports them.
//!
//! A rejected write answers 422 `RecordInvalid` with a `details` map from
//! attribute name to a list of errors; custom field errors go under `base` with
//! a `field_key`. The domain collects every problem of one request (not just the
//! first) so an agent sees all of them next to their fields at once.

use serde::Serialize;

use crate::ids::TicketFieldId;

/// What kind of problem a value has, as Zendesk names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorKind {
    /// The value is of the wrong type or not one of the allowed values.
    InvalidValue,
    /// A required value is missing or empty.
    BlankValue,
    /// The value is too long.
    TooLong,
    /// The value must be unique and another record already has it (an email, a name).
    DuplicateValue,
}

/// One problem with one attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// The attribute's API name (`status`, `assignee_id`) or `base` for custom fields.
    #[serde(skip)]
    pub attribute: String,
    /// A sentence for a person, starting with the field's title.
    pub description: String,
    pub error: ErrorKind,
    /// The custom field's id, when the problem is with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_key: Option<TicketFieldId>,
}

/// Every problem found in one write, in the order found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidationErrors {
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// Records a problem with a system attribute.
    pub fn add(&mut self, attribute: &str, error: ErrorKind, description: impl Into<String>) {
        self.errors.push(FieldError {
            attribute: attribute.to_owned(),
            description: description.into(),
            error,
            field_key: None,
        });
    }

    /// Records a problem with a custom field, filed under `base` as Zendesk does.
    pub fn add_custom(
        &mut self,
        field: TicketFieldId,
        error: ErrorKind,
        description: impl Into<String>,
    ) {
        self.errors.push(FieldError {
            attribute: "base".to_owned(),
            description: description.into(),
            error,
            field_key: Some(field),
        });
    }

    /// True when nothing was wrong.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(value)` when nothing was wrong, else the collected errors.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// A single-problem error, for the many places that find exactly one.
    pub fn single(attribute: &str, error: ErrorKind, description: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(attribute, error, description);
        errors
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let texts: Vec<&str> = self.errors.iter().map(|e| e.description.as_str()).collect();
        f.write_str(&texts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}
