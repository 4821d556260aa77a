//! IPN verification refuses what the signing rule cannot read unambiguously
//! (DESIGN.md, "Hostile input, both ways"): an empty or whitespace token,
//! re-split names and values, invalid UTF-8, bad percent-encoding, a
//! missing or repeated `verifySign`. Each refusal has its stable code.
//!
//! Each attack is first shown to work against the lenient path (the
//! request-signature check over a lenient form decoding), so that the test
//! proves the strict path refuses a real forgery, not a broken body.

use pockyt_payouts_sign::{
    parse_ipn_body, parse_urlencoded, sign, verify, verify_ipn, verify_ipn_body,
    verify_ipn_body_with_digest, verify_ipn_with_digest, verify_urlencoded, verify_with_digest,
    IpnError, MalformedIpn, TokenDigest,
};

const TOKEN: &str = "ipn-token";

/// A genuine IPN's fields, as the API (and the sandbox) sends them.
const GENUINE: [(&str, &str); 10] = [
    ("merchantNo", "202333"),
    ("storeNo", "301854"),
    ("transactionNo", "305588797074336092"),
    ("reference", "inv-0001"),
    ("status", "success"),
    ("amount", "25.00"),
    ("currency", "USD"),
    ("settleCurrency", "USD"),
    ("customerNo", "2000305228292319592008"),
    ("time", "20240101120000"),
];

/// Derived with Python's hashlib (see vectors.rs), independently of this
/// crate: md5(sorted pairs joined + "&" + md5("ipn-token")).
const GENUINE_SIGNATURE: &str = "85686849c11024fa68fc60ddad5cd4b4";
/// The same fields signed with md5(""): what anyone can forge.
const EMPTY_TOKEN_SIGNATURE: &str = "aded3471f2bbaf13742f08e03477dd3a";

fn form(fields: &[(&str, &str)]) -> String {
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        body.append_pair(k, v);
    }
    body.finish()
}

fn genuine_body() -> String {
    let mut fields = GENUINE.to_vec();
    fields.push(("verifySign", GENUINE_SIGNATURE));
    form(&fields)
}

/// What the crate accepted before: lenient decoding, no field rules.
fn lenient_accepts(body: &str, token: &str) -> bool {
    verify_with_digest(
        parse_urlencoded(body.as_bytes()),
        &TokenDigest::from_token(token),
    )
}

fn malformed(result: Result<(), IpnError>) -> MalformedIpn {
    match result {
        Err(IpnError::MalformedBody(why)) => why,
        other => panic!("expected a malformed body, got {other:?}"),
    }
}

#[test]
fn a_genuine_ipn_passes_as_a_body_and_as_fields() {
    assert_eq!(sign(GENUINE, TOKEN), GENUINE_SIGNATURE);
    let body = genuine_body();
    assert_eq!(verify_ipn_body(body.as_bytes(), TOKEN), Ok(()));
    assert!(verify_urlencoded(body.as_bytes(), TOKEN));
    let fields = parse_ipn_body(body.as_bytes()).unwrap();
    assert_eq!(fields.len(), 11);
    assert_eq!(verify_ipn(fields.clone(), TOKEN), Ok(()));
    assert!(verify(fields, TOKEN));
    let digest = TokenDigest::from_token(TOKEN);
    assert_eq!(
        verify_ipn_body_with_digest(body.as_bytes(), &digest),
        Ok(())
    );
}

#[test]
fn a_genuine_ipn_with_encoded_spaces_non_ascii_equals_and_empty_values_passes() {
    let fields = [
        ("reference", "inv 1/ü"),
        ("note", "a+b = c, 100%"),
        ("payee", "Zoë"),
        ("empty", ""),
        ("status", "success"),
    ];
    let sig = sign(fields, TOKEN);
    let mut received = fields.to_vec();
    received.push(("verifySign", &sig));
    let body = form(&received);
    assert_eq!(verify_ipn_body(body.as_bytes(), TOKEN), Ok(()));
    // Percent-encoded spaces, unencoded UTF-8 and a trailing '&' too.
    let raw = format!(
        "reference=inv%201/\u{fc}&note=a%2Bb+%3D+c,+100%25&payee=Zo%C3%AB&empty=&status=success&verifySign={sig}&"
    );
    assert_eq!(verify_ipn_body(raw.as_bytes(), TOKEN), Ok(()));
}

#[test]
fn an_empty_token_is_a_configuration_error_not_a_false() {
    let mut fields = GENUINE.to_vec();
    fields.push(("verifySign", EMPTY_TOKEN_SIGNATURE));
    let forged = form(&fields);
    // The hole: signed with md5(""), it passed with an empty token.
    assert!(lenient_accepts(&forged, ""));
    let err = verify_ipn_body(forged.as_bytes(), "").unwrap_err();
    assert_eq!(err, IpnError::EmptyToken);
    assert_eq!(err.code(), "IPN_EMPTY_TOKEN");
    assert!(err.is_configuration_error());
    assert_eq!(verify_ipn(fields.clone(), ""), Err(IpnError::EmptyToken));
    assert!(!verify_urlencoded(forged.as_bytes(), ""));
    assert!(!verify(fields, ""));
    // Reported before anything about the body, whatever the body.
    assert_eq!(verify_ipn_body(b"%ZZ", ""), Err(IpnError::EmptyToken));
    assert_eq!(verify_ipn_body(b"", ""), Err(IpnError::EmptyToken));
    let digest = TokenDigest::from_token("");
    assert!(digest.is_blank());
    assert_eq!(
        verify_ipn_body_with_digest(forged.as_bytes(), &digest),
        Err(IpnError::EmptyToken)
    );
}

#[test]
fn a_whitespace_token_is_a_configuration_error() {
    for token in [" ", "\t", " \n ", "\u{3000}"] {
        let sig = sign(GENUINE, token);
        let mut fields = GENUINE.to_vec();
        fields.push(("verifySign", &sig));
        let body = form(&fields);
        assert!(lenient_accepts(&body, token), "{token:?}");
        assert_eq!(
            verify_ipn_body(body.as_bytes(), token),
            Err(IpnError::EmptyToken),
            "{token:?}"
        );
        assert_eq!(verify_ipn(fields, token), Err(IpnError::EmptyToken));
        assert!(TokenDigest::from_token(token).is_blank());
    }
    // A token with spaces around it is a token: used exactly as given.
    assert!(!TokenDigest::from_token(" t ").is_blank());
}

#[test]
fn a_value_re_split_into_another_field_is_refused() {
    // Signed: settleCurrency=USD and status=pending. Sent: one field whose
    // value holds both, and no status field at all.
    let sig = sign([("settleCurrency", "USD"), ("status", "pending")], TOKEN);
    let forged = format!("settleCurrency=USD%26status%3Dpending&verifySign={sig}");
    assert!(lenient_accepts(&forged, TOKEN));
    let why = malformed(verify_ipn_body(forged.as_bytes(), TOKEN));
    assert_eq!(
        why,
        MalformedIpn::ValueWithAmpersand {
            field: "settleCurrency".into()
        }
    );
    assert_eq!(
        verify_ipn_body(forged.as_bytes(), TOKEN)
            .unwrap_err()
            .code(),
        "IPN_MALFORMED_BODY"
    );
    assert!(!verify_urlencoded(forged.as_bytes(), TOKEN));
    // The decoded-fields path refuses it too.
    let fields = [
        ("settleCurrency", "USD&status=pending"),
        ("verifySign", sig.as_str()),
    ];
    assert!(matches!(
        verify_ipn(fields, TOKEN),
        Err(IpnError::MalformedBody(
            MalformedIpn::ValueWithAmpersand { .. }
        ))
    ));
    assert!(!verify(fields, TOKEN));
}

#[test]
fn a_name_re_split_across_fields_is_refused() {
    // Signed: amount=25.00 and currency=USD. Sent: one field whose name
    // holds "amount=25.00&currency".
    let sig = sign([("amount", "25.00"), ("currency", "USD")], TOKEN);
    let forged = format!("amount%3D25.00%26currency=USD&verifySign={sig}");
    assert!(lenient_accepts(&forged, TOKEN));
    let why = malformed(verify_ipn_body(forged.as_bytes(), TOKEN));
    assert_eq!(
        why,
        MalformedIpn::NameWithSeparator {
            name: "amount=25.00&currency".into()
        }
    );
    assert!(!verify_urlencoded(forged.as_bytes(), TOKEN));
    // A name with only '=' or only '&' is refused as well.
    for name in ["amount=25.00", "a&b"] {
        let fields = [(name, "x"), ("verifySign", sig.as_str())];
        assert_eq!(
            verify_ipn(fields, TOKEN),
            Err(IpnError::MalformedBody(MalformedIpn::NameWithSeparator {
                name: name.into()
            }))
        );
    }
    // An empty name is no field at all.
    assert_eq!(
        malformed(verify_ipn_body(
            format!("=x&verifySign={sig}").as_bytes(),
            TOKEN
        )),
        MalformedIpn::EmptyName
    );
}

#[test]
fn invalid_utf8_is_refused_not_replaced() {
    // %FF and %FE both decoded lossily to U+FFFD: one signature for both.
    let sig = sign([("note", "\u{fffd}")], TOKEN);
    for forged in [
        format!("note=%FF&verifySign={sig}"),
        format!("note=%FE&verifySign={sig}"),
        format!("note%FF=x&verifySign={sig}"),
        format!("note=%C3&verifySign={sig}"),
    ] {
        assert_eq!(
            malformed(verify_ipn_body(forged.as_bytes(), TOKEN)),
            MalformedIpn::InvalidUtf8,
            "{forged}"
        );
        assert!(!verify_urlencoded(forged.as_bytes(), TOKEN));
    }
    assert!(lenient_accepts(
        &format!("note=%FF&verifySign={sig}"),
        TOKEN
    ));
    assert!(lenient_accepts(
        &format!("note=%FE&verifySign={sig}"),
        TOKEN
    ));
    // Raw (unencoded) invalid bytes too.
    let mut raw = b"note=".to_vec();
    raw.push(0xFF);
    raw.extend_from_slice(format!("&verifySign={sig}").as_bytes());
    assert_eq!(
        malformed(verify_ipn_body(&raw, TOKEN)),
        MalformedIpn::InvalidUtf8
    );
    // The U+FFFD character itself, properly encoded, is a genuine value.
    let genuine = format!("note=%EF%BF%BD&verifySign={sig}");
    assert_eq!(verify_ipn_body(genuine.as_bytes(), TOKEN), Ok(()));
}

#[test]
fn bad_percent_encoding_is_refused() {
    let sig = sign([("note", "%G1")], TOKEN);
    for forged in [
        format!("note=%G1&verifySign={sig}"),
        format!("note=%&verifySign={sig}"),
        format!("verifySign={sig}&note=%4"),
    ] {
        assert_eq!(
            malformed(verify_ipn_body(forged.as_bytes(), TOKEN)),
            MalformedIpn::BadPercentEncoding,
            "{forged}"
        );
    }
    assert!(lenient_accepts(
        &format!("note=%G1&verifySign={sig}"),
        TOKEN
    ));
}

#[test]
fn a_missing_signature_is_refused() {
    let body = form(&GENUINE);
    let err = verify_ipn_body(body.as_bytes(), TOKEN).unwrap_err();
    assert_eq!(err, IpnError::MissingSignature);
    assert_eq!(err.code(), "IPN_MISSING_SIGNATURE");
    assert!(!err.is_configuration_error());
    assert_eq!(verify_ipn(GENUINE, TOKEN), Err(IpnError::MissingSignature));
    assert_eq!(verify_ipn_body(b"", TOKEN), Err(IpnError::MissingSignature));
    assert!(!verify_urlencoded(body.as_bytes(), TOKEN));
}

#[test]
fn a_repeated_signature_is_refused() {
    let body = genuine_body();
    let twice = format!("{body}&verifySign={GENUINE_SIGNATURE}");
    let err = verify_ipn_body(twice.as_bytes(), TOKEN).unwrap_err();
    assert_eq!(err, IpnError::RepeatedSignature);
    assert_eq!(err.code(), "IPN_REPEATED_SIGNATURE");
    let wrong_second = format!("{body}&verifySign=00");
    assert_eq!(
        verify_ipn_body(wrong_second.as_bytes(), TOKEN),
        Err(IpnError::RepeatedSignature)
    );
    let mut fields = GENUINE.to_vec();
    fields.push(("verifySign", GENUINE_SIGNATURE));
    fields.push(("verifySign", GENUINE_SIGNATURE));
    assert_eq!(verify_ipn(fields, TOKEN), Err(IpnError::RepeatedSignature));
    assert!(!verify_urlencoded(twice.as_bytes(), TOKEN));
}

#[test]
fn a_repeated_field_is_refused() {
    let sig = sign([("status", "failed"), ("status", "success")], TOKEN);
    let body = format!("status=success&status=failed&verifySign={sig}");
    assert!(lenient_accepts(&body, TOKEN));
    assert_eq!(
        malformed(verify_ipn_body(body.as_bytes(), TOKEN)),
        MalformedIpn::RepeatedField {
            field: "status".into()
        }
    );
}

#[test]
fn the_constant_time_comparison_is_unchanged() {
    let body = genuine_body();
    // Hex case is ignored, as before.
    let upper = body.replace(GENUINE_SIGNATURE, &GENUINE_SIGNATURE.to_uppercase());
    assert_eq!(verify_ipn_body(upper.as_bytes(), TOKEN), Ok(()));
    // One altered digit, a shorter, a longer or an empty signature: a
    // mismatch (the comparison takes any length without panicking).
    let mut one_off = GENUINE_SIGNATURE.to_owned();
    one_off.replace_range(31.., "5");
    for sig in [
        one_off.as_str(),
        &GENUINE_SIGNATURE[..31],
        &format!("{GENUINE_SIGNATURE}0"),
        "",
    ] {
        let mut fields = GENUINE.to_vec();
        fields.push(("verifySign", sig));
        let err = verify_ipn(fields.clone(), TOKEN).unwrap_err();
        assert_eq!(err, IpnError::SignatureMismatch, "{sig:?}");
        assert_eq!(err.code(), "IPN_SIGNATURE_MISMATCH");
        assert_eq!(
            verify_ipn_body(form(&fields).as_bytes(), TOKEN),
            Err(IpnError::SignatureMismatch)
        );
    }
    // A tampered field or another token: a mismatch.
    let tampered = body.replace("status=success", "status=failed");
    assert_eq!(
        verify_ipn_body(tampered.as_bytes(), TOKEN),
        Err(IpnError::SignatureMismatch)
    );
    assert_eq!(
        verify_ipn_body(body.as_bytes(), "another-token"),
        Err(IpnError::SignatureMismatch)
    );
    let digest = TokenDigest::from_token(TOKEN);
    let mut fields = GENUINE.to_vec();
    fields.push(("verifySign", GENUINE_SIGNATURE));
    assert_eq!(verify_ipn_with_digest(fields, &digest), Ok(()));
}

#[test]
fn codes_are_stable_and_messages_show_no_value_or_secret() {
    assert_eq!(
        IpnError::CODES,
        [
            "IPN_EMPTY_TOKEN",
            "IPN_MISSING_SIGNATURE",
            "IPN_REPEATED_SIGNATURE",
            "IPN_SIGNATURE_MISMATCH",
            "IPN_MALFORMED_BODY",
        ]
    );
    let errors = [
        IpnError::EmptyToken,
        IpnError::MissingSignature,
        IpnError::RepeatedSignature,
        IpnError::SignatureMismatch,
        IpnError::MalformedBody(MalformedIpn::InvalidUtf8),
    ];
    for (err, code) in errors.iter().zip(IpnError::CODES) {
        assert_eq!(err.code(), code);
        assert!(!err.to_string().is_empty());
    }
    let sig = sign([("settleCurrency", "secret-value&x=1")], TOKEN);
    let forged = format!("settleCurrency=secret-value%26x%3D1&verifySign={sig}");
    let text = verify_ipn_body(forged.as_bytes(), TOKEN)
        .unwrap_err()
        .to_string();
    assert!(text.contains("settleCurrency"), "{text}");
    assert!(text.contains('&'), "{text}");
    assert!(!text.contains("secret-value"), "{text}");
    assert!(!text.contains(&sig), "{text}");
    // A hostile name is escaped and shortened in the message.
    let name = format!("evil\n{}=", "x".repeat(200));
    let text = verify_ipn([(name.as_str(), "1")], TOKEN)
        .unwrap_err()
        .to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(text.len() < 200, "{text}");
}
