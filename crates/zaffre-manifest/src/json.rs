//! A JSON reader that keeps key order and refuses nothing silently.
//!
//! `serde_json::Value` keeps the *last* of two equal keys and, without the
//! `preserve_order` feature, sorts object keys. Zendesk treats a repeated key
//! anywhere in `manifest.json` as an error and reports problems in document
//! order, so we parse into our own [`Json`] tree: serde_json still does the
//! tokenizing (and its syntax errors carry line and column), but our
//! [`Visitor`] builds the objects, in order, and records
//! every duplicate with its JSON path instead of dropping it.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A parsed JSON value whose objects keep their keys in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    /// Key–value pairs in document order; keys are unique (duplicates are
    /// reported by [`parse`] and only the first occurrence is kept).
    Object(Vec<(String, Json)>),
}

/// A key that appeared more than once in the same object.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateKey {
    /// JSON path of the object holding the key, e.g. `$.location.support`.
    pub object_path: String,
    pub key: String,
    /// The first value, rendered compactly.
    pub original: String,
    /// The value that tried to replace it, rendered compactly.
    pub attempted: String,
}

/// The outcome of [`parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub value: Json,
    pub duplicates: Vec<DuplicateKey>,
}

/// Parses `text` as one JSON document.
///
/// Syntax errors (including nesting deeper than serde_json's limit of 128)
/// come back as `Err` with serde_json's message, which names line and column.
pub fn parse(text: &str) -> Result<Parsed, serde_json::Error> {
    let mut duplicates = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let value = ValueSeed {
        path: "$".to_owned(),
        duplicates: &mut duplicates,
    }
    .deserialize(&mut de)?;
    // Trailing characters after the document are a syntax error too.
    de.end()?;
    Ok(Parsed { value, duplicates })
}

/// Parses bytes, refusing invalid UTF-8 with a readable message.
pub fn parse_bytes(bytes: &[u8]) -> Result<Parsed, String> {
    // A UTF-8 byte-order mark is common in files saved by Windows editors and harmless.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text =
        std::str::from_utf8(bytes).map_err(|e| format!("the file is not valid UTF-8 ({e})"))?;
    parse(text).map_err(|e| e.to_string())
}

/// Carries the current path and the duplicate list down the tree.
struct ValueSeed<'a> {
    path: String,
    duplicates: &'a mut Vec<DuplicateKey>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        // serde_json never hands us a non-finite float, but stay total anyway.
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        loop {
            let path = format!("{}[{}]", self.path, items.len());
            match seq.next_element_seed(ValueSeed {
                path,
                duplicates: &mut *self.duplicates,
            })? {
                Some(v) => items.push(v),
                None => return Ok(Json::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut pairs: Vec<(String, Json)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = join_path(&self.path, &key);
            let value = map.next_value_seed(ValueSeed {
                path,
                duplicates: &mut *self.duplicates,
            })?;
            // Objects in a manifest are small; a linear scan beats hashing here.
            if let Some((_, original)) = pairs.iter().find(|(k, _)| *k == key) {
                self.duplicates.push(DuplicateKey {
                    object_path: self.path.clone(),
                    key,
                    original: original.to_compact(),
                    attempted: value.to_compact(),
                });
            } else {
                pairs.push((key, value));
            }
        }
        Ok(Json::Object(pairs))
    }
}

/// Appends an object key to a JSON path: `$.a.b`, or `$["odd key"]` when the
/// key is not a plain identifier.
pub fn join_path(base: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!("{base}.{key}")
    } else {
        format!("{base}[{}]", serde_json::Value::String(key.to_owned()))
    }
}

impl Json {
    /// The value of `key` when `self` is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Like [`Json::get`], but treats an explicit `null` as absent, which is
    /// how Zendesk reads optional manifest fields.
    pub fn get_present(&self, key: &str) -> Option<&Json> {
        self.get(key).filter(|v| !matches!(v, Json::Null))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    /// A short name of the JSON type, for messages: "a string", "an array"…
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// Converts to a `serde_json::Value` (key order is then serde_json's).
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            Json::Null => serde_json::Value::Null,
            Json::Bool(b) => serde_json::Value::Bool(*b),
            Json::Number(n) => serde_json::Value::Number(n.clone()),
            Json::String(s) => serde_json::Value::String(s.clone()),
            Json::Array(a) => serde_json::Value::Array(a.iter().map(Json::to_value).collect()),
            Json::Object(o) => serde_json::Value::Object(
                o.iter().map(|(k, v)| (k.clone(), v.to_value())).collect(),
            ),
        }
    }

    /// Compact JSON text, cut to 80 characters so a huge value cannot flood a message.
    pub fn to_compact(&self) -> String {
        let mut s = self.to_value().to_string();
        if s.chars().count() > 80 {
            s = s.chars().take(77).collect::<String>() + "...";
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_reports_duplicates_at_any_depth() {
        let p = parse(r#"{"b": 1, "a": {"x": 1, "x": [2]}, "b": "two"}"#).unwrap();
        let keys: Vec<_> = p
            .value
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(p.duplicates.len(), 2);
        assert_eq!(p.duplicates[0].object_path, "$.a");
        assert_eq!(p.duplicates[0].key, "x");
        assert_eq!(p.duplicates[0].attempted, "[2]");
        assert_eq!(p.duplicates[1].object_path, "$");
        assert_eq!(p.duplicates[1].original, "1");
    }

    #[test]
    fn rejects_trailing_garbage_and_deep_nesting() {
        assert!(parse("{} x").is_err());
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn paths_quote_unusual_keys() {
        assert_eq!(join_path("$", "a b"), "$[\"a b\"]");
        assert_eq!(join_path("$", "defaultLocale"), "$.defaultLocale");
    }
}
