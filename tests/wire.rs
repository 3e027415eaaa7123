//! Over the wire: the real server on an ephemeral port, called with tonic
//! clients for FindSlots, health and reflection, including bad requests.

mod common;

use common::{TestServer, fixture, violated_fields};
use quorum::{pb, server::ServerConfig, slot_finder::solve_request};
use quorum_domain::ProblemLimits;
use quorum_solver::NeverStop;
use std::time::Duration;
use tonic::Code;

type Client = pb::slot_finder_client::SlotFinderClient<tonic::transport::Channel>;

async fn client(server: &TestServer) -> Client {
    Client::new(server.channel().await)
}

#[tokio::test]
async fn find_slots_over_the_wire_matches_the_local_solve() {
    let server = TestServer::start(ServerConfig::default()).await;
    let request = fixture("identity-cutover.json");
    let remote = client(&server)
        .await
        .find_slots(request.clone())
        .await
        .expect("solves")
        .into_inner();
    let local = solve_request(request, &ProblemLimits::default(), &NeverStop).expect("solves");
    assert_eq!(remote, local);
    assert_eq!(remote.slots.len(), 5);
    assert_eq!(remote.slots[0].rank, 1);
    server.stop().await;
}

#[tokio::test]
async fn same_request_gives_byte_identical_responses() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut client = client(&server).await;
    let request = fixture("identity-cutover.json");
    let first = client
        .find_slots(request.clone())
        .await
        .expect("solves")
        .into_inner();
    let second = client
        .find_slots(request)
        .await
        .expect("solves")
        .into_inner();
    assert_eq!(
        prost::Message::encode_to_vec(&first),
        prost::Message::encode_to_vec(&second)
    );
    server.stop().await;
}

#[tokio::test]
async fn health_reports_the_slot_finder_serving() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let server = TestServer::start(ServerConfig::default()).await;
    let mut health = HealthClient::new(server.channel().await);
    let reply = health
        .check(HealthCheckRequest {
            service: "quorum.v1.SlotFinder".into(),
        })
        .await
        .expect("health answers")
        .into_inner();
    assert_eq!(reply.status, ServingStatus::Serving as i32);
    server.stop().await;
}

#[tokio::test]
async fn reflection_describes_the_service_without_proto_files() {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let server = TestServer::start(ServerConfig::default()).await;
    let mut reflection = ServerReflectionClient::new(server.channel().await);
    let requests = [
        MessageRequest::ListServices(String::new()),
        MessageRequest::FileContainingSymbol("quorum.v1.FindSlotsRequest".into()),
        // grpcurl decodes error details only if reflection knows their types.
        MessageRequest::FileContainingSymbol("google.rpc.BadRequest".into()),
        MessageRequest::FileContainingSymbol("google.rpc.ErrorInfo".into()),
    ]
    .map(|m| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(m),
    });
    let mut replies = reflection
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .expect("reflection answers")
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) = replies
        .message()
        .await
        .expect("reply")
        .and_then(|r| r.message_response)
    else {
        panic!("expected a service list");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"quorum.v1.SlotFinder".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
    let Some(MessageResponse::FileDescriptorResponse(files)) = replies
        .message()
        .await
        .expect("reply")
        .and_then(|r| r.message_response)
    else {
        panic!("expected file descriptors");
    };
    assert!(!files.file_descriptor_proto.is_empty());
    for symbol in ["google.rpc.BadRequest", "google.rpc.ErrorInfo"] {
        let reply = replies
            .message()
            .await
            .expect("reply")
            .and_then(|r| r.message_response);
        assert!(
            matches!(reply, Some(MessageResponse::FileDescriptorResponse(_))),
            "{symbol}: {reply:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn unparseable_fields_are_named_in_bad_request_details() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut request = fixture("identity-cutover.json");
    request.bucket_minutes = 7;
    request.people[2].time_zone = "Mars/Olympus_Mons".into();
    request.people[1].working_hours[0].start = "9am".into();
    request.horizon.as_mut().expect("horizon").end = None;
    request.people[0].busy[0].start = Some(prost_types::Timestamp {
        seconds: i64::MAX,
        nanos: 0,
    });
    let status = client(&server)
        .await
        .find_slots(request)
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violated_fields(&status);
    for expected in [
        "bucket_minutes",
        "people[2].time_zone",
        "people[1].working_hours[0].start",
        "horizon.end",
        "people[0].busy[0].start",
    ] {
        assert!(
            fields.contains(&expected.to_owned()),
            "{expected} missing from {fields:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn broken_rules_are_named_in_bad_request_details() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut request = fixture("identity-cutover.json");
    let busy = &mut request.people[2].busy;
    busy.push(pb::BusyInterval {
        start: request.not_before,
        end: request.not_before,
        status: 0,
    });
    let last = request.people[2].busy.len() - 1;
    request.roles[1].pool.clear();
    request.roles[2].pool.push("nobody".into());
    request.people[4].id = request.people[3].id.clone();
    request.meeting_minutes = 0;
    let status = client(&server)
        .await
        .find_slots(request)
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violated_fields(&status);
    for expected in [
        format!("people[2].busy[{last}].end"),
        "roles[1].pool".into(),
        "roles[2].pool[2]".into(),
        "people[4].id".into(),
        "meeting_minutes".into(),
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn limits_are_checked_before_solving_and_the_server_stays_up() {
    let mut config = ServerConfig::default();
    config.limits.max_buckets = 100;
    config.max_message_bytes = 64 * 1024;
    let server = TestServer::start(config).await;
    let mut client = client(&server).await;
    let status = client
        .find_slots(fixture("identity-cutover.json"))
        .await
        .expect_err("too many buckets");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["horizon.end"]);
    let mut huge = fixture("back-to-back-busy.json");
    huge.people[0].display_name = "x".repeat(100 * 1024);
    let status = client.find_slots(huge).await.expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    let fine = client
        .find_slots(fixture("back-to-back-busy.json"))
        .await
        .expect("still serving");
    assert_eq!(fine.into_inner().slots.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn client_deadline_stops_the_solve_and_the_server_stays_up() {
    let config = ServerConfig {
        concurrent_solves: 1,
        ..ServerConfig::default()
    };
    let server = TestServer::start(config).await;
    let mut client = client(&server).await;
    let mut problem = quorum_testkit::generate(&quorum_testkit::ProblemShape::large(), 7);
    problem.top_k = 1_000;
    let mut request =
        quorum::convert::problem_to_request(&problem, quorum_solver::Engine::IntegerProgram);
    request.top_k = 1_000;
    let mut call = tonic::Request::new(request);
    call.set_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let status = client.find_slots(call).await.expect_err("deadline passes");
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deadline was not honoured"
    );
    // With one solver slot, this only answers if the abandoned solve let go.
    let mut next = tonic::Request::new(fixture("back-to-back-busy.json"));
    next.set_timeout(Duration::from_secs(20));
    client.find_slots(next).await.expect("still serving");
    server.stop().await;
}

#[tokio::test]
async fn load_tool_reports_throughput_and_latency() {
    let server = TestServer::start(ServerConfig::default()).await;
    let args = quorum::cli::load::LoadArgs {
        file: common::fixture_path("back-to-back-busy.json"),
        server: server.url(),
        concurrency: 4,
        duration: 30.0,
        requests: Some(40),
        rate: None,
    };
    let report = quorum::cli::load::run(&args).await.expect("load runs");
    assert_eq!((report.ok, report.failed), (40, 0));
    assert_eq!(report.latency.len(), 40);
    assert!(report.render().contains("p99"));
    server.stop().await;
}

#[tokio::test]
async fn holds_are_not_consulted_before_the_request_is_valid() {
    // With the hold broker on, a horizon past 2262 once reached the hold
    // store, whose out-of-range error had no field path and hid the others.
    let clock = std::sync::Arc::new(quorum_domain::ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
            .unwrap()
            .to_utc(),
    ));
    let (server, _dir) = common::broker_server(clock).await;
    let mut request = fixture("back-to-back-busy.json");
    let horizon = request.horizon.as_mut().expect("horizon");
    horizon.start = Some(prost_types::Timestamp {
        seconds: 10_000_000_000,
        nanos: 0,
    });
    horizon.end = Some(prost_types::Timestamp {
        seconds: 10_000_086_400,
        nanos: 0,
    });
    request.meeting_minutes = 0;
    let status = client(&server)
        .await
        .find_slots(request)
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let fields = violated_fields(&status);
    assert!(fields.contains(&"meeting_minutes".to_owned()), "{fields:?}");
    assert!(fields.iter().all(|f| !f.is_empty()), "{fields:?}");
    server.stop().await;
}
