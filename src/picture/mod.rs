//! Answers as pictures: one self-contained HTML page (inline CSS and SVG, no
//! script, nothing fetched) a release owner can open offline and look at
//! instead of read. Each view is its own module over a small view model
//! (`model`) that one adapter (`adapt`) builds from the wire messages; the
//! page shell (`page`) and the time axis (`axis`) are shared, so a plan view
//! is one more module beside `slots`.

mod adapt;
pub mod axis;
pub mod model;
mod page;
mod slots;

pub use adapt::slots_view;

use crate::{error::ServiceError, pb};
use chrono_tz::Tz;

/// The slot-finding answer as an HTML page, times on the axis in `zone`.
/// Fails only for a request that does not convert (one that was solved
/// always does).
pub fn render_slots(
    request: &pb::FindSlotsRequest,
    response: &pb::FindSlotsResponse,
    zone: Tz,
) -> Result<String, ServiceError> {
    Ok(slots::render(&slots_view(request, response, zone)?))
}
