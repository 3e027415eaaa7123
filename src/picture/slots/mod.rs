//! The slot-finding view: the header (outcome, headline, the ranked slots in
//! words, what is not drawn), the legend, the shared lanes (axis, review
//! load, slots, rejected starts) and one collapsible group of person rows
//! per role. Reads only the [`SlotsView`]; never the wire format.

mod lanes;
mod rows;

use super::axis::{Axis, range_in};
use super::model::{Reason, SlotMark, SlotsView};
use super::page::{self, escape, legend_item};
use std::fmt::Write;

/// The whole HTML page for one answer.
pub fn render(view: &SlotsView) -> String {
    let axis = Axis::new(view.window, view.zone);
    let mut body = String::new();
    header(view, &axis, &mut body);
    legend(view, &mut body);
    body.push_str("<div class=\"chart\">\n");
    lanes::render(view, &axis, &mut body);
    for group in &view.groups {
        rows::render(view, group, &axis, &mut body);
    }
    body.push_str("</div>\n");
    page::document(&format!("{} — Quorum slots", view.change_ticket), &body)
}

fn header(view: &SlotsView, axis: &Axis, out: &mut String) {
    let what = match view.slots.len() {
        0 => "no slot".to_owned(),
        1 => "1 ranked slot".to_owned(),
        n => format!("{n} ranked slots"),
    };
    let _ = writeln!(
        out,
        "<header><h1>{}: {what} of {} minutes</h1>",
        escape(&view.change_ticket),
        view.meeting_minutes
    );
    let _ = writeln!(
        out,
        "<p class=\"meta\">Outcome <strong id=\"outcome\">{}</strong>{} · times on the axis in \
         <strong id=\"zone\">{}</strong> · each person's working hours in their own zone · \
         a meeting may lie in {} · grid of {} minutes</p>",
        escape(&view.outcome),
        reasons(&view.escalation_reasons),
        escape(view.zone.name()),
        escape(&axis.range_label(view.allowed)),
        view.bucket_minutes
    );
    if let Some(headline) = &view.headline {
        let _ = writeln!(
            out,
            "<p class=\"headline\" id=\"headline\">{}</p>",
            escape(headline)
        );
    }
    if let Some(proposal) = &view.proposal {
        let _ = writeln!(
            out,
            "<p class=\"proposal-note\">Drawn dashed: the slot the smallest relaxation would open, \
             {} — {} (needs approval; not applied).</p>",
            escape(&axis.range_label(proposal.slot.range)),
            escape(&proposal.description)
        );
    }
    slot_list(&view.slots, axis, out);
    for (range, side) in [
        (view.collapsed.before, "before"),
        (view.collapsed.after, "after"),
    ] {
        if let Some(range) = range {
            let _ = writeln!(
                out,
                "<p class=\"meta collapsed\">Not drawn ({side} the window that matters): {}.</p>",
                escape(&range_in(range, view.zone))
            );
        }
    }
    out.push_str("</header>\n");
}

fn reasons(codes: &[String]) -> String {
    if codes.is_empty() {
        String::new()
    } else {
        format!(" ({})", escape(&codes.join(", ")))
    }
}

/// The ranked slots in words, for the reader who wants names, not shapes.
fn slot_list(slots: &[SlotMark], axis: &Axis, out: &mut String) {
    if slots.is_empty() {
        return;
    }
    out.push_str("<ol class=\"slots\">");
    for slot in slots {
        let _ = write!(
            out,
            "<li value=\"{}\">{} — {}</li>",
            slot.rank,
            escape(&axis.range_label(slot.range)),
            escape(&assignment_text(slot))
        );
    }
    out.push_str("</ol>\n");
}

/// "release manager rm-ana, security reviewer sec-ivy; optional: kai".
pub(super) fn assignment_text(slot: &SlotMark) -> String {
    let mut text = slot
        .assignments
        .iter()
        .map(|(role, person, delegate)| {
            let via = if *delegate {
                " (confirmed delegate)"
            } else {
                ""
            };
            format!("{role} {person}{via}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    if !slot.optional_attendees.is_empty() {
        let _ = write!(text, "; optional: {}", slot.optional_attendees.join(", "));
    }
    text
}

fn legend(view: &SlotsView, out: &mut String) {
    out.push_str("<ul class=\"legend\" id=\"legend\">");
    for (class, words) in [
        ("work", "working hours (own zone)"),
        ("busy", "busy"),
        ("tentative", "tentative"),
        ("ooo", "out of office"),
        ("freeze f-change", "change freeze"),
        ("freeze f-launch", "launch blackout"),
        ("freeze f-evidence", "evidence freeze"),
        ("outside", "outside not-before … deadline"),
        ("review", "booked reviews"),
        ("review full", "review capacity full"),
        ("slot-mark", "ranked slot"),
        ("proposal", "slot a relaxation would open"),
    ] {
        legend_item(out, class, words);
    }
    let used: std::collections::BTreeSet<Reason> = view.rejected.iter().map(|r| r.reason).collect();
    for reason in Reason::ALL.into_iter().filter(|r| used.contains(r)) {
        legend_item(
            out,
            &format!("rej {}", reason.class()),
            &format!("rejected: {}", reason.label()),
        );
    }
    out.push_str("</ul>\n");
}
