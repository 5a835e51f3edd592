//! A command's answer, split into success (`ok: 1`) or the error the server reported, and
//! the one place that decides whether an error means "credentials required" (MG-05, T-14).

use bson::RawDocument;

use super::bson_read::{integer, number, number_text, string};
use super::wire::Reply;
use crate::sanitize::clip;

/// `Unauthorized`: the code of every "requires authentication" answer (MG-05).
const UNAUTHORIZED: i64 = 13;
/// `AuthenticationFailed`.
const AUTHENTICATION_FAILED: i64 = 18;
/// `UnsupportedOpQueryCommand`: 5.1+ refusing a legacy OP_QUERY command (MG-06).
pub(super) const UNSUPPORTED_OP_QUERY: i64 = 352;

/// A command's answer: its document when `ok: 1`, or the error it reported.
pub(super) enum Answer<'a> {
    /// `ok: 1`, with the reply document.
    Ok(&'a RawDocument),
    /// Anything else.
    Error(CommandError),
}

/// A command error: `{ok: 0, errmsg, code, codeName}` (or OP_REPLY's `$err`).
#[derive(Debug, Clone, Default)]
pub(super) struct CommandError {
    pub(super) ok: String,
    pub(super) code: Option<i64>,
    pub(super) code_name: Option<String>,
    pub(super) errmsg: Option<String>,
}

impl CommandError {
    /// The whole error for the evidence: `ok 0, code 13 (Unauthorized): …`.
    pub(super) fn describe(&self) -> String {
        let mut text = format!("ok {}", self.ok);
        if let Some(code) = self.code {
            text.push_str(&format!(", code {code}"));
            if let Some(name) = &self.code_name {
                text.push_str(&format!(" ({})", clip(name, 60)));
            }
        }
        if let Some(message) = &self.errmsg {
            text.push_str(&format!(": {}", clip(message, 200)));
        }
        text
    }

    /// The error in a few words for a summary: `code 13 Unauthorized`.
    pub(super) fn short(&self) -> String {
        match (self.code, &self.code_name) {
            (Some(code), Some(name)) => format!("code {code} {}", clip(name, 40)),
            (Some(code), None) => format!("code {code}"),
            (None, _) => clip(self.errmsg.as_deref().unwrap_or("no code"), 80),
        }
    }

    /// Whether the server refused for lack of credentials. Decided on the code (13
    /// `Unauthorized`, 18 `AuthenticationFailed`) or code name, as the wording changed
    /// across versions (MG-05, T-14). Front ends that wrap errors in their own code, such
    /// as Atlas' `code: 8000, codeName: "AtlasError"` with errmsg `(Unauthorized) not
    /// authorized on admin …`, are recognised by the message, compared case-insensitively.
    pub(super) fn is_auth(&self) -> bool {
        if matches!(self.code, Some(UNAUTHORIZED | AUTHENTICATION_FAILED))
            || matches!(
                self.code_name.as_deref(),
                Some("Unauthorized" | "AuthenticationFailed")
            )
        {
            return true;
        }
        let message = self.errmsg.as_deref().unwrap_or("").to_ascii_lowercase();
        [
            "requires authentication",
            "not authorized",
            "unauthorized",
            "not allowed to do action",
        ]
        .iter()
        .any(|phrase| message.contains(phrase))
    }
}

/// Splits a reply into [`Answer::Ok`] (`ok: 1`, no OP_REPLY `QueryFailure`) or the error.
pub(super) fn answer(reply: &Reply) -> Answer<'_> {
    let doc = reply.document();
    if !reply.query_failure() && number(doc, "ok") == Some(1.0) {
        return Answer::Ok(doc);
    }
    Answer::Error(CommandError {
        ok: number_text(doc, "ok"),
        code: integer(doc, "code"),
        code_name: string(doc, "codeName"),
        errmsg: string(doc, "errmsg").or_else(|| string(doc, "$err")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_auth_errors_structurally() {
        let error = |code: Option<i64>, name: Option<&str>, msg: &str| CommandError {
            ok: "0".into(),
            code,
            code_name: name.map(str::to_string),
            errmsg: Some(msg.into()),
        };
        assert!(error(Some(13), None, "anything").is_auth());
        assert!(error(Some(18), None, "").is_auth());
        assert!(error(None, Some("Unauthorized"), "").is_auth());
        assert!(
            error(
                Some(8000),
                Some("AtlasError"),
                "(Unauthorized) not authorized on admin to execute command"
            )
            .is_auth()
        );
        assert!(
            error(
                Some(8000),
                Some("AtlasError"),
                "Command listDatabases requires authentication"
            )
            .is_auth()
        );
        assert!(
            !error(
                Some(13435),
                Some("NotPrimaryNoSecondaryOk"),
                "not master and slaveOk=false"
            )
            .is_auth()
        );
        assert!(
            !error(
                Some(8000),
                Some("AtlasError"),
                "Unallowed argument in listDatabases command: authorizedDatabases"
            )
            .is_auth()
        );
        assert_eq!(
            error(Some(11600), Some("InterruptedAtShutdown"), "x").short(),
            "code 11600 InterruptedAtShutdown"
        );
    }
}
