//! Tests of the ticket rules: parsing, applying and auditing changes.

use serde_json::json;

use super::*;

fn field(id: i64, field_type: FieldType, required: bool) -> TicketField {
    let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    TicketField {
        id: TicketFieldId(id),
        account_id: AccountId(1),
        field_type,
        title: format!("Field {id}"),
        description: String::new(),
        active: true,
        required,
        position: id,
        options: vec![FieldOption {
            id: FieldOptionId(1),
            name: "Gold".into(),
            value: "gold".into(),
        }],
        created_at: epoch,
        updated_at: epoch,
    }
}

fn fields() -> Vec<TicketField> {
    vec![
        field(10, FieldType::Integer, false),
        field(11, FieldType::Tagger, true),
        field(12, FieldType::Checkbox, false),
        field(13, FieldType::Date, false),
        field(1, FieldType::Status, false),
    ]
}

fn ticket() -> Ticket {
    let new = NewTicket {
        subject: "Printer on fire".into(),
        description: "Help".into(),
        status: TicketStatus::Open,
        priority: None,
        ticket_type: None,
        requester_id: UserId(2),
        submitter_id: UserId(2),
        assignee_id: None,
        group_id: None,
        organization_id: None,
        tags: vec!["printer".into()],
        custom_fields: vec![],
    };
    probe_ticket(&new, TicketStatus::Open)
}

fn parse(v: serde_json::Value) -> Result<TicketPatch, ValidationErrors> {
    TicketPatch::parse(v.as_object().unwrap(), &fields())
}

#[test]
fn collects_every_problem_with_its_attribute() {
    let err = parse(json!({"status": "bogus", "priority": 3, "assignee_id": "x", "custom_fields": [{"id": 10, "value": "abc"}]}))
        .unwrap_err();
    let attrs: Vec<&str> = err.errors.iter().map(|e| e.attribute.as_str()).collect();
    assert_eq!(attrs, ["status", "priority", "assignee_id", "base"]);
    assert_eq!(err.errors[3].field_key, Some(TicketFieldId(10)));
}

#[test]
fn custom_values_are_normalized() {
    let p = parse(json!({"custom_fields": [{"id": 10, "value": 42}, {"id": 12, "value": "true"}, {"id": 13, "value": "2024-02-29"}]}))
        .unwrap();
    let values: Vec<_> = p.custom_fields.iter().map(|c| c.value.clone()).collect();
    assert_eq!(values, [json!("42"), json!(true), json!("2024-02-29")]);
    assert!(parse(json!({"custom_fields": [{"id": 13, "value": "2023-02-29"}]})).is_err());
    assert!(parse(json!({"custom_fields": [{"id": 11, "value": "silver"}]})).is_err());
    assert!(
        parse(json!({"custom_fields": [{"id": 1, "value": "open"}]})).is_err(),
        "system fields are not custom"
    );
}

#[test]
fn update_records_one_event_per_changed_property() {
    let patch = parse(json!({"status": "pending", "priority": "high", "subject": "Printer on fire", "additional_tags": ["urgent"]}))
        .unwrap();
    let applied = apply_update(&ticket(), &patch, &fields()).unwrap();
    let names: Vec<String> = applied
        .events
        .iter()
        .map(|e| match e {
            AuditEvent::Change { field_name, .. } => field_name.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(names, ["status", "priority", "tags"]);
    assert_eq!(applied.ticket.tags, ["printer", "urgent"]);
}

#[test]
fn solving_needs_required_fields_and_closed_is_final() {
    let err = apply_update(
        &ticket(),
        &parse(json!({"status": "solved"})).unwrap(),
        &fields(),
    )
    .unwrap_err();
    assert_eq!(err.errors[0].field_key, Some(TicketFieldId(11)));
    let ok =
        parse(json!({"status": "solved", "custom_fields": [{"id": 11, "value": "gold"}]})).unwrap();
    assert!(apply_update(&ticket(), &ok, &fields()).is_ok());

    let mut closed = ticket();
    closed.status = TicketStatus::Closed;
    assert!(apply_update(&closed, &parse(json!({"subject": "x"})).unwrap(), &fields()).is_err());
}

#[test]
fn create_needs_a_description_and_derives_the_subject() {
    assert!(build_new(
        &parse(json!({"subject": "x"})).unwrap(),
        UserId(1),
        &fields()
    )
    .is_err());
    let (t, events) = build_new(
        &parse(json!({"comment": {"body": "My screen is blank\nsince today"}})).unwrap(),
        UserId(1),
        &fields(),
    )
    .unwrap();
    assert_eq!(t.subject, "My screen is blank");
    assert_eq!(t.status, TicketStatus::New);
    assert_eq!(t.requester_id, UserId(1));
    assert!(matches!(&events[0], AuditEvent::Create { field_name, .. } if field_name == "subject"));
}

#[test]
fn unchecking_a_checkbox_removes_it() {
    let mut t = ticket();
    t.custom_fields = vec![CustomFieldValue {
        id: TicketFieldId(12),
        value: json!(true),
    }];
    let applied = apply_update(
        &t,
        &parse(json!({"custom_fields": [{"id": 12, "value": false}]})).unwrap(),
        &fields(),
    )
    .unwrap();
    assert!(applied.ticket.custom_fields.is_empty());
    assert_eq!(applied.events.len(), 1);
}
