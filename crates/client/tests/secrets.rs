//! The API token and its MD5 never appear in Debug, Display, error text or
//! tracing output, whatever happens.

mod common;

use common::{Capture, Scripted, TestServer, API_TOKEN};
use md5::{Digest, Md5};
use pockyt_payouts::types::*;
use pockyt_payouts::{Client, Config, Error};

fn digest() -> String {
    Md5::digest(API_TOKEN.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(API_TOKEN), "{what} shows the token: {text}");
    assert!(!text.contains(&digest()), "{what} shows md5(token): {text}");
}

#[tokio::test]
async fn token_never_leaks() {
    let (capture, _guard) = Capture::install();

    let server = TestServer::start().await;
    let config = server.config();
    assert_clean("Config Debug", &format!("{config:?}"));
    assert_clean("ApiToken Debug", &format!("{:?}", config.api_token()));
    let client = Client::new(config).unwrap();
    assert_clean("Client Debug", &format!("{client:?}"));

    let mut errors: Vec<Error> = Vec::new();
    client
        .balance(BalanceParams::builder().currency("USD"))
        .await
        .unwrap();
    // An answer that echoes the token and its digest back.
    server.script(Scripted::Status(
        500,
        format!("token={API_TOKEN} md5={}", digest()),
    ));
    errors.push(
        client
            .balance(BalanceParams::builder().currency("USD"))
            .await
            .unwrap_err(),
    );
    server.script(Scripted::Json(format!("not json {API_TOKEN} {}", digest())));
    errors.push(
        client
            .balance(BalanceParams::builder().currency("USD"))
            .await
            .unwrap_err(),
    );
    server.script(Scripted::Json(
        r#"{"ret_code":"000030","ret_msg":"bad sign"}"#.to_string(),
    ));
    errors.push(
        client
            .balance(BalanceParams::builder().currency("USD"))
            .await
            .unwrap_err(),
    );
    errors.push(
        client
            .balance(BalanceParams::builder().currency("usd"))
            .await
            .unwrap_err(),
    );
    server.script(Scripted::Delay(std::time::Duration::from_secs(3)));
    errors.push(
        client
            .with_timeout(std::time::Duration::from_millis(50))
            .balance(BalanceParams::builder().currency("USD"))
            .await
            .unwrap_err(),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let offline = Client::new(
        Config::new("1", "2", API_TOKEN).with_base_url(format!("http://127.0.0.1:{port}")),
    )
    .unwrap();
    errors.push(
        offline
            .balance(BalanceParams::builder().currency("USD"))
            .await
            .unwrap_err(),
    );
    errors
        .push(Client::new(Config::new("1", "2", API_TOKEN).with_base_url("ftp://x")).unwrap_err());

    assert_eq!(errors.len(), 7);
    for e in &errors {
        assert_clean("error Display", &e.to_string());
        assert_clean("error Debug", &format!("{e:?}"));
    }
    let logged = capture.text();
    assert!(
        logged.contains("balance"),
        "tracing captured nothing: {logged}"
    );
    assert_clean("tracing output", &logged);
}
