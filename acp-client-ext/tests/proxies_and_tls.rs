//! Proxies and TLS, over loopback only.
//!
//! * A plain-HTTP forward proxy written here ([`support::relay::Relay::forward_proxy`]) in front of the
//!   reference server: requests go through it, it sees the proxy's credentials, the server
//!   does not, and the credentials are in no `Debug`, error or trace; `no_proxy` bypasses it;
//!   a redirect to another origin still drops the API key, through the proxy too; the proxy
//!   and identity read from the environment (`{prefix}PROXY`, `{prefix}CLIENT_CERT`, ...).
//! * A TLS listener made here with certificates generated here (`rcgen`), relaying to the
//!   reference server: one that requires a client certificate refuses a client without an
//!   identity and serves one with it; one whose certificate the client does not trust is
//!   refused by default and accepted with `ca_file` or `danger_accept_invalid_certs`. Run with
//!   each TLS backend (`cargo xtask test`: `rustls`, `rustls-ring`, `native-tls`); with
//!   native-tls a client certificate the server refuses is a request error, not a connect one.

mod support;

use acp_client_ext::{AcpClient, Error, RetryPolicy};
use acp_reference_server::ReferenceServer;
use support::relay::{Relay, base64, basic};

const PROXY_USER: &str = "proxy-user";
const PROXY_PASSWORD: &str = "pw-7c1f-proxy-secret";
const API_KEY: &str = "sk-api-key-4242";

fn assert_no_proxy_secret(what: &str, text: &str) {
    let encoded = base64(format!("{PROXY_USER}:{PROXY_PASSWORD}").as_bytes());
    assert!(
        !text.contains(PROXY_PASSWORD),
        "{what} shows the proxy password: {text}"
    );
    assert!(
        !text.contains(&encoded),
        "{what} shows the encoded proxy credentials: {text}"
    );
}

#[tokio::test]
async fn requests_go_through_the_proxy_which_alone_sees_its_credentials() {
    let (logs, _traces) = support::capture_traces();

    let server = ReferenceServer::start().await;
    let proxy = Relay::forward_proxy(Some(basic(PROXY_USER, PROXY_PASSWORD))).await;
    let proxy_addr = proxy.addr;

    // Credentials in the proxy URL, and given apart: the same on the wire.
    let in_url = AcpClient::builder(server.url())
        .api_key(API_KEY)
        .proxy(format!("http://{PROXY_USER}:{PROXY_PASSWORD}@{proxy_addr}"));
    let apart = AcpClient::builder(server.url())
        .api_key(API_KEY)
        .proxy(proxy.url())
        .proxy_basic_auth(PROXY_USER, PROXY_PASSWORD);
    for builder in [in_url, apart] {
        assert_no_proxy_secret("builder Debug", &format!("{builder:?}"));
        let client = builder.build().expect("client");
        assert_no_proxy_secret("client Debug", &format!("{client:?}"));
        assert_no_proxy_secret("client Debug (pretty)", &format!("{client:#?}"));
        assert!(format!("{client:?}").contains(&proxy_addr.to_string()));
        let agents = client
            .search_agents()
            .await
            .expect("agents through the proxy");
        assert!(!agents.is_empty());
    }

    let seen = proxy.seen();
    assert_eq!(
        seen.len(),
        2,
        "both requests went through the proxy: {seen:#?}"
    );
    assert_eq!(server.requests("POST", "/agents/search"), 2);
    for s in &seen {
        assert_eq!(
            s.request_line,
            format!("POST {}/agents/search HTTP/1.1", server.url()),
            "an absolute-URI request to the proxy"
        );
        assert_eq!(
            s.header("proxy-authorization"),
            Some(basic(PROXY_USER, PROXY_PASSWORD).as_str())
        );
        assert_eq!(s.header("x-api-key"), Some(API_KEY));
        let forwarded = s.forwarded.as_deref().expect("forwarded");
        assert!(
            forwarded.contains(API_KEY),
            "the API key reaches the server"
        );
        assert_no_proxy_secret("the request the server read", forwarded);
        assert!(!forwarded.contains("proxy-authorization"));
    }

    // Wrong proxy credentials: the proxy's 407, an error without the password.
    let err = AcpClient::builder(server.url())
        .proxy(proxy.url())
        .proxy_basic_auth(PROXY_USER, "wrong-password")
        .build()
        .expect("client")
        .search_agents()
        .await
        .expect_err("407");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(407), "{err}");
    assert!(!err.to_string().contains("wrong-password"));
    assert!(!format!("{err:?}").contains("wrong-password"));

    // A proxy that does not listen: a transport error that names neither credential.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let err = AcpClient::builder(server.url())
        .proxy(format!("http://{PROXY_USER}:{PROXY_PASSWORD}@{closed}"))
        .retry(RetryPolicy::none())
        .build()
        .expect("client")
        .search_agents()
        .await
        .expect_err("no proxy listens");
    assert!(err.is_connect(), "{err:?}");
    assert_no_proxy_secret("transport error Display", &err.to_string());
    assert_no_proxy_secret("transport error Debug", &format!("{err:?}"));

    // A proxy URL that cannot be used: refused at build, without echoing it.
    let err = AcpClient::builder(server.url())
        .proxy(format!("socks9://{PROXY_USER}:{PROXY_PASSWORD}@{closed}"))
        .build()
        .expect_err("not an http proxy");
    assert!(matches!(err, Error::Proxy { .. }), "{err:?}");
    assert_no_proxy_secret("proxy error Display", &err.to_string());
    assert_no_proxy_secret("proxy error Debug", &format!("{err:?}"));

    let traces = logs.text();
    assert!(
        traces.contains("acp_request"),
        "the subscriber captured the requests: {traces}"
    );
    assert_no_proxy_secret("TRACE output", &traces);
}

#[tokio::test]
async fn no_proxy_hosts_are_reached_directly() {
    let server = ReferenceServer::start().await;
    let proxy = Relay::forward_proxy(None).await;
    let client = AcpClient::builder(server.url())
        .proxy(proxy.url())
        .no_proxy("127.0.0.1")
        .build()
        .expect("client");
    client.search_agents().await.expect("agents");
    assert_eq!(server.requests("POST", "/agents/search"), 1);
    assert!(proxy.seen().is_empty(), "{:#?}", proxy.seen());

    // And without the list, the same client settings go through it.
    let client = AcpClient::builder(server.url())
        .proxy(proxy.url())
        .build()
        .expect("client");
    client.search_agents().await.expect("agents");
    assert_eq!(proxy.seen().len(), 1);
}

/// The redirect rules hold through a proxy: the hop to another origin goes through the proxy
/// too (the transport's second client has the proxy), without the API key.
#[tokio::test]
async fn a_redirect_to_another_origin_through_the_proxy_drops_the_api_key() {
    let server = ReferenceServer::start().await;
    let target = format!("{}/agents/search", server.url());
    let app = axum::Router::new().route(
        "/agents/search",
        axum::routing::post(move || {
            let target = target.clone();
            async move {
                (
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, target)],
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let redirector = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move { axum::serve(listener, app).await });

    let proxy = Relay::forward_proxy(Some(basic(PROXY_USER, PROXY_PASSWORD))).await;
    let client = AcpClient::builder(&redirector)
        .api_key(API_KEY)
        .proxy(proxy.url())
        .proxy_basic_auth(PROXY_USER, PROXY_PASSWORD)
        .build()
        .expect("client");
    let agents = client
        .search_agents()
        .await
        .expect("agents after the redirect");
    assert!(!agents.is_empty());
    task.abort();

    let seen = proxy.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert!(seen[0].request_line.contains(&redirector));
    assert_eq!(seen[0].header("x-api-key"), Some(API_KEY));
    assert!(seen[1].request_line.contains(&server.url()));
    assert_eq!(
        seen[1].header("x-api-key"),
        None,
        "no API key to another origin"
    );
    assert_eq!(
        seen[1].header("proxy-authorization"),
        Some(basic(PROXY_USER, PROXY_PASSWORD).as_str()),
        "the proxy's own credentials still go to the proxy"
    );
}

#[cfg(feature = "__tls")]
mod tls {
    use super::*;
    use rcgen::{CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    use std::net::SocketAddr;
    use std::sync::Arc;
    use tokio_rustls::rustls;

    /// A CA, a server certificate for `localhost`/`127.0.0.1` and a client certificate.
    pub struct Pki {
        pub ca_pem: String,
        pub server_cert: rustls::pki_types::CertificateDer<'static>,
        pub server_key: rustls::pki_types::PrivateKeyDer<'static>,
        /// The client's certificate and key, PEM.
        pub client_pem: String,
        pub client_cert_pem: String,
        pub client_key_pem: String,
    }

    pub fn pki() -> Pki {
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "acp-rs test CA");
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("key")).expect("ca");

        let server_key = KeyPair::generate().expect("key");
        let server = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("server params")
            .signed_by(&server_key, &ca)
            .expect("server cert");

        let client_key = KeyPair::generate().expect("key");
        let mut client = CertificateParams::new(Vec::<String>::new()).expect("client params");
        client
            .distinguished_name
            .push(DnType::CommonName, "acp-rs test client");
        client.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let client = client.signed_by(&client_key, &ca).expect("client cert");

        Pki {
            ca_pem: ca.pem(),
            server_cert: server.der().clone(),
            server_key: rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
            client_pem: format!("{}{}", client.pem(), client_key.serialize_pem()),
            client_cert_pem: client.pem(),
            client_key_pem: client_key.serialize_pem(),
        }
    }

    /// A TLS listener on 127.0.0.1 relaying each connection to `upstream` in the clear; with
    /// `client_ca`, it requires a client certificate issued by it.
    pub struct TlsListener {
        pub addr: SocketAddr,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for TlsListener {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    impl TlsListener {
        pub async fn start(pki: &Pki, client_ca: bool, upstream: SocketAddr) -> TlsListener {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .expect("protocol versions");
            let builder = if client_ca {
                let mut roots = rustls::RootCertStore::empty();
                use rustls::pki_types::pem::PemObject;
                for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pki.ca_pem.as_bytes())
                {
                    roots.add(cert.expect("ca pem")).expect("ca root");
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .expect("client verifier");
                builder.with_client_cert_verifier(verifier)
            } else {
                builder.with_no_client_auth()
            };
            let config = builder
                .with_single_cert(vec![pki.server_cert.clone()], pki.server_key.clone_key())
                .expect("server config");
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind tls");
            let addr = listener.local_addr().expect("addr");
            let task = tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                    });
                }
            });
            TlsListener { addr, task }
        }

        pub fn url(&self) -> String {
            format!("https://127.0.0.1:{}", self.addr.port())
        }
    }

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[tokio::test]
    async fn mutual_tls_needs_the_client_identity() {
        let server = ReferenceServer::start().await;
        let pki = pki();
        let tls = TlsListener::start(&pki, true, server.addr()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = write(&dir, "ca.pem", &pki.ca_pem);

        // Without an identity: the handshake is refused, a transport error.
        let err = AcpClient::builder(tls.url())
            .ca_file(&ca)
            .retry(RetryPolicy::none())
            .build()
            .expect("client")
            .search_agents()
            .await
            .expect_err("no client certificate");
        // TLS 1.3: the server's `certificate_required` alert comes after the client's side of
        // the handshake. With rustls it is told apart: a connect error (the server read
        // nothing). native-tls (OpenSSL here) reports it on the first read, as a request error;
        // either way nothing may have been created.
        assert!(
            matches!(
                err,
                Error::Transport {
                    may_have_created: false,
                    ..
                }
            ),
            "{err:?}"
        );
        #[cfg(feature = "__rustls")]
        {
            assert!(
                matches!(
                    err,
                    Error::Transport {
                        kind: acp_client_ext::TransportKind::Connect,
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(err.to_string().contains("CertificateRequired"), "{err}");
        }
        assert_eq!(server.requests("POST", "/agents/search"), 0);

        // With it (PEM in code, one file, or two files): served.
        let in_code = AcpClient::builder(tls.url())
            .ca_file(&ca)
            .identity_pem(pki.client_pem.as_bytes().to_vec());
        let one_file = AcpClient::builder(tls.url())
            .ca_file(&ca)
            .identity_file(write(&dir, "client.pem", &pki.client_pem));
        let two_files = AcpClient::builder(tls.url()).ca_file(&ca).identity_files(
            write(&dir, "client.crt", &pki.client_cert_pem),
            Some(write(&dir, "client.key", &pki.client_key_pem)),
        );
        for builder in [in_code, one_file, two_files] {
            let debug = format!("{builder:?}");
            assert!(
                !debug.contains("PRIVATE KEY") && !debug.contains(&pki.client_key_pem[40..80]),
                "{debug}"
            );
            let agents = builder
                .build()
                .expect("client")
                .search_agents()
                .await
                .expect("served with the identity");
            assert!(!agents.is_empty());
        }
        assert_eq!(server.requests("POST", "/agents/search"), 3);

        // An identity without its key: refused at build, naming the file.
        let err = AcpClient::builder(tls.url())
            .identity_file(write(&dir, "cert-only.pem", &pki.client_cert_pem))
            .build()
            .expect_err("no key");
        assert!(
            matches!(&err, Error::Identity { path: Some(p), .. } if p.ends_with("cert-only.pem")),
            "{err:?}"
        );
        assert!(err.to_string().contains("private key"), "{err}");
    }

    /// https through the proxy: a `CONNECT` tunnel with the proxy's credentials, and the
    /// client certificate presented inside it.
    #[tokio::test]
    async fn mutual_tls_through_a_proxy_tunnel() {
        let server = ReferenceServer::start().await;
        let pki = pki();
        let tls = TlsListener::start(&pki, true, server.addr()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let proxy = Relay::forward_proxy(Some(basic(PROXY_USER, PROXY_PASSWORD))).await;
        let client = AcpClient::builder(tls.url())
            .ca_file(write(&dir, "ca.pem", &pki.ca_pem))
            .identity_pem(pki.client_pem.as_bytes().to_vec())
            .proxy(proxy.url())
            .proxy_basic_auth(PROXY_USER, PROXY_PASSWORD)
            .build()
            .expect("client");
        client
            .search_agents()
            .await
            .expect("served through the tunnel");
        let seen = proxy.seen();
        assert_eq!(seen.len(), 1, "{seen:#?}");
        assert_eq!(
            seen[0].request_line,
            format!("CONNECT 127.0.0.1:{} HTTP/1.1", tls.addr.port())
        );
        assert_eq!(
            seen[0].header("proxy-authorization"),
            Some(basic(PROXY_USER, PROXY_PASSWORD).as_str())
        );
        assert_eq!(server.requests("POST", "/agents/search"), 1);
    }

    #[tokio::test]
    async fn an_untrusted_server_certificate_is_refused_unless_trusted() {
        let server = ReferenceServer::start().await;
        let pki = pki();
        let tls = TlsListener::start(&pki, false, server.addr()).await;

        let err = AcpClient::builder(tls.url())
            .retry(RetryPolicy::none())
            .build()
            .expect("client")
            .search_agents()
            .await
            .expect_err("an unknown CA");
        assert!(
            err.is_connect(),
            "a failed handshake is a connect error: {err:?}"
        );
        assert_eq!(server.requests("POST", "/agents/search"), 0);

        let dir = tempfile::tempdir().expect("tempdir");
        let ca = write(&dir, "ca.pem", &pki.ca_pem);
        let trusted = AcpClient::builder(tls.url()).ca_file(&ca);
        let accepting = AcpClient::builder(tls.url()).danger_accept_invalid_certs(true);
        for builder in [trusted, accepting] {
            builder
                .build()
                .expect("client")
                .search_agents()
                .await
                .expect("served");
        }
        assert_eq!(server.requests("POST", "/agents/search"), 2);
    }

    /// `{prefix}PROXY` and `{prefix}CLIENT_CERT` + `{prefix}CLIENT_KEY`, read by
    /// `from_env_prefix` (variables of this test's own prefix).
    #[tokio::test]
    async fn the_environment_sets_the_proxy_and_the_identity() {
        let server = ReferenceServer::start().await;
        let pki = pki();
        let tls = TlsListener::start(&pki, true, server.addr()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = write(&dir, "ca.pem", &pki.ca_pem);
        let cert = write(&dir, "client.crt", &pki.client_cert_pem);
        let key = write(&dir, "client.key", &pki.client_key_pem);
        let proxy = Relay::forward_proxy(Some(basic(PROXY_USER, PROXY_PASSWORD))).await;
        // SAFETY: variables of this test's own prefix; nothing else reads them.
        unsafe {
            std::env::set_var("OTELTLS_URL", tls.url());
            std::env::set_var("OTELTLS_CA_FILE", &ca);
            std::env::set_var("OTELTLS_CLIENT_CERT", &cert);
            std::env::set_var("OTELTLS_CLIENT_KEY", &key);
            std::env::set_var("OTELPX_URL", server.url());
            std::env::set_var(
                "OTELPX_PROXY",
                format!("http://{PROXY_USER}:{PROXY_PASSWORD}@{}", proxy.addr),
            );
            std::env::set_var("OTELNP_URL", server.url());
            std::env::set_var("OTELNP_PROXY", proxy.url());
            std::env::set_var("OTELNP_NO_PROXY", "127.0.0.1");
            std::env::set_var("OTELBAD_URL", server.url());
            std::env::set_var("OTELBAD_CLIENT_KEY", &key);
        }
        let mtls = acp_client_ext::ClientBuilder::from_env_prefix("OTELTLS_")
            .expect("env")
            .build()
            .expect("client");
        mtls.search_agents()
            .await
            .expect("mutual TLS from the environment");

        let proxied = acp_client_ext::ClientBuilder::from_env_prefix("OTELPX_").expect("env");
        assert_no_proxy_secret("builder Debug", &format!("{proxied:?}"));
        proxied
            .build()
            .expect("client")
            .search_agents()
            .await
            .expect("through the proxy from the environment");
        assert_eq!(proxy.seen().len(), 1);

        acp_client_ext::ClientBuilder::from_env_prefix("OTELNP_")
            .expect("env")
            .build()
            .expect("client")
            .search_agents()
            .await
            .expect("direct");
        assert_eq!(proxy.seen().len(), 1, "NO_PROXY bypassed the proxy");
        assert_eq!(server.requests("POST", "/agents/search"), 3);

        let err = acp_client_ext::ClientBuilder::from_env_prefix("OTELBAD_")
            .expect_err("a key without a certificate");
        assert!(err.to_string().contains("OTELBAD_CLIENT_KEY"), "{err}");
    }
}
