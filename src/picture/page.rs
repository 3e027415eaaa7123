//! The page every view is drawn on: one HTML document with its CSS inline,
//! a Content-Security-Policy that forbids fetching anything (so the page is
//! provably self-contained: a stray reference shows as a console error in
//! the browser test, not as a silent request), and the text escaping every
//! label goes through.

use std::fmt::Write;

/// `default-src 'none'`: no script, font, image or style may be fetched;
/// only the inline `<style>` applies.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// Colours and shapes of everything drawn, shared by the legend and the
/// chart so the legend's swatches are the chart's own classes.
const CSS: &str = r#"
body{font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1b1f24;margin:16px;background:#fff}
h1{font-size:18px;margin:0 0 4px}
p{margin:4px 0}
.meta{color:#57606a}
.headline{background:#fff4e5;border-left:4px solid #d4731c;padding:8px 10px;max-width:1100px}
.proposal-note{border-left:4px dashed #6f42c1;padding:4px 10px;max-width:1100px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;padding:0;margin:8px 0 12px;max-width:1200px}
.legend li{display:flex;align-items:center;gap:5px}
.chart{overflow-x:auto}
details.role{margin:0}
details.role>summary{cursor:pointer;font-weight:600;padding:3px 0;color:#24292f}
svg{display:block}
svg text{font-size:11px;fill:#1b1f24}
svg .muted{fill:#57606a}
svg .lane-label{font-weight:600}
.day{stroke:#8c959f;stroke-width:1}
.hour{stroke:#d0d7de;stroke-width:1}
.axis-line{fill:#f6f8fa;stroke:#8c959f}
.outside{fill:#eaeef2}
.work{fill:#d8f3dc}
.busy{fill:#cf222e}
.tentative{fill:#cf222e;fill-opacity:.35}
.ooo{fill:#57606a}
.freeze{fill-opacity:.22;stroke-opacity:.6}
.f-change{fill:#0969da;stroke:#0969da}
.f-launch{fill:#8250df;stroke:#8250df}
.f-evidence{fill:#bf8700;stroke:#bf8700}
.review{fill:#54aeff}
.review.full{fill:#cf222e}
.slot-mark{fill:#1a7f37;stroke:#0f5323;stroke-width:1}
.slot-text{fill:#fff;font-weight:700}
.slot-row{fill:none;stroke:#1a7f37;stroke-width:2}
.proposal{fill:#fbefff;stroke:#6f42c1;stroke-width:2;stroke-dasharray:5 3}
.proposal-text{fill:#6f42c1;font-weight:700}
.rej{stroke:none}
.rej:hover{stroke:#1b1f24;stroke-width:2}
.r-pool{fill:#fa4549}.r-hours{fill:#a8b1ba}.r-busy{fill:#ff8182}.r-one{fill:#e16f24}
.r-freeze{fill:#4493f8}.r-review{fill:#c297ff}.r-before{fill:#d0d7de}.r-deadline{fill:#d4a72c}.r-other{fill:#6e7781}
"#;

/// Text made safe for HTML and SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole document around `body`.
pub fn document(title: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + CSS.len() + 512);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{CSS}</style></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    );
    out
}

/// A legend entry: a swatch drawn with the chart's own class, and its words.
pub fn legend_item(out: &mut String, class: &str, words: &str) {
    let _ = write!(
        out,
        "<li><svg width=\"16\" height=\"12\" aria-hidden=\"true\">\
         <rect class=\"{class}\" x=\"1\" y=\"1\" width=\"14\" height=\"10\"/></svg>{}</li>",
        escape(words)
    );
}

/// A rectangle with an optional hover text, coordinates to one decimal.
pub fn rect(out: &mut String, class: &str, (x, y, w, h): (f64, f64, f64, f64), title: &str) {
    let _ = write!(
        out,
        "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\"",
        w.max(0.5)
    );
    if title.is_empty() {
        out.push_str("/>");
    } else {
        let _ = write!(out, "><title>{}</title></rect>", escape(title));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_cannot_open_elements_or_attributes() {
        assert_eq!(
            escape(r#"<script>"x" & 'y'</script>"#),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn the_page_forbids_fetching_anything() {
        let page = document("t", "<p>x</p>");
        assert!(page.contains("default-src 'none'"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("url("));
        assert!(!page.contains("@import"));
    }
}
