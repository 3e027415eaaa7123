//! Who is calling, and with which scopes. With a token file, callers send
//! `authorization: Bearer <token>` and the file maps tokens to an identity and
//! its scopes; without one the server is in development mode and believes the
//! `x-quorum-identity` header, giving that identity every scope, which it says
//! loudly at start-up so nobody runs it that way in production. What each
//! scope allows is decided in `quorum_holds::access`, not here.

use quorum_holds::{Principal, Scope, bounds::MAX_ID_BYTES};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tonic::{Request, Status, metadata::MetadataMap};

/// The caller, put into each request's extensions by the interceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub Principal);

pub const IDENTITY_HEADER: &str = "x-quorum-identity";

#[derive(Debug, Clone)]
pub enum Authenticator {
    Tokens(Arc<HashMap<String, Principal>>),
    Development,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read the token file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "token file line {line}: write \"<token> <identity> <scope>[,<scope>…]\" with scopes from pipeline, release-owner, read, admin"
    )]
    Line { line: usize },
    #[error(
        "token file line {line}: unknown scope {scope:?}; use pipeline, release-owner, read or admin"
    )]
    Scope { line: usize, scope: String },
    #[error("token file line {line}: an identity is at most {MAX_ID_BYTES} bytes")]
    Identity { line: usize },
}

/// One `<token> <identity> <scopes>` line.
fn parse_line(line: &str, number: usize) -> Result<(String, Principal), AuthError> {
    let mut parts = line.split_whitespace();
    let (Some(token), Some(identity), Some(scopes), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Line { line: number });
    };
    if identity.len() > MAX_ID_BYTES {
        return Err(AuthError::Identity { line: number });
    }
    let scopes = scopes
        .split(',')
        .map(|s| {
            Scope::parse(s).ok_or_else(|| AuthError::Scope {
                line: number,
                scope: s.to_owned(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((token.to_owned(), Principal::new(identity, scopes)))
}

impl Authenticator {
    /// Reads a token file: one `<token> <identity> <scope>[,<scope>…]` per
    /// line; blank lines and lines starting with `#` are skipped. A line
    /// without scopes is refused rather than guessed at.
    pub fn from_file(path: &Path) -> Result<Self, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut tokens = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (token, principal) = parse_line(line, i + 1)?;
            tokens.insert(token, principal);
        }
        Ok(Self::Tokens(Arc::new(tokens)))
    }

    pub fn identify(&self, metadata: &MetadataMap) -> Result<Caller, Status> {
        let header = |name: &str| metadata.get(name).and_then(|v| v.to_str().ok());
        match self {
            Self::Tokens(tokens) => {
                let token = header("authorization")
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .ok_or_else(|| Status::unauthenticated("send authorization: Bearer <token>"))?;
                tokens
                    .get(token)
                    .map(|principal| Caller(principal.clone()))
                    .ok_or_else(|| {
                        Status::unauthenticated("the bearer token is not known to this server")
                    })
            }
            Self::Development => header(IDENTITY_HEADER)
                .filter(|v| !v.is_empty() && v.len() <= MAX_ID_BYTES)
                .map(|v| Caller(Principal::with_every_scope(v)))
                .ok_or_else(|| {
                    Status::unauthenticated(format!(
                        "development mode: send the {IDENTITY_HEADER} header (1 to {MAX_ID_BYTES} bytes)"
                    ))
                }),
        }
    }

    /// The interceptor that attaches the caller to every request.
    pub fn interceptor(self) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
        move |mut request: Request<()>| {
            let caller = self.identify(request.metadata())?;
            request.extensions_mut().insert(caller);
            Ok(request)
        }
    }
}

/// The caller the interceptor established.
pub fn caller<T>(request: &Request<T>) -> Result<Principal, Status> {
    let who = request
        .extensions()
        .get::<Caller>()
        .map(|c| c.0.clone())
        .ok_or_else(|| Status::unauthenticated("no caller identity"))?;
    // The operation's log span names who asked (see hold_broker.rs).
    tracing::Span::current().record("actor", who.identity.as_str());
    Ok(who)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_maps_bearer_tokens_to_identities() {
        let dir = std::env::temp_dir().join(format!("quorum-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens");
        std::fs::write(
            &path,
            "# comment\nsecret-1 olga release-owner,read\n\nsecret-2 pipeline-bot pipeline\n",
        )
        .unwrap();
        let auth = Authenticator::from_file(&path).unwrap();
        let mut metadata = MetadataMap::new();
        metadata.insert("authorization", "Bearer secret-2".parse().unwrap());
        assert_eq!(
            auth.identify(&metadata).unwrap(),
            Caller(Principal::new("pipeline-bot", [Scope::Pipeline]))
        );
        metadata.insert("authorization", "Bearer secret-1".parse().unwrap());
        assert_eq!(
            auth.identify(&metadata).unwrap(),
            Caller(Principal::new("olga", [Scope::ReleaseOwner, Scope::Read]))
        );
        metadata.insert("authorization", "Bearer nope".parse().unwrap());
        assert!(auth.identify(&metadata).is_err());
        for bad in [
            "lonely\n",
            "t olga\n",
            "t olga root\n",
            "t olga read extra\n",
        ] {
            std::fs::write(&path, bad).unwrap();
            assert!(Authenticator::from_file(&path).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn development_mode_takes_the_identity_header() {
        let mut metadata = MetadataMap::new();
        assert!(Authenticator::Development.identify(&metadata).is_err());
        metadata.insert(IDENTITY_HEADER, "olga".parse().unwrap());
        assert_eq!(
            Authenticator::Development.identify(&metadata).unwrap(),
            Caller(Principal::with_every_scope("olga"))
        );
    }
}
