//! `.zcliignore`: which files packaging leaves out.
//!
//! zcli hands each line to minimatch as an *ignore* pattern, matched against
//! a file's path relative to the app root. That is not gitignore: a pattern is
//! anchored at the root and must match the whole path, `*` never crosses a
//! `/`, and naming a folder (`node_modules`) does not ignore the files in it
//! (`node_modules/**` does). globset with literal separators has the same
//! rules for `*`, `?`, `**`, `[…]` and `{a,b}`; a leading `!` negates the
//! pattern, as in minimatch.

use globset::{Glob, GlobBuilder, GlobMatcher};

/// The parsed rules of one `.zcliignore`.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    patterns: Vec<(GlobMatcher, bool)>,
    /// Lines that are not valid globs; they match nothing (minimatch is just
    /// as forgiving), and packaging tells the user about them.
    pub invalid_lines: Vec<String>,
}

impl IgnoreRules {
    /// Parses the file's text: CRLF or LF lines, trimmed; blank lines and
    /// `#` comments are skipped.
    pub fn parse(text: &str) -> IgnoreRules {
        let mut rules = IgnoreRules::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negated, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            match build(pattern) {
                Ok(glob) => rules.patterns.push((glob.compile_matcher(), negated)),
                Err(_) => rules.invalid_lines.push(line.to_owned()),
            }
        }
        rules
    }

    /// Whether the file at `path` (relative, `/`-separated) is ignored.
    pub fn is_ignored(&self, path: &str) -> bool {
        self.patterns
            .iter()
            .any(|(m, negated)| m.is_match(path) != *negated)
    }
}

fn build(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimatch_like_semantics() {
        let rules = IgnoreRules::parse(
            "# comment\r\n\r\n*.md\r\nnode_modules/**\n  src/**/*.ts  \nbuild\n",
        );
        assert!(rules.is_ignored("README.md"));
        assert!(
            !rules.is_ignored("docs/guide.md"),
            "* does not cross folders"
        );
        assert!(rules.is_ignored("node_modules/a/b.js"));
        assert!(rules.is_ignored("src/a/b/c.ts"));
        assert!(rules.is_ignored("src/c.ts"));
        assert!(
            !rules.is_ignored("build/x.js"),
            "a bare folder name does not ignore its files"
        );
        assert!(!rules.is_ignored("assets/main.js"));
    }

    #[test]
    fn negation_and_braces() {
        let rules = IgnoreRules::parse("assets/*.{map,ts}\n");
        assert!(rules.is_ignored("assets/main.js.map"));
        assert!(rules.is_ignored("assets/x.ts"));
        assert!(!rules.is_ignored("assets/x.js"));
        let neg = IgnoreRules::parse("!manifest.json\n");
        assert!(neg.is_ignored("assets/x.js"));
        assert!(!neg.is_ignored("manifest.json"));
    }
}
