//! RabbitMQ management (`rabbitmq-management`): captured 3.10.8, the pre-3.9 whoami.

use super::*;

fn rabbitmq(whoami: Reply) -> Replay {
    let challenge = || {
        Reply::new(401, "")
            .header("www-authenticate", "Basic realm=\"RabbitMQ Management\"")
            .header("server", "Cowboy")
    };
    Replay::new()
        .at(
            "/",
            Reply::new(200, fx("rabbitmq-management/3.10.8-root.html").as_str())
                .header("content-type", "text/html")
                .header("server", "Cowboy"),
        )
        .at_method("GET", "/api/whoami", whoami)
        .at("/api/overview", challenge())
        .otherwise(
            Reply::new(404, fx("rabbitmq-management/3.10.8-404.json").as_str())
                .header("content-type", "application/json"),
        )
}

#[tokio::test]
async fn rabbitmq_3_10_without_credentials_is_auth_required() {
    let (found, replay) = identified(
        "rabbitmq-management",
        rabbitmq(Reply::new(401, "")),
        &options(),
    )
    .await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "rabbitmq-management-auth-required");
    assert_eq!(found.summary, "RabbitMQ management requires credentials");
    assert_eq!(found.version, None);
    assert!(replay.requests().iter().all(|r| r.path != "/api/whoami"));
}

const RABBITMQ_OVERVIEW_LOGIN: &str = "/api/overview?columns=rabbitmq_version,object_totals.queues,object_totals.connections,queue_totals.messages";

#[tokio::test]
async fn rabbitmq_3_10_accepts_guest_guest_from_loopback() {
    let replay = rabbitmq(json("rabbitmq-management/3.10.8-whoami-guest.json")).at(
        RABBITMQ_OVERVIEW_LOGIN,
        json("rabbitmq-management/3.10.8-overview-columns-guest.json"),
    );
    let (found, replay) = identified("rabbitmq-management", replay, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(found.check, "rabbitmq-management-default-credentials");
    assert_eq!(found.user.as_deref(), Some("guest"));
    assert_eq!(found.version.as_deref(), Some("3.10.8"));
    assert_eq!(
        found.summary,
        "RabbitMQ 3.10.8 management accepts the default login guest (administrator): 2 queues, 3 messages"
    );
    assert_eq!(detail(&found, "connections"), Some("0"));
    let sent = replay.requests();
    assert!(sent.iter().all(|r| r.method == "GET"));
    let whoami = sent
        .iter()
        .find(|r| r.path == "/api/whoami")
        .expect("whoami sent");
    assert_eq!(
        whoami.basic_auth,
        Some(("guest".to_string(), "guest".to_string()))
    );
    assert!(
        !whoami.shown.contains("guest:guest")
            && !format!("{found:?}").contains("\"guest\", \"guest\"")
    );
}

#[tokio::test]
async fn rabbitmq_before_3_9_reports_tags_as_a_string() {
    let (found, _) = identified(
        "rabbitmq-management",
        rabbitmq(json("rabbitmq-management/3.8-whoami-guest.json")),
        &with_credentials(),
    )
    .await;
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(detail(&found, "tags"), Some("administrator"));
    assert_eq!(found.version, None);
}

#[tokio::test]
async fn rabbitmq_guest_refused_remotely_or_a_wrong_pair_is_auth_required() {
    for body in ["3.x-guest-remote-401.json", "3.10.8-login-failed-401.json"] {
        let refusal = Reply::new(401, fx(&format!("rabbitmq-management/{body}")).as_str())
            .header("content-type", "application/json")
            .header("www-authenticate", "Basic realm=\"RabbitMQ Management\"");
        let (found, _) = identified(
            "rabbitmq-management",
            rabbitmq(refusal),
            &with_credentials(),
        )
        .await;
        assert_eq!(found.exposure, Some(Exposure::AuthRequired), "{body}");
        assert_eq!(found.user, None);
    }
}

#[tokio::test]
async fn a_copy_of_the_rabbitmq_ui_page_everywhere_is_no_rabbitmq() {
    let page = fx("rabbitmq-management/3.10.8-root.html");
    let make = || Replay::new().otherwise(Reply::html(&page));
    let (evaluation, _) = run("rabbitmq-management", make(), &options()).await;
    assert!(
        matches!(evaluation, Evaluation::NotThis { .. }),
        "{evaluation:?}"
    );
    no_probe_opens(make).await;
}
