//! The README runs as written: every ```sh block (bar those marked as not run,
//! with the reason beside the mark) is run by bash with `set -euo pipefail`
//! from the repository root, in order, with the freshly built `quorum` first
//! on `PATH`. `cargo install --path .` is the one line not run for real: the
//! binary under test stands in for it. Any failing line fails the test, with
//! the script's output.

use std::path::Path;
use std::process::Command;

const NOT_RUN: &str = "<!-- not run by tests/readme.rs:";

/// The `sh` blocks of `markdown` that are meant to run.
fn runnable_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().peekable();
    let mut previous = "";
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            let skip = previous.trim_start().starts_with(NOT_RUN);
            let mut block = String::new();
            for inner in lines.by_ref() {
                if inner.trim() == "```" {
                    break;
                }
                block.push_str(inner);
                block.push('\n');
            }
            if !skip {
                blocks.push(block);
            }
        }
        previous = line;
    }
    blocks
}

#[test]
fn every_runnable_shell_block_of_the_readme_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let blocks = runnable_blocks(&readme);
    assert!(!blocks.is_empty(), "the README has runnable sh blocks");
    let binary = Path::new(env!("CARGO_BIN_EXE_quorum"));
    let bin_dir = binary.parent().expect("binary dir");
    let store = std::env::temp_dir().join("quorum-demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", store.display()));
    }
    let script = format!(
        r#"set -euo pipefail
# The binary under test is what `cargo install --path .` would install.
cargo() {{
  if [[ "$*" == "install --path . --locked" ]]; then return 0; fi
  echo "the README test runs no other cargo command: cargo $*" >&2; return 1
}}
# Whatever happens, the server the README starts is stopped.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
{}"#,
        blocks.join("\n")
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(root)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env_remove("QUORUM_TOKEN_FILE")
        .env_remove("QUORUM_STORE")
        .env_remove("QUORUM_LISTEN")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "the README's commands failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn blocks_marked_as_not_run_are_left_out() {
    let markdown =
        "```sh\necho a\n```\n<!-- not run by tests/readme.rs: why -->\n```sh\necho b\n```\n";
    assert_eq!(runnable_blocks(markdown), ["echo a\n"]);
}
