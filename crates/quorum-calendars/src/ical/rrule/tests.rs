//! The DST matrix: hourly, daily and weekly rules across spring-forward and
//! fall-back in New York, London, Lord Howe (30-minute DST) and Kathmandu
//! (its 1986 15-minute jump), each against UTC instants derived by hand from
//! the zones' published rules (derivations in the comments).

use super::*;
use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::{America::New_York, Asia::Kathmandu, Australia::Lord_Howe, Europe::London};

fn starts(rule: &str, zone: Tz, dtstart: &str) -> Vec<String> {
    let local = NaiveDateTime::parse_from_str(dtstart, "%Y-%m-%d %H:%M").unwrap();
    let start = Moment {
        local,
        zone,
        all_day: false,
    };
    let horizon = TimeRange::new(
        Utc.with_ymd_and_hms(1980, 1, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
    );
    let rule = parse_rule(rule, zone).unwrap();
    expand(&rule, start, horizon)
        .unwrap()
        .iter()
        .map(|o| o.start.format("%m-%d %H:%MZ").to_string())
        .collect()
}

// New York: 2026-03-08 02:00 EST (-5) -> 03:00 EDT (-4); 2026-11-01 02:00 EDT -> 01:00 EST.

#[test]
fn new_york_hourly_across_spring_forward_has_one_instance_per_real_hour() {
    // 00:30 EST = 05:30Z, then every elapsed hour; local 00:30, 01:30, 03:30, 04:30.
    assert_eq!(
        starts("FREQ=HOURLY;COUNT=4", New_York, "2026-03-08 00:30"),
        [
            "03-08 05:30Z",
            "03-08 06:30Z",
            "03-08 07:30Z",
            "03-08 08:30Z"
        ]
    );
}

#[test]
fn new_york_hourly_across_fall_back_keeps_both_one_thirties() {
    // 00:30 EDT = 04:30Z; local 00:30 EDT, 01:30 EDT, 01:30 EST, 02:30 EST.
    assert_eq!(
        starts("FREQ=HOURLY;COUNT=4", New_York, "2026-11-01 00:30"),
        [
            "11-01 04:30Z",
            "11-01 05:30Z",
            "11-01 06:30Z",
            "11-01 07:30Z"
        ]
    );
}

#[test]
fn new_york_daily_in_the_gap_reads_the_offset_before_it() {
    // 02:30 EST = 07:30Z on 6th and 7th; the 8th's 02:30 does not exist and is
    // read at -5 (07:30Z); the 9th is 02:30 EDT = 06:30Z.
    assert_eq!(
        starts("FREQ=DAILY;COUNT=4", New_York, "2026-03-06 02:30"),
        [
            "03-06 07:30Z",
            "03-07 07:30Z",
            "03-08 07:30Z",
            "03-09 06:30Z"
        ]
    );
}

#[test]
fn new_york_daily_at_an_ambiguous_time_is_the_first_occurrence() {
    // 01:30 EDT = 05:30Z; on 11-01 01:30 happens twice, the first at -4; then EST.
    assert_eq!(
        starts("FREQ=DAILY;COUNT=4", New_York, "2026-10-30 01:30"),
        [
            "10-30 05:30Z",
            "10-31 05:30Z",
            "11-01 05:30Z",
            "11-02 06:30Z"
        ]
    );
}

#[test]
fn new_york_weekly_keeps_local_time_across_both_changes() {
    assert_eq!(
        starts("FREQ=WEEKLY;COUNT=3", New_York, "2026-03-01 09:00"),
        ["03-01 14:00Z", "03-08 13:00Z", "03-15 13:00Z"]
    );
    assert_eq!(
        starts("FREQ=WEEKLY;COUNT=3", New_York, "2026-10-25 09:00"),
        ["10-25 13:00Z", "11-01 14:00Z", "11-08 14:00Z"]
    );
    // A weekly 02:30 on Sundays lands in the gap on the 8th: read at -5.
    assert_eq!(
        starts("FREQ=WEEKLY;COUNT=3", New_York, "2026-03-01 02:30"),
        ["03-01 07:30Z", "03-08 07:30Z", "03-15 06:30Z"]
    );
}

// London: 2026-03-29 01:00 GMT -> 02:00 BST (+1); 2026-10-25 02:00 BST -> 01:00 GMT.

#[test]
fn london_hourly_across_spring_forward_and_fall_back() {
    // Local 00:00 GMT, 02:00 BST, 03:00 BST.
    assert_eq!(
        starts("FREQ=HOURLY;COUNT=3", London, "2026-03-29 00:00"),
        ["03-29 00:00Z", "03-29 01:00Z", "03-29 02:00Z"]
    );
    // 00:00 BST = 23:00Z; local 00:00 BST, 01:00 BST, 01:00 GMT, 02:00 GMT.
    assert_eq!(
        starts("FREQ=HOURLY;COUNT=4", London, "2026-10-25 00:00"),
        [
            "10-24 23:00Z",
            "10-25 00:00Z",
            "10-25 01:00Z",
            "10-25 02:00Z"
        ]
    );
}

#[test]
fn london_daily_across_the_gap_and_the_repeat() {
    // 01:30 on the 29th is in the gap, read at +0.
    assert_eq!(
        starts("FREQ=DAILY;COUNT=3", London, "2026-03-28 01:30"),
        ["03-28 01:30Z", "03-29 01:30Z", "03-30 00:30Z"]
    );
    // 01:30 on the 25th is ambiguous: the first is BST, 00:30Z.
    assert_eq!(
        starts("FREQ=DAILY;COUNT=3", London, "2026-10-24 01:30"),
        ["10-24 00:30Z", "10-25 00:30Z", "10-26 01:30Z"]
    );
}

#[test]
fn london_weekly_with_byday_across_spring_forward() {
    // Mon/Wed 09:00: GMT 09:00Z until the 29th, BST 08:00Z after.
    assert_eq!(
        starts(
            "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4",
            London,
            "2026-03-23 09:00"
        ),
        [
            "03-23 09:00Z",
            "03-25 09:00Z",
            "03-30 08:00Z",
            "04-01 08:00Z"
        ]
    );
}

// Lord Howe: 2026-04-05 02:00 (+11) -> 01:30 (+10:30); 2026-10-04 02:00 (+10:30) -> 02:30 (+11).

#[test]
fn lord_howe_hourly_across_its_half_hour_changes() {
    // 01:00 +10:30 = 14:30Z; elapsed hours read locally 01:00, 02:30 (+11), 03:30.
    assert_eq!(
        starts("FREQ=HOURLY;COUNT=3", Lord_Howe, "2026-10-04 01:00"),
        ["10-03 14:30Z", "10-03 15:30Z", "10-03 16:30Z"]
    );
    // 01:00 +11 = 14:00Z; read locally 01:00 (+11), 01:30 (+10:30), 02:30.
    assert_eq!(
        starts("FREQ=HOURLY;COUNT=3", Lord_Howe, "2026-04-05 01:00"),
        ["04-04 14:00Z", "04-04 15:00Z", "04-04 16:00Z"]
    );
}

#[test]
fn lord_howe_daily_in_the_half_hour_gap_and_repeat() {
    // 02:15 +10:30 = 15:45Z; on 10-04 02:15 is in the gap, read at +10:30; then +11.
    assert_eq!(
        starts("FREQ=DAILY;COUNT=3", Lord_Howe, "2026-10-03 02:15"),
        ["10-02 15:45Z", "10-03 15:45Z", "10-04 15:15Z"]
    );
    // 01:45 +11 = 14:45Z; on 04-05 01:45 happens twice, the first at +11; then +10:30.
    assert_eq!(
        starts("FREQ=DAILY;COUNT=3", Lord_Howe, "2026-04-04 01:45"),
        ["04-03 14:45Z", "04-04 14:45Z", "04-05 15:15Z"]
    );
}

#[test]
fn lord_howe_weekly_moves_half_an_hour_in_utc() {
    // Sunday 09:00 +11 = 22:00Z the day before, then +10:30 = 22:30Z.
    assert_eq!(
        starts("FREQ=WEEKLY;COUNT=2", Lord_Howe, "2026-03-29 09:00"),
        ["03-28 22:00Z", "04-04 22:30Z"]
    );
    assert_eq!(
        starts("FREQ=WEEKLY;COUNT=2", Lord_Howe, "2026-09-27 09:00"),
        ["09-26 22:30Z", "10-03 22:00Z"]
    );
}

// Kathmandu: no DST, but at 1986-01-01 00:00 the clock moved from +05:30 to
// +05:45, a 15-minute spring-forward gap (00:00-00:15).

#[test]
fn kathmandu_hourly_across_its_quarter_hour_jump() {
    // 23:10 +05:30 = 17:40Z; elapsed hours read locally 23:10, 00:25, 01:25.
    assert_eq!(
        starts("FREQ=HOURLY;COUNT=3", Kathmandu, "1985-12-31 23:10"),
        ["12-31 17:40Z", "12-31 18:40Z", "12-31 19:40Z"]
    );
}

#[test]
fn kathmandu_daily_in_the_gap_reads_the_offset_before_it() {
    // 00:10 +05:30 = 18:40Z the day before; 1986-01-01 00:10 is in the gap,
    // read at +05:30; on the 2nd 00:10 +05:45 = 18:25Z.
    assert_eq!(
        starts("FREQ=DAILY;COUNT=4", Kathmandu, "1985-12-30 00:10"),
        [
            "12-29 18:40Z",
            "12-30 18:40Z",
            "12-31 18:40Z",
            "01-01 18:25Z"
        ]
    );
}

#[test]
fn kathmandu_weekly_across_the_jump_and_today() {
    // Wednesday 09:00: +05:30 = 03:30Z, then +05:45 = 03:15Z.
    assert_eq!(
        starts("FREQ=WEEKLY;COUNT=2", Kathmandu, "1985-12-25 09:00"),
        ["12-25 03:30Z", "01-01 03:15Z"]
    );
    // Today's Kathmandu has no DST: 09:00 is 03:15Z every week of the year.
    let weekly = starts("FREQ=WEEKLY;COUNT=52", Kathmandu, "2026-01-07 09:00");
    assert_eq!(weekly.len(), 52);
    assert!(weekly.iter().all(|s| s.ends_with("03:15Z")), "{weekly:?}");
}

#[test]
fn until_is_inclusive_and_count_counts_dtstart() {
    assert_eq!(
        starts(
            "FREQ=DAILY;UNTIL=20260309T060000Z",
            New_York,
            "2026-03-06 02:30"
        ),
        ["03-06 07:30Z", "03-07 07:30Z", "03-08 07:30Z"]
    );
    assert_eq!(
        starts("FREQ=DAILY;UNTIL=20260308", New_York, "2026-03-06 09:00"),
        ["03-06 14:00Z", "03-07 14:00Z", "03-08 13:00Z"]
    );
    assert_eq!(
        starts("FREQ=WEEKLY;COUNT=1", London, "2026-03-23 09:00"),
        ["03-23 09:00Z"]
    );
}

#[test]
fn monthly_rules_by_day_and_by_month_day() {
    // Last Friday of the month, 10:00 London.
    assert_eq!(
        starts(
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
            London,
            "2026-01-30 10:00"
        ),
        ["01-30 10:00Z", "02-27 10:00Z", "03-27 10:00Z"]
    );
    // The last day of every second month.
    assert_eq!(
        starts(
            "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1;COUNT=3",
            London,
            "2026-01-31 10:00"
        ),
        ["01-31 10:00Z", "03-31 09:00Z", "05-31 09:00Z"]
    );
    // Monthly on the 31st skips the months without one.
    assert_eq!(
        starts("FREQ=MONTHLY;COUNT=3", London, "2026-01-31 10:00"),
        ["01-31 10:00Z", "03-31 09:00Z", "05-31 09:00Z"]
    );
    // Second Tuesday of March and November, yearly.
    assert_eq!(
        starts(
            "FREQ=YEARLY;BYMONTH=3,11;BYDAY=2TU;COUNT=3",
            New_York,
            "2026-03-10 09:00"
        ),
        ["03-10 13:00Z", "11-10 14:00Z", "03-09 14:00Z"]
    );
}

#[test]
fn weekly_interval_and_wkst_pick_the_right_weeks() {
    // Every other week on Tue and Sun with weeks starting Monday (RFC 5545's example).
    assert_eq!(
        starts(
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
            New_York,
            "1997-08-05 09:00"
        ),
        [
            "08-05 13:00Z",
            "08-10 13:00Z",
            "08-19 13:00Z",
            "08-24 13:00Z"
        ]
    );
    // The same with weeks starting Sunday.
    assert_eq!(
        starts(
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
            New_York,
            "1997-08-05 09:00"
        ),
        [
            "08-05 13:00Z",
            "08-17 13:00Z",
            "08-19 13:00Z",
            "08-31 13:00Z"
        ]
    );
}

#[test]
fn expansion_stops_at_the_horizon_end() {
    let local = NaiveDateTime::parse_from_str("2026-03-01 09:00", "%Y-%m-%d %H:%M").unwrap();
    let start = Moment {
        local,
        zone: London,
        all_day: false,
    };
    let horizon = TimeRange::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 3, 4, 0, 0, 0).unwrap(),
    );
    let rule = parse_rule("FREQ=DAILY", London).unwrap();
    assert_eq!(expand(&rule, start, horizon).unwrap().len(), 3);
    let hourly = parse_rule("FREQ=HOURLY;INTERVAL=6", London).unwrap();
    assert_eq!(expand(&hourly, start, horizon).unwrap().len(), 11);
}

#[test]
fn unsupported_parts_are_named() {
    for (rule, part) in [
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1", "BYSETPOS"),
        ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO"),
        ("FREQ=DAILY;BYHOUR=9,17", "BYHOUR"),
        ("FREQ=SECONDLY", "SECONDLY"),
        ("FREQ=HOURLY;BYDAY=MO", "HOURLY"),
        ("FREQ=YEARLY;BYDAY=20MO", "BYMONTH"),
        ("COUNT=3", "FREQ"),
    ] {
        let err = parse_rule(rule, London).unwrap_err();
        assert!(err.contains(part), "{rule}: {err}");
    }
}
