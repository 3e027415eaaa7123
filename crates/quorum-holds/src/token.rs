//! Approval tokens: the release owner's consent to confirm one hold, signed by
//! the server with HMAC-SHA256, bound to the hold, ticket, slot, attendees,
//! substitutions, approver and the hold's version, with an expiry. Single use
//! is enforced by the store, which records each token id as it is spent.
//!
//! A plan's approval (`p1.` tokens) binds every member hold's id, version and
//! slot in one token; the prefixes keep the two kinds apart.
//!
//! Format: `v1.<base64url(claims JSON)>.<base64url(HMAC-SHA256 over "v1." + claims)>`.

use crate::HoldError;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const PREFIX: &str = "v1.";
/// Plan approvals: another prefix, so the two kinds never stand in for each other.
const PLAN_PREFIX: &str = "p1.";

/// What a token says. Times are Unix nanoseconds so equality is exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalClaims {
    pub token_id: String,
    pub hold_id: String,
    pub change_ticket: String,
    pub slot_start_ns: i64,
    pub slot_end_ns: i64,
    /// (person, role) after substitutions, sorted.
    pub attendees: Vec<(String, String)>,
    /// (role, from, to) as approved.
    pub substitutions: Vec<(String, String, String)>,
    pub approver: String,
    pub hold_version: u64,
    pub expires_at_ns: i64,
}

/// What a plan's token says: one approval bound to every member hold's id,
/// version and slot, so confirming is one compare-and-set over all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanApprovalClaims {
    pub token_id: String,
    pub plan_id: String,
    pub change_ticket: String,
    pub members: Vec<PlanMemberClaim>,
    pub approver: String,
    pub expires_at_ns: i64,
}

/// One milestone's hold as it was approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanMemberClaim {
    pub milestone_id: String,
    pub hold_id: String,
    pub hold_version: u64,
    pub slot_start_ns: i64,
    pub slot_end_ns: i64,
}

/// Signs and verifies tokens with the server's key.
#[derive(Clone)]
pub struct TokenSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(<key>)")
    }
}

impl TokenSigner {
    /// At least 32 bytes of key, as HMAC-SHA256 wants.
    pub fn new(key: Vec<u8>) -> Result<Self, HoldError> {
        if key.len() < 32 {
            return Err(HoldError::TokenInvalid {
                reason: "the signing key must be at least 32 bytes".into(),
            });
        }
        Ok(Self { key })
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    pub fn sign(&self, claims: &ApprovalClaims) -> Result<String, HoldError> {
        self.sign_as(PREFIX, claims)
    }

    /// The claims of a token this server signed; any other string is refused.
    pub fn verify(&self, token: &str) -> Result<ApprovalClaims, HoldError> {
        self.verify_as(PREFIX, token)
    }

    /// A plan's approval, under its own prefix: a plan token is never
    /// accepted as a hold's, nor the other way round.
    pub fn sign_plan(&self, claims: &PlanApprovalClaims) -> Result<String, HoldError> {
        self.sign_as(PLAN_PREFIX, claims)
    }

    pub fn verify_plan(&self, token: &str) -> Result<PlanApprovalClaims, HoldError> {
        self.verify_as(PLAN_PREFIX, token)
    }

    fn sign_as<C: Serialize>(&self, prefix: &str, claims: &C) -> Result<String, HoldError> {
        let json = serde_json::to_vec(claims).map_err(|e| HoldError::Storage {
            detail: e.to_string(),
        })?;
        let body = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(json));
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let tag = mac.finalize().into_bytes();
        Ok(format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag)))
    }

    fn verify_as<C: for<'de> Deserialize<'de>>(
        &self,
        prefix: &str,
        token: &str,
    ) -> Result<C, HoldError> {
        let invalid = |reason: &str| HoldError::TokenInvalid {
            reason: reason.to_owned(),
        };
        let (body, tag) = token
            .rsplit_once('.')
            .ok_or_else(|| invalid("it is not a Quorum approval token"))?;
        let claims = match body.strip_prefix(prefix) {
            Some(claims) => claims,
            None if body.starts_with(PREFIX) || body.starts_with(PLAN_PREFIX) => {
                return Err(invalid(if prefix == PLAN_PREFIX {
                    "it approves a single hold, not a plan"
                } else {
                    "it approves a plan, not a single hold"
                }));
            }
            None => return Err(invalid("unknown token version")),
        };
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| invalid("the signature is not base64url"))?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| invalid("the signature does not match"))?;
        let json = URL_SAFE_NO_PAD
            .decode(claims)
            .map_err(|_| invalid("the claims are not base64url"))?;
        serde_json::from_slice(&json).map_err(|_| invalid("the claims are unreadable"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> ApprovalClaims {
        ApprovalClaims {
            token_id: "T-1".into(),
            hold_id: "H-1".into(),
            change_ticket: "CHG-1".into(),
            slot_start_ns: 1,
            slot_end_ns: 2,
            attendees: vec![("ana".into(), "rm".into())],
            substitutions: Vec::new(),
            approver: "olga".into(),
            hold_version: 1,
            expires_at_ns: 3,
        }
    }

    #[test]
    fn every_single_byte_change_is_refused() {
        let signer = TokenSigner::new(vec![7; 32]).unwrap();
        let token = signer.sign(&claims()).unwrap();
        assert_eq!(signer.verify(&token).unwrap(), claims());
        let bytes = token.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [b'A', b'z', b'.', b'-', b'0'] {
                if bytes[i] == replacement {
                    continue;
                }
                let mut changed = bytes.to_vec();
                changed[i] = replacement;
                let changed = String::from_utf8(changed).unwrap();
                assert!(
                    signer.verify(&changed).is_err(),
                    "byte {i} -> {}",
                    replacement as char
                );
            }
        }
    }

    #[test]
    fn a_plan_token_is_not_a_hold_token_nor_the_other_way_round() {
        let signer = TokenSigner::new(vec![7; 32]).unwrap();
        let plan = PlanApprovalClaims {
            token_id: "T-2".into(),
            plan_id: "P-1".into(),
            change_ticket: "CHG-1".into(),
            members: vec![PlanMemberClaim {
                milestone_id: "deploy".into(),
                hold_id: "H-1".into(),
                hold_version: 1,
                slot_start_ns: 1,
                slot_end_ns: 2,
            }],
            approver: "olga".into(),
            expires_at_ns: 3,
        };
        let plan_token = signer.sign_plan(&plan).unwrap();
        assert_eq!(signer.verify_plan(&plan_token).unwrap(), plan);
        let hold_token = signer.sign(&claims()).unwrap();
        assert!(signer.verify(&plan_token).is_err());
        assert!(signer.verify_plan(&hold_token).is_err());
    }

    #[test]
    fn another_key_is_refused() {
        let token = TokenSigner::new(vec![7; 32])
            .unwrap()
            .sign(&claims())
            .unwrap();
        assert!(
            TokenSigner::new(vec![8; 32])
                .unwrap()
                .verify(&token)
                .is_err()
        );
        assert!(TokenSigner::new(vec![8; 16]).is_err());
    }
}
