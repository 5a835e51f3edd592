//! Names the server gave that the probe sends back: database names (OP_MSG `$db`, the
//! OP_QUERY namespace `<db>.$cmd`) and collection names (`listIndexes`). A name is only
//! ever sent as a [`DbName`] or a [`CollectionName`], and those exist only after
//! validation, so no path can splice an unchecked name into a request: before this a
//! pre-3.6 database called `users.customers` became the namespace `users.customers.$cmd`
//! (issue 5, "Trustworthy before wider").
//!
//! The rules are MongoDB's own naming restrictions (manual, "Naming Restrictions"):
//! database names are non-empty, under 64 bytes and free of `/\. "$*<>:|?` and NUL (the
//! Windows set, a superset of the Unix one); collection names are non-empty, at most 255
//! bytes, free of NUL, and start with neither `$` nor `system.`. A real server never lists
//! a database that breaks them, so a name that does is listed in the inventory but never
//! sent, and the evidence says why.

use std::fmt;

use super::bson_read::Text;

/// Database names are shorter than this many bytes.
const DB_NAME_LIMIT: usize = 64;
/// Characters a database name may not hold (MongoDB on Windows; Unix forbids a subset).
const DB_NAME_FORBIDDEN: &[char] = &['/', '\\', '.', ' ', '"', '$', '*', '<', '>', ':', '|', '?'];
/// Longest collection name sent, in bytes.
const COLLECTION_NAME_MAX: usize = 255;

/// Why a name is not sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameError {
    /// The empty string.
    Empty,
    /// Longer than the limit, in bytes.
    TooLong { bytes: usize, max: usize },
    /// Holds a character MongoDB forbids in this kind of name.
    Forbidden(char),
    /// Holds a NUL byte.
    Nul,
    /// Starts with a reserved prefix (`$`, `system.`).
    Reserved(&'static str),
    /// Not valid UTF-8: the text we could read is not the server's name.
    NotUtf8,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("empty"),
            NameError::TooLong { bytes, max } => {
                write!(f, "{bytes} bytes, more than {max}")
            }
            NameError::Forbidden(c) => write!(f, "contains {c:?}"),
            NameError::Nul => f.write_str("contains NUL"),
            NameError::Reserved(prefix) => write!(f, "starts with {prefix:?}"),
            NameError::NotUtf8 => f.write_str("not valid UTF-8"),
        }
    }
}

/// A database name that may go into a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DbName<'a>(&'a str);

impl DbName<'static> {
    /// `admin`, where the handshake and `listDatabases` go.
    pub(super) const ADMIN: DbName<'static> = DbName("admin");
}

impl<'a> DbName<'a> {
    /// Checks `name` against MongoDB's database naming restrictions.
    pub(super) fn parse(name: &'a str) -> Result<DbName<'a>, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() >= DB_NAME_LIMIT {
            return Err(NameError::TooLong {
                bytes: name.len(),
                max: DB_NAME_LIMIT - 1,
            });
        }
        if name.contains('\0') {
            return Err(NameError::Nul);
        }
        if let Some(c) = name.chars().find(|c| DB_NAME_FORBIDDEN.contains(c)) {
            return Err(NameError::Forbidden(c));
        }
        Ok(DbName(name))
    }

    /// The name as sent.
    pub(super) fn as_str(self) -> &'a str {
        self.0
    }
}

/// A collection name that may go into a `listIndexes` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CollectionName<'a>(&'a str);

impl<'a> CollectionName<'a> {
    /// Checks `name` against MongoDB's collection naming restrictions.
    pub(super) fn parse(name: &'a str) -> Result<CollectionName<'a>, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > COLLECTION_NAME_MAX {
            return Err(NameError::TooLong {
                bytes: name.len(),
                max: COLLECTION_NAME_MAX,
            });
        }
        if name.contains('\0') {
            return Err(NameError::Nul);
        }
        for prefix in ["$", "system."] {
            if name.starts_with(prefix) {
                return Err(NameError::Reserved(prefix));
            }
        }
        Ok(CollectionName(name))
    }

    /// The name as sent.
    pub(super) fn as_str(self) -> &'a str {
        self.0
    }
}

/// A name as read from a reply, kept as it may be sent back (exact and valid) or with the
/// reason it may not. Only valid names are copied, so a kept name is as small as the
/// limits make it.
pub(super) fn sendable(
    text: &Text<'_>,
    check: fn(&str) -> Result<(), NameError>,
) -> Result<String, NameError> {
    match text {
        Text::Exact(name) => check(name).map(|()| name.to_string()),
        Text::Lossy(_) => Err(NameError::NotUtf8),
    }
}

/// [`DbName::parse`] as a check for [`sendable`].
pub(super) fn check_db(name: &str) -> Result<(), NameError> {
    DbName::parse(name).map(|_| ())
}

/// [`CollectionName::parse`] as a check for [`sendable`].
pub(super) fn check_collection(name: &str) -> Result<(), NameError> {
    CollectionName::parse(name).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_follow_mongodb_restrictions() {
        for good in ["shop", "admin", "a", "x-y_z", "données", &"d".repeat(63)] {
            assert_eq!(
                DbName::parse(good).map(DbName::as_str),
                Ok(good),
                "{good:?}"
            );
        }
        let cases: &[(&str, NameError)] = &[
            ("", NameError::Empty),
            ("users.customers", NameError::Forbidden('.')),
            ("a/b", NameError::Forbidden('/')),
            ("a\\b", NameError::Forbidden('\\')),
            ("a b", NameError::Forbidden(' ')),
            ("a\"b", NameError::Forbidden('"')),
            ("a$b", NameError::Forbidden('$')),
            ("a*b", NameError::Forbidden('*')),
            ("a<b", NameError::Forbidden('<')),
            ("a>b", NameError::Forbidden('>')),
            ("a:b", NameError::Forbidden(':')),
            ("a|b", NameError::Forbidden('|')),
            ("a?b", NameError::Forbidden('?')),
            ("a\0b", NameError::Nul),
        ];
        for (bad, why) in cases {
            assert_eq!(DbName::parse(bad), Err(*why), "{bad:?}");
        }
        assert_eq!(
            DbName::parse(&"d".repeat(64)),
            Err(NameError::TooLong { bytes: 64, max: 63 })
        );
        // 32 two-byte characters are 64 bytes: the limit is in bytes.
        assert!(DbName::parse(&"é".repeat(32)).is_err());
    }

    #[test]
    fn collection_names_follow_mongodb_restrictions() {
        for good in ["orders", "a.b", "a$b", "_x", &"c".repeat(255)] {
            assert!(CollectionName::parse(good).is_ok(), "{good:?}");
        }
        assert_eq!(CollectionName::parse(""), Err(NameError::Empty));
        assert_eq!(CollectionName::parse("a\0b"), Err(NameError::Nul));
        assert_eq!(CollectionName::parse("$cmd"), Err(NameError::Reserved("$")));
        assert_eq!(
            CollectionName::parse("system.views"),
            Err(NameError::Reserved("system."))
        );
        assert_eq!(
            CollectionName::parse(&"c".repeat(256)),
            Err(NameError::TooLong {
                bytes: 256,
                max: 255
            })
        );
    }

    #[test]
    fn lossy_text_is_never_sendable() {
        assert_eq!(
            sendable(&Text::Lossy("a\u{fffd}".into()), check_db),
            Err(NameError::NotUtf8)
        );
        assert_eq!(sendable(&Text::Exact("shop"), check_db), Ok("shop".into()));
        assert_eq!(
            NameError::Forbidden('.').to_string(),
            "contains '.'".to_string()
        );
    }
}
