//! One FindSlots round trip on the medium workload against a real server on
//! loopback: transport, proto decoding, conversion and solve together.

use criterion::{Criterion, criterion_group, criterion_main};
use quorum::{json, pb, server};
use std::path::Path;
use std::time::Duration;

fn round_trip(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bench/medium.json");
    let request =
        json::request_from_json(&std::fs::read_to_string(path).expect("fixture")).expect("request");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut client = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(server::serve(
            listener,
            server::ServerConfig::default(),
            async {
                let _ = stopped.await;
            },
        ));
        pb::slot_finder_client::SlotFinderClient::connect(url)
            .await
            .expect("connect")
    });
    let mut group = c.benchmark_group("wire");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("find_slots_round_trip/medium", |b| {
        b.iter(|| {
            runtime
                .block_on(client.find_slots(request.clone()))
                .expect("solves")
        })
    });
    group.finish();
    let _ = stop.send(());
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
