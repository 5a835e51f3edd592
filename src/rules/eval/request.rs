//! Building and sending one request of a rule: placeholders filled (and encoded for their
//! place), the credential pair and cookies applied, the evidence line written without the
//! password, and every reply cached for the evaluation.

use std::sync::Arc;

use super::Run;
use crate::rules::extract::{self, clip};
use crate::rules::matcher::Got;
use crate::rules::model::Creds;
use crate::rules::template::Encoding;
use crate::rules::{Fetched, Fetcher, Request};

/// The most cookies kept per evaluation, and the longest value kept.
const MAX_COOKIES: usize = 32;
const MAX_COOKIE_LEN: usize = 4096;

impl<F: Fetcher + Send> Run<'_, F> {
    /// Sends a request once per evaluation, keeping cookies its reply sets.
    pub(super) async fn send(&mut self, request: Request) -> Arc<Got> {
        if let Some(got) = self.cache.get(&request) {
            return got.clone();
        }
        let fetched = self.fetcher.fetch(&request).await;
        if let Fetched::Reply(reply) = &fetched {
            for (name, value) in &reply.headers {
                if name.eq_ignore_ascii_case("set-cookie") {
                    self.keep_cookie(value);
                }
            }
        }
        let got = Got::new(fetched, request.shown.clone());
        self.cache.insert(request, got.clone());
        got
    }

    fn keep_cookie(&mut self, header: &str) {
        let pair = header.split(';').next().unwrap_or("");
        let Some((name, value)) = pair.split_once('=') else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        let bad = |s: &str| s.chars().any(|c| c.is_control() || c == ';' || c == ',');
        if name.is_empty() || bad(name) || bad(value) || value.len() > MAX_COOKIE_LEN {
            return;
        }
        if let Some(slot) = self.jar.iter_mut().find(|(n, _)| n == name) {
            slot.1 = value.to_string();
        } else if self.jar.len() < MAX_COOKIES {
            self.jar.push((name.to_string(), value.to_string()));
        }
    }

    /// The concrete request for a named request under the current pair and values, or
    /// (what evidence shows, why it cannot be sent).
    pub(super) fn build(&self, index: usize) -> Result<Request, (String, String)> {
        let Some(spec) = self.rule.requests.get(index) else {
            return Err((String::new(), "no such request".to_string()));
        };
        let pair = self.pair.and_then(|p| self.rule.credentials.get(p));
        let template_shown = format!(
            "{} {}",
            spec.method,
            spec.path
                .render_or(&|v: &str| Some(format!("{{{v}}}")), "?")
        );
        if spec.creds != Creds::None {
            if !self.options.default_credentials {
                return Err((
                    template_shown,
                    "sends credentials: only under --default-credentials".to_string(),
                ));
            }
            if pair.is_none() {
                return Err((
                    template_shown,
                    "sends credentials, but no pair is being tried".to_string(),
                ));
            }
        }
        let lookup = |var: &str| -> Option<String> {
            match var {
                "user" => pair.map(|c| c.user.clone()),
                "password" => pair.map(|c| c.password.clone()),
                _ => {
                    let e = self.rule.extractors.iter().find(|e| e.name == var)?;
                    extract::extract(&e.how, &*self.got(e.target)?)
                }
            }
        };
        let missing = |var: String| (template_shown.clone(), format!("no value for {{{var}}}"));
        let path = spec
            .path
            .render(&lookup, Encoding::Percent)
            .map_err(missing)?;
        let body_encoding = match &spec.content_type {
            Some(ct) if ct.to_ascii_lowercase().contains("json") => Encoding::Json,
            _ => Encoding::Percent,
        };
        let body = match &spec.body {
            Some(body) => Some(body.render(&lookup, body_encoding).map_err(missing)?),
            None => None,
        };
        let mut headers = Vec::new();
        for (name, value) in &spec.headers {
            headers.push((
                name.clone(),
                value.render(&lookup, Encoding::Plain).map_err(missing)?,
            ));
        }
        if spec.cookies && !self.jar.is_empty() {
            let cookie: Vec<String> = self.jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
            headers.push(("Cookie".to_string(), cookie.join("; ")));
        }
        let shown_path = spec.path.render_or(
            &|v: &str| {
                if v == "password" {
                    Some("{password}".to_string())
                } else {
                    lookup(v)
                }
            },
            "?",
        );
        let user = pair.map(|c| clip(&c.user)).unwrap_or_default();
        let shown = match spec.creds {
            Creds::None => format!("{} {shown_path}", spec.method),
            Creds::Basic => format!("{} {shown_path} as {user}", spec.method),
            Creds::Login => format!("{} {shown_path} (login as {user})", spec.method),
        };
        Ok(Request {
            method: spec.method.clone(),
            path,
            headers,
            body,
            content_type: spec.content_type.clone(),
            basic_auth: match (spec.creds, pair) {
                (Creds::Basic, Some(c)) => Some((c.user.clone(), c.password.clone())),
                _ => None,
            },
            max_body: spec.max_body,
            send_cookies: spec.cookies,
            shown,
        })
    }
}
