//! Redaction of every text that leaves the SDK: error messages, `ret_msg`,
//! body excerpts and `Debug` output never carry the API token, its MD5
//! (enough to forge a signature) or credentials written into a URL.
//!
//! Matching is ASCII case-insensitive (an echo may change the digest's
//! case). Tokens shorter than [`MIN_API_TOKEN_LEN`](crate::MIN_API_TOKEN_LEN)
//! are refused by the configuration, so redaction never mangles ordinary
//! words.

/// What a redacted secret is replaced with.
pub(crate) const REDACTED: &str = "<redacted>";

/// The secrets of one client, and how to scrub them from text.
#[derive(Clone)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Scrubs `token`, its MD5, and the credentials of `base_url` (its
    /// `user:password` and, when at least as long as a token must be, the
    /// password alone, as written and percent-decoded).
    pub(crate) fn new(token: &str, base_url: &str) -> Redactor {
        let digest = pockyt_payouts_sign::TokenDigest::from_token(token);
        let mut secrets = vec![token.to_owned(), digest.expose_secret().to_owned()];
        if let Some(userinfo) = url_userinfo(base_url) {
            secrets.push(userinfo.to_owned());
            if let Some((_, password)) = userinfo.split_once(':') {
                let decoded = percent_decode(password);
                for password in [password.to_owned(), decoded] {
                    if password.chars().count() >= crate::config::MIN_API_TOKEN_LEN {
                        secrets.push(password);
                    }
                }
            }
        }
        secrets.retain(|s| !s.is_empty());
        // Longest first, so a secret containing another goes whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    /// `text` with every secret and every URL's credentials replaced.
    pub(crate) fn text(&self, text: &str) -> String {
        let scrubbed = self.scrub(text.as_bytes(), text.len());
        scrub_url_credentials(&String::from_utf8_lossy(&scrubbed))
    }

    /// The start of `body` (at most `limit` bytes, cut on a character
    /// boundary), redacted. Only that start is looked at: a secret that
    /// begins inside it is replaced whole, and nothing past it is copied.
    pub(crate) fn excerpt(&self, body: &[u8], limit: usize) -> String {
        let mut end = body.len().min(limit);
        while end > 0 && end < body.len() && body[end] & 0xC0 == 0x80 {
            end -= 1;
        }
        let mut text = self.text(&String::from_utf8_lossy(&self.scrub(body, end)));
        if end < body.len() {
            text.push('…');
        }
        text
    }

    /// The bytes of `body` before `end`, with every secret starting there
    /// replaced (whole, even when it runs past `end`).
    fn scrub(&self, body: &[u8], end: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(end);
        let mut i = 0;
        while i < end {
            let found = self.secrets.iter().find(|secret| {
                body.get(i..i + secret.len())
                    .is_some_and(|window| window.eq_ignore_ascii_case(secret.as_bytes()))
            });
            match found {
                Some(secret) => {
                    out.extend_from_slice(REDACTED.as_bytes());
                    i += secret.len();
                }
                None => {
                    out.push(body[i]);
                    i += 1;
                }
            }
        }
        out
    }
}

/// The `user:password` (or `user`) of a URL, if it has one.
fn url_userinfo(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority.rfind('@').map(|at| &authority[..at])
}

/// `url` with its credentials, if any, replaced: what `Debug` shows.
///
/// ```text
/// http://user:secret@host:8080/v3 -> http://<redacted>@host:8080/v3
/// ```
pub(crate) fn url_for_display(url: &str) -> String {
    scrub_url_credentials(url)
}

/// Every `scheme://user:password@host` in `text` with the part before `@`
/// replaced.
fn scrub_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | ')' | '(')
                    || c.is_whitespace()
            })
            .unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(userinfo_end) => {
                out.push_str(REDACTED);
                rest = &after[userinfo_end..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// `%XX` sequences decoded (others left as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
