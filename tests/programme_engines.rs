//! The programme engines over the wire: the integer program a caller can ask
//! for by name plans the small bench workload exactly as the default engine does, and a
//! programme too large for it is refused naming the `engine` field, before
//! any of the program is built.

mod common;

use common::{TestServer, fixture_path, plan_release as plan};
use quorum::{json, pb, server::ServerConfig};
use tonic::Code;

fn programme(name: &str, engine: pb::PlanEngine) -> pb::PlanReleaseRequest {
    let text = std::fs::read_to_string(fixture_path("programmes").join(name)).expect("readable");
    let mut request: pb::PlanReleaseRequest =
        json::from_json("quorum.v1.PlanReleaseRequest", &text).expect("a valid request");
    request.engine = engine.into();
    // Each plan is n + 1 programs, and the fixtures' larger programmes take
    // seconds each in a debug build: the small bench workload's best two.
    request.top_k = 2;
    request
}

#[tokio::test]
async fn the_integer_program_plans_as_the_search_does() {
    let server = TestServer::start(ServerConfig::default()).await;
    for name in ["bench/small.json"] {
        let auto = plan(&server, programme(name, pb::PlanEngine::Auto))
            .await
            .expect("plans");
        let ip = plan(
            &server,
            programme(name, pb::PlanEngine::JointIntegerProgram),
        )
        .await
        .expect("plans");
        assert_eq!(ip.engine, pb::PlanEngine::JointIntegerProgram as i32);
        assert!(!ip.plans.is_empty(), "{name}");
        assert_eq!(ip.plans, auto.plans, "{name}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_programme_too_large_for_the_integer_program_names_the_engine_field() {
    let server = TestServer::start(ServerConfig::default()).await;
    let text = std::fs::read_to_string(fixture_path("programmes/bench").join("large.json"))
        .expect("readable");
    let mut request: pb::PlanReleaseRequest =
        json::from_json("quorum.v1.PlanReleaseRequest", &text).expect("a valid request");
    request.engine = pb::PlanEngine::JointIntegerProgram.into();
    let refused = plan(&server, request).await.expect_err("too large");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    let fields = common::violated_fields(&refused);
    assert_eq!(fields, ["engine"]);
    assert!(refused.message().contains("AUTO"), "{}", refused.message());
    server.stop().await;
}
