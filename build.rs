//! Compiles `proto/` with protox (pure Rust, so no system `protoc` is needed) and
//! writes the descriptor set that server reflection and the proto3 JSON codec read.

use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/quorum/v1/slot_finder.proto",
        "proto/quorum/v1/hold_broker.proto",
        "proto/quorum/v1/release_planner.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(protos, ["proto"])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("quorum_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
