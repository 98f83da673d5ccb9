//! Roles from `Authorization: Bearer <token>` (contract §5): the auth file maps the SHA-256
//! of each token to a name, a role and a binding. Only digests are held; a presented token is
//! hashed and compared in constant time against every entry. SIGHUP reloads the file.

use std::collections::HashMap;
use std::path::Path;

use credence_engine::event::{valid_source, Channel};
use credence_engine::SubjectKey;
use credence_models::Kind;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The role a request acts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// No token.
    Public,
    Department,
    /// A natural or legal person reading their own data.
    SelfSubject,
    Producer,
    Admin,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Department => "department",
            Role::SelfSubject => "self",
            Role::Producer => "producer",
            Role::Admin => "admin",
        }
    }
}

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    /// The subject of a `self` token.
    pub subject: Option<SubjectKey>,
    /// The channel and source of a `producer` token.
    pub producer: Option<(Channel, String)>,
}

impl Principal {
    pub fn public() -> Principal {
        Principal {
            name: "public".into(),
            role: Role::Public,
            subject: None,
            producer: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: String,
    sha256: String,
    role: String,
    #[serde(default)]
    subject: Option<SubjectEntry>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectEntry {
    kind: String,
    id: String,
}

/// The loaded auth file.
#[derive(Debug, Default, Clone)]
pub struct Auth {
    entries: Vec<([u8; 32], Principal)>,
}

/// Why an auth file was refused (every problem at once).
#[derive(Debug, thiserror::Error)]
#[error("auth file {path}: {}", problems.join("; "))]
pub struct AuthError {
    pub path: String,
    pub problems: Vec<String>,
}

/// A bearer token that matches no entry (or a malformed `Authorization` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the bearer token matches none")]
pub struct Unauthorized;

/// Hex SHA-256 of a token, as the auth file stores it.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

impl Auth {
    /// No tokens: only public access.
    pub fn none() -> Auth {
        Auth::default()
    }

    /// Loads an auth file.
    pub fn load(path: &Path) -> Result<Auth, AuthError> {
        let fail = |p: Vec<String>| AuthError {
            path: path.display().to_string(),
            problems: p,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(vec![e.to_string()]))?;
        Auth::parse(&text).map_err(fail)
    }

    /// Parses the TOML text of an auth file.
    pub fn parse(text: &str) -> Result<Auth, Vec<String>> {
        let file: AuthFile = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        let mut problems = Vec::new();
        let mut entries = Vec::new();
        let mut names = HashMap::new();
        for (i, t) in file.token.iter().enumerate() {
            let at = format!("token[{i}] ({})", t.name);
            if names.insert(t.name.clone(), ()).is_some() {
                problems.push(format!("{at}: duplicate name"));
            }
            let mut digest = [0u8; 32];
            if hex::decode_to_slice(t.sha256.to_ascii_lowercase(), &mut digest).is_err() {
                problems.push(format!("{at}: sha256 is 64 hex digits"));
                continue;
            }
            let role = match t.role.as_str() {
                "department" => Role::Department,
                "self" => Role::SelfSubject,
                "producer" => Role::Producer,
                "admin" => Role::Admin,
                other => {
                    problems.push(format!("{at}: unknown role {other:?}"));
                    continue;
                }
            };
            let mut principal = Principal {
                name: t.name.clone(),
                role,
                subject: None,
                producer: None,
            };
            match (role, &t.subject) {
                (Role::SelfSubject, Some(s)) => {
                    match Kind::from_str(&s.kind).and_then(|k| SubjectKey::parse(k, &s.id).ok()) {
                        Some(k) => principal.subject = Some(k),
                        None => problems.push(format!("{at}: subject is not a valid {{kind, id}}")),
                    }
                }
                (Role::SelfSubject, None) => {
                    problems.push(format!("{at}: a self token names its subject"))
                }
                (_, Some(_)) => problems.push(format!("{at}: only a self token names a subject")),
                _ => {}
            }
            match (role, &t.channel, &t.source) {
                (Role::Producer, Some(c), Some(s)) => match Channel::parse(c) {
                    Some(ch) if valid_source(s) => principal.producer = Some((ch, s.clone())),
                    _ => problems.push(format!(
                        "{at}: channel must be one of the five and source [a-z0-9_-]{{1,32}}"
                    )),
                },
                (Role::Producer, _, _) => problems.push(format!(
                    "{at}: a producer token names its channel and source"
                )),
                (_, None, None) => {}
                _ => problems.push(format!(
                    "{at}: only a producer token names a channel and source"
                )),
            }
            entries.push((digest, principal));
        }
        if problems.is_empty() {
            Ok(Auth { entries })
        } else {
            Err(problems)
        }
    }

    /// The principal of an `Authorization` header value: `Ok(public)` without one,
    /// `Err(Unauthorized)` for a token that matches none (401).
    pub fn authenticate(&self, header: Option<&str>) -> Result<Principal, Unauthorized> {
        let Some(value) = header else {
            return Ok(Principal::public());
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(Unauthorized)?
            .trim();
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Every entry is compared, whatever matches, so that timing says nothing.
        let mut found = None;
        for (d, p) in &self.entries {
            if ct_eq(d, &digest) && found.is_none() {
                found = Some(p);
            }
        }
        found.cloned().ok_or(Unauthorized)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_bindings() {
        let text = format!(
            r#"
[[token]]
name = "licensing-bureau"
sha256 = "{}"
role = "department"

[[token]]
name = "resident-0590"
sha256 = "{}"
role = "self"
subject = {{ kind = "natural", id = "440306195606190590" }}

[[token]]
name = "safety-bureau"
sha256 = "{}"
role = "producer"
channel = "gov"
source = "safety"
"#,
            token_digest("dept-secret"),
            token_digest("self-secret"),
            token_digest("prod-secret")
        );
        let auth = Auth::parse(&text).unwrap();
        assert_eq!(auth.authenticate(None).unwrap().role, Role::Public);
        assert_eq!(
            auth.authenticate(Some("Bearer dept-secret")).unwrap().role,
            Role::Department
        );
        let me = auth.authenticate(Some("Bearer self-secret")).unwrap();
        assert_eq!(me.subject.unwrap().text().as_str(), "440306195606190590");
        let p = auth.authenticate(Some("Bearer prod-secret")).unwrap();
        assert_eq!(p.producer, Some((Channel::Gov, "safety".into())));
        assert!(auth.authenticate(Some("Bearer nope")).is_err());
        assert!(auth.authenticate(Some("Basic abc")).is_err());
    }

    #[test]
    fn every_problem_is_listed() {
        let text = r#"
[[token]]
name = "a"
sha256 = "xyz"
role = "department"

[[token]]
name = "b"
sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
role = "wizard"

[[token]]
name = "c"
sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
role = "producer"
channel = "bank"
source = "x"
"#;
        let problems = Auth::parse(text).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
