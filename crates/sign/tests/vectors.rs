//! Signature vectors derived independently of this crate.
//!
//! How they were derived: the provider's published signing example (its API
//! documentation's "signing API parameters" page: parameters, token and
//! resulting `verifySign`), and the rest with Python's `hashlib`, one line
//! each, e.g.
//!
//! ```text
//! md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
//! s = "&".join(f"{k}={v}" for k, v in sorted(d.items(), key=lambda kv: kv[0].encode()))
//! md5(s + "&" + md5(token))
//! ```
//!
//! so that a mistake in this crate cannot hide in both sides of a test.

use pockyt_payouts_sign::{sign, verify, verify_urlencoded, Signer, TokenDigest};

#[test]
fn provider_published_vector() {
    let params = [
        ("amount", "1.00"),
        ("callbackUrl", "https://wx.yuansfer.yunkeguan.com/wx"),
        ("currency", "USD"),
        ("goodsInfo", r#"[{"goods_name":"Yuansfer","quantity":"1"}]"#),
        ("ipnUrl", "https://wx.yuansfer.yunkeguan.com/wx"),
        ("merchantNo", "200043"),
        ("reference", "seq_1525922323"),
        ("storeNo", "300014"),
        ("terminal", "ONLINE"),
        ("timeout", "120"),
        ("vendor", "alipay"),
    ];
    let token = "5cbfb079f15b150122261c8537086d77a";
    assert_eq!(
        TokenDigest::from_token(token).expose_secret(),
        "186abea4b8610d7ff03768255588597a"
    );
    assert_eq!(sign(params, token), "b6bfd66531ae7c9499115c7480a2c8aa");
    // Order of the input does not matter.
    let mut reversed = params.to_vec();
    reversed.reverse();
    assert_eq!(sign(reversed, token), "b6bfd66531ae7c9499115c7480a2c8aa");
}

#[test]
fn api_page_register_example_with_a_known_token() {
    let text = include_str!("../../../spec/examples/register_payee.request.json");
    let body: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).unwrap();
    let pairs: Vec<(String, String)> = body
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    // verifySign in the input is left out of its own signature.
    assert_eq!(
        sign(pairs, "test-token"),
        "ac89027319bf7b1e72f5acaf608af8ad"
    );
}

#[test]
fn empty_values_are_signed_as_name_equals() {
    assert_eq!(
        sign([("street2", ""), ("a", "1")], "tok"),
        "85fc31734b1edd4094441043b4305888"
    );
    // ...which differs from leaving the field out.
    assert_ne!(
        sign([("a", "1")], "tok"),
        "85fc31734b1edd4094441043b4305888"
    );
}

#[test]
fn utf8_values() {
    assert_eq!(
        sign([("firstName", "Zoë"), ("lastName", "Ürün")], "tok"),
        "5eb2c001e36f64af693e4038f15c342b"
    );
}

#[test]
fn byte_order_sort_puts_uppercase_and_underscore_first() {
    // Byte order: "B" < "_" < "a" < "b".
    assert_eq!(
        sign([("b", "1"), ("B", "2"), ("a", "3"), ("_", "4")], "tok"),
        "b40c950085796874a3d5c27a026dd114"
    );
}

#[test]
fn values_are_signed_raw_and_token_used_as_given() {
    assert_eq!(
        sign([("note", "a&b=c"), ("amount", "0.01")], "tok with space "),
        "ea575a540556c697a664cf0406152946"
    );
}

#[test]
fn verify_accepts_good_and_refuses_tampered_missing_or_repeated_signatures() {
    let sig = sign([("status", "success"), ("amount", "5.00")], "t");
    assert!(verify(
        [
            ("amount", "5.00"),
            ("status", "success"),
            ("verifySign", &sig)
        ],
        "t"
    ));
    assert!(verify(
        [
            ("amount", "5.00"),
            ("status", "success"),
            ("verifySign", &sig.to_uppercase())
        ],
        "t"
    ));
    assert!(!verify(
        [
            ("amount", "5.01"),
            ("status", "success"),
            ("verifySign", &sig)
        ],
        "t"
    ));
    assert!(!verify(
        [
            ("amount", "5.00"),
            ("status", "success"),
            ("verifySign", &sig)
        ],
        "other"
    ));
    assert!(!verify([("amount", "5.00"), ("status", "success")], "t"));
    assert!(!verify(
        [
            ("amount", "5.00"),
            ("status", "success"),
            ("verifySign", &sig),
            ("verifySign", &sig)
        ],
        "t"
    ));
    // An added field, even empty, changes the signature.
    assert!(!verify(
        [
            ("amount", "5.00"),
            ("status", "success"),
            ("extra", ""),
            ("verifySign", &sig)
        ],
        "t"
    ));
}

#[test]
fn urlencoded_bodies_are_verified_as_received() {
    // Values with spaces, '+', '=' and non-ASCII, encoded as a form does.
    // (A value with '&' is refused: see ipn_hardening.rs.)
    let fields = [
        ("note", "a b+c=d"),
        ("payee", "Zoë"),
        ("status", "success"),
        ("empty", ""),
    ];
    let sig = sign(fields, "t");
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        body.append_pair(k, v);
    }
    body.append_pair("verifySign", &sig);
    let body = body.finish();
    assert!(verify_urlencoded(body.as_bytes(), "t"));
    assert!(!verify_urlencoded(
        body.replace("success", "failed").as_bytes(),
        "t"
    ));
    assert!(!verify_urlencoded(b"", "t"));
}

#[test]
fn signer_fills_the_envelope_and_overrides_smuggled_envelope_fields() {
    let signer = Signer::new("202333", "301854", "tok");
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_676_285_458);
    let body = signer
        .sign_json_body(
            br#"{"customerNo":"1","merchantNo":"evil","verifySign":"x"}"#,
            at,
        )
        .unwrap();
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(fields["merchantNo"], "202333");
    assert_eq!(fields["storeNo"], "301854");
    assert_eq!(fields["timestamp"], "2023-02-13T10:50:58Z");
    // Python-derived: md5("customerNo=1&merchantNo=202333&storeNo=301854&timestamp=2023-02-13T10:50:58Z&" + md5("tok"))
    assert_eq!(fields["verifySign"], "a71193a97814ffff761a73216bd785b6");
    assert!(signer.sign_json_body(b"[1]", at).is_err());
    assert!(signer.sign_json_body(br#"{"amount": 5}"#, at).is_err());
}
