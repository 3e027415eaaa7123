//! Canonical proto3 JSON for requests and responses, read and written through
//! the descriptor set with prost-reflect, so request files are exactly what
//! any gRPC tool (grpcurl, Postman, buf curl) sends and accepts.

use crate::pb;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
use std::sync::OnceLock;

#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("not a valid {message} in proto3 JSON: {source}")]
    Parse {
        message: &'static str,
        source: serde_json::Error,
    },
    #[error("could not convert {message}: {detail}")]
    Transcode {
        message: &'static str,
        detail: String,
    },
    #[error("the embedded descriptor set is unreadable: {detail}")]
    Descriptors { detail: String },
}

fn pool() -> Result<&'static DescriptorPool, JsonError> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|detail| JsonError::Descriptors {
            detail: detail.clone(),
        })
}

fn descriptor(name: &'static str) -> Result<MessageDescriptor, JsonError> {
    pool()?
        .get_message_by_name(name)
        .ok_or_else(|| JsonError::Descriptors {
            detail: format!("{name} is missing"),
        })
}

/// Parses proto3 JSON (camelCase or snake_case names) into a message.
pub fn from_json<M: Message + Default>(name: &'static str, text: &str) -> Result<M, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let dynamic =
        DynamicMessage::deserialize(descriptor(name)?, &mut deserializer).map_err(|source| {
            JsonError::Parse {
                message: name,
                source,
            }
        })?;
    deserializer.end().map_err(|source| JsonError::Parse {
        message: name,
        source,
    })?;
    dynamic.transcode_to().map_err(|e| JsonError::Transcode {
        message: name,
        detail: e.to_string(),
    })
}

/// Writes a message as canonical, pretty-printed proto3 JSON.
pub fn to_json<M: Message>(name: &'static str, message: &M) -> Result<String, JsonError> {
    let mut dynamic = DynamicMessage::new(descriptor(name)?);
    dynamic
        .transcode_from(message)
        .map_err(|e| JsonError::Transcode {
            message: name,
            detail: e.to_string(),
        })?;
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::pretty(&mut out);
    dynamic
        .serialize_with_options(&mut serializer, &SerializeOptions::new())
        .map_err(|source| JsonError::Parse {
            message: name,
            source,
        })?;
    out.push(b'\n');
    String::from_utf8(out).map_err(|e| JsonError::Transcode {
        message: name,
        detail: e.to_string(),
    })
}

pub const REQUEST: &str = "quorum.v1.FindSlotsRequest";
pub const RESPONSE: &str = "quorum.v1.FindSlotsResponse";

pub fn request_from_json(text: &str) -> Result<pb::FindSlotsRequest, JsonError> {
    from_json(REQUEST, text)
}

pub fn request_to_json(request: &pb::FindSlotsRequest) -> Result<String, JsonError> {
    to_json(REQUEST, request)
}

pub fn response_to_json(response: &pb::FindSlotsResponse) -> Result<String, JsonError> {
    to_json(RESPONSE, response)
}
