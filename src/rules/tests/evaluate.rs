//! Evaluation of the Docker example: open, auth-required, undetermined, catch-all, not
//! this, failing requests, and the fetch plan (each request once, lazily).

use super::*;
use crate::finding::{DataSet, Exposure, Inventory};
use crate::rules::Reply;

fn docker() -> Rule {
    rule(DOCKER, "probes/docker-engine.toml")
}

#[test]
fn open_docker_lists_containers_with_evidence() {
    let mut replay = Replay::new()
        .at("/version", Reply::json(DOCKER_VERSION))
        .at(
            "/containers/json?all=1&limit=1000",
            Reply::json(DOCKER_CONTAINERS),
        );
    let found = identified(run(&docker(), &mut replay, &EvalOptions::default()));
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "docker-engine-open");
    assert_eq!(
        found.summary,
        "Docker Engine 19.03.12 answers without credentials: 2 containers"
    );
    assert_eq!(found.version.as_deref(), Some("19.03.12"));
    assert_eq!(
        found.details,
        vec![("containers".to_string(), "2".to_string())]
    );
    assert_eq!(found.user, None);
    assert_eq!(
        found.matched,
        vec![
            "GET /version: status is 200",
            "GET /version: json /ApiVersion is a string",
            "GET /version: json /GoVersion is a string",
            "GET /containers/json?all=1&limit=1000: status is 200",
            "GET /containers/json?all=1&limit=1000: json document is an array",
        ]
    );
    let set = |name: &str| DataSet {
        name: name.to_string(),
        ..DataSet::default()
    };
    assert_eq!(
        found.inventory,
        Some(Inventory {
            unit: "container".to_string(),
            items: vec![set("/boring_feynman"), set("/coolName")],
            total_items: 2,
            user_items: 2,
            total_documents: None,
            total_size_bytes: None,
            truncated: false,
        })
    );
    // Each request once, the decoy after identification, nothing else.
    assert_eq!(
        asked(&replay),
        vec![
            "GET /version".to_string(),
            decoy_line(&replay),
            "GET /containers/json?all=1&limit=1000".to_string(),
        ]
    );
    let headers = &replay.requests()[0].headers;
    assert_eq!(
        headers,
        &vec![("Accept".to_string(), "application/json".to_string())]
    );
}

#[test]
fn refused_listing_is_auth_required_without_inventory() {
    let mut replay = Replay::new()
        .at("/version", Reply::json(DOCKER_VERSION))
        .at(
            "/containers/json?all=1&limit=1000",
            Reply::new(403, r#"{"message":"forbidden"}"#),
        );
    let found = identified(run(&docker(), &mut replay, &EvalOptions::default()));
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "docker-engine-auth-required");
    assert_eq!(
        found.summary,
        "Docker Engine refuses the API without a client certificate"
    );
    assert_eq!(found.inventory, None);
    assert_eq!(found.details, vec![]);
    assert_eq!(
        found.matched.last().map(String::as_str),
        Some("GET /containers/json?all=1&limit=1000: status is one of 401, 403")
    );
}

#[test]
fn a_listing_that_is_no_array_is_undetermined() {
    let mut replay = Replay::new()
        .at("/version", Reply::json(DOCKER_VERSION))
        .at(
            "/containers/json?all=1&limit=1000",
            Reply::json(r#"{"message":"page not found"}"#),
        );
    let found = identified(run(&docker(), &mut replay, &EvalOptions::default()));
    assert_eq!(found.exposure, None);
    assert_eq!(found.check, "docker-engine-undetermined");
    assert_eq!(
        found.summary,
        "Docker Engine API 19.03.12 answers, but no verdict held"
    );
    assert_eq!(found.inventory, None);
    assert_eq!(found.matched.len(), 3);
}

#[test]
fn a_server_that_answers_every_path_alike_is_a_catch_all() {
    let mut replay = Replay::new().otherwise(Reply::json(DOCKER_VERSION));
    match run(&docker(), &mut replay, &EvalOptions::default()) {
        Evaluation::CatchAll { note } => assert_eq!(
            note,
            format!(
                "the decoy {} satisfies every identify matcher of docker-engine: the server \
                 answers any path alike",
                decoy_line(&replay)
            )
        ),
        other => panic!("expected CatchAll, got {other:?}"),
    }
    // The listing is never asked for.
    assert_eq!(
        asked(&replay),
        vec!["GET /version".to_string(), decoy_line(&replay)]
    );
}

#[test]
fn a_plain_404_is_not_this_and_stops_at_the_first_matcher() {
    let mut replay = Replay::new();
    match run(&docker(), &mut replay, &EvalOptions::default()) {
        Evaluation::NotThis { note } => {
            assert_eq!(
                note,
                "GET /version: status is 200 does not hold (status 404)"
            )
        }
        other => panic!("expected NotThis, got {other:?}"),
    }
    assert_eq!(asked(&replay), vec!["GET /version".to_string()]);
}

#[test]
fn a_json_200_without_the_fields_is_not_this() {
    let mut replay = Replay::new().at("/version", Reply::json(r#"{"ApiVersion":1.40}"#));
    match run(&docker(), &mut replay, &EvalOptions::default()) {
        Evaluation::NotThis { note } => assert_eq!(
            note,
            "GET /version: json /ApiVersion is a string does not hold (status 200)"
        ),
        other => panic!("expected NotThis, got {other:?}"),
    }
}

#[test]
fn a_failing_request_is_named_in_the_note() {
    let mut replay = Replay::new().failing("/version", "connection refused");
    match run(&docker(), &mut replay, &EvalOptions::default()) {
        Evaluation::NotThis { note } => {
            assert_eq!(note, "GET /version: failed (connection refused)")
        }
        other => panic!("expected NotThis, got {other:?}"),
    }
}

#[test]
fn a_failing_listing_is_undetermined_not_auth_required() {
    let mut replay = Replay::new()
        .at("/version", Reply::json(DOCKER_VERSION))
        .failing("/containers/json?all=1&limit=1000", "timed out");
    let found = identified(run(&docker(), &mut replay, &EvalOptions::default()));
    assert_eq!(found.exposure, None);
    assert_eq!(found.details, vec![]);
}

#[test]
fn a_listing_cut_at_max_body_is_not_open() {
    let big = format!("[{}]", vec![r#"{"Names":["/x"]}"#; 5000].join(","));
    let mut replay = Replay::new()
        .at("/version", Reply::json(DOCKER_VERSION))
        .at("/containers/json?all=1&limit=1000", Reply::json(&big));
    let found = identified(run(&docker(), &mut replay, &EvalOptions::default()));
    assert_eq!(found.exposure, None);
    assert_eq!(found.inventory, None);
}

#[test]
fn the_evaluation_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let rule = docker();
    let mut replay = Replay::new();
    let options = EvalOptions::default();
    let future = evaluate(&rule, &mut replay, &options);
    assert_send(&future);
}
