//! One role's people, a row each, inside a `<details>` element so a large
//! pool folds away without any script: the name and the person's zone in
//! the gutter, working hours shaded (computed in their own zone), busy time
//! on top (tentative lighter), freezes across the rows, and an outline with
//! the rank wherever a ranked slot seats this person (dashed for the
//! relaxation's slot).

use super::lanes::background;
use crate::picture::axis::Axis;
use crate::picture::model::{PersonRow, RoleGroup, SlotMark, SlotsView};
use crate::picture::page::{escape, rect};
use quorum_domain::BusyStatus;
use std::fmt::Write;

const ROW_H: f64 = 22.0;
/// Groups larger than this start folded; the summary still names who the
/// best slot seats.
const OPEN_UP_TO: usize = 12;
/// Longest name shown in the gutter before it is cut (the hover has it whole).
const NAME_CHARS: usize = 20;

pub(super) fn render(view: &SlotsView, group: &RoleGroup, axis: &Axis, out: &mut String) {
    let open = if group.rows.len() <= OPEN_UP_TO {
        " open"
    } else {
        ""
    };
    let best = view.slots.first().map(|slot| {
        let seated: Vec<&str> = group
            .rows
            .iter()
            .filter(|row| seats(slot, &row.id))
            .map(|row| row.id.as_str())
            .collect();
        seated.join(", ")
    });
    let best = best
        .filter(|names| !names.is_empty())
        .map_or_else(String::new, |names| {
            format!(" — #1 seats {}", escape(&names))
        });
    let _ = writeln!(
        out,
        "<details class=\"role\"{open}><summary>{} · {} {}{best}</summary>",
        escape(&group.label),
        group.rows.len(),
        if group.rows.len() == 1 {
            "person"
        } else {
            "people"
        }
    );
    let height = group.rows.len() as f64 * ROW_H + 2.0;
    let _ = writeln!(
        out,
        "<svg class=\"rows\" width=\"{:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {:.0} {height:.0}\">",
        axis.total_width(),
        axis.total_width()
    );
    for (at, _) in axis.days() {
        let x = axis.x(at);
        let _ = write!(
            out,
            "<line class=\"day\" x1=\"{x:.1}\" y1=\"0\" x2=\"{x:.1}\" y2=\"{height:.0}\"/>"
        );
    }
    for (i, row) in group.rows.iter().enumerate() {
        person(view, row, axis, i as f64 * ROW_H, out);
    }
    background(view, axis, 0.0, height, out);
    out.push_str("</svg></details>\n");
}

fn seats(slot: &SlotMark, person: &str) -> bool {
    slot.assignments.iter().any(|(_, p, _)| p == person)
}

fn person(view: &SlotsView, row: &PersonRow, axis: &Axis, top: f64, out: &mut String) {
    let name = if row.display_name.is_empty() {
        row.id.clone()
    } else {
        row.display_name.clone()
    };
    let shown: String = name.chars().take(NAME_CHARS).collect();
    let role = match row.delegate {
        Some(true) => ", confirmed delegate",
        Some(false) => ", delegate (authority unconfirmed)",
        None => "",
    };
    let _ = write!(
        out,
        "<g class=\"person\" data-person=\"{}\"><title>{} ({}), {}{role}</title>\
         <text x=\"6\" y=\"{:.1}\">{}</text><text class=\"muted zone\" x=\"140\" y=\"{:.1}\">{}</text></g>",
        escape(&row.id),
        escape(&name),
        escape(&row.id),
        escape(row.zone.name()),
        top + 15.0,
        escape(&shown),
        top + 15.0,
        escape(row.zone.name())
    );
    for range in &row.working {
        if let Some(span) = axis.span(*range) {
            let title = format!(
                "{} works {}",
                row.id,
                crate::picture::axis::range_in(*range, row.zone)
            );
            rect(
                out,
                "work",
                (span.0, top + 2.0, span.1, ROW_H - 4.0),
                &title,
            );
        }
    }
    for busy in &row.busy {
        if let Some(span) = axis.span(busy.range) {
            let (class, word) = match busy.status {
                BusyStatus::Busy => ("busy", "busy"),
                BusyStatus::Tentative => ("tentative", "tentative"),
                BusyStatus::OutOfOffice => ("ooo", "out of office"),
            };
            let title = format!(
                "{} {word} {}",
                row.id,
                crate::picture::axis::range_in(busy.range, row.zone)
            );
            rect(
                out,
                class,
                (span.0, top + 5.0, span.1, ROW_H - 10.0),
                &title,
            );
        }
    }
    let marks = view.slots.iter().map(|s| (s, "slot-row"));
    let proposal = view.proposal.iter().map(|p| (&p.slot, "proposal"));
    // Overlapping slots would print their ranks on top of each other: a rank
    // is written only where the previous one has ended.
    let mut text_end = f64::MIN;
    for (slot, class) in marks.chain(proposal) {
        if !seats(slot, &row.id) {
            continue;
        }
        if let Some((x, w)) = axis.span(slot.range) {
            rect(out, class, (x, top + 1.0, w, ROW_H - 2.0), "");
            if class == "slot-row" && x >= text_end {
                text_end = x + w.max(8.0 * slot.rank.to_string().len() as f64 + 4.0);
                let _ = write!(
                    out,
                    "<text class=\"rank\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    x + 2.0,
                    top + 15.0,
                    slot.rank
                );
            }
        }
    }
}
