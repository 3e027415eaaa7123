//! The time axis every view shares: one linear scale from the drawn window
//! to pixels, and the day and hour ticks read in the reader's zone (so a
//! day line is local midnight, 23 or 25 hours from the last on DST days).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use quorum_domain::TimeRange;

/// Left of the axis: the people's names and zones.
pub const GUTTER: f64 = 270.0;
/// Room right of the axis for a label that runs past the last tick.
pub const RIGHT_PAD: f64 = 40.0;
/// A week or less spreads over about this many pixels; longer horizons get
/// wider, never narrower than `MIN_PX_PER_HOUR`, and scroll.
const TARGET_WIDTH: f64 = 1000.0;
const MIN_PX_PER_HOUR: f64 = 3.0;
const MAX_PX_PER_HOUR: f64 = 48.0;
/// Hour labels closer than this would overlap.
const MIN_TICK_SPACING: f64 = 44.0;

/// Where an instant is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    pub window: TimeRange,
    pub zone: Tz,
    pub px_per_hour: f64,
}

impl Axis {
    pub fn new(window: TimeRange, zone: Tz) -> Self {
        let hours = (window.duration().num_seconds() as f64 / 3600.0).max(1.0);
        let px_per_hour = (TARGET_WIDTH / hours).clamp(MIN_PX_PER_HOUR, MAX_PX_PER_HOUR);
        Self {
            window,
            zone,
            px_per_hour,
        }
    }

    /// The axis's length in pixels.
    pub fn width(&self) -> f64 {
        self.window.duration().num_seconds() as f64 / 3600.0 * self.px_per_hour
    }

    /// The whole drawing's width: gutter, axis, padding.
    pub fn total_width(&self) -> f64 {
        GUTTER + self.width() + RIGHT_PAD
    }

    /// The x of an instant, clamped to the axis.
    pub fn x(&self, at: DateTime<Utc>) -> f64 {
        let seconds = (at - self.window.start).num_seconds() as f64;
        GUTTER + (seconds / 3600.0 * self.px_per_hour).clamp(0.0, self.width())
    }

    /// The left x and width of a range clipped to the window, or `None` when
    /// nothing of it is drawn.
    pub fn span(&self, range: TimeRange) -> Option<(f64, f64)> {
        if !range.overlaps(&self.window) {
            return None;
        }
        let (left, right) = (self.x(range.start), self.x(range.end));
        Some((left, right - left))
    }

    /// Local midnights inside the window (and the window's start), labelled.
    pub fn days(&self) -> Vec<(DateTime<Utc>, String)> {
        let mut days = Vec::new();
        let mut date = self.window.start.with_timezone(&self.zone).date_naive();
        let last = self.window.end.with_timezone(&self.zone).date_naive();
        while date <= last {
            if let Some(at) = self.local(date, NaiveTime::MIN)
                && self.window.contains(at)
            {
                days.push((
                    at,
                    at.with_timezone(&self.zone).format("%a %-d %b").to_string(),
                ));
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        days
    }

    /// Local whole hours worth labelling at this scale, as (instant, "14:00").
    pub fn hours(&self) -> Vec<(DateTime<Utc>, String)> {
        let Some(step) = [1u32, 2, 3, 6, 12]
            .into_iter()
            .find(|step| f64::from(*step) * self.px_per_hour >= MIN_TICK_SPACING)
        else {
            return Vec::new();
        };
        let mut ticks = Vec::new();
        let mut date = self.window.start.with_timezone(&self.zone).date_naive();
        let last = self.window.end.with_timezone(&self.zone).date_naive();
        while date <= last {
            for hour in (step..24).step_by(step as usize) {
                let time = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN);
                if let Some(at) = self.local(date, time)
                    && self.window.contains(at)
                {
                    ticks.push((at, format!("{hour:02}:00")));
                }
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        ticks
    }

    /// A local wall-clock time as an instant: the earlier of an ambiguous
    /// pair, and for a time inside a spring-forward gap the first instant
    /// after the gap, so a tick is never lost.
    fn local(&self, date: chrono::NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        let naive = date.and_time(time);
        (0..=2)
            .find_map(|hours| {
                self.zone
                    .from_local_datetime(&(naive + Duration::hours(hours)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
    }

    /// An instant as the reader reads it: "Tue 1 Dec 14:00 CET".
    pub fn label(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone)
            .format("%a %-d %b %H:%M %Z")
            .to_string()
    }

    /// A range as the reader reads it, the end's date only when it differs.
    pub fn range_label(&self, range: TimeRange) -> String {
        range_in(range, self.zone)
    }
}

/// A range read in `zone`: "Tue 1 Dec 14:00–15:00 CET".
pub fn range_in(range: TimeRange, zone: Tz) -> String {
    let (start, end) = (
        range.start.with_timezone(&zone),
        range.end.with_timezone(&zone),
    );
    if start.date_naive() == end.date_naive() {
        format!(
            "{}–{}",
            start.format("%a %-d %b %H:%M"),
            end.format("%H:%M %Z")
        )
    } else {
        format!(
            "{} – {}",
            start.format("%a %-d %b %H:%M"),
            end.format("%a %-d %b %H:%M %Z")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 instant")
    }

    #[test]
    fn instants_map_linearly_onto_the_axis() {
        let window = TimeRange::new(at("2026-12-01T00:00:00Z"), at("2026-12-02T00:00:00Z"));
        let axis = Axis::new(window, Tz::UTC);
        let width = axis.width();
        assert_eq!(axis.x(window.start), GUTTER);
        assert!((axis.x(at("2026-12-01T06:00:00Z")) - (GUTTER + width / 4.0)).abs() < 1e-9);
        assert_eq!(axis.x(at("2026-12-03T00:00:00Z")), GUTTER + width);
        assert_eq!(
            axis.span(TimeRange::new(
                at("2026-12-03T00:00:00Z"),
                at("2026-12-04T00:00:00Z")
            )),
            None
        );
    }

    #[test]
    fn day_lines_are_local_midnights_across_a_dst_change() {
        // Europe/Berlin falls back on 25 Oct 2026: that day has 25 hours.
        let window = TimeRange::new(at("2026-10-24T12:00:00Z"), at("2026-10-27T12:00:00Z"));
        let axis = Axis::new(window, "Europe/Berlin".parse().expect("zone"));
        let days: Vec<DateTime<Utc>> = axis.days().into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            days,
            [
                at("2026-10-24T22:00:00Z"),
                at("2026-10-25T23:00:00Z"),
                at("2026-10-26T23:00:00Z")
            ]
        );
    }

    #[test]
    fn hour_ticks_thin_out_on_long_horizons() {
        let day = TimeRange::new(at("2026-12-01T00:00:00Z"), at("2026-12-02T00:00:00Z"));
        let month = TimeRange::new(at("2026-12-01T00:00:00Z"), at("2026-12-29T00:00:00Z"));
        assert!(Axis::new(day, Tz::UTC).hours().len() >= 11);
        assert!(Axis::new(month, Tz::UTC).hours().is_empty());
    }
}
