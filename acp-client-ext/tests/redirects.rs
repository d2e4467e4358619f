//! Redirects across two loopback ports (two origins): credentials and sensitive headers never
//! cross to another origin, a same-origin redirect keeps them, `301`/`302`/`303` answers to a
//! `POST` are errors naming the redirect, `307`/`308` repeat the method and body.

mod support;

use acp_client_ext::{AcpClient, Error, types};
use axum::http::{Method, StatusCode};
use support::loopback::{ID, json, redirect, seen, serve};
use support::{T, fast_retries};

#[tokio::test]
async fn credentials_never_cross_origins_on_a_redirect() {
    let (other, other_log) = serve(|_, _| json(StatusCode::NOT_FOUND, r#""no agent here""#)).await;
    let (origin, origin_log) = serve(move |_, s| {
        if s.path.starts_with("/agents/") && !s.path.ends_with("/same") {
            redirect(302, format!("http://{other}{}", s.path))
        } else {
            json(StatusCode::NOT_FOUND, r#""gone""#)
        }
    })
    .await;
    let client = AcpClient::builder(format!("http://{origin}"))
        .api_key("sk-secret")
        .bearer_token("tok-secret")
        .sensitive_header("x-tenant-token", "t-secret")
        .header("x-tenant", "acme")
        .retry(fast_retries())
        .build()
        .unwrap();
    let err = tokio::time::timeout(T, client.get_agent(ID))
        .await
        .unwrap()
        .unwrap_err();
    // The answer of the other origin, named by its host:port.
    assert_eq!(err.status(), Some(reqwest::StatusCode::NOT_FOUND), "{err}");
    assert!(err.to_string().contains(&other.to_string()), "{err}");
    let at_origin = seen(&origin_log);
    assert_eq!(at_origin.len(), 1);
    assert_eq!(at_origin[0].headers["x-api-key"], "sk-secret");
    let at_other = seen(&other_log);
    assert_eq!(at_other.len(), 1, "the redirect was followed once");
    let h = &at_other[0].headers;
    for secret in ["x-api-key", "authorization", "x-tenant-token"] {
        assert!(
            !h.contains_key(secret),
            "{secret} crossed to the other origin: {h:?}"
        );
    }
    assert_eq!(h["x-tenant"], "acme", "plain headers go along");
    assert_eq!(at_other[0].path, format!("/agents/{ID}"));
}

#[tokio::test]
async fn a_same_origin_redirect_keeps_the_credentials() {
    let (origin, log) = serve(|n, s| match n {
        0 => redirect(307, format!("{}/same", s.path)),
        _ => json(StatusCode::NOT_FOUND, r#""gone""#),
    })
    .await;
    let client = AcpClient::builder(format!("http://{origin}"))
        .api_key("sk-secret")
        .build()
        .unwrap();
    let err = client.get_agent(ID).await.unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::NOT_FOUND));
    let s = seen(&log);
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].path, format!("/agents/{ID}/same"));
    assert_eq!(s[1].headers["x-api-key"], "sk-secret");
}

#[tokio::test]
async fn answers_301_302_303_to_a_post_are_errors_naming_the_redirect() {
    for status in [301u16, 302, 303] {
        let (other, other_log) = serve(|_, _| json(StatusCode::OK, "[]")).await;
        let (origin, _) =
            serve(move |_, s| redirect(status, format!("http://{other}{}", s.path))).await;
        let client = AcpClient::builder(format!("http://{origin}"))
            .build()
            .unwrap();
        let err = client.search_agents().await.unwrap_err();
        match &err {
            Error::Redirect {
                operation,
                status: s,
                location,
                ..
            } => {
                assert_eq!(*operation, "search_agents");
                assert_eq!(s.as_u16(), status);
                assert!(location.contains(&other.to_string()), "{location}");
            }
            other => panic!("{status}: expected Error::Redirect, got {other:?}"),
        }
        assert!(err.to_string().contains("redirect"), "{err}");
        assert!(
            seen(&other_log).is_empty(),
            "{status}: nothing sent to the target"
        );
    }
}

#[tokio::test]
async fn answers_307_and_308_repeat_the_same_method_and_body() {
    for status in [307u16, 308] {
        let (other, other_log) = serve(|_, _| json(StatusCode::OK, "[]")).await;
        let (origin, origin_log) =
            serve(move |_, s| redirect(status, format!("http://{other}{}", s.path))).await;
        let client = AcpClient::builder(format!("http://{origin}"))
            .build()
            .unwrap();
        let request = types::AgentSearchRequest {
            name: Some("echo".into()),
            ..Default::default()
        };
        let agents = client.search_agents_with(request).await.unwrap();
        assert!(agents.is_empty());
        let first = &seen(&origin_log)[0];
        let again = &seen(&other_log)[0];
        assert_eq!(again.method, Method::POST, "{status}");
        assert_eq!(again.path, "/agents/search");
        assert_eq!(again.body, first.body, "{status}: the same body");
        assert!(!first.body.is_empty());
    }
}
