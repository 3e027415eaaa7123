//! `google.protobuf.Timestamp` ↔ `DateTime<Utc>`.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

/// The range `google.protobuf.Timestamp` allows: 0001-01-01 to 9999-12-31.
const SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

/// `None` when the nanos are out of range or the instant is outside the years
/// 0001–9999 that `Timestamp` allows (which also keeps date arithmetic safe).
pub fn from_timestamp(ts: &Timestamp) -> Option<DateTime<Utc>> {
    if !SECONDS.contains(&ts.seconds) {
        return None;
    }
    let nanos = u32::try_from(ts.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    DateTime::from_timestamp(ts.seconds, nanos)
}

pub fn to_timestamp(t: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}
