//! What slow, silent and departing clients can hold on to: a connection with
//! no call in flight is closed after the idle timeout, a call whose request
//! never finishes arriving is ended by the request timeout, and while the
//! server drains after SIGTERM its health says `NOT_SERVING`.

mod common;

use common::TestServer;
use quorum::server::{ConnectionLimits, ServerConfig};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

fn config(connections: ConnectionLimits) -> ServerConfig {
    ServerConfig {
        connections,
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let server = TestServer::start(config(ConnectionLimits {
        idle_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    }))
    .await;
    let mut silent = TcpStream::connect(server.address).await.expect("connect");
    let mut buffer = Vec::new();
    // The server writes its HTTP/2 preface, then closes: the read ends. A
    // server that kept the connection would leave the read hanging.
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the idle connection was still open after 5 s");
    server.stop().await;
}

#[tokio::test]
async fn a_half_sent_request_is_ended_by_the_request_timeout() {
    let server = TestServer::start(config(ConnectionLimits {
        request_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    }))
    .await;
    let tcp = TcpStream::connect(server.address).await.expect("connect");
    let (sender, connection) = h2::client::handshake(tcp).await.expect("handshake");
    tokio::spawn(connection);
    let mut sender = sender.ready().await.expect("ready");
    let request = http::Request::post(format!("{}/quorum.v1.SlotFinder/FindSlots", server.url()))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request");
    let (response, mut body) = sender.send_request(request, false).expect("send");
    // A gRPC frame header promising 1,000 bytes, and then only ten of them.
    let mut partial = vec![0u8, 0, 0, 0x03, 0xe8];
    partial.extend([0u8; 10]);
    body.send_data(partial.into(), false).expect("partial body");
    let response = tokio::time::timeout(Duration::from_secs(5), response)
        .await
        .expect("the server answered the half-sent call within 5 s")
        .expect("a response");
    let status = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(
        status.as_deref().is_some_and(|s| s != "0"),
        "a failing grpc-status, not {status:?}"
    );
    drop(body);
    server.stop().await;
}

#[tokio::test]
async fn health_is_not_serving_while_draining() {
    let mut server = TestServer::start(config(ConnectionLimits {
        drain_grace: Duration::from_secs(2),
        ..ConnectionLimits::default()
    }))
    .await;
    let mut health = HealthClient::new(server.channel().await);
    let check = |service: &str| HealthCheckRequest {
        service: service.to_owned(),
    };
    let before = health.check(check("")).await.expect("health").into_inner();
    assert_eq!(before.status(), ServingStatus::Serving);
    server.begin_shutdown();
    // Health is flipped at once; calls are still answered during the grace.
    let mut seen = None;
    for _ in 0..50 {
        let now = health
            .check(check("quorum.v1.SlotFinder"))
            .await
            .expect("health");
        if now.get_ref().status() == ServingStatus::NotServing {
            seen = Some(now.into_inner().status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen, Some(ServingStatus::NotServing));
    let overall = health.check(check("")).await.expect("health").into_inner();
    assert_eq!(overall.status(), ServingStatus::NotServing);
    server.stop().await;
}
