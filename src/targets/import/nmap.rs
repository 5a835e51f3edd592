//! `nmap -oX` files as targets, read as a stream of XML events in bounded memory.
//!
//! The shape is nmap's DTD (`docs/nmap.dtd` in nmap/nmap; nmap.org/book/
//! output-formats-xml-output.html): a `<?xml?>` declaration, `<!DOCTYPE nmaprun>` (nmap
//! 7.x, from `xml_start_document` in `xml.cc`), maybe `<?xml-stylesheet?>` and a comment,
//! then the `<nmaprun>` root holding `<host>` elements among `<scaninfo>`, `<taskbegin>`,
//! `<hosthint>` (7.80+, a host found up, with addresses but no ports), `<runstats>`.
//! Each `<host>` has `<status state="up|down|...">`, `<address addr= addrtype="ipv4|
//! ipv6|mac">` and `<ports>` of `<extraports>` and `<port protocol= portid=>` each with
//! a `<state state="open|closed|filtered|...">`.
//!
//! A host is taken when its status is `up` (or it has none: masscan's `-oX` writes none,
//! and labels IPv6 addresses `ipv4`), from its first IP address, never a host name or a
//! MAC address; each `tcp` port whose state is exactly `open` becomes a target. A host
//! counts only once its `</host>` is read, so a file cut off by an interrupted scan
//! yields its complete hosts and no error. `--resume` appends a second `<nmaprun>` inside
//! the unclosed first one; hosts in either are read.
//!
//! quick-xml resolves only the five predefined entities and character references: an
//! entity declared in a DOCTYPE is never expanded, and using one is an error.

use std::io::BufRead;

use quick_xml::XmlVersion;
use quick_xml::errors::IllFormedError;
use quick_xml::events::{BytesStart, Event};

use super::{Bounded, endpoint_text, unreadable};
use crate::targets::TargetError;

/// Deepest element nesting accepted (nmap's script tables nest a few levels).
const MAX_DEPTH: usize = 64;

/// Where an element sits, for the few that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Run,
    Host,
    Ports,
    Port,
    Other,
}

/// What is known of the `<host>` being read.
#[derive(Debug)]
struct HostSoFar {
    up: bool,
    addr: Option<String>,
    open: Vec<String>,
}

/// What is known of the `<port>` being read: whether it is TCP, its number, whether open.
#[derive(Debug)]
struct PortSoFar {
    tcp: bool,
    portid: String,
    open: bool,
}

/// Reads `nmap -oX` output and calls `add(origin, "ADDR:PORT")` per open TCP port;
/// `origin` is `NAME host N`, N counting `<host>` elements from 1.
pub(crate) fn read<R: BufRead>(
    name: &str,
    reader: &mut Bounded<R>,
    add: &mut dyn FnMut(&str, &str) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    let mut xml = quick_xml::Reader::from_reader(reader);
    xml.config_mut().check_end_names = true;
    let mut buf = Vec::with_capacity(1024);
    let mut stack: Vec<Place> = Vec::with_capacity(16);
    let mut root_seen = false;
    let mut hosts = 0usize;
    let mut host: Option<HostSoFar> = None;
    let mut port: Option<PortSoFar> = None;
    let syntax = |e: &dyn std::fmt::Display, at: u64| {
        unreadable(name, format!("not well-formed XML at byte {at}: {e}"))
    };
    loop {
        buf.clear();
        xml.get_mut().mark();
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(error) => {
                if let Some(limit) = xml.get_ref().limit_error(name, "an XML tag or text") {
                    return Err(limit);
                }
                // The input ended inside a tag, comment, reference or character: an
                // interrupted scan. Complete hosts are in; a partial one is dropped.
                let cut_short = matches!(
                    error,
                    quick_xml::Error::Syntax(_)
                        | quick_xml::Error::Encoding(_)
                        | quick_xml::Error::IllFormed(IllFormedError::UnclosedReference)
                ) && xml.get_mut().fill_buf().is_ok_and(|rest| rest.is_empty());
                return match error {
                    _ if cut_short && root_seen => Ok(()),
                    _ if cut_short => Err(not_nmap(name, "the file ends first")),
                    quick_xml::Error::Io(e) => Err(unreadable(name, e.to_string())),
                    other => Err(syntax(&other, xml.error_position())),
                };
            }
        };
        let (start, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                match stack.pop() {
                    Some(Place::Port) => finish_port(&mut host, port.take()),
                    Some(Place::Host) => {
                        finish_host(name, hosts, host.take(), add)?;
                    }
                    _ => {}
                }
                continue;
            }
            Event::Eof if root_seen => return Ok(()),
            Event::Eof => return Err(not_nmap(name, "there is no <nmaprun> element")),
            _ => continue,
        };
        let at = xml.buffer_position();
        let tag = start.local_name();
        let tag = tag.as_ref();
        if !root_seen {
            if tag != "nmaprun" {
                return Err(not_nmap(
                    name,
                    &format!("the root element is <{}>", crate::sanitize::clip(tag, 40)),
                ));
            }
            root_seen = true;
        }
        let parent = stack.last().copied();
        let place = match (tag, parent) {
            ("nmaprun", _) => {
                // `--resume` appends a new run, possibly inside a host cut short.
                host = None;
                port = None;
                Place::Run
            }
            ("host", Some(Place::Run)) => {
                hosts = hosts.saturating_add(1);
                host = Some(HostSoFar {
                    up: true,
                    addr: None,
                    open: Vec::new(),
                });
                Place::Host
            }
            ("status", Some(Place::Host)) => {
                if let Some(h) = host.as_mut() {
                    h.up = attribute(start, "state")
                        .map_err(|e| syntax(&e, at))?
                        .as_deref()
                        == Some("up");
                }
                Place::Other
            }
            ("address", Some(Place::Host)) => {
                let kind = attribute(start, "addrtype").map_err(|e| syntax(&e, at))?;
                // The DTD's default type is ipv4.
                let ip = matches!(kind.as_deref(), None | Some("ipv4" | "ipv6"));
                if let Some(h) = host.as_mut().filter(|h| ip && h.addr.is_none()) {
                    h.addr = attribute(start, "addr").map_err(|e| syntax(&e, at))?;
                }
                Place::Other
            }
            ("ports", Some(Place::Host)) => Place::Ports,
            ("port", Some(Place::Ports)) => {
                let protocol = attribute(start, "protocol").map_err(|e| syntax(&e, at))?;
                port = Some(PortSoFar {
                    tcp: protocol.as_deref() == Some("tcp"),
                    portid: attribute(start, "portid")
                        .map_err(|e| syntax(&e, at))?
                        .unwrap_or_default(),
                    open: false,
                });
                Place::Port
            }
            ("state", Some(Place::Port)) => {
                if let Some(p) = port.as_mut() {
                    p.open = attribute(start, "state")
                        .map_err(|e| syntax(&e, at))?
                        .as_deref()
                        == Some("open");
                }
                Place::Other
            }
            _ => Place::Other,
        };
        if empty {
            match place {
                Place::Port => finish_port(&mut host, port.take()),
                Place::Host => {
                    finish_host(name, hosts, host.take(), add)?;
                }
                _ => {}
            }
        } else {
            if stack.len() >= MAX_DEPTH {
                return Err(unreadable(
                    name,
                    format!("XML nested deeper than {MAX_DEPTH} elements; not nmap output"),
                ));
            }
            stack.push(place);
        }
    }
}

/// The error for XML that is not nmap's.
fn not_nmap(name: &str, why: &str) -> TargetError {
    unreadable(
        name,
        format!(
            "not nmap XML output ({why}); -i reads target lists, nmap -oX and masscan -oJ, -oD or -oL files"
        ),
    )
}

/// An attribute's value with the predefined entities resolved, or `None` when absent.
fn attribute(start: &BytesStart<'_>, key: &str) -> Result<Option<String>, quick_xml::Error> {
    match start.try_get_attribute(key)? {
        Some(attr) => Ok(Some(
            attr.normalized_value(XmlVersion::Implicit1_0)?.into_owned(),
        )),
        None => Ok(None),
    }
}

/// Files a finished `<port>` with its host when it is an open TCP port.
fn finish_port(host: &mut Option<HostSoFar>, port: Option<PortSoFar>) {
    if let (Some(h), Some(p)) = (host.as_mut(), port)
        && p.tcp
        && p.open
    {
        h.open.push(p.portid);
    }
}

/// Adds the open ports of a finished `<host>` that is up.
fn finish_host(
    name: &str,
    number: usize,
    host: Option<HostSoFar>,
    add: &mut dyn FnMut(&str, &str) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    let Some(host) = host.filter(|h| h.up && !h.open.is_empty()) else {
        return Ok(());
    };
    let Some(addr) = host.addr else {
        return Err(unreadable(
            name,
            format!("host {number} has open ports but no ipv4 or ipv6 <address>"),
        ));
    };
    let origin = format!("{name} host {number}");
    for portid in &host.open {
        add(&origin, &endpoint_text(&origin, &addr, portid)?)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "nmap_tests.rs"]
mod tests;
