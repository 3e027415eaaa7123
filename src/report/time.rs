//! Times as a reader sees them: in the reader's zone, and for one person in
//! their own zone beside it. Ranges are half-open, so a range ending at
//! midnight ends "24:00" of its day is written as the next day's 00:00.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use quorum_domain::TimeRange;

/// Ranges listed before "and N more", so a four-week calendar stays one line.
pub const RANGES_SHOWN: usize = 4;

/// "Tue 2026-12-01 14:00 CET".
pub fn instant(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone)
        .format("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

/// "Tue 01 Dec 14:00–15:30", or "Tue 01 Dec 22:00–Wed 02:00" across midnight.
pub fn short_range(range: &TimeRange, zone: Tz) -> String {
    let (start, end) = (
        range.start.with_timezone(&zone),
        range.end.with_timezone(&zone),
    );
    let end_format = if start.date_naive() == end.date_naive() {
        "%H:%M"
    } else {
        "%a %d %b %H:%M"
    };
    format!(
        "{}–{}",
        start.format("%a %d %b %H:%M"),
        end.format(end_format)
    )
}

/// "Tue 14:00–15:00" in a person's own zone ("Tue 23:00–Wed 00:30" across
/// midnight), for beside the reader's time.
pub fn local_range(range: &TimeRange, zone: Tz) -> String {
    let (start, end) = (
        range.start.with_timezone(&zone),
        range.end.with_timezone(&zone),
    );
    let end_format = if start.date_naive() == end.date_naive() {
        "%H:%M"
    } else {
        "%a %H:%M"
    };
    format!("{}–{}", start.format("%a %H:%M"), end.format(end_format))
}

/// "Tue 2026-12-01 14:00 CET – Wed 2026-12-02 10:00 CET".
pub fn span(range: &TimeRange, zone: Tz) -> String {
    format!(
        "{} – {}",
        instant(range.start, zone),
        instant(range.end, zone)
    )
}

/// "Tue 01 Dec 10:00–13:00, Wed 02 Dec 10:00–13:00 (Europe/Berlin)" and how
/// many more.
pub fn ranges(list: &[TimeRange], zone: Tz) -> String {
    let shown: Vec<String> = list
        .iter()
        .take(RANGES_SHOWN)
        .map(|r| short_range(r, zone))
        .collect();
    let mut text = format!("{} ({})", shown.join(", "), zone.name());
    let more = list.len().saturating_sub(RANGES_SHOWN);
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// A person's ranges in the reader's zone, each with the person's own local
/// time beside it when their zone differs: "Tue 01 Dec 10:00–18:00 (09:00–17:00
/// their time)".
pub fn personal_ranges(list: &[TimeRange], zone: Tz, theirs: Tz) -> String {
    let shown: Vec<String> = list
        .iter()
        .take(RANGES_SHOWN)
        .map(|r| {
            let mine = short_range(r, zone);
            if theirs == zone {
                mine
            } else {
                format!("{mine} ({} their time)", local_range(r, theirs))
            }
        })
        .collect();
    let mut text = format!("{} ({})", shown.join(", "), zone.name());
    let more = list.len().saturating_sub(RANGES_SHOWN);
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn a_person_in_another_zone_gets_their_own_time_beside_the_readers() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let text = personal_ranges(&[TimeRange::new(at(9), at(10))], berlin, kolkata);
        assert_eq!(
            text,
            "Tue 01 Dec 10:00–11:00 (Tue 14:30–15:30 their time) (Europe/Berlin)"
        );
        let same = personal_ranges(&[TimeRange::new(at(9), at(10))], berlin, berlin);
        assert_eq!(same, "Tue 01 Dec 10:00–11:00 (Europe/Berlin)");
    }

    #[test]
    fn long_lists_say_how_many_more() {
        let list: Vec<TimeRange> = (0..6)
            .map(|h| TimeRange::new(at(h * 2), at(h * 2 + 1)))
            .collect();
        assert!(ranges(&list, Tz::UTC).ends_with("(UTC) and 2 more"));
    }
}
