//! Who is calling. With a token file, callers send `authorization: Bearer
//! <token>` and the file maps tokens to identities; without one the server is
//! in development mode and believes the `x-quorum-identity` header, which it
//! says loudly at start-up so nobody runs it that way in production.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tonic::{Request, Status, metadata::MetadataMap};

/// The caller's identity, put into each request's extensions by the interceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

pub const IDENTITY_HEADER: &str = "x-quorum-identity";

#[derive(Debug, Clone)]
pub enum Authenticator {
    Tokens(Arc<HashMap<String, String>>),
    Development,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read the token file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("token file line {line}: write one \"<token> <identity>\" pair per line")]
    Line { line: usize },
}

impl Authenticator {
    /// Reads a token file: one `<token> <identity>` pair per line; blank lines
    /// and lines starting with `#` are skipped.
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
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(token), Some(identity), None) => {
                    tokens.insert(token.to_owned(), identity.to_owned());
                }
                _ => return Err(AuthError::Line { line: i + 1 }),
            }
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
                    .map(|identity| Caller(identity.clone()))
                    .ok_or_else(|| {
                        Status::unauthenticated("the bearer token is not known to this server")
                    })
            }
            Self::Development => header(IDENTITY_HEADER)
                .filter(|v| !v.is_empty())
                .map(|v| Caller(v.to_owned()))
                .ok_or_else(|| {
                    Status::unauthenticated(format!(
                        "development mode: send the {IDENTITY_HEADER} header"
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

/// The identity the interceptor established.
pub fn caller<T>(request: &Request<T>) -> Result<String, Status> {
    request
        .extensions()
        .get::<Caller>()
        .map(|c| c.0.clone())
        .ok_or_else(|| Status::unauthenticated("no caller identity"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_maps_bearer_tokens_to_identities() {
        let dir = std::env::temp_dir().join(format!("quorum-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens");
        std::fs::write(&path, "# comment\nsecret-1 olga\n\nsecret-2 pipeline-bot\n").unwrap();
        let auth = Authenticator::from_file(&path).unwrap();
        let mut metadata = MetadataMap::new();
        metadata.insert("authorization", "Bearer secret-2".parse().unwrap());
        assert_eq!(
            auth.identify(&metadata).unwrap(),
            Caller("pipeline-bot".into())
        );
        metadata.insert("authorization", "Bearer nope".parse().unwrap());
        assert!(auth.identify(&metadata).is_err());
        std::fs::write(&path, "lonely\n").unwrap();
        assert!(Authenticator::from_file(&path).is_err());
    }

    #[test]
    fn development_mode_takes_the_identity_header() {
        let mut metadata = MetadataMap::new();
        assert!(Authenticator::Development.identify(&metadata).is_err());
        metadata.insert(IDENTITY_HEADER, "olga".parse().unwrap());
        assert_eq!(
            Authenticator::Development.identify(&metadata).unwrap(),
            Caller("olga".into())
        );
    }
}
