//! The generated protobuf and gRPC code, and the encoded descriptor set that
//! reflection and the proto3 JSON codec read.

#![allow(clippy::all, reason = "generated code")]
#![allow(missing_docs, reason = "generated code")]

tonic::include_proto!("quorum.v1");

/// Every file under `proto/` and its imports, as an encoded `FileDescriptorSet`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/quorum_descriptor.bin"));
