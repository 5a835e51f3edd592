//! Odd and hostile replies: the engine never panics, never keeps control characters or
//! long values, and reads server numbers as u64 or not at all.

use super::*;
use crate::rules::Reply;

const LISTING: &str = r#"
id = "listing"
name = "Listing"
service = "listing"

[requests.info]
path = "/info"

[requests.list]
path = "/list"

[identify]
matchers = [
  { request = "info", json = "/product", equals = "listing" },
  { request = "info", header = "x-listing" },
]

[[verdict]]
exposure = "open"
summary = "{product} lists {n} sets"
matchers = [ { request = "list", json = "/sets", type = "object" } ]

[[extract]]
name = "product"
request = "info"
json = "/name"

[[extract]]
name = "n"
request = "list"
json = "/sets"
count = true

[inventory]
request = "list"
unit = "set"
items = "/sets"
documents = "/docs"
size = "/bytes"
system = ["_system", ".hidden*"]
"#;

fn info(name: &str) -> Reply {
    Reply::json(&format!(r#"{{"product":"listing","name":{name}}}"#)).header("x-listing", "1")
}

#[test]
fn inventory_counts_all_keeps_some_and_saturates() {
    let rule = rule(LISTING, "listing.toml");
    let list = r#"{"sets":{"a":{"docs":18446744073709551615,"bytes":10},"b":{"docs":5,"bytes":-3},"_system":{"docs":1.5},".hidden-x":{"docs":"12"},"c":{"docs":"99999999999999999999999"}}}"#;
    let mut replay = Replay::new()
        .at("/info", info("\"Li\\u0007sting\""))
        .at("/list", Reply::json(list));
    let options = EvalOptions {
        max_items: 2,
        ..EvalOptions::default()
    };
    let found = identified(run(&rule, &mut replay, &options));
    assert_eq!(found.summary, "Listing lists 5 sets");
    let inv = found.inventory.expect("an inventory");
    // serde_json keeps object keys sorted: .hidden-x, _system, a, b, c.
    let names: Vec<&str> = inv.items.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec![".hidden-x", "_system"]);
    assert_eq!(inv.total_items, 5);
    assert_eq!(inv.user_items, 3);
    assert!(inv.truncated);
    assert_eq!(inv.items[0].documents, Some(12));
    assert!(inv.items[0].system && inv.items[1].system);
    assert_eq!(inv.items[1].documents, None);
    assert_eq!(inv.total_documents, Some(u64::MAX));
    assert_eq!(inv.total_size_bytes, Some(10));
}

#[test]
fn extracted_values_are_clipped_and_cleaned() {
    let rule = rule(LISTING, "listing.toml");
    let long = format!("\"{}\\n{}\"", "x".repeat(150), "y".repeat(150));
    let mut replay = Replay::new()
        .at("/info", info(&long))
        .at("/list", Reply::json(r#"{"sets":{}}"#));
    let found = identified(run(&rule, &mut replay, &EvalOptions::default()));
    let product = &found.details[0];
    assert_eq!(product.0, "product");
    assert_eq!(product.1.chars().count(), 200);
    assert!(!product.1.contains('\n'));
    assert_eq!(found.inventory.map(|i| i.total_items), Some(0));
}

#[test]
fn odd_replies_never_panic_nor_open() {
    let rule = rule(LISTING, "listing.toml");
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\xff\xfe\x00garbage".to_vec(),
        b"{\"sets\":".to_vec(),
        b"null".to_vec(),
        b"{\"sets\":[1,2,3]}".to_vec(),
        b"{\"sets\":\"many\"}".to_vec(),
        "[".repeat(10_000).into_bytes(),
        b"{\"sets\":{\"\":{}}}".to_vec(),
    ];
    for body in bodies {
        let mut replay = Replay::new().at("/info", info("1e400")).at(
            "/list",
            Reply::new(200, body.clone()).header("content-type", "application/json"),
        );
        let found = run(&rule, &mut replay, &EvalOptions::default());
        if let Evaluation::Identified(found) = found {
            let open = found.exposure == Some(crate::finding::Exposure::Open);
            let object = body.starts_with(b"{\"sets\":{");
            assert_eq!(open, object, "{}", String::from_utf8_lossy(&body));
        }
    }
}
