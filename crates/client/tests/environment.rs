//! The provider's environments: `provider-sandbox` (the provider's hosted
//! test server, not the local emulator) and `production`, with the old
//! name `sandbox` kept as a deprecated alias in Rust, in `POCKYT_ENV` and
//! in the settings the bindings pass.

use std::sync::{Arc, Mutex};

use pockyt_payouts::settings::{client_config, setting_name, Spelling};
use pockyt_payouts::{
    Config, Environment, ErrorCode, PRODUCTION_BASE_URL, PROVIDER_SANDBOX_BASE_URL,
};
use serde_json::json;

fn from_vars(vars: &[(&str, &str)]) -> Result<Config, pockyt_payouts::Error> {
    Config::from_lookup(|name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    })
}

const CREDENTIALS: [(&str, &str); 3] = [
    ("POCKYT_MERCHANT_NO", "202333"),
    ("POCKYT_STORE_NO", "301854"),
    ("POCKYT_API_TOKEN", "a-long-api-token"),
];

fn with_env(value: &str) -> Vec<(&str, &str)> {
    let mut vars = CREDENTIALS.to_vec();
    vars.push(("POCKYT_ENV", value));
    vars
}

#[test]
fn the_provider_sandbox_has_its_own_name_and_is_the_default() {
    assert_eq!(Environment::ProviderSandbox.as_str(), "provider-sandbox");
    assert_eq!(Environment::ProviderSandbox.to_string(), "provider-sandbox");
    assert_eq!(
        Environment::ProviderSandbox.base_url(),
        "https://mapi.yuansfer.yunkeguan.com"
    );
    assert_eq!(
        Environment::ProviderSandbox.base_url(),
        PROVIDER_SANDBOX_BASE_URL
    );
    assert_eq!(Environment::Production.base_url(), PRODUCTION_BASE_URL);
    for env in [Environment::ProviderSandbox, Environment::Production] {
        assert_eq!(env.as_str().parse::<Environment>().unwrap(), env);
    }

    let config = Config::new("202333", "301854", "a-long-api-token");
    assert_eq!(config.env(), Environment::ProviderSandbox);
    assert!(config.deprecation().is_none());

    let config = from_vars(&CREDENTIALS).unwrap();
    assert_eq!(config.env(), Environment::ProviderSandbox);
    assert!(config.deprecation().is_none());
}

#[test]
#[allow(deprecated)]
fn the_old_rust_names_are_deprecated_aliases() {
    assert_eq!(Environment::Sandbox, Environment::ProviderSandbox);
    assert_eq!(pockyt_payouts::SANDBOX_BASE_URL, PROVIDER_SANDBOX_BASE_URL);
    // Code that matched on the old name still compiles and still matches.
    let name = match Environment::ProviderSandbox {
        Environment::Sandbox => "the provider's sandbox",
        Environment::Production => "production",
    };
    assert_eq!(name, "the provider's sandbox");
    let config =
        Config::new("202333", "301854", "a-long-api-token").environment(Environment::Sandbox);
    assert_eq!(config.base_url(), PROVIDER_SANDBOX_BASE_URL);
}

#[test]
fn pockyt_env_provider_sandbox_is_the_new_spelling() {
    for value in ["provider-sandbox", "Provider-Sandbox"] {
        let config = from_vars(&with_env(value)).unwrap();
        assert_eq!(config.env(), Environment::ProviderSandbox);
        assert_eq!(config.base_url(), PROVIDER_SANDBOX_BASE_URL);
        assert!(config.deprecation().is_none(), "{value}");
    }
    let config = from_vars(&with_env("production")).unwrap();
    assert_eq!(config.base_url(), PRODUCTION_BASE_URL);
    assert!(config.deprecation().is_none());
}

#[test]
fn pockyt_env_sandbox_still_works_and_says_it_is_deprecated() {
    for value in ["sandbox", "SANDBOX"] {
        let config = from_vars(&with_env(value)).unwrap();
        assert_eq!(config.env(), Environment::ProviderSandbox);
        assert_eq!(config.base_url(), PROVIDER_SANDBOX_BASE_URL);
        let deprecation = config.deprecation().expect("a deprecation");
        assert_eq!(deprecation.code, "DEPRECATED_ENVIRONMENT_NAME");
        assert_eq!(deprecation.setting, "POCKYT_ENV");
        assert_eq!(
            (deprecation.old, deprecation.new),
            ("sandbox", "provider-sandbox")
        );
        let text = deprecation.to_string();
        assert!(
            text.starts_with("POCKYT_ENV \"sandbox\" is deprecated"),
            "{text}"
        );
        assert!(text.contains("\"provider-sandbox\""), "{text}");
    }
    // An explicit base URL still wins over the environment.
    let mut vars = with_env("sandbox");
    vars.push(("POCKYT_BASE_URL", "http://127.0.0.1:8080"));
    let config = from_vars(&vars).unwrap();
    assert_eq!(config.base_url(), "http://127.0.0.1:8080");
    assert!(config.deprecation().is_some());
}

#[test]
fn an_unknown_environment_names_the_new_spellings() {
    let err = from_vars(&with_env("local")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidConfig);
    assert_eq!(err.field(), Some("POCKYT_ENV"));
    assert!(
        err.to_string()
            .contains("\"provider-sandbox\" or \"production\""),
        "{err}"
    );

    let err = "staging".parse::<Environment>().unwrap_err();
    assert_eq!(err.field(), Some("environment"));
    assert!(err.to_string().contains("\"provider-sandbox\""), "{err}");
}

#[test]
fn a_typed_environment_replaces_a_deprecated_name() {
    let config = from_vars(&with_env("sandbox")).unwrap();
    assert!(config.deprecation().is_some());
    let config = config.environment(Environment::Production);
    assert!(config.deprecation().is_none());
}

/// The one rule the bindings use: they pass `environment` as given.
#[test]
fn the_bindings_settings_accept_the_alias_and_carry_its_deprecation() {
    for spelling in [Spelling::Python, Spelling::Node] {
        let options = |environment: &str| {
            let mut options = serde_json::Map::new();
            for (name, value) in [
                ("merchant_no", "202333"),
                ("store_no", "301854"),
                ("api_token", "a-long-api-token"),
                ("environment", environment),
            ] {
                options.insert(setting_name(spelling, name), json!(value));
            }
            serde_json::Value::Object(options)
        };
        let config =
            client_config(spelling, options("provider-sandbox").as_object().unwrap()).unwrap();
        assert_eq!(config.env(), Environment::ProviderSandbox);
        assert!(config.deprecation().is_none());

        let config = client_config(spelling, options("sandbox").as_object().unwrap()).unwrap();
        assert_eq!(config.env(), Environment::ProviderSandbox);
        let deprecation = config.deprecation().expect("a deprecation");
        assert_eq!(deprecation.setting, "environment");
        assert_eq!(deprecation.new, "provider-sandbox");

        let err = client_config(spelling, options("dev").as_object().unwrap()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig);
        assert_eq!(err.field(), Some("environment"));
        assert!(
            err.to_string()
                .contains("\"provider-sandbox\" or \"production\""),
            "{err}"
        );
    }
}

/// A deprecated name is logged: a `warn` event of the core, which Python
/// sends to `logging` and Node to stderr with `DEBUG=pockyt-payouts`.
#[test]
fn a_deprecated_name_is_logged_as_a_warning() {
    let seen: Arc<Mutex<Vec<pockyt_payouts::events::Event>>> = Arc::default();
    let sink = seen.clone();
    pockyt_payouts::events::set_level("warn");
    assert!(pockyt_payouts::events::install(Arc::new(move |event| {
        sink.lock().unwrap().push(event.clone());
    })));
    from_vars(&with_env("sandbox")).unwrap();
    let events = seen.lock().unwrap().clone();
    let warning = events
        .iter()
        .find(|e| e.message.contains("is deprecated"))
        .expect("a warning event");
    assert_eq!(warning.level, "warn");
    assert!(warning.fields.contains(&(
        "code".to_string(),
        "DEPRECATED_ENVIRONMENT_NAME".to_string()
    )));
}
