//! Compiles `[requests.NAME]`: methods and the read-only rule, paths, headers, credentials,
//! and the placeholders each request uses, which order the requests it depends on.

use std::collections::BTreeMap;

use super::Cx;
use crate::rules::error::Field;
use crate::rules::model::{Creds, Extractor, ReqSpec, Target};
use crate::rules::raw::RawRequest;
use crate::rules::template::Template;

/// Default bytes read of a reply.
const DEFAULT_MAX_BODY: u64 = 65_536;
/// The most a probe may ask to read of one reply.
const MAX_BODY: u64 = 8 << 20;
/// Headers the engine or the client sets; a probe may not.
const RESERVED_HEADERS: [&str; 6] = [
    "host",
    "cookie",
    "authorization",
    "content-length",
    "content-type",
    "transfer-encoding",
];

impl Cx<'_> {
    /// Request names in file order (the spanned tree knows it; the map is sorted).
    pub(super) fn request_order(&self, raw: &BTreeMap<String, RawRequest>) -> Vec<String> {
        let mut order: Vec<(usize, String)> = raw.keys().map(|k| (usize::MAX, k.clone())).collect();
        if let Some(table) = self
            .loc
            .root()
            .and_then(|r| r.get("requests"))
            .and_then(|r| r.get_ref().as_table())
        {
            for (key, value) in table.iter() {
                if let Some(slot) = order.iter_mut().find(|(_, k)| k == key.get_ref()) {
                    slot.0 = key.span().start.min(value.span().start);
                }
            }
        }
        order.sort();
        order.into_iter().map(|(_, k)| k).collect()
    }

    /// Compiles every request, without placeholders checked (that needs the extractors).
    pub(super) fn requests(
        &mut self,
        names: &[String],
        raw: &BTreeMap<String, RawRequest>,
        has_credentials: bool,
    ) -> Vec<ReqSpec> {
        let mut out = Vec::new();
        for name in names {
            let Some(r) = raw.get(name) else { continue };
            let field = Field::top("requests").key(name);
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                self.err(&field, "a request name is letters, digits, '_' and '-'");
            }
            if name == "decoy" {
                self.err(
                    &field,
                    "`decoy` is the built-in request to a path no product serves",
                );
            }
            out.push(self.request(name, r, &field, has_credentials));
        }
        out
    }

    fn request(
        &mut self,
        name: &str,
        r: &RawRequest,
        field: &Field,
        has_credentials: bool,
    ) -> ReqSpec {
        let method = r.method.clone().unwrap_or_else(|| "GET".to_string());
        let read_only = r
            .read_only
            .as_deref()
            .is_some_and(|why| !why.trim().is_empty());
        match method.as_str() {
            "GET" | "HEAD" => {
                if r.read_only.is_some() {
                    self.err(&field.key("read_only"), "`read_only` explains a POST");
                }
            }
            "POST" if read_only || r.login => {}
            "POST" => self.err(
                &field.key("method"),
                "a POST needs `read_only = \"why it changes nothing\"` or `login = true`",
            ),
            _ => self.err(
                &field.key("method"),
                "use GET or HEAD (POST needs read_only or login)",
            ),
        }
        if !r.path.starts_with('/') || r.path.starts_with("//") {
            self.err(
                &field.key("path"),
                "a path starts with one '/' (it is relative to the base)",
            );
        } else if r
            .path
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '#')
        {
            self.err(
                &field.key("path"),
                "percent-encode spaces, control characters and '#'",
            );
        }
        if r.body.is_some() && method != "POST" {
            self.err(&field.key("body"), "only a POST has a body");
        }
        if r.content_type.is_some() && r.body.is_none() {
            self.err(
                &field.key("content_type"),
                "`content_type` goes with `body`",
            );
        }
        let max_body = r.max_body.unwrap_or(DEFAULT_MAX_BODY);
        if !(1..=MAX_BODY).contains(&max_body) {
            self.err(&field.key("max_body"), format!("use 1 to {MAX_BODY} bytes"));
        }
        let creds = match (r.auth.as_deref(), r.login) {
            (None, false) => Creds::None,
            (None, true) => Creds::Login,
            (Some("basic"), false) => Creds::Basic,
            (Some("basic"), true) => {
                self.err(
                    &field.key("login"),
                    "use `auth = \"basic\"` or `login = true`, not both",
                );
                Creds::Login
            }
            (Some(_), _) => {
                self.err(&field.key("auth"), "the only auth is \"basic\"");
                Creds::Basic
            }
        };
        if creds != Creds::None && !has_credentials {
            let key = if r.login { "login" } else { "auth" };
            self.err(
                &field.key(key),
                "a request with credentials needs [[credentials]] pairs",
            );
        }
        let mut headers = Vec::new();
        for (header, value) in &r.headers {
            let hfield = field.key("headers").key(header);
            if header.is_empty() || !header.bytes().all(is_token_byte) {
                self.err(&hfield, "not a valid header name");
            } else if RESERVED_HEADERS.contains(&header.to_ascii_lowercase().as_str()) {
                self.err(
                    &hfield,
                    "ajar sets this header (use `auth`, `cookies` or `content_type`)",
                );
            }
            if value.chars().any(|c| c.is_control()) {
                self.err(&hfield, "a header value has no control characters");
            }
            headers.push((header.clone(), Template::parse(value)));
        }
        ReqSpec {
            name: name.to_string(),
            method,
            path: Template::parse(&r.path),
            headers,
            body: r.body.as_deref().map(Template::parse),
            content_type: r.content_type.clone(),
            max_body: usize::try_from(max_body.clamp(1, MAX_BODY)).unwrap_or(65_536),
            creds,
            cookies: r.cookies,
            deps: Vec::new(),
        }
    }

    /// Checks every request's placeholders and fills `deps`, refusing cycles.
    pub(super) fn placeholders(&mut self, requests: &mut [ReqSpec], extractors: &[Extractor]) {
        let mut edges: Vec<Vec<usize>> = Vec::new();
        for spec in requests.iter() {
            let field = Field::top("requests").key(&spec.name);
            let mut mine = Vec::new();
            let mut places: Vec<(Field, &Template)> = vec![(field.key("path"), &spec.path)];
            if let Some(body) = &spec.body {
                places.push((field.key("body"), body));
            }
            for (name, value) in &spec.headers {
                places.push((field.key("headers").key(name), value));
            }
            for (place, template) in places {
                for var in template.vars() {
                    if var == "user" || var == "password" {
                        if spec.creds == Creds::None {
                            self.err(
                                &place,
                                format!("{{{var}}} goes in a request with `auth` or `login`"),
                            );
                        }
                    } else if let Some(e) = extractors.iter().find(|e| e.name == var) {
                        if let Target::Named(i) = e.target
                            && !mine.contains(&i)
                        {
                            mine.push(i);
                        }
                    } else {
                        self.err(
                            &place,
                            format!("{{{var}}} names no extractor (nor user or password)"),
                        );
                    }
                }
            }
            edges.push(mine);
        }
        let names: Vec<String> = requests.iter().map(|r| r.name.clone()).collect();
        for (i, spec) in requests.iter_mut().enumerate() {
            let mut order = Vec::new();
            let mut stack = Vec::new();
            if !visit(i, &edges, &mut stack, &mut order) {
                let cycle: Vec<&str> = stack
                    .iter()
                    .filter_map(|j| names.get(*j).map(String::as_str))
                    .collect();
                let field = Field::top("requests").key(&spec.name);
                self.err(
                    &field,
                    format!(
                        "requests wait for each other's extractors: {}",
                        cycle.join(" -> ")
                    ),
                );
                continue;
            }
            order.retain(|j| *j != i);
            spec.deps = order;
        }
    }
}

/// Depth-first post-order of `node`'s prerequisites; false on a cycle.
fn visit(
    node: usize,
    edges: &[Vec<usize>],
    stack: &mut Vec<usize>,
    order: &mut Vec<usize>,
) -> bool {
    if stack.contains(&node) {
        stack.push(node);
        return false;
    }
    if order.contains(&node) {
        return true;
    }
    stack.push(node);
    for next in edges.get(node).map(Vec::as_slice).unwrap_or_default() {
        if !visit(*next, edges, stack, order) {
            return false;
        }
    }
    stack.pop();
    order.push(node);
    true
}

/// RFC 9110 token characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
