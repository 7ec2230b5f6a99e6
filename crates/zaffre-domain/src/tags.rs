//! Tag normalization.
//!
//! Zendesk treats a space-separated string as several tags and compares tags
//! case-insensitively, so zaffre stores them lowercase, split and de-duplicated.
//! Every path that accepts tags (tickets, organizations, search) goes through
//! [`normalize`] so that `VIP`, ` vip` and `vip` are the same tag everywhere.

/// The longest tag accepted; longer ones are refused rather than truncated.
pub const MAX_TAG_LEN: usize = 80;

/// Splits, lowercases and de-duplicates tags, keeping first-seen order.
///
/// Returns the offending tag when one is too long or contains a control
/// character, so the caller can report it.
pub fn normalize<'a, I>(raw: I) -> Result<Vec<String>, String>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut out: Vec<String> = Vec::new();
    for chunk in raw {
        for tag in chunk.split(|c: char| c.is_whitespace() || c == ',') {
            if tag.is_empty() {
                continue;
            }
            if tag.chars().count() > MAX_TAG_LEN || tag.chars().any(char::is_control) {
                return Err(tag.to_owned());
            }
            let tag = tag.to_lowercase();
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lowercases_and_dedupes() {
        let tags = normalize(["VIP billing", "vip", " refund,Billing "]).unwrap();
        assert_eq!(tags, ["vip", "billing", "refund"]);
    }

    #[test]
    fn refuses_overlong_and_control_characters() {
        let long = "x".repeat(MAX_TAG_LEN + 1);
        assert_eq!(normalize([long.as_str()]), Err(long));
        assert!(normalize(["a\u{7}b"]).is_err());
    }
}
