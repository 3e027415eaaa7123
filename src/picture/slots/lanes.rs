//! The lanes above the people: the axis with its day and hour ticks, the
//! review load against capacity, the ranked slots (stacked where they
//! overlap) with the relaxation's slot dashed, and the rejected starts
//! coloured by reason with the reason as hover text. Freeze windows and the
//! outside of not-before … deadline are drawn across the lanes.

use super::assignment_text;
use crate::picture::axis::{Axis, GUTTER};
use crate::picture::model::{SlotMark, SlotsView};
use crate::picture::page::{escape, rect};
use quorum_domain::FreezeKind;
use std::fmt::Write;

const AXIS_Y: f64 = 36.0;
const LANE_TOP: f64 = 44.0;
const REVIEW_H: f64 = 24.0;
const SLOT_H: f64 = 18.0;
const REJECTED_H: f64 = 18.0;
const GAP: f64 = 6.0;

pub(super) fn render(view: &SlotsView, axis: &Axis, out: &mut String) {
    let stacks = stack(&view.slots);
    let slot_rows = stacks.iter().max().map_or(1, |m| m + 1) + usize::from(view.proposal.is_some());
    let review_h = if view.review.is_some() {
        REVIEW_H + GAP
    } else {
        0.0
    };
    let slots_y = LANE_TOP + review_h;
    let rejected_y = slots_y + slot_rows as f64 * SLOT_H + GAP;
    let height = rejected_y + REJECTED_H + GAP;
    let _ = writeln!(
        out,
        "<svg class=\"lanes\" id=\"lanes\" width=\"{:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {:.0} {height:.0}\" role=\"img\" aria-label=\"time axis, slots and rejected starts\">",
        axis.total_width(),
        axis.total_width()
    );
    background(view, axis, AXIS_Y, height, out);
    ticks(axis, height, out);
    if let Some(review) = &view.review {
        review_lane(review, axis, LANE_TOP, out);
    }
    slot_lane(view, axis, &stacks, slots_y, out);
    rejected_lane(view, axis, rejected_y, out);
    out.push_str("</svg>\n");
}

/// Freeze bands and the outside of the allowed window, from `top` down.
pub(super) fn background(view: &SlotsView, axis: &Axis, top: f64, height: f64, out: &mut String) {
    let h = height - top;
    for outside in [
        quorum_domain::TimeRange::new(view.window.start, view.allowed.start),
        quorum_domain::TimeRange::new(view.allowed.end, view.window.end),
    ] {
        if let Some((x, w)) = axis.span(outside).filter(|_| !outside.is_empty()) {
            rect(out, "outside", (x, top, w, h), "");
        }
    }
    for freeze in &view.freezes {
        if let Some((x, w)) = axis.span(freeze.range) {
            let (class, kind) = match freeze.kind {
                FreezeKind::ChangeFreeze => ("freeze f-change", "change freeze"),
                FreezeKind::LaunchBlackout => ("freeze f-launch", "launch blackout"),
                FreezeKind::EvidenceFreeze => ("freeze f-evidence", "evidence freeze"),
            };
            let title = format!(
                "{kind} {}: {} — {}",
                freeze.id,
                axis.range_label(freeze.range),
                freeze.reason
            );
            rect(out, class, (x, top, w, h), &title);
        }
    }
}

/// Day lines (labelled) and hour lines (labelled when there is room).
fn ticks(axis: &Axis, height: f64, out: &mut String) {
    for (at, label) in axis.hours() {
        let x = axis.x(at);
        let _ = write!(
            out,
            "<line class=\"hour\" x1=\"{x:.1}\" y1=\"20\" x2=\"{x:.1}\" y2=\"{height:.0}\"/>\
             <text class=\"muted\" x=\"{:.1}\" y=\"31\">{label}</text>",
            x + 2.0
        );
    }
    for (at, label) in axis.days() {
        let x = axis.x(at);
        let _ = write!(
            out,
            "<line class=\"day\" data-at=\"{}\" x1=\"{x:.1}\" y1=\"2\" x2=\"{x:.1}\" y2=\"{height:.0}\"/>\
             <text class=\"lane-label\" x=\"{:.1}\" y=\"14\">{}</text>",
            at.to_rfc3339(),
            x + 3.0,
            escape(&label)
        );
    }
    let _ = write!(
        out,
        "<rect id=\"axis\" class=\"axis-line\" data-start=\"{}\" data-end=\"{}\" x=\"{GUTTER:.1}\" \
         y=\"{AXIS_Y:.1}\" width=\"{:.1}\" height=\"4\"/>\
         <text class=\"lane-label\" x=\"6\" y=\"{:.1}\">{}</text>",
        axis.window.start.to_rfc3339(),
        axis.window.end.to_rfc3339(),
        axis.width(),
        AXIS_Y + 4.0,
        escape(axis.zone.name())
    );
}

fn review_lane(
    review: &crate::picture::model::ReviewLoad,
    axis: &Axis,
    top: f64,
    out: &mut String,
) {
    let _ = write!(
        out,
        "<text class=\"lane-label\" x=\"6\" y=\"{:.1}\">review load (capacity {})</text>",
        top + 16.0,
        review.max_concurrent
    );
    let capacity = f64::from(review.max_concurrent.max(1));
    for (range, load) in &review.steps {
        let Some((x, w)) = axis.span(*range) else {
            continue;
        };
        let h = (f64::from(*load) / capacity).min(1.0) * REVIEW_H;
        let full = *load >= review.max_concurrent;
        let class = if full { "review full" } else { "review" };
        let title = format!(
            "{load} of {} production reviews booked {}{}",
            review.max_concurrent,
            axis.range_label(*range),
            if full { " — capacity full" } else { "" }
        );
        rect(out, class, (x, top + REVIEW_H - h, w, h), &title);
    }
}

/// Which sub-row each slot goes in so overlapping slots stay readable.
fn stack(slots: &[SlotMark]) -> Vec<usize> {
    let mut ends: Vec<chrono::DateTime<chrono::Utc>> = Vec::new();
    let mut rows = Vec::with_capacity(slots.len());
    for slot in slots {
        let row = match ends.iter().position(|end| *end <= slot.range.start) {
            Some(row) => row,
            None => {
                ends.push(slot.range.start);
                ends.len() - 1
            }
        };
        ends[row] = slot.range.end;
        rows.push(row);
    }
    rows
}

fn slot_lane(view: &SlotsView, axis: &Axis, stacks: &[usize], top: f64, out: &mut String) {
    let _ = write!(
        out,
        "<text class=\"lane-label\" x=\"6\" y=\"{:.1}\">ranked slots</text>",
        top + 13.0
    );
    for (slot, row) in view.slots.iter().zip(stacks) {
        let Some((x, w)) = axis.span(slot.range) else {
            continue;
        };
        let y = top + *row as f64 * SLOT_H + 1.0;
        let _ = write!(
            out,
            "<g class=\"slot\" data-rank=\"{}\"><title>#{} {} (cost {}): {}</title>",
            slot.rank,
            slot.rank,
            escape(&axis.range_label(slot.range)),
            slot.cost,
            escape(&assignment_text(slot))
        );
        rect(out, "slot-mark", (x, y, w, SLOT_H - 2.0), "");
        let _ = write!(
            out,
            "<text class=\"slot-text\" x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            x + 2.0,
            y + 12.0,
            slot.rank
        );
    }
    if let Some(proposal) = &view.proposal
        && let Some((x, w)) = axis.span(proposal.slot.range)
    {
        let y = top + stacks.iter().max().map_or(0.0, |m| (m + 1) as f64) * SLOT_H + 1.0;
        let _ = write!(
            out,
            "<g class=\"proposal-slot\" id=\"proposal\"><title>{} — {} (needs approval; not applied)</title>",
            escape(&axis.range_label(proposal.slot.range)),
            escape(&proposal.description)
        );
        rect(out, "proposal", (x, y, w, SLOT_H - 2.0), "");
        let _ = write!(
            out,
            "<text class=\"proposal-text\" x=\"{:.1}\" y=\"{:.1}\">relaxed</text></g>",
            x + w + 3.0,
            y + 12.0
        );
    }
}

fn rejected_lane(view: &SlotsView, axis: &Axis, top: f64, out: &mut String) {
    let _ = write!(
        out,
        "<text class=\"lane-label\" x=\"6\" y=\"{:.1}\">rejected starts</text>",
        top + 13.0
    );
    for run in &view.rejected {
        if let Some((x, w)) = axis.span(run.starts) {
            let class = format!("rej {}", run.reason.class());
            rect(out, &class, (x, top, w, REJECTED_H), &hover_text(&run.text));
        }
    }
}

/// Longest hover text of a rejected run, in characters.
const HOVER_CHARS: usize = 480;

/// A run's explanation, cut where it would swamp the page: on a large
/// problem one run can name dozens of people's busy time (kilobytes each),
/// and a few hundred such runs would make the page tens of megabytes.
fn hover_text(text: &str) -> String {
    match text.char_indices().nth(HOVER_CHARS) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… (the whole list: find-slots --explain)", &text[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_explanations_are_cut_on_a_character_boundary() {
        let short = "rejected by the busy time of sec-1";
        assert_eq!(hover_text(short), short);
        let long = "é".repeat(HOVER_CHARS + 10);
        let cut = hover_text(&long);
        assert!(cut.starts_with(&"é".repeat(HOVER_CHARS)));
        assert!(cut.ends_with("(the whole list: find-slots --explain)"));
        assert!(cut.chars().count() < HOVER_CHARS + 50);
    }
}
